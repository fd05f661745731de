"""The IAM Identity Center sign-in engine in-process, against the loopback fake."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rolecall.core.errors import UsageError
from rolecall.core.lifecycle.sso_callback import CallbackServer
from rolecall.core.lifecycle.sso_signin import (
    SignInPrompt,
    SsoSignIn,
    SsoSignInRequired,
    wants_device_code,
)
from rolecall.core.lifecycle.sso_token import (
    SsoSource,
    profile_source,
    session_source,
)
from tests.sso_fake import START_URL, FakeIdentityCenter

CORP = SsoSource(START_URL, "eu-west-1", "corp", ("sso:account:access",))
LEGACY = SsoSource(START_URL, "eu-west-1", None, None, "old")


@pytest.fixture
def idc(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIdentityCenter]:
    fake = FakeIdentityCenter()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", fake.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", fake.url)
    yield fake
    fake.close()


def follow(url: str, template: Sequence[str] | None, env: Mapping[str, str]) -> None:
    """A browser in-process: /authorize, then its redirect to the loopback callback."""
    urllib.request.urlopen(url, timeout=10).read()


def engine(tmp_path: Path, **kwargs: Any) -> tuple[SsoSignIn, list[SignInPrompt], list[float]]:
    prompts: list[SignInPrompt] = []
    sleeps: list[float] = []
    env = {"HOME": str(tmp_path / "home"), "DISPLAY": ":0"}
    options: dict[str, Any] = {
        "notify": prompts.append,
        "open_browser": follow,
        "sleep": sleeps.append,
    }
    options.update(kwargs)
    return SsoSignIn(env, tmp_path / "locks", **options), prompts, sleeps


def test_browser_flow_writes_the_token_and_reuses_the_registration(
    tmp_path: Path, idc: FakeIdentityCenter
) -> None:
    sso, prompts, _ = engine(tmp_path)
    assert sso.ensure(CORP) is True
    (prompt,) = prompts
    assert prompt.flow == "browser" and prompt.url.startswith(f"{idc.url}/authorize?")
    assert (
        "code_challenge_method=S256" in prompt.url and "scopes=sso%3Aaccount%3Aaccess" in prompt.url
    )
    token = sso.tokens.read(CORP.cache_key)
    assert token is not None and token["accessToken"] in idc.tokens
    assert sso.ensure(CORP) is False, "fresh: nothing to do"
    sso.login(CORP)
    assert idc.counts["register"] == 1 and idc.counts["authorize"] == 2


def test_legacy_profile_token_is_keyed_by_the_start_url(
    tmp_path: Path, idc: FakeIdentityCenter
) -> None:
    sso, _, _ = engine(tmp_path)
    sso.ensure(LEGACY)
    path = sso.tokens.directory / (hashlib.sha1(START_URL.encode()).hexdigest() + ".json")
    assert json.loads(path.read_text())["startUrl"] == START_URL


def test_device_flow_polls_and_slows_down(tmp_path: Path, idc: FakeIdentityCenter) -> None:
    idc.slow_down_once = True

    def notify(prompt: SignInPrompt) -> None:
        prompts.append(prompt)
        assert prompt.user_code

    prompts: list[SignInPrompt] = []
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            assert prompts[0].user_code is not None
            idc.approve_device(prompts[0].user_code)

    sso = SsoSignIn(
        {"HOME": str(tmp_path)},
        tmp_path / "locks",
        notify=notify,
        use_device_code=True,
        sleep=sleep,
    )
    sso.ensure(CORP)
    assert sleeps == [1.0, 6.0], "interval 1 s, +5 s after SlowDown"
    assert prompts[0].url == f"{idc.url}/device"
    assert prompts[0].url_with_code and str(prompts[0].user_code) in prompts[0].url_with_code


def test_without_a_callback_it_refreshes_but_never_signs_in(
    tmp_path: Path, idc: FakeIdentityCenter
) -> None:
    sso, _, _ = engine(tmp_path, notify=None)
    with pytest.raises(SsoSignInRequired) as raised:
        sso.ensure(CORP)
    assert raised.value.hint == "run `rolecall login corp`"
    issued = idc.issue()
    sso.tokens.write(
        CORP.cache_key,
        {
            "startUrl": START_URL,
            "region": "eu-west-1",
            "accessToken": "old",
            "expiresAt": "2020-01-01T00:00:00Z",
            "clientId": "c",
            "clientSecret": "s",
            "registrationExpiresAt": "2099-01-01T00:00:00Z",
            "refreshToken": issued["refreshToken"],
        },
    )
    assert sso.ensure(CORP) is True
    assert idc.counts["grant:refresh_token"] == 1 and idc.counts["authorize"] == 0


def test_an_expired_registration_is_replaced(tmp_path: Path, idc: FakeIdentityCenter) -> None:
    sso, _, _ = engine(tmp_path)
    old = datetime.now(UTC) + timedelta(minutes=5)
    sso.tokens.write(
        CORP.registration_key,
        {
            "clientId": "stale",
            "clientSecret": "s",
            "expiresAt": old.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "grantTypes": ["authorization_code", "refresh_token"],
        },
    )
    sso.ensure(CORP)
    assert idc.counts["register"] == 1
    token = sso.tokens.read(CORP.cache_key)
    assert token is not None and token["clientId"] != "stale"


def test_the_callback_refuses_a_wrong_state() -> None:
    server = CallbackServer("right-state")
    base = server.redirect_uri
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}?code=c&state=wrong", timeout=5)
    assert refused.value.code == 400
    page = urllib.request.urlopen(f"{base}?code=c&state=right-state", timeout=5).read()
    assert b"Signed in" in page
    result = server.wait(1)
    assert result is not None and result.code == "c" and server.refused == 1


def test_the_callback_reports_an_error() -> None:
    server = CallbackServer("s")
    page = urllib.request.urlopen(
        f"{server.redirect_uri}?error=access_denied&error_description=%3Cb%3Eno&state=s",
        timeout=5,
    ).read()
    assert b"Sign-in failed" in page and b"&lt;b&gt;no" in page
    result = server.wait(1)
    assert result is not None and result.error == "access_denied" and result.code is None


def test_wants_device_code() -> None:
    assert wants_device_code({"SSH_CONNECTION": "x"}, "darwin")
    assert wants_device_code({"SSH_TTY": "/dev/pts/1", "DISPLAY": ":0"}, "linux")
    assert wants_device_code({}, "linux")
    assert not wants_device_code({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not wants_device_code({}, "darwin")


def test_profile_sources() -> None:
    config = {
        "profiles": {
            "dev": {"sso_session": "corp", "sso_account_id": "1", "sso_role_name": "R"},
            "old": {"sso_start_url": START_URL, "sso_region": "us-east-1"},
            "hop": {"role_arn": "arn:aws:iam::1:role/X", "source_profile": "dev"},
            "keys": {"aws_access_key_id": "AKIA"},
            "loop": {"role_arn": "arn:aws:iam::1:role/X", "source_profile": "loop"},
        },
        "sso_sessions": {"corp": {"sso_start_url": START_URL, "sso_region": "eu-west-1"}},
    }
    assert profile_source(config, "dev") == SsoSource(START_URL, "eu-west-1", "corp", None, "dev")
    hop = profile_source(config, "hop")
    assert hop is not None and hop.session_name == "corp" and hop.profile == "hop"
    old = profile_source(config, "old")
    assert old is not None and old.session_name is None and old.login_command.endswith("old")
    assert profile_source(config, "keys") is None
    assert profile_source(config, "loop") is None
    assert profile_source(config, "missing") is None
    with pytest.raises(UsageError):
        session_source(config, "nope")


def test_registration_key_is_botocores() -> None:
    args = {
        "tool": "botocore",
        "startUrl": START_URL,
        "region": "eu-west-1",
        "scopes": None,
        "session_name": "corp",
    }
    expected = hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()
    assert SsoSource(START_URL, "eu-west-1", "corp").registration_key == expected
    assert CORP.cache_key == hashlib.sha1(b"corp").hexdigest()


BOTOCORE_PROBE = """
import sys
import boto3
from botocore.exceptions import SSOTokenLoadError
from rolecall.core.lifecycle.sso_token import point_botocore_at
try:
    boto3.Session(profile_name="dev").get_credentials().get_frozen_credentials()
    print("botocore alone found a token")
