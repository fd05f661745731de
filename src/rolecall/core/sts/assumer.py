"""The STS engine: assume a catalogue role from its source or through its `via` chain.

Planning (`Assumer.plan`) needs no AWS call and no boto3: it resolves the hops, their
session-name templates, durations and cache keys, and refuses what AWS would refuse
(chained sessions over an hour, missing free variables). `Assumer.cached` serves a plan from
the cache, still without boto3. `Assumer.assume` calls STS hop by hop, reusing cached hops,
with pinned timeouts and retries. The engine never prompts: it raises `MfaRequired` and
`FreeVariableMissing`, and the caller asks and tries again.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from rolecall import __version__
from rolecall.core.catalogue.model import (
    CHAINED_MAX_DURATION,
    MAX_DURATION,
    MIN_DURATION,
    Catalogue,
    Role,
    format_duration,
)
from rolecall.core.credentials import Credentials, Secret, Session, utc
from rolecall.core.errors import FreeVariableMissing, TemplateError, UsageError
from rolecall.core.private_files import read_private, write_private
from rolecall.core.sts.session_cache import SessionCache, cache_key
from rolecall.core.naming.session_name import (
    NameContext,
    check_name,
    parse_template,
    render_session_name,
    render_source_identity,
)
from rolecall.core.sts.errors import (
    MfaCodeInvalid,
    MfaCodeReused,
    MfaRequired,
    classify,
)

CLIENT_SETTINGS: dict[str, Any] = {
    "connect_timeout": 3,
    "read_timeout": 10,
    "retries": {"mode": "standard", "total_max_attempts": 3},
}
"""botocore client settings, pinned so that a change of botocore's defaults (60 s timeouts,
legacy vs standard retries) cannot move them. Worst case per hop: 3 x (3 s + 10 s)."""

_MFA_CODE = re.compile(r"[0-9]{6}")
TOTP_STEP = 30


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


class MfaLedger:
    """Remembers which MFA codes were used in which 30-second step, across processes.

    STS refuses a TOTP code the second time; telling the user to wait beats a denied call.
    Only a hash of (serial, code) is stored, never the code.
    """

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        """The ledger file (private, in the cache dir)."""
        self.clock = clock

    def _load(self) -> dict[str, float]:
        data = read_private(self.path)
        try:
            entries = json.loads(data) if data else {}
        except ValueError:
            return {}
        if not isinstance(entries, dict):
            return {}
        now = self.clock()
        return {
            k: v
            for k, v in entries.items()
            if isinstance(v, int | float) and now - v < 4 * TOTP_STEP
        }

    @staticmethod
    def _digest(serial: str, code: str) -> str:
        import hashlib

        return hashlib.sha256(f"{serial}\0{code}".encode()).hexdigest()

    def check(self, serial: str, code: str) -> None:
        """Refuse a code already used within its step (and the neighbouring ones)."""
        used_at = self._load().get(self._digest(serial, code))
        if used_at is not None and self.clock() - used_at < 2 * TOTP_STEP:
            wait = int(2 * TOTP_STEP - (self.clock() - used_at)) + 1
            raise MfaCodeReused(
                "this MFA code was already used; AWS accepts each code only once.",
                hint=f"wait for the next code (up to {wait} s) and enter that one",
            )

    def record(self, serial: str, code: str) -> None:
        """Note that `code` has been sent to STS for `serial`."""
        entries = self._load()
        entries[self._digest(serial, code)] = self.clock()
        write_private(self.path, json.dumps(entries).encode())


def check_mfa_code(code: str) -> str:
    """Return `code` stripped if it is six digits, else raise `MfaCodeInvalid`."""
    code = code.strip().replace(" ", "")
    if not _MFA_CODE.fullmatch(code):
        raise MfaCodeInvalid(
            "an MFA code is six digits.", hint="type the code your authenticator shows now"
        )
    return code


class Assumer:
    """Assumes catalogue roles, one hop at a time, through the session cache."""

    def __init__(
        self,
        catalogue: Catalogue,
        cache: SessionCache,
        mfa_ledger: MfaLedger,
        *,
        env: Mapping[str, str],
        client_settings: Mapping[str, Any] | None = None,
        name_context: Callable[[Mapping[str, str], str | None], NameContext] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.catalogue = catalogue
        self.cache = cache
        self.mfa_ledger = mfa_ledger
        self.env = env
        """The environment boto3 sees (decides the default profile, endpoints, ...)."""
        self.client_settings = dict(client_settings or CLIENT_SETTINGS)
        self.name_context = name_context or (
            lambda variables, caller: NameContext(variables=variables, caller=caller)
        )
        self.clock = clock
        self.sts_calls = 0
        """AssumeRole calls made by this assumer (for the journal and tests)."""
        self._boto_sessions: dict[str | None, Any] = {}

    # -- planning (no AWS, no boto3) ------------------------------------------------------------

    def plan(self, role: Role, options: AssumeOptions) -> Plan:
        """Resolve hops, templates, durations and cache keys; refuse what AWS would refuse."""
        chain = self.catalogue.chain(role)
        hops: list[Hop] = []
        previous_key: str | None = None
        source_identity = role.source_identity
        for index, hop_role in enumerate(chain):
            is_target = index == len(chain) - 1
            template, explicit = hop_role.session_name, False
            duration, region = hop_role.duration, hop_role.region
            if is_target:
                template, explicit = self._target_template(hop_role, options)
                duration = options.duration if options.duration is not None else duration
                region = options.region or region
                self._check_duration(hop_role, duration, chained=index > 0)
            material = {
                "role": hop_role.arn,
                "region": region,
                "duration": duration,
                "template": template,
                "explicit": explicit,
                "variables": self._used_variables(template, explicit, options.variables),
                "source_identity": source_identity,
                "external_id": hop_role.external_id,
                "mfa_serial": hop_role.mfa_serial,
                "tags": [list(t) for t in hop_role.session_tags],
                "transitive": list(hop_role.transitive_tags),
                "source": previous_key or self._source_identity_key(hop_role),
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
        missing = [
            name
            for hop in hops
            if not hop.explicit
            for name in parse_template(hop.template).free_variables
            if not options.variables.get(name)
        ]
        if missing:
            raise FreeVariableMissing(list(dict.fromkeys(missing)))
        return Plan(tuple(hops), options)

    def _target_template(self, role: Role, options: AssumeOptions) -> tuple[str, bool]:
        if options.session_name is not None:
            return check_name(options.session_name), True
        if options.template is not None:
            name = options.template.removeprefix("@")
            if name in self.catalogue.session_names:
                return self.catalogue.session_names[name], False
            if "{" in options.template:
                parse_template(options.template)
                return options.template, False
            known = ", ".join(self.catalogue.session_names) or "none are defined"
            raise TemplateError(
                f"there is no session-name template called '{name}'.",
                hint=f"templates in the catalogue: {known}",
            )
        return role.session_name, False

    @staticmethod
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

    @staticmethod
    def _used_variables(
        template: str, explicit: bool, variables: Mapping[str, str]
    ) -> dict[str, str]:
        if explicit:
            return {}
        names = parse_template(template).free_variables
        return {n: variables[n] for n in names if n in variables}

    def _source_identity_key(self, role: Role) -> str:
        """Who calls STS for a first hop: the profile, or the default chain as configured."""
        if role.source_profile is not None:
            return f"profile:{role.source_profile}"
        chosen = self.env.get("AWS_DEFAULT_PROFILE") or self.env.get("AWS_PROFILE") or ""
        key_id = self.env.get("AWS_ACCESS_KEY_ID", "")
        return f"default:{chosen}:{key_id}"

    # -- the cache (no boto3) --------------------------------------------------------------------

    def cached(self, plan: Plan) -> Session | None:
        """The target's session from the cache, if it is there and fresh enough."""
        if not plan.options.use_cache:
            return None
        return self.cache.get(plan.target.key)

    # -- STS ----------------------------------------------------------------------------------

    def assume(self, role: Role, options: AssumeOptions) -> Session:
        """Assume `role` (through its chain), using and filling the session cache."""
        plan = self.plan(role, options)
        code = check_mfa_code(options.mfa_code) if options.mfa_code else None
        source: Credentials | None = None
        session: Session | None = None
        mfa_used: set[str] = set()
        for index, hop in enumerate(plan.hops):
            previous = plan.hops[index - 1] if index else None

            def call(
                hop: Hop = hop, previous: Hop | None = previous, source: Credentials | None = source
            ) -> Session:
                return self._assume_hop(hop, previous, source, code, mfa_used)

            if options.use_cache:
                session = self.cache.get_or_create(hop.key, hop.duration, call)
            else:
                session = call()
            if hop.role.mfa_serial:
                mfa_used.add(hop.role.mfa_serial)
            source = session.credentials
        assert session is not None
        return session

    def forget(self, plan: Plan) -> bool:
        """Drop the target's cached session."""
        return self.cache.forget(plan.target.key)

    def boto_session(self, profile: str | None) -> Any:
        """The boto3 session for a source profile (None: the default chain), made once."""
        # One boto3 session per source profile: a new Session re-reads the service models
        # (40-60 ms); clients for chained hops reuse the root's session with explicit keys.
        if profile not in self._boto_sessions:
            import boto3  # deferred: 150-190 ms, and cache hits never need it

            self._boto_sessions[profile] = boto3.Session(profile_name=profile)
        return self._boto_sessions[profile]

    def _client(self, hop: Hop, source: Credentials | None) -> Any:
        from botocore.config import Config

        chain = self.catalogue.chain(hop.role)
        root_profile = chain[0].source_profile
        config = Config(user_agent_extra=f"rolecall/{__version__}", **self.client_settings)
        boto_session = self.boto_session(root_profile)
        if source is None:
            return boto_session.client("sts", region_name=hop.region, config=config)
        return boto_session.client(
            "sts",
            region_name=hop.region,
            config=config,
            aws_access_key_id=source.access_key_id,
            aws_secret_access_key=source.secret_access_key.reveal(),
            aws_session_token=source.session_token.reveal(),
        )

    def _assume_hop(
        self,
        hop: Hop,
        previous: Hop | None,
        source: Credentials | None,
        code: str | None,
        mfa_used: set[str],
    ) -> Session:
        role = hop.role
        send_mfa = role.mfa_serial is not None and role.mfa_serial not in mfa_used
        if send_mfa and code is None:
            assert role.mfa_serial is not None
            raise MfaRequired(role.mfa_serial, role.target)
        endpoint = f"the STS endpoint for {hop.region}"
        try:
            client = self._client(hop, source)
            endpoint = str(client.meta.endpoint_url)
            if previous is None and self._is_sso_profile_of(role):
                return self._sso_session(hop)
            name = self._session_name(hop, client)
            params: dict[str, Any] = {
                "RoleArn": role.arn,
                "RoleSessionName": name,
                "DurationSeconds": hop.duration,
            }
            if role.external_id:
                params["ExternalId"] = role.external_id
            if hop.source_identity:
                params["SourceIdentity"] = render_source_identity(
                    hop.source_identity, role.facts, self.name_context(hop.variables, None)
                )
            if role.session_tags:
                params["Tags"] = [{"Key": k, "Value": v} for k, v in role.session_tags]
            if role.transitive_tags:
                params["TransitiveTagKeys"] = list(role.transitive_tags)
            if send_mfa:
                assert role.mfa_serial is not None and code is not None
                self.mfa_ledger.check(role.mfa_serial, code)
                params["SerialNumber"] = role.mfa_serial
                params["TokenCode"] = code
                self.mfa_ledger.record(role.mfa_serial, code)
            self.sts_calls += 1
            response = client.assume_role(**params)
        except (TemplateError, MfaCodeReused):
            raise
        except Exception as error:
            raise classify(
                error,
                role_arn=role.arn,
                target=role.target,
                region=hop.region,
                endpoint=endpoint,
                profile=role.source_profile if previous is None else None,
                via=previous.role.target if previous else None,
                mfa_serial=role.mfa_serial,
                duration=hop.duration,
            ) from None
        return self._session_from(response, hop, name, params.get("SourceIdentity"))

    def _is_sso_profile_of(self, role: Role) -> bool:
        """Whether the role's source profile *is* the role: an IAM Identity Center profile
        for this account and permission set, whose credentials are the session itself
        (AssumeRole cannot reach a permission set's role)."""
        if role.source_profile is None:
            return False
        config = self.boto_session(role.source_profile)._session.get_scoped_config()
        return bool(
            config.get("sso_account_id") == role.account_id
            and config.get("sso_role_name") == role.name
        )

    def _sso_session(self, hop: Hop) -> Session:
        """The SSO profile's own role credentials as the session (no AssumeRole call)."""
        credentials = self.boto_session(hop.role.source_profile).get_credentials()
        if credentials is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError
        frozen = credentials.get_frozen_credentials()
        expiry = getattr(credentials, "_expiry_time", None)
        if not isinstance(expiry, datetime):
            raise ValueError("SSO credentials without an expiry")
        identity = self._client_with(hop, frozen).get_caller_identity()
        arn = str(identity["Arn"])
        return Session(
            target=hop.role.target,
            role_arn=hop.role.arn,
            session_name=arn.rsplit("/", 1)[-1],
            source_identity=None,
            assumed_role_arn=arn,
            region=hop.region,
            issued_at=utc(self.clock()).replace(microsecond=0),
            credentials=Credentials(
                access_key_id=frozen.access_key,
                secret_access_key=Secret(frozen.secret_key),
                session_token=Secret(frozen.token or ""),
                expiration=utc(expiry).replace(microsecond=0),
            ),
        )

    def _client_with(self, hop: Hop, frozen: Any) -> Any:
        return self._client(
            hop,
            Credentials(
                frozen.access_key,
                Secret(frozen.secret_key),
                Secret(frozen.token or ""),
                datetime.now(UTC),
            ),
        )

    def _session_name(self, hop: Hop, client: Any) -> str:
        if hop.explicit:
            return hop.template
        template = parse_template(hop.template)
        caller = None
        if "caller" in template.placeholders:
            arn = str(client.get_caller_identity()["Arn"])
            caller = arn.rsplit("/", 1)[-1]
        context = self.name_context(hop.variables, caller)
        return render_session_name(template, hop.role.facts, context).name

    def _session_from(
        self, response: Any, hop: Hop, name: str, source_identity: str | None
    ) -> Session:
        try:
            creds = response["Credentials"]
            expiration = creds["Expiration"]
            if isinstance(expiration, str):
                expiration = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
            credentials = Credentials(
                access_key_id=str(creds["AccessKeyId"]),
                secret_access_key=Secret(str(creds["SecretAccessKey"])),
                session_token=Secret(str(creds["SessionToken"])),
                expiration=utc(expiration).replace(microsecond=0),  # as the cache stores it
            )
            assumed_arn = str(response["AssumedRoleUser"]["Arn"])
        except (KeyError, TypeError, ValueError):
            from rolecall.core.sts.errors import StsUnavailable

            raise StsUnavailable(
                f"STS answered the request for {hop.role.target} without usable credentials.",
                hint="try again; a proxy may be rewriting responses",
            ) from None
        return Session(
            target=hop.role.target,
            role_arn=hop.role.arn,
            session_name=name,
            source_identity=source_identity,
            assumed_role_arn=assumed_arn,
            region=hop.region,
            issued_at=utc(self.clock()).replace(microsecond=0),
            credentials=credentials,
        )
