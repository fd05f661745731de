"""Shell integration: `rolecall prompt`, a prompt segment inside a rolecall shell."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rolecall.cli.options import Commands, Wanted
from rolecall.cli.output import remaining_text
from rolecall.core.text import inert

if TYPE_CHECKING:
    from rolecall.cli.context import Context


def register(commands: Commands, wanted: Wanted) -> None:
    """Add `prompt` (when wanted) to the command parser."""
    if wanted("prompt"):
        p = commands.add_parser(
            "prompt",
            help="a short segment for a shell prompt",
            description="Print `ACCOUNT/ROLE 42m` inside a rolecall shell, nothing elsewhere. "
            "For example in bash: PS1='$(rolecall prompt) '$PS1",
        )
        p.set_defaults(handler=cmd_prompt)


def cmd_prompt(ctx: Context, out: TextIO) -> int:
    """`rolecall prompt`: `payments-prod/ReadOnly 42m` inside a rolecall shell, else nothing."""
    from datetime import UTC, datetime

    target = ctx.env.get("ROLECALL_TARGET")
    if not target:
        return 0
    left = ""
    try:
        from rolecall.core.credentials import parse_rfc3339

        expiry = parse_rfc3339(ctx.env.get("ROLECALL_EXPIRATION", ""))
        left = " " + remaining_text((expiry - datetime.now(UTC)).total_seconds())
    except ValueError:
        pass
    out.write(inert(target) + left + "\n")
    return 0
