"""`rolecall each QUERY -- CMD ...`: one command across every role that a query matches.

Planning, the shared hops and the children belong to `rolecall.core.fanout`. This module turns
the command line into a run, asks on the terminal (confirmation, MFA codes), prints the
labelled lines or the JSON records, then the summary, and handles Ctrl-C.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from rolecall.cli.context import Context
from rolecall.cli.options import (
    Commands,
    Wanted,
    assume_options,
    catalogue_option,
    positive_int,
)
from rolecall.cli.output import columns
from rolecall.core.errors import RolecallError, TargetNotFound, UsageError
from rolecall.core.text import inert, show

if TYPE_CHECKING:
    from rolecall.core.catalogue.model import Role
    from rolecall.core.fanout.batch import Batch
    from rolecall.core.fanout.children import Outcome

OUTPUTS = ("lines", "json", "quiet")
"""`--output` formats: labelled lines as they come, one JSON array at the end, or nothing."""

ANSI = {
    "blue": "34",
    "turquoise": "36",
    "green": "32",
    "yellow": "33",
    "orange": "38;5;208",
    "red": "31",
    "pink": "35",
    "purple": "38;5;129",
}
"""Terminal colours (SGR) for the catalogue's account colours."""


def register(commands: Commands, wanted: Wanted) -> None:
    """Add `each` (if wanted) to the command parser."""
    if not wanted("each"):
        return
    p = commands.add_parser(
        "each",
        help="run one command across every role a query matches",
        description="Run CMD once per role that QUERY matches (every word must match, as for "
        "`list`), each with that role's identity exactly as `exec` gives it, at most N at a "
        "time. Hops the roles share (a hub role) are assumed once, with at most one MFA code "
        "per device. Exit 0 when every target succeeded, 1 when any failed (the others still "
        "run), 2 for bad input or when nothing matches.",
        epilog="example: rolecall each payments -- aws s3 ls",
    )
    p.add_argument("query", nargs="+", metavar="QUERY", help="words that must all match")
    p.add_argument(
        "--parallel",
        type=positive_int,
        default=4,
        metavar="N",
        help="run at most N commands at a time (default: 4)",
    )
    p.add_argument(
        "--output",
        choices=OUTPUTS,
        default="lines",
        help="lines: every line prefixed with its target (default); json: one JSON array of "
        "records at the end; quiet: the summary only",
    )
    p.add_argument(
        "--yes",
        action="store_true",
        help="run on roles that ask for confirmation without asking (for scripts)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="list the targets and the assumed-role ARN each would get; assume nothing",
    )
    assume_options(p)
    catalogue_option(p)
    p.set_defaults(handler=cmd_each, argv=[])


def cmd_each(ctx: Context, out: TextIO) -> int:
    """`rolecall each QUERY [--parallel N] [--output lines|json|quiet] -- CMD ...`."""
    from rolecall.cli.signin import sso_signin
    from rolecall.core.fanout.batch import Batch
    from rolecall.core.private_files import ensure_private_dir
    from rolecall.core.sts.assumer import Assumer
    from rolecall.core.sts.mfa import MfaLedger

    args = ctx.args
    command = list(args.argv)
    if not command and not args.dry_run:
        raise UsageError("no command was given.", hint="rolecall each QUERY -- CMD [ARGS...]")
    query = " ".join(args.query)
    catalogue = ctx.catalogue()
    roles = catalogue.search(query)
    if not roles:
        raise TargetNotFound(
            f"no role matches {show(query)}.", hint=f"rolecall list {inert(query)}"
        )
    assumer = Assumer(
        catalogue,
        ctx.session_cache(),
        MfaLedger(ctx.locations.cache_dir / "mfa-ledger.json"),
        env=ctx.env,
        client_settings=ctx._sts(),  # the STS timeouts every assuming command honours
        sso=sso_signin(ctx),  # one Identity Center sign-in for every target, when needed
    )
    batch = Batch(assumer, roles, ctx.assume_options())
    if args.dry_run:
        _print_previews(batch, out)
        return 0
    _confirm(batch.guarded(), len(roles), yes=args.yes)
    ensure_private_dir(ctx.locations.cache_dir)
    batch.prepare(_ask_mfa if sys.stdin.isatty() else None)
    outcomes, stopped_by = _run(ctx, batch, command, out)
    if args.output == "json":
        import json

        out.write(json.dumps([o.record() for o in outcomes], indent=2) + "\n")
        out.flush()
    for line in summary(outcomes, interrupted=stopped_by is not None):
        print(line, file=sys.stderr)
    if stopped_by is not None:
        return 128 + stopped_by
    return 0 if all(o.ok for o in outcomes) else 1