except SSOTokenLoadError:
    pass
session = boto3.Session(profile_name="dev")
point_botocore_at(session._session, "dev", sys.argv[1])
print(session.get_credentials().get_frozen_credentials().access_key)
"""


def test_botocore_reads_the_token_from_rolecalls_directory(
    tmp_path: Path, idc: FakeIdentityCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore fixes its token directory when it is imported, from the HOME of that moment:
    # a fresh process imports it under an empty HOME, and rolecall's directory is elsewhere.
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile dev]\nsso_session = corp\nsso_account_id = 111111111111\n"
        "sso_role_name = PowerUser\nregion = eu-west-1\n"
        f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    sso = SsoSignIn(
        {"HOME": str(tmp_path / "elsewhere"), "DISPLAY": ":0"},
        tmp_path / "locks",
        notify=lambda prompt: None,
        open_browser=follow,
    )
    sso.ensure(CORP)
    import_time_home = tmp_path / "import-time-home"
    import_time_home.mkdir()
    probe = subprocess.run(
        [sys.executable, "-c", BOTOCORE_PROBE, str(sso.tokens.directory)],
        env={**os.environ, "HOME": str(import_time_home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith("ASIA"), probe.stdout  # botocore alone found nothing
    token = sso.tokens.read(CORP.cache_key)
    assert token is not None and idc.portal_tokens == [token["accessToken"]]
