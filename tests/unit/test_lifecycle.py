"""The renewal keeper and the credential server, on real sockets (no AWS needed here)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rolecall.core.credentials import Credentials, Secret, Session
from rolecall.core.errors import UsageError
from rolecall.core.lifecycle.renewal import SessionKeeper, renew_window
from rolecall.core.lifecycle.server import CredentialServer
from rolecall.core.lifecycle.shadow_config import shadow_files
from rolecall.core.sts.errors import StsUnavailable


def session(
    expires_in: float, key: str = "ASIAFIRST0000000", now: datetime | None = None
) -> Session:
    now = now or datetime.now(UTC)
    return Session(
        target="payments-prod/ReadOnly",
        role_arn="arn:aws:iam::111111111111:role/ReadOnly",
        session_name="alice",
        source_identity=None,
        assumed_role_arn="arn:aws:sts::111111111111:assumed-role/ReadOnly/alice",
        region="eu-west-1",
        issued_at=now,
        credentials=Credentials(
            access_key_id=key,
            secret_access_key=Secret("canary-secret-" + key),
            session_token=Secret("canary-token-" + key),
            expiration=now + timedelta(seconds=expires_in),
        ),
    )


def test_renew_window_defaults_and_limits() -> None:
    assert renew_window(3600) == 1200
    assert renew_window(900) == 450
    assert renew_window(1200) == 600
    assert renew_window(900, 885) == 885
    with pytest.raises(UsageError, match="must be shorter than the session"):
        renew_window(900, 900)
    with pytest.raises(UsageError):
        renew_window(900, 0)


def test_keeper_renews_before_the_window_and_restarts_the_clock() -> None:
    renewed: list[Session] = []
    count = iter(range(1, 100))

    def renew() -> Session:
        return session(3, key=f"ASIARENEWED{next(count):05d}")

    keeper = SessionKeeper(session(3), renew, renew_before=2, on_renewed=renewed.append)
    keeper.start()
    try:
        deadline = time.monotonic() + 5
        while len(renewed) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        keeper.stop()
    assert len(renewed) >= 2
    assert keeper.session.credentials.access_key_id.startswith("ASIARENEWED")
    assert keeper.failure is None


def test_a_failed_renewal_keeps_serving_says_so_once_and_reports_after_expiry() -> None:
    notices: list[str] = []

    def renew() -> Session:
        raise StsUnavailable("cannot reach STS at http://127.0.0.1:9.", hint="retry")

    keeper = SessionKeeper(
        session(1.5), renew, renew_before=1, notify=notices.append, retry_after=0.1
    )
    keeper.start()
    try:
        time.sleep(0.8)
        assert keeper.current() is not None  # still valid: still served
        time.sleep(1.2)
        assert keeper.current() is None
    finally:
        keeper.stop()
    assert len(notices) == 1
    assert "could not renew payments-prod/ReadOnly: cannot reach STS" in notices[0]
    assert keeper.failure is not None and "cannot reach STS" in keeper.failure


@pytest.fixture
def server() -> Iterator[tuple[CredentialServer, list[Session | None]]]:
    current: list[Session | None] = [session(3600)]
    with CredentialServer(lambda: current[0], lambda: "STS is down") as running:
        yield running, current


def get(
    server: CredentialServer,
    token: str | None,
    host: str | None = None,
    method: str = "GET",
    path: str = "/credentials",
) -> tuple[int, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    headers = {"Host": host or f"127.0.0.1:{server.port}"}
    if token is not None:
        headers["Authorization"] = token
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, json.loads(body) if body else {}


def test_the_server_answers_the_container_protocol(
    server: tuple[CredentialServer, list[Session | None]],
) -> None:
    running, _ = server
    status, body = get(running, running.token)
    assert status == 200
    assert body["AccessKeyId"] == "ASIAFIRST0000000"
    assert body["SecretAccessKey"] == "canary-secret-ASIAFIRST0000000"
    assert body["Token"] == "canary-token-ASIAFIRST0000000"
    assert body["AccountId"] == "111111111111"
    assert body["Expiration"].endswith("Z")
    assert len(running.token) >= 43  # 32 random bytes, base64url


@pytest.mark.parametrize(
    ("token", "host", "method", "status"),
    [
        (None, None, "GET", 401),
        ("wrong", None, "GET", 401),
        ("TOKEN", "evil.example:{port}", "GET", 403),
        ("TOKEN", "127.0.0.1.nip.io:{port}", "GET", 403),
        ("TOKEN", "127.0.0.1:1", "GET", 403),
        ("TOKEN", None, "POST", 405),
        ("TOKEN", None, "PUT", 405),
    ],
)
def test_strangers_get_nothing(
    server: tuple[CredentialServer, list[Session | None]],
    token: str | None,
    host: str | None,
    method: str,
    status: int,
) -> None:
    running, _ = server
    real = running.token if token == "TOKEN" else token
    got, body = get(running, real, host.format(port=running.port) if host else None, method)
    assert got == status
    assert "SecretAccessKey" not in body
    assert "canary" not in json.dumps(body)


def test_localhost_and_ipv6_loopback_hosts_are_accepted(
    server: tuple[CredentialServer, list[Session | None]],
) -> None:
    running, _ = server
    assert get(running, running.token, f"localhost:{running.port}")[0] == 200
    assert get(running, running.token, f"[::1]:{running.port}")[0] == 200


def test_an_expired_session_gets_503_with_a_reason(
    server: tuple[CredentialServer, list[Session | None]],
) -> None:
    running, current = server
    current[0] = None
    status, body = get(running, running.token)
    assert status == 503
    assert body == {"message": "the session has expired: STS is down"}


def test_an_idle_connection_does_not_hold_the_server(
    server: tuple[CredentialServer, list[Session | None]],
) -> None:
    running, _ = server
    idle = socket.create_connection(("127.0.0.1", running.port))
    try:
        started = time.monotonic()
        assert get(running, running.token)[0] == 200
        assert time.monotonic() - started < 1
    finally:
        idle.close()


def test_the_server_stops_listening_when_closed() -> None:
    running = CredentialServer(lambda: session(60)).start()
    port = running.port
    running.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert not any(t.name == "rolecall-credential-server" for t in threading.enumerate())


def test_the_child_config_keeps_the_default_profile_without_its_credentials(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[default]\nregion = eu-west-1\naws_access_key_id = AKIACANARY\n"
        "aws_secret_access_key = canary\ncredential_process = leak\n"
        "[profile other]\nregion = us-east-1\nAWS_ACCESS_KEY_ID = AKIAOTHER\n"
        "aws_secret_access_key = other%secret\n"
    )
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIACANARY\n[other]\nx = 1\n")
    folder = tmp_path / "servers"
    env = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    files = shadow_files(env, folder, "abc")
    shadow = Path(files["AWS_CONFIG_FILE"]).read_text()
    assert "region = eu-west-1" in shadow
    assert "AKIACANARY" not in shadow and "leak" not in shadow
    assert "AWS_ACCESS_KEY_ID = AKIAOTHER" in shadow and "other%secret" in shadow
    shadow_credentials = Path(files["AWS_SHARED_CREDENTIALS_FILE"]).read_text()
    assert "AKIACANARY" not in shadow_credentials and "[other]" in shadow_credentials
    for path in files.values():
        assert Path(path).stat().st_mode & 0o777 == 0o600


def test_unreadable_config_gives_the_child_empty_files(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("no section header\naws_access_key_id = AKIACANARY\n")
    files = shadow_files({"AWS_CONFIG_FILE": str(config), "HOME": str(tmp_path)}, tmp_path, "s")
    assert Path(files["AWS_CONFIG_FILE"]).read_text() == ""


def test_wake_retries_at_once_after_a_failure() -> None:
    answers: list[Session | Exception] = [
        StsUnavailable("cannot reach STS.", hint="retry"),
        session(3600, key="ASIAWOKEN00000001"),
    ]
    renewed = threading.Event()

    def renew() -> Session:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    keeper = SessionKeeper(
        session(60), renew, renew_before=100, on_renewed=lambda s: renewed.set(), retry_after=60
    )
    keeper.start()
    try:
        deadline = time.monotonic() + 5
        while keeper.failure is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert keeper.failure is not None
        keeper.wake()  # without it the next attempt would be a minute away
        assert renewed.wait(5)
    finally:
        keeper.stop()
    assert keeper.session.credentials.access_key_id == "ASIAWOKEN00000001"
    assert keeper.failure is None


def test_serve_child_removes_its_files_whatever_happens(tmp_path: Path) -> None:
    from rolecall.core.lifecycle.serving import serve_child

    folder = tmp_path / "servers"
    env = {"HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "AKIASTALE", "PATH": "/bin"}
    current = session(3600)
    with (
        pytest.raises(RuntimeError),
        serve_child(lambda: current, lambda: None, env, current, folder) as served,
    ):
        assert served.token_file.read_text() == served.server.token
        assert served.token_file.stat().st_mode & 0o777 == 0o600
        assert "AWS_ACCESS_KEY_ID" not in served.env
        assert served.env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] == str(served.token_file)
        status, body = get(served.server, served.server.token)
        assert status == 200 and body["AccessKeyId"] == "ASIAFIRST0000000"
        raise RuntimeError("the child could not start")
    assert list(folder.iterdir()) == []


def test_the_tui_shell_server_setting(tmp_path: Path) -> None:
    from rolecall.core.settings import load_settings

    path = tmp_path / "config.toml"
    assert load_settings(path).tui.shell_server is False
    path.write_text("[tui]\nshell_server = true\n")
    assert load_settings(path).tui.shell_server is True
    path.write_text('[tui]\nshell_server = "yes"\n')
    with pytest.raises(UsageError, match=r"tui\.shell_server must be true or false"):
        load_settings(path)
    path.write_text("[tui]\nshell_servr = true\n")
    with pytest.raises(UsageError, match=r"unknown key tui\.shell_servr"):
        load_settings(path)
