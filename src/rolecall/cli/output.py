"""How commands print: aligned columns and time left."""

from __future__ import annotations

from collections.abc import Sequence

from rolecall.core.shell.prompt import remaining as remaining_text
from rolecall.core.text import has_unsafe, inert


def columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Header and rows as left-aligned columns, made inert for a terminal.

    The cost per row is a join: widths come from one pass per column, and the whole table is
    checked for unsafe characters at once (a row is escaped on its own only when needed).
    """
    lines = [header, *rows]
    widths = [max(map(len, column)) for column in zip(*lines, strict=True)]
    last = len(widths) - 1
    texts = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(line[:last], widths, strict=False)),
                   line[last]]).rstrip()
        for line in lines
    ]  # fmt: skip
    if not has_unsafe("".join(texts)):  # no row holds a newline or an escape: as they are
        return "\n".join(texts) + "\n"
    return "".join(inert(line) + "\n" for line in texts)


__all__ = ["columns", "remaining_text"]
