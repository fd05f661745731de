"""`rolecall console`: sign a browser in to the AWS console as a role."""

from __future__ import annotations

import sys
from typing import TextIO

from rolecall.cli.context import Context, confirm_guarded
from rolecall.cli.options import Commands, Wanted, assume_command
from rolecall.core.catalogue.model import Role
from rolecall.core.errors import RolecallError
from rolecall.core.text import inert

OPEN_TIMEOUT = 60
"""Seconds the browser has to fetch the one-shot sign-in page."""


def register(commands: Commands, wanted: Wanted) -> None:
    """Add `console` (when wanted) to the command parser."""
    if wanted("console"):
        from rolecall.core.console.url import CONTAINER_FORMS

        p = assume_command(
            commands,
            "console",
            "open the AWS console as a role",
            "Sign a browser in to the AWS console as the role. The sign-in link never appears "
            "in a process's argv: the browser gets a one-shot loopback URL that redirects once, "
            "and only for your own user.",
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


def cmd_console(ctx: Context, out: TextIO) -> int:
    """`rolecall console TARGET [--open|--print|--copy]`: sign the browser in as the role."""
    from rolecall.core.console import url as cu
    from rolecall.core.settings import load_settings

    settings = load_settings(ctx.locations.config_dir / "config.toml").console
    role = ctx.role(ctx.args.target)
    if role.confirm and sys.stdin.isatty():
        confirm_guarded(role)
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
    refused: list[int] = []
    opened = cu.hand_to_browser(
        url,
        browser=settings.browser,
        container=ctx.args.container or settings.container,
        name=role.target,
        color=role.color,
        env=ctx.env,
        timeout=OPEN_TIMEOUT,
        on_refused=refused.append,
    )
    strangers = sum(refused)
    if not opened and strangers:
        raise RolecallError(
            f"the console was not opened: another local user tried to fetch the sign-in "
            f"page ({_times(strangers)}) and was refused, and the browser did not fetch it "
            f"within {OPEN_TIMEOUT} s.",
            hint="someone on this machine watches command lines: check `who`, then use --copy",
        )
    if not opened:
        raise RolecallError(
            f"the browser did not fetch the sign-in page within {OPEN_TIMEOUT} s.",
            hint="check [console] browser in config.toml, or use --print or --copy instead",
        )
    print(f"rolecall: opened the console as {inert(session.assumed_role_arn)}.", file=sys.stderr)
    if strangers:
        print(
            f"rolecall: warning: another local user tried to fetch the sign-in page "
            f"({_times(strangers)}) and was refused; someone on this machine watches "
            "command lines.",
            file=sys.stderr,
        )
    return 0


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def session_length(ctx: Context, role: Role) -> int:
    """The console session length to ask for: the assumed duration (900..43200)."""
    from rolecall.core.catalogue.model import parse_duration

    asked = parse_duration(ctx.args.duration) if ctx.args.duration else None
    return min(max(asked or role.duration, 900), 43200)
