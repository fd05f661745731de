"""Handing a sign-in link to a browser without putting it in any process's argv.

`/proc/PID/cmdline` is readable by every local user, and audit logs record exec argv, so the
link never goes on a command line. The browser is given a one-shot loopback URL instead
(`http://127.0.0.1:PORT/RANDOM`) that answers exactly once with a redirect page and then
stops; the random path is useless to anyone who reads it afterwards.
"""

from __future__ import annotations

import html
import secrets
import subprocess
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer

from rolecall.core.errors import RolecallError


class BrowserError(RolecallError):
    """The browser could not be started."""


class OneShotRedirect:
    """Serves one page that forwards to `target`, at a random loopback path, once."""

    def __init__(self, target: str) -> None:
        self._target = target
        self._token = secrets.token_urlsafe(24)
        self._served = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass  # never log requests: nothing here may reach a log

            def do_GET(self) -> None:
                if self.path != f"/{owner._token}" or owner._served.is_set():
                    self.send_error(404, "This sign-in link was already used.")
                    return
                owner._served.set()
                target = html.escape(owner._target, quote=True)
                page = (
                    "<!doctype html><meta charset=utf-8>"
                    f'<meta http-equiv="refresh" content="0;url={target}">'
                    "<title>rolecall: signing in</title>"
                    f'<p>Signing in to the AWS console… <a href="{target}">continue</a></p>'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._served.is_set():
            self._server.handle_request()

    @property
    def url(self) -> str:
        """The one-shot URL to give the browser."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/{self._token}"

    def wait(self, timeout: float) -> bool:
        """Wait until the page was fetched (True) or `timeout` passed (False); then stop."""
        self._server.timeout = 0.2
        served = self._served.wait(timeout)
        self._served.set()
        self._thread.join(1.0)
        self._server.server_close()
        return served


def browser_argv(template: Sequence[str], url: str) -> list[str]:
    """The browser command from a user template: `{url}` becomes the URL, as one argument.

    Elements are never split or joined, so names with spaces or quotes cannot inject options.
    """
    argv = [part.replace("{url}", url) for part in template]
    if not any("{url}" in part for part in template):
        argv.append(url)
    return argv


def open_in_browser(url: str, template: Sequence[str] | None, env: Mapping[str, str]) -> None:
    """Start the browser on `url` (a one-shot URL): the user's template, else the default."""
    if template:
        argv = browser_argv(template, url)
        try:
            subprocess.Popen(
                argv,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as e:
            raise BrowserError(
                f"cannot start the browser {argv[0]!r}: {e.strerror}.",
                hint="check [console] browser in your rolecall config.toml",
            ) from None
        return
    import webbrowser

    if not webbrowser.open(url, new=2):
        raise BrowserError(
            "no browser could be started.",
            hint="set BROWSER, configure [console] browser, or use --print / --copy",
        )
