"""SessionsPanel: the session cache as it is, most urgent first, with a countdown that ticks
each second, which sessions rolecall keeps alive (and serves to a child), and which are the
hub hops that chained roles reuse."""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from rolecall.core.credentials import Session
from rolecall.core.text import inert
from rolecall.core.workspace import ActiveSession
from rolecall.ui.presenter import mask
from rolecall.ui.widgets.columns import cut, fit

EXPIRING = 10 * 60
"""Below this many seconds a session is shown as expiring."""
CRITICAL = 2 * 60
"""Below this many seconds it is critical."""
HUB = "hub hop"
"""The note on a session that chained roles reuse as their first hop."""
SHARE = 16
"""Cells a column leaves for each later one when the row is too narrow for all."""


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


class SessionRow(Widget):
    """One session: time left, target, session name, and what keeps it (or what it is)."""

    DEFAULT_CSS = """
    SessionRow { height: auto; }
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
        self.hub = False
        """The session is a chain's first hop, cached and reused by the roles behind it."""
        self.left = 0.0
        """Seconds left when last shown."""
        self.presenter = False
        """Mask account ids."""
        self.widths = (0, 0, 0)
        """What the target, session-name and note columns want (the panel's widest)."""

    def note(self) -> str:
        """The last column: kept, hub hop."""
        notes = [self.kept] if self.kept else []
        if self.hub:
            notes.append(HUB)
        return " · ".join(notes)

    def show(self, now: datetime, presenter: bool) -> str:
        """Update the time left and classes; return the stage."""
        self.left = self.active.session.remaining(now)
        self.presenter = presenter
        self.stage = stage(self.left)
        for name in ("expiring", "critical", "expired"):
            self.set_class(self.stage == name, f"-{name}")
        self.refresh()
        return self.stage

    def render(self) -> Text:
        session = self.active.session
        target = inert(mask(session.target, self.presenter))
        name = inert(mask(session.session_name, self.presenter))
        note = self.note()
        text = Text()
        text.append(f"{countdown(self.left):>8}  ", style="bold")
        room = self.size.width - 10
        if room <= 0:  # not laid out yet: everything, uncut
            text.append(f"{target}  ")
            text.append(name, style="dim")
            if note:
                text.append(f"  {note}", style="bold")
        else:
            want_target, want_name, want_note = self.widths
            columns = split(room, [max(want_target, 1), want_name, want_note])
            text.append(fit(target, columns[0]))
            if columns[1]:
                text.append("  " + fit(name, columns[1]), style="dim")
            if note and columns[2]:
                text.append("  " + cut(note, columns[2]), style="bold")
        if self.stage == "expired" and self.reason:  # a line of its own, never cut
            reason = inert(mask(self.reason, self.presenter))
            text.append(f"\n{'':10}renewal failed: {reason}")
        return text


def split(room: int, wants: list[int]) -> list[int]:
    """Widths for columns that want `wants` cells, in `room` cells with two between each:
    every column gets what it wants if it can; otherwise each earlier column leaves the later
    ones up to `SHARE` cells, and a column left with fewer than 4 is dropped."""
    widths = []
    for index, want in enumerate(wants):
        later = sum(min(w, SHARE) + 2 for w in wants[index + 1 :] if w)
        width = min(want, max(room - later, min(want, SHARE)), room)
        width = width if width >= 4 or width == want else 0
        widths.append(width)
        room -= width + 2
    return widths


