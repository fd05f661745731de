"""`rolecall import aws-config | organizations | identity-center`: a catalogue in one command.

The catalogue goes to stdout, or to `-o FILE` (written atomically). An existing file is never
overwritten: `--merge` merges into it (adds, keeps, reports), `--prune` also removes what the
source no longer has, `--dry-run` prints the result and writes nothing. The report goes to
stderr. Imports are deferred: boto3 is loaded only by the commands that call AWS.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rolecall.cli.options import Commands, Wanted
from rolecall.core.errors import UsageError
from rolecall.core.text import inert

if TYPE_CHECKING:
    from rolecall.cli.context import Context
    from rolecall.core.importers import Draft, ImportResult

LIST_LIMIT = 20
"""Names shown per report line before "and N more"."""


def register(commands: Commands, wanted: Wanted) -> None:
    """Add `import` and its three sources (when wanted) to the top-level command parser."""
    if not wanted("import"):
        return
    parser = commands.add_parser(
        "import",
        help="write a catalogue from ~/.aws/config, AWS Organizations or IAM Identity Center",
        description="Write a catalogue from what AWS already knows. The catalogue goes to "
        "stdout or -o FILE; --merge merges into an existing one without clobbering it. "
        "See docs/import.md.",
    )
    sources = parser.add_subparsers(dest="import_source", metavar="SOURCE", required=True)

    p = sources.add_parser(
        "aws-config",
        help="roles from the profiles of your AWS config file",
        description="Import every profile with role_arn (chains become via), every SSO "
        "profile (sso_account_id + sso_role_name) and credential_source profiles. Only the "
        "config file is read; no secret reaches the output. Profiles that a catalogue cannot "
        "express are listed with the reason.",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="the AWS config file (default: $AWS_CONFIG_FILE, else ~/.aws/config)",
    )
    _output_options(p)
    p.set_defaults(handler=cmd_import_aws_config)

    p = sources.add_parser(
        "organizations",
        help="one role in every ACTIVE account of your organization",
        description="List the organization's accounts (ListAccounts; the management account "
        "or a delegated administrator may call it) and import every ACTIVE one, named after "
        "the account, with --role-name, tagged with its organizational units.",
    )
    p.add_argument(
        "--role-name",
        metavar="NAME",
        default="OrganizationAccountAccessRole",
        help="the role to import in every account (default: OrganizationAccountAccessRole)",
    )
    p.add_argument(
        "--source-profile",
        metavar="PROFILE",
        help="AWS profile that calls Organizations and becomes the roles' source_profile "
        "(default: the default credential chain)",
    )
    p.add_argument(
        "--region",
        metavar="R",
        help="region to set on every imported account (default: none, i.e. us-east-1)",
    )
    p.add_argument("--no-ou-tags", action="store_true", help="do not tag accounts with their OUs")
    _output_options(p)
    p.set_defaults(handler=cmd_import_organizations)

    p = sources.add_parser(
        "identity-center",
        help="every account and permission set your SSO sign-in can see",
        description="Use the token cached by `aws sso login` to list every account and role "
        "(permission set) it can see. Each becomes a role whose source_profile is an SSO "
        "profile for it; profiles your AWS config lacks are written with --write-profiles "
        "FILE for you to review and append (your AWS config is never edited).",
    )
    p.add_argument("--start-url", metavar="URL", required=True, help="the SSO start URL")
    p.add_argument("--region", metavar="R", required=True, help="the SSO region")
    p.add_argument(
        "--sso-session",
        metavar="NAME",
        help="the [sso-session] to use (default: the one with this start URL, if any)",
    )
    p.add_argument(
        "--write-profiles",
        metavar="FILE",
        help="write the SSO profiles the catalogue needs and your AWS config lacks to FILE",
    )
    _output_options(p)
    p.set_defaults(handler=cmd_import_identity_center)


def _output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "-o", "--output", metavar="FILE", help="write the catalogue to FILE (default: stdout)"
    )
    group.add_argument(
        "--merge",
        action="store_true",
        help="merge into the catalogue at -o FILE: add what is new, keep everything it has",
    )
    group.add_argument(
        "--prune", action="store_true", help="with --merge: remove roles the source no longer has"
    )
    group.add_argument(
        "--dry-run", action="store_true", help="print the result and the report; write nothing"
    )
    group.add_argument(
        "--include",
        metavar="TEAM_FILE",
        action="append",
        default=[],
        help="include the team catalogue TEAM_FILE (write `include = [...]`) and leave out the "
        "accounts it defines instead of copying them (repeatable)",
    )
    group.add_argument(
        "--drop-comments",
        action="store_true",
        help="allow --merge into a catalogue with comments (they cannot be kept)",
    )


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_import_aws_config(ctx: Context, out: TextIO) -> int:
    """`rolecall import aws-config [--config FILE]`."""
    from rolecall.core.importers.aws_config import from_aws_config

    output = _Output.from_args(ctx)
    config = Path(ctx.args.config).expanduser() if ctx.args.config else _config_path(ctx)
    draft = from_aws_config(config, _credentials_path(ctx))
    result = _build(ctx, draft, output)
    _emit(ctx, out, result, output)
    return 0


def cmd_import_organizations(ctx: Context, out: TextIO) -> int:
    """`rolecall import organizations [--role-name NAME] [--source-profile P]`."""
    from rolecall.core.importers import organizations
    from rolecall.core.sts.client_config import CLIENT_SETTINGS

    args = ctx.args
    _check_names(args.role_name, args.source_profile)
    if args.region is not None:
        _check_region(args.region)
    output = _Output.from_args(ctx)
    client = organizations.client(args.source_profile, args.region, CLIENT_SETTINGS)
    listing = organizations.read(client, args.source_profile, ou_tags=not args.no_ou_tags)
    draft = organizations.draft(listing, args.role_name, args.source_profile, args.region)
    result = _build(ctx, draft, output)
    _emit(ctx, out, result, output)
    return 0


def cmd_import_identity_center(ctx: Context, out: TextIO) -> int:
    """`rolecall import identity-center --start-url URL --region R [--write-profiles FILE]`."""
    from rolecall.core.importers import identity_center as sso
    from rolecall.core.importers.aws_config import load_aws_config
    from rolecall.core.importers.files import write_atomic
    from rolecall.core.sts.client_config import CLIENT_SETTINGS

    args = ctx.args
    start_url = sso.check_start_url(args.start_url)
    _check_region(args.region)
    output = _Output.from_args(ctx)
    config_path = _config_path(ctx)
    profiles_path, earlier = _profiles_file(ctx, output)
    config = load_aws_config(config_path) if config_path.is_file() else None
    login = sso.find_login(config, start_url, args.region, args.sso_session)
    token = sso.load_token(_home(ctx) / ".aws" / "sso" / "cache", login)
    portal = sso.portal_client(args.region, CLIENT_SETTINGS)
    accounts = sso.read(portal, token, login)
    draft, plan = sso.draft(accounts, login, config, earlier)
    result = _build(ctx, draft, output)
    used = {role.source_profile for role in result.catalogue if role.source_profile}
    profiles = sso.render_profiles(plan, used, config_path)
    if profiles is not None and profiles_path is not None and not args.dry_run:
        write_atomic(profiles_path, profiles)
    _emit(ctx, out, result, output)
    config_shown = inert(str(config_path))
    count = sum(1 for p in plan.planned if p.name in used)
    plural = "s" if count != 1 else ""
    if profiles is None:
        _say("  every SSO profile the catalogue names is in your AWS config already.")
    elif profiles_path is None:
        _say(
            f"  {count} SSO profile{plural} that the catalogue names "
            f"{'are' if count != 1 else 'is'} not in your AWS config ({config_shown}).\n"
            "  write them with --write-profiles FILE, review the file, then append it:\n"
            f"    cat FILE >> {config_shown}"
        )
    else:
        verb = "would write" if args.dry_run else "wrote"
        shown = inert(str(profiles_path))
        session = f" and [sso-session {inert(plan.session)}]" if plan.write_session else ""
        sign_in = (
            f"\n  then sign in once with:  aws sso login --sso-session {inert(plan.session)}"
            if plan.write_session
            else ""
        )
        _say(
            f"  {verb} {count} SSO profile{plural}{session} to {shown}.\n"
            f"  review it, then append it to your AWS config:  cat {shown} >> {config_shown}"
            + sign_in
        )
    return 0


def _profiles_file(ctx: Context, output: _Output) -> tuple[Path | None, frozenset[str]]:
    """`--write-profiles FILE`, checked, and the profile names an earlier run wrote there.

    The file may be new or one that rolecall wrote before; never the AWS config or
    credentials file, never the catalogue, never a file of the user's own.
    """
    from rolecall.core.importers import identity_center as sso
    from rolecall.core.importers.files import read_text, same_file

    if not ctx.args.write_profiles:
        return None, frozenset()
    path = Path(ctx.args.write_profiles).expanduser()
    if same_file(path, _config_path(ctx)) or same_file(path, _credentials_path(ctx)):
        raise UsageError(
            "--write-profiles names your AWS config or credentials file; rolecall never "
            "edits those.",
            hint="write to another file, review it, then append it yourself",
        )
    if output.path is not None and same_file(path, output.path):
        raise UsageError("--write-profiles and -o name the same file.")
    previous = read_text(path)
    if previous is None:
        return path, frozenset()
    if not previous.startswith(sso.PROFILES_HEADER):
        raise UsageError(
            f"{inert(str(path))} exists and was not written by rolecall import; it is left alone.",
            hint="choose another --write-profiles FILE",
        )
    return path, sso.profiles_of_file(previous)


# ---------------------------------------------------------------------------------------------
# Shared steps


@dataclass(frozen=True)
class _Output:
    path: Path | None
    """The catalogue file, or None for stdout."""
    existing: str | None
    """Its text when merging into it."""

    @classmethod
    def from_args(cls, ctx: Context) -> _Output:
        """Check the output options before any AWS call; read the file to merge into."""
        from rolecall.core.importers.files import has_comments, read_text

        args = ctx.args
        path = None if args.output in (None, "-") else Path(args.output).expanduser()
        if args.merge and path is None:
            raise UsageError(
                "--merge needs -o FILE: the catalogue to merge into.",
                hint="e.g. -o ~/.config/rolecall/accounts.toml --merge",
            )
        if args.prune and not args.merge:
            raise UsageError("--prune needs --merge: it removes roles from an existing catalogue.")
        if path is not None and path.is_dir():
            raise UsageError(f"-o {inert(str(path))} is a directory.")
        existing = read_text(path) if path is not None else None
        if existing is not None and not args.merge:
            raise UsageError(
                f"{inert(str(path))} already exists; rolecall import does not overwrite it.",
                hint="pass --merge to merge into it (it keeps what the file has), "
                "or choose another -o",
            )
        if (
            existing is not None
            and not args.drop_comments
            and not args.dry_run
            and has_comments(existing)
        ):
            raise UsageError(
                f"{inert(str(path))} has comments, and a merge rewrites the file with a "
                "TOML writer, which cannot keep them.",
                hint="pass --drop-comments to merge anyway (see the result first with "
                "--dry-run), or import into a separate catalogue",
            )
        return cls(path, existing)


def _build(ctx: Context, draft: Draft, output: _Output) -> ImportResult:
    from rolecall.core.importers import build, team

    entries = []
    for given in ctx.args.include:
        path = Path(given).expanduser()
        entry, loaded = team.load_team(path, output.path)
        team.refuse_copies(output.existing, loaded, str(path))
        draft = team.hand_over(draft, loaded, str(path))
        entries.append(entry)
    file = str(output.path) if output.path is not None else "<stdout>"
    return build(draft, output.existing, file, prune=bool(ctx.args.prune), include=entries)


def _emit(ctx: Context, out: TextIO, result: ImportResult, output: _Output) -> None:
    """Write or print the catalogue, then the report on stderr."""
    from rolecall.core.importers.files import write_atomic

    args = ctx.args
    if output.path is None or args.dry_run:
        out.write(result.text)
        out.flush()
    else:
        write_atomic(output.path, result.text)
    _say(_report(result, output, dry_run=bool(args.dry_run)))
    if args.dry_run and output.existing is not None and not args.drop_comments:
        from rolecall.core.importers.files import has_comments

        if has_comments(output.existing):
            _say("  the file has comments: a real merge needs --drop-comments and drops them.")


def _report(result: ImportResult, output: _Output, *, dry_run: bool) -> str:
    report = result.report
    where = inert(str(output.path)) if output.path is not None else None
    counted = f"{_count(report.roles, 'role')} in {_count(report.accounts, 'account')}"
    if where is None:
        head = f"rolecall: imported {counted} from {inert(report.source)}."
    elif dry_run:
        head = f"rolecall: dry run, {where} unchanged: {counted} from {inert(report.source)}."
    else:
        head = f"rolecall: wrote {where}: {counted} from {inert(report.source)}."
    lines = [head]
    if output.existing is not None:
        added = f"{_count(len(report.added_accounts), 'account')}, "
        added += _count(len(report.added_roles), "role")
        lines.append(f"  added {added}{_names(report.added_roles)}")
        lines.append(f"  kept {_count(len(report.kept_roles), 'role')} the catalogue already had")
    if report.differences:
        lines.append("  differences from the source (the catalogue's values stay):")
        lines += [f"    {d}" for d in report.differences]
    if report.removed:
        lines.append(f"  removed, no longer in the source{_names(report.removed, all_of=True)}")
    if report.missing:
        lines.append(
            "  not in the source (--merge --prune removes them)"
            + _names(report.missing, all_of=True)
        )
    if report.skipped:
        lines.append(f"  skipped {len(report.skipped)}:")
        lines += [f"    {s.subject}: {s.reason}" for s in report.skipped]
    if report.notes:
        lines.append("  notes:")
        lines += [f"    {note}" for note in report.notes]
    if report.reformatted:
        lines.append(f"  {where} was rewritten in rolecall's layout; its values are unchanged.")
    return "\n".join(inert(line) for line in lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _names(names: tuple[str, ...], *, all_of: bool = False) -> str:
    if not names:
        return ""
    shown = names if all_of else names[:LIST_LIMIT]
    more = f" and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
    return ": " + ", ".join(shown) + more


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")


def _check_names(role_name: str, source_profile: str | None) -> None:
    """Refuse a role or profile name the catalogue would refuse, before any AWS call."""
    from rolecall.core.catalogue.model import CatalogueError
    from rolecall.core.catalogue.store import parse
    from rolecall.core.importers import render

    checks = [("--role-name", role_name, {"name": role_name})]
    if source_profile is not None:
        checks.append(
            (
                "--source-profile",
                source_profile,
                {"name": "Probe", "source_profile": source_profile},
            )
        )
    for option, value, role in checks:
        document = {
            "version": 1,
            "accounts": [{"name": "a", "id": "000000000000", "roles": [role]}],
        }
        try:
            parse(render(document).encode("utf-8"), option)
        except CatalogueError as e:
            raise UsageError(f"{option} {inert(value)!r}: {e.problems[0].message}") from None


def _check_region(region: str) -> None:
    from rolecall.core.catalogue.model import partition_of

    if partition_of(region) is None:
        raise UsageError(
            f"--region {inert(region)!r} is not an AWS region.",
            hint="regions look like us-east-1, eu-west-1, us-gov-west-1",
        )


def _home(ctx: Context) -> Path:
    return Path(ctx.env.get("HOME") or Path.home())


def _config_path(ctx: Context) -> Path:
    configured = ctx.env.get("AWS_CONFIG_FILE")
    return Path(configured).expanduser() if configured else _home(ctx) / ".aws" / "config"


def _credentials_path(ctx: Context) -> Path:
    configured = ctx.env.get("AWS_SHARED_CREDENTIALS_FILE")
    return Path(configured).expanduser() if configured else _home(ctx) / ".aws" / "credentials"
