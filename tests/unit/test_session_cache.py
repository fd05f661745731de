"""The session cache on real files: modes from creation, corrupt and foreign files, margins."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rolecall.core.credentials import Credentials, Secret, Session
from rolecall.core.private_files import UnsafeDirectory, ensure_private_dir
from rolecall.core.sts.session_cache import SessionCache, effective_margin

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def session(expires_in: float, target: str = "a/R") -> Session:
    return Session(
        target=target,
        role_arn="arn:aws:iam::000000000001:role/R",
        session_name="alice",
        source_identity=None,
        assumed_role_arn="arn:aws:sts::000000000001:assumed-role/R/alice",
        region="eu-west-1",
        issued_at=NOW,
        credentials=Credentials(
            access_key_id="ASIAEXAMPLEEXAMPLE",
            secret_access_key=Secret("secret"),
            session_token=Secret("token"),
            expiration=NOW + timedelta(seconds=expires_in),
        ),
    )


@pytest.fixture
def cache(tmp_path: Path) -> SessionCache:
    return SessionCache(tmp_path / "sessions", clock=lambda: NOW)


def test_round_trip_and_modes_under_umask_000(cache: SessionCache) -> None:
    old = os.umask(0)
    try:
        cache.put("k", session(3600), 3600)
        with cache.lock("k"):
            pass
    finally:
        os.umask(old)
    assert cache.get("k") == session(3600)
    assert stat.S_IMODE(cache.directory.stat().st_mode) == 0o700
    for path in cache.directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_margin(cache: SessionCache) -> None:
    cache.put("k", session(16 * 60), 3600)
    assert cache.get("k") is not None
    cache.put("k", session(14 * 60), 3600)
    assert cache.get("k") is None, "under 15 min left: botocore would refresh on every call"
    cache.put("short", session(8 * 60), 900)
    assert cache.get("short") is not None, "a 15-min session is reused for its first half"
    assert effective_margin(900, 900) == 450
    assert effective_margin(900, 3600) == 900
    assert effective_margin(900, 1200) == 900  # botocore's window: never hand it less
    assert effective_margin(900, 960) == 480


@pytest.mark.parametrize(
    "damage",
    [b"", b"{", b'{"format": 1}', b"null", b"\xff\xfe", b'{"format": 1, "credentials": 3}'],
)
def test_corrupt_or_truncated_files_are_misses_and_get_replaced(
    cache: SessionCache, damage: bytes
) -> None:
    cache.put("k", session(3600), 3600)
    path = cache.directory / "k.json"
    path.write_bytes(damage)
    assert cache.get("k") is None
    created = cache.get_or_create("k", 3600, lambda: session(7200))
    assert created == session(7200)
    assert cache.get("k") == session(7200)


def test_a_naive_expiry_is_not_trusted(cache: SessionCache) -> None:
    cache.put("k", session(3600), 3600)
    path = cache.directory / "k.json"
    path.write_text(path.read_text().replace("Z", ""))
    assert cache.get("k") is None


def test_an_over_permissive_file_is_not_trusted(cache: SessionCache) -> None:
    cache.put("k", session(3600), 3600)
    (cache.directory / "k.json").chmod(0o644)
    assert cache.get("k") is None


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to chown to another user")
def test_a_foreign_owned_file_is_replaced(cache: SessionCache) -> None:
    cache.put("k", session(3600), 3600)
    os.chown(cache.directory / "k.json", 65534, 65534)
    assert cache.get("k") is None
    cache.get_or_create("k", 3600, lambda: session(7200))
    assert (cache.directory / "k.json").stat().st_uid == os.getuid()


def test_a_symlinked_file_is_not_followed(cache: SessionCache, tmp_path: Path) -> None:
    cache.put("k", session(3600), 3600)
    target = tmp_path / "elsewhere.json"
    (cache.directory / "k.json").rename(target)
    (cache.directory / "k.json").symlink_to(target)
    assert cache.get("k") is None


def test_a_loose_directory_of_ours_is_tightened(tmp_path: Path) -> None:
    directory = tmp_path / "loose"
    directory.mkdir(mode=0o755)
    directory.chmod(0o777)
    ensure_private_dir(directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_symlinked_directory_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(UnsafeDirectory, match="not a plain directory"):
        ensure_private_dir(link)


def test_entries_and_forget(cache: SessionCache) -> None:
    cache.put("a", session(3600, "x/A"), 3600)
    cache.put("b", session(-10, "x/B"), 3600)
    (cache.directory / "junk.json").write_bytes(b"nope")
    assert sorted(s.target for _, s in cache.entries()) == ["x/A", "x/B"]
    assert cache.forget("a") is True
    assert cache.forget("a") is False


def test_secrets_are_masked_in_repr() -> None:
    text = repr(session(3600))
    assert "secret" not in text.replace("secret_access_key", "")
    assert "token" not in text.replace("session_token", "")
    assert "ASIAEXAMPLEEXAMPLE" not in text
    assert "**************MPLE" in text
    assert str(Secret("x")) == "********"
    assert f"{Secret('x')}" == "********"


def test_a_fifo_in_place_of_a_lock_file_is_replaced_not_waited_on(cache: SessionCache) -> None:
    ensure_private_dir(cache.directory)
    os.mkfifo(cache.directory / "k.lock", 0o600)
    with cache.lock("k"):
        assert stat.S_ISREG((cache.directory / "k.lock").lstat().st_mode)
