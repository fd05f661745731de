"""`rolecall` alone: the TUI's own start-up path, and what it leaves to the command line."""

from __future__ import annotations

import gc
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from rolecall import entry
from rolecall.ui import launch
from rolecall.ui.widgets.catalogue_list import CatalogueList
from tests.aws import RecordingProxy
from tests.conftest import EXAMPLE, isolated_env
from tests.functional.tui_support import build_app


def test_without_a_terminal_the_command_line_says_so(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    env["ROLECALL_CATALOGUE"] = str(EXAMPLE)
    result = subprocess.run(
        [sys.executable, "-m", "rolecall"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "the rolecall TUI needs a terminal." in result.stderr
    assert launch.prepared_app(env) is None  # pytest's stdin is no terminal either


class Crashing:
    return_code = None

    def run(self) -> None:
        raise RuntimeError("canary-secret-in-a-local")


def test_a_crash_escaping_the_app_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROLECALL_DEBUG", raising=False)
    assert launch.run(Crashing()) == 1  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert err.startswith("rolecall: unexpected internal error (RuntimeError); this is a bug.")
    assert "canary" not in err and "Traceback" not in err


async def test_the_collector_is_off_until_the_first_frame_then_back_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    launch.hold_collector()  # what `prepared_app` does before its imports
    try:
        assert not gc.isenabled()
        app = build_app(tmp_path, sts.url, monkeypatch)
        assert not gc.isenabled()  # building the app does not turn it on early
        seen: list[bool] = []
        reorder = app._reorder

        def watched_reorder() -> None:  # the list's rows are made in `on_mount`
            seen.append(gc.isenabled())
            reorder()

        app._reorder = watched_reorder  # type: ignore[method-assign]
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            assert app.query_one(CatalogueList).rows  # the first frame is drawn
            assert gc.isenabled()
            assert app.footer is not None and app.footer.is_attached
        assert seen[:1] == [False]  # still off while the app mounted
    finally:
        gc.enable()


def test_a_start_that_falls_back_to_the_command_line_turns_the_collector_back_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(sys, "stdout", Terminal())
    env = isolated_env(tmp_path)
    env["ROLECALL_CATALOGUE"] = str(tmp_path / "missing.toml")
    try:
        assert launch.prepared_app(env) is None  # the command line reports the catalogue
        assert gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("argv", "catalogue"),
    [
        ([], None),
        (["--catalogue", "team.toml"], "team.toml"),
        (["--catalogue=team.toml"], "team.toml"),
        (["--catalogue"], None),
        (["--catalogue="], None),
        (["--catalogue", "team.toml", "list"], None),
        (["list", "--catalogue", "team.toml"], None),
        (["--cat", "team.toml"], None),  # argparse's abbreviations are the command line's
    ],
)
def test_which_command_lines_open_the_tui_on_the_fast_path(
    argv: list[str], catalogue: str | None
) -> None:
    assert entry.tui_catalogue(argv) == catalogue


PROBE = """
import sys
from rolecall.ui import launch

def run(app):
    print("cli loaded:", "rolecall.cli" in sys.modules, end=" ")
    print("argparse loaded:", "argparse" in sys.modules)
    print("catalogue:", app.workspace.catalogue.path)
    return 0

launch.run = run
sys.argv = ["rolecall", *sys.argv[1:]]
from rolecall import entry
entry.run()
"""


@pytest.mark.parametrize("shape", ["--catalogue", "--catalogue="])
def test_the_tui_on_a_named_catalogue_starts_without_the_command_line(
    tmp_path: Path, shape: str
) -> None:
    env = isolated_env(tmp_path)
    env.pop("ROLECALL_CATALOGUE", None)
    args = [shape, str(EXAMPLE)] if shape == "--catalogue" else [shape + str(EXAMPLE)]
    primary, secondary = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, *args],
            stdin=secondary,
            stdout=secondary,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
        os.close(secondary)
        secondary = -1
        shown = b""
        while select.select([primary], [], [], 0.5)[0]:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: nothing is left to read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if secondary >= 0:
            os.close(secondary)
        os.close(primary)
    text = shown.decode()
    assert done.returncode == 0, done.stderr
    assert "cli loaded: False argparse loaded: False" in text
    assert f"catalogue: {EXAMPLE}" in text


async def test_a_quit_before_the_first_frame_is_followed_up_is_no_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    # `rolecall` then `q` at once: the app is closing when its after-first-frame step runs.
    launch.hold_collector()
    try:
        app = build_app(tmp_path, sts.url, monkeypatch)
        after_first_frame = app._after_first_frame

        def quit_first() -> None:
            app.exit()
            after_first_frame()

        app._after_first_frame = quit_first  # type: ignore[method-assign]
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
        assert app.return_code in (None, 0)  # a crash would have set 1
        assert app.footer is None  # nothing was mounted on the closing app
        assert gc.isenabled()
    finally:
        gc.enable()


async def test_a_short_narrow_terminal_clips_the_panes_and_never_scrolls_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts: RecordingProxy
) -> None:
    app = build_app(tmp_path, sts.url, monkeypatch)
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert not screen.show_vertical_scrollbar and not screen.show_horizontal_scrollbar
        assert not screen.allow_vertical_scroll and not screen.allow_horizontal_scroll
