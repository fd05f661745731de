"""Hostile catalogues never crash the loader, never stall it, and never leak raw control text.

Three hypothesis suites (2,700 cases in all) feed `parse` with valid TOML carrying hostile
values, with byte-mutated copies of accounts.example.toml, and with line-shuffled documents.
Every case must either load, with no unsafe character in any loaded string, or raise a
`CatalogueError` whose problems all name the file, a key path and a line, and whose text holds
no character of `rolecall.core.text.UNSAFE`. For documents written by tomli_w the line of every
problem is checked against an independent scan of the text. Fixed regressions pin the cases
that matter most: escaped ESC/NUL/bidi characters, 2,000-deep nesting, oversized files,
duplicates, typos and several independent errors reported at once.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolecall.core.catalogue.loader import MAX_KEY_PARTS, MAX_LINE_BYTES
from rolecall.core.catalogue.model import MAX_FILE_BYTES, Catalogue, CatalogueError
from rolecall.core.catalogue.store import parse
from rolecall.core.text import UNSAFE
from tests.conftest import EXAMPLE

FILE = "hostile.toml"
SEED_BYTES = EXAMPLE.read_bytes()
SEED_TEXT = SEED_BYTES.decode("utf-8")
SEED: dict[str, Any] = tomllib.loads(SEED_TEXT)

HEALTH = [
    HealthCheck.function_scoped_fixture,  # conftest's autouse isolation is harmless here
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
]

# Keys of each catalogue level (DESIGN.md section 3), so mutations can hit real keys.
# fmt: off
INHERITED = ("region", "source_profile", "duration", "session_name", "source_identity", "confirm",
             "mfa_serial", "external_id", "console")
LEVEL_KEYS: dict[str, tuple[str, ...]] = {
    "root": ("version", "defaults", "session_names", "accounts"),
    "defaults": INHERITED,
    "session_names": ("default", "ticket", "incident", "spare"),
    "account": ("name", "id", "partition", "tags", "description", "color", "roles", "via",
                *INHERITED),
    "role": ("name", "path", "tags", "description", "via", "session_tags", "transitive_tags",
             *INHERITED),
    "session_tags": ("team", "cost-centre"),
}
# fmt: on


# ---------------------------------------------------------------------------------------------
# The invariants every case must satisfy


def toml_document(data: bytes) -> dict[str, Any] | None:
    """The document as tomllib reads it, or None when the loader must refuse the whole file."""
    if len(data) > MAX_FILE_BYTES or any(len(line) > MAX_LINE_BYTES for line in data.split(b"\n")):
        return None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and TOMLDecodeError included
        return None


def table_depth(document: dict[str, Any]) -> int:
    """How many tables deep the document nests (arrays do not count)."""
    deepest = 0
    pending: list[tuple[object, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            deepest = max(deepest, depth)
            pending.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            pending.extend((v, depth) for v in value)
    return deepest


def assert_safe(text: str, what: str) -> None:
    found = re.search(UNSAFE, text)
    assert found is None, f"{what} holds a raw {found.group()!r}: {text[:300]!r}"


def check_error(
    data: bytes, error: CatalogueError, expected_lines: dict[str, int] | None = None
) -> None:
    """Every problem names the file, a key path and a real line, in text that is safe to show."""
    problems = error.problems
    assert problems, "a CatalogueError without problems"
    line_count = data.count(b"\n") + 1
    for problem in problems:
        assert problem.file == FILE, problem
        assert isinstance(problem.key, str), problem
        assert isinstance(problem.line, int), problem
        assert 1 <= problem.line <= line_count, f"the file has {line_count} lines: {problem!r}"
        assert problem.column is None or (
            isinstance(problem.column, int) and problem.column >= 1
        ), problem
        assert isinstance(problem.message, str) and problem.message, problem
        assert problem.hint is None or isinstance(problem.hint, str), problem
        assert_safe(str(problem), "str(problem)")
        assert_safe(repr(problem), "repr(problem)")
        assert_safe(repr(problem.message), "repr(problem.message)")
        assert_safe(problem.message, "problem.message")
        assert_safe(problem.key, "problem.key")
        assert_safe(problem.hint or "", "problem.hint")
    assert_safe(str(error), "str(error)")
    assert_safe(repr(error), "repr(error)")
    assert_safe(error.hint or "", "error.hint")
    lines = [p.line for p in problems]
    assert lines == sorted(lines), f"problems are not in file order: {lines}"

    document = toml_document(data)
    if document is not None and any("dotted parts" in p.message for p in problems):
        # Refused before tomllib: a key of MAX_KEY_PARTS + 1 parts nests that many tables.
        assert table_depth(document) >= MAX_KEY_PARTS, problems
        document = None
    if document is None:
        # Size, encoding, TOML syntax, nesting: one whole-file problem.
        assert len(problems) == 1, problems
        assert problems[0].key == "", problems[0]
    else:
        # The document parsed, so every problem but a missing `version` has a key path.
        blank = [p for p in problems if not p.key]
        assert len(blank) <= (0 if "version" in document else 1), blank
    if expected_lines is not None:
        for problem in problems:
            # The oracle does not spell quoted or empty names as the loader does: skip them.
            if problem.key and '"' not in problem.key and not problem.key.endswith("."):
                expected = line_of(expected_lines, problem.key)
                assert problem.line == expected, (
                    f"{problem.key} is reported at line {problem.line}, "
                    f"but the text defines it at line {expected}: {problem}"
                )


def safe_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [s for item in value for s in safe_strings(item)]
    return []


def check_catalogue(catalogue: Catalogue) -> None:
    """A loaded catalogue holds no string with an unsafe character."""
    assert isinstance(catalogue, Catalogue)
    roles = catalogue.roles
    assert len(roles) == len(catalogue)
    for account in catalogue.accounts:
        for text in safe_strings(tuple(account)):
            assert_safe(text, f"account {account.name!r}")
    for name, template in catalogue.session_names.items():
        assert_safe(name, "a session_names key")
        assert_safe(template, f"session_names.{name}")
    for role in roles:
        where = f"role {role.target!r}"
        for text in (role.target, role.arn, role.description, role.session_name):
            assert_safe(text, where)
        for text in safe_strings(tuple(role)):
            assert_safe(text, where)


def check(data: bytes, expected_lines: dict[str, int] | None = None) -> CatalogueError | None:
    """Parse `data`; anything but a Catalogue or a well-formed CatalogueError fails the test."""
    try:
        catalogue = parse(data, FILE)
    except CatalogueError as error:
        check_error(data, error, expected_lines)
        return error
    check_catalogue(catalogue)
    return None


# ---------------------------------------------------------------------------------------------
# An independent line oracle for text written by tomli_w
#
# tomli_w writes `[table]` / `[[array]]` headers at column 0, one `key = value` per line, basic
# strings with every quote and ASCII control escaped, and arrays over several lines. Scanning
# brackets outside strings is therefore enough to know which line defines which key.

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _depth(text: str, depth: int) -> int:
    """Bracket depth after `text`, ignoring brackets inside basic strings."""
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return depth


def _split_key(text: str) -> tuple[list[str], str]:
    """Dotted key parts (unquoted) at the start of `text`, and the rest of the text."""
    parts: list[str] = []
    pos = 0
    while True:
        if text[pos] == '"':
            end = pos + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            parts.append(json.loads(text[pos : end + 1], strict=False))
            pos = end + 1
        else:
            match = _BARE.match(text, pos)
            assert match, f"not a tomli_w key: {text!r}"
            parts.append(match.group())
            pos = match.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        return parts, text[pos:]


def _name(path: str, part: str) -> str:
    # Names that are not bare keys are quoted; such keys are not compared, so any quoting works.
    name = part if _BARE.fullmatch(part) else f'"{part}"'
    return f"{path}.{name}" if path else name


def tomli_w_lines(text: str) -> dict[str, int]:
    """Map each key path (as the loader spells it) to the 1-based line defining it."""
    lines: dict[str, int] = {}
    arrays: dict[str, int] = {}
    table = ""
    depth = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if depth:
            depth = _depth(line, depth)
        elif line.startswith("["):
            aot = line.startswith("[[")
            parts, _ = _split_key(line[2:-2] if aot else line[1:-1])
            path = ""
            for part in parts[:-1]:
                path = _name(path, part)
                if path in arrays:
                    path = f"{path}[{arrays[path] - 1}]"
            path = _name(path, parts[-1])
            if aot:
                lines.setdefault(path, number)
                arrays[path] = arrays.get(path, 0) + 1
                path = f"{path}[{arrays[path] - 1}]"
            lines.setdefault(path, number)
            table = path
        elif line:
            parts, rest = _split_key(line)
            assert rest.startswith(" = "), line
            path = table
            for part in parts:
                path = _name(path, part)
            lines.setdefault(path, number)
            depth = _depth(rest, 0)
    return lines


def line_of(lines: dict[str, int], key: str) -> int:
    """The line of `key`, or of its nearest ancestor with a line (inline tables, list items)."""
    while key:
        if key in lines:
            return lines[key]
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
    return 1


# ---------------------------------------------------------------------------------------------
# Hostile values

# fmt: off
CONTROLS = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
INVISIBLES = [*"\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e",
              *"\u2060\u2061\u2066\u2067\u2068\u2069\ufeff\ufff9\ufffa\ufffb"]
MARKUP = [
    "[@click=app.quit]x[/]", "[link='https://evil']x[/link]", "[link=https://evil]click[/link]",
    "[bold red]PROD[/]", "[/]", "[", "]", "\\[b]", "[[accounts]]", "${HOME}", "$(id)", "`id`",
    "%s%n%x", "<script>alert(1)</script>", "'''", '"""', "\\", "#", "= 1",
    "\x1b[2J\x1b[H", "\x1b]8;;https://evil\x07click\x1b]8;;\x07", "\x1b]52;c;aGVsbG8=\x07",
    "\x1b[6n", "\x9b2J", "\x1bP+q544e\x1b\\", "ok\rEVIL", "safe\u202etxt.exe",
    "\u2066hidden\u2069", "zero\u200bwidth",
]
ODD_TEXT = ["", " ", "\t", "é", "ünïcode", "名前", "ｆｕｌｌ", "١٢٣", "𝟗𝟎𝟎", "\U0010ffff", "\ufffd"]
HOSTILE_ALPHABET = [*CONTROLS, *INVISIBLES, *"[]@=/'\"{}\\#.,:;$`<> -_aZ9", "é", "名"]
VALID_STRINGS = [
    "identity", "payments-prod", "111111111111", "ReadOnly", "eu-west-1", "1h", "{user}@{host}",
    "@default", "arn:aws:iam::000000000000:mfa/alice", "payments-7f3a", "cloudwatch",
    "identity/OrgAccess", "/ops/", "red", "prod",
]
# fmt: on


