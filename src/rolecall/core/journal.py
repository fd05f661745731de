"""The journal: one JSON line per assumption and per shell, exec or console launch.

It answers "who assumed what, when, under which name" locally, the way CloudTrail answers it
in the role's account. It never holds a secret: no keys, tokens, codes or sign-in URLs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rolecall.core.credentials import Session, rfc3339
from rolecall.core.locations import check_trusted
from rolecall.core.private_files import append_private, read_private

EVENTS = ("assume", "shell", "exec", "console", "env", "credential-process")
"""What an entry can record: an STS assumption, or a use of a session."""


class Journal:
    """Append-only JSON lines in a private file."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        """Raises `UntrustedPath` when another user could change the journal's directory (or
        one above it): they could drop or rewrite the record."""
        self.path = check_trusted(path)
        """The journal file (0600)."""
        self.clock = clock

    def record_assumption(
        self, chain: Sequence[tuple[Session, bool]], **details: str | int | bool | None
    ) -> None:
        """Append an `assume` entry for the last session of `chain`, with every hop.

        Each hop is an AssumeRole of its own, recorded in its own account's CloudTrail under
        its own session name: the entry lists them all (`new` says which were assumed now and
        which came from the cache).
        """
        hops = [
            {
                "target": hop.target,
                "assumed_role_arn": hop.assumed_role_arn,
                "session_name": hop.session_name,
                "new": fresh,
            }
            for hop, fresh in chain
        ]
        self.record("assume", chain[-1][0], hops=len(hops), chain=hops, **details)

    def record(self, event: str, session: Session, **details: object) -> None:
        """Append one entry for `session`; `details` must never carry secrets."""
        assert event in EVENTS, event
        entry: dict[str, Any] = {
            "time": rfc3339(self.clock()),
            "event": event,
            "target": session.target,
            "role_arn": session.role_arn,
            "session_name": session.session_name,
            "source_identity": session.source_identity,
            "assumed_role_arn": session.assumed_role_arn,
            "expiration": rfc3339(session.expiration),
            **details,
        }
        append_private(self.path, (json.dumps(entry, sort_keys=False) + "\n").encode())

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every readable entry, oldest first (a damaged line is skipped)."""
        data = read_private(self.path)
        if not data:
            return
        for line in data.decode("utf-8", "replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry
