"""Import from the AWS config file: role profiles, their chains, and SSO profiles.

Profiles are read the way botocore reads them (`configloader.raw_config_parse` and
`build_profile_map`), from the config file only. Secret values found there are dropped the
moment the file is parsed. The credentials file is never parsed: a line scan notes which
section names it has and which of them hold an `aws_access_key_id` line, without keeping any
value, because botocore resolves a source profile with static keys differently.

Mapping, after botocore's `AssumeRoleProvider`:

- `role_arn` + `source_profile` naming a plain profile (keys, credential_process, SSO,
  login) → a role with that `source_profile`;
- `role_arn` + `source_profile` naming another role profile → a role with `via` that role;
- `role_arn` + `credential_source` → a role with no source (rolecall's default credential
  chain reaches the same credentials), with a note;
- `sso_account_id` + `sso_role_name` → a role whose `source_profile` is the SSO profile itself
  (tagged `sso`); other roles may use the profile as their source;
- anything botocore would refuse, or a catalogue cannot say, is left out with the reason.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rolecall.core.catalogue.model import (
    CHAINED_MAX_DURATION,
    MAX_DURATION,
    MIN_DURATION,
    PARTITION_REGIONS,
    format_duration,
    partition_of,
)
from rolecall.core.importers.draft import (
    Draft,
    DraftAccount,
    DraftRole,
    Skipped,
    account_name,
)
from rolecall.core.importers.errors import ImportSourceError
from rolecall.core.naming.session_name import VALID_NAME
from rolecall.core.text import inert, show

CREDENTIAL_SOURCES = {
    "Environment": "reads the AWS_* variables first",
    "Ec2InstanceMetadata": "reaches the instance metadata when nothing else is configured",
    "EcsContainer": "reaches the container credentials when nothing else is configured",
}
"""The `credential_source` values botocore accepts, and how the default chain covers each."""

PARTITION_DEFAULT_REGIONS = {
    "aws-us-gov": "us-gov-west-1",
    "aws-cn": "cn-north-1",
    "aws-iso": "us-iso-east-1",
    "aws-iso-b": "us-isob-east-1",
    "aws-iso-f": "us-isof-south-1",
    "aws-iso-e": "eu-isoe-west-1",
    "aws-eusc": "eusc-de-east-1",
}
"""A region for accounts outside the commercial partition whose profiles name none (the
catalogue derives the partition from the region)."""

_SECRET_KEYS = frozenset(
    {"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token"}
)
_ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::([0-9]{12}):role(/(?:[^/]+/)*)([^/]+)")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_SECTION = re.compile(r"\s*\[\s*([^\]]*?)\s*\]")
_ACCESS_KEY_LINE = re.compile(r"\s*aws_access_key_id\s*[=:]", re.IGNORECASE)
_SEPARATORS = "-_./:@ "
_PARTITIONS = frozenset(name for name, _ in PARTITION_REGIONS)


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
    built = configloader.build_profile_map(raw)
    profiles: dict[str, dict[str, Any]] = {}
    static = set()
    for name, values in built["profiles"].items():
        if _SECRET_KEYS & set(values):
            static.add(name)
        profiles[name] = {k: v for k, v in values.items() if k not in _SECRET_KEYS}
    ignored = tuple(s for s in raw if s.startswith("profile") and _section_profile(s) is None)
    return AwsConfig(path, profiles, frozenset(static), dict(built["sso_sessions"]), ignored)


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
        match = _SECTION.match(line)
        if match:
            current = match.group(1)
            names.setdefault(current, False)
        elif current is not None and _ACCESS_KEY_LINE.match(line):
            names[current] = True
    return names


def from_aws_config(config_path: Path, credentials_path: Path | None = None) -> Draft:
    """A draft of every role the AWS config describes, and why the others were left out."""
    config = load_aws_config(config_path)
    return _Importer(config, credential_file_profiles(credentials_path)).draft()


# ---------------------------------------------------------------------------------------------


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


def _string(keys: dict[str, Any], name: str) -> str | None:
    value = keys.get(name)
    if value is None:
        return None
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class _Role:
    """A profile that becomes a catalogue role."""

    account_id: str
    partition: str | None
    """From the role ARN; for SSO profiles, guessed from the region (None if unknown)."""
    role: DraftRole
    region: str | None
    profile: str
    sso: bool = False


@dataclass(frozen=True)
class _Source:
    """A profile that is no catalogue role but can be another role's `source_profile`."""


@dataclass(frozen=True)
class _Broken:
    reason: str
    loop: bool = False


_Result = _Role | _Source | _Broken