def _inject(valid: str, bad: str, where: int) -> str:
    cut = (len(valid) * where) // 2
    return valid[:cut] + bad + valid[cut:]


hostile_text: st.SearchStrategy[str] = st.one_of(
    st.sampled_from([*MARKUP, *ODD_TEXT, *CONTROLS, *INVISIBLES]),
    st.text(alphabet=st.sampled_from(HOSTILE_ALPHABET), max_size=40),
    st.text(max_size=24),
    st.builds(
        _inject,
        st.sampled_from(VALID_STRINGS),
        st.sampled_from([*CONTROLS, *INVISIBLES, *MARKUP]),
        st.integers(0, 2),
    ),
    # Overlong: past every length limit (64, 128, 256, 512, 1224); SPECIFIC adds 200,000.
    st.builds(
        lambda unit, count: unit * count,
        st.sampled_from(["a", "9", "A-", "é", "[b]", "x\u202e", "{user}", "/p"]),
        st.integers(60, 3000),
    ),
)

scalars: st.SearchStrategy[Any] = st.one_of(
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.sampled_from([0, -1, 1, 2, 899, 900, 3600, 43200, 43201, 2**63 - 1, -(2**63), 10**40]),
    st.floats(),
    st.datetimes(timezones=st.none() | st.just(UTC)),
    st.dates(),
    st.times(),
)

