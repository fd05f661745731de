"""A local AWS sign-in endpoint: getSigninToken and login, for the demo world.

getSigninToken checks the session against the emulator (GetCallerIdentity) and hands out a
token; login shows "Signed in to the AWS console as <assumed-role ARN> (demo)". Given the
world's proof key, it also answers `rolecall demo --print-env`'s challenge (see pointer.py), so
another terminal can tell this world from a stale or planted pointer.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rolecall.demo.pointer import PROOF_PATH, proof

TOKEN_LIFETIME = 15 * 60


class SigninServer:
    """Serves /federation (POST getSigninToken, GET login) and /oauth (logout) on loopback."""

    def __init__(self, sts_url: str, proof_key: bytes | None = None) -> None:
        self.sts_url = sts_url
        self._proof_key = proof_key
        self._tokens: dict[str, tuple[str, float]] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: str, kind: str = "text/html") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                fields = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if fields.get("Action") != "getSigninToken":
                    self._send(400, "unsupported action", "text/plain")
                    return
                arn = owner.identity(fields.get("Session", ""))
                if arn is None:
                    self._send(400, "Invalid credentials parameter", "text/plain")
                    return
                token = secrets.token_urlsafe(32)
                owner._tokens[token] = (arn, time.monotonic() + TOKEN_LIFETIME)
                self._send(200, json.dumps({"SigninToken": token}), "application/json")

            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                if parts.path == PROOF_PATH:
                    challenge = query.get("challenge", "")
                    if owner._proof_key is None or not 16 <= len(challenge) <= 128:
                        self._send(404, "not found", "text/plain")
                        return
                    self._send(200, proof(owner._proof_key, challenge), "text/plain")
                    return
                if parts.path.endswith("/oauth") and query.get("Action") == "logout":
                    target = query.get("redirect_uri", "")
                    if target.startswith(f"http://127.0.0.1:{owner.port}/"):
                        self.send_response(302)
                        self.send_header("Location", target)
                        self.end_headers()
                        return
                    self._send(400, "bad redirect", "text/plain")
                    return
                if query.get("Action") != "login":
                    self._send(404, "not found", "text/plain")
                    return
                entry = owner._tokens.get(query.get("SigninToken", ""))
                if entry is None or entry[1] < time.monotonic():
                    self._send(400, "<h1>This sign-in link has expired.</h1>")
                    return
                arn = html.escape(entry[0])
                destination = html.escape(query.get("Destination", ""))
                self._send(
                    200,
                    "<!doctype html><title>AWS console (rolecall demo)</title>"
                    f"<h1>Signed in to the AWS console as {arn} (demo)</h1>"
                    f"<p>Destination: {destination}</p>"
                    "<p>This page stands in for the AWS console in rolecall's demo world.</p>",
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The federation endpoint (`ROLECALL_FEDERATION_ENDPOINT`)."""
        return f"http://127.0.0.1:{self.port}/federation"

    def identity(self, session_json: str) -> str | None:
        """The caller ARN for the credentials in a getSigninToken Session, or None."""
        import boto3

        try:
            session: Any = json.loads(session_json)
            client = boto3.client(
                "sts",
                endpoint_url=self.sts_url,
                region_name="us-east-1",
                aws_access_key_id=session["sessionId"],
                aws_secret_access_key=session["sessionKey"],
                aws_session_token=session["sessionToken"],
            )
            return str(client.get_caller_identity()["Arn"])
        except Exception:
            return None

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2)
