"""Settings, catalogue and state paths are trusted only when no one else can write them."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rolecall.core.journal import Journal
from rolecall.core.locations import Locations, UntrustedPath, catalogue_path, check_trusted
from rolecall.core.settings import load_settings
from rolecall.core.state import State
from tests.second_user import UID, needs_second_user


def test_own_private_paths_are_trusted(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir(mode=0o755)
    (config / "config.toml").write_text("")
    (config / "config.toml").chmod(0o644)  # readable by others is fine
    assert check_trusted(config / "config.toml") == config / "config.toml"
    assert check_trusted(config / "missing" / "config.toml")  # missing: the parent decides


@pytest.mark.parametrize("mode", [0o664, 0o646])
def test_a_file_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "config.toml"
    path.write_text("")
    path.chmod(mode)
    with pytest.raises(UntrustedPath) as refused:
        check_trusted(path)
    assert refused.value.message == f"{path} can be changed by other users."
    assert refused.value.hint == f"run: chmod go-w {path}"


def test_a_directory_others_can_write_is_refused_above_the_file(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (shared / "config").mkdir()
    with pytest.raises(UntrustedPath, match=f"^{shared} can be changed by other users"):
        check_trusted(shared / "config" / "config.toml")


def test_a_sticky_world_writable_directory_is_fine_above_our_own(tmp_path: Path) -> None:
    shared = tmp_path / "sticky"
    shared.mkdir()
    shared.chmod(0o1777)
    (shared / "home").mkdir()
    assert check_trusted(shared / "home" / "config" / "config.toml")


def test_a_file_alone_ignores_the_directories_above(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (shared / "accounts.toml").write_text("")
    assert check_trusted(shared / "accounts.toml", ancestors=False)


def test_our_symlink_to_our_file_is_fine_and_to_a_writable_file_is_not(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles.toml"
    target.write_text("")
    link = tmp_path / "accounts.toml"
    link.symlink_to(target)
    assert check_trusted(link)
    target.chmod(0o666)
    with pytest.raises(UntrustedPath, match="can be changed by other users"):
        check_trusted(link)


@needs_second_user
def test_paths_of_another_user_are_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "config.toml").write_text("")
    os.chown(theirs / "config.toml", UID, UID)
    with pytest.raises(UntrustedPath) as refused:
        check_trusted(theirs / "config.toml")
    assert refused.value.message == f"{theirs / 'config.toml'} belongs to another user."
    assert refused.value.hint == "point ROLECALL_HOME at a directory of your own"
    os.chown(theirs / "config.toml", 0, 0)
    os.chown(theirs, UID, UID)
    with pytest.raises(UntrustedPath, match=f"^{theirs} belongs to another user"):
        check_trusted(theirs / "config.toml")


@needs_second_user
def test_symlinks_of_another_user_or_to_their_file_are_refused(tmp_path: Path) -> None:
    their_file = tmp_path / "their.toml"
    their_file.write_text("")
    os.chown(their_file, UID, UID)
    link = tmp_path / "accounts.toml"
    link.symlink_to(their_file)
    with pytest.raises(UntrustedPath, match=f"^{their_file}|^{link} belongs to another user"):
        check_trusted(link)
    their_link = tmp_path / "config.toml"
    their_link.symlink_to(tmp_path / "nothing")
    os.lchown(their_link, UID, UID)
    with pytest.raises(UntrustedPath, match="is a symlink that belongs to another user"):
        check_trusted(their_link)


def test_settings_state_journal_and_default_catalogue_are_checked(tmp_path: Path) -> None:
    home = tmp_path / "rolecall"
    home.mkdir()
    home.chmod(0o775)
    locations = Locations.from_env({"ROLECALL_HOME": str(home)})
    calls: list[Callable[[], object]] = [
        lambda: load_settings(locations.config_dir / "config.toml"),
        lambda: State.load(locations.state_file),
        lambda: Journal(locations.journal_file),
        lambda: catalogue_path(None, {}, locations),
    ]
    for call in calls:
        with pytest.raises(UntrustedPath, match=f"^{home} can be changed by other users"):
            call()
    home.chmod(0o755)
    for call in calls:
        call()


def test_a_named_catalogue_must_not_be_writable_by_others(tmp_path: Path) -> None:
    locations = Locations.from_env({"ROLECALL_HOME": str(tmp_path / "rolecall")})
    checkout = tmp_path / "repo"
    checkout.mkdir()
    checkout.chmod(0o775)  # where the user keeps it is their choice
    named = checkout / "accounts.toml"
    named.write_text("")
    assert catalogue_path(str(named), {}, locations) == named
    assert catalogue_path(None, {"ROLECALL_CATALOGUE": str(named)}, locations) == named
    named.chmod(0o666)
    with pytest.raises(UntrustedPath):
        catalogue_path(str(named), {}, locations)
    with pytest.raises(UntrustedPath):
        catalogue_path(None, {"ROLECALL_CATALOGUE": str(named)}, locations)