wrong_types: st.SearchStrategy[Any] = st.one_of(
    scalars,
    st.just([]),
    st.just({}),
    st.lists(scalars | hostile_text, max_size=3),
    st.lists(st.lists(st.integers(), max_size=2), max_size=2),
    st.dictionaries(
        st.sampled_from(["a", "name", "x y", "\x1b"]), scalars | hostile_text, max_size=3
    ),
    st.lists(
        st.dictionaries(st.sampled_from(["name", "id", "q"]), hostile_text, max_size=2), max_size=2
    ),
)

any_value: st.SearchStrategy[Any] = st.one_of(hostile_text, wrong_types)

# Values aimed at one key: near misses of what the loader accepts, and what it must refuse.
# fmt: off
SPECIFIC: dict[str, list[Any]] = {
    "version": [0, 2, -1, "1", 1.0, True, [1], {"v": 1}, 2**63 - 1],
    "name": ["", "a" * 65, "payments prod", "payments/prod", "Read Only", "Admin!", "identity",
             "IDENTITY", "Payments-Prod", "ReadOnly", "readonly", "pay\u202ements", "Ädmin", "."],
    "id": ["", "1", "12345678901", "1234567890123", "11111111111a", " 111111111111",
           "１１１１１１１１１１１１", "١١١١١١١١١١١١", "000000000000", "111111111111",
           "222222222222", 111111111111, 0],
    "region": ["us-east-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1", "eu-isoe-west-1",
               "eusc-de-east-1", "mars-east-1", "us-east-", "US-EAST-1", "us-east-1 ",
               "us_east_1", "us-east-١", "us-east-1\u202e", "us-east-1\n", ""],
    "partition": ["", "aws", "aws-cn", "aws-us-gov", "AWS", "aws-mars", "aws\x00"],
    "duration": ["0", "899", "900", "43200", "43201", "15m", "12h", "12h1s", "13h", "1h30m", "4h",
                 "1h1h", "h", "hms", "-1", "+900", "1e3", "1.5h", " 1h", "1H", "١٢٠٠", "𝟗𝟎𝟎",
                 "99999h", "9" * 5000, "0" * 4400 + "900", "9" * 5000 + "s", 0, 899, 43201,
                 -(2**63), 10**40, 1.5, float("nan"), float("inf")],
    "mfa_serial": ["arn:aws:iam::000000000000:mfa/", "arn:aws:iam::0:mfa/alice",
                   "arn:aws:iam::000000000000:role/alice", "arn:aws-cn:iam::000000000000:u2f/k",
                   "arn:aws:iam::000000000000:mfa/a b", "arn:", "arn:aws:iam:::mfa/x",
                   "arn:aws:iam::000000000000:mfa/" + "a" * 300, "GAHT12345678", "short",
                   "\u202earn:aws:iam::000000000000:mfa/alice"],
    "external_id": ["", "a", "a" * 1225, "a b", "payments-7f3a", "ext\x00id", "ext\u200bid"],
    "source_profile": ["", "a b", "[x]", "p" * 129, "identity", "id\x1b[31m"],
    "console": ["", "S3", "s3", "https://", "https://console.aws.amazon.com/", "http://evil",
                "javascript:alert(1)", "https://evil/\x1b[2J", "-s3", "a" * 65,
                "https://" + "a" * 3000],
    "session_name": ["", "@", "@nope", "@default", "@ticket", "@Default", "{", "}", "{}", "{user",
                     "{bad name}", "{1x}", "x", "-", "é", "{date}", "aws:{user}", "{user}" * 30,
                     "{{user}}"],
    "source_identity": ["aws:x", "AWS:{user}", "{user}", "x", "{", "{a}{b}", "@default"],
    "confirm": ["yes", "true", 1, 0, "", [True]],
    "color": ["", "Red", "red ", "chartreuse", "#ff0000", "\x1b[31m", "blue"],
    "description": ["", "L" * 200_000, *MARKUP],
    "path": ["", "/", "ops/", "/ops", "//", "/ops/", "/" + "a" * 600 + "/", "/ o /", "/\x7f/",
             "/é/"],
    "tags": [["a b"], ["a,b"], [""], ["x" * 65], ["prod", "prod"], ["PROD"], ["pro\u200bd"],
             ["[@click=app.quit]x[/]"], [1], "prod", []],
    "via": ["", "identity/OrgAccess", "identity/orgaccess", "000000000000/OrgAccess",
            "payments-prod/Admin", "nope/Nope", "identity", "/", "a/b/c",
            "arn:aws:iam::000000000000:role/OrgAccess", "identity/OrgAccess\u202e"],
    "session_tags": [{"": "x"}, {"a" * 129: "x"}, {"team": "x" * 257}, {"team": 5},
                     {f"k{i}": "v" for i in range(51)}, {"bad\x00key": "v"}, {"team": "\u202e"},
                     {"team": {"nested": "x"}}, [], "team=payments"],
    "transitive_tags": [["nope"], ["team", "team"], [5], "team", ["\x1b"]],
}
# fmt: on
SPECIFIC_GENERATED: dict[str, st.SearchStrategy[Any]] = {
    # Digit runs either side of Python's 4,300-digit int() limit, and Unicode digits.
    "duration": st.one_of(
        st.one_of(st.integers(1, 30), st.integers(4000, 6000)).map(lambda n: "9" * n),
        st.from_regex(r"(\d{1,6}h)?(\d{1,6}m)?(\d{1,6}s)?", fullmatch=True),
    ),
}


