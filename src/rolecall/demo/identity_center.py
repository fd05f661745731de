"""A loopback IAM Identity Center: sso-oidc (register, authorize, device, token) and the portal.

moto has neither, so this is a small `ThreadingHTTPServer` that speaks their wire formats
(rest-json; errors as 400 with `x-amzn-errortype`). Point boto3 at it with
`AWS_ENDPOINT_URL_SSO_OIDC` and `AWS_ENDPOINT_URL_SSO`. It checks what the real service checks
and a sign-in depends on: the issuer/start URL, PKCE (S256 of the verifier), the redirect
URI, the grant, the bearer token of portal calls. What it does not do: it has no users and no
login page. `/authorize` answers at once as the user would (`authorize_mode`: `approve`,
`deny`, or `ignore`: the tab is closed), and a device code is approved when `approve_device`
is called, the verification page is opened with `?user_code=`, or by itself `approve_after`
seconds after it was issued (the demo: nobody has to type it anywhere). `device_mode`
(`deny`, `expire`) makes every poll fail that way.

The demo world serves one Identity Center from here (its portal hands out real role
credentials of the emulator through `role_credentials`); the tests serve theirs too.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RoleCredentials = Callable[[str, str], dict[str, Any]]
"""(account id, role name) -> the portal's `roleCredentials` for that assignment."""


def random_credentials(account_id: str, role_name: str) -> dict[str, Any]:
    """Made-up role credentials, valid for an hour (for an STS that checks no signature)."""
    return {
        "accessKeyId": "ASIA" + secrets.token_hex(8).upper(),
        "secretAccessKey": secrets.token_hex(20),
        "sessionToken": secrets.token_hex(32),
        "expiration": int((time.time() + 3600) * 1000),
    }


@dataclass
class _Device:
    client_id: str
    user_code: str
    issued: float
    approved: bool = False


