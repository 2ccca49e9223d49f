"""``cs-sdk schemas export`` and ``cs-sdk schemas check``: schemas as reviewable files.

    $ cs-sdk schemas export acme_events billing.events --out schemas
    wrote 10 schema(s) (7 built-in) and the index to schemas
    $ cs-sdk schemas check old-schemas schemas
    no changes

Exit status: 0 done (``check``: compatible), 1 (``check``) a breaking change without a major
version bump, 2 a module that cannot be imported or declares no event, or a directory that
is not an export.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._errors import SchemaError
from ..events._compat import check_dirs
from ..events._jsonschema import BUILTIN_MODULE, classes_in_modules, export_schemas


def register(commands: Any) -> None:
    parser = commands.add_parser("schemas", help="export event schemas and check compatibility")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export",
        help="write JSON Schema for every event in the modules and the built-in events",
    )
    export.add_argument(
        "modules",
        nargs="+",
        metavar="MODULE",
        help="importable module or package, e.g. myapp.events (packages include submodules)",
    )
    export.add_argument("--out", required=True, help="directory to write the schemas to")
    export.add_argument(
        "--no-builtins",
        dest="builtins",
        action="store_false",
        help="leave out the built-in events (cs.milestone, cs.outcome, cs.feedback, ...)",
    )
    export.set_defaults(run=run_export)
    check = actions.add_parser("check", help="exit 1 on breaking changes between two exports")
    check.add_argument("old", help="the previous export (e.g. from the main branch)")
    check.add_argument("new", help="the new export")
    check.set_defaults(run=run_check)


def run_export(args: argparse.Namespace) -> int:
    try:
        classes = classes_in_modules(args.modules, builtins=args.builtins)
        files = export_schemas(classes, args.out)
    except SchemaError as error:
        print(f"cs-sdk schemas export: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the output directory cannot be written
        print(f"cs-sdk schemas export: cannot write {args.out}: {error}", file=sys.stderr)
        return 2
    builtin = sum(1 for cls in classes if cls.__module__.startswith(BUILTIN_MODULE + "."))
    note = f" ({builtin} built-in)" if builtin else ""
    print(f"wrote {len(files) - 1} schema(s){note} and the index to {args.out}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    try:
        report = check_dirs(args.old, args.new)
    except SchemaError as error:
        print(f"cs-sdk schemas check: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1
