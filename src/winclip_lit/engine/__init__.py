"""The engine under every task: output folders, checkpoints, data preparation, devices, builders and the
start-up of a run (config -> checkpoint -> data -> threads -> model -> cache -> trainer)."""
