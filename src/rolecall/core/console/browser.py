"""Handing a sign-in link to a browser so that only our own user can take it.

The link is a bearer secret, and every local user can read `/proc/PID/cmdline` (audit logs
record exec argv too), so it never goes on a command line. The browser gets a one-shot
loopback URL (`http://127.0.0.1:PORT/TOKEN`) instead, and the server behind it answers the
link page to one connection of ours, once. A path token alone is not enough: the token is in
the browser's argv, and another user polling it could fetch the page first. So the server
checks who is on the other end of every connection:

- **Peer check (Linux).** A loopback client is a local socket, listed in `/proc/net/tcp`
  (or `tcp6`, as `::ffff:127.0.0.1`) with its owner's uid. Only a connection whose socket
  belongs to our uid gets the page; any other gets 403, is counted in `refused`, and does
  not use up the one-shot. The table is probed when the server starts: it must list our own
  listening socket with our uid, else (no /proc, a sandbox that hides or remaps it) the
  check cannot be trusted and the next mode is used.
- **Private page (elsewhere).** The browser is given a `file://` page, 0600 in a fresh 0700
  directory, that forwards to the loopback URL; the token is then in no argv and only our
  user (and root) can read it. The page is removed when the server stops.

The peer check is preferred where it works because a `file://` URL is not reachable from
every browser (sandboxed snap and flatpak browsers, container extensions) while loopback is.

Nobody can hold the server either: every connection has its own thread and a few seconds to
send its request, and stopping the server closes whatever is still open. Requests are never
logged, and `wait` says True only when the page was written to a connection of ours.
"""

from __future__ import annotations

import contextlib
import html
import os
import secrets
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rolecall.core.errors import RolecallError
from rolecall.core.private_files import write_private

SOCKET_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")
"""Linux's tables of TCP sockets with their owners (IPv4, then IPv6 and mapped IPv4)."""

CONNECTION_TIMEOUT = 5.0
"""Seconds a connection has to send its request before it is dropped."""

_LISTEN = "0A"
_TIME_WAIT = "06"


class BrowserError(RolecallError):
    """The browser could not be started."""


def _table_address(ip: str, port: int, family: socket.AddressFamily) -> str:
    """`ip:port` as the socket tables print it: 32-bit words in host order, in hex."""
    packed = socket.inet_pton(family, ip)
    words = struct.unpack(f"={len(packed) // 4}I", packed)
    return "".join(f"{word:08X}" for word in words) + f":{port:04X}"


def socket_owners(
    local: tuple[str, int], remote: tuple[str, int], state: str | None = None
) -> set[int] | None:
    """The uids owning the IPv4 loopback TCP sockets `local` -> `remote` (None: no table).

    IPv4 sockets are in `tcp`; dual-stack IPv6 sockets talking to IPv4 are in `tcp6` as
    `::ffff:a.b.c.d`. `state` narrows to one TCP state (hex, e.g. `0A` for LISTEN); sockets
    in TIME_WAIT have no owner any more and are skipped.
    """
    owners: set[int] = set()
    readable = False
    for table in SOCKET_TABLES:
        six = table.endswith("6")
        family = socket.AF_INET6 if six else socket.AF_INET
        prefix = "::ffff:" if six else ""
        want = (
            _table_address(prefix + local[0], local[1], family),
            _table_address(prefix + remote[0], remote[1], family),
        )
        try:
            with open(table, encoding="ascii") as lines:
                next(lines, None)  # the header
                readable = True
                for line in lines:
                    fields = line.split()
                    if len(fields) < 8 or (fields[1], fields[2]) != want:
                        continue
                    if fields[3] == _TIME_WAIT or (state and fields[3] != state):
                        continue
                    owners.add(int(fields[7]))
        except (OSError, ValueError):
            continue
    return owners if readable else None


