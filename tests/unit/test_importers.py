"""Catalogue import, core side: the aws-config corpus against golden catalogues, merging,
rendering, Organizations against moto and a fault endpoint, and IAM Identity Center against a
local portal endpoint. Real files under tmp_path; AWS only over loopback HTTP.

Regenerate the golden files after an intended change with `UPDATE_GOLDEN=1 pytest ...`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolecall.core.catalogue.model import CatalogueError
from rolecall.core.catalogue.store import parse
from rolecall.core.credentials import Secret
from rolecall.core.errors import UsageError
from rolecall.core.importers import Draft, DraftAccount, DraftRole, ImportResult, build, render
from rolecall.core.importers import identity_center as sso
from rolecall.core.importers import organizations as org
from rolecall.core.importers.aws_accounts import _account_label, _strip_role
from rolecall.core.importers.aws_config import (
    credential_file_profiles,
    from_aws_config,
    load_aws_config,
)
from rolecall.core.importers.draft import account_name, tag, unique_name
from rolecall.core.importers.errors import (
    ImportSourceError,
    ImportThrottled,
    OrganizationsDenied,
    SsoTokenExpired,
)
from rolecall.core.importers.files import has_comments, write_atomic
from rolecall.core.sts.client_config import CLIENT_SETTINGS
from tests.aws import moto_reset
from tests.functional.test_cli_import import (
    CANARY_CREDENTIALS,
    CORPUS,
    START_URL,
    TOKEN,
    FakeOrganizations,
    FakePortal,
    org_account,
    write_token,
)

CONFIGS = sorted(CORPUS.glob("*.config"))


def everything(result: ImportResult) -> str:
    """The catalogue text and every string of the report."""
    report = result.report
    parts = [result.text, report.source, *report.notes, *map(str, report.differences)]
    parts += [f"{s.subject}: {s.reason}" for s in report.skipped]
    return "\n".join(parts)


def report_lines(result: ImportResult) -> str:
    lines = [f"skipped {s.subject}: {s.reason}" for s in result.report.skipped]
    lines += [f"note {n}" for n in result.report.notes]
    return "\n".join(lines) + "\n"


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config"
    path.write_text(textwrap.dedent(text))
    return path


def imported(tmp_path: Path, text: str, credentials: Path | None = None) -> ImportResult:
    return build(from_aws_config(write_config(tmp_path, text), credentials), None, "c.toml")


# ---------------------------------------------------------------------------------------------
# aws-config: the corpus


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_corpus_matches_its_golden_catalogue_and_report(config: Path) -> None:
    result = build(from_aws_config(config, CANARY_CREDENTIALS), None, f"{config.stem}.toml")
    golden, report = CORPUS / f"{config.stem}.toml", CORPUS / f"{config.stem}.report"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(result.text)
        report.write_text(report_lines(result))
    assert result.text == golden.read_text()
    assert report_lines(result) == report.read_text()
    parse(result.text.encode(), "golden")  # what `rolecall check` runs
    assert tomllib.loads(result.text) == tomllib.loads(render(tomllib.loads(result.text)))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_corpus_never_leaks_a_secret_and_reimports_identically(config: Path) -> None:
    draft = from_aws_config(config, CANARY_CREDENTIALS)
    first = build(draft, None, "a.toml")
    assert "canary" not in everything(first).lower()
    assert "canary" not in repr(draft).lower()
    second = build(from_aws_config(config, CANARY_CREDENTIALS), first.text, "a.toml")
    assert second.text == first.text
    assert second.report.added_roles == ()
    assert len(second.report.kept_roles) == len(first.catalogue)
    assert not second.report.differences and not second.report.missing


def test_the_canary_corpus_really_holds_secrets() -> None:
    # Guards the leak tests above: they would pass vacuously without canaries to find.
    assert CANARY_CREDENTIALS.read_text().lower().count("canary-secret") == 5
    assert "canary-secret-in-config" in (CORPUS / "broken.config").read_text()


def test_secret_values_are_dropped_when_the_config_is_parsed() -> None:
    config = load_aws_config(CORPUS / "broken.config")
    assert "inline-secret" in config.static
    assert config.profiles["inline-secret"] == {}
    assert "canary" not in repr(config).lower()


def test_credentials_file_scan_keeps_names_and_nothing_else() -> None:
    found = credential_file_profiles(CANARY_CREDENTIALS)
    assert found == {
        "default": True,
        "identity": True,
        "self-keys": True,
        "keyed-role": True,
        "ci": True,
    }
    assert credential_file_profiles(None) == {}


# ---------------------------------------------------------------------------------------------
# aws-config: behaviours, one at a time


def test_a_chain_becomes_via_and_a_chained_duration_is_capped(tmp_path: Path) -> None:
    result = imported(
        tmp_path,
        """
        [profile keys]
        aws_access_key_id = AKIAEXAMPLE
        aws_secret_access_key = example
        [profile hub]
        role_arn = arn:aws:iam::000000000001:role/OrgAccess
        source_profile = keys
        [profile spoke-admin]
        role_arn = arn:aws:iam::000000000002:role/path/Admin
        source_profile = hub
        duration_seconds = 7200
        """,
    )
    spoke = result.catalogue.get("spoke/Admin")
    assert spoke is not None
    assert spoke.via == "hub/OrgAccess"
    assert spoke.duration == 3600
    assert spoke.arn == "arn:aws:iam::000000000002:role/path/Admin"
    hub = result.catalogue.get("hub/OrgAccess")
    assert hub is not None and hub.source_profile == "keys"
    assert any("over 1h, the AWS limit for role chaining" in n for n in result.report.notes)


def test_sso_profiles_are_roles_and_sources(tmp_path: Path) -> None:
    result = imported(
        tmp_path,
        """
        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = eu-west-1
        [profile dev-admin]
        sso_session = corp
        sso_account_id = 000000000003
        sso_role_name = AdministratorAccess
        [profile dev-deploy]
        role_arn = arn:aws:iam::000000000003:role/Deploy
        source_profile = dev-admin
        duration_seconds = 14400
        """,
    )
    admin = result.catalogue.get("dev/AdministratorAccess")
    deploy = result.catalogue.get("dev/Deploy")
    assert admin is not None and deploy is not None
    assert admin.source_profile == "dev-admin" and admin.tags == ("sso",)
    # A role assumed from SSO credentials is role chaining: AWS caps it at an hour.
    assert deploy.source_profile == "dev-admin" and deploy.via is None
    assert deploy.duration == 3600


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("credential_source = Environment\nsource_profile = keys", "both source_profile and"),
        ("", "neither source_profile nor credential_source"),
        ("credential_source = Lambda", 'credential_source "Lambda" is not one of'),
        ("source_profile = ghost", "in neither the config nor the credentials file"),
        ("source_profile = it", "its own static keys"),
        ("source_profile = it\nweb_identity_token_file = /t", "AssumeRoleWithWebIdentity"),
        ("source_profile = keys\nmfa_serial = x y", "mfa_serial:"),
    ],
)
def test_profiles_that_cannot_be_expressed_are_skipped_with_the_reason(
    tmp_path: Path, extra: str, reason: str
) -> None:
    result = imported(
        tmp_path,
        "[profile keys]\naws_access_key_id = AKIAEXAMPLE\n"
        "[profile it]\naws_access_key_id = AKIAEXAMPLE\n"
        f"role_arn = arn:aws:iam::000000000004:role/R\n{extra}\n",
    )
    assert len(result.catalogue) == 0
    ((subject, why),) = [(s.subject, s.reason) for s in result.report.skipped]
    assert subject == 'profile "it"'
    assert reason in why


def test_credential_source_is_carried_as_the_default_chain(tmp_path: Path) -> None:
    result = imported(
        tmp_path,
        """
        [profile box]
        role_arn = arn:aws:iam::000000000005:role/Box
        credential_source = Ec2InstanceMetadata
        """,
    )
    role = result.catalogue.get("account-000000000005/Box")
    assert role is not None and role.source_profile is None and role.via is None
    assert "default credential chain" in result.report.notes[0]


def test_a_source_with_keys_in_the_credentials_file_is_found(tmp_path: Path) -> None:
    result = imported(
        tmp_path,
        "[profile r]\nrole_arn = arn:aws:iam::000000000006:role/R\nsource_profile = ci\n",
        CANARY_CREDENTIALS,
    )
    found = result.catalogue.get("account-000000000006/R")
    assert found is not None and found.source_profile == "ci"


def test_the_first_profile_of_a_role_wins_and_chains_follow_the_role(tmp_path: Path) -> None:
    result = imported(
        tmp_path,
        """
        [default]
        aws_access_key_id = AKIAEXAMPLE
        [profile a]
        role_arn = arn:aws:iam::000000000007:role/Admin
        source_profile = default
        [profile b]
        role_arn = arn:aws:iam::000000000007:role/admin
        source_profile = default
        mfa_serial = arn:aws:iam::000000000007:mfa/x
        [profile c]
        role_arn = arn:aws:iam::000000000008:role/C
        source_profile = b
        """,
    )
    assert [s.subject for s in result.report.skipped] == ['profile "b"']
    chained = next(r for r in result.catalogue if r.name == "C")
    assert chained.via is not None and chained.via.endswith("/Admin")


def test_a_config_that_botocore_cannot_parse_is_exit_2_with_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[profile a]\nregion = x\n[profile a]\nregion = y\n")
    with pytest.raises(ImportSourceError) as caught:
        from_aws_config(path)
    assert caught.value.exit_code == 2
    assert "line 3: section [profile a] appears twice" in caught.value.message
    path.write_text("[profile a]\nsecret-canary-value-on-a-line-of-its-own\n")
    with pytest.raises(ImportSourceError) as caught:
        from_aws_config(path)
    assert "line 2" in caught.value.message and "canary" not in caught.value.message


def test_a_missing_config_is_exit_2(tmp_path: Path) -> None:
    with pytest.raises(ImportSourceError) as caught:
        from_aws_config(tmp_path / "nope")
    assert caught.value.exit_code == 2
    assert caught.value.hint == "pass --config FILE (or set AWS_CONFIG_FILE)"


@pytest.mark.parametrize(
    ("profile", "role", "label"),
    [
        ("payments-prod-admin", "Admin", "payments-prod"),
        ("payments-prod-read-only", "ReadOnly", "payments-prod"),
        ("prod.ReadOnly", "ReadOnly", "prod"),
        ("team alpha admin", "Admin", "team alpha"),
        ("Admin", "Admin", ""),
        ("sandbox", "Admin", "sandbox"),
    ],
)
def test_role_names_are_stripped_from_profile_names(profile: str, role: str, label: str) -> None:
    assert _strip_role(profile, role) == label


@pytest.mark.parametrize(
    ("names", "label"),
    [
        (["prod", "prod"], "prod"),
        (["prod", "prod-ro"], "prod"),
        (["pay-prod-eu", "pay-prod-us"], "pay-prod"),
        (["payments", "pay"], "payments"),
        (["", "x"], "x"),
        (["", ""], ""),
    ],
)
def test_an_account_is_named_after_what_its_profiles_share(names: list[str], label: str) -> None:
    assert _account_label(names) == label


def test_names_and_tags_are_made_valid_and_unique() -> None:
    assert account_name("Zürich Prod (EU)", "111111111111", lower=True) == "zurich-prod-eu"
    assert account_name("Prod.EU@Payments", "1", lower=False) == "Prod.EU-Payments"
    assert account_name("---", "123456789012", lower=True) == "account-123456789012"
    assert len(account_name("x" * 100, "1", lower=True)) == 64
    taken = {"sandbox"}
    assert unique_name("Sandbox", "111122223333", taken) == "Sandbox-3333"
    assert unique_name("sandbox", "444455553333", taken) == "sandbox-444455553333"
    assert tag("Prod Workloads") == "prod-workloads"
    assert tag("  ") is None


# ---------------------------------------------------------------------------------------------
# Merging


def draft_of(*accounts: DraftAccount, claims: bool = True) -> Draft:
    return Draft("test", list(accounts), lambda _a, _r: claims)


def role(name: str, **fields: Any) -> DraftRole:
    via = fields.pop("via", None)
    return DraftRole(name, fields, via=via, origin=f"role {name}")


EXISTING = textwrap.dedent(
    """\
    version = 1

    [defaults]
    region = "eu-west-1"

    [[accounts]]
    name = "hub-renamed"
    id = "000000000001"
    color = "blue"

    [[accounts.roles]]
    name = "hub"
    source_profile = "mine"
    duration = "2h"

    [[accounts.roles]]
    name = "Legacy"
    source_profile = "keys"

    [[accounts]]
    name = "handmade"
    id = "000000000009"

    [[accounts.roles]]
    name = "Chained"
    via = "hub-renamed/Legacy"
    """
)


def test_merge_keeps_what_the_catalogue_has_and_adds_the_rest() -> None:
    draft = draft_of(
        DraftAccount(
            "000000000001",
            "hub",
            {"description": "Hub"},
            [role("Hub", source_profile="keys", duration="1h"), role("New", source_profile="k")],
        ),
        DraftAccount("000000000002", "spoke", {}, [role("S", via=("000000000001", "Hub"))]),
        DraftAccount("000000000003", "handmade", {}, [role("X", source_profile="k")]),
    )
    result = build(draft, EXISTING, "c.toml")
    document = tomllib.loads(result.text)
    hub = document["accounts"][0]
    assert hub["name"] == "hub-renamed" and hub["color"] == "blue" and "description" not in hub
    assert [r["name"] for r in hub["roles"]] == ["hub", "Legacy", "New"]
    assert hub["roles"][0] == {"name": "hub", "source_profile": "mine", "duration": "2h"}
    assert [a["name"] for a in document["accounts"]] == [
        "hub-renamed",
        "handmade",
        "handmade-0003",
        "spoke",
    ]
    assert document["accounts"][3]["roles"][0]["via"] == "hub-renamed/hub"
    report = result.report
    assert report.added_accounts == ("handmade-0003", "spoke")
    assert report.added_roles == ("handmade-0003/X", "hub-renamed/New", "spoke/S")
    assert report.kept_roles == ("hub-renamed/hub",)
    assert [str(d) for d in report.differences] == [
        'hub-renamed: description is unset here, "Hub" in the source',
        'hub-renamed/hub: source_profile is "mine" here, "keys" in the source',
        'hub-renamed/hub: duration is "2h" here, "1h" in the source',
    ]
    assert report.missing == ("hub-renamed/Legacy", "handmade/Chained")
    assert report.reformatted is False


def test_prune_removes_only_what_nothing_chains_through() -> None:
    hub = DraftAccount("000000000001", "hub", {}, [role("hub")])
    # The source speaks for every role but Chained, which goes via Legacy: Legacy stays.
    draft = Draft("test", [hub], lambda _a, r: r["name"] != "Chained")
    result = build(draft, EXISTING, "c.toml", prune=True)
    assert result.report.removed == ()
    assert result.report.missing == ("hub-renamed/Legacy",)
    assert result.report.notes == (
        "hub-renamed/Legacy stays although the source no longer has it: another role chains "
        "through it (via).",
    )
    # When the source speaks for both, both go, and so does the account left empty.
    result = build(draft_of(hub), EXISTING, "c.toml", prune=True)
    assert result.report.removed == ("hub-renamed/Legacy", "handmade/Chained")
    document = tomllib.loads(result.text)
    assert [a["name"] for a in document["accounts"]] == ["hub-renamed"]
    assert [r["name"] for r in document["accounts"][0]["roles"]] == ["hub"]


def test_the_source_only_claims_its_own_roles() -> None:
    draft = draft_of(DraftAccount("000000000001", "hub", {}, [role("hub")]), claims=False)
    result = build(draft, EXISTING, "c.toml", prune=True)
    assert result.report.missing == () and result.report.removed == ()
    assert result.text == render(tomllib.loads(EXISTING))


def test_an_invalid_catalogue_is_never_merged_into() -> None:
    with pytest.raises(ImportSourceError) as caught:
        build(draft_of(), 'version = 1\n[[accounts]]\nname = "x"\nid = "12"\n', "bad.toml")
    assert caught.value.exit_code == 2
    assert "bad.toml is not a valid catalogue" in caught.value.message
    assert caught.value.hint == "run `rolecall check bad.toml` and fix it first"


def test_roles_joining_existing_accounts_keep_their_meaning() -> None:
    existing = textwrap.dedent(
        """\
        version = 1
        [defaults]
        source_profile = "everyone"
        [[accounts]]
        name = "long"
        id = "000000000001"
        region = "us-west-2"
        duration = "8h"
        mfa_serial = "arn:aws:iam::000000000001:mfa/a"
        roles = [{ name = "Root" }]
        """
    )
    draft = draft_of(
        DraftAccount(
            "000000000001",
            "long",
            {"region": "eu-west-1"},
            [role("Root"), role("Chained", via=("000000000001", "Root")), role("Plain")],
        )
    )
    result = build(draft, existing, "c.toml")
    chained = result.catalogue.get("long/Chained")
    plain = result.catalogue.get("long/Plain")
    assert chained is not None and plain is not None
    assert chained.duration == 3600 and chained.region == "eu-west-1"
    assert any("duration set to 1h" in n for n in result.report.notes)
    assert any(
        'long/Plain uses source_profile "everyone" from the catalogue' in n
        for n in result.report.notes
    )
    assert any("long/Plain inherits mfa_serial" in n for n in result.report.notes)
    assert result.report.reformatted  # the inline roles array became [[accounts.roles]]


def test_what_the_validator_refuses_is_dropped_or_left_out() -> None:
    draft = draft_of(
        DraftAccount(
            "000000000001",
            "a",
            {"description": "bell\x07", "region": "eu-west-1"},
            [
                role("Good", region="mars-1", duration="99h", session_name="x"),
                role("BadMfa", mfa_serial="nope"),
                role("Chained", via=("000000000001", "BadMfa")),
            ],
        )
    )
    result = build(draft, None, "c.toml")
    good = result.catalogue.get("a/Good")
    assert good is not None and good.region == "eu-west-1" and good.duration == 3600
    assert result.catalogue.get("a/BadMfa") is None and result.catalogue.get("a/Chained") is None
    assert [s.subject for s in result.report.skipped] == ["role BadMfa", "role Chained"]
    assert "chains through role BadMfa, which was left out" in result.report.skipped[1].reason
    notes = "\n".join(result.report.notes)
    for key in ("description", "region", "duration", "session_name"):
        assert f"{key} left out" in notes


def test_render_always_writes_arrays_of_tables() -> None:
    document = {
        "version": 1,
        "accounts": [
            {
                "name": "a",
                "id": "000000000001",
                "roles": [{"name": "R", "session_tags": {"team": "x", "cost centre": "y"}}],
            }
        ],
    }
    text = render(document)
    assert "[[accounts.roles]]" in text
    assert 'session_tags = { team = "x", "cost centre" = "y" }' in text
    assert tomllib.loads(text) == document


@settings(max_examples=60, deadline=None)
@given(
    st.text(max_size=30),
    st.lists(st.text(min_size=1, max_size=12), max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=3),
)
def test_render_round_trips_any_strings(
    description: str, tags: list[str], session_tags: dict[str, str]
) -> None:
    document: dict[str, Any] = {
        "version": 1,
        "defaults": {"region": "eu-west-1"},
        "accounts": [
            {
                "name": "a",
                "id": "000000000001",
                "description": description,
                "tags": tags,
                "roles": [{"name": "R", "description": description, "session_tags": session_tags}],
            }
        ],
    }
    assert tomllib.loads(render(document)) == document


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("version = 1\n", False),
        ("# hi\nversion = 1\n", True),
        ('x = "a # b"\n', False),
        ("x = 'a # b' # c\n", True),
        ('x = """\n# not a comment\n"""\n', False),
        ("x = '''\n# not either\n'''\n", False),
        ('x = "esc \\" # still in"\n', False),
        ('x = """a""""  # after\n', True),
    ],
)
def test_comments_are_found_outside_strings_only(text: str, found: bool) -> None:
    assert has_comments(text) is found