def _run(
    ctx: Context, batch: Batch, command: Sequence[str], out: TextIO
) -> tuple[list[Outcome], int | None]:
    """Run the children; on Ctrl-C (or SIGTERM) stop them all. Returns the outcomes and the
    signal that stopped the run, if one did."""
    from rolecall.core.fanout.children import FanOut

    output = ctx.args.output
    run = FanOut(
        batch,
        command,
        ctx.env,
        ctx.args.parallel,
        sink=_Lines([t.role for t in batch.targets], out) if output == "lines" else None,
        keep_output=output == "json",
        journal=ctx.journal(),
    )

    # Ctrl-C and SIGTERM stop the run from the handler instead of raising KeyboardInterrupt:
    # an exception inside Thread.join can leave the thread looking finished (CPython 3.11),
    # and rolecall would then leave before its children were reaped.
    signals: list[int] = []

    def interrupted(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)
        run.stop(force=len(signals) > 1)  # a second signal: no more grace

    previous = {sig: signal.signal(sig, interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run.start()
        while not run.wait(0.1):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stopped_by = signals[0] if signals else None
    return run.results(), stopped_by


class _Lines:
    """Writes each child line with its target in front, padded to the longest target and
    coloured by account on a terminal (one write per line: lines never mix)."""

    def __init__(self, roles: Sequence[Role], out: TextIO) -> None:
        import os

        self.out = out
        width = max(len(inert(role.target)) for role in roles)
        plain = "NO_COLOR" in os.environ
        self.prefixes: dict[tuple[str, str], str] = {}
        for stream, handle in (("stdout", out), ("stderr", sys.stderr)):
            colour = not plain and handle.isatty()
            for role in roles:
                label = inert(role.target).ljust(width)
                code = ANSI.get(role.color or "") if colour else None
                if code:
                    label = f"\x1b[{code}m{label}\x1b[0m"
                self.prefixes[role.target, stream] = label + " | "

    def __call__(self, target: str, stream: str, line: str) -> None:
        handle = self.out if stream == "stdout" else sys.stderr
        handle.write(self.prefixes[target, stream] + line + "\n")
        handle.flush()


def summary(outcomes: Sequence[Outcome], interrupted: bool = False) -> list[str]:
    """The lines printed on stderr at the end: how many succeeded, and each failure."""
    from rolecall.core.fanout.children import STOPPED

    succeeded = sum(1 for o in outcomes if o.ok)
    failed = [o for o in outcomes if not o.ok]
    head = f"rolecall: {succeeded} of {len(outcomes)} targets succeeded"
    if interrupted:
        head += " (interrupted)"
    lines = [head + (f"; {len(failed)} failed:" if failed else ".")]
    width = max((len(inert(o.target)) for o in failed), default=0)
    for o in failed:
        if o.error is None:
            reason = f"exit {o.exit}"
        elif o.assumed_role_arn is None and o.error != STOPPED:
            reason = f"not assumed: {o.error}"
        elif o.exit is not None:
            reason = f"exit {o.exit}: {o.error}"
        else:
            reason = o.error
        lines.append(f"  {inert(o.target).ljust(width)}  {inert(reason)}")
    return lines


def _print_previews(batch: Batch, out: TextIO) -> None:
    previews = batch.previews()
    rows = [
        (
            p.target,
            p.assumed_role_arn,
            " -> ".join(p.via) if p.via else "-",
            "confirm" if p.confirm else "",
        )
        for p in previews
    ]
    out.write(columns(("TARGET", "CLOUDTRAIL WILL SHOW", "VIA", "ASKS"), rows))
    noun = "target" if len(rows) == 1 else "targets"
    print(f"rolecall: dry run, {len(rows)} {noun}; nothing was assumed.", file=sys.stderr)


def _confirm(guarded: Sequence[Role], total: int, *, yes: bool) -> None:
    """List the roles that ask for confirmation, and have the count typed (or --yes)."""
    if not guarded or yes:
        return
    count = len(guarded)
    print(
        f"rolecall: {count} of the {total} matching roles ask for confirmation "
        "(prod, or confirm = true):",
        file=sys.stderr,
    )
    for role in guarded:
        print(f"  {inert(role.target)}  {role.account_id}", file=sys.stderr)
    if not sys.stdin.isatty():
        raise UsageError(
            "roles that ask for confirmation need a terminal to confirm on, or --yes.",
            hint="check the roles listed above, then pass --yes (or narrow the query)",
        )
    sys.stderr.write(f"Type {count} to run the command on these {count} roles too: ")
    sys.stderr.flush()
    if sys.stdin.readline().strip() != str(count):
        raise RolecallError("not confirmed; nothing was assumed.")


def _ask_mfa(serial: str, target: str, problem: str | None) -> str | None:
    """Ask on the terminal (getpass keeps the code off the screen and out of ps)."""
    import getpass

    from rolecall.core.sts.errors import MfaCodeInvalid
    from rolecall.core.sts.mfa import check_mfa_code

    if problem:
        print(f"rolecall: {inert(problem)}", file=sys.stderr)
    for _ in range(3):
        code = getpass.getpass(f"MFA code for {inert(serial)} ({inert(target)}): ", sys.stderr)
        if not code.strip():
            return None
        try:
            return check_mfa_code(code)
        except MfaCodeInvalid as invalid:
            print(f"rolecall: {invalid.message}", file=sys.stderr)
    return None
