"""`exec --server` and `shell --server`: a child whose credentials renew themselves.

rolecall stays beside the child (instead of replacing itself with it, as plain `exec` does):
it serves the container-credentials protocol on loopback from a `SessionKeeper` that renews
the session in the background, and stops both when the child exits. The child's exit code,
or the signal that ended it, becomes rolecall's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType
from typing import TYPE_CHECKING

from rolecall.core.errors import CommandFailed, UsageError
from rolecall.core.text import inert

if TYPE_CHECKING:
    from rolecall.cli.context import Context
    from rolecall.core.credentials import Session

FORWARDED = (signal.SIGTERM, signal.SIGHUP)
"""Signals passed on to the child; SIGINT reaches it from the terminal by itself."""


def run_with_server(ctx: Context, command: list[str], used_by: str) -> int:
    """Run `command` with a credential server for the target; its exit status is returned."""
    from rolecall.core.catalogue.model import parse_duration
    from rolecall.core.lifecycle.renewal import SessionKeeper, renew_window
    from rolecall.core.lifecycle.serving import serve_child

    if ctx.args.no_cache:
        raise UsageError(
            "--server renews from the session cache; it cannot be used with --no-cache.",
            hint="drop --no-cache (the server keeps the session in memory for the child)",
        )
    requested = None
    if ctx.args.renew_before is not None:
        requested = parse_duration(ctx.args.renew_before)
        if requested is None:
            raise UsageError(
                f"--renew-before {inert(ctx.args.renew_before)!r} is not a duration.",
                hint='write e.g. "20m", "14m45s" or seconds',
            )
    role, first = ctx.session(used_by)
    length = int((first.expiration - first.issued_at).total_seconds())
    window = renew_window(length, requested)
    renew = ctx.renewer(role, window)

    def notify(message: str) -> None:
        print(f"rolecall: {inert(message)}", file=sys.stderr, flush=True)

    keeper = SessionKeeper(first, renew, window, notify=notify)
    folder = ctx.locations.cache_dir / "servers"
    with serve_child(keeper.current, lambda: keeper.failure, ctx.env, first, folder) as served:
        keeper.start()
        try:
            ctx.journal().record(used_by, first, program=os.path.basename(command[0]), server=True)
            if used_by == "shell":
                _banner(first, window)
            status = _run_child(command, served.env)
        finally:
            keeper.stop()
    if status < 0:  # the child died of a signal: die of the same one
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        return 128 - status
    return status


def _banner(session: Session, window: int) -> None:
    print(
        f"rolecall: {inert(session.assumed_role_arn)}, renewed by a credential server "
        f"{window // 60}m{window % 60:02d}s before each expiry; `exit` to leave.",
        file=sys.stderr,
    )


def _run_child(command: list[str], env: dict[str, str]) -> int:
    """Start `command`, pass on SIGTERM/SIGHUP, ignore SIGINT meanwhile, and wait for it."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        child = subprocess.Popen(command, env=env)
    except OSError as error:
        raise CommandFailed.starting(command[0], error) from None

    def forward(signum: int, frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
