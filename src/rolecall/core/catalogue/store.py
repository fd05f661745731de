"""Loading a catalogue file through the parsed-catalogue cache.

Parsed catalogues are cached (keyed by the real path and the file's identity: device, inode,
size, mtime and ctime; the identity of every included file is stored with it and checked with
one `stat` each) so that a 50,000-role catalogue loads in milliseconds after the first
time; the cache keeps the rows serialised and decodes only the roles a command touches.

On the warm fast path: a cache hit imports only `model`, `listing` (the cache's naming and
checks, and `rolecall list`'s own fast path), `marshal`, `mmap`, `zlib` and
`rolecall.core.private_files`. The validator (`loader`, and with it tomllib) is imported only
on a miss.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rolecall.core.catalogue import listing
from rolecall.core.catalogue.listing import cache_key
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


def parse(data: bytes, file: str) -> Catalogue:
    """Validate catalogue bytes and the files they include (relative to `file`); raise
    `CatalogueError` listing every problem."""
    from rolecall.core.catalogue.includes import parse_catalogue  # deferred: hits skip it

    return parse_catalogue(data, file)


# ---------------------------------------------------------------------------------------------
# The parsed-catalogue cache

_CACHE_FORMAT = listing.CACHE_FORMAT


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


class _LinesFile:
    """The search lines where the `.list` file holds them, read when they are needed.

    The index does not carry them: the TUI's first frame reads only the lines of the rows it
    shows, and the whole text (6 MiB at 50,000 roles) is read once the frame is on screen.
    """

    __slots__ = ("_base", "_fd", "_size")

    def __init__(self, fd: int, base: int, size: int) -> None:
        self._fd = fd
        self._base = base
        self._size = size

    @classmethod
    def open(cls, fd: int, key: tuple[object, ...], count: int) -> _LinesFile | None:
        """The lines of the `.list` file open at `fd` if it is the one for `key` (owning
        `fd` then), else None."""
        from array import array

        size_of_header = array("Q")
        size_of_header.frombytes(os.pread(fd, 8, 0))
        at = 8 + size_of_header[0]
        # Trusted: a 0600 file of ours in a 0700 directory, checked when it was opened.
        header = marshal.loads(os.pread(fd, at - 8, 8))  # noqa: S302
        if not isinstance(header, tuple) or header[0] != key or header[2] != count:
            return None
        size = header[3]
        base = at + (-at % 8) + 8 * (count + 1)
        if os.fstat(fd).st_size < base + size:
            return None  # truncated behind our back
        return cls(fd, base, size)

    def read(self, start: int, end: int) -> bytes:
        return self._pread(end - start, start)

    def read_all(self) -> bytes:
        return self._pread(self._size, 0)

    def _pread(self, size: int, at: int) -> bytes:
        data = os.pread(self._fd, size, self._base + at)
        if len(data) != size:
            raise ValueError("the catalogue cache is truncated")
        return data

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
    return Path(listing.cache_file(str(cache_dir), resolved))


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
        if not listing.unchanged(includes):
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
        del lines  # empty: the search lines are read from the `.list` file
        fd = open_private(cache_file.with_suffix(".list"))
        if fd is None:
            return None
        text = _LinesFile.open(fd, key, count)
        if text is None:
            return None
        fd = None  # owned by `text` now
        table = _Packed.offsets(starts)
        if len(table) != count + 1 or table[-1] != text._size:
            return None
        return Catalogue(
            path=path,
            accounts=_Packed.load(accounts, account_offsets),
            session_names=session_names,
            lines=text,
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


def _write_cache(
    cache_file: Path, key: tuple[object, ...], catalogue: Catalogue, spelled: str = ""
) -> None:
    from array import array

    accounts = _Packed.pack([tuple(a) for a in catalogue.accounts]).dump()
    roles, offsets = _Packed.pack([tuple(r) for r in catalogue]).dump()
    stamp = os.urandom(_STAMP)
    text = catalogue.search_text()
    payload: tuple[Any, ...] = (
        key,
        catalogue.path,
        *accounts,
        catalogue.session_names,
        b"",  # the search lines: in the `.list` file only (`_LinesFile`)
        array("Q", catalogue.starts).tobytes(),
        stamp,
        offsets,
        catalogue.includes,
    )
    # Roles first, then the index that names them: a reader never sees an index whose
    # roles file is missing or stale (the stamp would not match). The list file carries
    # its own key (`listing` reads it alone). The cache is an optimisation, so an
    # unwritable cache dir must not break loading.
    try:
        write_private(cache_file.with_suffix(".roles"), stamp + roles)
        write_private(cache_file.with_suffix(".list"), _list_file(key, catalogue, text))
        write_private(cache_file, marshal.dumps(payload))
    except (OSError, RolecallError):
        return
    # The targets as plain text for shell completion (read without starting Python).
    from rolecall.core.catalogue import names

    names.write(cache_file.parent.parent, (catalogue.path, spelled or catalogue.path), catalogue)


def _list_file(key: tuple[object, ...], catalogue: Catalogue, text: bytes) -> bytes:
    """Every role's `rolecall list` row and the search text, for `listing.serve`."""
    from rolecall.core.catalogue.listing import cells, list_file_data
    from rolecall.core.catalogue.model import format_duration
    from rolecall.core.text import has_unsafe

    durations: dict[int, str] = {}
    rows = (
        cells(
            role,
            durations.get(role.duration)
            or durations.setdefault(role.duration, format_duration(role.duration)),
        )
        for role in catalogue
    )
    return list_file_data(key, catalogue.includes, text, catalogue.starts, rows, has_unsafe)