@dataclass
class FakeIdentityCenter:
    """The fake service; `url` is its base URL."""

    start_url: str
    authorize_mode: str = "approve"
    device_mode: str = "approve"
    token_seconds: int = 8 * 3600
    slow_down_once: bool = False
    """Answer the second device-code poll with SlowDownException."""
    approve_after: float | None = None
    """Seconds after which a device code counts as approved by itself (None: never)."""
    role_credentials: RoleCredentials = random_credentials
    """What GetRoleCredentials hands out."""
    assignments: tuple[tuple[str, str, str], ...] = (("111111111111", "dev", "PowerUser"),)
    """(account id, account name, role name) the signed-in user may use."""
    counts: Counter[str] = field(default_factory=Counter)
    """Calls by kind: register, authorize, device, grant:<type>, credentials."""
    tokens: dict[str, float] = field(default_factory=dict)
    """Access token -> expiry (epoch seconds)."""
    refresh_tokens: set[str] = field(default_factory=set)
    portal_tokens: list[str] = field(default_factory=list)
    """Bearer tokens GetRoleCredentials was called with."""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._codes: dict[str, tuple[str, str, str]] = {}
        self._devices: dict[str, _Device] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def approve_device(self, user_code: str) -> bool:
        """The user enters `user_code` on the verification page."""
        with self._lock:
            for device in self._devices.values():
                if device.user_code == user_code:
                    device.approved = True
                    return True
        return False

    def issue(self) -> dict[str, Any]:
        """A new access and refresh token (also used to seed a cache in tests)."""
        access = "at-" + secrets.token_hex(8)
        refresh = "rt-" + secrets.token_hex(8)
        with self._lock:
            self.tokens[access] = time.time() + self.token_seconds
            self.refresh_tokens.add(refresh)
        return {
            "accessToken": access,
            "tokenType": "Bearer",
            "expiresIn": self.token_seconds,
            "refreshToken": refresh,
        }

    # -- HTTP ----------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _json(self, status: int, body: Any, error: str | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if error:
                    self.send_header("x-amzn-errortype", error)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, name: str, status: int = 400) -> None:
                self._json(status, {"error": name, "error_description": name}, name)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                route = {
                    "/client/register": fake._register,
                    "/device_authorization": fake._device_authorization,
                    "/token": fake._token,
                }.get(self.path)
                if route is None:
                    self._error("NotFound", 404)
                    return
                status, answer, error = route(body)
                self._json(status, answer, error)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/authorize":
                    fake._authorize(self, query)
                elif url.path == "/device":
                    ok = fake.approve_device(query.get("user_code", ""))
                    self._json(200 if ok else 404, {"approved": ok})
                elif url.path.startswith(("/federation/", "/assignment/")):
                    token = self.headers.get("x-amz-sso_bearer_token", "")
                    expiry = fake.tokens.get(token)
                    fake.portal_tokens.append(token)
                    if expiry is None or expiry < time.time():
                        self._error("UnauthorizedException", 401)
                        return
                    answer = fake._portal(url.path, query)
                    if answer is None:
                        self._error("ForbiddenException", 403)
                    else:
                        self._json(200, answer)
                else:
                    self._error("NotFound", 404)

        return Handler

    def _register(self, body: dict[str, Any]) -> tuple[int, Any, str | None]:
        self.counts["register"] += 1
        if "issuerUrl" in body and body["issuerUrl"] != self.start_url:
            return 400, {"error": "invalid_request"}, "InvalidRequestException"
        number = next(self._ids)
        return (
            200,
            {
                "clientId": f"client-{number}",
                "clientSecret": f"client-secret-{number}",
                "clientIdIssuedAt": int(time.time()),
                "clientSecretExpiresAt": int(time.time()) + 90 * 86400,
            },
            None,
        )

    def _authorize(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        self.counts["authorize"] += 1
        redirect = query.get("redirect_uri", "")
        if self.authorize_mode == "ignore" or not redirect.startswith("http://127.0.0.1:"):
            handler.send_response(200)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if self.authorize_mode == "deny":
            answer = {"error": "access_denied", "error_description": "the user said no"}
        else:
            code = "code-" + secrets.token_hex(8)
            with self._lock:
                self._codes[code] = (
                    query.get("client_id", ""),
                    query.get("code_challenge", ""),
                    redirect,
                )
            answer = {"code": code}
        answer["state"] = query.get("state", "")
        handler.send_response(302)
        handler.send_header("Location", f"{redirect}?{urllib.parse.urlencode(answer)}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _device_authorization(self, body: dict[str, Any]) -> tuple[int, Any, str | None]:
        self.counts["device"] += 1
        if body.get("startUrl") != self.start_url:
            return 400, {"error": "invalid_request"}, "InvalidRequestException"
        device_code = "dc-" + secrets.token_hex(8)
        user_code = f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}"
        with self._lock:
            self._devices[device_code] = _Device(
                str(body.get("clientId")), user_code, time.monotonic()
            )
        return (
            200,
            {
                "deviceCode": device_code,
                "userCode": user_code,
                "verificationUri": f"{self.url}/device",
                "verificationUriComplete": f"{self.url}/device?user_code={user_code}",
                "expiresIn": 600,
                "interval": 1,
            },
            None,
        )

    def _token(self, body: dict[str, Any]) -> tuple[int, Any, str | None]:
        grant = str(body.get("grantType"))
        self.counts[f"grant:{grant}"] += 1
        if grant == "authorization_code":
            with self._lock:
                stored = self._codes.pop(str(body.get("code")), None)
            verifier = str(body.get("codeVerifier", ""))
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .decode()
                .rstrip("=")
            )
            if stored is None or stored != (
                body.get("clientId"),
                challenge,
                body.get("redirectUri"),
            ):
                return 400, {"error": "invalid_grant"}, "InvalidGrantException"
            return 200, self.issue(), None
        if grant == "refresh_token":
            with self._lock:
                known = str(body.get("refreshToken")) in self.refresh_tokens
            if not known:
                return 400, {"error": "invalid_grant"}, "InvalidGrantException"
            return 200, self.issue(), None
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            device = self._devices.get(str(body.get("deviceCode")))
            if device is None:
                return 400, {"error": "invalid_grant"}, "InvalidGrantException"
            if self.device_mode == "expire":
                return 400, {"error": "expired_token"}, "ExpiredTokenException"
            if self.device_mode == "deny":
                return 400, {"error": "access_denied"}, "AccessDeniedException"
            if self.slow_down_once and self.counts[f"grant:{grant}"] == 2:
                return 400, {"error": "slow_down"}, "SlowDownException"
            waited = time.monotonic() - device.issued
            if self.approve_after is not None and waited >= self.approve_after:
                device.approved = True
            if not device.approved:
                return 400, {"error": "authorization_pending"}, "AuthorizationPendingException"
            return 200, self.issue(), None
        return 400, {"error": "unsupported_grant_type"}, "UnsupportedGrantTypeException"

    def _portal(self, path: str, query: dict[str, str]) -> Any:
        """The portal's answer (None: forbidden)."""
        if path == "/federation/credentials":
            self.counts["credentials"] += 1
            account, role = query.get("account_id", ""), query.get("role_name", "")
            if not any((a, r) == (account, role) for a, _, r in self.assignments):
                return None  # not assigned to this user
            return {"roleCredentials": self.role_credentials(account, role)}
        if path == "/assignment/accounts":
            accounts = {a: name for a, name, _ in self.assignments}
            return {
                "accountList": [
                    {"accountId": a, "accountName": name, "emailAddress": f"{name}@example.com"}
                    for a, name in accounts.items()
                ]
            }
        wanted = query.get("account_id")
        return {
            "roleList": [
                {"roleName": r, "accountId": a} for a, _, r in self.assignments if a == wanted
            ]
        }
