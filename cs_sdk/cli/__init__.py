"""``cs-sdk``: the command line.

    $ cs-sdk collector --port 4318 --db events.db

    from cs_sdk.cli import main
    exit_code = main(["schemas", "check", "old/", "new/"])

Each subcommand lives in its own module, which provides ``register(commands)``: it adds its
parser to the subparsers and sets ``run``, a function ``(args) -> int`` (the exit code), with
``parser.set_defaults(run=...)``. Adding a subcommand is one module and one line below.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import _collector_cmd, _demo_cmd, _report_cmd, _schemas_cmd, _tail_cmd


def build_parser() -> argparse.ArgumentParser:
    """The ``cs-sdk`` parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="cs-sdk", description="cs_sdk tools: a local collector and event schemas."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _collector_cmd.register(commands)
    _demo_cmd.register(commands)
    _schemas_cmd.register(commands)
    _report_cmd.register(commands)
    _tail_cmd.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``cs-sdk`` with ``argv`` (default: the process arguments); returns the exit code."""
    try:
        try:
            parser = build_parser()
            args = parser.parse_args(sys.argv[1:] if argv is None else argv)
            return int(args.run(args))
        finally:  # also after --help's SystemExit: a closed pipe is caught here, not at exit
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`cs-sdk tail | head`): that is how a pipeline ends, not an
        # error. Point stdout at /dev/null so the interpreter's final flush is quiet too,
        # and exit as a process killed by SIGPIPE would (128 + 13), as shell tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141
