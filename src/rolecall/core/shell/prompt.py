"""`rolecall prompt`: the prompt segment inside a rolecall shell, from the environment alone.

A fast path: `rolecall.entry` calls `serve` before argparse is imported. It reads
`ROLECALL_TARGET`, `ROLECALL_EXPIRATION` and `ROLECALL_SERVER` (no catalogue, no cache) and
imports only `time`: `datetime` only for an expiry not in rolecall's own
`2026-11-27T22:43:16Z` shape, and `rolecall.core.text` (with `re`) only for a target that is
not printable ASCII.
The shell functions of `rolecall prompt --init` render the same segment with no process.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs more than the answer
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import TextIO

EXPIRING = 10 * 60
"""Below this many seconds left the segment is amber (as the TUI's countdown)."""
CRITICAL = 2 * 60
"""Below this many seconds left it is red."""

AMBER = "\x1b[33m"
"""ANSI yellow: the session expires within `EXPIRING`."""
RED = "\x1b[31m"
"""ANSI red: the session expires within `CRITICAL`."""
DIM = "\x1b[2m"
"""ANSI dim: the session has expired."""
RESET = "\x1b[0m"
"""Back to the terminal's default colours."""

RENEWING = "↻"
"""Shown instead of the time left in a credential-server shell, whose session renews."""

OPTIONS = frozenset({"--color"})
"""The options the fast path answers; anything else (`--init`, `--help`) goes to argparse."""


def remaining(seconds: float) -> str:
    """`1h12m`, `42m`, `30s`, or `expired` (as `rolecall sessions` shows it)."""
    if seconds <= 0:
        return "expired"
    if seconds < 60:
        return f"{int(seconds)}s"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def colour(seconds: float) -> str:
    """The ANSI style for `seconds` left: dim, red, amber or none."""
    if seconds <= 0:
        return DIM
    if seconds < CRITICAL:
        return RED
    if seconds < EXPIRING:
        return AMBER
    return ""


def expiry_epoch(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp; ValueError when it is not one."""
    if len(text) == 20 and text[4] + text[7] + text[10] + text[13] + text[16] + text[19] == (
        "--T::Z"
    ):
        # rolecall's own shape, without importing datetime (days from the civil date).
        y, m, d = int(text[:4]), int(text[5:7]), int(text[8:10])
        hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
        if 1 <= m <= 12 and 1 <= d <= 31 and hour < 24 and minute < 60 and second < 61:
            y -= m <= 2
            era, yoe = divmod(y, 400)
            doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
            days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
            return days * 86400 + hour * 3600 + minute * 60 + second
    from datetime import datetime

    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a timestamp without a time zone")
    return moment.timestamp()


def segment(env: Mapping[str, str], now: float, *, color: bool = False) -> str:
    """`payments-prod/ReadOnly 42m` inside a rolecall shell, else `""`.

    In a credential-server shell (`ROLECALL_SERVER`, no expiry) the time left is `↻`: the
    server renews the session. The target is made inert: it came from a catalogue.
    """
    target = env.get("ROLECALL_TARGET")
    if not target:
        return ""
    if target.isascii() and target.isprintable():
        shown = target  # every valid target: no `re` to load
    else:
        from rolecall.core.text import inert

        shown = inert(target)
    expiration = env.get("ROLECALL_EXPIRATION")
    if not expiration:
        return f"{shown} {RENEWING}" if env.get("ROLECALL_SERVER") else shown
    try:
        seconds = expiry_epoch(expiration) - now
    except ValueError:
        return shown
    text = f"{shown} {remaining(seconds)}"
    style = colour(seconds) if color else ""
    return f"{style}{text}{RESET}" if style else text


def serve(argv: Sequence[str], env: Mapping[str, str], out: TextIO) -> bool:
    """Answer `rolecall prompt [--color]`; False when argparse must (other options)."""
    if argv[:1] != ["prompt"] or not OPTIONS.issuperset(argv[1:]):
        return False
    import time

    text = segment(env, time.time(), color="--color" in argv[1:])
    if text:
        out.write(text + "\n")
    return True
