"""Loading a catalogue file through the parsed-catalogue cache.

Parsed catalogues are cached (keyed by the real path and the file's identity: device, inode,
size, mtime and ctime; the identity of every included file is stored with it and checked with
one `stat` each) so that a 50,000-role catalogue loads in milliseconds after the first
time; the cache keeps the rows serialised and decodes only the roles a command touches.

On the warm fast path: a cache hit imports only `model`, `marshal`, `mmap`, `zlib` and
`rolecall.core.private_files`. The validator (`loader`, and with it tomllib) is imported only
on a miss.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rolecall.core.catalogue.model import Catalogue
from rolecall.core.errors import RolecallError, UsageError
from rolecall.core.private_files import open_private, write_private

# ---------------------------------------------------------------------------------------------
# Loading

MISSING_HINT = (
    "import one with `rolecall import aws-config -o PATH` (or organizations, identity-center), "
    "or write one from the example in rolecall's README; then pass --catalogue PATH or put it "
    "in ~/.config/rolecall/accounts.toml"
)
"""What to do when there is no catalogue to read (it works outside the repository)."""


def load(path: Path, cache_dir: Path | None = None) -> Catalogue:
    """Load and validate the catalogue at `path`, using the parsed-catalogue cache if given.

    The catalogue's `path` is the file's resolved absolute path, whatever the spelling it was
    asked for by (a relative path from another directory, a symlink re-pointed since).
    """
    resolved = os.path.realpath(path)
    try:
        # Opened once: the identity that keys the cache is the file's that is read (no
        # O_NONBLOCK: `--catalogue <(generate)` is a pipe, and it is the user's own).
        stream = open(resolved, "rb")  # noqa: SIM115 -- closed below, whatever happens
    except FileNotFoundError:
        raise UsageError(f"there is no catalogue at {path}.", hint=MISSING_HINT) from None
    except OSError as e:
        raise UsageError(
            f"cannot read the catalogue {path}: {e.strerror}.", hint=MISSING_HINT
        ) from None
    with stream:
        info = os.fstat(stream.fileno())
        cache_file, key = None, None
        if cache_dir is not None and stat.S_ISREG(info.st_mode):  # a pipe has no identity
            key = cache_key(resolved, info)
            cache_file = _cache_file(cache_dir, resolved)
            cached = _read_cache(cache_file, key)
            if cached is not None:
                return cached
        try:
            data = stream.read()
        except OSError as e:
            raise UsageError(f"cannot read the catalogue {path}: {e.strerror}.") from None
    catalogue = parse(data, resolved)
    if cache_file is not None and key is not None:
        _write_cache(cache_file, key, catalogue, spelled=os.path.abspath(path))
    return catalogue


def cache_key(resolved: str, info: os.stat_result) -> tuple[object, ...]:
    """What a parsed catalogue is valid for: the real path and the file's full identity.

    Size and mtime alone are not enough: a same-size file can carry the same mtime (every
    file in a Nix store has mtime 1) and be renamed over the old one. The inode and device
    tell a replaced file apart, and the ctime (which no one can set) an edit in place.
    """
    return (
        _CACHE_FORMAT,
        resolved,
        info.st_dev,
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
    )


def parse(data: bytes, file: str) -> Catalogue:
    """Validate catalogue bytes and the files they include (relative to `file`); raise
    `CatalogueError` listing every problem."""
    from rolecall.core.catalogue.includes import parse_catalogue  # deferred: hits skip it

    return parse_catalogue(data, file)


# ---------------------------------------------------------------------------------------------
# The parsed-catalogue cache

_CACHE_FORMAT = 7


class _Packed:
    """Marshalled values stored back to back in one bytes object, decoded one at a time.

    One big bytes object plus an offset table keeps `marshal.loads` of the cache file at a
    handful of objects, whatever the number of roles (and interpreter exit cheap).
    """

    __slots__ = ("_blob", "_offsets")

    def __init__(self, blob: bytes, offsets: Sequence[int]) -> None:
        self._blob = blob
        self._offsets = offsets

    @classmethod
    def pack(cls, items: Sequence[tuple[Any, ...]]) -> _Packed:
        offsets, parts, total = [0], [], 0
        for item in items:
            part = marshal.dumps(item)
            parts.append(part)
            total += len(part)
            offsets.append(total)
        return cls(b"".join(parts), offsets)

    def item(self, index: int) -> Any:
        start, end = self._offsets[index], self._offsets[index + 1]
        # Trusted: read_private only returns 0600 files of ours from a 0700 directory.
        return marshal.loads(memoryview(self._blob)[start:end])  # noqa: S302

    def all(self) -> list[Any]:
        return [self.item(i) for i in range(len(self._offsets) - 1)]

    def items(self, indexes: Sequence[int]) -> list[Any]:
        return [self.item(i) for i in indexes]

    def dump(self) -> tuple[bytes, bytes]:
        from array import array

        return self._blob, array("Q", self._offsets).tobytes()

    @staticmethod
    def offsets(data: bytes) -> Sequence[int]:
        from array import array

        table = array("Q")
        table.frombytes(data)
        return table

    @classmethod
    def load(cls, blob: bytes, offsets: bytes) -> _Packed:
        return cls(blob, cls.offsets(offsets))


class _PackedFile(_Packed):
    """Like `_Packed`, but the values stay on disk and each is read when it is needed.

    A command that touches four roles of 50,000 reads four slices instead of 12 MiB, and the
    TUI keeps only the roles it has shown in memory.
    """

    __slots__ = ("_base", "_fd")

    def __init__(self, fd: int, base: int, offsets: Sequence[int]) -> None:
        super().__init__(b"", offsets)
        self._fd = fd
        self._base = base

    def item(self, index: int) -> Any:
        start, end = self._offsets[index], self._offsets[index + 1]
        data = os.pread(self._fd, end - start, self._base + start)
        if len(data) != end - start:
            raise ValueError("the catalogue cache is truncated")
        # Trusted: a 0600 file of ours in a 0700 directory, checked when it was opened.
        return marshal.loads(data)  # noqa: S302

    def items(self, indexes: Sequence[int]) -> list[Any]:
        """The rows at `indexes` (ascending): one `pread` per run of neighbouring rows.

        Rows less than `_GAP` bytes apart share a read (the bytes between are read and
        dropped), so 2,500 rows of a query cost a few hundred reads, not 2,500.
        """
        offsets, rows, loads = self._offsets, [], marshal.loads
        i, n = 0, len(indexes)
        while i < n:
            first = last = i
            start = offsets[indexes[i]]
            while (
                last + 1 < n
                and offsets[indexes[last + 1]] - offsets[indexes[last] + 1] <= _GAP
                and offsets[indexes[last + 1] + 1] - start <= _CHUNK
            ):
                last += 1
            end = offsets[indexes[last] + 1]
            data = os.pread(self._fd, end - start, self._base + start)
            if len(data) != end - start:
                raise ValueError("the catalogue cache is truncated")
            view = memoryview(data)
            for k in range(first, last + 1):
                index = indexes[k]
                # Trusted: a 0600 file of ours in a 0700 directory, checked when opened.
                rows.append(loads(view[offsets[index] - start : offsets[index + 1] - start]))
            i = last + 1
        return rows

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


_GAP = 8 * 1024
"""Rows at most this many bytes apart are read together (cheaper than another `pread`)."""

_CHUNK = 1024 * 1024
"""The most one read of neighbouring rows asks for."""


_STAMP = 16
"""Bytes of the random stamp that ties a roles file to its index file."""


def _cache_file(cache_dir: Path, resolved: str) -> Path:
    # crc32 only spreads files out; the full key is stored inside and compared on read.
    encoded = resolved.encode("utf-8", "surrogatepass")
    return cache_dir / "catalogues" / f"{zlib.crc32(encoded):08x}-{len(encoded)}.marshal"


def _read_cache(cache_file: Path, key: tuple[object, ...]) -> Catalogue | None:
    fd = open_private(cache_file)
    if fd is None:
        return None
    try:
        import mmap

        # Mapped rather than read: marshal copies what it keeps, so nothing is read twice.
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
            # Trusted: open_private only opens 0600 files of ours (in a 0700 directory).
            stored = marshal.loads(mapped)  # noqa: S302
    except (OSError, ValueError, EOFError, TypeError):
        return None  # empty, unmappable or corrupt: a miss, rewritten by the next load
    finally:
        os.close(fd)
    fd = None
    try:
        if not isinstance(stored, tuple) or stored[0] != key:
            return None
        (_, path, accounts, account_offsets, session_names, lines, starts, stamp, offsets) = stored[
            :9
        ]
        includes = stored[9]
        if not _unchanged(includes):
            return None  # an included file changed, moved or went away
        fd = open_private(cache_file.with_suffix(".roles"))
        if fd is None or os.pread(fd, _STAMP, 0) != stamp:
            return None  # the roles file belongs to another index (or is missing)
        table = _Packed.offsets(offsets)
        if os.fstat(fd).st_size != _STAMP + table[-1]:
            return None  # truncated or grown behind our back
        roles = _PackedFile(fd, _STAMP, table)
        fd = None  # owned by `roles` now
        count = len(roles._offsets) - 1
        table = _Packed.offsets(starts)
        if len(table) != count + 1 or table[-1] != len(lines) or not isinstance(lines, bytes):
            return None
        return Catalogue(
            path=path,
            accounts=_Packed.load(accounts, account_offsets),
            session_names=session_names,
            lines=lines,
            roles=[None] * count,
            packed=roles,
            starts=table,
            includes=includes,
        )
    except (EOFError, ValueError, TypeError, IndexError, OSError):
        return None  # a corrupt cache is a miss; the next load rewrites it
    finally:
        if fd is not None:
            os.close(fd)


def _unchanged(includes: tuple[tuple[str, int, int, int, int, int], ...]) -> bool:
    """Whether every included file is still the one that was read (one `stat` each: a file
    replaced, edited in place, re-pointed or removed has another identity, or none)."""
    for path, *identity in includes:
        try:
            info = os.stat(path)
        except OSError:
            return False
        now = [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
        if now != identity:
            return False
    return True


def _write_cache(
    cache_file: Path, key: tuple[object, ...], catalogue: Catalogue, spelled: str = ""
) -> None:
    from array import array

    accounts = _Packed.pack([tuple(a) for a in catalogue.accounts]).dump()
    roles, offsets = _Packed.pack([tuple(r) for r in catalogue]).dump()
    stamp = os.urandom(_STAMP)
    payload: tuple[Any, ...] = (
        key,
        catalogue.path,
        *accounts,
        catalogue.session_names,
        catalogue.search_text(),
        array("Q", catalogue.starts).tobytes(),
        stamp,
        offsets,
        catalogue.includes,
    )
    # Roles first, then the index that names them: a reader never sees an index whose
    # roles file is missing or stale (the stamp would not match). The cache is an
    # optimisation, so an unwritable cache dir must not break loading.
    try:
        write_private(cache_file.with_suffix(".roles"), stamp + roles)
        write_private(cache_file, marshal.dumps(payload))
    except (OSError, RolecallError):
        return
    # The targets as plain text for shell completion (read without starting Python).
    from rolecall.core.catalogue import names

    names.write(cache_file.parent.parent, (catalogue.path, spelled or catalogue.path), catalogue)
