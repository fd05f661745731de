"""`rolecall import` as real processes: the aws-config corpus, Organizations against moto's
server (250 accounts), and IAM Identity Center against a local portal endpoint (moto has none).

This file also holds the two loopback endpoints moto lacks, used by the unit tests too: the
SSO portal API (`FakePortal`) and an Organizations endpoint that can deny, throttle and send
empty pages (`FakeOrganizations`).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import tomllib
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.aws import moto_reset, write_aws_config
from tests.conftest import isolated_env

CORPUS = Path(__file__).resolve().parent.parent / "data" / "aws-configs"
CANARY_CREDENTIALS = CORPUS / "credentials"
TOKEN = "sso-portal-access-token-SECRET-4f1d"
"""The cached SSO access token: a secret that must never be printed."""
START_URL = "https://corp.awsapps.com/start"


# ---------------------------------------------------------------------------------------------
# Loopback endpoints


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def _pages(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    """Pages of `size` with an empty page between every two (services may send those)."""
    if token and token.startswith("e"):
        return [], "p" + token[1:]
    start = int(token[1:]) if token else 0
    end = start + size
    return items[start:end], (f"e{end}" if end < len(items) else None)


@dataclass
class FakePortal:
    """The IAM Identity Center portal API: ListAccounts and ListAccountRoles, paginated.

    `mode`: "ok", "unauthorized" (401), "throttled" (429 always) or "throttle-once".
    """

    accounts: dict[str, tuple[str, list[str]]]
    """account id → (name, role names)."""
    page: int = 2
    mode: str = "ok"
    requests: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    """(path, query, bearer token) of every request."""

    def __post_init__(self) -> None:
        portal = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                bearer = self.headers.get("x-amz-sso_bearer_token", "")
                with lock:
                    portal.requests.append((url.path, query, bearer))
                    mode = portal.mode
                    if mode == "throttle-once":
                        portal.mode = "ok"
                if mode in ("throttled", "throttle-once"):
                    return self.error(429, "TooManyRequestsException", "Rate exceeded")
                if mode == "unauthorized" or bearer != TOKEN:
                    return self.error(401, "UnauthorizedException", "Session token not found")
                size = min(int(query.get("max_result", 100)), portal.page)
                if url.path == "/assignment/accounts":
                    items = [
                        {"accountId": i, "accountName": n, "emailAddress": f"{i}@example.com"}
                        for i, (n, _) in portal.accounts.items()
                    ]
                    page, token = _pages(items, query.get("next_token"), size)
                    return self.json({"accountList": page, "nextToken": token})
                if url.path == "/assignment/roles":
                    account = query.get("account_id", "")
                    names = portal.accounts.get(account, ("", []))[1]
                    roles = [{"roleName": r, "accountId": account} for r in names]
                    page, token = _pages(roles, query.get("next_token"), size)
                    return self.json({"roleList": page, "nextToken": token})
                return self.error(404, "ResourceNotFoundException", "no such path")

            def json(self, document: dict[str, Any]) -> None:
                body = json.dumps({k: v for k, v in document.items() if v is not None}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def error(self, status: int, code: str, message: str) -> None:
                body = json.dumps({"message": message}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-amzn-ErrorType", code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class FakeOrganizations:
    """An Organizations endpoint (JSON 1.1) for what moto cannot do: deny, throttle, send
    empty pages and accounts whose retired `Status` disagrees with `State`."""

    accounts: list[dict[str, Any]]
    management: str = "000000000001"
    mode: str = "ok"
    """"ok", "denied" (ListAccounts refused), "throttled" or "no-ou" (OU calls refused)."""
    page_sizes: list[int] = field(default_factory=list)
    """MaxResults of every ListAccounts request."""
    tokens: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                if fake.mode == "throttled":
                    return self.reply(400, {"__type": "TooManyRequestsException", "Message": "x"})
                if operation == "ListAccounts":
                    if fake.mode == "denied":
                        return self.reply(
                            400,
                            {
                                "__type": "AccessDeniedException",
                                "Message": "You don't have permissions to access this resource.",
                            },
                        )
                    fake.page_sizes.append(int(body.get("MaxResults", 0)))
                    fake.tokens.append(body.get("NextToken"))
                    size = int(body.get("MaxResults") or 20)
                    page, token = _pages(fake.accounts, body.get("NextToken"), size)
                    return self.reply(200, {"Accounts": page, "NextToken": token})
                if operation == "DescribeOrganization":
                    return self.reply(200, {"Organization": {"MasterAccountId": fake.management}})
                if fake.mode == "no-ou":
                    return self.reply(
                        400, {"__type": "AccessDeniedException", "Message": "not allowed"}
                    )
                if operation == "ListRoots":
                    return self.reply(200, {"Roots": [{"Id": "r-root", "Name": "Root"}]})
                return self.reply(200, {"OrganizationalUnits": [], "Accounts": []})

            def reply(self, status: int, document: dict[str, Any]) -> None:
                data = json.dumps({k: v for k, v in document.items() if v is not None}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def write_token(
    home: Path,
    key: str,
    *,
    expires_in: timedelta = timedelta(hours=8),
    start_url: str = START_URL,
    token: str = TOKEN,
) -> Path:
    """Cache an SSO token as `aws sso login` does: under sha1(session name or start URL)."""
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / (hashlib.sha1(key.encode()).hexdigest() + ".json")
    expires = datetime.now(UTC) + expires_in
    path.write_text(
        json.dumps(
            {
                "startUrl": start_url,
                "region": "eu-west-1",
                "accessToken": token,
                "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    )
    return path


def org_account(number: int, name: str, state: str = "ACTIVE", **extra: Any) -> dict[str, Any]:
    return {
        "Id": f"{number:012d}",
        "Arn": f"arn:aws:organizations::000000000001:account/o-x/{number:012d}",
        "Email": f"a{number}@example.com",
        "Name": name,
        "State": state,
        "JoinedMethod": "CREATED",
        "JoinedTimestamp": 1700000000 + number,
        **extra,
    }


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    fake = FakePortal(
        {
            "111111111111": ("Payments Prod", ["AdministratorAccess", "ReadOnlyAccess"]),
            "222222222222": ("Payments Dev", ["AdministratorAccess", "PowerUser", "ReadOnly"]),
            "333333333333": ("Data Lake", ["Analyst"]),
            "444444444444": ("Sandbox", []),
            "555555555555": ("Sandbox", ["AdministratorAccess"]),
        }
    )
    yield fake
    fake.close()


# ---------------------------------------------------------------------------------------------
# Running rolecall


def rolecall(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rolecall", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = isolated_env(tmp_path)
    environment["AWS_SHARED_CREDENTIALS_FILE"] = str(CANARY_CREDENTIALS)
    return environment


def no_leak(*texts: str) -> None:
    for text in texts:
        assert "canary" not in text.lower()
        assert TOKEN not in text
        assert "Traceback" not in text


# ---------------------------------------------------------------------------------------------
# aws-config


@pytest.mark.parametrize("config", sorted(CORPUS.glob("*.config")), ids=lambda p: p.stem)
def test_corpus_imports_passes_check_and_reimports_identically(
    env: dict[str, str], tmp_path: Path, config: Path
) -> None:
    out = tmp_path / "catalogue" / "accounts.toml"
    first = rolecall(env, "import", "aws-config", "--config", str(config), "-o", str(out))
    assert first.returncode == 0, first.stderr
    written = out.read_text()
    assert written == (CORPUS / f"{config.stem}.toml").read_text()
    check = rolecall(env, "check", str(out))
    assert check.returncode == 0, check.stdout
    again = rolecall(
        env, "import", "aws-config", "--config", str(config), "-o", str(out), "--merge"
    )
    assert again.returncode == 0, again.stderr
    assert out.read_text() == written
    assert "added 0 accounts, 0 roles" in again.stderr
    no_leak(first.stdout, first.stderr, again.stderr, written)


def test_config_comes_from_aws_config_file_and_goes_to_stdout(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["AWS_CONFIG_FILE"] = str(CORPUS / "chains.config")
    result = rolecall(env, "import", "aws-config")
    assert result.returncode == 0, result.stderr
    document = tomllib.loads(result.stdout)
    assert [a["name"] for a in document["accounts"]][:2] == ["audit", "data-lake"]
    assert result.stderr.startswith("rolecall: imported 7 roles in 5 accounts from ")
    no_leak(result.stdout, result.stderr)


def test_an_existing_file_is_never_overwritten(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "accounts.toml"
    out.write_text("version = 1\n")
    result = rolecall(
        env, "import", "aws-config", "--config", str(CORPUS / "chains.config"), "-o", str(out)
    )
    assert result.returncode == 2
    assert "already exists" in result.stderr and "--merge" in result.stderr
    assert out.read_text() == "version = 1\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--merge"], "--merge needs -o FILE"),
        (["--prune", "-o", "x.toml"], "--prune needs --merge"),
        (["--config", "/nonexistent/config"], "there is no AWS config file at"),
    ],
)
def test_bad_options_exit_2(env: dict[str, str], args: list[str], message: str) -> None:
    if "--config" not in args:
        args = [*args, "--config", str(CORPUS / "chains.config")]
    result = rolecall(env, "import", "aws-config", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_config_is_exit_2_without_echoing_its_lines(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile ok]\nregion = eu-west-1\n[profile pasted]\nwJalrXUtnFEMI-canary-secret\n"
    )
    result = rolecall(env, "import", "aws-config", "--config", str(config))
    assert result.returncode == 2
    assert "is not a valid AWS config file (line 4" in result.stderr
    no_leak(result.stdout, result.stderr)


def test_merge_keeps_edits_reports_and_prunes(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "config"
    original = (CORPUS / "chains.config").read_text()
    config.write_text(original)
    out = tmp_path / "accounts.toml"
    assert (
        rolecall(env, "import", "aws-config", "--config", str(config), "-o", str(out)).returncode
        == 0
    )
    # The user renames an account, shortens a duration and adds a role by hand ...
    edited = out.read_text().replace('"payments-dev', '"pay-dev')  # name and the via to it
    edited = edited.replace('duration = "8h"', 'duration = "2h"')
    edited += (
        '\n[[accounts]]\nname = "mine"\nid = "999999999999"\n\n[[accounts.roles]]\nname = "Hand"\n'
    )
    out.write_text(edited)
    # ... and the config loses the audit profile and gains a new one.
    config.write_text(
        original.split("[profile audit]")[0] + "[profile payments-dev-ops]\n"
        "role_arn = arn:aws:iam::222222222222:role/Ops\nsource_profile = identity\n"
    )
    base = ["import", "aws-config", "--config", str(config), "-o", str(out), "--merge"]
    merged = rolecall(env, *base)
    assert merged.returncode == 0, merged.stderr
    text = out.read_text()
    assert 'name = "pay-dev"' in text and 'duration = "2h"' in text and 'name = "Hand"' in text
    catalogue = tomllib.loads(text)
    pay_dev = next(a for a in catalogue["accounts"] if a["name"] == "pay-dev")
    assert [r["name"] for r in pay_dev["roles"]] == ["Developer", "ReadOnly", "Ops"]
    assert "added 0 accounts, 1 role: pay-dev/Ops" in merged.stderr
    assert 'pay-dev/Developer: duration is "2h" here, "8h" in the source' in merged.stderr
    assert "not in the source (--merge --prune removes them): audit/Auditor, mine/Hand" in (
        merged.stderr
    )
    # A dry run shows the prune and writes nothing.
    dry = rolecall(env, *base, "--prune", "--dry-run")
    assert dry.returncode == 0
    assert "dry run" in dry.stderr and "audit/Auditor" not in dry.stdout
    assert out.read_text() == text
    # The prune itself.
    pruned = rolecall(env, *base, "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert "removed, no longer in the source: audit/Auditor, mine/Hand" in pruned.stderr
    assert pruned.stderr.count("audit") == 1
    assert rolecall(env, "check", str(out)).returncode == 0
    assert out.read_text() == dry.stdout


def test_merge_into_a_commented_catalogue_needs_consent(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "accounts.toml"
    out.write_text('# my accounts\nversion = 1\n\n[[accounts]]\nname = "x"\nid = "000000000009"\n')
    args = ["import", "aws-config", "--config", str(CORPUS / "chains.config"), "-o", str(out)]
    refused = rolecall(env, *args, "--merge")
    assert refused.returncode == 2
    assert "has comments" in refused.stderr and "--drop-comments" in refused.stderr
    merged = rolecall(env, *args, "--merge", "--drop-comments")
    assert merged.returncode == 0, merged.stderr
    assert "#" not in out.read_text()
    assert "rewritten in rolecall's layout" in merged.stderr


# ---------------------------------------------------------------------------------------------
# organizations


def _organization(url: str, accounts: int) -> dict[str, list[str]]:
    """An organization on moto with `accounts` members, OUs, odd names and closed accounts."""
    import boto3

    client = boto3.client(
        "organizations",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="example",
    )
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    workloads = client.create_organizational_unit(ParentId=root, Name="Workloads")
    prod = client.create_organizational_unit(
        ParentId=workloads["OrganizationalUnit"]["Id"], Name="Prod"
    )["OrganizationalUnit"]["Id"]
    names = ["Sandbox", "Sandbox", "Zürich Prod", "data lake (EU)", "---", "Payments Prod"]
    ids: dict[str, list[str]] = {"all": [], "prod": [], "closed": []}
    for i in range(accounts):
        name = names[i] if i < len(names) else f"Team {i:03d}"
        status = client.create_account(Email=f"a{i}@example.com", AccountName=name)
        ids["all"].append(status["CreateAccountStatus"]["AccountId"])
    for account in ids["all"][2:12]:
        client.move_account(AccountId=account, SourceParentId=root, DestinationParentId=prod)
        ids["prod"].append(account)
    for account in ids["all"][-3:]:
        client.close_account(AccountId=account)
        ids["closed"].append(account)
    return ids


def test_organizations_250_accounts_from_moto(
    env: dict[str, str], tmp_path: Path, moto_url: str
) -> None:
    moto_reset(moto_url)
    ids = _organization(moto_url, 250)
    write_aws_config(Path(env["AWS_CONFIG_FILE"]))
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "none")
    env["AWS_ENDPOINT_URL_ORGANIZATIONS"] = moto_url
    out = tmp_path / "org.toml"
    args = ["import", "organizations", "--source-profile", "identity", "-o", str(out)]
    result = rolecall(env, *args)
    assert result.returncode == 0, result.stderr
    catalogue = tomllib.loads(out.read_text())
    accounts = {a["id"]: a for a in catalogue["accounts"]}
    # 250 members, 3 closed; the management account has no OrganizationAccountAccessRole.
    assert len(accounts) == 247
    assert not set(ids["closed"]) & set(accounts)
    assert "it is the management account" in result.stderr
    assert result.stderr.count("its State is SUSPENDED, not ACTIVE") == 3
    names = [a["name"] for a in catalogue["accounts"]]
    assert len({n.lower() for n in names}) == len(names)
    first, second = sorted(ids["all"][:2])  # two "Sandbox" accounts: the lower id wins
    assert accounts[first]["name"] == "sandbox"
    assert accounts[second]["name"] == f"sandbox-{second[-4:]}"
    assert accounts[ids["all"][2]]["name"] == "zurich-prod"
    assert accounts[ids["all"][3]]["name"] == "data-lake-eu"
    assert accounts[ids["all"][4]]["name"] == f"account-{ids['all'][4]}"
    assert accounts[ids["all"][3]]["description"] == "data lake (EU)"
    for account in ids["prod"]:
        assert accounts[account]["tags"] == ["workloads", "prod"]
    assert "tags" not in accounts[ids["all"][20]]
    role = accounts[ids["all"][30]]["roles"]
    assert role == [{"name": "OrganizationAccountAccessRole", "source_profile": "identity"}]
    check = rolecall(env, "check", str(out))
    assert check.returncode == 0, check.stdout
    assert "OK, 247 accounts, 247 roles" in check.stdout
    written = out.read_bytes()
    again = rolecall(env, *args, "--merge")
    assert again.returncode == 0, again.stderr
    assert out.read_bytes() == written
    assert "kept 247 roles" in again.stderr


def test_organizations_denied_is_explained(env: dict[str, str]) -> None:
    fake = FakeOrganizations([org_account(2, "a")], mode="denied")
    try:
        env.update(
            AWS_ENDPOINT_URL_ORGANIZATIONS=fake.url,
            AWS_ACCESS_KEY_ID="AKIAEXAMPLE",
            AWS_SECRET_ACCESS_KEY="example",
        )
        result = rolecall(env, "import", "organizations")
    finally:
        fake.close()
    assert result.returncode == 1
    assert "must be run from the management account or a delegated administrator" in (result.stderr)
    assert "hint: pass --source-profile" in result.stderr
    assert "Traceback" not in result.stderr


def test_organizations_refuses_a_bad_role_name_before_calling_aws(env: dict[str, str]) -> None:
    result = rolecall(env, "import", "organizations", "--role-name", "no spaces please")
    assert result.returncode == 2
    assert "--role-name 'no spaces please'" in result.stderr


# ---------------------------------------------------------------------------------------------
# identity-center


def _sso_env(env: dict[str, str], portal: FakePortal) -> dict[str, str]:
    Path(env["AWS_CONFIG_FILE"]).write_text(
        "[sso-session corp]\n"
        f"sso_start_url = {START_URL}/\n"
        "sso_region = eu-west-1\n"
        "[profile payments-admin]\n"
        "sso_session = corp\n"
        "sso_account_id = 111111111111\n"
        "sso_role_name = AdministratorAccess\n"
    )
    env["AWS_ENDPOINT_URL_SSO"] = portal.url
    return env


def test_identity_center_writes_catalogue_and_profiles(
    env: dict[str, str], tmp_path: Path, portal: FakePortal
) -> None:
    _sso_env(env, portal)
    write_token(Path(env["HOME"]), "corp")
    out = tmp_path / "sso.toml"
    profiles = tmp_path / "sso-profiles.ini"
    args = ["import", "identity-center", "--start-url", START_URL, "--region", "eu-west-1"]
    args += ["-o", str(out), "--write-profiles", str(profiles)]
    result = rolecall(env, *args)
    assert result.returncode == 0, result.stderr
    catalogue = tomllib.loads(out.read_text())
    names = {a["name"]: a for a in catalogue["accounts"]}
    assert sorted(names) == ["data-lake", "payments-dev", "payments-prod", "sandbox"]
    admin = names["payments-prod"]["roles"][0]
    assert admin == {
        "name": "AdministratorAccess",
        "source_profile": "payments-admin",
        "tags": ["sso"],
    }
    assert names["sandbox"]["id"] == "555555555555"  # the empty Sandbox has no role to offer
    assert names["payments-dev"]["description"] == "Payments Dev"
    written = profiles.read_text()
    assert "[sso-session" not in written  # the config already has [sso-session corp]
    assert "[profile payments-admin]" not in written
    assert "[profile payments-prod.ReadOnlyAccess]\nsso_session = corp\n" in written
    assert written.count("[profile ") == 6
    assert f"cat {profiles} >> {env['AWS_CONFIG_FILE']}" in result.stderr
    assert rolecall(env, "check", str(out)).returncode == 0
    # Every request carried the token; the pages were followed.
    assert {bearer for _, _, bearer in portal.requests} == {TOKEN}
    assert portal.paths().count("/assignment/accounts") == 5
    catalogue_text = out.read_text()
    again = rolecall(env, *args, "--merge")
    assert again.returncode == 0, again.stderr
    assert out.read_text() == catalogue_text
    assert profiles.read_text() == written
    no_leak(result.stdout, result.stderr, again.stderr, catalogue_text, written)


def test_identity_center_without_write_profiles_says_what_to_do(
    env: dict[str, str], portal: FakePortal
) -> None:
    _sso_env(env, portal)
    write_token(Path(env["HOME"]), "corp")
    result = rolecall(
        env, "import", "identity-center", "--start-url", START_URL, "--region", "eu-west-1"
    )
    assert result.returncode == 0, result.stderr
    assert 'source_profile = "payments-dev.PowerUser"' in result.stdout
    assert "6 SSO profiles that the catalogue names are not in your AWS config" in result.stderr
    assert "--write-profiles FILE" in result.stderr
    no_leak(result.stdout, result.stderr)


def test_identity_center_expired_token_says_run_aws_sso_login(
    env: dict[str, str], portal: FakePortal
) -> None:
    _sso_env(env, portal)
    write_token(Path(env["HOME"]), "corp", expires_in=timedelta(minutes=-5))
    result = rolecall(
        env, "import", "identity-center", "--start-url", START_URL, "--region", "eu-west-1"
    )
    assert result.returncode == 1
    assert "token for https://corp.awsapps.com/start expired at" in result.stderr
    assert "hint: run `aws sso login --sso-session corp`" in result.stderr
    assert portal.requests == []
    no_leak(result.stdout, result.stderr)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("unauthorized", "refused the cached token"),
        ("throttled", "IAM Identity Center is throttling requests"),
    ],
)
def test_identity_center_refusals_are_exit_1(
    env: dict[str, str], portal: FakePortal, mode: str, message: str
) -> None:
    _sso_env(env, portal)
    write_token(Path(env["HOME"]), "corp")
    portal.mode = mode
    result = rolecall(
        env, "import", "identity-center", "--start-url", START_URL, "--region", "eu-west-1"
    )
    assert result.returncode == 1
    assert message in result.stderr
    no_leak(result.stdout, result.stderr)


def test_write_profiles_never_touches_the_aws_config(
    env: dict[str, str], portal: FakePortal
) -> None:
    _sso_env(env, portal)
    before = Path(env["AWS_CONFIG_FILE"]).read_text()
    result = rolecall(
        env,
        "import",
        "identity-center",
        "--start-url",
        START_URL,
        "--region",
        "eu-west-1",
        "--write-profiles",
        env["AWS_CONFIG_FILE"],
    )
    assert result.returncode == 2
    assert "rolecall never edits those" in result.stderr
    assert Path(env["AWS_CONFIG_FILE"]).read_text() == before