def value_for(key: str) -> st.SearchStrategy[Any]:
    """Mostly values aimed at `key`, sometimes any hostile value at all."""
    if key not in SPECIFIC:
        return any_value
    aimed = st.sampled_from(SPECIFIC[key])
    if key in SPECIFIC_GENERATED:
        aimed = aimed | SPECIFIC_GENERATED[key]
    return st.one_of(aimed, aimed, any_value)


def _typos(key: str) -> list[str]:
    out = {key.upper(), key + "s", key + " ", " " + key, key.replace("_", "-"), key[:-1]}
    out.update(key[:i] + key[i + 1 :] for i in range(len(key)))
    out.update(key[:i] + key[i + 1] + key[i] + key[i + 2 :] for i in range(len(key) - 1))
    out.discard(key)
    return sorted(out)


ALL_KEYS = sorted({k for keys in LEVEL_KEYS.values() for k in keys})
unknown_names: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(ALL_KEYS).flatmap(lambda key: st.sampled_from(_typos(key))),
    st.sampled_from(["regoin", "acounts", "role", "account", "version", "roles", "id"]),
    st.sampled_from(["", " ", "a.b", "x]", "[x", '"', "'", "#", "=", "k" * 100]),
    st.sampled_from([*MARKUP[:8], "\x1b[2J", "\x00", "\u202e", "ünïcode", "名前"]),
    st.text(alphabet=st.sampled_from(HOSTILE_ALPHABET), min_size=1, max_size=12),
)


# ---------------------------------------------------------------------------------------------
# Document mutations

Table = dict[str, Any]


def tables(doc: Table) -> list[tuple[str, Table]]:
    """Every (level, table) of the document that is still a table."""
    found: list[tuple[str, Table]] = [("root", doc)]
    for level in ("defaults", "session_names"):
        if isinstance(doc.get(level), dict):
            found.append((level, doc[level]))
    for account in account_tables(doc):
        found.append(("account", account))
        for role in role_tables(account):
            found.append(("role", role))
            if isinstance(role.get("session_tags"), dict):
                found.append(("session_tags", role["session_tags"]))
    return found


def account_tables(doc: Table) -> list[Table]:
    accounts = doc.get("accounts")
    return [a for a in accounts if isinstance(a, dict)] if isinstance(accounts, list) else []


def role_tables(account: Table) -> list[Table]:
    roles = account.get("roles")
    return [r for r in roles if isinstance(r, dict)] if isinstance(roles, list) else []


def fresh(draw: st.DrawFn, strategy: st.SearchStrategy[Any]) -> Any:
    """A drawn value that shares nothing: sampled lists and tables are reused between cases."""
    return copy.deepcopy(draw(strategy))


def set_known_key(draw: st.DrawFn, doc: Table) -> None:
    level, table = draw(st.sampled_from(tables(doc)))
    key = draw(st.sampled_from(LEVEL_KEYS[level]))
    table[key] = fresh(draw, value_for(key))


def replace_existing(draw: st.DrawFn, doc: Table) -> None:
    candidates = [(level, t) for level, t in tables(doc) if t]
    if candidates:
        _, table = draw(st.sampled_from(candidates))
        key = draw(st.sampled_from(sorted(table)))
        table[key] = fresh(draw, value_for(key))


def add_unknown_key(draw: st.DrawFn, doc: Table) -> None:
    _, table = draw(st.sampled_from(tables(doc)))
    table[draw(unknown_names)] = fresh(draw, any_value)


def rename_key(draw: st.DrawFn, doc: Table) -> None:
    candidates = [t for _, t in tables(doc) if t]
    if candidates:
        table = draw(st.sampled_from(candidates))
        key = draw(st.sampled_from(sorted(table)))
        table[draw(st.sampled_from(_typos(key)))] = table.pop(key)


def delete_key(draw: st.DrawFn, doc: Table) -> None:
    candidates = [t for _, t in tables(doc) if t]
    if candidates:
        table = draw(st.sampled_from(candidates))
        del table[draw(st.sampled_from(sorted(table)))]


def duplicate_entry(draw: st.DrawFn, doc: Table) -> None:
    """Copy an account (same name, same id, or both) or a role within its account."""
    accounts = doc.get("accounts")
    if not isinstance(accounts, list) or not accounts:
        return
    account = draw(st.sampled_from(accounts))
    roles = account.get("roles") if isinstance(account, dict) else None
    if draw(st.booleans()) and isinstance(roles, list) and roles:
        target, entry = roles, copy.deepcopy(draw(st.sampled_from(roles)))
    else:
        target, entry = accounts, copy.deepcopy(account)
        if isinstance(entry, dict):
            variant = draw(st.sampled_from(["same", "upper name", "other name", "other id"]))
            name = entry.get("name")
            if variant == "upper name" and isinstance(name, str):
                entry["name"] = name.upper()
            elif variant == "other name":
                entry["name"] = f"{name}-copy"
            elif variant == "other id":
                entry["id"] = "999999999999"
    target.insert(draw(st.integers(0, len(target))), entry)


def break_container(draw: st.DrawFn, doc: Table) -> None:
    """A table where a list belongs, a list where a table belongs, or a stray list element."""
    accounts = account_tables(doc)
    choice = draw(st.integers(0, 4))
    if choice == 0:
        doc[draw(st.sampled_from(["accounts", "defaults", "session_names"]))] = fresh(
            draw, wrong_types
        )
    elif choice == 1 and isinstance(doc.get("accounts"), list):
        doc["accounts"].insert(draw(st.integers(0, len(doc["accounts"]))), fresh(draw, any_value))
    elif choice == 2 and accounts:
        draw(st.sampled_from(accounts))["roles"] = fresh(draw, wrong_types)
    elif choice == 3 and accounts:
        roles = draw(st.sampled_from(accounts)).get("roles")
        if isinstance(roles, list):
            roles.insert(draw(st.integers(0, len(roles))), fresh(draw, any_value))
    elif accounts:
        draw(st.sampled_from(accounts))["roles"] = fresh(
            draw, st.lists(st.fixed_dictionaries({"name": value_for("name")}), max_size=3)
        )


