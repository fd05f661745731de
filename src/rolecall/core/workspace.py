"""The workspace: everything an interactive front end needs, as blocking calls and values.

The TUI is given a `Workspace` and calls its blocking methods from thread workers; tests give
it one pointed at moto's server and a recording launcher. Nothing here prompts: MFA codes,
free variables and confirmations come in as arguments, and failures go out as exceptions.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from rolecall.core.catalogue.model import Catalogue, Role
from rolecall.core.credentials import Session
from rolecall.core.journal import Journal
from rolecall.core.locations import Locations
from rolecall.core.naming.session_name import NameContext, local_user, short_host
from rolecall.core.settings import Settings, load_settings
from rolecall.core.state import State
from rolecall.core.sts.cache_watch import CacheWatch
from rolecall.core.sts.client_config import CLIENT_SETTINGS
from rolecall.core.sts.session_cache import SessionCache

if TYPE_CHECKING:
    from rolecall.core.lifecycle.sso_signin import SignInPrompt
    from rolecall.core.sts.assumer import Assumer
    from rolecall.core.sts.planner import AssumeOptions

Launcher = Callable[[Sequence[str], Mapping[str, str]], int]
"""Runs a child process (argv, environment) to completion and returns its exit status."""


def run_child(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """The real launcher: the child owns the terminal until it exits."""
    try:
        return subprocess.run(list(argv), env=dict(env), check=False).returncode
    except FileNotFoundError:
        return 127
    except OSError:  # not executable, a directory...
        return 126


class ActiveSession(NamedTuple):
    """A session the front end shows, with what is needed to renew it."""

    key: str
    """Session-cache key."""
    session: Session
    options: AssumeOptions | None
    """How it was assumed; None when it was found in the cache at start."""


class Workspace:
    """Catalogue, STS engine, cache, journal, state and settings for one user."""

    sso_device_code: bool = False
    """Sign in to IAM Identity Center with a device code even where a browser could open (the
    demo: its Identity Center approves codes by itself)."""

    sign_in_note: str | None = None
    """A line for the sign-in dialogs (the demo says how its sign-in is approved)."""

    def __init__(
        self,
        catalogue: Catalogue,
        locations: Locations,
        env: Mapping[str, str],
        *,
        client_settings: Mapping[str, Any] | None = None,
        launcher: Launcher = run_child,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        user: str | None = None,
        host: str | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.locations = locations
        self.env = dict(env)
        """The environment children inherit (before the identity is added)."""
        self.clock = clock
        self.cache = SessionCache(locations.sessions_dir, clock=clock)
        self.journal = Journal(locations.journal_file, clock=clock)
        self.state = State.load(locations.state_file)
        self.settings: Settings = load_settings(locations.config_dir / "config.toml")
        self.launcher = launcher
        self.mfa_hint: Callable[[], str | None] = lambda: None
        """A line for the MFA dialog (the demo shows its code there)."""
        self.user = user or local_user()
        """`{user}` in session names."""
        self.host = host or short_host()
        """`{host}` in session names."""
        self.client_settings: Mapping[str, Any] = client_settings or CLIENT_SETTINGS
        """botocore client settings (timeouts, retries) for the STS calls made here."""
        self._assumer: Assumer | None = None
        self._assumer_lock = threading.Lock()
        self._callers: dict[str | None, str] = {}
        self._watch = CacheWatch(locations.sessions_dir)
        self._hops: set[str] = set()

    @property
    def assumer(self) -> Assumer:
        """The STS engine, made on first use: the TUI's first frame needs none of it."""
        with self._assumer_lock:
            if self._assumer is None:
                self._assumer = self._new_assumer()
            return self._assumer

    def _new_assumer(self) -> Assumer:
        from rolecall.core.sts.assumer import Assumer
        from rolecall.core.sts.mfa import MfaLedger

        return Assumer(
            self.catalogue,
            self.cache,
            MfaLedger(self.locations.cache_dir / "mfa-ledger.json"),
            env=self.env,
            client_settings=self.client_settings,
            name_context=self.name_context,
            clock=self.clock,
        )

    def name_context(
        self, variables: Mapping[str, str] | None = None, caller: str | None = None
    ) -> NameContext:
        """What templates render with, now."""
        return NameContext(
            user=self.user, host=self.host, now=self.clock(), variables=variables, caller=caller
        )

    # -- sessions --------------------------------------------------------------------------------

    def assume(self, role: Role, options: AssumeOptions) -> ActiveSession:
        """Assume `role` (blocking; run it in a thread). Raises RolecallError subclasses."""
        plan = self.assumer.plan(role, options)
        self._hops.update(hop.key for hop in plan.hops[:-1])
        before = self.assumer.sts_calls
        session = self.assumer.assume(role, options)
        if self.assumer.sts_calls > before:
            self.journal.record_assumption(self.assumer.last_chain, used_by="tui")
        self.state.used(role.target)
        self.state.templates[role.target] = options.template or ""
        self.save_state()
        return ActiveSession(plan.target.key, session, options)

    def session_changes(self) -> list[ActiveSession] | None:
        """Every session in the cache for a role of the catalogue (expired ones and the
        hops of chains included) when the cache may have changed since the last call; None
        when it has not (one `stat`: cheap enough for every second)."""
        if not self._watch.changed():
            return None
        return [
            ActiveSession(key, session, None)
            for key, session in self.cache.entries()
            if self.catalogue.get(session.target) is not None
        ]

    def hub_hops(self, sessions: Sequence[ActiveSession]) -> set[str]:
        """The keys of `sessions` that are the first hops of chains: those of the chains
        assumed here, and those whose role another cached session chains through."""
        hubs: set[str] = set()
        for active in sessions:
            role = self.catalogue.get(active.session.target)
            if role is not None and role.via:
                hubs.update(hop.target for hop in self.catalogue.chain(role)[:-1])
        return {a.key for a in sessions if a.key in self._hops or a.session.target in hubs}

    def still_cached(self, active: ActiveSession) -> ActiveSession | None:
        """`active` as the cache holds it now (renewed, maybe, by another process), or None
        when it was forgotten (by any process) or has expired: check before using it."""
        session = self.cache.get(active.key, margin=0)
        return None if session is None else active._replace(session=session)

    def renewer(self, active: ActiveSession, window: int) -> Callable[[str | None], Session] | None:
        """A function renewing `active` once it has `window` seconds or less left (blocking;
        None when the catalogue no longer holds its role).

        It has its own assumer (renewals never queue behind the UI's assumes) and reuses the
        chain's cached hops: a renewal needs an MFA code only when an earlier hop has expired,
        and then raises `MfaRequired` unless it is given one. Renewals that reach STS are
        journaled.
        """
        role = self.catalogue.get(active.session.target)
        if role is None:
            return None
        from rolecall.core.sts.planner import AssumeOptions

        options = (active.options or AssumeOptions())._replace(mfa_code=None, use_cache=True)
        assumer = self._new_assumer()

        def renew(mfa_code: str | None = None) -> Session:
            calls = assumer.sts_calls
            given = options._replace(mfa_code=mfa_code)
            session = assumer.assume(role, given, renew_within=window)
            if assumer.sts_calls > calls:
                self.journal.record_assumption(assumer.last_chain, used_by="renewal")
            return session

        return renew

    def sign_in(
        self,
        role: Role,
        tell: Callable[[SignInPrompt], None],
        *,
        use_device_code: bool = False,
        cancel: threading.Event | None = None,
    ) -> bool:
        """Sign in now to the IAM Identity Center behind `role`'s chain (blocking: the browser
        or a device code, `tell` says which; setting `cancel` stops it with `SsoCancelled`);
        False when its source is not Identity Center."""
        from rolecall.core.lifecycle.sso_signin import SsoSignIn

        source = self.assumer.sso_source(self.catalogue.chain(role)[0].source_profile)
        if source is None:
            return False
        SsoSignIn(
            self.env,
            self.locations.cache_dir / "sso",
            notify=tell,
            use_device_code=use_device_code or self.sso_device_code,
            browser=self.settings.console.browser,
            boto_session=self.assumer.boto_session,
            cancel=cancel,
        ).login(source)
        return True

    def forget(self, active: ActiveSession) -> None:
        """Drop a session from the cache."""
        self.cache.forget(active.key)

    def caller_identity(self, role: Role) -> str:
        """The ARN of whoever calls STS first for `role` (blocking; cached per source)."""
        profile = self.catalogue.chain(role)[0].source_profile
        if profile not in self._callers and "boto3" not in sys.modules:
            # Asked in a child process: boto3 stays out of the TUI until the first assume.
            from rolecall.core.sts.caller import caller_identity

            self._callers[profile] = caller_identity(
                profile=profile,
                region=role.region,
                client_settings=self.client_settings,
                env=self.env,
                role={"role_arn": role.arn, "target": role.target, "duration": role.duration},
            )
        if profile not in self._callers:
            from botocore.config import Config

            from rolecall.core.sts.errors import classify

            try:
                # The assumer's boto3 session for this source: its models are loaded once.
                client = self.assumer.boto_session(profile).client(
                    "sts", region_name=role.region, config=Config(**self.client_settings)
                )
                self._callers[profile] = str(client.get_caller_identity()["Arn"])
            except Exception as error:
                raise classify(
                    error,
                    role_arn=role.arn,
                    target=role.target,
                    region=role.region,
                    endpoint=f"the STS endpoint for {role.region}",
                    profile=profile,
                    via=None,
                    mfa_serial=None,
                    duration=role.duration,
                ) from None
        return self._callers[profile]

    # -- launches ---------------------------------------------------------------------------------

    def shell(self, active: ActiveSession) -> int:
        """Run the user's shell with the session's identity (blocking; the TUI suspends)."""
        from rolecall.core.shell_env import child_environment

        shell = self.env.get("SHELL") or "/bin/sh"
        self.journal.record("shell", active.session, program=os.path.basename(shell))
        return self.launcher([shell], child_environment(self.env, active.session))

    def shell_with_server(
        self,
        active: ActiveSession,
        provider: Callable[[], Session | None],
        reason: Callable[[], str | None],
    ) -> int:
        """Run the user's shell with a credential server serving `provider()` (blocking).

        The shell gets the server's URL and token file and no keys (as `rolecall shell
        --server`); the server, the token file and the config copies end with the shell.
        """
        from rolecall.core.lifecycle.serving import serve_child

        shell = self.env.get("SHELL") or "/bin/sh"
        folder = self.locations.cache_dir / "servers"
        with serve_child(provider, reason, self.env, active.session, folder) as served:
            program = os.path.basename(shell)
            self.journal.record("shell", active.session, program=program, server=True)
            return self.launcher([shell], served.env)

    def tmux_window(self, active: ActiveSession, command: Sequence[str]) -> int:
        """Run `command` (it becomes the session's shell) in a new tmux window named for the
        target; tmux's exit status. Nothing secret goes on tmux's command line."""
        import shlex

        shell = os.path.basename(self.env.get("SHELL") or "/bin/sh")
        self.journal.record("shell", active.session, program=shell, window="tmux")
        tmux = ["tmux", "new-window", "-n", active.session.target, shlex.join(command)]
        return self.launcher(tmux, self.env)

    def console_link(self, role: Role, active: ActiveSession) -> str:
        """A fresh console sign-in link for the session (blocking: calls getSigninToken)."""
        from rolecall.core.console.url import sign_in_link

        url, destination = sign_in_link(
            role.partition,
            active.session,
            destination=role.console,
            session_duration=None if role.via else min(max(role.duration, 900), 43200),
            logout=self.settings.console.logout_first,
            env=self.env,
        )
        self.journal.record("console", active.session, destination=destination, delivery="tui")
        return url

    def open_console(self, role: Role, link: str) -> bool:
        """Hand `link` to the browser through a one-shot loopback URL (blocking, <= 60 s)."""
        from rolecall.core.console.url import hand_to_browser

        console = self.settings.console
        return hand_to_browser(
            link,
            browser=console.browser,
            container=console.container,
            name=role.target,
            color=role.color,
            env=self.env,
        )

    def exports(self, active: ActiveSession) -> str:
        """`export ...` lines for the session (for the clipboard, on request)."""
        from rolecall.core.shell_env import render_exports

        return render_exports(active.session, "sh")

    def save_state(self) -> None:
        """Persist favourites, usage and templates (best effort: never breaks the UI)."""
        with contextlib.suppress(OSError):
            self.state.save()
