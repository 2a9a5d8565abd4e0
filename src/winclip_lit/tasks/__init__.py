"""What each ``winclip-lit`` task does, one module per task: ``run(cfg, run)`` of a screen or two each."""
