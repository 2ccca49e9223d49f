"""``cs-sdk``: the command line. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import sys

from . import _collector_cmd, _schemas_cmd


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cs-sdk", description="cs_sdk tools: a local collector and event schemas."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _collector_cmd.register(commands)
    _schemas_cmd.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``cs-sdk`` with ``argv`` (default: the process arguments); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    return int(args.run(args))
