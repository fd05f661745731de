"""Keeping a session alive: when to renew it, and a keeper that renews it in the background.

The SDKs treat credentials as stale 15 minutes before they expire (botocore: advisory 15 min,
mandatory 10 min), so a kept session is renewed before that: 20 minutes before expiry by
default, or half-way through a session too short for that. A renewal that fails (MFA needed,
STS down, the source signed out) never stops the session: the keeper goes on serving the
valid one, says so once through `notify`, retries, and reports the reason once it expired.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from rolecall.core.credentials import Session
from rolecall.core.errors import RolecallError, UsageError

DEFAULT_RENEW_BEFORE = 20 * 60
"""Seconds before expiry at which a kept session is renewed, when the session is long enough."""

RETRY_AFTER = 30.0
"""Seconds between renewal attempts after one failed."""


def renew_window(duration: int, requested: int | None = None) -> int:
    """Seconds before expiry to renew a session of `duration` seconds.

    `requested` (`--renew-before`) must be shorter than the session; by default it is 20
    minutes, or half the session when the session is not longer than that.
    """
    if requested is not None:
        if not 0 < requested < duration:
            raise UsageError(
                f"--renew-before {requested}s must be shorter than the session ({duration}s).",
                hint="renew later (e.g. --renew-before 10m) or ask for a longer --duration",
            )
        return requested
    return DEFAULT_RENEW_BEFORE if duration > DEFAULT_RENEW_BEFORE else duration // 2


class SessionKeeper:
    """Holds one target's current session and renews it in a background thread.

    `renew()` must return a session with more than `renew_before` seconds left (the assumer
    does, given `renew_within=renew_before`); it is never called while a request waits, so a
    request is answered from memory at once.
    """

    def __init__(
        self,
        first: Session,
        renew: Callable[[], Session],
        renew_before: int,
        *,
        notify: Callable[[str], None] = lambda message: None,
        on_renewed: Callable[[Session], None] = lambda session: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        retry_after: float = RETRY_AFTER,
    ) -> None:
        self._session = first
        self._renew = renew
        self.renew_before = renew_before
        """Seconds before expiry at which the session is renewed."""
        self._notify = notify
        self._on_renewed = on_renewed
        self.clock = clock
        """The source of "now" (injected by tests)."""
        self.retry_after = retry_after
        """Seconds between attempts after a failed renewal."""
        self.failure: str | None = None
        """Why the last renewal failed (None after a success)."""
        self.renewals = 0
        """How many renewals succeeded."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rolecall-renewal", daemon=True)

    @property
    def session(self) -> Session:
        """The newest session, valid or not."""
        with self._lock:
            return self._session

    def current(self) -> Session | None:
        """The session to hand out now, or None once it has expired."""
        session = self.session
        return session if session.remaining(self.clock()) > 0 else None

    def start(self) -> SessionKeeper:
        """Start renewing in the background."""
        self._thread.start()
        return self

    def wake(self) -> None:
        """Try again now instead of at the next retry (the caller made a renewal possible:
        an MFA code or a sign-in filled the cache)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop renewing (at once: the thread only ever waits on the stop event or STS)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            session = self.session
            due = session.expiration - timedelta(seconds=self.renew_before)
            wait = (due - self.clock()).total_seconds()
            if wait > 0:
                self._pause(wait)
                continue
            try:
                fresh = self._renew()
            except RolecallError as error:
                self._failed(session, error.message)
                continue
            except Exception as error:  # a bug must not end the keeper; say what it was
                self._failed(session, f"unexpected {type(error).__name__}")
                continue
            if fresh.expiration <= session.expiration:
                # The answer was no newer (a clock skew, or a session too short): try later.
                self._pause(max(self.retry_after, 1.0))
                continue
            with self._lock:
                self._session = fresh
            self.failure = None
            self.renewals += 1
            self._on_renewed(fresh)

    def _failed(self, session: Session, reason: str) -> None:
        first = self.failure is None
        self.failure = reason
        if first:
            left = session.remaining(self.clock())
            until = (
                f"keeping the current session until {session.expiration:%H:%M} UTC"
                if left > 0
                else "the session has expired"
            )
            self._notify(f"could not renew {session.target}: {reason} ({until}).")
        left = session.remaining(self.clock())
        self._pause(min(self.retry_after, left) if left > 1 else self.retry_after)

    def _pause(self, seconds: float) -> None:
        """Wait `seconds`, or less when stopped or woken."""
        self._wake.wait(seconds)
        self._wake.clear()
