"""`rolecall` alone: the TUI's own start-up path, and what it leaves to the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rolecall.ui import launch
from tests.conftest import EXAMPLE, isolated_env


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
