"""`rolecall list` and `rolecall check`: the catalogue as rows, and its validation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from rolecall.cli.context import Context
from rolecall.cli.options import Commands, Wanted, catalogue_option
from rolecall.cli.output import columns
from rolecall.core.catalogue.listing import HEADER, cells
from rolecall.core.catalogue.model import Role, format_duration
from rolecall.core.catalogue.store import MISSING_HINT
from rolecall.core.errors import UsageError
from rolecall.core.locations import catalogue_path
from rolecall.core.text import inert


def register(commands: Commands, wanted: Wanted) -> None:
    """Add `list` and `check` (those wanted) to the command parser."""
    if wanted("list"):
        p = commands.add_parser(
            "list",
            help="list catalogue roles, filtered like the TUI",
            description="List the catalogue's roles. Every word of QUERY must occur in the "
            "account, role, account id, tags or description (case-insensitive).",
        )
        p.add_argument("query", nargs="*", metavar="QUERY", help="words that must all match")
        p.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
        catalogue_option(p)
        p.set_defaults(handler=cmd_list)

    if wanted("check"):
        p = commands.add_parser(
            "check",
            help="validate a catalogue",
            description="Validate a catalogue and print every problem, one per line with "
            "file:line. Exit 0 when it is valid, 2 when it is not.",
        )
        p.add_argument(
            "path", nargs="?", metavar="PATH", help="catalogue file (default: as for list)"
        )
        catalogue_option(p)
        p.set_defaults(handler=cmd_check)


def cmd_list(ctx: Context, out: TextIO) -> int:
    """`rolecall list [QUERY] [--json]`."""
    catalogue = ctx.catalogue()
    roles = catalogue.search(" ".join(ctx.args.query))
    if ctx.args.json:
        import json

        # Which file defines each role: the catalogue, or a file it includes.
        files = {a.name: a.file for a in catalogue.accounts} if catalogue.includes else {}
        rows = [{**_row(role), "file": files.get(role.account, catalogue.path)} for role in roles]
        out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not roles:
        print("no role matches.", file=sys.stderr)
        return 0
    durations: dict[int, str] = {}  # a handful of distinct lengths: formatted once each
    table = [
        cells(
            role,
            durations.get(role.duration)
            or durations.setdefault(role.duration, format_duration(role.duration)),
        )
        for role in roles
    ]
    # The same cells and columns as the fast path (`rolecall.core.catalogue.listing.serve`).
    out.write(columns(HEADER, table))
    return 0


def _row(role: Role) -> dict[str, object]:
    return {
        "target": role.target,
        "account": role.account,
        "account_id": role.account_id,
        "role": role.name,
        "arn": role.arn,
        "region": role.region,
        "partition": role.partition,
        "tags": list(role.tags),
        "description": role.description,
        "via": role.via,
        "source_profile": role.source_profile,
        "duration": role.duration,
        "mfa": role.mfa_serial is not None,
        "confirm": role.confirm,
        "session_name_template": role.session_name,
    }


def cmd_check(ctx: Context, out: TextIO) -> int:
    """`rolecall check [PATH]`: validate, print every problem, exit 0 or 2."""
    from rolecall.core.catalogue.model import CatalogueError
    from rolecall.core.catalogue.store import parse

    path = (
        Path(ctx.args.path)
        if ctx.args.path
        else catalogue_path(getattr(ctx.args, "catalogue", None), ctx.env, ctx.locations)
    )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}.", hint=MISSING_HINT) from None
    try:
        catalogue = parse(data, str(path))
    except CatalogueError as e:
        for problem in e.problems:
            out.write(f"{problem}\n")
        noun = "problem" if len(e.problems) == 1 else "problems"
        print(f"{path}: {len(e.problems)} {noun}.", file=sys.stderr)
        return 2
    chained = sum(1 for role in catalogue if role.via)
    count = len(catalogue.includes)
    included = f", with {count} included file{'s' if count != 1 else ''}" if count else ""
    out.write(
        f"{inert(str(path))}: OK, {len(catalogue.accounts)} accounts, {len(catalogue)} roles "
        f"({chained} chained), {len(catalogue.session_names)} named session-name templates"
        f"{included}.\n"
    )
    return 0
