"""`rolecall login`: sign in to IAM Identity Center now (the assume path does it on demand)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from rolecall.cli.options import Commands, Wanted
from rolecall.core.errors import UsageError
from rolecall.core.text import inert

if TYPE_CHECKING:
    from rolecall.cli.context import Context
    from rolecall.core.lifecycle.sso_token import SsoSource


def register(commands: Commands, wanted: Wanted) -> None:
    """Add `login` (when wanted) to the command parser."""
    if wanted("login"):
        p = commands.add_parser(
            "login",
            help="sign in to IAM Identity Center",
            description="Sign in to IAM Identity Center and write the token where the AWS CLI "
            "and botocore read it (~/.aws/sso/cache). The browser is used (authorization code "
            "with PKCE), or the device code flow under SSH, with no display, or when asked.",
        )
        p.add_argument(
            "sso_session",
            nargs="?",
            metavar="SSO_SESSION",
            help="an [sso-session] of the AWS config (default: that of --profile, AWS_PROFILE "
            "or the only one)",
        )
        p.add_argument("--profile", metavar="P", help="sign in for this AWS profile")
        p.add_argument(
            "--use-device-code",
            action="store_true",
            help="show a code to enter on any device instead of opening a browser here",
        )
        p.set_defaults(handler=cmd_login)


def cmd_login(ctx: Context, out: TextIO) -> int:
    """`rolecall login [SSO_SESSION] [--profile P] [--use-device-code]`."""
    from datetime import UTC, datetime

    from rolecall.cli.output import remaining_text
    from rolecall.cli.signin import sso_signin

    session = _boto_session(ctx.args.profile)
    source = _source(ctx, session)
    engine = sso_signin(
        ctx, use_device_code=ctx.args.use_device_code, boto_session=lambda _: session
    )
    engine.login(source)
    expires = engine.expires_at(source)
    left = ""
    if expires is not None:
        seconds = (expires - datetime.now(UTC)).total_seconds()
        left = f"; the token is valid for {remaining_text(seconds)}"
    print(f"rolecall: signed in to IAM Identity Center ({source.label}){left}.", file=sys.stderr)
    return 0


def _boto_session(profile: str | None) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=profile)
    except ProfileNotFound:
        raise UsageError(
            f"the AWS config has no profile {inert(profile or '')!r}.",
            hint="list them with `aws configure list-profiles`",
        ) from None


def _source(ctx: Context, session: Any) -> SsoSource:
    from rolecall.core.lifecycle.sso_token import profile_source, session_source

    args = ctx.args
    config = session._session.full_config
    if args.sso_session and args.profile:
        raise UsageError("name an SSO_SESSION or a --profile, not both.")
    if args.sso_session:
        return session_source(config, args.sso_session)
    name = args.profile or session.profile_name
    found = profile_source(config, name)
    if found is not None:
        return found
    if args.profile:
        raise UsageError(
            f"profile {inert(args.profile)!r} does not sign in with IAM Identity Center.",
            hint="give it sso_session (or sso_start_url and sso_region), or name an SSO_SESSION",
        )
    sessions = sorted(config.get("sso_sessions", {}))
    if len(sessions) == 1:
        return session_source(config, sessions[0])
    if not sessions:
        raise UsageError(
            "the AWS config has no [sso-session] and no SSO profile to sign in to.",
            hint="`aws configure sso-session` writes one",
        )
    names = ", ".join(inert(s) for s in sessions)
    raise UsageError(
        f"the AWS config has {len(sessions)} sso-sessions: {names}.",
        hint="name one: rolecall login SSO_SESSION",
    )
