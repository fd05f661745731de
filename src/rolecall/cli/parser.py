"""The argparse tree: the top-level parser, and each command's parser from its own module.

Only the named command's module is imported and its parser built: building all of them costs
milliseconds that `credential_process` pays on every botocore refresh.
"""

from __future__ import annotations

import argparse

from rolecall.cli.options import catalogue_option
from rolecall.version import __version__

COMMANDS = frozenset(
    {
        "list",
        "check",
        "env",
        "exec",
        "each",
        "shell",
        "credential-process",
        "console",
        "sessions",
        "forget",
        "journal",
        "prompt",
        "completion",
        "demo",
        "import",
        "login",
    }
)
"""Every command name (the parser for just one of them is built when it is named)."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argparse tree; with `only`, just that command (a command runs faster that way);
    with `only=""`, no command (for `rolecall` alone: the TUI)."""
    parser = argparse.ArgumentParser(
        prog="rolecall",
        description="Pick an AWS role from your catalogue, assume it, and use it.",
        epilog="Run `rolecall COMMAND --help` for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"rolecall {__version__}")
    catalogue_option(parser)
    commands = parser.add_subparsers(dest="subcommand", metavar="COMMAND")

    def wanted(name: str) -> bool:
        return only is None or only == name

    # One module per command group, in the order `--help` lists them.
    if only in (None, "list", "check"):
        from rolecall.cli import catalogue

        catalogue.register(commands, wanted)
    if only in (None, "env", "exec", "shell", "credential-process"):
        from rolecall.cli import assume

        assume.register(commands, wanted)
    if only in (None, "each"):
        from rolecall.cli import each

        each.register(commands, wanted)
    if only in (None, "console"):
        from rolecall.cli import console

        console.register(commands, wanted)
    if only in (None, "sessions", "forget", "journal"):
        from rolecall.cli import sessions

        sessions.register(commands, wanted)
    if only in (None, "prompt", "completion"):
        from rolecall.cli import shell_integration

        shell_integration.register(commands, wanted, build_parser)
    if only in (None, "demo"):
        from rolecall.cli import tui

        tui.register(commands, wanted)
    if only in (None, "import"):
        from rolecall.cli import importing

        importing.register(commands, wanted)
    if only in (None, "login"):
        from rolecall.cli import login

        login.register(commands, wanted)
    return parser
