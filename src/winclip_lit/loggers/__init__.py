"""Lightning loggers of a run (``logger=`` group) and what each logger receives (W&B media)."""