def chain_roles(draw: st.DrawFn, doc: Table) -> None:
    """Point a role's `via` at another role (or itself), possibly asking for too long."""
    pairs = [(a, r) for a in account_tables(doc) for r in role_tables(a)]
    if not pairs:
        return
    targets = [f"{a.get('name')}/{r.get('name')}" for a, r in pairs]
    _, role = draw(st.sampled_from(pairs))
    role["via"] = fresh(draw, st.sampled_from(targets) | value_for("via"))
    if draw(st.booleans()):
        role["duration"] = draw(st.sampled_from(["4h", "1h", "61m", 3601, "15m"]))


Mutation = Callable[[st.DrawFn, Table], None]
MUTATIONS: list[Mutation] = [
    set_known_key,
    set_known_key,
    set_known_key,
    replace_existing,
    replace_existing,
    add_unknown_key,
    add_unknown_key,
    rename_key,
    delete_key,
    duplicate_entry,
    duplicate_entry,
    break_container,
    chain_roles,
]


@st.composite
def hostile_documents(draw: st.DrawFn) -> Table:
    doc = copy.deepcopy(SEED)
    for _ in range(draw(st.integers(1, 4))):
        draw(st.sampled_from(MUTATIONS))(draw, doc)
    return doc


# fmt: off
SNIPPETS = [
    b"\x00", b"\x1b", b"\x7f", b"\x85", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xae",
    b"\xef\xbb\xbf", b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\r", b"\n", b"\r\n", b"[", b"]",
    b"[[", b"]]", b"{", b"}", b'"', b"'", b"'''", b'"""', b"\\", b"\\u001b", b"\\u0000",
    b"\\u202e", b"\\U0010ffff", b"\\ud800", b"=", b".", b",", b"#", b" ", b"\t", b"0", b"9" * 40,
    b"1979-05-27T07:32:00Z", b"nan", b"inf", b"true", b"version = 2\n", b"[[accounts]]\n",
    b"[[accounts.roles]]\n", b"[defaults]\n", b'regoin = "x"\n', b'name = "identity"\n',
    b'id = "000000000000"\n', b"x = [[[[[[", b"]]]]]]",
]
# fmt: on


@st.composite
def mutated_seeds(draw: st.DrawFn) -> bytes:
    """accounts.example.toml with bytes flipped, overwritten, inserted and deleted."""
    data = bytearray(SEED_BYTES)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "insert", "delete", "repeat"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.sampled_from(SNIPPETS) | st.binary(min_size=1, max_size=6))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 40))]
        else:
            end = pos + draw(st.integers(1, 80))
            data[pos:pos] = data[pos:end] * draw(st.integers(1, 4))
    return bytes(data)


@st.composite
def shuffled_lines(draw: st.DrawFn) -> bytes:
    """A seed or hostile document with lines duplicated, dropped, swapped or cut short."""
    text = draw(st.just(SEED_TEXT) | hostile_documents().map(tomli_w.dumps))
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["duplicate", "drop", "swap", "cut"]))
        if kind == "duplicate":
            lines.insert(j, lines[i])
        elif kind == "drop" and len(lines) > 1:
            del lines[i]
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# The hypothesis suites: 1,200 + 1,000 + 500 = 2,700 cases


def test_the_seed_loads_after_a_tomli_w_round_trip() -> None:
    text = tomli_w.dumps(SEED)
    assert check(text.encode("utf-8"), tomli_w_lines(text)) is None


@settings(max_examples=1200, deadline=None, suppress_health_check=HEALTH)
@given(doc=hostile_documents())
def test_hostile_values_are_refused_cleanly(doc: Table) -> None:
    text = tomli_w.dumps(doc)
    check(text.encode("utf-8"), tomli_w_lines(text))


@settings(max_examples=1000, deadline=None, suppress_health_check=HEALTH)
@given(data=mutated_seeds())
def test_byte_mutated_seeds_are_refused_cleanly(data: bytes) -> None:
    check(data)


@settings(max_examples=500, deadline=None, suppress_health_check=HEALTH)
@given(data=shuffled_lines())
def test_shuffled_lines_are_refused_cleanly(data: bytes) -> None:
    check(data)


# ---------------------------------------------------------------------------------------------
# Fixed regressions


def line_after(text: str, needle: str, *, after: str = "", occurrence: int = 1) -> int:
    """1-based line of the first `needle` after the `occurrence`-th line holding `after`."""
    lines = text.split("\n")
    start = 0
    if after:
        start = [i for i, line in enumerate(lines) if after in line][occurrence - 1]
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def refused(text: str) -> CatalogueError:
    data = text.encode("utf-8")
    error = check(data)
    assert error is not None, "the catalogue loaded, but it should have been refused"
    return error


ONE_ACCOUNT = """\
version = 1

[[accounts]]
name = "alpha"
id = "111111111111"
{account}

  [[accounts.roles]]
  name = "ReadOnly"
{role}
"""


