"""The catalogue: accounts and roles from TOML (schema version 1) as frozen typed values.

Loading validates everything that can be checked before an AWS call and reports every problem
of a file in one `CatalogueError`, each with file, dotted key path and line. Roles inherit
`[defaults]` → account → role. Parsed catalogues are cached (keyed by path, size and mtime) so
that a 50,000-role catalogue loads in milliseconds after the first time; the cache keeps the
rows serialised and decodes only the roles a command touches.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import re
import zlib
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from rolecall.core.errors import AmbiguousTarget, RolecallError, TargetNotFound
from rolecall.core.private_files import open_private, write_private
from rolecall.core.text import inert, show

if TYPE_CHECKING:
    from rolecall.core.naming.session_name import RoleFacts

SCHEMA_VERSION = 1
"""The only catalogue `version` this release understands."""

MAX_FILE_BYTES = 32 << 20
"""Catalogues above 32 MiB are refused. A 50,000-role catalogue is about 4 MiB; the cap keeps
a hostile file from stalling the parser for minutes."""

DEFAULT_SESSION_NAME = "{user}@{host}"
"""The session-name template used when the catalogue sets none."""

DEFAULT_DURATION = 3600
"""STS's own default: one hour."""

CHAINED_MAX_DURATION = 3600
"""AWS caps role-chained sessions at one hour."""

MIN_DURATION, MAX_DURATION = 900, 43200

COLORS = ("blue", "turquoise", "green", "yellow", "orange", "red", "pink", "purple")
"""Account colours (the Firefox container palette, so the console hand-off can use them)."""

PARTITION_REGIONS: tuple[tuple[str, str], ...] = (
    # Order matters: us-gov- and us-iso- must be tried before the commercial "us-" rule.
    ("aws-us-gov", r"us-gov-[a-z]+-[0-9]+"),
    ("aws-iso", r"us-iso-[a-z]+-[0-9]+"),
    ("aws-iso-b", r"us-isob-[a-z]+-[0-9]+"),
    ("aws-iso-f", r"us-isof-[a-z]+-[0-9]+"),
    ("aws-iso-e", r"eu-isoe-[a-z]+-[0-9]+"),
    ("aws-eusc", r"eusc-de-[a-z]+-[0-9]+"),
    ("aws-cn", r"cn-[a-z]+-[0-9]+"),
    ("aws", r"(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-[0-9]+"),
)
"""Region patterns per partition, after botocore's partitions.json (no botocore import).
Compiled on first use: listing a cached catalogue never needs them."""

_DURATION = r"(?:([0-9]{1,5})h)?(?:([0-9]{1,5})m)?(?:([0-9]{1,5})s)?"


# ---------------------------------------------------------------------------------------------
# Values


class Account(NamedTuple):
    """One AWS account of the catalogue."""

    name: str
    id: str
    region: str
    partition: str
    tags: tuple[str, ...]
    description: str
    color: str | None


class Role(NamedTuple):
    """One assumable role, with every inherited setting resolved.

    A NamedTuple rather than a dataclass: it is frozen and typed, and building 50,000 of them
    from the cache costs a few milliseconds instead of a hundred.
    """

    account: str
    """Account name."""
    account_id: str
    name: str
    """IAM role name (without path)."""
    path: str
    arn: str
    """`arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`."""
    region: str
    """STS endpoint, console and subshell region."""
    partition: str
    via: str | None
    """Target (`ACCOUNT/ROLE`) of the role to chain through, or None."""
    source_profile: str | None
    """AWS profile that calls STS when `via` is None; None means the default chain."""
    mfa_serial: str | None
    external_id: str | None
    duration: int
    """Requested session length in seconds."""
    session_name: str
    """The session-name template text (a `@NAME` reference already resolved)."""
    session_name_ref: str | None
    """The `[session_names]` entry the template came from, if any."""
    source_identity: str | None
    """Source-identity template text, or None."""
    confirm: bool
    """Ask for typed confirmation before interactive launches."""
    session_tags: tuple[tuple[str, str], ...]
    transitive_tags: tuple[str, ...]
    console: str | None
    """Default console destination: a service shortcut or a URL."""
    tags: tuple[str, ...]
    """Account tags, then the role's own."""
    description: str
    color: str | None

    @property
    def target(self) -> str:
        """The canonical target: `ACCOUNT/ROLE`."""
        return f"{self.account}/{self.name}"

    @property
    def facts(self) -> RoleFacts:
        """What session-name templates need to know about this role."""
        from rolecall.core.naming.session_name import RoleFacts

        return RoleFacts(self.account, self.account_id, self.name, self.partition)

    @property
    def is_prod(self) -> bool:
        """Whether the role carries the `prod` tag (marked in lists, confirmed by default)."""
        return "prod" in self.tags


