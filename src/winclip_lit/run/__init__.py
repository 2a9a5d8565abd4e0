"""What the entry points do: evaluate, fit (train.py), predict and report; Hydra-free below the CLI layer."""
