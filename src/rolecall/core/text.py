"""Display-safe text: catalogue strings are untrusted, so control characters are made inert.

Terminal escape sequences (CSI, OSC, DCS), C1 controls, bidi overrides and zero-width
characters can all hide or rewrite what the user sees. Everything rolecall echoes back from a
catalogue goes through `inert` first.
"""

from __future__ import annotations

import re

# C0 (TAB and newline included), DEL, C1, the bidi embeddings/overrides/isolates, the
# invisible marks, zero-width characters and the line/paragraph separators.
UNSAFE = (
    "["
    "\x00-\x1f\x7f-\x9f"  # C0 (TAB and newline included), DEL, C1
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"  # invisible marks
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f"  # zero-width, separators, bidi, invisibles
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"  # fillers, variation selectors
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff"  # musical format chars, tag characters
    "\ud800-\udfff"  # lone surrogates
    "]"
)
"""Characters that must never reach a terminal from catalogue data (a pattern; `re` compiles it
on first use, which takes a millisecond that a start-up showing only plain text never pays)."""


def has_unsafe(text: str) -> bool:
    """Whether `text` holds any character that `inert` would escape."""
    if text.isascii() and text.isprintable():
        return False
    return re.search(UNSAFE, text) is not None


def inert(text: str) -> str:
    """`text` with every unsafe character written as a visible escape (`\\x1b`, `\\u202e`)."""
    if text.isascii() and text.isprintable():
        return text  # nothing below SPACE or DEL: the common case needs no pattern at all
    return re.sub(UNSAFE, _escape, text)


def show(value: object, limit: int = 60) -> str:
    """A short, quoted, inert rendering of a user value for error messages."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + "…"
        return '"' + inert(text) + '"'
    text = repr(value)
    return inert(text if len(text) <= limit else text[:limit] + "…")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
