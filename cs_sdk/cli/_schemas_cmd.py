"""``cs-sdk schemas export`` and ``cs-sdk schemas check``: schemas as reviewable files."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._errors import SchemaError
from ..events._compat import check_dirs
from ..events._jsonschema import classes_in_module, export_schemas


def register(commands: Any) -> None:
    parser = commands.add_parser("schemas", help="export event schemas and check compatibility")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write JSON Schema for every event in a module")
    export.add_argument("module", help="importable module or package, e.g. myapp.events")
    export.add_argument("--out", required=True, help="directory to write the schemas to")
    export.set_defaults(run=run_export)
    check = actions.add_parser("check", help="exit 1 on breaking changes between two exports")
    check.add_argument("old", help="the previous export (e.g. from the main branch)")
    check.add_argument("new", help="the new export")
    check.set_defaults(run=run_check)


def run_export(args: argparse.Namespace) -> int:
    try:
        classes = classes_in_module(args.module)
    except SchemaError as error:
        print(f"cs-sdk schemas export: {error}", file=sys.stderr)
        return 2
    if not classes:
        print(f"cs-sdk schemas export: no cs_sdk.Event declared in {args.module}", file=sys.stderr)
        return 2
    files = export_schemas(classes, args.out)
    print(f"wrote {len(files) - 1} schema(s) and the index to {args.out}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    try:
        report = check_dirs(args.old, args.new)
    except SchemaError as error:
        print(f"cs-sdk schemas check: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1
