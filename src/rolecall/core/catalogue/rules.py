"""What a valid catalogue value looks like: the patterns, the allowed keys and the checks.

`FieldChecker` collects problems (each with its line) and checks one value at a time: typed
getters, durations, templates, the inheritable settings of a level and session tags. The
document walk that uses it is `loader.FileLoader`. Only imported on a cache miss or by
`rolecall check`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from rolecall.core.catalogue.lines import join_key, key_lines
from rolecall.core.catalogue.model import (
    MAX_DURATION,
    MIN_DURATION,
    Problem,
    format_duration,
    parse_duration,
    partition_of,
)
from rolecall.core.errors import TemplateError
from rolecall.core.naming.session_name import Template, parse_template
from rolecall.core.text import has_unsafe, inert, show

ACCOUNT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
ACCOUNT_ID = re.compile(r"[0-9]{12}")
ROLE_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
ROLE_PATH = re.compile(r"/(?:[\x21-\x7e]+/)?")
MFA_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:(?:mfa|u2f)/[A-Za-z0-9_+=,.@/-]{1,256}")
MFA_SERIAL = re.compile(r"[A-Za-z0-9_+=/:,.@-]{9,256}")
EXTERNAL_ID = re.compile(r"[A-Za-z0-9_+=,.@:/-]{2,1224}")
TAG = re.compile(r"[^\s,]{1,64}")
SESSION_TAG_KEY = re.compile(r"[A-Za-z0-9 _.:/=+@-]{1,128}")
SESSION_TAG_VALUE = re.compile(r"[A-Za-z0-9 _.:/=+@-]{0,256}")
TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
CONSOLE_SHORTCUT = re.compile(r"[a-z][a-z0-9-]{0,63}")
MAX_PROFILE_NAME = 128
"""Longest AWS profile name a catalogue accepts (`source_profile`)."""
PROFILE = re.compile(rf"[^\s\[\]]{{1,{MAX_PROFILE_NAME}}}")

# Keys every level may set, inherited defaults → account → role.
INHERITED = (
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
ROOT_KEYS = ("version", "include", "defaults", "session_names", "accounts")
DEFAULT_KEYS = INHERITED
ACCOUNT_KEYS = (
    "name",
    "id",
    "partition",
    "tags",
    "description",
    "color",
    "roles",
    "via",
    *INHERITED,
)
ROLE_KEYS = (
    "name",
    "path",
    "tags",
    "description",
    "via",
    "session_tags",
    "transitive_tags",
    *INHERITED,
)

SUGGESTIONS = 50
""""Did you mean" hints are computed for this many problems at most (each one compares
against every name, which is slow for thousands of problems)."""


class FieldChecker:
    """Collects every problem of one file, and checks single values against the rules."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines = key_lines(text)
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
            self.problem(key, f"must be a table, not {kind_of(value)}.")
            return {}
        allowed = tuple(allowed)
        for name in value:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                self.problem(
                    join_key(key, name),
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
        path = join_key(key, name)
        if not isinstance(value, str):
            self.problem(path, f"must be a string, not {kind_of(value)}.")
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
            self.problem(join_key(key, name), f"must be true or false, not {kind_of(value)}.")
            return None
        return value

    def string_list(
        self, table: Mapping[str, Any], name: str, key: str, pattern: re.Pattern[str], what: str
    ) -> tuple[str, ...]:
        if name not in table:
            return ()
        value = table[name]
        path = join_key(key, name)
        if not isinstance(value, list):
            self.problem(path, f"must be a list of strings, not {kind_of(value)}.")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.problem(f"{path}[{i}]", f"must be a string, not {kind_of(item)}.")
            elif has_unsafe(item) or not pattern.fullmatch(item):
                self.problem(f"{path}[{i}]", f"{show(item)} is not a valid {what}.")
            elif item not in out:
                out.append(item)
        return tuple(out)

    def duration(self, table: Mapping[str, Any], key: str) -> int | None:
        if "duration" not in table:
            return None
        value = table["duration"]
        path = join_key(key, "duration")
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

    # -- inheritable settings and session tags ----------------------------------------------

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
                    join_key(key, "region"),
                    f"{show(region)} is not an AWS region.",
                    "regions look like us-east-1, eu-west-1, cn-north-1, us-gov-west-1",
                )
            else:
                out["region"] = region
        for name, pattern, what in (
            ("source_profile", PROFILE, "AWS profile name"),
            ("external_id", EXTERNAL_ID, "external id (2-1224 of letters, digits, _+=,.@:/-)"),
        ):
            value = self.string(table, name, key, pattern, what)
            if value is not None:
                out[name] = value
        serial = self.string(table, "mfa_serial", key)
        if serial is not None:
            pattern = MFA_ARN if serial.startswith("arn:") else MFA_SERIAL
            if pattern.fullmatch(serial):
                out["mfa_serial"] = serial
            else:
                self.problem(
                    join_key(key, "mfa_serial"),
                    f"{show(serial)} is not an MFA device ARN or serial number.",
                    "virtual devices look like arn:aws:iam::123456789012:mfa/alice",
                )
        console = self.string(table, "console", key)
        if console is not None:
            if CONSOLE_SHORTCUT.fullmatch(console) or console.startswith("https://"):
                out["console"] = console
            else:
                self.problem(
                    join_key(key, "console"),
                    f"{show(console)} is neither a console service (e.g. s3) nor an https:// URL.",
                )
        seconds = self.duration(table, key)
        if seconds is not None:
            out["duration"] = (seconds, join_key(key, "duration"))
        confirm = self.boolean(table, "confirm", key)
        if confirm is not None:
            out["confirm"] = confirm
        session_name = self.string(table, "session_name", key)
        if session_name is not None:
            path = join_key(key, "session_name")
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
            identity, join_key(key, "source_identity"), "source identity"
        ):
            out["source_identity"] = identity
        return out

    def session_tags(self, table: Mapping[str, Any], key: str) -> tuple[tuple[str, str], ...]:
        if "session_tags" not in table:
            return ()
        raw = table["session_tags"]
        path = join_key(key, "session_tags")
        if not isinstance(raw, dict):
            self.problem(path, f"must be a table of strings, not {kind_of(raw)}.")
            return ()
        if len(raw) > 50:
            self.problem(path, f"STS accepts at most 50 session tags, not {len(raw)}.")
        out: list[tuple[str, str]] = []
        for tag_key, value in raw.items():
            if not SESSION_TAG_KEY.fullmatch(tag_key):
                self.problem(
                    join_key(path, tag_key), f"{show(tag_key)} is not a valid session tag key."
                )
            elif not isinstance(value, str):
                self.problem(join_key(path, tag_key), f"must be a string, not {kind_of(value)}.")
            elif not SESSION_TAG_VALUE.fullmatch(value):
                self.problem(
                    join_key(path, tag_key), f"{show(value)} is not a valid session tag value."
                )
            else:
                out.append((tag_key, value))
        return tuple(out)


def kind_of(value: object) -> str:
    """What a TOML value is, for messages: "a string", "a table", ..."""
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), "a date or time")