def line_starts(lines: bytes) -> list[int]:
    """Offsets where each line of `lines` starts, plus the end."""
    starts = [0]
    find, pos = lines.find, lines.find(b"\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = find(b"\n", pos + 1)
    return starts


def search_line(role: Role) -> str:
    """The lower-cased text every search word is matched against (one line, no newlines)."""
    return " ".join(
        (role.target, f"{role.account_id}/{role.name}", *role.tags, role.description, role.arn)
    ).lower()


class Problem(NamedTuple):
    """One thing wrong with a catalogue file."""

    file: str
    key: str
    """Dotted key path, e.g. `accounts[3].roles[1].duration` (empty for the whole file)."""
    line: int
    column: int | None
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")
        key = f" {self.key}:" if self.key else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return inert(f"{where}:{key} {self.message}{hint}")


class CatalogueError(RolecallError):
    """A catalogue cannot be used; `problems` lists every problem found, in file order."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        assert problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(str(first) + more, hint="run `rolecall check` to see every problem")
        self.problems = tuple(problems)
        """Every problem found, in file order."""
        self.file = first.file
        """The catalogue file."""
        self.key = first.key
        """Dotted key path of the first problem."""
        self.line = first.line
        """Line of the first problem (1-based)."""
        self.column = first.column
        """Column of the first problem, when the TOML parser gives one."""


# ---------------------------------------------------------------------------------------------
# The catalogue


class Catalogue:
    """A loaded catalogue.

    Search runs over one string holding a line per role (`search_line`), so a query is a few
    `str.find` calls instead of 50,000 comparisons, and a catalogue that came from the cache
    decodes only the roles (and accounts) a command touches.
    """

    __slots__ = (
        "_accounts",
        "_index",
        "_line_list",
        "_lines",
        "_roles",
        "_starts",
        "path",
        "session_names",
    )

    def __init__(
        self,
        path: str,
        accounts: tuple[Account, ...] | _Packed,
        session_names: dict[str, str],
        lines: bytes,
        roles: list[Role | None],
        packed: _Packed | None = None,
        starts: Sequence[int] | None = None,
    ) -> None:
        self.path = path
        """The file this catalogue was read from."""
        self.session_names = session_names
        """Named templates from `[session_names]`, in file order."""
        self._accounts = accounts
        self._lines = lines
        self._roles = roles
        self._index = packed
        self._starts = line_starts(lines) if starts is None else starts
        self._line_list: list[str] | None = None

    @classmethod
    def build(
        cls,
        path: str,
        accounts: Sequence[Account],
        session_names: dict[str, str],
        roles: list[Role],
    ) -> Catalogue:
        """A catalogue from freshly validated values."""
        lines = "".join(search_line(r) + "\n" for r in roles).encode()
        return cls(path, tuple(accounts), session_names, lines, list(roles))

    def __len__(self) -> int:
        return len(self._roles)

    @property
    def accounts(self) -> tuple[Account, ...]:
        """Every account, in file order."""
        if isinstance(self._accounts, _Packed):
            self._accounts = tuple(Account._make(a) for a in self._accounts.all())
        return self._accounts

    def _role(self, index: int) -> Role:
        role = self._roles[index]
        if role is None:
            assert self._index is not None
            role = Role._make(self._index.item(index))
            self._roles[index] = role
        return role

    @property
    def roles(self) -> tuple[Role, ...]:
        """Every role, in file order."""
        return tuple(self)

    def __iter__(self) -> Iterator[Role]:
        return (self._role(i) for i in range(len(self._roles)))

    def prepare_for_typing(self) -> None:
        """Keep one string per role as well, for front ends that search on every keystroke.

        A `str.find` walk over the joined text is fastest for one rare word (a command line
        query); a comprehension over 50,000 short strings is steadier when a word matches
        most roles (the first letters typed into the TUI). Costs a few MiB.
        """
        if self._line_list is None:
            self._line_list = self._lines.decode().split("\n")[: len(self._roles)]
            self._lines = b""  # every reader uses the list from now on: keep one copy

    def search_text(self) -> bytes:
        """Every search line, each ending in a newline, UTF-8 (what the cache stores)."""
        if self._line_list is not None:
            return "".join(line + "\n" for line in self._line_list).encode()
        return self._lines

    def _lines_with(self, word: str) -> list[int]:
        """Indexes of the roles whose search line contains `word`, in order."""
        if self._line_list is not None:
            return [i for i, line in enumerate(self._line_list) if word in line]
        # The joined text is UTF-8: a word's bytes occur in it exactly where the word does.
        lines, starts, hits, needle = self._lines, self._starts, [], word.encode()
        pos = lines.find(needle)
        while pos != -1:
            index = bisect_right(starts, pos) - 1
            hits.append(index)
            pos = lines.find(needle, starts[index + 1])  # next line: one hit per role
        return hits

    def indexes(self, query: str, within: Sequence[int] | None = None) -> list[int]:
        """Positions of the roles for which every word of `query` occurs, in file order.

        `within` narrows an earlier result (the TUI passes the hits of the query before the
        last keystroke when the new query only adds to it).
        """
        words = sorted(set(query.lower().split()), key=len, reverse=True)
        if not words:
            return list(range(len(self._roles)))
        if within is None:
            hits = self._lines_with(words[0])
            rest = words[1:]
        else:
            hits, rest = list(within), words
        if rest and self._line_list is not None:
            lines = self._line_list
            for word in rest:  # one flat comprehension per word: no call per role
                hits = [i for i in hits if word in lines[i]]
        elif rest:
            line = self.line
            hits = [i for i in hits if all(w in line(i) for w in rest)]
        return hits

    def search(self, query: str) -> list[Role]:
        """Roles for which every word of `query` occurs (case-insensitive), in file order."""
        return [self._role(i) for i in self.indexes(query)]

    def role_at(self, index: int) -> Role:
        """The role at position `index` (file order)."""
        return self._role(index)

    def line(self, index: int) -> str:
        """The lower-cased search line of the role at `index` (it starts with its target)."""
        if self._line_list is not None:
            return self._line_list[index]
        return self._lines[self._starts[index] : self._starts[index + 1] - 1].decode()

    def index_of(self, target: str) -> int | None:
        """Position of the role named exactly `ACCOUNT/ROLE` (account name or id)."""
        account, slash, name = target.partition("/")
        if not slash or not account or not name or " " in target:
            return None
        for index in self.indexes(target):
            role = self._role(index)
            if role.name.lower() == name.lower() and account in (role.account, role.account_id):
                return index
        return None

    def get(self, target: str) -> Role | None:
        """The role named exactly `ACCOUNT/ROLE` (account name or id; role case-insensitive)."""
        index = self.index_of(target)
        return None if index is None else self._role(index)

    def resolve(self, spec: str) -> Role:
        """Find one role from `ACCOUNT/ROLE`, `ACCOUNT_ID/ROLE`, a role ARN, or a query.

        A query must match exactly one role; several raise `AmbiguousTarget` (listing them).
        """
        spec = spec.strip()
        if not spec:
            raise TargetNotFound("no target was given.", hint="name a role as ACCOUNT/ROLE")
        if spec.startswith("arn:"):
            for role in self:
                if role.arn == spec or role.arn.lower() == spec.lower():
                    return role
            raise TargetNotFound(
                f"no role in {self.path} has the ARN {show(spec)}.",
                hint="`rolecall list --json` shows every role's ARN",
            )
        exact = self.get(spec)
        if exact is not None:
            return exact
        matches = self.search(spec.replace("/", " ") if "/" in spec else spec)
        if not matches and "/" in spec:
            matches = self.search(spec)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise TargetNotFound(
                f"no role in {self.path} matches {show(spec)}.",
                hint="`rolecall list` shows what the catalogue holds",
            )
        raise AmbiguousTarget(spec, [r.target for r in matches])

    def chain(self, role: Role) -> list[Role]:
        """The hops to assume for `role`, first hop first (the role itself is last)."""
        hops = [role]
        while hops[-1].via is not None:
            previous = self.get(hops[-1].via)
            assert previous is not None, "via references are checked at load time"
            hops.append(previous)
        hops.reverse()
        return hops

    def account(self, name: str) -> Account | None:
        """The account called `name`, or None."""
        return next((a for a in self.accounts if a.name == name), None)


# ---------------------------------------------------------------------------------------------
# Loading


def load(path: Path, cache_dir: Path | None = None) -> Catalogue:
    """Load and validate the catalogue at `path`, using the parsed-catalogue cache if given."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise RolecallError(
            f"there is no catalogue at {path}.",
            hint="write one (see accounts.example.toml) or pass --catalogue PATH",
        ) from None
    except OSError as e:
        raise RolecallError(f"cannot read the catalogue {path}: {e.strerror}.") from None
    key = (_CACHE_FORMAT, str(path.resolve()), info.st_size, info.st_mtime_ns)
    cache_file = _cache_file(cache_dir, key[1]) if cache_dir is not None else None
    if cache_file is not None:
        cached = _read_cache(cache_file, key)
        if cached is not None:
            return cached
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RolecallError(f"cannot read the catalogue {path}: {e.strerror}.") from None
    catalogue = parse(data, str(path))
    if cache_file is not None:
        _write_cache(cache_file, key, catalogue)
    return catalogue


