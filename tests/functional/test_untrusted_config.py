"""Another local user's config directory is refused, never obeyed (security review #5).

The second user prepares `ROLECALL_HOME/config` in a shared directory with a catalogue and a
`[console] browser` command that writes a marker; the victim's rolecall must refuse with a
sentence naming the path, and the command must never run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.aws import FakeSts
from tests.conftest import EXAMPLE, World
from tests.second_user import needs_second_user, run_as_second_user, shared_dir

__all__ = ["shared_dir"]  # the fixture


def plant_config(shared: Path) -> tuple[Path, Path]:
    """As the second user: ROLECALL_HOME/config with a hostile browser; (home, marker)."""
    home = shared / "home"
    marker = shared / "marker"
    evil = shared / "evil-browser"
    setup = run_as_second_user(
        [
            "sh",
            "-c",
            'mkdir -p "$H/config" && printf "%s" "$T" > "$H/config/config.toml" '
            '&& printf "%s" "$C" > "$H/config/accounts.toml" '
            '&& printf "%s" "$B" > "$E" && chmod 755 "$E"',
        ],
        env={
            "PATH": "/usr/bin:/bin",
            "H": str(home),
            "E": str(evil),
            "T": f'[console]\nbrowser = ["{evil}", "{{url}}"]\n',
            "C": EXAMPLE.read_text(),
            "B": f"#!/bin/sh\necho ran > {marker}\n",
        },
    )
    assert setup.returncode == 0, setup.stderr
    return home, marker


@needs_second_user
@pytest.mark.parametrize(
    ("command", "named_catalogue"),
    [
        (("list",), False),
        (("check",), False),
        (("console", "payments-dev/Developer"), False),
        (("console", "payments-dev/Developer"), True),  # our catalogue, their config.toml
    ],
)
def test_a_config_dir_of_another_user_is_refused(
    shared_dir: Path,
    tmp_path: Path,
    fake_sts: FakeSts,
    command: tuple[str, ...],
    named_catalogue: bool,
) -> None:
    home, marker = plant_config(shared_dir)
    world = World(tmp_path, fake_sts.url)
    world.env["ROLECALL_HOME"] = str(home)
    world.env["BROWSER"] = f"{sys.executable} -c pass"  # never a real browser
    if not named_catalogue:
        del world.env["ROLECALL_CATALOGUE"]
    result = world.run(*command)
    assert result.returncode in (1, 2), result.stdout
    assert not marker.exists(), "the other user's browser command ran"
    first, hint = result.stderr.splitlines()[:2]
    assert first.startswith(f"rolecall: {home / 'config'}")
    assert first.endswith(" belongs to another user.")
    assert hint == "  hint: point ROLECALL_HOME at a directory of your own"
    assert not result.stdout


@needs_second_user
def test_a_rolecall_home_of_another_user_is_refused_for_state(
    shared_dir: Path, tmp_path: Path, fake_sts: FakeSts
) -> None:
    """Our catalogue, their (empty) ROLECALL_HOME: the journal is refused."""
    home = shared_dir / "home"
    setup = run_as_second_user(["mkdir", "-m", "755", str(home)], env={"PATH": "/usr/bin:/bin"})
    assert setup.returncode == 0, setup.stderr
    world = World(tmp_path, fake_sts.url)
    world.env["ROLECALL_HOME"] = str(home)
    result = world.run("env", "payments-dev/Developer")
    assert result.returncode == 1
    assert f"rolecall: {home}" in result.stderr and "belongs to another user." in result.stderr
    assert "AWS_SECRET_ACCESS_KEY" not in result.stdout
