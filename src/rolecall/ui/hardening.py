"""The app's base: leaving cleanly when the terminal goes away, crashing in one line, and
warning about settings that copy the screen elsewhere; plus freezing start-up garbage."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual.app import App, SystemCommand
from textual.screen import Screen

from rolecall.core.workspace import Workspace


class HardenedApp(App[int]):
    """An app over a `Workspace` that survives a hung-up terminal and fails without a trace."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        """Everything the app works on."""
        self.hangup_hooks: list[Callable[[], None]] = []
        """Clean-up to run if the terminal disappears (the demo removes its world)."""

    def _exit_on_signals(self) -> None:
        """Leave cleanly (terminal restored, demo world removed) when the terminal goes away
        (SIGHUP: ssh dropped, tmux killed) or someone asks (SIGTERM). Without this the app
        would keep spinning on a dead terminal."""
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGTERM, self.exit)
            loop.add_signal_handler(signal.SIGHUP, self._hang_up)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            return
        if not self.is_headless:
            # SIGHUP goes to the terminal's foreground group: if the terminal dies while a
            # subshell holds it, we never hear of it. So also look every few seconds.
            self.set_interval(3, self._check_terminal)

    def _check_terminal(self) -> None:
        import os
        import sys

        stream = sys.__stdin__
        if stream is None:
            return
        try:
            os.tcgetpgrp(stream.fileno())
        except OSError:  # EIO/ENOTTY: the terminal was hung up
            self._hang_up()

    def _hang_up(self) -> None:
        """The terminal is gone: nothing can be drawn or restored, and an orderly shutdown
        would block writing to the dead terminal. Run the clean-up hooks and leave."""
        import contextlib
        import os

        for hook in self.hangup_hooks:
            with contextlib.suppress(Exception):  # best effort on the way out
                hook()
        os._exit(129)

    def _warn_about_leaky_settings(self) -> None:
        """Textual features that copy the screen or the log elsewhere: say so up front."""
        env = self.workspace.env
        leaks = [
            name
            for name, risky in (
                ("TEXTUAL_SCREENSHOT", "TEXTUAL_SCREENSHOT" in env),
                ("TEXTUAL_LOG", "TEXTUAL_LOG" in env),
                ("TEXTUAL=devtools", "devtools" in env.get("TEXTUAL", "")),
            )
            if risky
        ]
        if leaks:
            self.notify(
                f"{', '.join(leaks)} is set: the screen or the log is being copied elsewhere. "
                "Unset it before you assume anything sensitive.",
                title="Warning",
                severity="warning",
                timeout=15,
                markup=False,
            )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The system commands, minus "Screenshot": it writes an SVG of the screen to the
        current directory with default permissions."""
        for command in super().get_system_commands(screen):
            if "screenshot" not in command.title.lower():
                yield command

    def _fatal_error(self) -> None:
        """A crash: restore the terminal, exit non-zero, print one line and no locals."""
        self.bell()
        if self.workspace.env.get("ROLECALL_DEBUG"):
            from rich.segment import Segments
            from rich.traceback import Traceback

            trace = Traceback(show_locals=False, width=None)
            self._exit_renderables.append(
                Segments(self.console.render(trace, self.console.options))
            )
        self._exit_renderables.append(
            Text(
                "rolecall: unexpected internal error; this is a bug. "
                "Run `rolecall` again with ROLECALL_DEBUG=1 to see where.",
                style="bold red",
            )
        )
        self._close_messages_no_wait()


def settle_garbage() -> None:
    """Move what start-up built (catalogue, styles, boto3's models) out of the collector's
    reach: a full collection over it would otherwise pause typing for 40-150 ms."""
    import gc

    gc.freeze()


def resume_collection() -> None:
    """After the first frame: freeze what start-up built (`settle_garbage`) and turn the
    collector back on (`rolecall.ui.launch.hold_collector` turned it off)."""
    import gc

    settle_garbage()
    gc.enable()
