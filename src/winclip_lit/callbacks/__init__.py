"""Lightning callbacks of the runs: dashboard panels (figures, overlays, tables) and the prediction writer."""
