"""The catalogue model: accounts and roles as frozen typed values, and the loaded `Catalogue`.

Also the catalogue's constants and small pure helpers (durations, partitions); the problem
types (`Problem`, `CatalogueError`) live in `problems` and are re-exported here. Reading a
file lives elsewhere: `loader` validates TOML (schema version 1) into these values, `includes`
walks the files a catalogue includes, `store` loads through the parsed-catalogue cache.

On the warm fast path, so it imports only `re`, `bisect`, `typing`, `rolecall.core.errors`,
`text` and `problems` (`Role.facts` imports the session-name module when it is first used).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

# Re-exported: callers import the problem types from the model.
from rolecall.core.catalogue.problems import CatalogueError as CatalogueError  # noqa: PLC0414
from rolecall.core.catalogue.problems import Problem as Problem  # noqa: PLC0414
from rolecall.core.errors import AmbiguousTarget, TargetNotFound
from rolecall.core.text import show

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
    file: str = ""
    """The catalogue file that defines the account (an included one, or the catalogue)."""


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


FileIdentity = tuple[str, int, int, int, int, int]
"""An included file as read: `(path, device, inode, size, mtime_ns, ctime_ns)`."""


class LineSource(Protocol):
    """The search text kept on disk until a search needs it (what the cache in `store`
    provides): one line is read for a row on screen, the whole text for the first search."""

    def read(self, start: int, end: int) -> bytes: ...  # the bytes from `start` to `end`

    def read_all(self) -> bytes: ...


class PackedRows(Protocol):
    """Rows kept serialised and decoded one at a time (what the cache in `store` provides)."""

    def item(self, index: int) -> Any:
        """The row at `index`, decoded."""
        ...

    def all(self) -> list[Any]:
        """Every row, decoded."""
        ...

    def items(self, indexes: Sequence[int]) -> list[Any]:
        """The rows at `indexes` (ascending), decoded: one read for neighbouring rows."""
        ...


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
        "includes",
        "path",
        "session_names",
    )

    def __init__(
        self,
        path: str,
        accounts: tuple[Account, ...] | PackedRows,
        session_names: dict[str, str],
        lines: bytes | LineSource,
        roles: list[Role | None],
        packed: PackedRows | None = None,
        starts: Sequence[int] | None = None,
        includes: tuple[FileIdentity, ...] = (),
    ) -> None:
        self.path = path
        """The file this catalogue was read from."""
        self.includes = includes
        """Every included file as it was read (`FileIdentity`); a change to any is a change."""
        self.session_names = session_names
        """Named templates from `[session_names]`, in file order."""
        self._accounts = accounts
        self._lines = lines
        self._roles = roles
        self._index = packed
        self._starts = starts if starts is not None else line_starts(lines)  # type: ignore[arg-type]
        self._line_list: list[str] | None = None

    @classmethod
    def build(
        cls,
        path: str,
        accounts: Sequence[Account],
        session_names: dict[str, str],
        roles: list[Role],
        includes: tuple[FileIdentity, ...] = (),
    ) -> Catalogue:
        """A catalogue from freshly validated values."""
        lines = "".join(search_line(r) + "\n" for r in roles).encode()
        return cls(path, tuple(accounts), session_names, lines, list(roles), includes=includes)

    def __len__(self) -> int:
        return len(self._roles)

    @property
    def accounts(self) -> tuple[Account, ...]:
        """Every account, in file order."""
        if not isinstance(self._accounts, tuple):
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
            self._line_list = self._text().decode().split("\n")[: len(self._roles)]
            self._lines = b""  # every reader uses the list from now on: keep one copy

    @property
    def starts(self) -> Sequence[int]:
        """Offsets where each search line starts, plus the end (what the cache stores)."""
        return self._starts

    def search_text(self) -> bytes:
        """Every search line, each ending in a newline, UTF-8 (what the cache stores)."""
        if self._line_list is not None:
            return "".join(line + "\n" for line in self._line_list).encode()
        return self._text()

    def _text(self) -> bytes:
        """The joined search lines, read from the cache the first time they are needed."""
        if not isinstance(self._lines, bytes):
            self._lines = self._lines.read_all()
        return self._lines

    def _lines_with(self, word: str) -> list[int]:
        """Indexes of the roles whose search line contains `word`, in order."""
        if self._line_list is not None:
            return [i for i, line in enumerate(self._line_list) if word in line]
        # The joined text is UTF-8: a word's bytes occur in it exactly where the word does.
        lines, starts, hits, needle = self._text(), self._starts, [], word.encode()
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
        return self.roles_at(self.indexes(query))

    def roles_at(self, indexes: Sequence[int]) -> list[Role]:
        """The roles at `indexes` (ascending, as `indexes` returns them).

        Roles not decoded yet are read together (`PackedRows.items`: one read per run of
        neighbouring rows), so `rolecall list` pays no read per printed row.
        """
        roles = self._roles
        missing = [i for i in indexes if roles[i] is None]
        if missing:
            assert self._index is not None
            make = Role._make
            for i, row in zip(missing, self._index.items(missing), strict=True):
                roles[i] = make(row)
        return [roles[i] for i in indexes]  # type: ignore[misc]  # every one is decoded now

    def role_at(self, index: int) -> Role:
        """The role at position `index` (file order)."""
        return self._role(index)

    def line(self, index: int) -> str:
        """The lower-cased search line of the role at `index` (it starts with its target)."""
        if self._line_list is not None:
            return self._line_list[index]
        start, end = self._starts[index], self._starts[index + 1] - 1
        if isinstance(self._lines, bytes):
            return self._lines[start:end].decode()
        return self._lines.read(start, end).decode()  # a row on screen before any search

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
            close = self.close_targets(spec)
            raise TargetNotFound(
                f"no role in {self.path} matches {show(spec)}.",
                hint=f"did you mean {' or '.join(close)}?"
                if close
                else "`rolecall list` shows what the catalogue holds",
            )
        raise AmbiguousTarget(spec, [r.target for r in matches])

    def close_targets(self, spec: str, limit: int = 3) -> list[str]:
        """Targets whose names are close to a mistyped `spec` (`payments-dev/Developr`).

        The account part is matched first (exactly, else by similarity), then the role part
        among that account's roles, so the cost stays small at 50,000 roles.
        """
        import difflib

        account, sep, role = spec.partition("/")
        names = [a.name for a in self.accounts]
        accounts = (
            [account] if account in names else difflib.get_close_matches(account, names, n=limit)
        )
        wanted = set(accounts)
        roles: dict[str, list[str]] = {name: [] for name in accounts}
        for candidate in self:
            if candidate.account in wanted:
                roles[candidate.account].append(candidate.name)
        close: list[str] = []
        for name in accounts:
            if sep:
                hits = difflib.get_close_matches(role, roles[name], n=limit)
            else:
                hits = roles[name][:limit]
            close += [f"{name}/{hit}" for hit in hits]
        return close[:limit]

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
