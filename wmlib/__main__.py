"""``python -m wmlib <command> ...``: the same functions the notebooks call.

Each stage's module registers its own subcommands through ``add_commands``;
this file only wires them together and turns bad input into a one-line error.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .config import PROFILES

# Modules that offer commands, in pipeline order.
COMMAND_MODULES = [
    "wmlib.commands",
    "wmlib.training.vae",
    "wmlib.training.mdnrnn",
    "wmlib.training.controller",
    "wmlib.training.pipeline",
    "wmlib.book.pretrained",
    "wmlib.book.results",
    "wmlib.training.dream",
    "wmlib.book.diagnose",
]


def common_parent() -> argparse.ArgumentParser:
    """Options every command takes: the profile and the artifacts folder."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--profile", choices=PROFILES, default=None,
                   help="ci | laptop | paper (default: $WM_PROFILE or laptop)")
    p.add_argument("--artifacts", default=None,
                   help="folder for datasets and checkpoints (default: $WM_ARTIFACTS or ./artifacts)")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wmlib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    parent = common_parent()
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub, parent)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.artifacts:
        os.environ["WM_ARTIFACTS"] = os.path.abspath(args.artifacts)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, PermissionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: completed work is saved; run the same command again to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
