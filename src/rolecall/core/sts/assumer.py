"""The STS engine: assume a catalogue role from its source or through its `via` chain.

`Assumer.plan` (see `planner`) needs no AWS call and no boto3; `Assumer.cached` serves a plan
from the cache, still without boto3. `Assumer.assume` calls STS hop by hop, reusing cached
hops, with pinned timeouts and retries. The engine never prompts: it raises `MfaRequired` and
`FreeVariableMissing`, and the caller asks and tries again.

A role whose source is an IAM Identity Center profile gets its token made usable first
(`rolecall.core.lifecycle.sso_signin`): refreshed silently, or signed in through the `sso`
object's callback; without a callback the assumer only refreshes and says which `rolecall
login` to run. This happens before the session cache's per-key lock is taken, so callers
waiting for one browser sign-in wait on the sign-in's own lock (minutes), not the cache's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rolecall.core.catalogue.model import Catalogue, Role
from rolecall.core.credentials import Credentials, Secret, Session, utc
from rolecall.core.errors import TemplateError
from rolecall.core.naming.session_name import (
    NameContext,
    parse_template,
    render_session_name,
    render_source_identity,
)
from rolecall.core.sts.client_config import CLIENT_SETTINGS
from rolecall.core.sts.errors import MfaCodeReused, MfaRequired, classify
from rolecall.core.sts.mfa import MfaLedger, check_mfa_code
from rolecall.core.sts.planner import AssumeOptions, Hop, Plan, build_plan
from rolecall.core.sts.session_cache import SessionCache
from rolecall.version import __version__

if TYPE_CHECKING:
    from rolecall.core.lifecycle.sso_signin import SsoSignIn
    from rolecall.core.lifecycle.sso_token import SsoSource

SSO_TOKEN_ERRORS = frozenset({"UnauthorizedSSOTokenError", "SSOTokenLoadError"})
"""botocore's errors for a missing, expired or refused IAM Identity Center token."""


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
        sso: SsoSignIn | None = None,
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
        self.last_chain: list[tuple[Session, bool]] = []
        """Every hop's session of the last `assume`, first hop first, and whether it was
        assumed then (True) or came from the cache (False)."""
        self._boto_sessions: dict[str | None, Any] = {}
        self._sso = sso
        self._sso_retried: set[str | None] = set()

    # -- planning (no AWS, no boto3) ------------------------------------------------------------

    def plan(self, role: Role, options: AssumeOptions) -> Plan:
        """Resolve hops, templates, durations and cache keys; refuse what AWS would refuse."""
        return build_plan(self.catalogue, role, options, self.env)

    # -- the cache (no boto3) --------------------------------------------------------------------

    def cached(self, plan: Plan) -> Session | None:
        """The target's session from the cache, if it is there and fresh enough."""
        if not plan.options.use_cache:
            return None
        return self.cache.get(plan.target.key)

    # -- STS ----------------------------------------------------------------------------------

    def assume(
        self, role: Role, options: AssumeOptions, *, renew_within: int | None = None
    ) -> Session:
        """Assume `role` (through its chain), using and filling the session cache.

        With `renew_within`, the target's cached session is reused only while it has more
        than that many seconds left; earlier hops keep the cache's own margin, so renewing a
        chained role re-assumes it from its cached parent hop (no MFA code, no sign-in).
        """
        plan = self.plan(role, options)
        code = check_mfa_code(options.mfa_code) if options.mfa_code else None
        first = plan.hops[0]
        margin0 = renew_within if len(plan.hops) == 1 else None
        if not options.use_cache or self.cache.get(first.key, margin0) is None:
            self.prepare_sso(first.role.source_profile)
        source: Credentials | None = None
        session: Session | None = None
        mfa_used: set[str] = set()
        self.last_chain = []
        for index, hop in enumerate(plan.hops):
            previous = plan.hops[index - 1] if index else None

            def call(
                hop: Hop = hop, previous: Hop | None = previous, source: Credentials | None = source
            ) -> Session:
                return self._assume_hop(hop, previous, source, code, mfa_used)

            calls = self.sts_calls
            if options.use_cache:
                margin = renew_within if index == len(plan.hops) - 1 else None
                session = self.cache.get_or_create(hop.key, hop.duration, call, margin)
            else:
                session = call()
            self.last_chain.append((session, self.sts_calls > calls))
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

            session = boto3.Session(profile_name=profile)
            from rolecall.core.lifecycle.sso_token import point_botocore_at, token_dir

            point_botocore_at(session._session, session.profile_name, token_dir(self.env))
            self._boto_sessions[profile] = session
        return self._boto_sessions[profile]

    # -- IAM Identity Center ----------------------------------------------------------------------

    @property
    def sso(self) -> SsoSignIn:
        """The sign-in helper (made on first use: refresh only, never asks anyone)."""
        if self._sso is None:
            from rolecall.core.lifecycle.sso_signin import SsoSignIn
            from rolecall.core.locations import Locations

            self._sso = SsoSignIn(self.env, Locations.from_env(self.env).cache_dir / "sso")
        if self._sso.boto_session is None:
            self._sso.boto_session = self.boto_session
        return self._sso

    def sso_source(self, profile: str | None) -> SsoSource | None:
        """The IAM Identity Center sign-in under a source profile (None: not SSO)."""
        from rolecall.core.lifecycle.sso_token import profile_source

        try:
            session = self.boto_session(profile)
            config = session._session.full_config
        except Exception:  # a missing profile, a broken config: the hop tells it as a sentence
            return None
        return profile_source(config, session.profile_name)

    def prepare_sso(self, profile: str | None, *, force: bool = False) -> bool:
        """Make the token under `profile` usable (refresh, or sign in); True if it changed."""
        source = self.sso_source(profile)
        if source is None or not self.sso.ensure(source, force=force):
            return False
        self._boto_sessions.pop(profile, None)  # a new session reads the new token
        return True

    def _sso_refused(self, error: BaseException, profile: str | None) -> bool:
        """botocore refused the SSO token: sign in again (once per profile) and say so."""
        if type(error).__name__ not in SSO_TOKEN_ERRORS or profile in self._sso_retried:
            return False
        self._sso_retried.add(profile)
        return self.prepare_sso(profile, force=True)

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
            if previous is None and not send_mfa and self._sso_refused(error, role.source_profile):
                return self._assume_hop(hop, previous, source, code, mfa_used)
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
