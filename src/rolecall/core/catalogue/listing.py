"""`rolecall list` answered from the parsed-catalogue cache, without argparse or the model.

A warm `rolecall list QUERY` over 50,000 roles must cost little more than starting Python, so
`rolecall.entry` asks `serve` first. It reads the command line itself (`list_request`: the
shapes it is sure argparse reads the same way), resolves the catalogue by the CLI's own rules
(`--catalogue`, `ROLECALL_CATALOGUE`, the config dir, with the trust check), and answers only
from a valid cache: the `.list` file beside the index (`list_file_data`) carries the cache
key (checked against the file's identity now, every included file unchanged), the search
lines, searched where they are mapped, and each role's table cells as UTF-8 text, so a
printed row costs a slice, a decode and a split instead of a `marshal.loads` of the role.
Anything else (`--json`, `--help`, an unknown option, no cache or a stale one, a row with
text that would need escaping, another platform) returns None and the full command
answers: the same bytes either way (`tests/functional/test_cli_list_fast.py` compares them).

The store writes the `.list` file with the index and shares this module's cache naming and
checks (`cache_file`, `cache_key`, `unchanged`, `CACHE_FORMAT`).

Imports: `os`, `stat`, `marshal`, `mmap`, `zlib`, `array`, `bisect` and the lean leaves
`errors`, `locations` and `private_files` (no `typing`, `pathlib`, `re` or `argparse`).
"""

from __future__ import annotations

import os

from rolecall.core.errors import RolecallError
from rolecall.core.locations import catalogue_file, directories

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs `list` ~3 ms
if TYPE_CHECKING:
    import mmap
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any, TextIO

    from rolecall.core.catalogue.model import Role

CACHE_FORMAT = 9
"""The parsed-catalogue cache's format (part of its key): bump it when the layout changes."""

HEADER = ("TARGET", "ACCOUNT ID", "REGION", "DURATION", "TAGS")
"""The table's header."""

_SEPARATOR = "\x1f"
"""Between the cells of a row in the `.list` file (a unit separator: never in a safe cell)."""

_NO_MATCH = "no role matches.\n"


def cells(role: Role, duration: str) -> tuple[str, str, str, str, str]:
    """A role's row of the table (`duration` formatted): the one definition of both paths."""
    return (
        f"{role.account}/{role.name}  [prod]" if "prod" in role.tags else role.target,
        role.account_id,
        role.region,
        duration,
        ",".join(role.tags),
    )


def table(rows: Sequence[Sequence[str]]) -> str:
    """The header and `rows` as left-aligned columns (no escaping: callers check first).

    The same text as `rolecall.cli.output.columns` for these columns, at one `%` format per
    row: widths come from one pass per column.
    """
    lines = [HEADER, *rows]
    widths = [max(map(len, column)) for column in zip(*lines, strict=True)]
    line = "  ".join(f"%-{w}s" for w in widths[:-1]) + "  %s"
    return "\n".join([(line % (*cells,)).rstrip() for cells in lines]) + "\n"


# ---------------------------------------------------------------------------------------------
# The cache files


def cache_file(cache_dir: str, resolved: str) -> str:
    """The index file of the catalogue at real path `resolved` (`.roles` and `.list` beside).

    crc32 only spreads files out; the full key is stored inside and compared on read.
    """
    import zlib

    encoded = resolved.encode("utf-8", "surrogatepass")
    name = f"{zlib.crc32(encoded):08x}-{len(encoded)}.marshal"
    return os.path.join(cache_dir, "catalogues", name)


def cache_key(resolved: str, info: os.stat_result) -> tuple[object, ...]:
    """What a parsed catalogue is valid for: the real path and the file's full identity.

    Size and mtime alone are not enough: a same-size file can carry the same mtime (every
    file in a Nix store has mtime 1) and be renamed over the old one. The inode and device
    tell a replaced file apart, and the ctime (which no one can set) an edit in place.
    """
    return (
        CACHE_FORMAT,
        resolved,
        info.st_dev,
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
    )


