"""Presenter mode: account ids (and so the account part of every ARN) masked on screen."""

from __future__ import annotations

import re

_ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
MASK = "•" * 12


def mask(text: str, presenter: bool) -> str:
    """`text` with every 12-digit account id replaced by dots when `presenter` is on."""
    return _ACCOUNT_ID.sub(MASK, text) if presenter else text