class _Server(ThreadingHTTPServer):
    """A loopback HTTP server that tracks its open connections so it can close them all."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a dropped connection is not news, and nothing here may reach stderr or a log

    def drop_connections(self) -> None:
        """Wake every handler still waiting on a connection: it then ends at once."""
        with self._open_lock:
            pending = list(self._open)
        for conn in pending:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class OneShotRedirect:
    """Serves one page that forwards to `target`, at a random loopback path, to us, once."""

    def __init__(self, target: str) -> None:
        self._target = target
        self._token = secrets.token_urlsafe(24)
        self._uid = os.geteuid() if hasattr(os, "geteuid") else -1
        self._claim = threading.Lock()
        self._claimed = False
        self._served = threading.Event()
        self._refused = 0
        self._page_dir: Path | None = None
        self._server = _Server(self._handler())
        self._port = int(self._server.server_address[1])
        owners = socket_owners(("127.0.0.1", self._port), ("0.0.0.0", 0), _LISTEN)  # noqa: S104
        self.checks_peers = owners == {self._uid}
        """Whether each connection's owner is checked (else the browser gets a private file)."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The one-shot loopback URL."""
        return f"http://127.0.0.1:{self._port}/{self._token}"

    @property
    def refused(self) -> int:
        """How many connections of other local users asked for the page and were refused."""
        return self._refused

    def browser_url(self, handoff: str) -> str:
        """What to put in the browser's argv to reach `handoff` (the one-shot URL, possibly
        wrapped for a container): itself when peers are checked, else a private file:// page
        that forwards to it.
        """
        if self.checks_peers:
            return handoff
        if self._page_dir is None:
            self._page_dir = Path(tempfile.mkdtemp(prefix="rolecall-signin-"))  # 0700
        page = self._page_dir / "signin.html"
        write_private(page, _forward_page(handoff))
        return page.as_uri()

    def wait(self, timeout: float) -> bool:
        """Wait until the page was served to us (True) or `timeout` passed (False); then stop.

        Stopping closes the server, every connection still open and the private page.
        """
        self._served.wait(timeout)
        with self._claim:
            self._claimed = True  # nothing is served after this point
        self._server.shutdown()
        self._server.drop_connections()
        self._server.server_close()  # joins the connection threads, now all ending
        self._thread.join()
        if self._page_dir is not None:
            shutil.rmtree(self._page_dir, ignore_errors=True)
            self._page_dir = None
        return self._served.is_set()  # read after every connection thread has ended

    def _owner(self, client: tuple[str, int]) -> str:
        """Whose connection this is: `ours`, a `stranger`'s, or `unknown` (no such socket)."""
        if not self.checks_peers:
            return "ours"  # only a reader of our private page knows the token
        owners = socket_owners(client, ("127.0.0.1", self._port))
        if owners == {self._uid}:
            return "ours"
        return "stranger" if owners else "unknown"

    def _take(self) -> bool:
        """Claim the one-shot for this connection: True for the first, False after."""
        with self._claim:
            if self._claimed:
                return False
            self._claimed = True
            return True

    def _refuse(self) -> None:
        with self._claim:
            self._refused += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            timeout = CONNECTION_TIMEOUT

            def log_message(self, *args: object) -> None:
                pass  # never log requests: nothing here may reach a log

            def do_GET(self) -> None:
                wanted = self.path == f"/{owner._token}"
                whose = owner._owner(self.client_address)
                if whose != "ours":
                    if wanted and whose == "stranger":
                        owner._refuse()
                    self.send_error(403, "This sign-in page belongs to another user.")
                    return
                if not wanted or not owner._take():
                    self.send_error(404, "This sign-in link was already used.")
                    return
                page = _forward_page(owner._target)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                self.wfile.flush()
                owner._served.set()

        return Handler


def _forward_page(target: str) -> bytes:
    """A page that sends the browser on to `target` at once (escaped, never interpreted)."""
    escaped = html.escape(target, quote=True)
    return (
        "<!doctype html><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="0;url={escaped}">'
        '<meta name="referrer" content="no-referrer">'
        "<title>rolecall: signing in</title>"
        f'<p>Signing in to the AWS console… <a href="{escaped}">continue</a></p>'
    ).encode()


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
