"""SessionsPanel: every active session with a countdown that ticks each second, and which of
them rolecall keeps alive (and serves to a child)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from rolecall.core.text import inert
from rolecall.core.workspace import ActiveSession
from rolecall.ui.presenter import mask

EXPIRING = 10 * 60
"""Below this many seconds a session is shown as expiring."""
CRITICAL = 2 * 60
"""Below this many seconds it is critical."""


def countdown(seconds: float) -> str:
    """`1:02:03`, `42:07`, or `expired`."""
    if seconds <= 0:
        return "expired"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def stage(seconds: float) -> str:
    """`ok`, `expiring` (< 10 min), `critical` (< 2 min) or `expired`."""
    if seconds <= 0:
        return "expired"
    if seconds < CRITICAL:
        return "critical"
    if seconds < EXPIRING:
        return "expiring"
    return "ok"


class SessionRow(Static):
    """One session: target, session name, time left."""

    DEFAULT_CSS = """
    SessionRow { height: 1; }
    SessionRow.-selected { background: $boost; text-style: bold; }
    SessionRow.-expiring { color: $warning; }
    SessionRow.-critical { color: $error; text-style: bold; }
    SessionRow.-expired { color: $text-muted; text-style: strike; }
    """

    def __init__(self, active: ActiveSession) -> None:
        super().__init__()
        self.active = active
        """The session shown."""
        self.stage = "ok"
        """The colour stage last shown."""
        self.kept = ""
        """What keeps the session alive, e.g. `⟳ kept · serving shell` (empty: nothing)."""
        self.reason: str | None = None
        """Why its last renewal failed (shown once it has expired)."""

    def show(self, now: datetime, presenter: bool) -> str:
        """Update the text and classes; return the stage."""
        session = self.active.session
        left = session.remaining(now)
        self.stage = stage(left)
        for name in ("expiring", "critical", "expired"):
            self.set_class(self.stage == name, f"-{name}")
        text = Text()
        text.append(f"{countdown(left):>8}  ", style="bold")
        text.append(inert(session.target))
        text.append("  " + inert(mask(session.session_name, presenter)), style="dim")
        if self.kept:
            text.append(f"  {self.kept}", style="bold")
        if self.stage == "expired" and self.reason:
            text.append(f"  renewal failed: {inert(mask(self.reason, presenter))}")
        self.update(text)
        return self.stage


class SessionsPanel(VerticalScroll, can_focus=True):
    """The list of sessions; the app ticks it once a second."""

    DEFAULT_CSS = """
    SessionsPanel { height: 1fr; }
    SessionsPanel > #empty { color: $text-muted; }
    """

    BINDINGS = [
        Binding("up", "select(-1)", "Previous session", show=False, id="sessions.up"),
        Binding("down", "select(1)", "Next session", show=False, id="sessions.down"),
    ]

    class ThresholdCrossed(Message):
        """A session entered a new stage (expiring, critical, expired)."""

        def __init__(self, active: ActiveSession, stage: str) -> None:
            super().__init__()
            self.active = active
            """The session."""
            self.stage = stage
            """Its new stage."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selected = 0
        """Index of the selected row."""
        self.presenter = False
        """Mask account ids."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("No active sessions. Press enter on a role to assume it.", id="empty")

    @property
    def rows(self) -> list[SessionRow]:
        """The session rows, in order."""
        return list(self.query(SessionRow))

    @property
    def sessions(self) -> list[ActiveSession]:
        """The sessions shown."""
        return [row.active for row in self.rows]

    def current(self) -> ActiveSession | None:
        """The selected session, if any."""
        rows = self.rows
        return rows[self.selected].active if 0 <= self.selected < len(rows) else None

    def add(self, active: ActiveSession, now: datetime) -> None:
        """Show `active`, replacing a session with the same cache key."""
        for row in self.rows:
            if row.active.key == active.key:
                row.remove()
        row = SessionRow(active)
        self.mount(row)
        row.show(now, self.presenter)
        self.query_one("#empty").display = False
        self.selected = len(self.rows) - 1
        self._mark()

    def replace(self, active: ActiveSession, now: datetime) -> None:
        """Show `active` in place of the session with the same cache key (a renewal)."""
        for row in self.rows:
            if row.active.key == active.key:
                row.active = active
                row.reason = None
                row.show(now, self.presenter)

    def keeping(self, key: str, kept: str, reason: str | None, now: datetime) -> None:
        """Say what keeps the session with cache key `key` alive, and why renewing failed."""
        for row in self.rows:
            if row.active.key == key and (row.kept, row.reason) != (kept, reason):
                row.kept, row.reason = kept, reason
                row.show(now, self.presenter)

    def discard(self, active: ActiveSession) -> None:
        """Stop showing `active`."""
        for row in self.rows:
            if row.active.key == active.key:
                row.remove()
        self.call_after_refresh(self._after_discard)

    def _after_discard(self) -> None:
        self.query_one("#empty").display = not self.rows
        self.selected = min(self.selected, max(len(self.rows) - 1, 0))
        self._mark()

    def tick(self, now: datetime) -> None:
        """Recompute every countdown; post ThresholdCrossed when a stage changes."""
        for row in self.rows:
            before = row.stage
            after = row.show(now, self.presenter)
            if after not in (before, "ok"):
                self.post_message(self.ThresholdCrossed(row.active, after))

    def action_select(self, delta: int) -> None:
        if self.rows:
            self.selected = max(0, min(len(self.rows) - 1, self.selected + delta))
            self._mark()

    def _mark(self) -> None:
        for i, row in enumerate(self.rows):
            row.set_class(i == self.selected, "-selected")
