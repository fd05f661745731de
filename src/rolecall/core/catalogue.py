"""The catalogue: accounts and roles from TOML (schema version 1) as frozen typed values.

Loading validates everything that can be checked before an AWS call and reports every problem
of a file in one `CatalogueError`, each with file, dotted key path and line. Roles inherit
`[defaults]` → account → role. Parsed catalogues are cached (keyed by path, size and mtime) so
that a 50,000-role catalogue loads in milliseconds after the first time; the cache keeps the
rows serialised and decodes only the roles a command touches.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import marshal
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from rolecall.core.errors import AmbiguousTarget, RolecallError, TargetNotFound, TemplateError
from rolecall.core.private_files import read_private, write_private
from rolecall.core.session_name import RoleFacts, Template, parse_template
from rolecall.core.text import has_unsafe, inert, show

SCHEMA_VERSION = 1
"""The only catalogue `version` this release understands."""

MAX_FILE_BYTES = 1 << 20
"""Catalogues above 1 MiB are refused: hand-written ones are far smaller, and the cap keeps
a hostile file from stalling the parser."""

DEFAULT_SESSION_NAME = "{user}@{host}"
"""The session-name template used when the catalogue sets none."""

DEFAULT_DURATION = 3600
"""STS's own default: one hour."""

CHAINED_MAX_DURATION = 3600
"""AWS caps role-chained sessions at one hour."""

MIN_DURATION, MAX_DURATION = 900, 43200

COLORS = ("blue", "turquoise", "green", "yellow", "orange", "red", "pink", "purple")
"""Account colours (the Firefox container palette, so the console hand-off can use them)."""

PARTITION_REGIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Order matters: us-gov- and us-iso- must be tried before the commercial "us-" rule.
    ("aws-us-gov", re.compile(r"us-gov-[a-z]+-[0-9]+")),
    ("aws-iso", re.compile(r"us-iso-[a-z]+-[0-9]+")),
    ("aws-iso-b", re.compile(r"us-isob-[a-z]+-[0-9]+")),
    ("aws-iso-f", re.compile(r"us-isof-[a-z]+-[0-9]+")),
    ("aws-iso-e", re.compile(r"eu-isoe-[a-z]+-[0-9]+")),
    ("aws-eusc", re.compile(r"eusc-de-[a-z]+-[0-9]+")),
    ("aws-cn", re.compile(r"cn-[a-z]+-[0-9]+")),
    ("aws", re.compile(r"(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-[0-9]+")),
)
"""Region patterns per partition, after botocore's partitions.json (no botocore import)."""

_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ROLE_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
_ROLE_PATH = re.compile(r"/(?:[\x21-\x7e]+/)?")
_MFA_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:(?:mfa|u2f)/[A-Za-z0-9_+=,.@/-]{1,256}")
_MFA_SERIAL = re.compile(r"[A-Za-z0-9_+=/:,.@-]{9,256}")
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_+=,.@:/-]{2,1224}")
_TAG = re.compile(r"[^\s,]{1,64}")
_SESSION_TAG_KEY = re.compile(r"[A-Za-z0-9 _.:/=+@-]{1,128}")
_SESSION_TAG_VALUE = re.compile(r"[A-Za-z0-9 _.:/=+@-]{0,256}")
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONSOLE_SHORTCUT = re.compile(r"[a-z][a-z0-9-]{0,63}")
_DURATION = re.compile(r"(?:([0-9]{1,5})h)?(?:([0-9]{1,5})m)?(?:([0-9]{1,5})s)?")
_PROFILE = re.compile(r"[^\s\[\]]{1,128}")

# Keys every level may set, inherited defaults → account → role.
_INHERITED = (
    "region",
    "source_profile",
    "duration",
    "session_name",
    "source_identity",
    "confirm",
    "mfa_serial",
    "external_id",
    "console",
)
_ROOT_KEYS = ("version", "defaults", "session_names", "accounts")
_DEFAULT_KEYS = _INHERITED
_ACCOUNT_KEYS = (
    "name",
    "id",
    "partition",
    "tags",
    "description",
    "color",
    "roles",
    "via",
    *_INHERITED,
)
_ROLE_KEYS = (
    "name",
    "path",
    "tags",
    "description",
    "via",
    "session_tags",
    "transitive_tags",
    *_INHERITED,
)


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
        return RoleFacts(self.account, self.account_id, self.name, self.partition)

    @property
    def is_prod(self) -> bool:
        """Whether the role carries the `prod` tag (marked in lists, confirmed by default)."""
        return "prod" in self.tags


