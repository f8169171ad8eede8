"""``python -m wmlib <command> ...``: the commands live in ``wmlib.cli``."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
