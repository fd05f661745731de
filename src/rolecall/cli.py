"""The command line: argparse front door for every rolecall command.

Imports are deferred so that the fast paths (`list`, `check`, cache hits) never load boto3,
Textual or Rich; the repeated cache hits of `env` and `credential-process` do not even get
here (see `rolecall.entry` and `rolecall.core.sts.hit_memo`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rolecall import __version__
from rolecall.core.catalogue.model import Catalogue, Role, format_duration
from rolecall.core.errors import AmbiguousTarget, RolecallError, UsageError
from rolecall.core.locations import Locations, catalogue_path
from rolecall.core.text import inert

if TYPE_CHECKING:
    from rolecall.core.credentials import Session
    from rolecall.core.journal import Journal
    from rolecall.core.sts.session_cache import SessionCache
    from rolecall.core.sts.assumer import AssumeOptions

COMMANDS = frozenset(
    {
        "list",
        "check",
        "env",
        "exec",
        "shell",
        "credential-process",
        "console",
        "sessions",
        "forget",
        "journal",
        "prompt",
        "demo",
        "import",
    }
)
"""Every command name (the parser for just one of them is built when it is named)."""


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

    def catalogue(self) -> Catalogue:
        """Load the catalogue named by --catalogue / ROLECALL_CATALOGUE / the config dir."""
        from rolecall.core.catalogue import model as catalogue

        path = catalogue_path(getattr(self.args, "catalogue", None), self.env, self.locations)
        return catalogue.load(path, cache_dir=self.locations.cache_dir)

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
        from rolecall.core.sts.assumer import AssumeOptions, check_mfa_code

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
        from rolecall.core.sts.assumer import CLIENT_SETTINGS

        settings = dict(CLIENT_SETTINGS)
        for variable, key in (
            ("ROLECALL_STS_CONNECT_TIMEOUT", "connect_timeout"),
            ("ROLECALL_STS_READ_TIMEOUT", "read_timeout"),
        ):
            if variable in self.env:
                try:
                    settings[key] = float(self.env[variable])
                except ValueError:
                    raise UsageError(f"{variable} must be a number of seconds.") from None
        return settings

    def session(self, used_by: str) -> tuple[Role, Session]:
        """Resolve the target and return its session: from the cache, or from STS.

        A cache hit imports no boto3. On a terminal, a missing MFA code is asked for.
        """
        catalogue = self.catalogue()
        role = catalogue.resolve(self.args.target)
        options = self.assume_options()
        session, key = self._session(catalogue, role, options, used_by)
        from rolecall.core.sts import hit_memo

        if options.use_cache and hit_memo.fast_request(self.argv) is not None:
            hit_memo.remember(self.argv, self.env, catalogue.path, key, session.target)
        return role, session

    def _session(
        self, catalogue: Catalogue, role: Role, options: AssumeOptions, used_by: str
    ) -> tuple[Session, str]:
        """The session and its cache key."""
        from rolecall.core.private_files import ensure_private_dir
        from rolecall.core.sts.assumer import Assumer, MfaLedger, check_mfa_code
        from rolecall.core.sts.errors import MfaRequired

        ledger = MfaLedger(self.locations.cache_dir / "mfa-ledger.json")
        assumer = Assumer(
            catalogue, self.session_cache(), ledger, env=self.env, client_settings=self._sts()
        )
        plan = assumer.plan(role, options)
        cached = assumer.cached(plan)
        if cached is not None:
            return cached, plan.target.key
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
                    f"MFA code for {needed.serial} ({needed.target}): ", stream=sys.stderr
                )
                options = options._replace(mfa_code=check_mfa_code(code))
        if assumer.sts_calls:
            self.journal().record("assume", session, used_by=used_by, hops=len(plan.hops))
        return session, plan.target.key


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_tui(ctx: Context, out: TextIO) -> int:
    """`rolecall` with no command: the terminal UI."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the rolecall TUI needs a terminal.",
            hint="run a command instead, e.g. `rolecall list` (see rolecall --help)",
        )
    from rolecall.core.workspace import Workspace
    from rolecall.ui.app import make_app

    workspace = Workspace(ctx.catalogue(), ctx.locations, ctx.env, client_settings=ctx._sts())
    app = make_app(workspace)
    app.run()
    return app.return_code or 0