@pytest.mark.parametrize(
    ("level", "line", "visible"),
    [
        ("account", 'description = "\\u001b[2J"', "\\x1b[2J"),
        ("account", 'description = "\\u0000"', "\\x00"),
        ("account", 'description = "safe\\u202etxt.exe"', "\\u202e"),
        ("account", 'description = "\\u001b]8;;https://evil\\u0007x\\u001b]8;;\\u0007"', "\\x07"),
        ("account", 'description = "\\u0085"', "\\x85"),
        ("account", 'description = "\u202e raw in UTF-8"', "\\u202e"),
        ("account", 'description = "\u2028 raw line separator"', "\\u2028"),
        ("account", 'tags = ["ok", "\\u001b[31m"]', "\\x1b[31m"),
        ("account", 'source_profile = "id\\u200b"', "\\u200b"),
        ("role", 'description = "\\u001b[2J"', "\\x1b[2J"),
        ("role", 'session_name = "{user}\\u0000"', "\\x00"),
        ("role", 'external_id = "ext\\u202eid"', "\\u202e"),
        ("account", '"\\u001b[2J" = 1', "\\x1b[2J"),
        ("role", '"\\u202e" = "x"', "\\u202e"),
    ],
)
def test_escaped_control_characters_are_refused_and_shown_inert(
    level: str, line: str, visible: str
) -> None:
    text = ONE_ACCOUNT.format(
        account=line if level == "account" else "", role=line if level == "role" else ""
    )
    error = refused(text)
    expected = line_after(text, line)
    assert [p.line for p in error.problems] == [expected], error.problems
    assert visible in str(error.problems[0])


def test_markup_in_a_description_is_kept_verbatim() -> None:
    text = ONE_ACCOUNT.format(
        account="description = \"[@click=app.quit]x[/] [link='https://evil']y[/link]\"", role=""
    )
    catalogue = parse(text.encode(), FILE)
    check_catalogue(catalogue)
    assert catalogue.roles[0].description == "[@click=app.quit]x[/] [link='https://evil']y[/link]"


