"""Reading the AWS config and credentials files, without keeping a secret value.

Profiles are read the way botocore reads them (`configloader.raw_config_parse` and
`build_profile_map`), from the config file only. Secret values found there are dropped the
moment the file is parsed. The credentials file is never parsed: a line scan notes which
section names it has and which of them hold an `aws_access_key_id` line, without keeping any
value, because botocore resolves a source profile with static keys differently.
`from_aws_config` hands both to `aws_profiles`, which turns the profiles into a draft.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rolecall.core.importers.aws_profiles import ProfileImporter
from rolecall.core.importers.draft import Draft
from rolecall.core.importers.errors import ImportSourceError
from rolecall.core.text import inert

_SECRET_KEYS = frozenset(
    {"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token"}
)
_MAX_SECTION = 1024
"""Longest section name handed to botocore: it splits each with `shlex`, which is quadratic in
the length of a word (a megabyte name takes hours). Far above any profile name a catalogue
can use (`MAX_PROFILE_NAME`)."""
_ACCESS_KEY_LINE = re.compile(r"\s*aws_access_key_id\s*[=:]", re.IGNORECASE)


@dataclass(frozen=True)
class AwsConfig:
    """The profiles and sso-sessions of an AWS config file, with every secret value removed."""

    path: Path
    profiles: dict[str, dict[str, Any]]
    """Profiles in file order (`[default]` is `default`), without key or token values."""
    static: frozenset[str]
    """Profiles of this file that hold static keys."""
    sso_sessions: dict[str, dict[str, Any]]
    ignored: tuple[str, ...]
    """`[profile ...]` sections botocore does not read as a profile."""
    too_long: tuple[str, ...] = ()
    """Sections left unread because their name is longer than `_MAX_SECTION`."""


def load_aws_config(path: Path) -> AwsConfig:
    """Parse an AWS config file as botocore does; raise `ImportSourceError` if it cannot be."""
    from botocore import configloader, exceptions

    if not path.is_file():
        raise ImportSourceError(
            f"there is no AWS config file at {inert(str(path))}.",
            hint="pass --config FILE (or set AWS_CONFIG_FILE)",
        )
    try:
        raw = configloader.raw_config_parse(str(path))
    except exceptions.ConfigParseError:
        raise ImportSourceError(
            f"{inert(str(path))} is not a valid AWS config file ({_parse_problem(path)}).",
            hint="fix it: boto3 and the AWS CLI cannot read it either",
        ) from None
    except exceptions.ConfigNotFound:
        raise ImportSourceError(f"cannot read the AWS config file {inert(str(path))}.") from None
    too_long = tuple(s for s in raw if len(s) > _MAX_SECTION)
    for section in too_long:
        del raw[section]
    built = configloader.build_profile_map(raw)
    profiles: dict[str, dict[str, Any]] = {}
    static = set()
    for name, values in built["profiles"].items():
        if _SECRET_KEYS & set(values):
            static.add(name)
        profiles[name] = {k: v for k, v in values.items() if k not in _SECRET_KEYS}
    ignored = tuple(s for s in raw if s.startswith("profile") and _section_profile(s) is None)
    return AwsConfig(
        path, profiles, frozenset(static), dict(built["sso_sessions"]), ignored, too_long
    )


def credential_file_profiles(path: Path | None) -> dict[str, bool]:
    """Section names of a credentials file, each with whether it has an access key id line.

    A line scan, not a parse: no value of the file is kept, so no secret can travel on.
    """
    if path is None:
        return {}
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return {}
    names: dict[str, bool] = {}
    current: str | None = None
    for line in text.splitlines():
        section = _section_name(line)
        if section is not None:
            current = section
            names.setdefault(current, False)
        elif current is not None and _ACCESS_KEY_LINE.match(line):
            names[current] = True
    return names


def from_aws_config(config_path: Path, credentials_path: Path | None = None) -> Draft:
    """A draft of every role the AWS config describes, and why the others were left out."""
    config = load_aws_config(config_path)
    return ProfileImporter(config, credential_file_profiles(credentials_path)).draft()


def _section_name(line: str) -> str | None:
    """`NAME` of a `[ NAME ]` line (text after the `]` ignored), else None.

    No regex: `\\s*\\[\\s*([^]]*?)\\s*]` was cubic on a `[` followed by many spaces."""
    stripped = line.lstrip()
    if not stripped.startswith("["):
        return None
    close = stripped.find("]")
    return stripped[1:close].strip() if close != -1 else None


def _section_profile(section: str) -> str | None:
    """The profile name of a `[profile NAME]` section as botocore reads it, or None."""
    try:
        parts = shlex.split(section)
    except ValueError:
        return None
    return parts[1] if len(parts) == 2 else None


def _parse_problem(path: Path) -> str:
    """Where a config file breaks, without echoing any of its lines (one may hold a key)."""
    import configparser

    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return "it is not readable UTF-8 text"
    try:
        configparser.RawConfigParser().read_string(text, source=str(path))
    except configparser.DuplicateSectionError as e:
        return f"line {e.lineno}: section [{inert(str(e.section))}] appears twice"
    except configparser.DuplicateOptionError as e:
        return f"line {e.lineno}: {inert(str(e.option))} appears twice in [{inert(str(e.section))}]"
    except configparser.MissingSectionHeaderError as e:
        return f"line {e.lineno}: a setting before any [section]"
    except configparser.ParsingError as e:
        lines = ", ".join(str(number) for number, _ in e.errors[:5])
        return f"line {lines}: neither a setting nor a [section]"
    except configparser.Error:
        return "it cannot be parsed"
    return "a nested setting is malformed"
