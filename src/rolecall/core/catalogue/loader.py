"""Catalogue validation: TOML text to frozen values, collecting every problem with its line.

`read_document` guards the TOML parser (size, line length, encoding, dotted-key length) and
`FileLoader` walks one file's document: accounts, roles and inheritance. `unique_accounts`
and `link` work across every file of a catalogue (duplicates, `via` chains); `includes`
drives them over the included files. The per-value rules are in `rules`, the key-path line
scanners in `lines`.

Only loaded on a cache miss or by `rolecall check`: a warm `rolecall list` never pays for
tomllib, difflib or the validation patterns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolecall.core.catalogue.lines import deepest_line, join_key, overlong_key, toml_position
from rolecall.core.catalogue.model import (
    CHAINED_MAX_DURATION,
    COLORS,
    DEFAULT_DURATION,
    DEFAULT_SESSION_NAME,
    MAX_FILE_BYTES,
    PARTITION_REGIONS,
    SCHEMA_VERSION,
    Account,
    CatalogueError,
    Problem,
    Role,
    format_duration,
    partition_of,
)
from rolecall.core.catalogue.rules import (
    ACCOUNT_ID,
    ACCOUNT_KEYS,
    ACCOUNT_NAME,
    DEFAULT_KEYS,
    ROLE_KEYS,
    ROLE_NAME,
    ROLE_PATH,
    ROOT_KEYS,
    SESSION_TAG_KEY,
    TAG,
    TEMPLATE_NAME,
    FieldChecker,
    kind_of,
)
from rolecall.core.text import inert, show

MAX_LINE_BYTES = 64 << 10
"""Longest line accepted."""

MAX_KEY_PARTS = 64
"""Most dotted parts in one key or table header (`a.b.c` has 3); the catalogue needs 3."""


def read_document(data: bytes, file: str) -> tuple[dict[str, Any], str]:
    """Parse catalogue bytes as TOML, guarded; `(document, text)` or `CatalogueError`."""
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
    # tomllib keeps every prefix of a dotted key: one 64 KiB line of `a.b.b.b...` takes 4 GB.
    # Only a file with that many dots can hold such a key, so the scan is skipped otherwise.
    if data.count(b".") >= MAX_KEY_PARTS:
        overlong = overlong_key(text, MAX_KEY_PARTS)
        if overlong is not None:
            message = f"a key on line {overlong} has more than {MAX_KEY_PARTS} dotted parts."
            raise CatalogueError([Problem(file, "", overlong, None, message)])
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        message, line, column = toml_position(str(e))
        raise CatalogueError(
            [Problem(file, "", line, column, f"this is not valid TOML: {message}.")]
        ) from e
    except RecursionError as e:
        raise CatalogueError(
            [
                Problem(
                    file,
                    "",
                    deepest_line(text),
                    None,
                    "this line nests arrays or tables too deeply.",
                )
            ]
        ) from e
    except ValueError as e:  # e.g. an out-of-range date
        raise CatalogueError(
            [Problem(file, "", 1, None, f"a value is invalid: {inert(str(e))}.")]
        ) from e


Pending = tuple[Role, str, dict[str, str], "FileLoader"]
"""A validated role before `via` is linked: the role, its key path, the key paths of the
settings it inherited, and the loader of its file (which reports its problems)."""

Loaded = tuple[Account, list[Pending], str, "FileLoader"]
"""A validated account: the account, its roles, its key path and the loader of its file."""


class FileLoader(FieldChecker):
    """Validates one catalogue file, collecting every problem (at this file's lines).

    The walk over the files of a catalogue (`includes`) calls `root`, then `session_names`
    of every file, then `accounts` with the templates of the whole catalogue.
    """

    def root(self, document: dict[str, Any]) -> dict[str, Any]:
        """The top-level table, its keys and `version` checked."""
        root = self.table(document, "", ROOT_KEYS)
        version = root.get("version")
        if "version" not in root:
            self.problem("", "the catalogue must start with `version = 1`.")
        elif type(version) is not int or version != SCHEMA_VERSION:
            self.problem(
                "version",
                f"schema version {show(version)} is not supported; this rolecall reads version 1.",
            )
        return root

    def accounts(self, root: dict[str, Any], session_names: Mapping[str, str]) -> list[Loaded]:
        """This file's valid accounts, with this file's `[defaults]` applied."""
        defaults = self.level(
            self.table(root.get("defaults", {}), "defaults", DEFAULT_KEYS),
            "defaults",
            session_names,
        )
        raw_accounts = root.get("accounts", [])
        if not isinstance(raw_accounts, list):
            self.problem(
                "accounts",
                f"must be an array of tables ([[accounts]]), not {kind_of(raw_accounts)}.",
            )
            raw_accounts = []
        out: list[Loaded] = []
        for i, raw in enumerate(raw_accounts):
            key = f"accounts[{i}]"
            loaded = self.account(raw, key, defaults, session_names)
            if loaded is not None:
                out.append((loaded[0], loaded[1], key, self))
        return out

    def where(self, key: str) -> str:
        """`file:line` of a key path, for messages that name another place."""
        return f"{self.file}:{self.line_of(key)}"

    def session_names(self, raw: Any) -> dict[str, str]:
        table = self.table(raw, "session_names", ()) if not isinstance(raw, dict) else raw
        out: dict[str, str] = {}
        for name in table:
            key = join_key("session_names", name)
            if not TEMPLATE_NAME.fullmatch(name):
                self.problem(
                    key, f"{show(name)} is not a valid template name (letters, digits, _ and -)."
                )
                continue
            text = self.string(table, name, "session_names")
            if text is not None and self.template(text, key, "session name") is not None:
                out[name] = text
        return out

    def account(
        self,
        raw: Any,
        key: str,
        defaults: Mapping[str, Any],
        session_names: Mapping[str, str],
    ) -> tuple[Account, list[Pending]] | None:
        if not isinstance(raw, dict):
            self.problem(key, f"must be a table, not {kind_of(raw)}.")
            return None
        table = self.table(raw, key, ACCOUNT_KEYS)
        before = len(self.problems)
        name = self.string(
            table, "name", key, ACCOUNT_NAME, "account name (letters, digits, . _ -)"
        )
        if "name" not in table:
            self.problem(key, "the account has no `name`.")
        account_id: str | None = None
        if "id" not in table:
            self.problem(key, "the account has no `id` (12 digits, written as a string).")
        elif type(table["id"]) is int:
            self.problem(
                join_key(key, "id"),
                "the account id must be a string of 12 digits.",
                'quote it: id = "012345678901" (a number loses leading zeros)',
            )
        else:
            account_id = self.string(table, "id", key, ACCOUNT_ID, "account id (exactly 12 digits)")
        settings = {**defaults, **self.level(table, key, session_names)}
        partition = self.string(table, "partition", key)
        region = settings.get("region", "us-east-1")
        region_partition = partition_of(region) or "aws"
        if partition is not None and partition != region_partition:
            if partition not in {p for p, _ in PARTITION_REGIONS}:
                self.problem(
                    join_key(key, "partition"), f"{show(partition)} is not an AWS partition."
                )
            else:
                self.problem(
                    join_key(key, "partition"),
                    f"partition {show(partition)} does not match region {region} "
                    f"({region_partition}).",
                )
        tags = self.string_list(table, "tags", key, TAG, "tag (no spaces or commas)")
        description = self.string(table, "description", key) or ""
        color = self.string(table, "color", key)
        if color is not None and color not in COLORS:
            self.problem(
                join_key(key, "color"),
                f"{show(color)} is not a colour.",
                f"use one of: {', '.join(COLORS)}",
            )
            color = None
        via = self.string(table, "via", key)
        raw_roles = table.get("roles", [])
        if not isinstance(raw_roles, list):
            self.problem(
                join_key(key, "roles"),
                f"must be an array of tables ([[accounts.roles]]), not {kind_of(raw_roles)}.",
            )
            raw_roles = []
        if len(self.problems) > before or name is None or account_id is None:
            return None
        account = Account(
            name, account_id, region, region_partition, tags, description, color, self.file
        )
        roles: list[Pending] = []
        seen: dict[str, str] = {}
        for j, raw_role in enumerate(raw_roles):
            role_key = f"{key}.roles[{j}]"
            loaded = self.role(raw_role, role_key, account, settings, via, session_names)
            if loaded is None:
                continue
            if loaded[0].name.lower() in seen:
                self.problem(
                    join_key(role_key, "name"),
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
    ) -> Pending | None:
        if not isinstance(raw, dict):
            self.problem(key, f"must be a table, not {kind_of(raw)}.")
            return None
        table = self.table(raw, key, ROLE_KEYS)
        before = len(self.problems)
        name = self.string(
            table, "name", key, ROLE_NAME, "IAM role name (1-64 of letters, digits, _+=,.@-)"
        )
        if "name" not in table:
            self.problem(key, "the role has no `name`.")
        path = (
            self.string(table, "path", key, ROLE_PATH, "IAM path (starts and ends with /)") or "/"
        )
        if len(path) > 512:
            self.problem(join_key(key, "path"), "an IAM path is at most 512 characters.")
        settings = {**inherited, **self.level(table, key, session_names)}
        region = settings.get("region", account.region)
        if partition_of(region) != account.partition:
            self.problem(
                join_key(key, "region"),
                f"region {region} is not in the account's partition ({account.partition}).",
            )
        via = self.string(table, "via", key) if "via" in table else account_via
        tags = self.string_list(table, "tags", key, TAG, "tag (no spaces or commas)")
        description = self.string(table, "description", key) or ""
        session_tags = self.session_tags(table, key)
        transitive = self.string_list(
            table, "transitive_tags", key, SESSION_TAG_KEY, "session tag key"
        )
        for i, tag in enumerate(transitive):
            if tag not in dict(session_tags):
                self.problem(
                    f"{join_key(key, 'transitive_tags')}[{i}]",
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
        return role, key, {"duration": duration_key}, self


def unique_accounts(loaded: list[Loaded]) -> tuple[list[Account], list[Pending]]:
    """The accounts whose name and id no earlier account has, and their roles.

    A name or id used twice (in one file or across included files) is reported at the second
    place, naming the first by key path and `file:line`.
    """
    accounts: list[Account] = []
    pending: list[Pending] = []
    names: dict[str, tuple[str, FileLoader]] = {}
    ids: dict[str, tuple[str, FileLoader]] = {}
    for account, roles, key, loader in loaded:
        first = names.get(account.name.lower())
        if first is not None:
            loader.problem(
                join_key(key, "name"),
                f"account name {show(account.name)} is already used by {first[0]} "
                f"at {first[1].where(first[0])}.",
            )
            continue
        first = ids.get(account.id)
        if first is not None:
            loader.problem(
                join_key(key, "id"),
                f"account id {account.id} is already used by {first[0]} "
                f"at {first[1].where(first[0])}.",
                "one account per id; put all its roles under one [[accounts]]",
            )
            continue
        names[account.name.lower()] = ids[account.id] = (key, loader)
        accounts.append(account)
        pending.extend(roles)
    return accounts, pending


def link(pending: list[Pending]) -> list[Role]:
    """Resolve `via` references, refuse dangling ones and loops, cap chained durations."""
    by_target: dict[str, Role] = {}
    for role, _, _, _ in pending:
        by_target[role.target.lower()] = role
        by_target[f"{role.account_id}/{role.name}".lower()] = role
    by_account: dict[str, list[str]] = {}
    for role, _, _, _ in pending:
        by_account.setdefault(role.account.lower(), []).append(role.target)
    linked: list[Role] = []
    resolved_via: dict[str, str | None] = {}
    for role, key, keys, loader in pending:
        via = role.via
        if via is not None:
            target = by_target.get(via.lower())
            if target is None:
                close = loader.suggest_target(via, by_account)
                loader.problem(
                    join_key(key, "via"),
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
                    loader.problem(
                        keys["duration"],
                        f"{format_duration(role.duration)} is too long for a chained role "
                        f"(via {via}); AWS allows at most 1h.",
                        'set duration = "1h" or less on this role',
                    )
                    continue
        resolved_via[role.target] = via
        linked.append(role._replace(via=via))
    keys_of = {role.target: (key, loader) for role, key, _, loader in pending}
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
            key, loader = keys_of[current]
            loader.problem(
                join_key(key, "via"),
                "via chain loops: " + " → ".join([*loop, current]) + ".",
                "one role in the loop must use a source_profile instead",
            )
        done.update(path)
    return linked