def cmd_demo(ctx: Context, out: TextIO) -> int:
    """`rolecall demo [--print-env]`: the TUI (or just the world) on loopback, no AWS account."""
    import json
    import signal
    import tempfile

    pointer = Path(tempfile.gettempdir()) / f"rolecall-demo-{os.getuid()}.json"
    if ctx.args.print_env:
        running = _running_demo(pointer)
        if running is not None:
            out.write(running)
            return 0
    elif not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the demo TUI needs a terminal.",
            hint="use `rolecall demo --print-env` to run the demo world without the TUI",
        )
    from rolecall.demo.world import DemoWorld, demo_mfa_code

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    world = DemoWorld()
    try:
        pointer.write_text(json.dumps({"pid": os.getpid(), "env": str(world.env_file)}))
        os.environ.update(world.env())  # boto3 inside this process reads os.environ
        ctx.env.update(world.env())
        if ctx.args.print_env:
            out.write(world.env_file.read_text())
            out.flush()
            print("# the demo world runs until Ctrl-C", file=sys.stderr)
            signal.pause()
            return 0
        from rolecall.core.catalogue.model import load
        from rolecall.core.locations import Locations
        from rolecall.core.workspace import Workspace
        from rolecall.ui.app import make_app

        locations = Locations.from_env(ctx.env)
        workspace = Workspace(load(world.catalogue, locations.cache_dir), locations, ctx.env)
        workspace.mfa_hint = lambda: (
            f"Demo world: the code now is {demo_mfa_code()} (any 6 digits work here)."
        )
        app = make_app(workspace)
        app.title = "rolecall demo"
        app.hangup_hooks += [world.stop, lambda: pointer.unlink(missing_ok=True)]
        app.run()
        return app.return_code or 0
    except KeyboardInterrupt:
        return 0
    finally:
        world.stop()
        if pointer.exists() and _pointer_pid(pointer) == os.getpid():
            pointer.unlink()


