"""Planning an assumption: the hops from a role's source to the role, without AWS or boto3.

`build_plan` resolves each hop's session-name template, duration, region and cache key, and
refuses what AWS would refuse (chained sessions over an hour, missing free variables).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from rolecall.core.catalogue.model import (
    CHAINED_MAX_DURATION,
    MAX_DURATION,
    MIN_DURATION,
    Catalogue,
    Role,
    format_duration,
)
from rolecall.core.errors import FreeVariableMissing, TemplateError, UsageError
from rolecall.core.naming.session_name import check_name, parse_template
from rolecall.core.sts.session_cache import cache_key
from rolecall.core.text import show


class AssumeOptions(NamedTuple):
    """How to assume: everything the command line (or the TUI) can set."""

    session_name: str | None = None
    """An explicit session name; used as given (validated, not sanitised)."""
    template: str | None = None
    """A template name from `[session_names]` (or a literal template) to use instead."""
    variables: Mapping[str, str] = MappingProxyType({})
    """Values for free variables."""
    duration: int | None = None
    """Override of the target's duration, in seconds."""
    mfa_code: str | None = None
    """A 6-digit code for the first hop that needs MFA."""
    region: str | None = None
    """Override of the target's region (STS endpoint and the session's region)."""
    use_cache: bool = True
    """False for --no-cache: neither read nor write the session cache."""


class Hop(NamedTuple):
    """One AssumeRole call of a plan."""

    role: Role
    template: str
    """Session-name template text, or the explicit name when `explicit` is true."""
    explicit: bool
    duration: int
    region: str
    source_identity: str | None
    """Source-identity template text, or None."""
    variables: Mapping[str, str]
    """Free-variable values for rendering."""
    key: str
    """Session-cache key for this hop's session."""


class Plan(NamedTuple):
    """Every hop needed for a target, first hop first; the last is the target."""

    hops: tuple[Hop, ...]
    options: AssumeOptions

    @property
    def target(self) -> Hop:
        """The hop whose session the caller wants."""
        return self.hops[-1]


def build_plan(
    catalogue: Catalogue, role: Role, options: AssumeOptions, env: Mapping[str, str]
) -> Plan:
    """Resolve hops, templates, durations and cache keys; refuse what AWS would refuse.

    `env` is the environment boto3 sees: it decides who calls STS for a first hop without a
    source profile, and so that hop's cache key.
    """
    chain = catalogue.chain(role)
    hops: list[Hop] = []
    previous_key: str | None = None
    source_identity = role.source_identity
    for index, hop_role in enumerate(chain):
        is_target = index == len(chain) - 1
        template, explicit = hop_role.session_name, False
        duration, region = hop_role.duration, hop_role.region
        if is_target:
            template, explicit = _target_template(catalogue, hop_role, options)
            duration = options.duration if options.duration is not None else duration
            region = options.region or region
            _check_duration(hop_role, duration, chained=index > 0)
        material = {
            "role": hop_role.arn,
            "region": region,
            "duration": duration,
            "template": template,
            "explicit": explicit,
            "variables": _used_variables(template, explicit, options.variables),
            "source_identity": source_identity,
            "external_id": hop_role.external_id,
            "mfa_serial": hop_role.mfa_serial,
            "tags": [list(t) for t in hop_role.session_tags],
            "transitive": list(hop_role.transitive_tags),
            "source": previous_key or _source_identity_key(hop_role, env),
        }
        key = cache_key(material)
        hops.append(
            Hop(
                hop_role,
                template,
                explicit,
                duration,
                region,
                source_identity,
                options.variables,
                key,
            )
        )
        previous_key = key
    _check_variables(hops, options.variables)
    return Plan(tuple(hops), options)


def _check_variables(hops: list[Hop], variables: Mapping[str, str]) -> None:
    """Every free variable of every hop's template has a value; else name the first hop short.

    The error names the hop and its template when it is an earlier hop of a chain: the
    target's own template (or `--template`) may need nothing.
    """
    missing = {
        index: [
            name for name in parse_template(hop.template).free_variables if not variables.get(name)
        ]
        for index, hop in enumerate(hops)
        if not hop.explicit
    }
    names = list(dict.fromkeys(name for per_hop in missing.values() for name in per_hop))
    if not names:
        return
    first = min(index for index, per_hop in missing.items() if per_hop)
    where = None
    if first < len(hops) - 1:
        hop = hops[first]
        where = (
            f"hop {first + 1} of {len(hops)} ({hop.role.target}) uses the session-name "
            f"template {show(hop.template)}"
        )
    raise FreeVariableMissing(names, where)


def _target_template(catalogue: Catalogue, role: Role, options: AssumeOptions) -> tuple[str, bool]:
    if options.session_name is not None:
        return check_name(options.session_name), True
    if options.template is not None:
        name = options.template.removeprefix("@")
        if name in catalogue.session_names:
            return catalogue.session_names[name], False
        if "{" in options.template:
            parse_template(options.template)
            return options.template, False
        known = ", ".join(catalogue.session_names) or "none are defined"
        raise TemplateError(
            f"there is no session-name template called '{name}'.",
            hint=f"templates in the catalogue: {known}",
        )
    return role.session_name, False


def _check_duration(role: Role, duration: int, chained: bool) -> None:
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise UsageError(
            f"a session of {format_duration(duration)} is outside what STS allows (15m to 12h)."
        )
    if chained and duration > CHAINED_MAX_DURATION:
        raise UsageError(
            f"{role.target} is reached by role chaining (via {role.via}), which AWS caps "
            f"at 1h; {format_duration(duration)} was asked for.",
            hint="use --duration 1h or less",
        )


def _used_variables(template: str, explicit: bool, variables: Mapping[str, str]) -> dict[str, str]:
    if explicit:
        return {}
    names = parse_template(template).free_variables
    return {n: variables[n] for n in names if n in variables}


def _source_identity_key(role: Role, env: Mapping[str, str]) -> str:
    """Who calls STS for a first hop: the profile, or the default chain as configured."""
    if role.source_profile is not None:
        return f"profile:{role.source_profile}"
    chosen = env.get("AWS_DEFAULT_PROFILE") or env.get("AWS_PROFILE") or ""
    key_id = env.get("AWS_ACCESS_KEY_ID", "")
    return f"default:{chosen}:{key_id}"