def parse(data: bytes, file: str) -> Catalogue:
    """Validate catalogue bytes; raise `CatalogueError` listing every problem."""
    from rolecall.core.catalogue.loader import parse_document  # deferred: cache hits skip it

    return parse_document(data, file)


# ---------------------------------------------------------------------------------------------
# Small pure helpers


def parse_duration(value: object) -> int | None:
    """Seconds from `3600`, `"3600"`, `"15m"`, `"1h30m"`, `"90s"`; None if not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or not value:
        return None
    if value.isascii() and value.isdigit():
        return int(value) if len(value) <= 9 else None  # int() refuses > 4300 digits
    match = re.fullmatch(_DURATION, value)  # re caches the compiled pattern
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def format_duration(seconds: int) -> str:
    """`5400` → `"1h30m"`, `900` → `"15m"`, `45` → `"45s"`."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return out + (f"{secs}s" if secs or not out else "")


def partition_of(region: str) -> str | None:
    """The partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`, ...), or None."""
    for partition, pattern in PARTITION_REGIONS:
        if re.fullmatch(pattern, region):
            return partition
    return None


# ---------------------------------------------------------------------------------------------
# The parsed-catalogue cache

_CACHE_FORMAT = 5


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

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


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
        (_, path, accounts, account_offsets, session_names, lines, starts, stamp, offsets) = stored
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
        )
    except (EOFError, ValueError, TypeError, IndexError, OSError):
        return None  # a corrupt cache is a miss; the next load rewrites it
    finally:
        if fd is not None:
            os.close(fd)


def _write_cache(cache_file: Path, key: tuple[object, ...], catalogue: Catalogue) -> None:
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
        array("Q", catalogue._starts).tobytes(),
        stamp,
        offsets,
    )
    # Roles first, then the index that names them: a reader never sees an index whose
    # roles file is missing or stale (the stamp would not match). The cache is an
    # optimisation, so an unwritable cache dir must not break loading.
    try:
        write_private(cache_file.with_suffix(".roles"), stamp + roles)
        write_private(cache_file, marshal.dumps(payload))
    except (OSError, RolecallError):
        return
