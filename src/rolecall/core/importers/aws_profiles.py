"""Turning the profiles of an AWS config into a draft, after botocore's `AssumeRoleProvider`.

- `role_arn` + `source_profile` naming a plain profile (keys, credential_process, SSO,
  login) → a role with that `source_profile`;
- `role_arn` + `source_profile` naming another role profile → a role with `via` that role;
- `role_arn` + `credential_source` → a role with no source (rolecall's default credential
  chain reaches the same credentials), with a note;
- `sso_account_id` + `sso_role_name` → a role whose `source_profile` is the SSO profile itself
  (tagged `sso`); other roles may use the profile as their source;
- anything botocore would refuse, or a catalogue cannot say, is left out with the reason.

The config is hostile input: a `source_profile` chain is resolved without recursion (a chain
can be thousands of profiles long) and no step is more than linear in a profile name.
`aws_accounts` groups the roles into accounts.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rolecall.core.catalogue.model import (
    CHAINED_MAX_DURATION,
    MAX_DURATION,
    MIN_DURATION,
    PARTITION_REGIONS,
    format_duration,
    partition_of,
)
from rolecall.core.catalogue.rules import MAX_PROFILE_NAME
from rolecall.core.importers.aws_accounts import ProfileRole, group_accounts
from rolecall.core.importers.draft import Draft, DraftRole, Skipped
from rolecall.core.naming.session_name import VALID_NAME
from rolecall.core.text import inert, show

if TYPE_CHECKING:
    from rolecall.core.importers.aws_config import AwsConfig

CREDENTIAL_SOURCES = {
    "Environment": "reads the AWS_* variables first",
    "Ec2InstanceMetadata": "reaches the instance metadata when nothing else is configured",
    "EcsContainer": "reaches the container credentials when nothing else is configured",
}
"""The `credential_source` values botocore accepts, and how the default chain covers each."""

_ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::([0-9]{12}):role(/(?:[^/]+/)*)([^/]+)")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_PARTITIONS = frozenset(name for name, _ in PARTITION_REGIONS)
_LOOP_SHOWN = 6
"""A `source_profile` loop longer than this is shown by its first profiles and its length."""


def _string(keys: dict[str, Any], name: str) -> str | None:
    value = keys.get(name)
    if value is None:
        return None
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class _Source:
    """A profile that is no catalogue role but can be another role's `source_profile`."""


@dataclass(frozen=True)
class _Broken:
    reason: str
    loop: bool = False


_Result = ProfileRole | _Source | _Broken

_Steps = Generator[str, _Result, _Result]
"""How one profile resolves: it yields the name of each profile it needs resolved first, is
sent that profile's result, and returns its own."""


def _loop(names: list[str]) -> _Broken:
    """The sentence for a `source_profile` loop through `names` (back to the first)."""
    shown = [inert(p) for p in names[:_LOOP_SHOWN]]
    if len(names) > _LOOP_SHOWN:
        shown += ["…", f"{inert(names[0])} ({len(names)} profiles)"]
    else:
        shown.append(inert(names[0]))
    return _Broken("source_profile chain loops: " + " → ".join(shown), loop=True)


def _too_long(what: str, name: str) -> _Broken:
    return _Broken(
        f"{what} {show(name)} is too long to import ({len(name):,} characters; rolecall "
        f"takes profile names of up to {MAX_PROFILE_NAME})"
    )


@dataclass
class ProfileImporter:
    """Resolves every profile of one config (each once, following `source_profile`) and
    collects the roles, what was left out and why, and notes for the draft."""

    config: AwsConfig
    credentials: dict[str, bool]
    results: dict[str, _Result] = field(default_factory=dict)
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
        """The result of profile `name`, each profile resolved once.

        A loop over an explicit stack, not recursion: a config may chain thousands of
        profiles, each declared before its source. A profile on the stack waits (suspended
        in `_resolve`) for the result of the source it asked for.
        """
        if name in self.results:
            return self.results[name]
        stack: list[tuple[str, _Steps]] = [(name, self._resolve(name))]
        position = {name: 0}  # where each profile of the stack is, to name a loop
        answer: _Result | None = None  # what the top of the stack asked for; None to start
        while stack:
            current, steps = stack[-1]
            try:
                wanted = next(steps) if answer is None else steps.send(answer)
            except StopIteration as finished:
                stack.pop()
                del position[current]
                self.results[current] = answer = finished.value
                continue
            if wanted in self.results:
                answer = self.results[wanted]
            elif wanted in position:
                answer = _loop([n for n, _ in stack[position[wanted] :]])
            else:
                position[wanted] = len(stack)
                stack.append((wanted, self._resolve(wanted)))
                answer = None
        return self.results[name]

    def _resolve(self, name: str) -> _Steps:
        if len(name) > MAX_PROFILE_NAME:
            return _too_long("the profile name", name)
        kind = self.kind(name)
        if kind == "role":
            return (yield from self._role(name, self.profiles[name]))
        if kind == "sso":
            return self._sso(name, self.profiles[name])
        return _Source()

    # -- role profiles -----------------------------------------------------------------------

    def _role(self, name: str, keys: dict[str, Any]) -> _Steps:
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
            outcome = yield from self._source(name, source)
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
        return ProfileRole(account_id, partition, role, _string(keys, "region"), name)

    def _source(
        self, name: str, source: str
    ) -> Generator[str, _Result, _Broken | tuple[str, str] | str]:
        """How `name` reaches its `source_profile`: a `via` key, the profile name, or why not
        (yields `source` when its result is needed)."""
        if source == name:
            if name in self.static:
                return _Broken(
                    "it assumes its role with its own static keys (source_profile is itself); "
                    "rolecall needs those keys in a profile of their own: move them to e.g. "
                    f"[profile {inert(name)}-keys] and set source_profile = {inert(name)}-keys"
                )
            return _Broken("it names itself as source_profile but holds no keys; botocore refuses")
        if len(source) > MAX_PROFILE_NAME:
            return _too_long("its source_profile", source)
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
        outcome = yield source
        if isinstance(outcome, _Broken):
            if outcome.loop:
                return outcome
            return _Broken(
                f"its source_profile {show(source)} cannot be imported (see that profile)"
            )
        if kind == "role" and isinstance(outcome, ProfileRole):
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
        return ProfileRole(account_id, partition, role, region, name, sso=True)

    # -- the draft ---------------------------------------------------------------------------

    def draft(self) -> Draft:
        for section in self.config.ignored:
            self.skipped[f"[{section}]"] = (
                "botocore does not read this section as a profile; write [profile NAME]"
            )
        for section in self.config.too_long:
            self.skipped[f"[{inert(section[:60])}…] ({len(section):,} characters)"] = (
                "its name is too long to import (rolecall takes profile names of up to "
                f"{MAX_PROFILE_NAME} characters)"
            )
        winners: dict[tuple[str, str], ProfileRole] = {}
        sources = []
        for name in self.profiles:
            if self.kind(name) == "source":
                sources.append(name)
                continue
            result = self.resolve(name)
            if isinstance(result, _Broken):
                self.skipped[name] = result.reason
            elif isinstance(result, ProfileRole):
                key = (result.account_id, result.role.name.lower())
                first = winners.setdefault(key, result)
                if first is not result:
                    self.skipped[name] = (
                        f"same role as profile {show(first.profile)} "
                        f"({result.account_id}/{result.role.name}); a catalogue lists each role "
                        "once"
                    )
        accounts = group_accounts(list(winners.values()), self.skipped, self.note)
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
