"""How commands print: aligned columns and time left."""

from __future__ import annotations

from collections.abc import Sequence

from rolecall.core.text import inert


def columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Header and rows as left-aligned columns, made inert for a terminal."""
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    lines = [header, *rows]
    return "".join(
        inert("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        + "\n"
        for line in lines
    )


def remaining_text(seconds: float) -> str:
    """`1h12m`, `42m`, `30s`, or `expired`."""
    if seconds <= 0:
        return "expired"
    if seconds < 60:
        return f"{int(seconds)}s"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
