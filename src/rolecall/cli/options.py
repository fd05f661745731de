"""Options shared by several commands: the assume flags and `--catalogue`.

Command modules register their parsers with these; this module imports only argparse.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeAlias

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""The top-level `add_subparsers()` object every command module registers on."""

Wanted: TypeAlias = Callable[[str], bool]
"""Whether a command's parser is needed (only the named command's parser is built)."""


def assume_command(
    commands: Commands,
    name: str,
    summary: str,
    description: str,
) -> argparse.ArgumentParser:
    """A command that assumes TARGET, with the options every assuming command shares."""
    p = commands.add_parser(name, help=summary, description=description)
    p.add_argument("target", metavar="TARGET", help="ACCOUNT/ROLE, ACCOUNT_ID/ROLE, ARN or query")
    assume_options(p)
    catalogue_option(p)
    return p


def assume_options(parser: argparse.ArgumentParser) -> None:
    """The options every assuming command shares (`Context.assume_options` reads them)."""
    group = parser.add_argument_group("assume options")
    group.add_argument("--session-name", metavar="NAME", help="use exactly this session name")
    group.add_argument(
        "--template", metavar="NAME", help="a template from [session_names] (or a literal one)"
    )
    group.add_argument(
        "--var", action="append", metavar="NAME=VALUE", help="value of a free template variable"
    )
    group.add_argument("--duration", metavar="D", help='session length, e.g. "15m", "1h", 3600')
    group.add_argument(
        "--mfa-code",
        metavar="CODE",
        help="6-digit MFA code (on a terminal you are asked instead, which keeps it out of ps)",
    )
    group.add_argument("--region", metavar="R", help="STS and session region")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")


def catalogue_option(parser: argparse.ArgumentParser) -> None:
    """`--catalogue PATH`, accepted before or after the command name."""
    parser.add_argument(
        "--catalogue",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="catalogue file (default: $ROLECALL_CATALOGUE, else the user config dir)",
    )


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (`--limit 0` or `-1` is refused)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number (1 or more)")
    return value
