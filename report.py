"""Aggregate a sweep: every metrics.json below `dir` into one table next to the paper's figures
(`winclip-lit report dir=outputs/evaluate-multirun/<date>`)."""

from winclip_lit.cli import script

if __name__ == "__main__":
    script("report")
