"""Copying secrets from the TUI (security review #6): inside tmux, never through the terminal.

tmux with `set-clipboard on` keeps OSC 52 copies in its paste buffers, past the 60 s clearing
and past the app; there the system clipboard tool is used, with the detached clearer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rolecall.core.console import clipboard
from rolecall.ui.app import RolecallApp
from rolecall.ui.widgets.sessions_panel import SessionsPanel
from tests.aws import FakeSts
from tests.functional.test_tui import SIZE, go_to, notifications, wait_for
from tests.functional.tui_support import build_app

OSC_52 = "\x1b]52;"


def fake_xclip(tmp_path: Path) -> tuple[Path, Path]:
    """A clipboard tool on PATH that records what it got on stdin; (bin dir, record)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "clip"
    tool = bin_dir / "xclip"
    tool.write_text(f"#!/bin/sh\ncat >> {record}\n")
    tool.chmod(0o755)
    return bin_dir, record


def watch_terminal(app: RolecallApp) -> list[str]:
    """Everything the app writes to its (headless) terminal from now on."""
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    original = driver.write

    def write(data: str) -> None:
        written.append(data)
        original(data)

    driver.write = write  # type: ignore[method-assign]
    return written


async def assume_and_copy(app: RolecallApp) -> list[str]:
    async with app.run_test(size=SIZE) as pilot:
        written = watch_terminal(app)
        await go_to(pilot, "payments-dev/Developer")
        await pilot.press("enter")
        panel = app.query_one(SessionsPanel)
        await wait_for(pilot, lambda: bool(panel.sessions))
        await pilot.press("y")
        await wait_for(
            pilot, lambda: any("copied" in m or "Not copied" in m for m in notifications(app))
        )
        await pilot.pause()
        return [*notifications(app), *(OSC_52 for w in written if OSC_52 in w)]


async def test_inside_tmux_exports_go_to_the_clipboard_tool_and_are_cleared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    bin_dir, record = fake_xclip(tmp_path)
    cleared: list[tuple[str, int]] = []
    monkeypatch.setattr(clipboard, "schedule_clear", lambda text, s=60: cleared.append((text, s)))
    env = {"TMUX": "/tmp/tmux-0/default,1,0", "PATH": f"{bin_dir}:/usr/bin:/bin"}
    app = build_app(tmp_path, fake_sts.url, monkeypatch, extra_env=env)
    seen = await assume_and_copy(app)
    assert OSC_52 not in seen, "a secret went through the terminal inside tmux"
    assert app.clipboard == ""
    assert fake_sts.secret in record.read_text()
    assert [text for text, _ in cleared] == [record.read_text()]
    assert cleared[0][1] == 60
    assert any("copied; the clipboard is cleared in 60 s." in m for m in seen), seen


async def test_inside_tmux_without_a_clipboard_tool_nothing_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {"TMUX": "/tmp/tmux-0/default,1,0", "PATH": str(empty)}
    app = build_app(tmp_path, fake_sts.url, monkeypatch, extra_env=env)
    seen = await assume_and_copy(app)
    assert OSC_52 not in seen
    assert app.clipboard == ""
    assert any(m.startswith("Not copied: inside tmux") for m in seen), seen


async def test_outside_tmux_the_terminal_copies_and_clears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sts: FakeSts
) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    app = build_app(tmp_path, fake_sts.url, monkeypatch)
    seen = await assume_and_copy(app)
    assert OSC_52 in seen
    assert fake_sts.secret in app.clipboard
    assert any("the clipboard is cleared in 60 s if rolecall is still running" in m for m in seen)
