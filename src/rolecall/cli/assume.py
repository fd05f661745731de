"""`env`, `exec`, `shell` and `credential-process`: hand an assumed identity to a process."""

from __future__ import annotations

import argparse
import os
import sys
from shlex import quote as shlex_quote
from typing import TYPE_CHECKING, TextIO

from rolecall.cli.context import Context, confirm_guarded
from rolecall.cli.options import Commands, Wanted, assume_command
from rolecall.core.errors import CommandFailed, UsageError
from rolecall.core.text import inert

if TYPE_CHECKING:
    from rolecall.core.credentials import Session


def register(commands: Commands, wanted: Wanted) -> None:
    """Add `env`, `exec`, `shell` and `credential-process` (those wanted) to the parser."""
    if wanted("env"):
        p = assume_command(
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
        p = assume_command(
            commands,
            "exec",
            "run one command with a role's identity",
            "Run COMMAND with the role's identity in its environment (no shell involved). The exit "
            "code and signals are its own.",
        )
        p.usage = "rolecall exec [options] TARGET [WORD ...] -- COMMAND [ARG ...]"
        p.add_argument(
            "argv",
            nargs="*",
            metavar="WORD",
            help="more words of the TARGET query (all words before -- are one query); "
            "COMMAND and its arguments follow --",
        )
        server_options(p)
        p.set_defaults(handler=cmd_exec)

    if wanted("shell"):
        p = assume_command(
            commands,
            "shell",
            "open $SHELL with a role's identity",
            "Start your $SHELL with the role's identity. Starting one inside another rolecall "
            "shell is refused unless --nest is given.",
        )
        p.add_argument("--nest", action="store_true", help="allow a shell inside a rolecall shell")
        server_options(p)
        p.set_defaults(handler=cmd_shell)

    if wanted("credential-process"):
        p = assume_command(
            commands,
            "credential-process",
            "print credential_process JSON (for ~/.aws/config)",
            "Print Version 1 credential_process JSON. In ~/.aws/config: "
            "credential_process = rolecall credential-process payments-prod/ReadOnly",
        )
        p.set_defaults(handler=cmd_credential_process)


def server_options(parser: argparse.ArgumentParser) -> None:
    """`--server` and `--renew-before` for `exec` and `shell`."""
    group = parser.add_argument_group("credential server")
    group.add_argument(
        "--server",
        action="store_true",
        help="give the child a loopback credential server that renews the session "
        "(for terraform, IDEs and anything that runs longer than the session)",
    )
    group.add_argument(
        "--renew-before",
        metavar="D",
        help="with --server: renew this long before expiry (default 20m, or half a shorter "
        "session; must be shorter than the session)",
    )


def wants_server(ctx: Context) -> bool:
    """Whether `--server` was given (`--renew-before` alone is refused)."""
    if ctx.args.renew_before is not None and not ctx.args.server:
        raise UsageError(
            "--renew-before goes with --server.", hint="add --server, or drop --renew-before"
        )
    return bool(ctx.args.server)


class OnATerminal(UsageError):
    """Credentials were asked for with stdout on a terminal, where they would stay visible."""


def refuse_terminal(out: TextIO, command: str, target: str, hint: str) -> None:
    """Stop before assuming anything when `out` is a terminal.

    Printed there, a secret key and session token stay in the scrollback, terminal logs and
    screen recordings. Pipes, files and `$(...)` are not terminals, so `eval "$(...)"`,
    `credential_process` and `| jq` work as before.
    """
    if out.isatty():
        raise OnATerminal(
            f"rolecall {command} prints credentials for a program to read; on a terminal they "
            f"would stay in your scrollback, so nothing was printed for {inert(target)}.",
            hint=hint,
        )


def cmd_env(ctx: Context, out: TextIO) -> int:
    """`rolecall env TARGET [--format sh|fish|powershell|json]`."""
    from rolecall.core.shell_env import render_exports

    target = ctx.args.target
    shown = shlex_quote(target)
    hints = {
        "fish": f"rolecall env {shown} --format fish | source",
        "powershell": f"rolecall env {shown} --format powershell | Invoke-Expression",
        "json": f"rolecall env {shown} --format json | jq .set.AWS_REGION",
    }
    usage = hints.get(ctx.args.format, f'eval "$(rolecall env {shown})"')
    refuse_terminal(out, "env", target, f"{inert(usage)}, or `rolecall exec {inert(shown)} -- CMD`")
    _, session = ctx.session("env")
    out.write(render_exports(session, ctx.args.format))
    return 0


def cmd_credential_process(ctx: Context, out: TextIO) -> int:
    """`rolecall credential-process TARGET`: Version 1 JSON for ~/.aws/config."""
    from rolecall.core.shell_env import render_credential_process

    target = ctx.args.target
    refuse_terminal(
        out,
        "credential-process",
        target,
        f"use it as credential_process = rolecall credential-process {inert(shlex_quote(target))}"
        " in ~/.aws/config, or pipe it (| jq .Expiration)",
    )
    _, session = ctx.session("credential-process")
    out.write(render_credential_process(session))
    return 0


def cmd_exec(ctx: Context, out: TextIO) -> int:
    """`rolecall exec TARGET -- CMD ...`: replace this process with CMD, carrying the identity."""
    command = list(ctx.args.argv)
    if not command:
        raise UsageError("no command was given.", hint="rolecall exec TARGET -- CMD [ARGS...]")
    if wants_server(ctx):
        from rolecall.cli.server import run_with_server

        return run_with_server(ctx, command, "exec")
    _, session = ctx.session("exec")
    ctx.journal().record("exec", session, program=os.path.basename(command[0]))
    return replace_process(command, ctx.env, session)


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
        confirm_guarded(role)
    shell = ctx.env.get("SHELL") or "/bin/sh"
    if wants_server(ctx):
        from rolecall.cli.server import run_with_server

        return run_with_server(ctx, [shell], "shell")
    _, session = ctx.session("shell")
    ctx.journal().record("shell", session, program=os.path.basename(shell))
    print(
        f"rolecall: {inert(session.assumed_role_arn)} until "
        f"{session.expiration:%H:%M} UTC; `exit` to leave.",
        file=sys.stderr,
    )
    return replace_process([shell], ctx.env, session)


def replace_process(command: list[str], env: dict[str, str], session: Session) -> int:
    """exec the command: its exit status and signals are the user's, with no rolecall between."""
    from rolecall.core.shell_env import child_environment

    child_env = child_environment(env, session)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command[0], command, child_env)  # noqa: S606 -- argv list, no shell
    except OSError as error:
        raise CommandFailed.starting(command[0], error) from None
    return 0  # not reached: execvpe only returns by raising
