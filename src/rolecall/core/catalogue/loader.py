"""Catalogue validation: TOML text to frozen values, collecting every problem with its line.

Only loaded on a cache miss or by `rolecall check`: a warm `rolecall list` never pays for
tomllib, difflib or the validation patterns.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from rolecall.core.catalogue.model import (
    CHAINED_MAX_DURATION,
    COLORS,
    DEFAULT_DURATION,
    DEFAULT_SESSION_NAME,
    MAX_DURATION,
    MAX_FILE_BYTES,
    MIN_DURATION,
    PARTITION_REGIONS,
    SCHEMA_VERSION,
    Account,
    Catalogue,
    CatalogueError,
    Problem,
    Role,
    format_duration,
    parse_duration,
    partition_of,
)
from rolecall.core.errors import TemplateError
from rolecall.core.naming.session_name import Template, parse_template
from rolecall.core.text import has_unsafe, inert, show

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


MAX_LINE_BYTES = 64 << 10
"""Longest line accepted."""

SUGGESTIONS = 50
""""Did you mean" hints are computed for this many problems at most (each one compares
against every name, which is slow for thousands of problems)."""


def parse_document(data: bytes, file: str) -> Catalogue:
    """Validate catalogue bytes; raise `CatalogueError` listing every problem."""
    import tomllib  # deferred: a cache hit never parses TOML

    if len(data) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES >> 20
        raise CatalogueError(
            [
                Problem(
                    file, "", 1, None, f"the file is {len(data):,} bytes; the limit is {limit} MiB."
                )
            ]
        )
    # tomllib is quadratic on some pathological lines (very long dotted keys); no hand-written
    # or generated catalogue line comes near this.
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if len(raw) > MAX_LINE_BYTES:
            raise CatalogueError(
                [Problem(file, "", number, None, f"line {number} is longer than 64 KiB.")]
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

    def suggest(self, word: str, candidates: Iterable[str]) -> str | None:
        """The closest candidate to `word`, for the first `SUGGESTIONS` problems only."""
        if len(self.problems) >= SUGGESTIONS:
            return None
        close = difflib.get_close_matches(word, list(candidates), n=1)
        return close[0] if close else None

    def suggest_target(self, via: str, by_account: Mapping[str, list[str]]) -> str | None:
        """A close `ACCOUNT/ROLE` for a dangling `via`: among the roles of the named account,
        or, when the account is unknown, the closest account with the same role name."""
        account, _, name = via.partition("/")
        roles = by_account.get(account.lower())
        if roles is not None:
            return self.suggest(via, roles)
        close = self.suggest(account.lower(), by_account)
        if close is None:
            return None
        return f"{by_account[close][0].partition('/')[0]}/{name}"

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
        return Catalogue.build(self.file, accounts, session_names, linked)

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
        by_account: dict[str, list[str]] = {}
        for role, _, _ in pending:
            by_account.setdefault(role.account.lower(), []).append(role.target)
        linked: list[Role] = []
        resolved_via: dict[str, str | None] = {}
        for role, key, keys in pending:
            via = role.via
            if via is not None:
                target = by_target.get(via.lower())
                if target is None:
                    close = self.suggest_target(via, by_account)
                    self.problem(
                        _join(key, "via"),
                        f"via {show(via)} names no role of this catalogue.",
                        f"did you mean '{close}'?" if close else "write it as ACCOUNT/ROLE",
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
        # Each role is walked once: "done" roles are known to end at a root (or a reported
        # loop), so a long chain costs O(n), not O(n^2).
        done: set[str] = set()
        for role in linked:
            path: list[str] = []
            on_path: set[str] = set()
            current: str | None = role.target
            while current is not None and current not in done and current not in on_path:
                path.append(current)
                on_path.add(current)
                current = resolved_via.get(current)
            if current is not None and current in on_path:
                loop = path[path.index(current) :]
                self.problem(
                    _join(keys_of[current], "via"),
                    "via chain loops: " + " → ".join([*loop, current]) + ".",
                    "one role in the loop must use a source_profile instead",
                )
            done.update(path)
        return linked


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
    if re.fullmatch(r"[A-Za-z0-9_-]+", name):
        part = name
    else:  # quoted, as TOML writes it; "" for an empty key
        part = '"' + inert(name[:60]).replace('"', '\\"') + '"'
    return f"{key}.{part}" if key else part


def _key_lines(text: str) -> dict[str, int]:
    """Map dotted key paths to the 1-based line that defines them.

    tomllib gives no positions, so this is a light line scanner that understands the shapes a
    hand-written catalogue uses: `[table]`, `[[array.of.tables]]` and `key = value` lines.
    Keys inside inline tables fall back to their parent's line. It only ever affects which
    line a problem names, never whether the catalogue is valid.
    """
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    in_multiline: str | None = None
    assign = re.compile(r"[ \t]*([A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')[ \t]*=")
    # TOML lines end at \n only: str.splitlines would also split at U+2028, U+0085, ...
    for number, line in enumerate(text.split("\n"), start=1):
        if in_multiline is not None:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = _header(line)
        if header is not None:
            double, parts = header
            path = ""
            for part in parts[:-1]:
                path = _join(path, part)
                if path in counts:
                    path = f"{path}[{counts[path] - 1}]"
            path = _join(path, parts[-1])
            if double:
                lines.setdefault(path, number)
                counts[path] = counts.get(path, 0) + 1
                path = f"{path}[{counts[path] - 1}]"
            lines.setdefault(path, number)
            table = path
            continue
        match = assign.match(line)
        if match:
            lines.setdefault(_join(table, _key_text(match.group(1))), number)
            value = line[match.end() :].lstrip()
            for quote in ('"""', "'''"):
                if value.startswith(quote) and quote not in value[3:]:
                    in_multiline = quote
    return lines


def _header(line: str) -> tuple[bool, list[str]] | None:
    """`(is_array_of_tables, key parts)` for a table header line, else None (no regex: a
    backtracking pattern here was cubic on hostile lines)."""
    stripped = line.strip()
    if not stripped.startswith("["):
        return None
    double = stripped.startswith("[[")
    close = stripped.find("]]" if double else "]")
    if close == -1:
        return None
    rest = stripped[close + (2 if double else 1) :].strip()
    if rest and not rest.startswith("#"):
        return None
    inside = stripped[2 if double else 1 : close].strip()
    if not inside:
        return None
    return double, [_key_text(p.strip()) for p in inside.split(".")]


def _key_text(key: str) -> str:
    """A key as tomllib reads it: quotes removed, escapes decoded."""
    if key.startswith('"') and "\\" in key:
        import tomllib

        try:
            return next(iter(tomllib.loads(f"{key} = 0")))
        except (tomllib.TOMLDecodeError, StopIteration):
            return key.strip('"')
    return key.strip("\"'")