@pytest.mark.parametrize(
    "value",
    [
        "[" * 2000 + "]" * 2000,
        "{a=" * 2000 + "1" + "}" * 2000,
        "[{a=" * 1000 + "1" + "}]" * 1000,
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["arrays", "inline-tables", "mixed", "100k-arrays"],
)
def test_deep_nesting_is_a_problem_not_a_recursion_error(value: str) -> None:
    error = refused(f"version = 1\nx = {value}\n")
    assert len(error.problems) == 1
    assert error.problems[0].key == ""


def test_a_2000_part_dotted_header_is_refused_cleanly() -> None:
    error = refused("version = 1\n[" + ".".join(["a"] * 2000) + "]\nb = 1\n")
    assert [(p.key, p.line) for p in error.problems] == [("", 2)]


# ---------------------------------------------------------------------------------------------
# Dotted keys: tomllib keeps every prefix of `a.b.b.b...`, so a key of more than MAX_KEY_PARTS
# parts is refused, at its line, before tomllib sees it. Dots in strings and comments, and
# quoted parts holding dots, do not count.

KEY_SHAPES = {
    "bare": "{key} = 1",
    "header": "[{key}]",
    "array-header": "[[{key}]]",
    "inline-table": "x = {{ y = 1, {key} = 1 }}",
    "nested-inline-table": "x = [{{ y = {{ {key} = 1 }} }}]",
}
JOINS = {"dot": ".", "spaced": " . ", "tabbed": "\t.\t"}


def dotted(count: int, join: str = ".", *, quoted: bool = False) -> str:
    return join.join(f'"p.{i}"' if quoted else f"p{i}" for i in range(count))


def _over_the_limit(error: CatalogueError) -> list[int]:
    return [p.line for p in error.problems if "dotted parts" in p.message]


@pytest.mark.parametrize("join", list(JOINS), ids=str)
@pytest.mark.parametrize("shape", list(KEY_SHAPES), ids=str)
@pytest.mark.parametrize("quoted", [False, True], ids=["bare-parts", "quoted-parts"])
def test_a_key_of_more_than_64_parts_is_refused_at_its_line(
    shape: str, join: str, quoted: bool
) -> None:
    line = KEY_SHAPES[shape].format(key=dotted(MAX_KEY_PARTS + 1, JOINS[join], quoted=quoted))
    text = ONE_ACCOUNT.format(account=line, role="")
    (problem,) = refused(text).problems
    assert (problem.key, problem.line) == ("", line_after(text, line))
    assert f"more than {MAX_KEY_PARTS} dotted parts" in problem.message


@pytest.mark.parametrize("shape", list(KEY_SHAPES), ids=str)
def test_a_key_of_64_parts_is_left_to_the_validator(shape: str) -> None:
    line = KEY_SHAPES[shape].format(key=dotted(MAX_KEY_PARTS, " . ", quoted=True))
    error = check(ONE_ACCOUNT.format(account=line, role="").encode())
    assert error is None or not _over_the_limit(error), error


DOTS = ".".join(["a"] * 200)
NOT_KEYS = {
    "string": f'description = "{DOTS}"',
    "literal": f"description = '{DOTS}'",
    "multi-line": f'description = """\n{DOTS}\n{DOTS} = 1\n[{DOTS}]\n"""',
    "multi-line-escaped-quotes": f'description = """\\"""\n{DOTS}\n""""',
    "multi-line-literal": f"description = '''\n{DOTS}\n'''''",
    "comment": f"# {DOTS}",
    "array-and-comment": f"tags = [\"a.b\", 'c.d']  # {DOTS}",
}


@pytest.mark.parametrize("noise", list(NOT_KEYS), ids=str)
def test_dots_in_strings_and_comments_are_no_key(noise: str) -> None:
    text = ONE_ACCOUNT.format(account=NOT_KEYS[noise], role="")
    error = check(text.encode())
    # A multi-line description is refused for its line breaks, never for its dots.
    assert error is None or not _over_the_limit(error), error
    assert error is None or "multi-line" in noise, error


def test_a_quoted_key_holding_200_dots_is_one_part() -> None:
    line = f'"{DOTS}" = 1'
    (problem,) = refused(ONE_ACCOUNT.format(account=line, role="")).problems
    assert problem.key.startswith('accounts[0]."a.a.a'), problem


@settings(max_examples=300, deadline=None, suppress_health_check=HEALTH)
@given(
    count=st.integers(1, 2 * MAX_KEY_PARTS),
    shape=st.sampled_from(list(KEY_SHAPES.values())),
    parts=st.data(),
    noise=st.lists(st.sampled_from(list(NOT_KEYS.values())), max_size=4),
)
def test_only_keys_over_the_limit_are_refused_by_the_scan(
    count: int, shape: str, parts: st.DataObject, noise: list[str]
) -> None:
    part = st.one_of(
        st.from_regex(r"[A-Za-z0-9_-]{1,3}", fullmatch=True),
        st.from_regex(r"[a-z.]{0,4}", fullmatch=True).map(lambda p: f'"{p}"'),
        st.from_regex(r"[a-z.]{0,4}", fullmatch=True).map(lambda p: f"'{p}'"),
    )
    join = st.sampled_from([".", " .", ". ", " \t.  "])
    key = parts.draw(part) + "".join(parts.draw(join) + parts.draw(part) for _ in range(count - 1))
    line = shape.format(key=key)
    text = ONE_ACCOUNT.format(account="\n".join([*noise, line]), role="")
    error = check(text.encode())
    if count > MAX_KEY_PARTS:
        assert error is not None and _over_the_limit(error) == [line_after(text, line)]
    else:
        assert error is None or not _over_the_limit(error), error


BIG_KEYS = """
import resource, sys, time
from rolecall.core.catalogue.model import CatalogueError
from rolecall.core.catalogue.store import parse
data = open(sys.argv[1], "rb").read()
start = time.perf_counter()
try:
    parse(data, "hostile.toml")
except CatalogueError as e:
    print([(p.key, p.line) for p in e.problems], time.perf_counter() - start)
"""


@pytest.mark.parametrize("lines", [1, 3])
def test_a_32700_part_key_is_refused_fast_in_bounded_memory(lines: int, tmp_path: Path) -> None:
    # A 64 KiB line of `a.b.b.b...`: 16 s and 4.2 GB each in tomllib before the scan.
    key = ".".join(["a"] + ["b"] * 32_699)
    text = "version = 1\n\n" + f"{key} = 1\n" * lines
    assert max(len(line) for line in text.split("\n")) <= MAX_LINE_BYTES
    path = tmp_path / FILE
    path.write_text(text, encoding="utf-8")

    def limit_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    try:
        child = subprocess.run(
            [sys.executable, "-c", BIG_KEYS, str(path)],
            capture_output=True,
            text=True,
            timeout=STALL_SECONDS,
            check=False,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"parse() took more than {STALL_SECONDS:.0f}s")
    assert child.returncode == 0, child.stderr[-2000:]
    problems, seconds = child.stdout.rsplit(" ", 1)
    assert problems == "[('', 3)]"
    assert float(seconds) < 1.0


def padded(size: int) -> bytes:
    """The example catalogue grown to exactly `size` bytes with a trailing comment."""
    head = SEED_BYTES + b"\n"
    line = b"# " + b"x" * 1000 + b"\n"  # many short lines: one huge line is refused on its own
    body = line * ((size - len(head)) // len(line))
    tail = size - len(head) - len(body)
    return head + body + (b"#" + b"x" * (tail - 1) if tail else b"")


@pytest.mark.parametrize(
    "size", sorted({(1 << 20) + 1, MAX_FILE_BYTES, MAX_FILE_BYTES + 1}), ids=str
)
def test_oversized_files_are_refused_naming_the_limit(size: int) -> None:
    data = padded(size)
    assert len(data) == size
    if size <= MAX_FILE_BYTES:
        assert check(data) is None  # a big but valid catalogue loads
        return
    error = check(data)
    assert error is not None
    (problem,) = error.problems
    assert problem.key == "" and problem.line == 1
    limits = (f"{MAX_FILE_BYTES >> 20} MiB", f"{MAX_FILE_BYTES:,} bytes")
    assert any(limit in problem.message for limit in limits), (
        f"the message does not state the real limit ({MAX_FILE_BYTES:,} bytes): {problem}"
    )


# Text put into the first account: each must leave the lines of later keys where they are.
NOISE = {
    "plain": 'description = "Identity"',
    "triple-quote-value": "description = \"'''\"",
    "escaped-quotes": 'description = "say \\"\\"\\" twice"',
    "triple-quote-comment": "# a stray ''' in a comment",
    "line-separator-comment": "# LS \u2028 PS \u2029 NEL \x85 in a comment",
    "crlf": "",
}

SECOND = {
    "accounts[1].name": ('name = "ALPHA"\nid = "222222222222"', "name ="),
    "accounts[1].id": ('name = "beta"\nid = "111111111111"', "id ="),
}


@pytest.mark.parametrize("noise", list(NOISE), ids=str)
@pytest.mark.parametrize("key", list(SECOND), ids=str)
def test_duplicates_name_the_key_path_and_line(noise: str, key: str) -> None:
    second, needle = SECOND[key]
    text = (
        f'version = 1\n\n[[accounts]]\nname = "alpha"\nid = "111111111111"\n{NOISE[noise]}\n\n'
        f"[[accounts]]\n{second}\n"
    )
    expected = line_after(text, needle, after="[[accounts]]", occurrence=2)
    if noise == "crlf":
        text = text.replace("\n", "\r\n")
    error = refused(text)
    assert [(p.key, p.line) for p in error.problems] == [(key, expected)], error.problems


@pytest.mark.parametrize("noise", list(NOISE), ids=str)
def test_a_duplicate_role_names_its_key_path_and_line(noise: str) -> None:
    text = ONE_ACCOUNT.format(
        account=NOISE[noise], role='\n  [[accounts.roles]]\n  name = "readonly"'
    )
    expected = line_after(text, 'name = "readonly"')
    error = refused(text)
    assert [(p.key, p.line) for p in error.problems] == [("accounts[0].roles[1].name", expected)]


@pytest.mark.parametrize("level", ["defaults", "account", "role"])
def test_a_typo_suggests_the_key(level: str) -> None:
    line = 'regoin = "eu-west-1"'
    if level == "defaults":
        text = f"version = 1\n\n[defaults]\n{line}\n"
        key = "defaults.regoin"
    else:
        text = ONE_ACCOUNT.format(
            account=line if level == "account" else "", role=line if level == "role" else ""
        )
        key = "accounts[0].regoin" if level == "account" else "accounts[0].roles[0].regoin"
    error = refused(text)
    (problem,) = error.problems
    assert (problem.key, problem.line) == (key, line_after(text, line))
    assert problem.hint is not None and "region" in problem.hint


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("", "root"),
        ("", "account"),
        ("a.b", "account"),
        ("[@click=app.quit]x[/]", "account"),
        ("\\u001b[2J", "root"),
    ],
)
def test_unknown_quoted_keys_name_a_key_path_and_line(name: str, level: str) -> None:
    line = f'"{name}" = 1'
    if level == "root":
        text = f'version = 1\n{line}\n\n[[accounts]]\nname = "alpha"\nid = "111111111111"\n'
    else:
        text = ONE_ACCOUNT.format(account=line, role="")
    error = refused(text)
    (problem,) = error.problems
    assert problem.key, f"an unknown key is reported without a key path: {problem}"
    assert problem.line == line_after(text, line), problem