@dataclass
class _Importer:
    config: AwsConfig
    credentials: dict[str, bool]
    results: dict[str, _Result] = field(default_factory=dict)
    resolving: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.profiles = self.config.profiles
        self.static = set(self.config.static) | {n for n, k in self.credentials.items() if k}
        self.known = set(self.profiles) | set(self.credentials)

    # -- classification ----------------------------------------------------------------------

    def kind(self, name: str) -> str:
        keys = self.profiles.get(name, {})
        if "role_arn" in keys:
            return "role"
        if "sso_account_id" in keys or "sso_role_name" in keys:
            return "sso"
        return "source"

    def note(self, profile: str, text: str) -> None:
        self.notes.setdefault(profile, []).append(f"profile {show(profile)}: {text}")

    def resolve(self, name: str) -> _Result:
        if name in self.results:
            return self.results[name]
        if name in self.resolving:
            loop = [*self.resolving[self.resolving.index(name) :], name]
            return _Broken(
                "source_profile chain loops: " + " → ".join(inert(p) for p in loop), loop=True
            )
        self.resolving.append(name)
        try:
            result = self._resolve(name)
        finally:
            self.resolving.pop()
        self.results[name] = result
        return result

    def _resolve(self, name: str) -> _Result:
        kind = self.kind(name)
        if kind == "role":
            return self._role(name, self.profiles[name])
        if kind == "sso":
            return self._sso(name, self.profiles[name])
        return _Source()

    # -- role profiles -----------------------------------------------------------------------

    def _role(self, name: str, keys: dict[str, Any]) -> _Result:
        arn = _string(keys, "role_arn") or ""
        match = _ROLE_ARN.fullmatch(arn)
        if match is None:
            return _Broken(
                f"role_arn {show(arn)} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            )
        partition, account_id, path, role_name = match.groups()
        if partition not in _PARTITIONS:
            return _Broken(f"role_arn {show(arn)} names partition {show(partition)}")
        if "web_identity_token_file" in keys:
            self.skipped[name] = (
                "it assumes its role with a web identity token (AssumeRoleWithWebIdentity), "
                "which rolecall does not do; other roles can use it as their source_profile"
            )
            return _Source()
        if "sso_account_id" in keys or "sso_session" in keys or "sso_start_url" in keys:
            self.note(name, "its sso_* keys are ignored: role_arn takes precedence, as in botocore")
        source = _string(keys, "source_profile")
        credential_source = _string(keys, "credential_source")
        if source and credential_source:
            return _Broken(
                "it sets both source_profile and credential_source; botocore refuses that"
            )
        if not source and not credential_source:
            return _Broken("it has role_arn but neither source_profile nor credential_source")
        fields: dict[str, Any] = {}
        if path != "/":
            fields["path"] = path
        via: tuple[str, str] | None = None
        chained = ""
        if credential_source:
            if credential_source not in CREDENTIAL_SOURCES:
                return _Broken(
                    f"credential_source {show(credential_source)} is not one of "
                    + ", ".join(CREDENTIAL_SOURCES)
                )
            self.note(
                name,
                f"credential_source {credential_source}: rolecall assumes it from the default "
                f"credential chain, which {CREDENTIAL_SOURCES[credential_source]}",
            )
        else:
            assert source is not None
            outcome = self._source(name, source)
            if isinstance(outcome, _Broken):
                return outcome
            if isinstance(outcome, tuple):
                via, chained = outcome, f"its source_profile {show(source)} is a role"
            else:
                fields["source_profile"] = source
                if self.kind(source) == "sso":
                    chained = (
                        f"its source_profile {show(source)} signs in with IAM Identity Center, "
                        "whose sessions are roles"
                    )
                elif self.kind(source) == "role":
                    chained = f"its source_profile {show(source)} is a role"
        for key in ("mfa_serial", "external_id"):
            value = _string(keys, key)
            if value:
                fields[key] = value
        duration = self._duration(name, keys, chained)
        if duration is not None:
            fields["duration"] = duration
        session_name = _string(keys, "role_session_name")
        if session_name:
            if VALID_NAME.fullmatch(session_name):
                fields["session_name"] = session_name
            else:
                self.note(
                    name,
                    f"role_session_name {show(session_name)} is not a valid session name "
                    "(2-64 of letters, digits, _+=,.@-); left out",
                )
        fields["description"] = f"AWS profile {name}"
        role = DraftRole(role_name, fields, via=via, origin=f"profile {show(name)}")
        return _Role(account_id, partition, role, _string(keys, "region"), name)

    def _source(self, name: str, source: str) -> _Broken | tuple[str, str] | str:
        """How `name` reaches its `source_profile`: a `via` key, the profile name, or why not."""
        if source == name:
            if name in self.static:
                return _Broken(
                    "it assumes its role with its own static keys (source_profile is itself); "
                    "rolecall needs those keys in a profile of their own: move them to e.g. "
                    f"[profile {inert(name)}-keys] and set source_profile = {inert(name)}-keys"
                )
            return _Broken("it names itself as source_profile but holds no keys; botocore refuses")
        if source not in self.known:
            return _Broken(
                f"source_profile {show(source)} is in neither the config nor the credentials file"
            )
        kind = self.kind(source)
        if kind == "role" and source in self.static:
            return _Broken(
                f"its source_profile {show(source)} has both role_arn and static keys: botocore "
                "then uses the keys, which a catalogue cannot name; move them to a profile of "
                "their own"
            )
        if kind == "source":
            return source
        outcome = self.resolve(source)
        if isinstance(outcome, _Broken):
            if outcome.loop:
                return outcome
            return _Broken(
                f"its source_profile {show(source)} cannot be imported (see that profile)"
            )
        if kind == "role" and isinstance(outcome, _Role):
            return (outcome.account_id, outcome.role.name)
        return source

    def _duration(self, name: str, keys: dict[str, Any], chained: str) -> str | None:
        raw = _string(keys, "duration_seconds")
        if raw is None:
            return None
        if not raw.isascii() or not raw.isdigit():
            self.note(
                name,
                f"duration_seconds {show(raw)} is not a number of seconds; botocore ignores it, "
                "and so did the import",
            )
            return None
        seconds = int(raw)
        if not MIN_DURATION <= seconds <= MAX_DURATION:
            self.note(
                name,
                f"duration_seconds {seconds} is outside 900..43200, which STS refuses; left out",
            )
            return None
        if chained and seconds > CHAINED_MAX_DURATION:
            self.note(
                name,
                f"duration_seconds {seconds} is over 1h, the AWS limit for role chaining "
                f"({inert(chained)}); imported as 1h",
            )
            seconds = CHAINED_MAX_DURATION
        return format_duration(seconds)

    # -- SSO profiles ------------------------------------------------------------------------

    def _sso(self, name: str, keys: dict[str, Any]) -> _Result:
        account_id = _string(keys, "sso_account_id")
        role_name = _string(keys, "sso_role_name")
        if not account_id or not role_name:
            have, lack = (
                ("sso_account_id", "sso_role_name")
                if account_id
                else ("sso_role_name", "sso_account_id")
            )
            return _Broken(f"it has {have} but no {lack}")
        if not _ACCOUNT_ID.fullmatch(account_id):
            return _Broken(f"sso_account_id {show(account_id)} is not 12 digits")
        session = _string(keys, "sso_session")
        if session:
            settings = self.config.sso_sessions.get(session)
            if settings is None:
                return _Broken(
                    f"sso_session {show(session)} has no [sso-session {inert(session)}] section"
                )
            start_url = _string(settings, "sso_start_url")
            sso_region = _string(settings, "sso_region")
            if not start_url or not sso_region:
                return _Broken(f"[sso-session {inert(session)}] lacks sso_start_url or sso_region")
        else:
            start_url = _string(keys, "sso_start_url")
            sso_region = _string(keys, "sso_region")
            if not start_url and not sso_region:
                return _Broken(
                    "it has no sso_session (nor the legacy sso_start_url and sso_region)"
                )
            if not start_url or not sso_region:
                lack = "sso_region" if start_url else "sso_start_url"
                return _Broken(f"its legacy SSO settings (no sso_session) lack {lack}")
        fields: dict[str, Any] = {
            "source_profile": name,
            "tags": ["sso"],
            "description": f"IAM Identity Center, AWS profile {name}",
        }
        role = DraftRole(role_name, fields, origin=f"profile {show(name)}")
        region = _string(keys, "region")
        partition = partition_of(region or sso_region)
        return _Role(account_id, partition, role, region, name, sso=True)

    # -- the draft ---------------------------------------------------------------------------

    def draft(self) -> Draft:
        for section in self.config.ignored:
            self.skipped[f"[{section}]"] = (
                "botocore does not read this section as a profile; write [profile NAME]"
            )
        winners: dict[tuple[str, str], _Role] = {}
        sources = []
        for name in self.profiles:
            if self.kind(name) == "source":
                sources.append(name)
                continue
            result = self.resolve(name)
            if isinstance(result, _Broken):
                self.skipped[name] = result.reason
            elif isinstance(result, _Role):
                key = (result.account_id, result.role.name.lower())
                first = winners.setdefault(key, result)
                if first is not result:
                    self.skipped[name] = (
                        f"same role as profile {show(first.profile)} "
                        f"({result.account_id}/{result.role.name}); a catalogue lists each role "
                        "once"
                    )
        accounts = self._accounts(list(winners.values()))
        order = {name: i for i, name in enumerate(self.profiles)}
        skipped = [
            Skipped(name if name.startswith("[") else f"profile {show(name)}", reason)
            for name, reason in sorted(
                self.skipped.items(), key=lambda item: order.get(item[0], -1)
            )
        ]
        notes = [
            text
            for name in self.profiles
            if name not in self.skipped  # a profile left out needs its reason, not notes
            for text in self.notes.get(name, [])
        ]
        if sources:
            shown = ", ".join(inert(s) for s in sources[:10])
            more = f" and {len(sources) - 10} more" if len(sources) > 10 else ""
            notes.append(
                f"{len(sources)} profile{'s hold' if len(sources) > 1 else ' holds'} no role "
                f"and {'serve' if len(sources) > 1 else 'serves'} only as a source: {shown}{more}"
            )
        return Draft(str(self.config.path), accounts, lambda _a, _r: True, skipped, notes)

    def _accounts(self, roles: list[_Role]) -> list[DraftAccount]:
        by_account: dict[str, list[_Role]] = {}
        for found in roles:
            by_account.setdefault(found.account_id, []).append(found)
        accounts = []
        for account_id, members in by_account.items():
            # The role ARNs say which partition the account is in; SSO profiles only hint.
            partition = next(
                (m.partition for m in members if not m.sso),
                next((m.partition for m in members if m.partition), None),
            )
            kept = []
            for member in members:
                if not member.sso and member.partition != partition:
                    self.skipped[member.profile] = (
                        f"its role ARN puts account {account_id} in partition "
                        f"{member.partition}, other profiles put it in {partition}"
                    )
                else:
                    kept.append(member)
            partition = partition or "aws"
            regions = []
            for member in kept:
                if member.region is None:
                    continue
                if partition_of(member.region) is None:
                    self.note(
                        member.profile,
                        f"region {show(member.region)} is not an AWS region; left out",
                    )
                elif partition_of(member.region) != partition:
                    self.note(
                        member.profile,
                        f"region {member.region} is outside the account's partition "
                        f"{partition}; left out",
                    )
                else:
                    regions.append(member.region)
            region = Counter(regions).most_common(1)[0][0] if regions else None
            region = region or PARTITION_DEFAULT_REGIONS.get(partition)
            fields: dict[str, Any] = {"region": region} if region else {}
            draft_roles = []
            for member in kept:
                role = member.role
                if member.region in regions and member.region != region:
                    role.fields["region"] = member.region
                draft_roles.append(role)
            label = _account_label([_strip_role(m.profile, m.role.name) for m in kept])
            if not label:
                # Every profile is named after its role: what the names share, if that is not
                # itself just a role name.
                label = _account_label([m.profile for m in kept])
                if any(_squash(label) == _squash(m.role.name) for m in kept):
                    label = ""
            name = (
                account_name(label, account_id, lower=False) if label else f"account-{account_id}"
            )
            accounts.append(DraftAccount(account_id, name, fields, draft_roles))
        return accounts


def _strip_role(profile: str, role: str) -> str:
    """`payments-prod-admin` for role `Admin` → `payments-prod` (`read-only` matches
    `ReadOnly`: separators and case are ignored); a profile named after the role → ``."""
    wanted = _squash(role)
    if _squash(profile) == wanted:
        return ""
    for i, char in enumerate(profile):
        if char in _SEPARATORS and _squash(profile[i + 1 :]) == wanted:
            return profile[:i]
    return profile


def _squash(text: str) -> str:
    return "".join(c for c in text.lower() if c not in _SEPARATORS)


def _account_label(candidates: list[str]) -> str:
    """What the profile names of one account share: `prod-admin`, `prod-ro` → `prod`."""
    names = [c for c in candidates if c]
    if not names:
        return ""
    if all(n == names[0] for n in names):
        return names[0]
    prefix = names[0]
    for other in names[1:]:
        while not other.startswith(prefix):
            prefix = prefix[:-1]
    while prefix:
        at_boundary = prefix[-1] in _SEPARATORS or all(
            len(n) == len(prefix) or n[len(prefix)] in _SEPARATORS for n in names
        )
        label = prefix.rstrip(_SEPARATORS)
        if at_boundary and label:
            return label
        cut = max(prefix[:-1].rfind(s) for s in _SEPARATORS)
        prefix = prefix[: cut + 1] if cut >= 0 else ""
    return names[0]
