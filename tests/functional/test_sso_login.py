"""IAM Identity Center sign-in as real processes: one browser tab for many callers, silent
refresh, the device code under SSH, `rolecall login`, and the failures as sentences.

sso-oidc and the portal are `tests.sso_fake`; STS is moto (it takes the portal's role
credentials for the AssumeRole that follows). Every run is a fresh interpreter, so botocore's
SSO cache directory is this test's `~/.aws/sso/cache`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.aws import RecordingProxy, free_port
from tests.conftest import World
from tests.sso_fake import START_URL, FakeIdentityCenter, browser_opens, fake_browser

CATALOGUE = """version = 1
[[accounts]]
name = "sandbox"
id = "222222222222"
region = "eu-west-1"
  [[accounts.roles]]
  name = "Deployer"
  source_profile = "dev-sso"
  [[accounts.roles]]
  name = "Auditor"
  source_profile = "dev-sso"
"""

AWS_CONFIG = """[profile dev-sso]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = PowerUser
region = eu-west-1

[sso-session corp]
sso_start_url = {start_url}
sso_region = eu-west-1
sso_registration_scopes = sso:account:access
"""

TOKEN_KEY = hashlib.sha1(b"corp").hexdigest()


@pytest.fixture
def idc() -> Iterator[FakeIdentityCenter]:
    fake = FakeIdentityCenter()
    yield fake
    fake.close()


class SsoWorld(World):
    """A World whose source profile signs in with the fake IAM Identity Center."""

    def __init__(self, tmp: Path, sts_url: str, idc: FakeIdentityCenter) -> None:
        catalogue = tmp / "accounts.toml"
        catalogue.write_text(CATALOGUE)
        super().__init__(tmp, sts_url, catalogue)
        self.idc = idc
        self.write_config(START_URL)
        self.browser, self.browser_log = fake_browser(tmp)
        for variable in ("SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT", "WAYLAND_DISPLAY"):
            self.env.pop(variable, None)
        self.env.update(
            AWS_ENDPOINT_URL_SSO_OIDC=idc.url,
            AWS_ENDPOINT_URL_SSO=idc.url,
            DISPLAY=":0",
            BROWSER=str(self.browser),
        )
        self.cache = Path(self.env["HOME"]) / ".aws" / "sso" / "cache"

    def write_config(self, start_url: str) -> None:
        Path(self.env["AWS_CONFIG_FILE"]).write_text(AWS_CONFIG.format(start_url=start_url))

    @property
    def token_file(self) -> Path:
        return self.cache / f"{TOKEN_KEY}.json"

    def token(self) -> dict[str, str]:
        document: dict[str, str] = json.loads(self.token_file.read_text())
        return document

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "rolecall", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**self.env, **(env or {})},
            start_new_session=True,
        )


@pytest.fixture
def sso_world(tmp_path: Path, sts: RecordingProxy, idc: FakeIdentityCenter) -> SsoWorld:
    return SsoWorld(tmp_path, sts.url, idc)


def credentials_over_ssh(sso_world: SsoWorld, idc: FakeIdentityCenter) -> str:
    """`credential-process sandbox/Deployer` under SSH: the device code is printed on stderr,
    approved at the fake, and the call completes; its stdout."""
    idc.slow_down_once = False
    process = sso_world.start(
        "credential-process", "sandbox/Deployer", env={"SSH_CONNECTION": "10.0.0.1 22 10.0.0.2 22"}
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    assert "enter the code" in line, line
    code = line.rsplit(" ", 1)[-1].strip()
    urllib.request.urlopen(f"{idc.url}/device?user_code={code}", timeout=5).read()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out


def assert_sentence(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("rolecall: "), result.stderr
    assert "\n  hint: " in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_concurrent_callers_share_one_browser_sign_in(
    sso_world: SsoWorld, idc: FakeIdentityCenter, sts: RecordingProxy
) -> None:
    targets = ["sandbox/Deployer", "sandbox/Auditor"] * 2
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda t: sso_world.run("credential-process", t), targets))
    for result in results:
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["Version"] == 1
    assert browser_opens(sso_world.browser_log) == 1, "one tab for four callers"
    assert idc.counts["authorize"] == 1
    assert idc.counts["grant:authorization_code"] == 1
    assert idc.counts["register"] == 1
    assert "callback Signed in" in sso_world.browser_log.read_text()
    assert sum("opening the browser" in r.stderr for r in results) == 1
    assume_calls = [r for r in sts.requests if r.action == "AssumeRole"]
    assert len(assume_calls) == 2, "one AssumeRole per role (the session cache)"
    assert all(r.access_key_id.startswith("ASIA") for r in assume_calls)

    # The token is where the AWS CLI and botocore read it, private, in their format.
    token = sso_world.token()
    assert sso_world.token_file.stat().st_mode & 0o777 == 0o600
    assert token["startUrl"] == START_URL and token["region"] == "eu-west-1"
    assert token["accessToken"] in idc.tokens
    assert token["refreshToken"] in idc.refresh_tokens
    datetime.strptime(token["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    datetime.strptime(token["registrationExpiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    from botocore.utils import JSONFileCache, SSOTokenLoader

    loaded = SSOTokenLoader(JSONFileCache(str(sso_world.cache)))(START_URL, session_name="corp")
    assert loaded["accessToken"] == token["accessToken"]

    # The registration is cached under botocore's key and reused by the next sign-in.
    key = hashlib.sha1(
        json.dumps(
            {
                "region": "eu-west-1",
                "scopes": ["sso:account:access"],
                "session_name": "corp",
                "startUrl": START_URL,
                "tool": "botocore",
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    registration = json.loads((sso_world.cache / f"{key}.json").read_text())
    assert registration["clientId"] == token["clientId"]
    assert "authorization_code" in registration["grantTypes"]

    # boto3 itself, through the profile, uses the token rolecall wrote.
    probe = (
        "import boto3; c = boto3.Session(profile_name='dev-sso').get_credentials();"
        "print(c.get_frozen_credentials().access_key)"
    )
    before = len(idc.portal_tokens)
    out = subprocess.run(
        [sys.executable, "-c", probe], env=sso_world.env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ASIA")
    assert idc.portal_tokens[before:] == [token["accessToken"]]


def test_an_expired_token_is_refreshed_without_a_browser(
    sso_world: SsoWorld, idc: FakeIdentityCenter
) -> None:
    issued = idc.issue()
    sso_world.cache.mkdir(parents=True, mode=0o755)  # as the AWS CLI leaves it
    sso_world.token_file.write_text(
        json.dumps(
            {
                "startUrl": START_URL,
                "region": "eu-west-1",
                "accessToken": "at-expired",
                "expiresAt": "2020-01-01T00:00:00Z",
                "clientId": "client-9",
                "clientSecret": "client-secret-9",
                "registrationExpiresAt": "2099-01-01T00:00:00Z",
                "refreshToken": issued["refreshToken"],
            }
        )
    )
    result = sso_world.run("env", "sandbox/Deployer", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert browser_opens(sso_world.browser_log) == 0
    assert idc.counts["grant:refresh_token"] == 1
    assert idc.counts["authorize"] == 0
    token = sso_world.token()
    assert token["accessToken"] in idc.tokens and token["clientId"] == "client-9"
    assert sso_world.token_file.stat().st_mode & 0o777 == 0o600
    assert sso_world.cache.stat().st_mode & 0o777 == 0o700, "the token dir is made private"
    assert "sign" not in result.stderr


def test_under_ssh_the_device_code_is_printed_and_the_call_completes(
    sso_world: SsoWorld, idc: FakeIdentityCenter
) -> None:
    out = credentials_over_ssh(sso_world, idc)
    assert json.loads(out)["Version"] == 1
    assert browser_opens(sso_world.browser_log) == 0
    assert idc.counts["grant:urn:ietf:params:oauth:grant-type:device_code"] >= 1
    assert sso_world.token()["accessToken"] in idc.tokens


def test_login_with_the_browser(sso_world: SsoWorld, idc: FakeIdentityCenter) -> None:
    result = sso_world.run("login", "corp")
    assert result.returncode == 0, result.stderr
    assert 'signed in to IAM Identity Center (sso-session "corp")' in result.stderr
    assert browser_opens(sso_world.browser_log) == 1
    assert sso_world.token()["accessToken"] in idc.tokens
    again = sso_world.run("login", "--profile", "dev-sso")
    assert again.returncode == 0, again.stderr
    assert browser_opens(sso_world.browser_log) == 2, "login always signs in"
    assert idc.counts["register"] == 1, "the registration is reused"


def test_login_with_a_device_code(sso_world: SsoWorld, idc: FakeIdentityCenter) -> None:
    process = sso_world.start("login", "--use-device-code")
    assert process.stderr is not None
    line = process.stderr.readline()
    assert f"open {idc.url}/device and enter the code" in line, line
    code = line.rsplit(" ", 1)[-1].strip()
    assert idc.approve_device(code)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "signed in" in err
    assert browser_opens(sso_world.browser_log) == 0
    assert sso_world.token_file.stat().st_mode & 0o777 == 0o600


def test_a_callback_with_a_wrong_state_is_refused(
    sso_world: SsoWorld, idc: FakeIdentityCenter
) -> None:
    result = sso_world.run("login", "corp", env={"FAKE_BROWSER_TAMPER": "1"})
    assert result.returncode == 0, result.stderr
    log = sso_world.browser_log.read_text()
    assert "forged 400" in log, log
    assert "callback Signed in" in log
    assert idc.counts["grant:authorization_code"] == 1


def test_a_closed_browser_times_out(sso_world: SsoWorld, idc: FakeIdentityCenter) -> None:
    idc.authorize_mode = "ignore"
    result = sso_world.run(
        "credential-process", "sandbox/Deployer", env={"ROLECALL_SSO_TIMEOUT": "2"}
    )
    assert_sentence(result, "did not finish within 2 s", "rolecall login corp")
    assert not sso_world.token_file.exists()


def test_denied_in_the_browser(sso_world: SsoWorld, idc: FakeIdentityCenter) -> None:
    idc.authorize_mode = "deny"
    assert_sentence(sso_world.run("login", "corp"), "was denied in the browser")


def test_denied_device_code(sso_world: SsoWorld, idc: FakeIdentityCenter) -> None:
    idc.device_mode = "deny"
    result = sso_world.run("login", "corp", "--use-device-code")
    assert_sentence(result, "denied the sign-in")


def test_expired_device_code(sso_world: SsoWorld, idc: FakeIdentityCenter) -> None:
    idc.device_mode = "expire"
    result = sso_world.run("login", "corp", "--use-device-code")
    assert_sentence(result, "device code", "expired")


@pytest.mark.parametrize("flow", [(), ("--use-device-code",)])
def test_a_wrong_start_url_or_region(sso_world: SsoWorld, flow: tuple[str, ...]) -> None:
    sso_world.write_config("https://wrong.awsapps.com/start")
    result = sso_world.run("login", "corp", *flow)
    assert_sentence(result, "refused the sign-in", "check sso_start_url and sso_region")


def test_an_unreachable_endpoint(sso_world: SsoWorld) -> None:
    port = free_port()
    result = sso_world.run(
        "env", "sandbox/Deployer", env={"AWS_ENDPOINT_URL_SSO_OIDC": f"http://127.0.0.1:{port}"}
    )
    assert_sentence(result, "cannot reach IAM Identity Center", f"127.0.0.1:{port}")


def test_without_a_display_the_device_flow_is_used(
    sso_world: SsoWorld, idc: FakeIdentityCenter
) -> None:
    env = {k: v for k, v in sso_world.env.items() if k != "DISPLAY"}
    process = subprocess.Popen(
        [sys.executable, "-m", "rolecall", "login", "corp"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    if not sys.platform.startswith("linux"):  # pragma: no cover - the rule is Linux's
        process.kill()
        return
    assert "enter the code" in line, line
    idc.approve_device(line.rsplit(" ", 1)[-1].strip())
    assert process.wait(timeout=60) == 0


def test_a_fresh_token_makes_no_sign_in(sso_world: SsoWorld, idc: FakeIdentityCenter) -> None:
    issued = idc.issue()
    sso_world.cache.mkdir(parents=True)
    expires = datetime.now(UTC) + timedelta(hours=2)
    sso_world.token_file.write_text(
        json.dumps(
            {
                "startUrl": START_URL,
                "region": "eu-west-1",
                "accessToken": issued["accessToken"],
                "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    )
    os.chmod(sso_world.token_file, 0o600)
    started = time.monotonic()
    result = sso_world.run("env", "sandbox/Deployer")
    assert result.returncode == 0, result.stderr
    assert idc.counts["register"] == idc.counts["grant:refresh_token"] == 0
    assert browser_opens(sso_world.browser_log) == 0
    assert time.monotonic() - started < 30


LEGACY_CONFIG = """[profile dev-sso]
sso_start_url = {start_url}
sso_region = eu-west-1
sso_account_id = 111111111111
sso_role_name = PowerUser
region = eu-west-1
"""


def test_a_legacy_sso_start_url_profile_signs_in_too(
    sso_world: SsoWorld, idc: FakeIdentityCenter
) -> None:
    # Profiles from before sso-session: the token is cached under the start URL's sha1, where
    # the AWS CLI and botocore's legacy provider look for it.
    Path(sso_world.env["AWS_CONFIG_FILE"]).write_text(LEGACY_CONFIG.format(start_url=START_URL))
    out = credentials_over_ssh(sso_world, idc)
    assert json.loads(out)["Version"] == 1
    legacy = sso_world.cache / f"{hashlib.sha1(START_URL.encode()).hexdigest()}.json"
    assert json.loads(legacy.read_text())["accessToken"] in idc.tokens
    assert legacy.stat().st_mode & 0o777 == 0o600
