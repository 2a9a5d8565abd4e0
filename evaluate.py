"""Evaluate WinCLIP / WinCLIP+ on a dataset and write metrics.json plus result tables.

`python evaluate.py` runs the paper's zero-shot setting on MVTec-AD (same as `winclip-lit evaluate`);
see docs/experiments.md."""

from winclip_lit.cli import script

if __name__ == "__main__":
    script("evaluate")