def test_write_atomic_keeps_the_mode_and_follows_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "accounts.toml"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "accounts.toml"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert real.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "new" / "dir" / "c.toml"
    write_atomic(fresh, "x")
    assert fresh.read_text() == "x"
    assert [p.name for p in real.parent.iterdir()] == ["accounts.toml"]


# ---------------------------------------------------------------------------------------------
# Organizations


@pytest.fixture
def fake_org(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrganizations]:
    accounts = [org_account(i, f"Team {i}") for i in range(2, 47)]
    accounts.append(org_account(47, "Leaving", state="SUSPENDED", Status="ACTIVE"))
    accounts.append(org_account(48, "No Status"))
    accounts.append(org_account(1, "Management"))
    fake = FakeOrganizations(accounts, management="000000000001")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", fake.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    yield fake
    fake.close()


def test_list_accounts_pages_by_20_follows_empty_pages_and_reads_state(
    fake_org: FakeOrganizations,
) -> None:
    listing = org.read(org.client(None, None, CLIENT_SETTINGS), None)
    assert len(listing.accounts) == 48
    assert set(fake_org.page_sizes) == {20}
    assert fake_org.tokens == [None, "e20", "p20", "e40", "p40"]
    draft = org.draft(listing, org.DEFAULT_ROLE, "mgmt")
    result = build(draft, None, "org.toml")
    assert len(result.catalogue) == 46  # 48 - SUSPENDED (Status says ACTIVE) - management
    skipped = {s.subject: s.reason for s in result.report.skipped}
    assert skipped['account 000000000047 "Leaving"'] == "its State is SUSPENDED, not ACTIVE"
    assert "management account" in skipped['account 000000000001 "Management"']
    assert result.catalogue.get("team-2/OrganizationAccountAccessRole") is not None


