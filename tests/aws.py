"""Real AWS behaviour on loopback: moto's server, a recording proxy in front of it, and a
programmable fault endpoint for what moto cannot do (throttling, 5xx, hangs, bad XML).

Nothing here patches boto3: clients talk HTTP to 127.0.0.1 and sign requests as usual.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

PROFILE_KEY = "AKIAIOSFODNN7EXAMPLE"
PROFILE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@dataclass
class Request:
    """One request as the server saw it."""

    params: dict[str, str]
    access_key_id: str

    @property
    def action(self) -> str:
        return self.params.get("Action", "")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _serve(handler: type[BaseHTTPRequestHandler]) -> _Server:
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _credential_of(headers: Any) -> str:
    match = re.search(r"Credential=([A-Z0-9]+)/", headers.get("Authorization", ""))
    return match.group(1) if match else ""


class RecordingProxy:
    """Forwards to moto and records every request's form parameters and signing key."""

    def __init__(self, upstream: str) -> None:
        self.requests: list[Request] = []
        parsed = urllib.parse.urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                params = dict(urllib.parse.parse_qsl(body.decode()))
                proxy.requests.append(Request(params, _credential_of(self.headers)))
                conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request("POST", self.path, body, headers)
                response = conn.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

        self._server = _serve(Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def calls(self, action: str = "AssumeRole") -> list[Request]:
        return [r for r in self.requests if r.action == action]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def assume_role_xml(
    access_key_id: str, secret: str, token: str, expiration: datetime, arn: str
) -> str:
    return f"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>{access_key_id}</AccessKeyId>
      <SecretAccessKey>{secret}</SecretAccessKey>
      <SessionToken>{token}</SessionToken>
      <Expiration>{expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:x</AssumedRoleId>
      <Arn>{arn}</Arn>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
</AssumeRoleResponse>"""


def error_xml(code: str, message: str) -> str:
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>r</RequestId></ErrorResponse>"
    )


FAULTS: dict[str, tuple[int, str]] = {
    "throttling": (400, error_xml("Throttling", "Rate exceeded")),
    "internal": (500, error_xml("InternalFailure", "internal")),
    "unavailable": (503, error_xml("ServiceUnavailable", "unavailable")),
    "access_denied": (
        403,
        error_xml(
            "AccessDenied",
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "sts:AssumeRole on resource: arn:aws:iam::222222222222:role/Developer",
        ),
    ),
    "expired_token": (
        400,
        error_xml("ExpiredToken", "The security token included in the request is expired"),
    ),
    "invalid_token": (
        403,
        error_xml("InvalidClientTokenId", "The security token included in the request is invalid"),
    ),
    "invalid_mfa": (
        403,
        error_xml(
            "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code."
        ),
    ),
    "max_duration": (
        400,
        error_xml(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ),
    ),
    "region_disabled": (
        403,
        error_xml(
            "RegionDisabledException",
            "STS is not activated in this region for account:222222222222.",
        ),
    ),
    "malformed": (200, "<AssumeRoleResponse><oops"),
}


@dataclass
class FakeSts:
    """An STS endpoint that answers AssumeRole with given credentials or a chosen fault.

    `mode` is "ok", a key of FAULTS, or "hang" (accepts and never answers).
    """

    mode: str = "ok"
    access_key_id: str = "ASIAFAKESTSKEY00001"
    secret: str = "fake-secret-access-key"
    token: str = "fake-session-token"
    delay: float = 0.0
    requests: list[Request] = field(default_factory=list)
    instances: ClassVar[list[FakeSts]] = []

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                params = dict(urllib.parse.parse_qsl(body.decode()))
                fake.requests.append(Request(params, _credential_of(self.headers)))
                if fake.mode == "hang":
                    time.sleep(60)
                    return
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.mode == "ok":
                    if params.get("Action") == "GetCallerIdentity":
                        status, text = 200, caller_identity_xml()
                    else:
                        arn = params.get("RoleArn", "arn:aws:iam::0:role/x")
                        account = arn.split(":")[4]
                        role = arn.rsplit("/", 1)[-1]
                        status, text = (
                            200,
                            assume_role_xml(
                                fake.access_key_id,
                                fake.secret,
                                fake.token,
                                datetime.now(UTC)
                                + timedelta(seconds=int(params.get("DurationSeconds", 3600))),
                                f"arn:aws:sts::{account}:assumed-role/{role}/"
                                f"{params.get('RoleSessionName')}",
                            ),
                        )
                else:
                    status, text = FAULTS[fake.mode]
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = _serve(Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def calls(self, action: str = "AssumeRole") -> list[Request]:
        return [r for r in self.requests if r.action == action]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def caller_identity_xml() -> str:
    return (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:user/alice</Arn>"
        "<UserId>AIDAEXAMPLE</UserId><Account>000000000000</Account>"
        "</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId>"
        "</ResponseMetadata></GetCallerIdentityResponse>"
    )


def write_aws_config(path: Path, key: str = PROFILE_KEY, secret: str = PROFILE_SECRET) -> None:
    """An AWS config with a static-key profile `identity` (and `default`)."""
    path.write_text(
        "[profile identity]\n"
        f"aws_access_key_id = {key}\n"
        f"aws_secret_access_key = {secret}\n"
        "[default]\n"
        f"aws_access_key_id = {key}\n"
        f"aws_secret_access_key = {secret}\n"
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def moto_reset(url: str) -> None:
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=10)
    conn.request("POST", "/moto-api/reset", b"")
    conn.getresponse().read()
    conn.close()


def journal_lines(path: Path) -> Iterator[dict[str, Any]]:
    if path.exists():
        for line in path.read_text().splitlines():
            yield json.loads(line)


@dataclass
class FakeFederation:
    """A local AWS sign-in endpoint: getSigninToken (POST) and the login page (GET).

    `reject_session_duration` answers 400 when SessionDuration is sent, as AWS does for
    role-chained credentials; `mode` "fail" answers 400 always, "hang" never answers.
    """

    token: str = "CANARYSIGNIN-0123456789abcdef"
    reject_session_duration: bool = False
    mode: str = "ok"
    requests: list[dict[str, str]] = field(default_factory=list)
    query_strings: list[str] = field(default_factory=list)
    logins: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                fake.query_strings.append(urllib.parse.urlsplit(self.path).query)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fields = dict(urllib.parse.parse_qsl(body.decode()))
                fake.requests.append(fields)
                if fake.mode == "hang":
                    time.sleep(30)
                    return
                if fake.mode == "fail" or (
                    fake.reject_session_duration and "SessionDuration" in fields
                ):
                    self._answer(400, b"Invalid SessionDuration", "text/plain")
                    return
                self._answer(200, json.dumps({"SigninToken": fake.token}).encode())

            def do_GET(self) -> None:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                fake.logins.append(query)
                ok = query.get("SigninToken") == fake.token
                page = b"<h1>Signed in (test)</h1>" if ok else b"bad token"
                self._answer(200 if ok else 400, page, "text/html")

        self._server = _serve(Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/federation"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
