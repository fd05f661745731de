"""The IAM Identity Center sign-in dialogs: the offer to sign in, then what to do meanwhile
(the device code and its page, or the wait for the browser) with a countdown and Cancel.

Assumes and keep-alive renewals show the same two dialogs. Each masks account ids when given
`presenter`; the addresses are shown in a read-only text area so they can be selected (for a
browser elsewhere) or copied with `y` (they hold no secret: the verifier never leaves).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from rolecall.core.lifecycle.sso_signin import SIGN_IN_TIMEOUT, SignInPrompt
from rolecall.core.text import inert
from rolecall.ui.presenter import mask
from rolecall.ui.screens.modals import MODAL_CSS, shown_text


def offer_title(start_url: str) -> str:
    """The question both paths ask."""
    return f"Sign in to IAM Identity Center ({start_url}) to continue?"


def countdown(seconds: float) -> str:
    """`9:58`, or `1:02:03` past the hour."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class SignInScreen(ModalScreen[str | None]):
    """Offers to sign in so that an assume or a renewal can go on; dismisses with the flow
    chosen (`browser` or `device`), or None."""

    DEFAULT_CSS = MODAL_CSS.format(name="SignInScreen")
    BINDINGS = [
        Binding("enter", "sign_in", "Sign in", id="signin.confirm"),
        Binding("d", "device_code", "Use a device code", id="signin.device_code"),
        Binding("escape", "cancel", "Cancel", id="signin.cancel"),
    ]

    def __init__(
        self,
        start_url: str,
        reason: str,
        device: bool = False,
        presenter: bool = False,
        declining: str = "cancel",
    ) -> None:
        super().__init__()
        self.start_url = start_url
        self.reason = reason
        """What needs the sign-in, and why."""
        self.device = device
        """The device code is the default here (no display, SSH, or the demo)."""
        self.presenter = presenter
        """Mask account ids."""
        self.declining = declining
        """What escape does, in words."""

    def compose(self) -> ComposeResult:
        shown = partial(shown_text, presenter=self.presenter)
        with Vertical():
            yield Static(shown(offer_title(self.start_url)), classes="title")
            yield Static(shown(self.reason))
            if self.device:
                keys = f"enter: sign in with a device code  ·  escape: {self.declining}"
            else:
                keys = (
                    "enter: sign in in the browser  ·  d: use a device code instead  ·  "
                    f"escape: {self.declining}"
                )
            yield Static(Text(keys, style="dim"), classes="hint")

    def action_sign_in(self) -> None:
        self.dismiss("device" if self.device else "browser")

    def action_device_code(self) -> None:
        self.dismiss("device")

    def action_cancel(self) -> None:
        self.dismiss(None)


class SignInProgressScreen(ModalScreen[None]):
    """While the sign-in runs (in a thread): the device code and where to enter it, or the
    wait for the browser; a countdown; Cancel (escape), which sets `cancel` at once.

    The app dismisses it when the sign-in ends.
    """

    DEFAULT_CSS = MODAL_CSS.format(name="SignInProgressScreen").replace(
        "width: 72", "width: 90%"
    ) + (
        "SignInProgressScreen TextArea { height: 4; }\n"
        "SignInProgressScreen #user-code { text-style: bold; color: $accent; margin: 1 0; }\n"
        "SignInProgressScreen #countdown { margin-top: 1; }\n"
        "SignInProgressScreen Button { margin-top: 1; }\n"
    )
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="signin.stop"),
        Binding("y", "copy", "Copy the address", priority=True, id="signin.copy"),
    ]

    def __init__(
        self,
        prompt: SignInPrompt,
        start_url: str,
        cancel: threading.Event,
        clock: Callable[[], datetime],
        presenter: bool = False,
        note: str | None = None,
    ) -> None:
        super().__init__()
        self.prompt = prompt
        self.start_url = start_url
        self.cancel = cancel
        """Stops the sign-in (its thread looks at it every tenth of a second)."""
        self.clock = clock
        self.presenter = presenter
        """Mask account ids."""
        self.note = note
        """An extra line (the demo says how its sign-in is approved)."""
        seconds = prompt.expires_in if prompt.expires_in is not None else SIGN_IN_TIMEOUT
        self.expires_at = clock() + timedelta(seconds=seconds)
        """When the code expires (device) or the wait for the browser ends."""

    @property
    def device(self) -> bool:
        """The device code flow (else the browser with PKCE)."""
        return self.prompt.flow == "device"

    def compose(self) -> ComposeResult:
        shown = partial(shown_text, presenter=self.presenter)
        prompt = self.prompt
        with Vertical():
            if self.device:
                yield Static(
                    shown(f"Sign in to IAM Identity Center ({self.start_url})"), classes="title"
                )
                yield Static(shown("On any device, open this page and enter the code:"))
                yield TextArea(
                    inert(mask(prompt.url, self.presenter)), read_only=True, id="address"
                )
                yield Static(shown(prompt.user_code or ""), id="user-code")
                if prompt.url_with_code:
                    yield Static(shown(f"or open, with the code filled in: {prompt.url_with_code}"))
            else:
                yield Static(Text("Waiting for the browser…"), classes="title")
                yield Static(
                    shown(
                        f"Sign in to IAM Identity Center ({self.start_url}) in the browser that "
                        "opened. If none did, open this address in one; it hands the sign-in "
                        "back to 127.0.0.1 on this machine (elsewhere, forward that port or "
                        "cancel and use a device code):"
                    )
                )
                yield TextArea(
                    inert(mask(prompt.url, self.presenter)),
                    read_only=True,
                    soft_wrap=True,
                    id="address",
                )
            yield Static("", id="countdown")
            if self.note:
                yield Static(shown(self.note), classes="hint")
            yield Static(Text("escape: cancel  ·  y: copy the address", style="dim"))
            yield Button("Cancel", id="cancel", variant="error")

    def on_mount(self) -> None:
        self.show_countdown()
        self.set_interval(1, self.show_countdown)

    def show_countdown(self) -> None:
        """The time left, from the injected clock."""
        left = (self.expires_at - self.clock()).total_seconds()
        if self.device:
            text = (
                f"The code expires in {countdown(left)}." if left > 0 else "The code has expired."
            )
        else:
            text = f"Waiting {countdown(left)} more." if left > 0 else "No answer in time."
        self.query_one("#countdown", Static).update(Text(text))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.cancel.set()
        self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.prompt.url_with_code or self.prompt.url)
        self.app.notify("Address copied.")