def test_a_custom_role_is_imported_in_the_management_account_too(
    fake_org: FakeOrganizations,
) -> None:
    listing = org.read(org.client(None, None, CLIENT_SETTINGS), None, ou_tags=False)
    result = build(org.draft(listing, "Auditor", None, "eu-west-1"), None, "o.toml")
    management = result.catalogue.get("management/Auditor")
    assert management is not None and management.region == "eu-west-1"
    assert management.source_profile is None


@pytest.mark.parametrize(
    ("mode", "error", "text"),
    [
        ("denied", OrganizationsDenied, "management account or a delegated administrator"),
        ("throttled", ImportThrottled, "AWS Organizations is throttling requests"),
    ],
)
def test_organizations_refusals(
    fake_org: FakeOrganizations, mode: str, error: type[Exception], text: str
) -> None:
    fake_org.mode = mode
    with pytest.raises(error) as caught:
        org.read(org.client(None, None, CLIENT_SETTINGS), None)
    assert text in str(caught.value)


def test_unreadable_ous_leave_accounts_untagged_with_a_note(fake_org: FakeOrganizations) -> None:
    fake_org.mode = "no-ou"
    listing = org.read(org.client(None, None, CLIENT_SETTINGS), None)
    assert listing.ou_paths is None
    assert listing.notes == [
        "accounts carry no OU tags: the organisational units could not be read "
        "(AccessDeniedException)."
    ]


