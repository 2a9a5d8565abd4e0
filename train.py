"""Build text embeddings and reference memory per category and save checkpoint.pt (`winclip-lit train`)."""

from winclip_lit.cli import script

if __name__ == "__main__":
    script("train")
