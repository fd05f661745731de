"""What every command shares: the parsed arguments, the environment, where files live, the
catalogue, and getting a session (cache or STS, asking for an MFA code on a terminal).

Imports beyond the standard library are deferred: `list` and `check` never load boto3.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rolecall.core.errors import RolecallError, UsageError
from rolecall.core.locations import Locations, catalogue_path
from rolecall.core.text import inert

if TYPE_CHECKING:
    from rolecall.core.catalogue.model import Catalogue, Role
    from rolecall.core.credentials import Session
    from rolecall.core.journal import Journal
    from rolecall.core.sts.planner import AssumeOptions
    from rolecall.core.sts.session_cache import SessionCache


class Context:
    """What every command needs: the environment, where files live, and the catalogue."""

    def __init__(
        self, args: argparse.Namespace, env: dict[str, str], argv: Sequence[str] = ()
    ) -> None:
        self.args = args
        self.env = env
        self.argv = list(argv)
        """The command line as given (the cache-hit memo is keyed by it)."""
        self.locations = Locations.from_env(env)

    def catalogue_file(self) -> Path:
        """The catalogue named by --catalogue / ROLECALL_CATALOGUE / the config dir."""
        return catalogue_path(getattr(self.args, "catalogue", None), self.env, self.locations)

    def catalogue(self) -> Catalogue:
        """Load the catalogue named by --catalogue / ROLECALL_CATALOGUE / the config dir."""
        return self._load(self.catalogue_file())

    def _load(self, path: Path) -> Catalogue:
        from rolecall.core.catalogue import store

        return store.load(path, cache_dir=self.locations.cache_dir)

    def role(self, spec: str) -> Role:
        """Resolve a target (ACCOUNT/ROLE, ACCOUNT_ID/ROLE, role ARN or a query)."""
        return self.catalogue().resolve(spec)

    def session_cache(self) -> SessionCache:
        """The session cache, with the reuse margin from ROLECALL_CACHE_MARGIN if set."""
        from rolecall.core.catalogue.model import parse_duration
        from rolecall.core.sts.session_cache import DEFAULT_MARGIN, SessionCache

        margin = DEFAULT_MARGIN
        if "ROLECALL_CACHE_MARGIN" in self.env:
            parsed = parse_duration(self.env["ROLECALL_CACHE_MARGIN"])
            if parsed is None:
                raise UsageError(
                    f"ROLECALL_CACHE_MARGIN={inert(self.env['ROLECALL_CACHE_MARGIN'])!r} is not "
                    "a duration.",
                    hint='use seconds or e.g. "10m"',
                )
            margin = parsed
        return SessionCache(self.locations.sessions_dir, margin=margin)

    def journal(self) -> Journal:
        """The local journal of assumptions and launches."""
        from rolecall.core.journal import Journal

        return Journal(self.locations.journal_file)

    def assume_options(self) -> AssumeOptions:
        """AssumeOptions from the shared assume flags."""
        from rolecall.core.catalogue.model import parse_duration
        from rolecall.core.sts.mfa import check_mfa_code
        from rolecall.core.sts.planner import AssumeOptions

        args = self.args
        variables: dict[str, str] = {}
        for item in args.var or []:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise UsageError(f"--var {inert(item)!r} is not NAME=VALUE.")
            variables[name] = value
        duration = None
        if args.duration is not None:
            duration = parse_duration(args.duration)
            if duration is None:
                raise UsageError(
                    f"--duration {inert(args.duration)!r} is not a duration.",
                    hint='write e.g. "15m", "1h", "1h30m" or seconds',
                )
        region = args.region
        if region is not None:
            from rolecall.core.catalogue.model import partition_of

            if partition_of(region) is None:
                raise UsageError(f"--region {inert(region)!r} is not an AWS region.")
        return AssumeOptions(
            session_name=args.session_name,
            template=args.template,
            variables=variables,
            duration=duration,
            mfa_code=check_mfa_code(args.mfa_code) if args.mfa_code else None,
            region=region,
            use_cache=not args.no_cache,
        )

    def _sts(self) -> dict[str, object]:
        """Client settings, with timeouts from ROLECALL_STS_{CONNECT,READ}_TIMEOUT if set."""
        from rolecall.core.sts.client_config import client_settings

        return client_settings(self.env)

    def session(self, used_by: str) -> tuple[Role, Session]:
        """Resolve the target and return its session: from the cache, or from STS.

        A cache hit imports no boto3. On a terminal, a missing MFA code is asked for.
        """
        from rolecall.core.sts import hit_memo

        # Remembered only when the memo's own reading of the command line is argparse's.
        request = hit_memo.fast_request(self.argv)
        memo = request is not None and request.agrees(
            self.args.subcommand,
            self.args.target,
            getattr(self.args, "catalogue", None),
            getattr(self.args, "format", None),
        )
        # The file's identity is taken before it is read: if it changes in between, the memo
        # names the older file and misses next time (never the reverse).
        path = self.catalogue_file()
        identity = hit_memo.catalogue_identity(path) if memo else None
        catalogue = self._load(path)
        role = catalogue.resolve(self.args.target)
        options = self.assume_options()
        session, key = self._session(catalogue, role, options, used_by)
        if memo and options.use_cache and options.mfa_code is None:
            hit_memo.remember(
                self.argv, self.env, identity, role.arn, key, session, catalogue.includes
            )
        return role, session

    def _session(
        self, catalogue: Catalogue, role: Role, options: AssumeOptions, used_by: str
    ) -> tuple[Session, str]:
        """The session and its cache key."""
        from rolecall.core.private_files import ensure_private_dir
        from rolecall.core.sts.assumer import Assumer
        from rolecall.core.sts.errors import MfaRequired
        from rolecall.core.sts.mfa import MfaLedger, check_mfa_code

        ledger = MfaLedger(self.locations.cache_dir / "mfa-ledger.json")
        from rolecall.cli.signin import sso_signin  # IAM Identity Center sign-in, on demand

        assumer = Assumer(
            catalogue,
            self.session_cache(),
            ledger,
            env=self.env,
            client_settings=self._sts(),
            sso=sso_signin(self),
        )
        plan = assumer.plan(role, options)
        cached = assumer.cached(plan)
        if cached is not None:
            if cached.role_arn == role.arn:
                return cached, plan.target.key
            assumer.cache.forget(plan.target.key)  # not this role's: never served, replaced
        ensure_private_dir(self.locations.cache_dir)
        while True:
            try:
                session = assumer.assume(role, options)
                break
            except MfaRequired as needed:
                if options.mfa_code is not None or not sys.stdin.isatty():
                    raise
                import getpass

                code = getpass.getpass(
                    f"MFA code for {needed.serial} ({needed.target}){self._demo_code()}: ",
                    stream=sys.stderr,
                )
                options = options._replace(mfa_code=check_mfa_code(code))
        if assumer.sts_calls:
            self.journal().record_assumption(assumer.last_chain, used_by=used_by)
        return session, plan.target.key

    def _demo_code(self) -> str:
        """In the demo world, the code to type (as the TUI's MFA dialog shows it)."""
        if self.env.get("ROLECALL_DEMO") != "1":
            return ""
        from rolecall.demo.world import demo_mfa_code

        return f" [demo world: the code now is {demo_mfa_code()}]"

    def renewer(self, role: Role, window: int) -> Callable[[], Session]:
        """A function that renews `role`'s session once it has `window` seconds or less left.

        Earlier hops of a chain come from the cache, so a renewal needs no MFA code and never
        prompts (it raises instead); every renewal that reached STS is journaled.
        """
        from rolecall.cli.signin import sso_signin
        from rolecall.core.sts.assumer import Assumer
        from rolecall.core.sts.mfa import MfaLedger

        options = self.assume_options()._replace(mfa_code=None)
        assumer = Assumer(
            self.catalogue(),
            self.session_cache(),
            MfaLedger(self.locations.cache_dir / "mfa-ledger.json"),
            env=self.env,
            client_settings=self._sts(),
            sso=sso_signin(self),  # an expired Identity Center token: sign in again, once
        )

        def renew() -> Session:
            calls = assumer.sts_calls
            session = assumer.assume(role, options, renew_within=window)
            if assumer.sts_calls > calls:
                self.journal().record_assumption(assumer.last_chain, used_by="renewal")
            return session

        return renew


def confirm_guarded(role: Role) -> None:
    """Ask for the account name of a guarded role; anything else stops here."""
    answer = input(
        f"{role.target} is guarded (prod or confirm = true). "
        f"Type the account name '{role.account}' to continue: "
    )
    if answer.strip() != role.account:
        raise RolecallError("not confirmed; nothing was assumed.")