THREE_ACCOUNTS = """\
version = 1

[[accounts]]
name = "one"
id = "{id}"

[[accounts]]
name = "two"
id = "222222222222"
region = "{region}"

[[accounts]]
name = "three"
id = "333333333333"
color = "{color}"
"""


def test_independent_errors_are_all_reported_each_at_its_line() -> None:
    text = THREE_ACCOUNTS.format(id="123", region="mars-1", color="chartreuse")
    error = refused(text)
    found = [(p.key, p.line) for p in error.problems]
    assert found == [
        ("accounts[0].id", line_after(text, 'id = "123"')),
        ("accounts[1].region", line_after(text, "region =")),
        ("accounts[2].color", line_after(text, "color =")),
    ]
    assert len({line for _, line in found}) == 3


def test_independent_role_errors_are_all_reported_each_at_its_line() -> None:
    text = "version = 1\n" + "".join(
        f'\n[[accounts]]\nname = "a{i}"\nid = "{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}"\n'
        f'\n  [[accounts.roles]]\n  name = "ok"\n'
        f'\n  [[accounts.roles]]\n  name = "r{i}"\n  {bad}\n'
        for i, bad in enumerate(['duration = "13h"', 'path = "ops"', 'console = "S3"'], 1)
    )
    error = refused(text)
    assert [(p.key, p.line) for p in error.problems] == [
        ("accounts[0].roles[1].duration", line_after(text, "duration =")),
        ("accounts[1].roles[1].path", line_after(text, "path =")),
        ("accounts[2].roles[1].console", line_after(text, "console =")),
    ]


@pytest.mark.parametrize(
    "duration", ["9" * 4301, "0" * 4400 + "900", "9" * 60_000], ids=["4301", "4403", "60k"]
)
def test_a_duration_with_thousands_of_digits_is_a_problem_not_a_crash(duration: str) -> None:
    text = f'version = 1\n\n[defaults]\nduration = "{duration}"\n'
    error = refused(text)
    assert [(p.key, p.line) for p in error.problems] == [("defaults.duration", 4)]


# ---------------------------------------------------------------------------------------------
# Stalls: the size cap is meant to keep a hostile file from stalling the loader. Each case is
# parsed in a child process so that a stall fails the test after STALL_SECONDS instead of
# hanging the suite; a linear loader needs well under a second for any of them.

STALL_SECONDS = 5.0

CHILD = """\
import sys
from rolecall.core.catalogue.model import CatalogueError
from rolecall.core.catalogue.store import parse
try:
    parse(open(sys.argv[1], "rb").read(), "hostile.toml")
except CatalogueError:
    pass
"""


def _whitespace_in_a_nested_array() -> str:
    # A line that starts with '[' is tried as a table header by the key-line scanner.
    return "version = 1\nx = [\n[" + " " * 20_000 + "1],\n]\n"


def _long_via_chain() -> str:
    roles = "".join(
        f'\n  [[accounts.roles]]\n  name = "r{i}"\n' + (f'  via = "a/r{i - 1}"\n' if i else "")
        for i in range(3000)
    )
    return f'version = 1\n\n[[accounts]]\nname = "a"\nid = "111111111111"\n{roles}'


def _many_dangling_vias() -> str:
    roles = "".join(
        f'\n  [[accounts.roles]]\n  name = "r{i}"\n  via = "b/r{i}"\n' for i in range(3000)
    )
    return f'version = 1\n\n[[accounts]]\nname = "a"\nid = "111111111111"\n{roles}'


@pytest.mark.parametrize(
    "build",
    [_whitespace_in_a_nested_array, _long_via_chain, _many_dangling_vias],
    ids=["header-scan", "via-chain", "dangling-vias"],
)
def test_hostile_files_do_not_stall_the_loader(build: Callable[[], str], tmp_path: Path) -> None:
    path = tmp_path / FILE
    path.write_text(build(), encoding="utf-8")
    try:
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)],
            capture_output=True,
            text=True,
            timeout=STALL_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"parse() took more than {STALL_SECONDS:.0f}s on {path.stat().st_size:,} bytes")
    assert child.returncode == 0, child.stderr


@pytest.mark.parametrize("prefix_lines", [0, 3, 40])
def test_too_deep_nesting_is_reported_on_its_own_line(prefix_lines: int) -> None:
    padding = "".join(f'# [[[[ comment {n}\ns{n} = "[[[[[["\n' for n in range(prefix_lines))
    text = (
        'version = 1\nm = """\n[[[[[[[[[[[[[[[[[[[[\n"""\n'
        + padding
        + "x = "
        + "[" * 3000
        + "]" * 3000
        + "\n"
    )
    with pytest.raises(CatalogueError) as caught:
        parse(text.encode(), "deep.toml")
    (problem,) = caught.value.problems
    assert problem.line == 5 + 2 * prefix_lines
    assert "nests arrays or tables too deeply" in problem.message
