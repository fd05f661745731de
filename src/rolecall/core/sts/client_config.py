"""The botocore client settings of rolecall's STS, Organizations and SSO portal clients.

A leaf of its own, so that a front end can pass them on (the TUI's start) without loading the
STS engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolecall.core.errors import UsageError

CLIENT_SETTINGS: dict[str, Any] = {
    "connect_timeout": 3,
    "read_timeout": 10,
    "retries": {"mode": "standard", "total_max_attempts": 3},
}
"""botocore client settings, pinned so that a change of botocore's defaults (60 s timeouts,
legacy vs standard retries) cannot move them. Worst case per hop: 3 x (3 s + 10 s)."""


def client_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """`CLIENT_SETTINGS`, with timeouts from ROLECALL_STS_{CONNECT,READ}_TIMEOUT if set."""
    settings = dict(CLIENT_SETTINGS)
    for variable, key in (
        ("ROLECALL_STS_CONNECT_TIMEOUT", "connect_timeout"),
        ("ROLECALL_STS_READ_TIMEOUT", "read_timeout"),
    ):
        if variable in env:
            try:
                settings[key] = float(env[variable])
            except ValueError:
                raise UsageError(f"{variable} must be a number of seconds.") from None
    return settings
