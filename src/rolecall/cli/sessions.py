"""`sessions`, `forget` and `journal`: what is cached, and what was assumed."""

from __future__ import annotations

import sys
from typing import TextIO

from rolecall.cli.context import Context
from rolecall.cli.options import Commands, Wanted, catalogue_option, positive_int
from rolecall.cli.output import columns, remaining_text
from rolecall.core.errors import UsageError


def register(commands: Commands, wanted: Wanted) -> None:
    """Add `sessions`, `forget` and `journal` (those wanted) to the command parser."""
    if wanted("sessions"):
        p = commands.add_parser(
            "sessions",
            help="list cached sessions and their expiry",
            description="List cached sessions: target, session name, expiry, time left and the "
            "masked access key id. Secrets are never shown.",
        )
        p.add_argument("--json", action="store_true", help="print JSON rows")
        catalogue_option(p)
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
        catalogue_option(p)
        p.set_defaults(handler=cmd_forget)

    if wanted("journal"):
        p = commands.add_parser(
            "journal",
            help="show the local journal of assumptions and launches",
            description="Show who assumed what, when and under which session name (no secrets).",
        )
        p.add_argument("--json", action="store_true", help="print JSON entries")
        p.add_argument(
            "--limit", type=positive_int, metavar="N", help="only the last N entries (N ≥ 1)"
        )
        p.set_defaults(handler=cmd_journal)


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
    out.write(columns(("TARGET", "SESSION NAME", "EXPIRES", "LEFT", "KEY"), table))
    return 0


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
    if ctx.args.limit is not None:
        entries = entries[-ctx.args.limit :]
    if ctx.args.json:
        import json

        out.write(json.dumps(entries, indent=2) + "\n")
        return 0
    rows: list[tuple[str, str, str, str]] = []
    for e in entries:
        rows.append(
            (
                str(e.get("time", "")),
                str(e.get("event", "")),
                str(e.get("target", "")),
                str(e.get("assumed_role_arn", "")),
            )
        )
        chain = e.get("chain")
        if isinstance(chain, list) and len(chain) > 1:
            # Every hop is an AssumeRole in its own account's CloudTrail, under its own name.
            for number, hop in enumerate(chain[:-1], 1):
                if isinstance(hop, dict):
                    how = "" if hop.get("new") else " (cached)"
                    rows.append(
                        (
                            "",
                            f"  hop {number}/{len(chain)}{how}",
                            str(hop.get("target", "")),
                            str(hop.get("assumed_role_arn", "")),
                        )
                    )
    if rows:
        out.write(columns(("TIME", "EVENT", "TARGET", "ASSUMED ROLE ARN"), rows))
    else:
        print("the journal is empty.", file=sys.stderr)
    return 0
