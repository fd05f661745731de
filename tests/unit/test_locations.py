"""Where files live: ROLECALL_HOME, XDG variables, and platformdirs' answers on Linux."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from rolecall.core.locations import Locations, catalogue_path


def test_rolecall_home_moves_everything(tmp_path: Path) -> None:
    locations = Locations.from_env({"ROLECALL_HOME": str(tmp_path)})
    assert locations.default_catalogue == tmp_path / "config" / "accounts.toml"
    assert locations.sessions_dir == tmp_path / "cache" / "sessions"
    assert locations.journal_file == tmp_path / "state" / "journal.jsonl"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG rules are Linux's")
@pytest.mark.parametrize("xdg", [True, False])
def test_linux_directories_match_platformdirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: bool
) -> None:
    env = {"HOME": str(tmp_path / "home")}
    if xdg:
        env |= {
            "XDG_CONFIG_HOME": str(tmp_path / "c"),
            "XDG_CACHE_HOME": str(tmp_path / "k"),
            "XDG_STATE_HOME": str(tmp_path / "s"),
        }
    for key in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    locations = Locations.from_env(env)
    assert locations.config_dir == Path(platformdirs.user_config_dir("rolecall"))
    assert locations.cache_dir == Path(platformdirs.user_cache_dir("rolecall"))
    assert locations.state_dir == Path(platformdirs.user_state_dir("rolecall"))


def test_catalogue_lookup_order(tmp_path: Path) -> None:
    locations = Locations.from_env({"ROLECALL_HOME": str(tmp_path)})
    assert catalogue_path("a.toml", {"ROLECALL_CATALOGUE": "b.toml"}, locations) == Path("a.toml")
    assert catalogue_path(None, {"ROLECALL_CATALOGUE": "b.toml"}, locations) == Path("b.toml")
    assert catalogue_path(None, {}, locations) == locations.default_catalogue
