"""SearchInput: the search box, filtering in the same frame as the keystroke."""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class SearchInput(Input):
    """An Input that calls `on_change` from its value watcher, and that `escape` or `down`
    leave for the list (the search stays).

    Input.Changed would reach the app a few message hops later, after the box has already
    painted its new text, so the list would follow one frame (>= 16 ms) behind every key.
    """

    BINDINGS = [
        Binding("escape", "leave", "Back to the list", show=False, id="search.leave"),
        Binding("down", "leave", "Into the list", show=False, id="search.down"),
    ]

    class Left(Message):
        """The user left the search box for the list."""

    def __init__(self, on_change: Callable[[str], None], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.on_change = on_change
        """Called with the new text whenever it changes."""

    def watch_value(self, value: str) -> None:
        self.on_change(value)

    def action_leave(self) -> None:
        self.post_message(self.Left())
