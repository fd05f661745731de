"""The command line: argparse front door for every rolecall command.

Imports are deferred so that the fast paths (`list`, `check`, and later the cache hits of
`env` and `credential-process`) never load boto3, Textual or Rich.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from rolecall import __version__
from rolecall.core.catalogue import Catalogue, Role, format_duration
from rolecall.core.errors import AmbiguousTarget, RolecallError
from rolecall.core.locations import Locations, catalogue_path
from rolecall.core.text import inert

Handler = Callable[["Context", TextIO], int]


class Context:
    """What every command needs: the environment, where files live, and the catalogue."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str]) -> None:
        self.args = args
        self.env = env
        self.locations = Locations.from_env(env)

    def catalogue(self) -> Catalogue:
        """Load the catalogue named by --catalogue / ROLECALL_CATALOGUE / the config dir."""
        from rolecall.core import catalogue

        path = catalogue_path(getattr(self.args, "catalogue", None), self.env, self.locations)
        return catalogue.load(path, cache_dir=self.locations.cache_dir)

    def role(self, spec: str) -> Role:
        """Resolve a target (ACCOUNT/ROLE, ACCOUNT_ID/ROLE, role ARN or a query)."""
        return self.catalogue().resolve(spec)


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_list(ctx: Context, out: TextIO) -> int:
    """`rolecall list [QUERY] [--json]`."""
    roles = ctx.catalogue().search(" ".join(ctx.args.query))
    if ctx.args.json:
        import json

        rows = [_row(role) for role in roles]
        out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not roles:
        print("no role matches.", file=sys.stderr)
        return 0
    table = [
        (
            role.target + ("  [prod]" if role.is_prod else ""),
            role.account_id,
            role.region,
            format_duration(role.duration),
            ",".join(role.tags),
        )
        for role in roles
    ]
    out.write(_columns(("TARGET", "ACCOUNT ID", "REGION", "DURATION", "TAGS"), table))
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


def _columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    lines = [header, *rows]
    return "".join(
        inert("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        + "\n"
        for line in lines
    )


def cmd_check(ctx: Context, out: TextIO) -> int:
    """`rolecall check [PATH]`: validate, print every problem, exit 0 or 2."""
    from rolecall.core.catalogue import CatalogueError, parse

    path = (
        Path(ctx.args.path)
        if ctx.args.path
        else catalogue_path(getattr(ctx.args, "catalogue", None), ctx.env, ctx.locations)
    )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RolecallError(
            f"cannot read {path}: {e.strerror}.", hint="pass the catalogue's path"
        ) from None
    try:
        catalogue = parse(data, str(path))
    except CatalogueError as e:
        for problem in e.problems:
            out.write(f"{problem}\n")
        noun = "problem" if len(e.problems) == 1 else "problems"
        print(f"{path}: {len(e.problems)} {noun}.", file=sys.stderr)
        return 2
    chained = sum(1 for role in catalogue if role.via)
    out.write(
        f"{inert(str(path))}: OK, {len(catalogue.accounts)} accounts, {len(catalogue)} roles "
        f"({chained} chained), {len(catalogue.session_names)} named session-name templates.\n"
    )
    return 0


# ---------------------------------------------------------------------------------------------
# Parser


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree for every command."""
    parser = argparse.ArgumentParser(
        prog="rolecall",
        description="Pick an AWS role from your catalogue, assume it, and use it.",
        epilog="Run `rolecall COMMAND --help` for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"rolecall {__version__}")
    _catalogue_option(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = commands.add_parser(
        "list",
        help="list catalogue roles, filtered like the TUI",
        description="List the catalogue's roles. Every word of QUERY must occur in the "
        "account, role, account id, tags or description (case-insensitive).",
    )
    p.add_argument("query", nargs="*", metavar="QUERY", help="words that must all match")
    p.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    _catalogue_option(p)
    p.set_defaults(handler=cmd_list)

    p = commands.add_parser(
        "check",
        help="validate a catalogue",
        description="Validate a catalogue and print every problem, one per line with "
        "file:line. Exit 0 when it is valid, 2 when it is not.",
    )
    p.add_argument("path", nargs="?", metavar="PATH", help="catalogue file (default: as for list)")
    _catalogue_option(p)
    p.set_defaults(handler=cmd_check)
    return parser


def _catalogue_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalogue",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="catalogue file (default: $ROLECALL_CATALOGUE, else the user config dir)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run rolecall; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    ctx = Context(args, dict(os.environ))
    try:
        code: int = args.handler(ctx, sys.stdout)
        return code
    except AmbiguousTarget as e:
        _report(e)
        for candidate in e.candidates:
            print(f"  {inert(candidate)}", file=sys.stderr)
        return e.exit_code
    except RolecallError as e:
        _report(e)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `rolecall list | head`: the reader went away; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _report(error: RolecallError) -> None:
    print(f"rolecall: {inert(error.message)}", file=sys.stderr)
    if error.hint:
        print(f"  hint: {inert(error.hint)}", file=sys.stderr)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