def test_a_missing_profile_is_a_sentence() -> None:
    with pytest.raises(Exception) as caught:
        org.client("no-such-profile", None, CLIENT_SETTINGS)
    assert str(caught.value) == 'the AWS profile "no-such-profile" does not exist.'


def test_ou_paths_from_moto(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    moto_reset(moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    client = boto3.client("organizations", region_name="us-east-1")
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    unit = client.create_organizational_unit(ParentId=root, Name="Workloads")
    nested = client.create_organizational_unit(
        ParentId=unit["OrganizationalUnit"]["Id"], Name="Prod EU"
    )["OrganizationalUnit"]["Id"]
    ids = [
        client.create_account(Email=f"{n}@x.com", AccountName=n)["CreateAccountStatus"]["AccountId"]
        for n in ("deep", "top")
    ]
    client.move_account(AccountId=ids[0], SourceParentId=root, DestinationParentId=nested)
    listing = org.read(org.client(None, None, CLIENT_SETTINGS), None)
    assert listing.ou_paths == {ids[0]: ("Workloads", "Prod EU")}
    result = build(org.draft(listing, org.DEFAULT_ROLE, None), None, "o.toml")
    deep = result.catalogue.get("deep/OrganizationAccountAccessRole")
    assert deep is not None and deep.tags == ("workloads", "prod-eu")
    top = result.catalogue.get("top/OrganizationAccountAccessRole")
    assert top is not None and top.tags == ()


# ---------------------------------------------------------------------------------------------
# IAM Identity Center


SSO_CONFIG = """
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start/
sso_region = eu-west-1
[profile prod-admin]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
[profile other-url]
sso_start_url = https://other.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 111111111111
sso_role_name = ReadOnlyAccess
[profile payments-dev.PowerUser]
region = eu-west-1
"""


@pytest.fixture
def sso_config(tmp_path: Path) -> Any:
    return load_aws_config(write_config(tmp_path, SSO_CONFIG))


def test_find_login_uses_the_session_with_this_start_url(sso_config: Any) -> None:
    login = sso.find_login(sso_config, START_URL, "eu-west-1", None)
    assert login.session == "corp" and login.legacy_profile is None
    assert login.login_hint == "run `aws sso login --sso-session corp`, then import again"
    legacy = sso.find_login(sso_config, "https://other.awsapps.com/start", "eu-west-1", None)
    assert legacy.session is None and legacy.legacy_profile == "other-url"
    assert "aws sso login --profile other-url" in legacy.login_hint
    with pytest.raises(UsageError):
        sso.find_login(sso_config, "https://other.awsapps.com/start", "eu-west-1", "corp")


def test_load_token_by_session_then_by_start_url(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cache = home / ".aws" / "sso" / "cache"
    login = sso.SsoLogin(START_URL, "eu-west-1", "corp", None)
    with pytest.raises(SsoTokenExpired) as caught:
        sso.load_token(cache, login)
    assert "there is no cached IAM Identity Center token" in caught.value.message
    write_token(home, START_URL)  # a legacy login, cached under the URL
    assert sso.load_token(cache, login) == Secret(TOKEN)
    write_token(home, "corp", expires_in=timedelta(seconds=-1))
    with pytest.raises(SsoTokenExpired) as caught:
        sso.load_token(cache, login)
    assert "expired at" in caught.value.message
    assert caught.value.hint == "run `aws sso login --sso-session corp`, then import again"
    assert TOKEN not in repr(caught.value) + str(caught.value.hint)


def test_token_expiry_in_the_cli_cache_format(tmp_path: Path) -> None:
    path = write_token(tmp_path, "corp")
    path.write_text(path.read_text().replace("Z", "UTC"))
    login = sso.SsoLogin(START_URL, "eu-west-1", "corp", None)
    assert sso.load_token(tmp_path / ".aws/sso/cache", login) == Secret(TOKEN)
    later = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(SsoTokenExpired):
        sso.load_token(tmp_path / ".aws/sso/cache", login, now=later)


@pytest.fixture
def portal(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePortal]:
    fake = FakePortal(
        {
            "222222222222": ("Payments Dev", ["ReadOnly", "PowerUser", "Admin"]),
            "111111111111": ("Payments Prod", ["AdministratorAccess", "ReadOnlyAccess"]),
            "333333333333": ("Sandbox", []),
        },
        page=1,
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", fake.url)
    yield fake
    fake.close()


def test_portal_listing_follows_every_page(portal: FakePortal) -> None:
    login = sso.SsoLogin(START_URL, "eu-west-1", "corp", None)
    found = sso.read(sso.portal_client("eu-west-1", CLIENT_SETTINGS), Secret(TOKEN), login)
    assert found == [
        sso.PortalAccount(
            "111111111111", "Payments Prod", ("AdministratorAccess", "ReadOnlyAccess")
        ),
        sso.PortalAccount("222222222222", "Payments Dev", ("Admin", "PowerUser", "ReadOnly")),
        sso.PortalAccount("333333333333", "Sandbox", ()),
    ]
    assert portal.paths().count("/assignment/accounts") == 5  # 3 pages, 2 empty between
    assert {query["max_result"] for _, query, _ in portal.requests} == {"100"}


def test_portal_throttling_once_is_retried(portal: FakePortal) -> None:
    portal.mode = "throttle-once"
    login = sso.SsoLogin(START_URL, "eu-west-1", "corp", None)
    found = sso.read(sso.portal_client("eu-west-1", CLIENT_SETTINGS), Secret(TOKEN), login)
    assert len(found) == 3


@pytest.mark.parametrize(
    ("mode", "error", "text"),
    [
        ("unauthorized", SsoTokenExpired, "refused the cached token"),
        ("throttled", ImportThrottled, "throttling requests and kept refusing after 3 attempts"),
    ],
)
def test_portal_refusals(portal: FakePortal, mode: str, error: type[Exception], text: str) -> None:
    portal.mode = mode
    login = sso.SsoLogin(START_URL, "eu-west-1", "corp", None)
    with pytest.raises(error) as caught:
        sso.read(sso.portal_client("eu-west-1", CLIENT_SETTINGS), Secret(TOKEN), login)
    assert text in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_draft_reuses_config_profiles_and_plans_the_rest(sso_config: Any) -> None:
    login = sso.find_login(sso_config, START_URL, "eu-west-1", None)
    accounts = [
        sso.PortalAccount(
            "111111111111", "Payments Prod", ("AdministratorAccess", "ReadOnlyAccess")
        ),
        sso.PortalAccount("222222222222", "Payments Dev", ("PowerUser",)),
        sso.PortalAccount("333333333333", "Payments Dev", ("PowerUser",)),
    ]
    draft, plan = sso.draft(accounts, login, sso_config, frozenset({"old.Profile"}))
    assert plan.reused == 1 and plan.session == "corp" and not plan.write_session
    assert [p.name for p in plan.planned] == [
        "payments-dev-2222.PowerUser",  # payments-dev.PowerUser is a profile already
        "payments-dev-3333.PowerUser",
        "payments-prod.ReadOnlyAccess",  # prod-admin covers AdministratorAccess
    ]
    result = build(draft, None, "sso.toml")
    admin = result.catalogue.get("payments-prod/AdministratorAccess")
    assert admin is not None and admin.source_profile == "prod-admin"
    assert admin.region == "eu-west-1" and admin.tags == ("sso",)
    assert draft.claims({}, {"source_profile": "old.Profile"})
    assert not draft.claims({}, {"source_profile": "other-url"})
    used = {r.source_profile for r in result.catalogue if r.source_profile}
    text = sso.render_profiles(plan, used, Path("/home/u/.aws/config"))
    assert text is not None and text.startswith(sso.PROFILES_HEADER)
    assert "cat FILE >> /home/u/.aws/config" in text
    assert "[sso-session" not in text
    assert "[profile payments-prod.ReadOnlyAccess]\nsso_session = corp\n" in text
    assert sso.profiles_of_file(text) == {p.name for p in plan.planned}


def test_a_new_session_is_planned_when_the_config_has_none(tmp_path: Path) -> None:
    login = sso.find_login(None, "https://d-1234567890.awsapps.com/start#/", "us-east-1", None)
    _, plan = sso.draft([sso.PortalAccount("1" * 12, "A", ("R",))], login, None)
    assert plan.session == "d-1234567890" and plan.write_session
    text = sso.render_profiles(plan, {"a.R"}, tmp_path / "config")
    assert text is not None
    assert "[sso-session d-1234567890]\nsso_start_url = https://d-1234567890" in text
    assert "# and sign in once with: aws sso login --sso-session d-1234567890" in text
    assert sso.render_profiles(plan, set(), tmp_path / "config") is None


@pytest.mark.parametrize("url", ["http://x.awsapps.com/start", "https://", "https://a b", "x"])
def test_start_urls_must_be_https(url: str) -> None:
    with pytest.raises(UsageError):
        sso.check_start_url(url)


def test_catalogue_error_type_is_what_check_reports() -> None:
    # The import relies on the validator's problems carrying dotted keys it can map back.
    with pytest.raises(CatalogueError) as caught:
        parse(
            b'version = 1\n[[accounts]]\nname = "a"\nid = "000000000001"\n'
            b'[[accounts.roles]]\nname = "R"\nmfa_serial = "x"\n',
            "c.toml",
        )
    assert caught.value.problems[0].key == "accounts[0].roles[0].mfa_serial"


# ---------------------------------------------------------------------------------------------
# Hostile configs: deep chains, loops and absurd names neither crash nor stall the importer.
# The stall cases run in a child process so that a quadratic path fails after STALL_SECONDS
# (under a memory limit) instead of hanging the suite for hours.

STALL_SECONDS = 10.0
MEMORY_LIMIT = 1 << 30


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_bounded(code: str, *args: str) -> str:
    """Run `code` in a child Python under STALL_SECONDS and MEMORY_LIMIT; its stdout."""
    try:
        child = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), *args],
            capture_output=True,
            text=True,
            timeout=STALL_SECONDS,
            check=False,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"took more than {STALL_SECONDS:.0f}s")
    assert child.returncode == 0, child.stderr[-2000:]
    return child.stdout


def reversed_chain(depth: int, *, loop: bool = False) -> str:
    """`p{depth}` → ... → `p1` → `p0` (plain), each declared before its source; or a loop."""
    profiles = [
        f"[profile p{i}]\nrole_arn = arn:aws:iam::{i % 7 + 1:012d}:role/r{i}\n"
        f"source_profile = p{i - 1 if i > 1 or not loop else depth}\n"
        for i in range(depth, 0, -1)
    ]
    return "".join(profiles) + "[profile p0]\ncredential_process = /bin/true\n"


def test_a_600_deep_chain_declared_in_reverse_is_imported(tmp_path: Path) -> None:
    result = imported(tmp_path, reversed_chain(600))
    assert not result.report.skipped
    assert len(result.catalogue) == 600
    first = next(r for r in result.catalogue if r.name == "r1")
    last = next(r for r in result.catalogue if r.name == "r600")
    assert first.source_profile == "p0" and first.via is None
    assert last.via is not None and last.via.endswith("/r599")


def test_a_20000_deep_chain_is_drafted_without_recursion(tmp_path: Path) -> None:
    draft = from_aws_config(write_config(tmp_path, reversed_chain(20_000)))
    roles = {r.name: r for a in draft.accounts for r in a.roles}
    assert len(roles) == 20_000 and not draft.skipped
    assert roles["r20000"].via == (f"{19_999 % 7 + 1:012d}", "r19999")


def test_a_600_profile_loop_is_skipped_with_a_short_sentence(tmp_path: Path) -> None:
    draft = from_aws_config(write_config(tmp_path, reversed_chain(600, loop=True)))
    assert not draft.accounts
    assert len(draft.skipped) == 600
    for skipped in draft.skipped:
        assert skipped.reason.startswith("source_profile chain loops: p600 → p599 → "), skipped
        assert "(600 profiles)" in skipped.reason and len(skipped.reason) < 200, skipped


@pytest.mark.parametrize("where", ["profile", "source"])
def test_a_profile_name_too_long_to_import_is_a_sentence(tmp_path: Path, where: str) -> None:
    name = "a-" * 100 + "z"
    role, source = ("x", name) if where == "source" else (name, "src")
    result = imported(
        tmp_path,
        f"[profile {role}]\nrole_arn = arn:aws:iam::000000000009:role/R\n"
        f"source_profile = {source}\n[profile {source}]\ncredential_process = /bin/true\n",
    )
    assert len(result.catalogue) == 0
    (skipped,) = result.report.skipped
    assert "too long to import" in skipped.reason and len(skipped.reason) < 200
    assert len(skipped.subject) < 80


MEGABYTE_NAME = """
import sys, time
from pathlib import Path
from rolecall.core.importers import build
from rolecall.core.importers.aws_config import from_aws_config

name = "-".join(["a"] * 500_000)
path = Path(sys.argv[1])
path.write_text(
    f"[profile {name}]\\nrole_arn = arn:aws:iam::000000000001:role/a\\nsource_profile = s\\n"
    f"[profile {name}-b]\\nrole_arn = arn:aws:iam::000000000001:role/b\\nsource_profile = s\\n"
    f"[profile s{name}]\\nsso_account_id = 000000000002\\nsso_role_name = a-a\\n"
    "sso_start_url = https://x.awsapps.com/start\\nsso_region = eu-west-1\\n"
    "[profile s]\\ncredential_process = /bin/true\\n"
)
result = build(from_aws_config(path, path), None, "c.toml")
print(len(result.report.skipped))
"""


def test_a_megabyte_profile_name_is_handled_in_linear_time(tmp_path: Path) -> None:
    assert run_bounded(MEGABYTE_NAME, str(tmp_path / "config")).strip() == "3"


NAME_HELPERS = """
from rolecall.core.importers.aws_accounts import _account_label, _squash, _strip_role
from rolecall.core.importers.draft import account_name, tag

name = "-".join(["a"] * 500_000)
assert _strip_role(name, "A") == name[:-2]
assert _strip_role(name, "b") == name
assert _strip_role(name, name.replace("-", "")) == ""
assert _account_label([name + "x", name + "y"]) == name[:-2]
assert _account_label(["-" * 1_000_000 + "x", "-" * 1_000_000 + "y"]) == "-" * 1_000_000 + "x"
assert _account_label(["a" * 1_000_000 + "x", "a" * 1_000_000]) == "a" * 1_000_000 + "x"
assert _account_label(["x" + name, "y" + name]) == "x" + name
assert len(_squash(name)) == 500_000
assert account_name(name, "1", lower=False) == name[:63]
assert tag(name) == name[:63]
"""


def test_name_helpers_are_linear_on_megabyte_names() -> None:
    run_bounded(NAME_HELPERS)


def test_a_credentials_line_of_spaces_is_scanned_in_linear_time(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text(
        "["
        + " " * 1_000_000
        + "\n[ ci ]\naws_access_key_id = AKIAEXAMPLE\n[x"
        + " " * 1_000_000
        + "]\n"
    )
    found = run_bounded(
        "import sys\nfrom pathlib import Path\n"
        "from rolecall.core.importers.aws_config import credential_file_profiles\n"
        "print(sorted(credential_file_profiles(Path(sys.argv[1])).items()))",
        str(path),
    )
    assert found.strip() == "[('ci', True), ('x', False)]"
