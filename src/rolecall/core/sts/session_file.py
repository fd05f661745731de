"""The session file's document, read and checked without `json`, `datetime` or `typing`.

`session_cache` turns a checked document into a `Session`; the cache-hit memo answers straight
from it. Both apply the same checks (`check_document`), and the memo serves only what it reads
exactly: timestamps in the form rolecall writes (`2026-11-27T22:43:16Z`) and JSON that the C
scanner parses whole. Anything else is left to the full command, which reads it with `json`
and `datetime` (a superset) or replaces it.

Imports: `time` and the C modules `_json` and `_sha256` (`_sha2` on 3.12+), nothing else.
"""

from __future__ import annotations

DEFAULT_MARGIN = 15 * 60
"""Reuse a cached session only while it has more than this left. botocore refreshes
credentials 15 minutes before expiry, so handing out less would make every botocore call
re-run `credential_process`."""

MIN_REUSE = 60
"""A fresh session is worth the margin only if it can then be reused for at least this long."""

FORMAT = 1
"""The session file's `format`."""

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: this module is on the cache-hit fast path
if TYPE_CHECKING:
    from typing import Any


def effective_margin(margin: int, duration: int) -> int:
    """The reuse margin for a session of `duration` seconds.

    Whenever a fresh session would have more than the margin left, the margin holds: botocore
    treats credentials inside its 15-minute window as stale and runs `credential_process`
    again on every call, so handing it such a session costs a process per AWS call. Only a
    session too short for that (a 15-minute one under a 15-minute margin) is reused for its
    first half instead.
    """
    return margin if duration > margin + MIN_REUSE else duration // 2


def sha256_hex(data: bytes) -> str:
    """SHA-256 hex digest, from the cheapest implementation this Python has."""
    # The built-in SHA-256 module imports in ~0.1 ms; hashlib loads OpenSSL (~3 ms), which a
    # cache hit on the credential_process path would pay on every botocore refresh.
    for name in ("_sha256", "_sha2", "hashlib"):  # CPython <= 3.11, 3.12+, anything else
        try:
            module = __import__(name)
        except ImportError:
            continue
        return str(module.sha256(data).hexdigest())
    raise RuntimeError("no SHA-256 implementation")


class _Strict:
    """What the C scanner reads from a `json.JSONDecoder`: plain JSON, nothing more."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str] = {}  # noqa: RUF012 -- the C scanner's own attribute

    @staticmethod
    def parse_constant(name: str) -> object:
        raise ValueError(f"{name} is not JSON")


try:
    from _json import make_scanner as _make_scanner

    _scan: Any = _make_scanner(_Strict)  # type: ignore[arg-type]  # duck-typed: any object
except ImportError:  # not CPython
    _scan = None


def load_json(data: bytes) -> object:
    """`json.loads(data)` for UTF-8 JSON without NaN or Infinity; ValueError otherwise."""
    if _scan is None:
        import json

        return json.loads(data, parse_constant=_Strict.parse_constant)
    text = data.decode("utf-8").strip(" \t\n\r")
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    if end != len(text):
        raise ValueError("extra data after the JSON value")
    return value


def epoch_of(text: object) -> int | None:
    """Seconds since the epoch of `YYYY-MM-DDTHH:MM:SSZ` (the form rolecall writes), else None."""
    if not isinstance(text, str) or len(text) != 20 or text[19] != "Z":
        return None
    if text[4] + text[7] + text[10] + text[13] + text[16] != "--T::":
        return None
    digits = text[0:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]
    if not (digits.isascii() and digits.isdigit()):
        return None
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days_in = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not (1 <= month <= 12 and 1 <= day <= days_in[month - 1] and year >= 1):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    # Days from 1970-01-01 to the date (proleptic Gregorian; Howard Hinnant's algorithm).
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86400 + hour * 3600 + minute * 60 + second


def _string(document: dict[str, Any], key: str) -> str:
    value = document[key]
    if not isinstance(value, str) or not value:
        raise TypeError(key)
    return value


def check_document(document: object) -> dict[str, Any]:
    """`document` if it is a sound session document, else TypeError or KeyError.

    Sound: format 1; non-empty strings for the target, role ARN, session name, assumed-role
    ARN, region, issue time and the four credential fields; a source identity that is a
    string or absent; a whole-number duration. (Timestamps are parsed by the reader.)
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TypeError("format")
    credentials = document["credentials"]
    if not isinstance(credentials, dict):
        raise TypeError("credentials")
    source_identity = document.get("source_identity")
    if source_identity is not None and not isinstance(source_identity, str):
        raise TypeError("source_identity")
    if type(document["duration"]) is not int:
        raise TypeError("duration")
    for key in ("target", "role_arn", "session_name", "assumed_role_arn", "region", "issued_at"):
        _string(document, key)
    for key in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
        _string(credentials, key)
    return document


def read_fresh(data: bytes, margin: int, now: float) -> dict[str, Any] | None:
    """The session document in `data` if it is sound, exact and has more than the margin left.

    `margin` is the cache's margin (made effective for the session's duration here), `now`
    seconds since the epoch. None for anything else, including documents the full reader
    would accept but this one does not read exactly (it then decides).
    """
    try:
        document = check_document(load_json(data))
    except (ValueError, TypeError, KeyError):
        return None
    expires = epoch_of(document["credentials"]["Expiration"])
    if expires is None or epoch_of(document["issued_at"]) is None:
        return None
    if expires - now <= effective_margin(margin, document["duration"]):
        return None
    return document
