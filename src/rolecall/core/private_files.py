"""Private files: 0700 directories and 0600 files from the first byte, replaced atomically.

Cache and state files hold credentials or personal data. They are created with their final
mode (never open-then-chmod), written to a temporary file in the same directory and renamed
over the old one, and read back only when they are regular files owned by us with no group or
other bits: anything else is treated as absent, never trusted. Existing files are opened with
`O_NONBLOCK` (cleared once the file is known to be regular), so a FIFO planted in a cache
directory is refused instead of blocking the open before the checks can run.
"""

from __future__ import annotations

import os
import stat

from rolecall.core.errors import RolecallError

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the cache-hit fast path reads through here
if TYPE_CHECKING:
    from pathlib import Path


class UnsafeDirectory(RolecallError):
    """A private directory is a symlink, not a directory, or owned by someone else."""


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (mode 0700) if needed and check that it is ours and private.

    A directory of ours with group or other bits is tightened to 0700; a symlink, a
    non-directory or a directory owned by another user is refused.
    """
    missing = []
    ancestor = path
    while not os.path.lexists(ancestor):
        missing.append(ancestor)
        ancestor = ancestor.parent
    for directory in reversed(missing):  # every directory we create is private
        try:  # noqa: SIM105 -- contextlib is not on the cache-hit fast path
            directory.mkdir(mode=0o700)
        except FileExistsError:  # another process won the race
            pass
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafeDirectory(
            f"{path} is not a plain directory.",
            hint="remove it (or point ROLECALL_HOME elsewhere) and run rolecall again",
        )
    if info.st_uid != os.getuid():
        raise UnsafeDirectory(
            f"{path} belongs to another user.",
            hint="point ROLECALL_HOME at a directory of your own",
        )
    if info.st_mode & 0o077:
        path.chmod(0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically; the file is 0600 from creation."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # umask can only remove bits; this makes the intent explicit
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:  # noqa: SIM105 -- contextlib is not on the cache-hit fast path
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise


def append_private(path: Path, line: bytes) -> None:
    """Append one line to `path`, creating it 0600; used for the journal."""
    ensure_private_dir(path.parent)
    # O_NONBLOCK: opening a planted FIFO for writing would wait for a reader (it fails with
    # ENXIO instead); a device or FIFO that does open is refused below.
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
    fd = os.open(path, flags, 0o600)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeDirectory(f"{path} is not a regular file.")
        if info.st_uid != os.getuid():
            raise UnsafeDirectory(f"{path} belongs to another user.")
        os.set_blocking(fd, True)
        if info.st_mode & 0o077:
            os.fchmod(fd, 0o600)
        os.write(fd, line)
    finally:
        os.close(fd)


def open_private(path: str | os.PathLike[str], *, any_mode: bool = False) -> int | None:
    """A read-only descriptor for `path` if it is a regular 0600-or-tighter file of ours.

    Opened non-blocking, so that a FIFO (or device) in its place is rejected by the checks
    instead of blocking the open; the descriptor returned is blocking again. `any_mode`
    accepts a file of ours whatever its mode (files other tools wrote, e.g. the AWS CLI's).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        ours = stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid()
        if ours and (any_mode or not info.st_mode & 0o077):
            os.set_blocking(fd, True)
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def read_private(path: str | os.PathLike[str], *, any_mode: bool = False) -> bytes | None:
    """Return the bytes of `path` if it is a regular 0600-or-tighter file of ours, else None
    (`any_mode`: whatever its mode, as for `open_private`)."""
    fd = open_private(path, any_mode=any_mode)
    if fd is None:
        return None
    with open(fd, "rb") as stream:  # one read, sized from fstat; closes the descriptor
        return stream.read()
