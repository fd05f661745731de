"""The targets of one fan-out, planned together, and the hops they share assumed once.

Every target is planned before anything is assumed, so a bad template or duration stops the
run before any AWS call. Hops that several targets go through (a hub role) and hops that need
an MFA code are then assumed first, one target at a time, in the caller's thread (where a code
can be asked for): the first target through a hub assumes it, and the others find it in the
session cache. Ten spokes behind one hub therefore make one hub AssumeRole and ask for at most
one MFA code per device. With `use_cache=False` the run keeps its sessions in a `MemoryCache`:
sharing still holds, and nothing is read from or written to the cache on disk.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from rolecall.core.catalogue.model import Role
from rolecall.core.credentials import Session
from rolecall.core.errors import RolecallError, UsageError
from rolecall.core.naming.session_name import assumed_role_arn, render_session_name
from rolecall.core.sts.assumer import Assumer
from rolecall.core.sts.errors import MfaCodeInvalid, MfaCodeReused, MfaRequired
from rolecall.core.sts.planner import AssumeOptions, Hop, Plan
from rolecall.core.sts.session_cache import SessionCache, effective_margin

AskMfa = Callable[[str, str, str | None], str | None]
"""Asks for an MFA code: (device serial, target, why the last code was refused, or None) ->
the code, or None to give up on the targets behind that device."""


class Target(NamedTuple):
    """One role of the fan-out, planned."""

    role: Role
    plan: Plan
    cached: bool
    """Whether its session was in the cache before the run (then no new assumption is
    journaled for it)."""


class Preview(NamedTuple):
    """What `--dry-run` shows of a target: nothing is assumed to know it."""

    target: str
    assumed_role_arn: str
    """The ARN CloudTrail will record; `{caller}` and `{rand}` stand for values known only
    when the role is assumed."""
    via: tuple[str, ...]
    """The hops before the target, first first."""
    confirm: bool
    """Whether the role asks for confirmation."""


class MemoryCache(SessionCache):
    """Sessions kept in this process only, for one run without the disk cache (--no-cache):
    the threads of the run share them, and nothing touches the disk."""

    def __init__(self, like: SessionCache) -> None:
        super().__init__(Path("/nonexistent/rolecall-memory-cache"), like.margin, like.clock)
        self._sessions: dict[str, tuple[Session, int]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, margin: int | None = None) -> Session | None:
        """The session for `key` if it has more than the margin left."""
        with self._guard:
            entry = self._sessions.get(key)
        if entry is None:
            return None
        session, duration = entry
        if margin is None:
            margin = effective_margin(self.margin, duration)
        return session if session.remaining(self.clock()) > margin else None

    def put(self, key: str, session: Session, duration: int) -> None:
        """Keep `session` under `key` (in memory)."""
        with self._guard:
            self._sessions[key] = (session, duration)

    def forget(self, key: str) -> bool:
        """Drop the session for `key`; True if there was one."""
        with self._guard:
            return self._sessions.pop(key, None) is not None

    def entries(self) -> Iterator[tuple[str, Session]]:
        """Every session held, as `(key, session)`."""
        with self._guard:
            held = [(key, session) for key, (session, _) in self._sessions.items()]
        yield from held

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the per-key lock (between the threads of this process)."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield


def sibling(assumer: Assumer, cache: SessionCache | None = None) -> Assumer:
    """A new Assumer like `assumer` (same catalogue, ledger, environment and settings), with
    its own boto3 sessions: boto3 sessions must not be shared between threads."""
    return Assumer(
        assumer.catalogue,
        cache or assumer.cache,
        assumer.mfa_ledger,
        env=assumer.env,
        client_settings=assumer.client_settings,
        name_context=assumer.name_context,
        clock=assumer.clock,
    )


class Batch:
    """Every target of one fan-out, planned; `prepare` assumes what they share."""

    def __init__(self, assumer: Assumer, roles: Sequence[Role], options: AssumeOptions) -> None:
        """Plan every role; raise the first planning error, naming its target."""
        self.given_code = options.mfa_code
        """A code from the command line: offered to the first hop that needs one, once."""
        options = options._replace(mfa_code=None)
        if not options.use_cache:
            assumer = sibling(assumer, MemoryCache(assumer.cache))
            options = options._replace(use_cache=True)
        self.assumer = assumer
        """The assumer of the caller's thread (its cache is the run's cache)."""
        self.options = options
        """How every target is assumed (no MFA code: shared hops are assumed first)."""
        self.failures: dict[str, RolecallError] = {}
        """Targets that cannot be assumed, with why (filled by `prepare`)."""
        self.targets: list[Target] = []
        """The targets, in the order given."""
        for role in roles:
            try:
                plan = assumer.plan(role, options)
            except RolecallError as error:
                kind = UsageError if error.exit_code == 2 else RolecallError
                raise kind(f"{role.target}: {error.message}", hint=error.hint) from None
            self.targets.append(Target(role, plan, assumer.cached(plan) is not None))
        self._code_offered = False

    def guarded(self) -> list[Role]:
        """The roles that ask for confirmation (prod-tagged, or `confirm = true`)."""
        return [t.role for t in self.targets if t.role.confirm]

    def shared_keys(self) -> set[str]:
        """Hops to assume before the parallel part: those two or more targets go through,
        and those that need an MFA code (asked for in the caller's thread only)."""
        parents = Counter(key for t in self.targets for key in {h.key for h in t.plan.hops[:-1]})
        shared = {key for key, count in parents.items() if count > 1}
        shared |= {hop.key for t in self.targets for hop in t.plan.hops if hop.role.mfa_serial}
        return shared

    def prepare(self, ask_mfa: AskMfa | None = None) -> int:
        """Assume the shared hops, one target at a time (blocking; MFA codes through
        `ask_mfa`). A target whose shared hop failed is not tried again: it lands in
        `failures` with that hop's error. Returns how many targets were assumed here."""
        shared = self.shared_keys()
        broken: dict[str, RolecallError] = {}
        assumed = 0
        self._prepare_sign_ins()
        for target in self.targets:
            if target.role.target in self.failures:
                continue
            keys = [hop.key for hop in target.plan.hops if hop.key in shared]
            if not keys:
                continue
            failed = next((broken[key] for key in keys if key in broken), None)
            if failed is not None:
                self.failures[target.role.target] = failed
                continue
            if all(self.assumer.cache.get(key) is not None for key in keys):
                continue
            try:
                self._assume_first(target, ask_mfa)
                assumed += 1
            except RolecallError as error:
                self.failures[target.role.target] = error
                for key in keys:
                    if self.assumer.cache.get(key) is None:
                        broken[key] = error
        return assumed

    def _prepare_sign_ins(self) -> None:
        """Make every Identity Center token the targets start from usable, here and once:
        the parallel part then finds them (one sign-in, never one per target)."""
        profiles: dict[str | None, list[Target]] = {}
        for target in self.targets:
            root = self.assumer.catalogue.chain(target.role)[0]
            profiles.setdefault(root.source_profile, []).append(target)
        for profile, targets in profiles.items():
            try:
                self.assumer.prepare_sso(profile)
            except RolecallError as error:
                for target in targets:
                    self.failures[target.role.target] = error

    def _assume_first(self, target: Target, ask_mfa: AskMfa | None) -> None:
        options = self.options
        serial = where = ""
        while True:
            problem: str | None = None
            try:
                self.assumer.assume(target.role, options)
                return
            except MfaRequired as needed:
                serial, where = needed.serial, needed.target
                if self.given_code and not self._code_offered:
                    self._code_offered = True
                    options = options._replace(mfa_code=self.given_code)
                    continue
                if ask_mfa is None:
                    raise
            except (MfaCodeReused, MfaCodeInvalid) as refused:
                if ask_mfa is None or not serial:
                    raise
                problem = refused.message
            code = ask_mfa(serial, where, problem)
            if code is None:
                raise MfaRequired(serial, where)
            options = options._replace(mfa_code=code)

    def previews(self) -> list[Preview]:
        """Every target with the assumed-role ARN it will get, assuming nothing."""
        return [
            Preview(
                t.role.target,
                assumed_role_arn(t.role.facts, self.expected_name(t.plan.target)),
                tuple(hop.role.target for hop in t.plan.hops[:-1]),
                t.role.confirm,
            )
            for t in self.targets
        ]

    def expected_name(self, hop: Hop) -> str:
        """The session name `hop` will be assumed with, rendered now; `{caller}` and `{rand}`
        are left as written (one is known only from STS, the other is drawn at assume time)."""
        if hop.explicit:
            return hop.template
        sentinels = {"caller": "QZcallerZQ", "rand": "QZrandZQ"}
        context = self.assumer.name_context(hop.variables, sentinels["caller"])
        context.rand = lambda: sentinels["rand"]
        name = render_session_name(hop.template, hop.role.facts, context).name
        for placeholder, sentinel in sentinels.items():
            name = name.replace(sentinel, "{" + placeholder + "}")
        return name
