"""The session cache: one private file per key, replaced atomically, refreshed under a lock.

A cache hit must stay cheap (no boto3 import): `rolecall env` and `credential-process` read
one JSON file. A miss takes a per-key `flock`, reads the file again (another process may have
just written it), and only then calls STS, so concurrent processes make one STS call. Files
that are corrupt, truncated, foreign-owned or readable by others are ignored and replaced.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from rolecall.core.credentials import Credentials, Secret, Session, parse_rfc3339, rfc3339
from rolecall.core.errors import RolecallError
from rolecall.core.private_files import ensure_private_dir, read_private, write_private
from rolecall.core.sts.session_file import (
    DEFAULT_MARGIN,
    FORMAT,
    MIN_REUSE,
    check_document,
    effective_margin,
    sha256_hex,
)

__all__ = [
    "DEFAULT_MARGIN",
    "MIN_REUSE",
    "CachedSession",
    "SessionCache",
    "cache_key",
    "effective_margin",
    "sha256_hex",
]

LOCK_TIMEOUT = 10.0
"""How long to wait for another process that is refreshing the same key."""


class CacheLocked(RolecallError):
    """Another process held a cache lock for longer than `LOCK_TIMEOUT`."""


def cache_key(material: dict[str, Any]) -> str:
    """A file-safe key for everything that makes two sessions different."""
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return sha256_hex(text.encode())[:40]


class CachedSession(NamedTuple):
    """A session read from the cache, with the duration it was asked for."""

    session: Session
    duration: int


class SessionCache:
    """Sessions on disk under `directory` (0700), one `<key>.json` (0600) each."""

    def __init__(
        self,
        directory: Path,
        margin: int = DEFAULT_MARGIN,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        """Where the session files live."""
        self.margin = margin
        """Seconds that must remain for a session to be reused."""
        self.clock = clock
        """The source of "now" (injected by tests)."""

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str, margin: int | None = None) -> Session | None:
        """The cached session for `key` if it is sound and has more than the margin left.

        `margin` overrides the cache's own (and is taken exactly, never halved): renewal asks
        for a session with more than its renew-before window left.
        """
        cached = self._read(self._path(key))
        if cached is None:
            return None
        if margin is None:
            margin = effective_margin(self.margin, cached.duration)
        if cached.session.remaining(self.clock()) <= margin:
            return None
        return cached.session

    def get_or_create(
        self,
        key: str,
        duration: int,
        create: Callable[[], Session],
        margin: int | None = None,
    ) -> Session:
        """Return the cached session for `key`, or create one under the key's lock."""
        session = self.get(key, margin)
        if session is not None:
            return session
        with self.lock(key):
            session = self.get(key, margin)  # someone may have refreshed it while we waited
            if session is not None:
                return session
            session = create()
            self.put(key, session, duration)
            return session

    def put(self, key: str, session: Session, duration: int) -> None:
        """Store `session` under `key` (atomic replace, 0600 from creation)."""
        write_private(self._path(key), _encode(session, duration))

    def forget(self, key: str) -> bool:
        """Remove the entry for `key`; True if there was one."""
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def entries(self) -> Iterator[tuple[str, Session]]:
        """Every sound entry (expired ones included), as `(key, session)`."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.json")):
            cached = self._read(path)
            if cached is not None:
                yield path.stem, cached.session

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the per-key lock (a `flock`, released by the kernel if we die)."""
        import fcntl

        ensure_private_dir(self.directory)
        path = self.directory / f"{key}.lock"
        fd = _open_lock(path)
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() > deadline:
                        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                        raise CacheLocked(
                            f"another rolecall process (pid {holder or '?'}) has been "
                            f"refreshing this session for over {LOCK_TIMEOUT:.0f} s.",
                            hint="wait for it, or stop it; the lock goes when it exits",
                        ) from None
                    time.sleep(0.02)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _read(self, path: Path) -> CachedSession | None:
        data = read_private(path)
        if data is None:
            return None
        try:
            return _decode(json.loads(data))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None  # corrupt or foreign: a miss, and the next write replaces it


def _encode(session: Session, duration: int) -> bytes:
    creds = session.credentials
    document = {
        "format": FORMAT,
        "target": session.target,
        "role_arn": session.role_arn,
        "session_name": session.session_name,
        "source_identity": session.source_identity,
        "assumed_role_arn": session.assumed_role_arn,
        "region": session.region,
        "issued_at": rfc3339(session.issued_at),
        "duration": duration,
        "credentials": {
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key.reveal(),
            "SessionToken": creds.session_token.reveal(),
            "Expiration": rfc3339(creds.expiration),
        },
    }
    return json.dumps(document, indent=1).encode()


def _decode(document: Any) -> CachedSession:
    document = check_document(document)
    creds = document["credentials"]
    source_identity = document.get("source_identity")
    duration = document["duration"]
    session = Session(
        target=document["target"],
        role_arn=document["role_arn"],
        session_name=document["session_name"],
        source_identity=source_identity,
        assumed_role_arn=document["assumed_role_arn"],
        region=document["region"],
        issued_at=parse_rfc3339(document["issued_at"]),
        credentials=Credentials(
            access_key_id=creds["AccessKeyId"],
            secret_access_key=Secret(creds["SecretAccessKey"]),
            session_token=Secret(creds["SessionToken"]),
            expiration=parse_rfc3339(creds["Expiration"]),
        ),
    )
    return CachedSession(session, duration)


def _open_lock(path: Path) -> int:
    """A descriptor for the lock file `path`: a regular 0600 file of ours, made if need be.

    Opened non-blocking, so a FIFO or device in its place is refused instead of waited on;
    anything that is not a regular file of ours is removed and replaced.
    """
    import stat

    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
    for _ in range(2):
        fd = os.open(path, flags, 0o600)
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
            os.set_blocking(fd, True)
            return fd
        os.close(fd)
        path.unlink(missing_ok=True)
        flags |= os.O_EXCL
    raise RolecallError(
        f"{path} keeps being replaced by something that is not a lock file.",
        hint="check who else writes to rolecall's cache directory",
    )
