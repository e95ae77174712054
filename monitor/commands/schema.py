"""`commwatch schema`: JSON Schemas of the config files, for editors.

- `commwatch schema` prints {"commwatch.schema.json": {…}, …} on stdout;
- `commwatch schema --out DIR` writes DIR/commwatch.schema.json, plan…, contacts…, nodes…;
- `commwatch schema --check DIR` exits 1 if the files in DIR are missing or out of date.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from monitor.commands.support import EXIT_OK, EXIT_RUNTIME
from monitor.config.json_schema import schemas, stale_schemas, write_schemas


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the schema command."""
    parser = subparsers.add_parser(
        "schema", help="write JSON Schemas of the config files (for editors)"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--out", metavar="DIR", type=Path, help="write one <file>.schema.json per config file"
    )
    target.add_argument(
        "--check", metavar="DIR", type=Path, help="exit 1 if DIR's schema files are out of date"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print, write or check the schemas."""
    if args.check is not None:
        stale = stale_schemas(args.check)
        for name in stale:
            print(f"error: {args.check / name} is missing or out of date", file=sys.stderr)
        if stale:
            print(f"regenerate with: commwatch schema --out {args.check}", file=sys.stderr)
            return EXIT_RUNTIME
        return EXIT_OK
    if args.out is None:
        json.dump(schemas(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    try:
        written = write_schemas(args.out)
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return EXIT_RUNTIME
    for path in written:
        print(path)
    return EXIT_OK
