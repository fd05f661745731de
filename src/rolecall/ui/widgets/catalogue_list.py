"""CatalogueList: a line-API list that stays instant at 50,000 roles.

Only the visible lines are rendered, and changing the filter swaps a list of integers, so a
keystroke costs the search itself plus one repaint (DataTable, ListView and an uncapped
OptionList measure every row on every update).
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from rolecall.core.catalogue.model import Catalogue, Role
from rolecall.core.text import inert
from rolecall.ui.presenter import mask
from rolecall.ui.widgets.columns import cut, fit

ACCOUNT_COLORS = {
    "blue": "blue",
    "turquoise": "cyan",
    "green": "green",
    "yellow": "yellow",
    "orange": "dark_orange",
    "red": "red",
    "pink": "magenta",
    "purple": "purple",
}
"""Terminal colours for the catalogue's account colours."""

# A row's styles, made once: a row is drawn for every visible line of every frame.
_PLAIN = Style()
_CURSOR = Style(bgcolor="#2f4a6d", bold=True)
"""The highlighted row while the list has focus."""
_CURSOR_UNFOCUSED = Style(bgcolor="#333333", bold=True)
_MARK = Style(color="cyan", bold=True)
_STAR = Style(color="yellow")
_LIVE = Style(color="green")
_PROD = Style(color="red", bold=True)
_ACCOUNT = {name: Style(color=color, bold=True) for name, color in ACCOUNT_COLORS.items()}
_ACCOUNT_DEFAULT = Style(color="default", bold=True)
_ID = Style(dim=True)
_TAGS = Style(italic=True, dim=True)

ID_COLUMN = 14
"""Two spaces and a 12-digit account id: always shown whole."""
MIN_TARGET = 12
"""The ACCOUNT/ROLE column is never cut narrower than this."""


class CatalogueList(ScrollView, can_focus=True):
    """The filtered, ordered catalogue; one line per role."""

    DEFAULT_CSS = """
    CatalogueList {
        height: 1fr;
        scrollbar-gutter: stable;
    }
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="list.up"),
        Binding("down", "move(1)", "Down", show=False, id="list.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("home", "jump(0)", "First", show=False, id="list.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="list.last"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Position of the highlighted row within `rows`."""

    class Highlighted(Message):
        """The highlighted role changed (None when the list is empty)."""

        def __init__(self, index: int | None) -> None:
            super().__init__()
            self.index = index
            """Catalogue position of the highlighted role."""

    class Chosen(Message):
        """The user pressed enter on (or double-clicked) a role."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index
            """Catalogue position of the chosen role."""

    def __init__(self, catalogue: Catalogue, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.catalogue = catalogue
        """Where rows come from."""
        self.rows: list[int] = []
        """Catalogue positions, in display order."""
        self.favourites: set[str] = set()
        """Targets to mark with a star (set by the app)."""
        self.active: set[str] = set()
        """Targets with a live session (marked with a dot)."""
        self.presenter = False
        """Mask account ids."""
        self.marked: set[str] = set()
        """Targets marked for running one command across them (set by the app). The mark
        column is shown only while something is marked."""
        self.target_width = 24
        """Width the ACCOUNT/ROLE column wants (from the rows near the top; cut with `…`
        when the list is narrower)."""

    def set_rows(self, rows: list[int]) -> None:
        """Show `rows` (catalogue positions) and highlight the first."""
        self.rows = rows
        widths = [len(self.catalogue.line(i).partition(" ")[0]) for i in rows[:500]]
        self.target_width = min(max(widths, default=24), 60)
        self.virtual_size = Size(self.size.width, len(rows))
        self.scroll_to(0, 0, animate=False)
        self.cursor = 0
        self.refresh()

    @property
    def highlighted(self) -> int | None:
        """Catalogue position of the highlighted role, or None."""
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def watch_cursor(self, cursor: int) -> None:
        if self.rows:
            self.scroll_to_region(Region(0, cursor, 1, 1), animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Highlighted(self.highlighted))

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, where: int) -> None:
        if self.rows:
            self.cursor = where if where >= 0 else len(self.rows) - 1

    def on_click(self, event: events.Click) -> None:
        row = event.y + int(self.scroll_y)
        if 0 <= row < len(self.rows):
            self.cursor = row
            if event.chain == 2:
                self.post_message(self.Chosen(self.rows[row]))

    def render_line(self, y: int) -> Strip:
        row = y + int(self.scroll_y)
        width = self.scrollable_content_region.width
        if row >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        role = self.catalogue.role_at(self.rows[row])
        selected = row == self.cursor
        strip = Strip(self._segments(role, selected, width))
        return strip.crop(int(self.scroll_x), int(self.scroll_x) + width).extend_cell_length(
            width, self._row_style(selected)
        )

    def _row_style(self, selected: bool) -> Style:
        if not selected:
            return _PLAIN
        return _CURSOR if self.has_focus else _CURSOR_UNFOCUSED

    def _segments(self, role: Role, selected: bool, width: int) -> list[Segment]:
        """One row in `width` cells: marks, ACCOUNT/ROLE (cut with `…` when it must be),
        the whole 12-digit account id, then the tags in what is left."""
        base = self._row_style(selected)
        target = role.target
        segments = []
        used = 9  # star, live dot, PROD
        if self.marked:
            mark = "✓ " if target in self.marked else "  "
            segments.append(Segment(mark, base + _MARK))
            used += 2
        segments += [
            Segment("★ " if target in self.favourites else "  ", base + _STAR),
            Segment("● " if target in self.active else "  ", base + _LIVE),
            Segment("PROD " if role.is_prod else "     ", base + _PROD),
        ]
        # Ids are never shortened: the target gives way first, then the tags.
        column = max(min(self.target_width, width - used - ID_COLUMN), MIN_TARGET)
        account = inert(mask(role.account, self.presenter))
        name = "/" + inert(mask(role.name, self.presenter))
        shown = fit(account + name, column)
        head = len(account) if shown.startswith(account) else len(shown)
        segments += [
            Segment(shown[:head], base + _ACCOUNT.get(role.color or "", _ACCOUNT_DEFAULT)),
            Segment(shown[head:], base),
            Segment(f"  {mask(role.account_id, self.presenter)}", base + _ID),
        ]
        room = width - used - column - ID_COLUMN - 2
        tags = ",".join(role.tags)
        if tags and room >= 2:
            segments.append(Segment(f"  {cut(inert(tags), room)}", base + _TAGS))
        return segments
