"""What `rolecall completion SHELL` completes, read from the argparse tree itself.

Every command, option and choice comes from the real parser (`build_parser()`, handed in), so a new
option completes without touching this file. Only the option values and positional words that
need to know where to look are named here: targets and template names come from the catalogue's
names file (`rolecall.core.catalogue.names`), `--destination` from the console shortcuts.
The scripts themselves are written by `rolecall.cli.completion_scripts`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

TARGETS = "@targets"
"""Value kind: catalogue targets (read from the names file by the shell)."""
TEMPLATES = "@templates"
"""Value kind: `[session_names]` template names (from the names file)."""
FILES = "@files"
"""Value kind: a file name."""
NOTHING = ""
"""Value kind: free text, nothing to offer."""
COMMAND = "@command"
"""Positional kind: after `--`, a command line (`exec`, `each`)."""

_FILE_METAVARS = frozenset({"PATH", "FILE"})
_TARGET_METAVARS = frozenset({"TARGET", "QUERY"})


@dataclass(frozen=True)
class Option:
    """One option of one command."""

    flags: tuple[str, ...]
    help: str
    values: str | tuple[str, ...] | None
    """None for a flag; a kind (`TARGETS`, `FILES`, ...) or the words it takes."""
    repeats: bool = False
    """Given more than once (`--var`)."""


@dataclass(frozen=True)
class Command:
    """A command (or `import`'s subcommands), with what completes after it."""

    name: str
    help: str
    options: tuple[Option, ...]
    positional: str | tuple[str, ...] = NOTHING
    """What the positional words are: `TARGETS`, `FILES`, nothing, or the words allowed."""
    after_dashdash: bool = False
    """`exec TARGET -- CMD`: a command line follows `--`."""
    subcommands: tuple[Command, ...] = field(default_factory=tuple)


def spec(parser: argparse.ArgumentParser) -> Command:
    """The whole command tree, from `parser` (built with every command's parser)."""
    return _command("rolecall", parser.description or "", parser)


def destinations() -> tuple[str, ...]:
    """The console destination shortcuts (`--destination s3`), sorted."""
    from rolecall.core.console.url import SERVICES

    return tuple(sorted(SERVICES))


def _command(name: str, summary: str, parser: argparse.ArgumentParser) -> Command:
    options: list[Option] = []
    positional: str | tuple[str, ...] = NOTHING
    after_dashdash = False
    subcommands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for sub, subparser in action.choices.items():
                subcommands.append(_command(sub, helps.get(sub, ""), subparser))
        elif action.option_strings:
            if action.help != argparse.SUPPRESS:
                repeats = isinstance(action, argparse._AppendAction)
                flags, text = tuple(action.option_strings), _one_line(action.help)
                options.append(Option(flags, text, _values(action), repeats))
        elif action.choices is not None and positional == NOTHING:
            positional = tuple(str(c) for c in action.choices)
        elif action.metavar in _TARGET_METAVARS and positional == NOTHING:
            positional = TARGETS
        elif action.metavar in _FILE_METAVARS and positional == NOTHING:
            positional = FILES
        elif action.nargs in ("*", argparse.REMAINDER) and action.dest == "argv":
            after_dashdash = True
    return Command(
        name,
        _one_line(summary),
        tuple(options),
        positional,
        after_dashdash,
        tuple(subcommands),
    )


def _values(action: argparse.Action) -> str | tuple[str, ...] | None:
    if action.nargs == 0:
        return None
    if action.choices is not None:
        return tuple(str(c) for c in action.choices)
    if action.dest == "template":
        return TEMPLATES
    if action.dest == "destination":
        return destinations()
    if action.metavar in _FILE_METAVARS:
        return FILES
    return NOTHING


def _one_line(text: str | None) -> str:
    text = (text or "").split("%(", 1)[0].strip()
    return " ".join(text.split())
