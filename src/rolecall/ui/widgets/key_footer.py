"""KeyFooter: the footer, with the keys you cannot do without pinned to its right end.

Textual's footer lists the keys left to right and cuts what does not fit; on a small terminal
that hid `?` and `q`. Here the `PINNED` actions' keys and the palette key sit in one group
docked on the right, so they stay on screen at any width, and the rest fill the space left.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PINNED = ("help", "quit", "command_palette", "app.command_palette")
"""Actions whose keys are always shown (`enter`, assume, comes first among the rest)."""


class KeyFooter(Footer):
    """A footer whose `PINNED` keys are always visible."""

    DEFAULT_CSS = """
    KeyFooter #pinned-keys {
        dock: right;
        width: auto;
        height: 1;
        padding-left: 1;
        border-left: vkey $foreground 20%;
    }
    KeyFooter #pinned-keys FooterKey.-command-palette {
        dock: none;
    }
    """

    def compose(self) -> ComposeResult:
        pinned: list[FooterKey] = []
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.action in PINNED:
                pinned.append(widget)
            else:
                yield widget
        if pinned:  # none before the bindings are ready (the first frame): no empty group
            with HorizontalGroup(id="pinned-keys"):
                yield from pinned

    def on_mount(self) -> None:  # Footer's own `on_mount` runs as well (Textual calls both)
        # Textual's footer waits for the screen's next bindings update; this one is added to a
        # running app (after its first frame), so it shows the bindings of the moment at once.
        self.bindings_changed(self.screen)