def _haystack(role: Role) -> str:
    """The lower-cased text every search word is matched against."""
    return " ".join((role.target, role.account_id, *role.tags, role.description, role.arn)).lower()


@dataclass(frozen=True, slots=True)
class Problem:
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
    """A loaded catalogue. Roles are decoded lazily when it came from the cache."""

    __slots__ = (
        "_blobs",
        "_by_target",
        "_haystacks",
        "_roles",
        "accounts",
        "path",
        "session_names",
    )

    def __init__(
        self,
        path: str,
        accounts: tuple[Account, ...],
        session_names: dict[str, str],
        haystacks: tuple[str, ...],
        roles: list[Role | None],
        blobs: tuple[bytes, ...] | None = None,
    ) -> None:
        self.path = path
        """The file this catalogue was read from."""
        self.accounts = accounts
        """Every account, in file order."""
        self.session_names = session_names
        """Named templates from `[session_names]`, in file order."""
        self._haystacks = haystacks
        self._roles = roles
        self._blobs = blobs
        self._by_target: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self._haystacks)

    def _role(self, index: int) -> Role:
        role = self._roles[index]
        if role is None:
            assert self._blobs is not None
            role = Role._make(marshal.loads(self._blobs[index]))  # noqa: S302
            self._roles[index] = role
        return role

    @property
    def roles(self) -> tuple[Role, ...]:
        """Every role, in file order."""
        return tuple(self._role(i) for i in range(len(self._haystacks)))

    def __iter__(self) -> Iterator[Role]:
        return (self._role(i) for i in range(len(self._haystacks)))

    def search(self, query: str) -> list[Role]:
        """Roles for which every word of `query` occurs (case-insensitive), in file order."""
        words = query.lower().split()
        if not words:
            return list(self)
        if len(words) == 1:
            word = words[0]
            hits = [i for i, text in enumerate(self._haystacks) if word in text]
        else:
            hits = [i for i, text in enumerate(self._haystacks) if all(w in text for w in words)]
        return [self._role(i) for i in hits]

    def get(self, target: str) -> Role | None:
        """The role named exactly `ACCOUNT/ROLE` (account name or id; role case-insensitive)."""
        if self._by_target is None:
            index: dict[str, int] = {}
            for i, text in enumerate(self._haystacks):
                first, _, rest = text.partition(" ")
                role = first.partition("/")[2]
                index[first] = i
                index[f"{rest.split(' ', 1)[0]}/{role}"] = i
            self._by_target = index
        found = self._by_target.get(target.lower())
        return None if found is None else self._role(found)

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
    import tomllib  # deferred: a cache hit never parses TOML

    if len(data) > MAX_FILE_BYTES:
        raise CatalogueError(
            [Problem(file, "", 1, None, f"the file is {len(data):,} bytes; the limit is 1 MiB.")]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise CatalogueError([Problem(file, "", line, None, "the file is not valid UTF-8.")]) from e
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message, line, column = _toml_position(str(e))
        raise CatalogueError(
            [Problem(file, "", line, column, f"this is not valid TOML: {message}.")]
        ) from e
    except RecursionError as e:
        raise CatalogueError(
            [Problem(file, "", 1, None, "the file nests arrays or tables too deeply.")]
        ) from e
    except ValueError as e:  # e.g. an out-of-range date
        raise CatalogueError(
            [Problem(file, "", 1, None, f"a value is invalid: {inert(str(e))}.")]
        ) from e
    return _Loader(file, text).load(document)


def _toml_position(message: str) -> tuple[str, int, int | None]:
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        return message[: match.start()], int(match.group(1)), int(match.group(2))
    match = re.search(r"\s*\(at end of document\)$", message)
    if match:
        return message[: match.start()], 1, None
    return message, 1, None


class _Loader:
    """Walks a parsed TOML document, collecting every problem before giving up."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines = _key_lines(text)
        self.problems: list[Problem] = []

    # -- reporting --------------------------------------------------------------------------

    def problem(self, key: str, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(self.file, inert(key), self.line_of(key), None, message, hint))

    def line_of(self, key: str) -> int:
        while key:
            if key in self.lines:
                return self.lines[key]
            cut = max(key.rfind("."), key.rfind("["))
            key = key[:cut] if cut > 0 else ""
        return 1

    # -- typed getters ----------------------------------------------------------------------

    def table(self, value: Any, key: str, allowed: Iterable[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(key, f"must be a table, not {_kind(value)}.")
            return {}
        allowed = tuple(allowed)
        for name in value:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                self.problem(
                    _join(key, name),
                    f"unknown key {show(name)}.",
                    f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(allowed)}",
                )
        return value

    def string(
        self,
        table: Mapping[str, Any],
        name: str,
        key: str,
        pattern: re.Pattern[str] | None = None,
        what: str = "",
    ) -> str | None:
        if name not in table:
            return None
        value = table[name]
        path = _join(key, name)
        if not isinstance(value, str):
            self.problem(path, f"must be a string, not {_kind(value)}.")
            return None
        if has_unsafe(value):
            self.problem(path, f"{show(value)} contains a control or invisible character.")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.problem(path, f"{show(value)} is not a valid {what or name.replace('_', ' ')}.")
            return None
        return value

    def boolean(self, table: Mapping[str, Any], name: str, key: str) -> bool | None:
        if name not in table:
            return None
        value = table[name]
        if not isinstance(value, bool):
            self.problem(_join(key, name), f"must be true or false, not {_kind(value)}.")
            return None
        return value

    def string_list(
        self, table: Mapping[str, Any], name: str, key: str, pattern: re.Pattern[str], what: str
    ) -> tuple[str, ...]:
        if name not in table:
            return ()
        value = table[name]
        path = _join(key, name)
        if not isinstance(value, list):
            self.problem(path, f"must be a list of strings, not {_kind(value)}.")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.problem(f"{path}[{i}]", f"must be a string, not {_kind(item)}.")
            elif has_unsafe(item) or not pattern.fullmatch(item):
                self.problem(f"{path}[{i}]", f"{show(item)} is not a valid {what}.")
            elif item not in out:
                out.append(item)
        return tuple(out)

    def duration(self, table: Mapping[str, Any], key: str) -> int | None:
        if "duration" not in table:
            return None
        value = table["duration"]
        path = _join(key, "duration")
        seconds = parse_duration(value)
        if seconds is None:
            self.problem(
                path,
                f"{show(value)} is not a duration.",
                'write "15m", "1h", "1h30m" or a number of seconds',
            )
            return None
        if not MIN_DURATION <= seconds <= MAX_DURATION:
            self.problem(
                path,
                f"{show(value)} is {format_duration(seconds)}; STS allows 15m to 12h.",
            )
            return None
        return seconds

    def template(self, text: str | None, key: str, what: str) -> Template | None:
        if text is None:
            return None
        try:
            template = parse_template(text)
        except TemplateError as e:
            self.problem(key, e.message, e.hint)
            return None
        longest = template.max_length()
        if longest is not None and longest < 2:
            self.problem(
                key,
                f"the {what} template {show(text)} can never render 2 or more valid characters.",
                "add text or a placeholder such as {user}",
            )
            return None
        if what == "source identity" and text.lower().startswith("aws:"):
            self.problem(key, f"a source identity may not start with 'aws:' ({show(text)}).")
            return None
        return template

    # -- the document -----------------------------------------------------------------------

    def load(self, document: dict[str, Any]) -> Catalogue:
        root = self.table(document, "", _ROOT_KEYS)
        version = root.get("version")
        if "version" not in root:
            self.problem("", "the catalogue must start with `version = 1`.")
        elif type(version) is not int or version != SCHEMA_VERSION:
            self.problem(
                "version",
                f"schema version {show(version)} is not supported; this rolecall reads version 1.",
            )
        session_names = self.session_names(root.get("session_names", {}))
        defaults = self.level(
            self.table(root.get("defaults", {}), "defaults", _DEFAULT_KEYS),
            "defaults",
            session_names,
        )
        raw_accounts = root.get("accounts", [])
        if not isinstance(raw_accounts, list):
            self.problem(
                "accounts", f"must be an array of tables ([[accounts]]), not {_kind(raw_accounts)}."
            )
            raw_accounts = []
        accounts: list[Account] = []
        pending: list[tuple[Role, str, dict[str, str]]] = []
        names: dict[str, str] = {}
        ids: dict[str, str] = {}
        for i, raw in enumerate(raw_accounts):
            key = f"accounts[{i}]"
            loaded = self.account(raw, key, defaults, session_names)
            if loaded is None:
                continue
            account, roles = loaded
            if account.name.lower() in names:
                self.problem(
                    _join(key, "name"),
                    f"account name {show(account.name)} is already used by "
                    f"{names[account.name.lower()]}.",
                )
                continue
            if account.id in ids:
                self.problem(
                    _join(key, "id"),
                    f"account id {account.id} is already used by {ids[account.id]}.",
                    "one account per id; put all its roles under one [[accounts]]",
                )
                continue
            names[account.name.lower()] = key
            ids[account.id] = key
            accounts.append(account)
            pending.extend(roles)
        linked = self.link(pending)
        if self.problems:
            self.problems.sort(key=lambda p: (p.line, p.key))
            raise CatalogueError(self.problems)
        return Catalogue(
            path=self.file,
            accounts=tuple(accounts),
            session_names=session_names,
            haystacks=tuple(_haystack(r) for r in linked),
            roles=list(linked),
        )

    def session_names(self, raw: Any) -> dict[str, str]:
        table = self.table(raw, "session_names", ()) if not isinstance(raw, dict) else raw
        out: dict[str, str] = {}
        for name in table:
            key = _join("session_names", name)
            if not _TEMPLATE_NAME.fullmatch(name):
                self.problem(
                    key, f"{show(name)} is not a valid template name (letters, digits, _ and -)."
                )
                continue
            text = self.string(table, name, "session_names")
            if text is not None and self.template(text, key, "session name") is not None:
                out[name] = text
        return out

    def level(
        self, table: Mapping[str, Any], key: str, session_names: Mapping[str, str]
    ) -> dict[str, Any]:
        """Validate the inheritable keys of one level; return those that are set and valid.

        Values carry their key path along, so later errors (a chained role asking for more
        than an hour) can point at the line that set them.
        """
        out: dict[str, Any] = {}
        region = self.string(table, "region", key)
        if region is not None:
            if partition_of(region) is None:
                self.problem(
                    _join(key, "region"),
                    f"{show(region)} is not an AWS region.",
                    "regions look like us-east-1, eu-west-1, cn-north-1, us-gov-west-1",
                )
            else:
                out["region"] = region
        for name, pattern, what in (
            ("source_profile", _PROFILE, "AWS profile name"),
            ("external_id", _EXTERNAL_ID, "external id (2-1224 of letters, digits, _+=,.@:/-)"),
        ):
            value = self.string(table, name, key, pattern, what)
            if value is not None:
                out[name] = value
        serial = self.string(table, "mfa_serial", key)
        if serial is not None:
            pattern = _MFA_ARN if serial.startswith("arn:") else _MFA_SERIAL
            if pattern.fullmatch(serial):
                out["mfa_serial"] = serial
            else:
                self.problem(
                    _join(key, "mfa_serial"),
                    f"{show(serial)} is not an MFA device ARN or serial number.",
                    "virtual devices look like arn:aws:iam::123456789012:mfa/alice",
                )
        console = self.string(table, "console", key)
        if console is not None:
            if _CONSOLE_SHORTCUT.fullmatch(console) or console.startswith("https://"):
                out["console"] = console
            else:
                self.problem(
                    _join(key, "console"),
                    f"{show(console)} is neither a console service (e.g. s3) nor an https:// URL.",
                )
        seconds = self.duration(table, key)
        if seconds is not None:
            out["duration"] = (seconds, _join(key, "duration"))
        confirm = self.boolean(table, "confirm", key)
        if confirm is not None:
            out["confirm"] = confirm
        session_name = self.string(table, "session_name", key)
        if session_name is not None:
            path = _join(key, "session_name")
            if session_name.startswith("@"):
                ref = session_name[1:]
                if ref in session_names:
                    out["session_name"] = (session_names[ref], ref)
                else:
                    close = difflib.get_close_matches(ref, list(session_names), n=1)
                    self.problem(
                        path,
                        f"there is no template {show(ref)} in [session_names].",
                        f"did you mean '@{close[0]}'?" if close else "add it to [session_names]",
                    )
            elif self.template(session_name, path, "session name") is not None:
                out["session_name"] = (session_name, None)
        identity = self.string(table, "source_identity", key)
        if identity is not None and self.template(
            identity, _join(key, "source_identity"), "source identity"
        ):
            out["source_identity"] = identity
        return out

    def account(
        self,
        raw: Any,
        key: str,
        defaults: Mapping[str, Any],
        session_names: Mapping[str, str],
    ) -> tuple[Account, list[tuple[Role, str, dict[str, str]]]] | None:
        if not isinstance(raw, dict):
            self.problem(key, f"must be a table, not {_kind(raw)}.")
            return None
        table = self.table(raw, key, _ACCOUNT_KEYS)
        before = len(self.problems)
        name = self.string(
            table, "name", key, _ACCOUNT_NAME, "account name (letters, digits, . _ -)"
        )
        if "name" not in table:
            self.problem(key, "the account has no `name`.")
        account_id: str | None = None
        if "id" not in table:
            self.problem(key, "the account has no `id` (12 digits, written as a string).")
        elif type(table["id"]) is int:
            self.problem(
                _join(key, "id"),
                "the account id must be a string of 12 digits.",
                'quote it: id = "012345678901" (a number loses leading zeros)',
            )
        else:
            account_id = self.string(
                table, "id", key, _ACCOUNT_ID, "account id (exactly 12 digits)"
            )
        settings = {**defaults, **self.level(table, key, session_names)}
        partition = self.string(table, "partition", key)
        region = settings.get("region", "us-east-1")
        region_partition = partition_of(region) or "aws"
        if partition is not None and partition != region_partition:
            if partition not in {p for p, _ in PARTITION_REGIONS}:
                self.problem(_join(key, "partition"), f"{show(partition)} is not an AWS partition.")
            else:
                self.problem(
                    _join(key, "partition"),
                    f"partition {show(partition)} does not match region {region} "
                    f"({region_partition}).",
                )
        tags = self.string_list(table, "tags", key, _TAG, "tag (no spaces or commas)")
        description = self.string(table, "description", key) or ""
        color = self.string(table, "color", key)
        if color is not None and color not in COLORS:
            self.problem(
                _join(key, "color"),
                f"{show(color)} is not a colour.",
                f"use one of: {', '.join(COLORS)}",
            )
            color = None
        via = self.string(table, "via", key)
        raw_roles = table.get("roles", [])
        if not isinstance(raw_roles, list):
            self.problem(
                _join(key, "roles"),
                f"must be an array of tables ([[accounts.roles]]), not {_kind(raw_roles)}.",
            )
            raw_roles = []
        if len(self.problems) > before or name is None or account_id is None:
            return None
        account = Account(name, account_id, region, region_partition, tags, description, color)
        roles: list[tuple[Role, str, dict[str, str]]] = []
        seen: dict[str, str] = {}
        for j, raw_role in enumerate(raw_roles):
            role_key = f"{key}.roles[{j}]"
            loaded = self.role(raw_role, role_key, account, settings, via, session_names)
            if loaded is None:
                continue
            if loaded[0].name.lower() in seen:
                self.problem(
                    _join(role_key, "name"),
                    f"role {show(loaded[0].name)} is already listed in this account at "
                    f"{seen[loaded[0].name.lower()]}.",
                )
                continue
            seen[loaded[0].name.lower()] = role_key
            roles.append(loaded)
        return account, roles

    def role(
        self,
        raw: Any,
        key: str,
        account: Account,
        inherited: Mapping[str, Any],
        account_via: str | None,
        session_names: Mapping[str, str],
    ) -> tuple[Role, str, dict[str, str]] | None:
        if not isinstance(raw, dict):
            self.problem(key, f"must be a table, not {_kind(raw)}.")
            return None
        table = self.table(raw, key, _ROLE_KEYS)
        before = len(self.problems)
        name = self.string(
            table, "name", key, _ROLE_NAME, "IAM role name (1-64 of letters, digits, _+=,.@-)"
        )
        if "name" not in table:
            self.problem(key, "the role has no `name`.")
        path = (
            self.string(table, "path", key, _ROLE_PATH, "IAM path (starts and ends with /)") or "/"
        )
        if len(path) > 512:
            self.problem(_join(key, "path"), "an IAM path is at most 512 characters.")
        settings = {**inherited, **self.level(table, key, session_names)}
        region = settings.get("region", account.region)
        if partition_of(region) != account.partition:
            self.problem(
                _join(key, "region"),
                f"region {region} is not in the account's partition ({account.partition}).",
            )
        via = self.string(table, "via", key) if "via" in table else account_via
        tags = self.string_list(table, "tags", key, _TAG, "tag (no spaces or commas)")
        description = self.string(table, "description", key) or ""
        session_tags = self.session_tags(table, key)
        transitive = self.string_list(
            table, "transitive_tags", key, _SESSION_TAG_KEY, "session tag key"
        )
        for i, tag in enumerate(transitive):
            if tag not in dict(session_tags):
                self.problem(
                    f"{_join(key, 'transitive_tags')}[{i}]",
                    f"{show(tag)} is not one of this role's session_tags.",
                )
        if len(self.problems) > before or name is None:
            return None
        duration_value = settings.get("duration")
        duration, duration_key = duration_value if duration_value else (DEFAULT_DURATION, "")
        template, template_ref = settings.get("session_name", (DEFAULT_SESSION_NAME, None))
        all_tags = account.tags + tuple(t for t in tags if t not in account.tags)
        confirm = settings.get("confirm", "prod" in all_tags)
        role = Role(
            account=account.name,
            account_id=account.id,
            name=name,
            path=path,
            arn=f"arn:{account.partition}:iam::{account.id}:role{path}{name}",
            region=region,
            partition=account.partition,
            via=via,
            source_profile=settings.get("source_profile"),
            mfa_serial=settings.get("mfa_serial"),
            external_id=settings.get("external_id"),
            duration=duration,
            session_name=template,
            session_name_ref=template_ref,
            source_identity=settings.get("source_identity"),
            confirm=confirm,
            session_tags=session_tags,
            transitive_tags=transitive,
            console=settings.get("console"),
            tags=all_tags,
            description=description or account.description,
            color=account.color,
        )
        return role, key, {"duration": duration_key}

    def session_tags(self, table: Mapping[str, Any], key: str) -> tuple[tuple[str, str], ...]:
        if "session_tags" not in table:
            return ()
        raw = table["session_tags"]
        path = _join(key, "session_tags")
        if not isinstance(raw, dict):
            self.problem(path, f"must be a table of strings, not {_kind(raw)}.")
            return ()
        if len(raw) > 50:
            self.problem(path, f"STS accepts at most 50 session tags, not {len(raw)}.")
        out: list[tuple[str, str]] = []
        for tag_key, value in raw.items():
            if not _SESSION_TAG_KEY.fullmatch(tag_key):
                self.problem(
                    _join(path, tag_key), f"{show(tag_key)} is not a valid session tag key."
                )
            elif not isinstance(value, str):
                self.problem(_join(path, tag_key), f"must be a string, not {_kind(value)}.")
            elif not _SESSION_TAG_VALUE.fullmatch(value):
                self.problem(
                    _join(path, tag_key), f"{show(value)} is not a valid session tag value."
                )
            else:
                out.append((tag_key, value))
        return tuple(out)

    def link(self, pending: list[tuple[Role, str, dict[str, str]]]) -> list[Role]:
        """Resolve `via` references, refuse dangling ones and loops, cap chained durations."""
        by_target: dict[str, Role] = {}
        for role, _, _ in pending:
            by_target[role.target.lower()] = role
            by_target[f"{role.account_id}/{role.name}".lower()] = role
        linked: list[Role] = []
        resolved_via: dict[str, str | None] = {}
        for role, key, keys in pending:
            via = role.via
            if via is not None:
                target = by_target.get(via.lower())
                if target is None:
                    close = difflib.get_close_matches(via, [r.target for r, _, _ in pending], n=1)
                    self.problem(
                        _join(key, "via"),
                        f"via {show(via)} names no role of this catalogue.",
                        f"did you mean '{close[0]}'?" if close else "write it as ACCOUNT/ROLE",
                    )
                    continue
                via = target.target
                if role.duration > CHAINED_MAX_DURATION:
                    if keys["duration"].startswith("defaults") or not keys["duration"]:
                        # [defaults] are for direct roles; a chained one quietly gets the cap.
                        role = role._replace(duration=CHAINED_MAX_DURATION)  # noqa: PLW2901
                    else:
                        self.problem(
                            keys["duration"],
                            f"{format_duration(role.duration)} is too long for a chained role "
                            f"(via {via}); AWS allows at most 1h.",
                            'set duration = "1h" or less on this role',
                        )
                        continue
            resolved_via[role.target] = via
            linked.append(role._replace(via=via))
        keys_of = {role.target: key for role, key, _ in pending}
        reported: set[str] = set()
        for role in linked:
            seen: list[str] = []
            current: str | None = role.target
            while current is not None and current not in seen:
                seen.append(current)
                current = resolved_via.get(current)
            if current is not None and current not in reported:
                loop = seen[seen.index(current) :]
                reported.update(loop)
                self.problem(
                    _join(keys_of[current], "via"),
                    "via chain loops: " + " → ".join([*loop, current]) + ".",
                    "one role in the loop must use a source_profile instead",
                )
        return linked


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
        return int(value)
    match = _DURATION.fullmatch(value)
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
        if pattern.fullmatch(region):
            return partition
    return None


def _kind(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), "a date or time")


def _join(key: str, name: str) -> str:
    if not name or re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return f"{key}.{name}" if key else name
    quoted = '"' + inert(name[:60]).replace('"', '\\"') + '"'
    return f"{key}.{quoted}" if key else quoted


def _key_lines(text: str) -> dict[str, int]:
    """Map dotted key paths to the 1-based line that defines them.

    tomllib gives no positions, so this is a light line scanner that understands the shapes a
    hand-written catalogue uses: `[table]`, `[[array.of.tables]]` and `key = value` lines.
    Keys inside inline tables fall back to their parent's line.
    """
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    in_multiline: str | None = None
    header = re.compile(r"\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
    assign = re.compile(r"\s*([A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline is not None:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        match = header.match(line)
        if match:
            parts = [p.strip().strip("\"'") for p in match.group(2).split(".")]
            path = ""
            for part in parts[:-1]:
                path = _join(path, part)
                if path in counts:
                    path = f"{path}[{counts[path] - 1}]"
            path = _join(path, parts[-1])
            if match.group(1) == "[[":
                lines.setdefault(path, number)
                counts[path] = counts.get(path, 0) + 1
                path = f"{path}[{counts[path] - 1}]"
            lines.setdefault(path, number)
            table = path
            continue
        match = assign.match(line)
        if match:
            lines.setdefault(_join(table, match.group(1).strip("\"'")), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_multiline = quote
    return lines


# ---------------------------------------------------------------------------------------------
# The parsed-catalogue cache

_CACHE_FORMAT = 1


def _cache_file(cache_dir: Path, resolved: str) -> Path:
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return cache_dir / "catalogues" / f"{digest}.marshal"


def _read_cache(cache_file: Path, key: tuple[object, ...]) -> Catalogue | None:
    blob = read_private(cache_file)
    if blob is None:
        return None
    try:
        # Trusted: read_private only returns 0600 files of ours from a 0700 directory.
        stored = marshal.loads(blob)  # noqa: S302
        if stored[0] != key:
            return None
        _, path, accounts, session_names, haystacks, blobs = stored
        return Catalogue(
            path=path,
            accounts=tuple(Account._make(a) for a in accounts),
            session_names=session_names,
            haystacks=haystacks,
            roles=[None] * len(haystacks),
            blobs=blobs,
        )
    except (EOFError, ValueError, TypeError, IndexError):
        return None  # a corrupt cache is a miss; the next load rewrites it


def _write_cache(cache_file: Path, key: tuple[object, ...], catalogue: Catalogue) -> None:
    payload: tuple[Any, ...] = (
        key,
        catalogue.path,
        tuple(tuple(a) for a in catalogue.accounts),
        catalogue.session_names,
        catalogue._haystacks,
        tuple(marshal.dumps(tuple(role)) for role in catalogue),
    )
    # The cache is an optimisation: an unwritable cache dir must not break loading.
    with contextlib.suppress(OSError, RolecallError):
        write_private(cache_file, marshal.dumps(payload))
