"""``python -m winclip_lit evaluate|train|predict|report|export [overrides]``."""

from winclip_lit.cli import main

if __name__ == "__main__":
    main()
