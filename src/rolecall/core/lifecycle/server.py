"""A credential server for one child: the container-credentials protocol on loopback.

Every AWS SDK (botocore, Go v2, JS v3, Java v2, the AWS CLI) fetches credentials from
`AWS_CONTAINER_CREDENTIALS_FULL_URI` with `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)` as the
`Authorization` header, and fetches again before they expire. The server answers from memory
(the keeper renews in the background), so an answer takes milliseconds and never waits on a
prompt or on STS. Strangers get nothing: a 256-bit token compared in constant time, GET only,
and a `Host` that is not loopback is refused (a web page cannot reach it by DNS rebinding).
Nothing is logged.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rolecall.core.credentials import Session, rfc3339

PATH = "/credentials"
"""Where the credentials are served."""

CONNECTION_TIMEOUT = 5.0
"""Seconds a connection may stay idle: a silent client cannot hold a request thread."""

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class CredentialServer:
    """Serves `provider()`'s session at `url` to requests that carry `token`.

    `provider()` returns the session to hand out, or None with `reason()` saying why (the
    session expired and could not be renewed): then the answer is 503 with that reason.
    """

    def __init__(
        self,
        provider: Callable[[], Session | None],
        reason: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.token = secrets.token_urlsafe(32)
        """The 256-bit bearer token a client must send."""
        self.served = 0
        """Credentials handed out (for tests and the TUI)."""
        self.refused = 0
        """Requests refused (wrong token, foreign Host, another method)."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            timeout = CONNECTION_TIMEOUT
            server_version = "rolecall"
            sys_version = ""

            def log_message(self, *args: object) -> None:
                pass  # nothing about a request may reach a log

            def do_GET(self) -> None:
                owner._answer(self, provider, reason)

            def _refuse_method(self) -> None:
                owner.refused += 1
                owner._send(self, 405, {"message": "only GET is served"}, allow="GET")

            do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _refuse_method

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        """The loopback port the server listens on."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="rolecall-credential-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """The value for `AWS_CONTAINER_CREDENTIALS_FULL_URI`."""
        return f"http://127.0.0.1:{self.port}{PATH}"

    def start(self) -> CredentialServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> CredentialServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(
        self,
        request: BaseHTTPRequestHandler,
        provider: Callable[[], Session | None],
        reason: Callable[[], str | None],
    ) -> None:
        host = request.headers.get("Host", "")
        if host.startswith("["):
            inside, _, rest = host.partition("]")
            name, port = inside + "]", rest.removeprefix(":")
        else:
            name, _, port = host.partition(":")
        if name not in _LOOPBACK_HOSTS or port not in ("", str(self.port)):
            self.refused += 1
            self._send(request, 403, {"message": "this server answers loopback requests only"})
            return
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            self.refused += 1
            self._send(request, 401, {"message": "a valid authorization token is required"})
            return
        if request.path.split("?", 1)[0] != PATH:
            self._send(request, 404, {"message": f"credentials are served at {PATH}"})
            return
        session = provider()
        if session is None:
            why = reason() or "it could not be renewed"
            self._send(request, 503, {"message": f"the session has expired: {why}"})
            return
        self.served += 1
        self._send(request, 200, credentials_document(session))

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler, status: int, body: dict[str, str], allow: str = ""
    ) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.send_header("Cache-Control", "no-store")
        if allow:
            request.send_header("Allow", allow)
        request.end_headers()
        request.wfile.write(data)


def credentials_document(session: Session) -> dict[str, str]:
    """The container-credentials JSON for `session`."""
    creds = session.credentials
    document = {
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key.reveal(),
        "Token": creds.session_token.reveal(),
        "Expiration": rfc3339(creds.expiration),
    }
    account = session.assumed_role_arn.split(":")[4] if session.assumed_role_arn else ""
    if account:
        document["AccountId"] = account
    return document