class SessionsPanel(VerticalScroll, can_focus=True):
    """The sessions in the cache, most urgent first; the app ticks it once a second."""

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
        self.hubs: set[str] = set()
        """Cache keys of sessions that are a chain's first hop (set by the app)."""
        self._rows: list[SessionRow] = []

    def compose(self) -> ComposeResult:
        yield Static("No active sessions. Press enter on a role to assume it.", id="empty")

    @property
    def rows(self) -> list[SessionRow]:
        """The session rows, in order."""
        return list(self._rows)

    @property
    def sessions(self) -> list[ActiveSession]:
        """The sessions shown."""
        return [row.active for row in self._rows]

    def current(self) -> ActiveSession | None:
        """The selected session, if any."""
        rows = self._rows
        return rows[self.selected].active if 0 <= self.selected < len(rows) else None

    def add(self, active: ActiveSession, now: datetime) -> None:
        """Show `active` (selected), replacing a session with the same cache key."""
        for row in self._rows:
            if row.active.key == active.key:
                self._drop(row)
        row = SessionRow(active)
        self._rows.append(row)
        self.mount(row)
        row.show(now, self.presenter)
        self._arrange(now, select=active.key)

    def replace(self, active: ActiveSession, now: datetime) -> None:
        """Show `active` in place of the session with the same cache key (a renewal)."""
        for row in self._rows:
            if row.active.key == active.key:
                row.active = active
                row.reason = None
                row.show(now, self.presenter)
        self._arrange(now)

    def keeping(self, key: str, kept: str, reason: str | None, now: datetime) -> None:
        """Say what keeps the session with cache key `key` alive, and why renewing failed."""
        for row in self._rows:
            if row.active.key == key and (row.kept, row.reason) != (kept, reason):
                row.kept, row.reason = kept, reason
                row.show(now, self.presenter)
                self._arrange(now)

    def discard(self, active: ActiveSession) -> None:
        """Stop showing `active`."""
        for row in self._rows:
            if row.active.key == active.key:
                self._drop(row)
        self._arrange(None)

    def sync(self, cached: list[ActiveSession], now: datetime) -> list[ActiveSession]:
        """Show the cache as it is: rows whose file is gone go, renewed ones take the new
        session (keeping how they were assumed), live new ones come; return the gone."""
        by_key = {active.key: active for active in cached}
        gone = []
        for row in list(self._rows):
            found = by_key.pop(row.active.key, None)
            if found is None:
                gone.append(row.active)
                self._drop(row)
            elif not same(found.session, row.active.session):
                row.active = row.active._replace(session=found.session)
                row.reason = None
        for active in by_key.values():
            if active.session.remaining(now) > 0:
                row = SessionRow(active)
                self._rows.append(row)
                self.mount(row)
        self.tick(now)
        return gone

    def tick(self, now: datetime) -> None:
        """Recompute every countdown; post ThresholdCrossed when a stage changes."""
        for row in self._rows:
            before = row.stage
            row.hub = row.active.key in self.hubs
            after = row.show(now, self.presenter)
            if after not in (before, "ok"):
                self.post_message(self.ThresholdCrossed(row.active, after))
        self._arrange(now)

    def action_select(self, delta: int) -> None:
        if self._rows:
            self.selected = max(0, min(len(self._rows) - 1, self.selected + delta))
            self._mark()

    def _drop(self, row: SessionRow) -> None:
        self._rows.remove(row)
        row.remove()

    def _arrange(self, now: datetime | None, select: str | None = None) -> None:
        """Most urgent first (expired last), column widths from every row, the selection
        kept on the same session."""
        selected = self.current()
        current = select or (selected.key if selected else None)
        if now is not None:
            ordered = sorted(self._rows, key=lambda r: (r.left <= 0, r.left))
            if ordered != self._rows:
                for index, row in enumerate(ordered[1:]):
                    self.move_child(row, after=ordered[index])
                self._rows = ordered
        widths = (
            max((cell_len(r.active.session.target) for r in self._rows), default=0),
            max((cell_len(r.active.session.session_name) for r in self._rows), default=0),
            max((cell_len(r.note()) for r in self._rows), default=0),
        )
        for row in self._rows:
            if row.widths != widths:
                row.widths = widths
                row.refresh()
        keys = [row.active.key for row in self._rows]
        if current in keys:
            self.selected = keys.index(current)
        self.selected = min(self.selected, max(len(self._rows) - 1, 0))
        self.query_one("#empty").display = not self._rows
        self._mark()

    def _mark(self) -> None:
        for i, row in enumerate(self._rows):
            row.set_class(i == self.selected, "-selected")


def same(one: Session, other: Session) -> bool:
    """The same credentials (a renewal changes the key id and the expiry)."""
    return (one.credentials.access_key_id, one.expiration) == (
        other.credentials.access_key_id,
        other.expiration,
    )
