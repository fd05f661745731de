"""Fitting text to a column: padded when short, cut with `…` when long (never run together)."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size

ELLIPSIS = "…"


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells: padded, or cut and ended with `…`."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + ELLIPSIS


def cut(text: str, width: int) -> str:
    """`text` in at most `width` cells (cut with `…`, never padded)."""
    return text if cell_len(text) <= width else fit(text, width)
