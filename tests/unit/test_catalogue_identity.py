"""Which catalogue a cached answer belongs to: the parsed-catalogue cache and the hit memo
tell files apart by real path and full identity, never by path, size and mtime alone."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rolecall.core.catalogue.store import load
from rolecall.core.credentials import Credentials, Secret, Session
from rolecall.core.sts.hit_memo import (
    FastRequest,
    catalogue_identity,
    fast_request,
    session_is_for,
)
from tests.conftest import EXAMPLE

OLD, NEW = b"222222222222", b"555555555555"


def pinned(path: Path, data: bytes) -> Path:
    """Write `data` to `path` (through a rename, like a package manager) with mtime 1 ns."""
    staged = path.with_name(path.name + ".tmp")
    staged.write_bytes(data)
    os.utime(staged, ns=(1, 1))
    os.replace(staged, path)
    return path


def account_of(catalogue_path: Path, cache: Path) -> str:
    return load(catalogue_path, cache).resolve("payments-dev/Developer").account_id


def test_a_same_size_same_mtime_replacement_misses_the_parsed_cache(tmp_path: Path) -> None:
    path = pinned(tmp_path / "accounts.toml", EXAMPLE.read_bytes())
    cache = tmp_path / "cache"
    assert account_of(path, cache) == OLD.decode()
    assert load(path, cache)._index is not None, "a hit while nothing changed"
    pinned(path, EXAMPLE.read_bytes().replace(OLD, NEW))
    assert account_of(path, cache) == NEW.decode()


def test_a_repointed_symlink_misses_the_parsed_cache(tmp_path: Path) -> None:
    a = pinned(tmp_path / "a.toml", EXAMPLE.read_bytes())
    b = pinned(tmp_path / "b.toml", EXAMPLE.read_bytes().replace(OLD, NEW))
    link = tmp_path / "accounts.toml"
    link.symlink_to(a)
    cache = tmp_path / "cache"
    assert account_of(link, cache) == OLD.decode()
    link.unlink()
    link.symlink_to(b)
    assert account_of(link, cache) == NEW.decode()


def test_the_catalogue_path_is_absolute_and_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    real = pinned(tmp_path / "one" / "accounts.toml", EXAMPLE.read_bytes())
    cache = tmp_path / "cache"
    monkeypatch.chdir(tmp_path / "one")
    assert load(Path("accounts.toml"), cache).path == str(real)
    monkeypatch.chdir(tmp_path / "two")
    cached = load(Path("../one/accounts.toml"), cache)
    assert cached._index is not None, "the same file, from the cache"
    assert cached.path == str(real), "not the relative spelling of an earlier run"


def test_catalogue_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = pinned(tmp_path / "a.toml", EXAMPLE.read_bytes())
    b = pinned(tmp_path / "b.toml", EXAMPLE.read_bytes().replace(OLD, NEW))
    link = tmp_path / "link.toml"
    link.symlink_to(a)
    first = catalogue_identity(link)
    assert first is not None and first[0] == str(a)
    monkeypatch.chdir(tmp_path)
    assert catalogue_identity("a.toml") == first, "relative paths resolve from the cwd"
    link.unlink()
    link.symlink_to(b)
    assert catalogue_identity(link) != first
    assert catalogue_identity(tmp_path / "missing.toml") is None
    assert catalogue_identity("bad\0path") is None


def session(role_arn: str, assumed: str) -> Session:
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    return Session(
        target="a/R",
        role_arn=role_arn,
        session_name="s",
        source_identity=None,
        assumed_role_arn=assumed,
        region="eu-west-1",
        issued_at=moment,
        credentials=Credentials("ASIAX", Secret("s"), Secret("t"), moment),
    )


ROLE = "arn:aws:iam::222222222222:role/team/Developer"


@pytest.mark.parametrize(
    ("role_arn", "assumed", "ok"),
    [
        (ROLE, "arn:aws:sts::222222222222:assumed-role/Developer/alice", True),
        (ROLE, "arn:aws:sts::222222222222:assumed-role/developer/alice", True),
        (ROLE, "arn:aws:sts::555555555555:assumed-role/Developer/alice", False),
        (ROLE, "arn:aws:sts::222222222222:assumed-role/Admin/alice", False),
        (ROLE, "arn:aws:sts::222222222222:assumed-role/DeveloperX/alice", False),
        (ROLE, "arn:aws:sts::222222222222:federated-user/Developer", False),
        (ROLE, "garbage", False),
        (
            "arn:aws:iam::222222222222:role/Admin",
            "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Admin_0123abcd/alice",
            True,
        ),
    ],
)
def test_session_is_for(role_arn: str, assumed: str, ok: bool) -> None:
    assert session_is_for(session(role_arn, assumed), role_arn) is ok
    other = "arn:aws:iam::222222222222:role/Other"
    assert not session_is_for(session(role_arn, assumed), other), "another role's session"


def test_fast_request_shapes() -> None:
    assert fast_request(["credential-process", "a/R"]) == FastRequest(
        "credential-process", "json", "a/R"
    )
    assert fast_request(["env", "a/R", "--format=fish"]) == FastRequest("env", "fish", "a/R")
    assert fast_request(["env", "a/R", "--catalogue", "x.toml"]) == FastRequest(
        "env", "sh", "a/R", "x.toml"
    )
    request = fast_request(["env", "a/R"])
    assert request is not None and request.catalogue is None


def test_fast_request_takes_every_option_that_only_chooses_the_plan() -> None:
    argv = [
        "--catalogue=first.toml",
        "credential-process",
        "--var",
        "ticket=INC-1",
        "a/R",
        "--template=ticket",
        "--session-name",
        "alice",
        "--duration",
        "1h",
        "--region=eu-west-1",
        "--catalogue",
        "last.toml",
        "--var=team=x=y",
    ]
    assert fast_request(argv) == FastRequest(
        "credential-process",
        "json",
        "a/R",
        "last.toml",  # the last one wins, as in argparse
        (
            ("--var", "ticket=INC-1"),
            ("--template", "ticket"),
            ("--session-name", "alice"),
            ("--duration", "1h"),
            ("--region", "eu-west-1"),
            ("--var", "team=x=y"),
        ),
    )
    request = fast_request(["--catalogue", "c.toml", "env", "a/R", "--format", "json"])
    assert request == FastRequest("env", "json", "a/R", "c.toml")
    assert request.agrees("env", "a/R", "c.toml", "json")
    assert not request.agrees("env", "a/R", None, "json")
    assert not request.agrees("env", "a/R", "c.toml", "sh")


@pytest.mark.parametrize(
    "argv",
    [
        ["env", "a/R", "--no-cache"],
        ["credential-process", "a/R", "--mfa-code", "123456"],
        ["credential-process", "a/R", "--mfa-code=123456"],
        ["credential-process", "a/R", "--no-c"],  # argparse's abbreviation of --no-cache
        ["credential-process", "a/R", "--templ", "x"],  # abbreviations are not read here
        ["credential-process", "a/R", "--format", "sh"],  # not an option of this command
        ["env", "a/R", "--format", "zsh"],
        ["env", "a/R", "--var"],
        ["env", "a/R", "--var", "--format=json"],
        ["env", "a/R", "b/S"],
        ["env", "--", "a/R"],
        ["env", "-h"],
        ["env"],
        ["exec", "a/R"],
        ["--catalogue", "x", "exec", "a/R"],
        ["--catalogue"],
    ],
)
def test_fast_request_leaves_other_shapes_to_the_full_command(argv: list[str]) -> None:
    assert fast_request(argv) is None
