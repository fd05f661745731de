"""A role whose source profile is its own IAM Identity Center profile: no AssumeRole call."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.aws import FakeSts
from tests.conftest import World

START_URL = "https://example.awsapps.com/start"
EXPIRES = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


@pytest.fixture
def portal() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            query["token"] = self.headers.get("x-amz-sso_bearer_token", "")
            seen.append(query)
            body = json.dumps(
                {
                    "roleCredentials": {
                        "accessKeyId": "ASIASSOPORTALKEY0001",
                        "secretAccessKey": "sso-secret",
                        "sessionToken": "sso-token",
                        "expiration": int(EXPIRES.timestamp() * 1000),
                    }
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_an_sso_permission_set_role_uses_the_profile_credentials(
    tmp_path: Path, fake_sts: FakeSts, portal: tuple[str, list[dict[str, str]]]
) -> None:
    # A real process: botocore fixes its SSO token cache dir (~/.aws/sso/cache) when it is
    # first imported, so only a fresh interpreter sees this test's HOME.
    portal_url, seen = portal
    catalogue = tmp_path / "accounts.toml"
    catalogue.write_text(
        'version = 1\n[[accounts]]\nname = "lake"\nid = "333333333333"\nregion = "eu-west-1"\n'
        '[[accounts.roles]]\nname = "AdministratorAccess"\nsource_profile = "lake-admin"\n'
        '[[accounts.roles]]\nname = "Reader"\nvia = "lake/AdministratorAccess"\n'
    )
    world = World(tmp_path, fake_sts.url, catalogue)
    Path(world.env["AWS_CONFIG_FILE"]).write_text(
        "[profile lake-admin]\n"
        f"sso_start_url = {START_URL}\n"
        "sso_region = eu-west-1\n"
        "sso_account_id = 333333333333\n"
        "sso_role_name = AdministratorAccess\n"
    )
    cache = Path(world.env["HOME"]) / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    token_file = cache / (hashlib.sha1(START_URL.encode()).hexdigest() + ".json")
    token_file.write_text(
        json.dumps(
            {
                "startUrl": START_URL,
                "region": "eu-west-1",
                "accessToken": "portal-token",
                "expiresAt": "2099-01-01T00:00:00Z",
            }
        )
    )
    world.env["AWS_ENDPOINT_URL_SSO"] = portal_url
    result = world.run("env", "lake/AdministratorAccess", "--format", "json")
    assert result.returncode == 0, result.stderr
    variables = json.loads(result.stdout)["set"]
    assert fake_sts.calls() == [], "no AssumeRole for the permission set itself"
    assert seen[0]["account_id"] == "333333333333"
    assert seen[0]["role_name"] == "AdministratorAccess"
    assert seen[0]["token"] == "portal-token"
    assert variables["AWS_ACCESS_KEY_ID"] == "ASIASSOPORTALKEY0001"
    assert variables["AWS_CREDENTIAL_EXPIRATION"] == EXPIRES.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert variables["ROLECALL_ASSUMED_ROLE_ARN"] == "arn:aws:iam::000000000000:user/alice"
    chained = world.run("env", "lake/Reader", "--format", "json")
    assert chained.returncode == 0, chained.stderr
    (call,) = fake_sts.calls()
    assert call.access_key_id == "ASIASSOPORTALKEY0001", "the chain starts from the SSO session"