def _pointer_pid(pointer: Path) -> int | None:
    import json

    try:
        return int(json.loads(pointer.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _running_demo(pointer: Path) -> str | None:
    """The exports of a demo world running in another terminal, if there is one."""
    import json

    pid = _pointer_pid(pointer)
    if pid is None:
        return None
    try:
        os.kill(pid, 0)
        return Path(json.loads(pointer.read_text())["env"]).read_text()
    except (OSError, ValueError, KeyError):
        return None


def cmd_list(ctx: Context, out: TextIO) -> int:
    """`rolecall list [QUERY] [--json]`."""
    roles = ctx.catalogue().search(" ".join(ctx.args.query))
    if ctx.args.json:
        import json

        rows = [_row(role) for role in roles]
        out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not roles:
        print("no role matches.", file=sys.stderr)
        return 0
    table = [
        (
            role.target + ("  [prod]" if role.is_prod else ""),
            role.account_id,
            role.region,
            format_duration(role.duration),
            ",".join(role.tags),
        )
        for role in roles
    ]
    out.write(_columns(("TARGET", "ACCOUNT ID", "REGION", "DURATION", "TAGS"), table))
    return 0


def _row(role: Role) -> dict[str, object]:
    return {
        "target": role.target,
        "account": role.account,
        "account_id": role.account_id,
        "role": role.name,
        "arn": role.arn,
        "region": role.region,
        "partition": role.partition,
        "tags": list(role.tags),
        "description": role.description,
        "via": role.via,
        "source_profile": role.source_profile,
        "duration": role.duration,
        "mfa": role.mfa_serial is not None,
        "confirm": role.confirm,
        "session_name_template": role.session_name,
    }


def _columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    lines = [header, *rows]
    return "".join(
        inert("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        + "\n"
        for line in lines
    )


def cmd_check(ctx: Context, out: TextIO) -> int:
    """`rolecall check [PATH]`: validate, print every problem, exit 0 or 2."""
    from rolecall.core.catalogue.model import CatalogueError, parse

    path = (
        Path(ctx.args.path)
        if ctx.args.path
        else catalogue_path(getattr(ctx.args, "catalogue", None), ctx.env, ctx.locations)
    )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RolecallError(
            f"cannot read {path}: {e.strerror}.", hint="pass the catalogue's path"
        ) from None
    try:
        catalogue = parse(data, str(path))
    except CatalogueError as e:
        for problem in e.problems:
            out.write(f"{problem}\n")
        noun = "problem" if len(e.problems) == 1 else "problems"
        print(f"{path}: {len(e.problems)} {noun}.", file=sys.stderr)
        return 2
    chained = sum(1 for role in catalogue if role.via)
    out.write(
        f"{inert(str(path))}: OK, {len(catalogue.accounts)} accounts, {len(catalogue)} roles "
        f"({chained} chained), {len(catalogue.session_names)} named session-name templates.\n"
    )
    return 0


def cmd_env(ctx: Context, out: TextIO) -> int:
    """`rolecall env TARGET [--format sh|fish|powershell|json]`."""
    from rolecall.core.shell_env import render_exports

    _, session = ctx.session("env")
    out.write(render_exports(session, ctx.args.format))
    return 0


def cmd_credential_process(ctx: Context, out: TextIO) -> int:
    """`rolecall credential-process TARGET`: Version 1 JSON for ~/.aws/config."""
    from rolecall.core.shell_env import render_credential_process

    _, session = ctx.session("credential-process")
    out.write(render_credential_process(session))
    return 0


def cmd_exec(ctx: Context, out: TextIO) -> int:
    """`rolecall exec TARGET -- CMD ...`: replace this process with CMD, carrying the identity."""
    command = list(ctx.args.argv)
    if not command:
        raise UsageError("no command was given.", hint="rolecall exec TARGET -- CMD [ARGS...]")
    _, session = ctx.session("exec")
    ctx.journal().record("exec", session, program=os.path.basename(command[0]))
    return _replace_process(command, ctx.env, session)


def cmd_shell(ctx: Context, out: TextIO) -> int:
    """`rolecall shell TARGET`: the user's $SHELL with the identity."""
    from rolecall.core.shell_env import MARKER

    if ctx.env.get(MARKER) and not ctx.args.nest:
        raise UsageError(
            f"this shell already carries {inert(ctx.env[MARKER])} from rolecall.",
            hint="`exit` it first, or pass --nest to start a shell inside it anyway",
        )
    role = ctx.role(ctx.args.target)
    if role.confirm and sys.stdin.isatty():
        _confirm(role)
    _, session = ctx.session("shell")
    shell = ctx.env.get("SHELL") or "/bin/sh"
    ctx.journal().record("shell", session, program=os.path.basename(shell))
    print(
        f"rolecall: {inert(session.assumed_role_arn)} until "
        f"{session.expiration:%H:%M} UTC; `exit` to leave.",
        file=sys.stderr,
    )
    return _replace_process([shell], ctx.env, session)


def cmd_console(ctx: Context, out: TextIO) -> int:
    """`rolecall console TARGET [--open|--print|--copy]`: sign the browser in as the role."""
    from rolecall.core.console import url as cu
    from rolecall.core.settings import load_settings

    settings = load_settings(ctx.locations.config_dir / "config.toml").console
    role = ctx.role(ctx.args.target)
    if role.confirm and sys.stdin.isatty():
        _confirm(role)
    if ctx.args.destination:  # refuse a bad destination before anything is assumed
        cu.destination_url(role.partition, ctx.args.region or role.region, ctx.args.destination)
    _, session = ctx.session("console")
    url, destination = cu.sign_in_link(
        role.partition,
        session,
        destination=ctx.args.destination or role.console,
        session_duration=None if role.via else session_length(ctx, role),
        logout=ctx.args.logout_first or settings.logout_first,
        env=ctx.env,
    )
    ctx.journal().record("console", session, destination=destination, delivery=ctx.args.mode)
    if ctx.args.mode == "print":
        out.write(url + "\n")
        return 0
    if ctx.args.mode == "copy":
        from rolecall.core.console import clipboard

        clipboard.copy(url)
        clipboard.schedule_clear(url)
        print(
            f"rolecall: sign-in link for {role.target} copied; it is cleared from the "
            f"clipboard in {clipboard.CLEAR_AFTER} s and expires in 15 minutes.",
            file=sys.stderr,
        )
        return 0
    opened = cu.hand_to_browser(
        url,
        browser=settings.browser,
        container=ctx.args.container or settings.container,
        name=role.target,
        color=role.color,
        env=ctx.env,
    )
    if not opened:
        raise RolecallError(
            "the browser did not open the sign-in link within 60 s.",
            hint="use --print or --copy instead",
        )
    print(f"rolecall: opened the console as {inert(session.assumed_role_arn)}.", file=sys.stderr)
    return 0


def session_length(ctx: Context, role: Role) -> int:
    """The console session length to ask for: the assumed duration (900..43200)."""
    from rolecall.core.catalogue.model import parse_duration

    asked = parse_duration(ctx.args.duration) if ctx.args.duration else None
    return min(max(asked or role.duration, 900), 43200)


def _confirm(role: Role) -> None:
    answer = input(
        f"{role.target} is guarded (prod or confirm = true). "
        f"Type the account name '{role.account}' to continue: "
    )
    if answer.strip() != role.account:
        raise RolecallError("not confirmed; nothing was assumed.")


def _replace_process(command: list[str], env: dict[str, str], session: Session) -> int:
    """exec the command: its exit status and signals are the user's, with no rolecall between."""
    from rolecall.core.shell_env import child_environment

    child_env = child_environment(env, session)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command[0], command, child_env)  # noqa: S606 -- argv list, no shell
    except FileNotFoundError:
        raise _CommandFailed(f"command not found: {inert(command[0])}.", 127) from None
    except PermissionError:
        raise _CommandFailed(f"cannot run {inert(command[0])}: permission denied.", 126) from None
    except OSError as e:
        raise _CommandFailed(f"cannot run {inert(command[0])}: {e.strerror}.", 126) from None
    return 0  # not reached: execvpe only returns by raising


class _CommandFailed(RolecallError):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.exit_code = code


def cmd_sessions(ctx: Context, out: TextIO) -> int:
    """`rolecall sessions [--json]`: cached sessions and their expiry (never secrets)."""
    from datetime import UTC, datetime

    from rolecall.core.credentials import mask_key_id, rfc3339

    now = datetime.now(UTC)
    entries = sorted(ctx.session_cache().entries(), key=lambda e: e[1].expiration)
    if ctx.args.json:
        import json

        rows = [
            {
                "target": s.target,
                "session_name": s.session_name,
                "assumed_role_arn": s.assumed_role_arn,
                "source_identity": s.source_identity,
                "region": s.region,
                "issued_at": rfc3339(s.issued_at),
                "expiration": rfc3339(s.expiration),
                "remaining_seconds": max(int(s.remaining(now)), 0),
                "expired": s.remaining(now) <= 0,
                "access_key_id": mask_key_id(s.credentials.access_key_id),
            }
            for _, s in entries
        ]
        out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not entries:
        print("no cached sessions.", file=sys.stderr)
        return 0
    table = [
        (
            s.target,
            s.session_name,
            f"{s.expiration:%Y-%m-%d %H:%M:%S}Z",
            remaining_text(s.remaining(now)),
            mask_key_id(s.credentials.access_key_id),
        )
        for _, s in entries
    ]
    out.write(_columns(("TARGET", "SESSION NAME", "EXPIRES", "LEFT", "KEY"), table))
    return 0


def remaining_text(seconds: float) -> str:
    """`1h12m`, `42m`, `30s`, or `expired`."""
    if seconds <= 0:
        return "expired"
    if seconds < 60:
        return f"{int(seconds)}s"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def cmd_forget(ctx: Context, out: TextIO) -> int:
    """`rolecall forget TARGET | --all`: remove cached sessions."""
    if bool(ctx.args.target) == bool(ctx.args.all):
        raise UsageError("name a target or pass --all.", hint="rolecall forget TARGET | --all")
    cache = ctx.session_cache()
    wanted = None if ctx.args.all else ctx.role(ctx.args.target).target
    forgotten = sum(
        cache.forget(key) for key, s in list(cache.entries()) if wanted in (None, s.target)
    )
    print(f"forgot {forgotten} cached session{'s' if forgotten != 1 else ''}.", file=sys.stderr)
    return 0


def cmd_journal(ctx: Context, out: TextIO) -> int:
    """`rolecall journal [--json] [--limit N]`: the local record of assumptions and launches."""
    entries = list(ctx.journal().entries())
    if ctx.args.limit > 0:
        entries = entries[-ctx.args.limit :]
    if ctx.args.json:
        import json

        out.write(json.dumps(entries, indent=2) + "\n")
        return 0
    rows = [
        (
            str(e.get("time", "")),
            str(e.get("event", "")),
            str(e.get("target", "")),
            str(e.get("assumed_role_arn", "")),
        )
        for e in entries
    ]
    if rows:
        out.write(_columns(("TIME", "EVENT", "TARGET", "ASSUMED ROLE ARN"), rows))
    else:
        print("the journal is empty.", file=sys.stderr)
    return 0


def cmd_prompt(ctx: Context, out: TextIO) -> int:
    """`rolecall prompt`: `payments-prod/ReadOnly 42m` inside a rolecall shell, else nothing."""
    from datetime import UTC, datetime

    target = ctx.env.get("ROLECALL_TARGET")
    if not target:
        return 0
    left = ""
    try:
        from rolecall.core.credentials import parse_rfc3339

        expiry = parse_rfc3339(ctx.env.get("ROLECALL_EXPIRATION", ""))
        left = " " + remaining_text((expiry - datetime.now(UTC)).total_seconds())
    except ValueError:
        pass
    out.write(inert(target) + left + "\n")
    return 0


# ---------------------------------------------------------------------------------------------
# Parser


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argparse tree; with `only`, just that command (a command runs faster that way)."""
    parser = argparse.ArgumentParser(
        prog="rolecall",
        description="Pick an AWS role from your catalogue, assume it, and use it.",
        epilog="Run `rolecall COMMAND --help` for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"rolecall {__version__}")
    _catalogue_option(parser)
    commands = parser.add_subparsers(dest="subcommand", metavar="COMMAND")

    def wanted(name: str) -> bool:
        return only is None or only == name

    if wanted("list"):
        p = commands.add_parser(
            "list",
            help="list catalogue roles, filtered like the TUI",
            description="List the catalogue's roles. Every word of QUERY must occur in the "
            "account, role, account id, tags or description (case-insensitive).",
        )
        p.add_argument("query", nargs="*", metavar="QUERY", help="words that must all match")
        p.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
        _catalogue_option(p)
        p.set_defaults(handler=cmd_list)

    if wanted("check"):
        p = commands.add_parser(
            "check",
            help="validate a catalogue",
            description="Validate a catalogue and print every problem, one per line with "
            "file:line. Exit 0 when it is valid, 2 when it is not.",
        )
        p.add_argument(
            "path", nargs="?", metavar="PATH", help="catalogue file (default: as for list)"
        )
        _catalogue_option(p)
        p.set_defaults(handler=cmd_check)

    if wanted("env"):
        p = _assume_command(
            commands,
            "env",
            "print exports that switch the current shell to a role",
            'Print the role\'s credentials as exports for eval, e.g. eval "$(rolecall env T)". '
            "Stale AWS_PROFILE, AWS_SECURITY_TOKEN and friends are unset.",
        )
        from rolecall.core.shell_env import FORMATS

        p.add_argument(
            "--format", choices=FORMATS, default="sh", help="output syntax (default: sh)"
        )
        p.set_defaults(handler=cmd_env)

    if wanted("exec"):
        p = _assume_command(
            commands,
            "exec",
            "run one command with a role's identity",
            "Run CMD with the role's identity in its environment (no shell involved). The exit "
            "code and signals are CMD's own.",
        )
        p.add_argument(
            "argv", nargs="*", metavar="-- CMD ...", help="the command and its arguments"
        )
        p.set_defaults(handler=cmd_exec)

    if wanted("shell"):
        p = _assume_command(
            commands,
            "shell",
            "open $SHELL with a role's identity",
            "Start your $SHELL with the role's identity. Starting one inside another rolecall "
            "shell is refused unless --nest is given.",
        )
        p.add_argument("--nest", action="store_true", help="allow a shell inside a rolecall shell")
        p.set_defaults(handler=cmd_shell)

    if wanted("credential-process"):
        p = _assume_command(
            commands,
            "credential-process",
            "print credential_process JSON (for ~/.aws/config)",
            "Print Version 1 credential_process JSON. In ~/.aws/config: "
            "credential_process = rolecall credential-process payments-prod/ReadOnly",
        )
        p.set_defaults(handler=cmd_credential_process)

    if wanted("console"):
        from rolecall.core.console.url import CONTAINER_FORMS

        p = _assume_command(
            commands,
            "console",
            "open the AWS console as a role",
            "Sign a browser in to the AWS console as the role. The sign-in link never appears "
            "in a process's argv: the browser gets a one-shot loopback URL that redirects once.",
        )
        mode = p.add_mutually_exclusive_group()
        mode.add_argument(
            "--open",
            dest="mode",
            action="store_const",
            const="open",
            help="open a browser (default)",
        )
        mode.add_argument(
            "--print", dest="mode", action="store_const", const="print", help="print the link"
        )
        mode.add_argument(
            "--copy",
            dest="mode",
            action="store_const",
            const="copy",
            help="copy the link; the clipboard is cleared after 60 s",
        )
        p.set_defaults(mode="open")
        p.add_argument(
            "--destination",
            metavar="D",
            help="a service (s3, cloudwatch, ec2, iam, lambda, logs, ...) or a console URL",
        )
        p.add_argument(
            "--logout-first",
            action="store_true",
            help="sign the browser out of any other account first",
        )
        p.add_argument(
            "--container",
            choices=CONTAINER_FORMS,
            help="open in a Firefox container named after the target",
        )
        p.set_defaults(handler=cmd_console)

    if wanted("sessions"):
        p = commands.add_parser(
            "sessions",
            help="list cached sessions and their expiry",
            description="List cached sessions: target, session name, expiry, time left and the "
            "masked access key id. Secrets are never shown.",
        )
        p.add_argument("--json", action="store_true", help="print JSON rows")
        _catalogue_option(p)
        p.set_defaults(handler=cmd_sessions)

    if wanted("forget"):
        p = commands.add_parser(
            "forget",
            help="remove cached sessions",
            description="Remove the cached sessions of TARGET, or all of them with --all.",
        )
        p.add_argument(
            "target", nargs="?", metavar="TARGET", help="ACCOUNT/ROLE, id/ROLE, ARN or query"
        )
        p.add_argument("--all", action="store_true", help="remove every cached session")
        _catalogue_option(p)
        p.set_defaults(handler=cmd_forget)

    if wanted("journal"):
        p = commands.add_parser(
            "journal",
            help="show the local journal of assumptions and launches",
            description="Show who assumed what, when and under which session name (no secrets).",
        )
        p.add_argument("--json", action="store_true", help="print JSON entries")
        p.add_argument("--limit", type=int, default=0, metavar="N", help="only the last N entries")
        p.set_defaults(handler=cmd_journal)

    if wanted("prompt"):
        p = commands.add_parser(
            "prompt",
            help="a short segment for a shell prompt",
            description="Print `ACCOUNT/ROLE 42m` inside a rolecall shell, nothing elsewhere. "
            "For example in bash: PS1='$(rolecall prompt) '$PS1",
        )
        p.set_defaults(handler=cmd_prompt)

    if wanted("demo"):
        p = commands.add_parser(
            "demo",
            help="the TUI against a demo world on loopback (no AWS account needed)",
            description="Start a demo organisation (moto's STS and IAM on a free loopback "
            "port, a sign-in page, a catalogue) and open the TUI on it. Everything stops and "
            "its files are removed on exit.",
        )
        p.add_argument(
            "--print-env",
            action="store_true",
            help="print exports that point other rolecall commands at the demo world (of a "
            "demo running elsewhere, or of a new one that runs until Ctrl-C)",
        )
        p.set_defaults(handler=cmd_demo)
    if wanted("import"):
        from rolecall.cli_import import add_import_parser

        add_import_parser(commands)
    return parser


def _assume_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
) -> argparse.ArgumentParser:
    p = commands.add_parser(name, help=summary, description=description)
    p.add_argument("target", metavar="TARGET", help="ACCOUNT/ROLE, ACCOUNT_ID/ROLE, ARN or query")
    group = p.add_argument_group("assume options")
    group.add_argument("--session-name", metavar="NAME", help="use exactly this session name")
    group.add_argument(
        "--template", metavar="NAME", help="a template from [session_names] (or a literal one)"
    )
    group.add_argument(
        "--var", action="append", metavar="NAME=VALUE", help="value of a free template variable"
    )
    group.add_argument("--duration", metavar="D", help='session length, e.g. "15m", "1h", 3600')
    group.add_argument(
        "--mfa-code",
        metavar="CODE",
        help="6-digit MFA code (on a terminal you are asked instead, which keeps it out of ps)",
    )
    group.add_argument("--region", metavar="R", help="STS and session region")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    _catalogue_option(p)
    return p


def _catalogue_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalogue",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="catalogue file (default: $ROLECALL_CATALOGUE, else the user config dir)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run rolecall; return the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Build only the named command's parser: building all of them costs milliseconds that
    # `credential_process` pays on every botocore refresh.
    first = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(first if first in COMMANDS else None)
    # Everything after `--` belongs to the command of `exec`, options included.
    rest: list[str] | None = None
    if "--" in argv:
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    if rest is not None:
        if args.subcommand != "exec":
            parser.error("`--` is only for `rolecall exec TARGET -- CMD ...`")
        args.argv = [*args.argv, *rest]
    if args.subcommand is None:
        args.handler = cmd_tui
    ctx = Context(args, dict(os.environ), argv)
    try:
        code: int = args.handler(ctx, sys.stdout)
        return code
    except AmbiguousTarget as e:
        _report(e)
        for candidate in e.candidates:
            print(f"  {inert(candidate)}", file=sys.stderr)
        return e.exit_code
    except RolecallError as e:
        _report(e)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `rolecall list | head`: the reader went away; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # a bug: say so in one line; ROLECALL_DEBUG=1 shows the traceback
        if os.environ.get("ROLECALL_DEBUG"):
            raise
        print(
            f"rolecall: unexpected internal error ({type(e).__name__}); this is a bug.",
            file=sys.stderr,
        )
        print("  hint: run again with ROLECALL_DEBUG=1 and report the traceback", file=sys.stderr)
        return 1


def _report(error: RolecallError) -> None:
    print(f"rolecall: {inert(error.message)}", file=sys.stderr)
    if error.hint:
        print(f"  hint: {inert(error.hint)}", file=sys.stderr)


def run() -> None:
    """Console-script entry point (see `rolecall.entry`)."""
    from rolecall.entry import run as entry

    entry()


if __name__ == "__main__":
    run()