def unchanged(includes: Iterable[Sequence[object]]) -> bool:
    """Whether every included file is still the one that was read (one `stat` each: a file
    replaced, edited in place, re-pointed or removed has another identity, or none)."""
    for path, *identity in includes:
        try:
            info = os.stat(path)  # type: ignore[arg-type]  # a str, as the store wrote it
        except (OSError, TypeError, ValueError):
            return False
        now = [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
        if now != identity:
            return False
    return True


def list_file_data(
    key: tuple[object, ...],
    includes: Sequence[Sequence[object]],
    lines: bytes,
    starts: Sequence[int],
    rows: Iterable[Sequence[str]],
    unsafe: Callable[[str], bool],
) -> bytes:
    """The `.list` file: everything `serve` reads, searched and sliced where it is mapped.

    Laid out as: a header (its length, then `marshal` of the cache key, the included files'
    identities, the role count and the search text's length), padded to 8 bytes; the search
    lines' starts (`Q`); the search lines (UTF-8, as the index holds them); the row offsets
    (`Q`); then each role's cells joined by a unit separator. A row for which
    `unsafe(cells)` is true (it would need escaping; the separator is such a character) is
    stored empty: the fast path then leaves the command to the full one.
    """
    import marshal
    from array import array

    parts, offsets, total = [], array("Q", [0]), 0
    for row in rows:
        data = b"" if unsafe("".join(row)) else _SEPARATOR.join(row).encode()
        parts.append(data)
        total += len(data)
        offsets.append(total)
    count = len(offsets) - 1
    identities: Any = tuple(tuple(i) for i in includes)  # str and ints, as the store keeps them
    header = marshal.dumps((key, identities, count, len(lines)))  # type: ignore[arg-type]
    head = array("Q", [len(header)]).tobytes() + header
    head += b"\0" * (-len(head) % 8)
    return b"".join([head, array("Q", starts).tobytes(), lines, offsets.tobytes(), *parts])


# ---------------------------------------------------------------------------------------------
# The fast path


def list_request(argv: Sequence[str]) -> tuple[str | None, list[str]] | None:
    """`(catalogue, query words)` when `argv` is a `list` the fast path answers, else None.

    `[--catalogue P]... list [WORD]... [--catalogue P]...`, each `--catalogue` as `--catalogue
    P` or `--catalogue=P` (the last one wins, as for argparse). Words after an option, any
    other option (`--json`, `--help`, an abbreviation, `--`) or a word starting with `-` are
    left to argparse.
    """
    catalogue: str | None = None
    i, n = 0, len(argv)
    while i < n and argv[i].partition("=")[0] == "--catalogue":
        found = _catalogue_option(argv, i)
        if found is None:
            return None
        catalogue, i = found
    if i >= n or argv[i] != "list":
        return None
    i += 1
    words: list[str] = []
    while i < n and not argv[i].startswith("-"):
        words.append(argv[i])
        i += 1
    while i < n:
        if argv[i].partition("=")[0] != "--catalogue":
            return None
        found = _catalogue_option(argv, i)
        if found is None:
            return None
        catalogue, i = found
    return catalogue, words


def _catalogue_option(argv: Sequence[str], i: int) -> tuple[str, int] | None:
    _, eq, value = argv[i].partition("=")
    if eq:
        return value, i + 1
    if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
        return None  # argparse refuses it: the full command says so
    return argv[i + 1], i + 2


def serve(argv: Sequence[str], env: Mapping[str, str], out: TextIO, err: TextIO) -> int | None:
    """Answer `rolecall list` from the cache: the exit code, or None when the full command
    must (see the module's docstring)."""
    request = list_request(argv)
    if request is None:
        return None
    found = directories(env)
    if found is None:
        return None  # platformdirs decides where the cache is: the full command
    config_dir, cache_dir, _ = found
    try:
        path = catalogue_file(request[0], env, config_dir)
    except RolecallError:
        return None  # the full command says what is wrong with it
    rows = _rows(path, cache_dir, " ".join(request[1]))
    if rows is None:
        return None
    try:
        if rows:
            out.write(table(rows))
        else:
            err.write(_NO_MATCH)
    except BrokenPipeError:
        # `rolecall list | head`: the reader went away; that is not an error (as in the CLI).
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    return 0


def _rows(path: str, cache_dir: str, query: str) -> list[list[str]] | None:
    """The table rows of the roles matching `query`, from a valid cache; None otherwise."""
    import stat

    from rolecall.core.private_files import open_private

    try:
        resolved = os.path.realpath(path)
        info = os.stat(resolved)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    index = cache_file(cache_dir, resolved)
    fd = open_private(index[: -len(".marshal")] + ".list")
    if fd is None:
        return None
    try:
        import mmap

        # Mapped, never copied: the search runs over the page cache's bytes.
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
            return _answer(mapped, cache_key(resolved, info), query)
    except (OSError, ValueError, EOFError, TypeError, IndexError, UnicodeDecodeError):
        return None  # empty, torn or corrupt: the full command rewrites it
    finally:
        os.close(fd)


def _answer(mapped: mmap.mmap, key: tuple[object, ...], query: str) -> list[list[str]] | None:
    import marshal
    from array import array

    table = array("Q")
    table.frombytes(mapped[:8])
    at = 8 + table[0]
    # Trusted: open_private only opens 0600 files of ours (in a 0700 directory).
    header = marshal.loads(mapped[8:at])  # noqa: S302
    if not isinstance(header, tuple) or header[0] != key or not unchanged(header[1]):
        return None
    count, size = header[2], header[3]
    at += -at % 8
    starts = array("Q")
    starts.frombytes(mapped[at : at + 8 * (count + 1)])
    at += 8 * (count + 1)
    if starts[-1] != size:
        return None
    hits = _indexes(mapped, at, starts, query)
    at += size
    offsets = array("Q")
    offsets.frombytes(mapped[at : at + 8 * (count + 1)])
    at += 8 * (count + 1)
    if len(mapped) != at + offsets[-1]:
        return None  # truncated or grown behind our back
    rows = [mapped[at + offsets[i] : at + offsets[i + 1]].decode() for i in hits]
    if "" in rows:
        return None  # a row that needs escaping: the full command escapes it
    return [row.split(_SEPARATOR) for row in rows]


def _indexes(text: mmap.mmap, base: int, starts: Sequence[int], query: str) -> list[int]:
    """`Catalogue.indexes(query)` over the search lines at `base` in `text` (the same words,
    the same order). UTF-8: a word's bytes occur in the text exactly where the word does."""
    words = sorted(set(query.lower().split()), key=len, reverse=True)
    count = len(starts) - 1
    if not words:
        return list(range(count))
    from bisect import bisect_right

    hits, find, needle, end = [], text.find, words[0].encode(), base + starts[-1]
    pos = find(needle, base, end)
    while pos != -1:
        index = bisect_right(starts, pos - base) - 1
        hits.append(index)
        pos = find(needle, base + starts[index + 1], end)  # next line: one hit per role
    for word in words[1:]:
        needle = word.encode()
        hits = [i for i in hits if find(needle, base + starts[i], base + starts[i + 1] - 1) != -1]
    return hits
