"""The loopback redirect of the PKCE sign-in: where the browser brings the authorization code.

A `ThreadingHTTPServer` on `127.0.0.1`, random port, path `/oauth/callback`. Only a request
whose `state` matches the one rolecall sent is taken: it carries either a `code` (the browser
gets a page saying sign-in is done) or an `error` (a page saying what went wrong). A request
with another state, or none, is refused with 400 and the wait goes on, so another local
program cannot end or hijack the sign-in. Requests are never logged.
"""

from __future__ import annotations

import hmac
import html
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

CALLBACK_PATH = "/oauth/callback"
"""The redirect path registered with sso-oidc (`http://127.0.0.1/oauth/callback`)."""

REQUEST_TIMEOUT = 5.0
"""Seconds a connection has to send its request."""

CANCEL_CHECK = 0.1
"""How often, in seconds, a wait looks at its cancel event."""


class Callback(NamedTuple):
    """What the browser brought back: a code, or an error (with its description)."""

    code: str | None
    error: str | None
    description: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a dropped connection is not news, and nothing here may reach stderr


def _page(title: str, text: str) -> bytes:
    return (
        "<!doctype html><meta charset=utf-8><title>rolecall: "
        f"{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(text)}</p>"
    ).encode()


DONE_PAGE = _page(
    "Signed in", "rolecall is signed in to IAM Identity Center. You can close this tab."
)
REFUSED_PAGE = _page(
    "Not this sign-in", "This answer does not belong to the sign-in rolecall is waiting for."
)


class CallbackServer:
    """Waits for one browser redirect carrying `state`."""

    def __init__(self, state: str) -> None:
        self._state = state
        self._result: Callback | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self.refused = 0
        """Requests refused because their state was wrong or missing."""
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        """The redirect URI with this server's port (sent in /authorize and CreateToken)."""
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    def wait(self, timeout: float, cancel: threading.Event | None = None) -> Callback | None:
        """The callback, or None when `timeout` seconds passed first or `cancel` was set
        (looked at every `CANCEL_CHECK` seconds); then stop serving."""
        deadline = time.monotonic() + timeout
        try:
            while not self._done.is_set():
                left = deadline - time.monotonic()
                if left <= 0 or (cancel is not None and cancel.is_set()):
                    break
                self._done.wait(min(left, CANCEL_CHECK))
        finally:
            self.close()
        return self._result

    def close(self) -> None:
        """Stop the server (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()

    def _take(self, query: dict[str, str]) -> bytes | None:
        """The page for a request with the right state (None: refuse it)."""
        state = query.get("state", "")
        if not hmac.compare_digest(state.encode(), self._state.encode()):
            with self._lock:
                self.refused += 1
            return None
        code, error = query.get("code"), query.get("error")
        if not code and not error:
            return None
        with self._lock:
            if self._result is None:
                description = query.get("error_description")
                self._result = Callback(code if not error else None, error, description)
                self._done.set()
            result = self._result
        if result.error:
            why = result.description or result.error
            return _page("Sign-in failed", f"IAM Identity Center said: {why}. Back to rolecall.")
        return DONE_PAGE

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            timeout = REQUEST_TIMEOUT

            def log_message(self, *args: object) -> None:
                pass  # the query holds the authorization code: never log it

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path != CALLBACK_PATH:
                    self._send(404, _page("Not found", "Nothing here."))
                    return
                query = dict(urllib.parse.parse_qsl(url.query))
                page = owner._take(query)
                if page is None:
                    self._send(400, REFUSED_PAGE)
                else:
                    self._send(200, page)

            def _send(self, status: int, page: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        return Handler
