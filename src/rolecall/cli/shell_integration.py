"""Shell integration: `rolecall prompt` (a prompt segment) and `rolecall completion SHELL`.

`rolecall prompt [--color]` is normally answered before argparse by `rolecall.entry` (see
`rolecall.core.shell.prompt`); it reaches this module with other options (`--init`, `--help`)
or after a global `--catalogue`. The hidden `rolecall __complete names` never does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from rolecall.cli.options import Commands, Wanted

if TYPE_CHECKING:
    from rolecall.cli.context import Context

Tree = Callable[[], argparse.ArgumentParser]
"""Builds every command's parser (`parser.build_parser`), handed in: importing it here would
close a cycle through the parser that registers this module."""

SHELLS = ("bash", "zsh", "fish")
"""The shells both commands write for (the script modules check they agree)."""


def register(commands: Commands, wanted: Wanted, tree: Tree) -> None:
    """Add `prompt` and `completion` (when wanted) to the command parser."""
    if wanted("prompt"):
        p = commands.add_parser(
            "prompt",
            help="a short segment for a shell prompt",
            description="Print `ACCOUNT/ROLE 42m` inside a rolecall shell (`ACCOUNT/ROLE ↻` in "
            "a credential-server shell), nothing elsewhere. It reads only the environment. "
            "For example in bash: PS1='$(rolecall prompt) '$PS1, or, with no process at "
            'each prompt: eval "$(rolecall prompt --init bash)"',
        )
        p.add_argument(
            "--color",
            action="store_true",
            help="amber under 10 minutes left, red under 2, dim once expired (ANSI)",
        )
        p.add_argument(
            "--init",
            choices=SHELLS,
            metavar="SHELL",
            help="print shell functions that render the segment without a process "
            "(bash, zsh or fish)",
        )
        p.set_defaults(handler=cmd_prompt)
    if wanted("completion"):
        p = commands.add_parser(
            "completion",
            help="print a shell completion script",
            description="Print a completion script for commands, options, option values and "
            'catalogue targets. bash: eval "$(rolecall completion bash)" in ~/.bashrc; zsh: '
            'eval "$(rolecall completion zsh)" after compinit; fish: rolecall completion fish '
            "> ~/.config/fish/completions/rolecall.fish",
        )
        p.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash, zsh or fish")
        p.set_defaults(handler=cmd_completion, tree=tree)


def cmd_prompt(ctx: Context, out: TextIO) -> int:
    """`rolecall prompt`: `payments-prod/ReadOnly 42m` inside a rolecall shell, else nothing."""
    if ctx.args.init:
        from rolecall.cli import prompt_scripts

        out.write(prompt_scripts.script(ctx.args.init, ctx.args.color))
        return 0
    import time

    from rolecall.core.shell.prompt import segment

    text = segment(ctx.env, time.time(), color=ctx.args.color)
    if text:
        out.write(text + "\n")
    return 0


def cmd_completion(ctx: Context, out: TextIO) -> int:
    """`rolecall completion SHELL`: the completion script for SHELL."""
    from rolecall.cli import completion, completion_scripts

    out.write(completion_scripts.script(ctx.args.shell, completion.spec(ctx.args.tree())))
    return 0
