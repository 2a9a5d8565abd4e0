"""Score a folder of unlabeled images: scores.csv and map overlays (`winclip-lit predict`)."""

from winclip_lit.cli import script

if __name__ == "__main__":
    script("predict")
