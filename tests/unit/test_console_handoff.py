"""The browser hand-off: only our own user may take the sign-in page, nobody can block it.

The one-shot loopback URL is in the browser's argv, which every local user can read in
/proc/PID/cmdline. These tests play that other user (uid 1002) and check that the page is
refused to them, that the one-shot survives their attempt, that an idle connection does not
hold the server, and that rolecall reports what really happened.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rolecall.core.console import browser
from rolecall.core.console.browser import OneShotRedirect
from rolecall.core.console.url import hand_to_browser
from tests.second_user import as_second_user, needs_second_user, run_as_second_user

TARGET = "https://signin.aws.amazon.com/federation?Action=login&SigninToken=CANARYSIGNIN"

STRANGER_FETCH = """
import sys, urllib.error, urllib.request
try:
    body = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
    print("200", body)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError as e:
    print("failed", type(e).__name__)
"""
"""What the other user runs against the URL it read from our browser's argv."""

SYSTEM_PYTHON = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
"""A Python the other user may run (ours may live under a private home)."""

needs_stranger = pytest.mark.skipif(
    SYSTEM_PYTHON is None, reason="the second user needs a system python3"
)


def stranger_fetch(url: str) -> str:
    """Fetch `url` as the second local user; the status (and body on 200) it saw."""
    assert SYSTEM_PYTHON is not None
    result = run_as_second_user([SYSTEM_PYTHON, "-c", STRANGER_FETCH, url], timeout=30)
    return result.stdout.strip() or result.stderr.strip()


def fetch(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as page:
        return str(page.read().decode())


@pytest.fixture(autouse=True)
def nothing_left_behind() -> Iterator[None]:
    """No thread and no descriptor outlives a test (sockets included)."""
    threads = set(threading.enumerate())
    fds = set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else set()
    yield
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - threads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(threading.enumerate()) - threads == set()
    if fds:
        left = set(os.listdir("/proc/self/fd")) - fds
        assert not {fd for fd in left if os.path.exists(f"/proc/self/fd/{fd}")}


@needs_second_user
@needs_stranger
def test_another_user_is_refused_and_the_page_is_still_ours() -> None:
    redirect = OneShotRedirect(TARGET)
    try:
        seen = stranger_fetch(redirect.url)
        assert seen == "403", seen
        assert "CANARYSIGNIN" not in seen
        assert "CANARYSIGNIN" in fetch(redirect.url), "the stranger did not consume the one-shot"
    finally:
        served = redirect.wait(1)
    assert served is True
    assert redirect.refused == 1


@needs_second_user
@needs_stranger
def test_a_refused_stranger_alone_is_not_reported_as_opened() -> None:
    redirect = OneShotRedirect(TARGET)
    try:
        assert stranger_fetch(redirect.url) == "403"
    finally:
        served = redirect.wait(0.5)
    assert served is False
    assert redirect.refused == 1


def test_an_idle_connection_does_not_block_our_fetch() -> None:
    redirect = OneShotRedirect(TARGET)
    port = int(redirect.url.split(":")[2].split("/")[0])
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)  # sends nothing
    try:
        started = time.monotonic()
        assert "CANARYSIGNIN" in fetch(redirect.url, timeout=10)
        assert time.monotonic() - started < 3
    finally:
        served = redirect.wait(1)
        idle.close()
    assert served is True


@needs_second_user
@needs_stranger
def test_another_users_idle_connection_does_not_block_our_fetch() -> None:
    redirect = OneShotRedirect(TARGET)
    assert SYSTEM_PYTHON is not None
    port = int(redirect.url.split(":")[2].split("/")[0])
    hold = (
        "import socket, sys, time\n"
        f"s = socket.create_connection(('127.0.0.1', {port}))\n"
        "print('held', flush=True)\n"
        "time.sleep(30)\n"
    )
    holder = subprocess.Popen(
        as_second_user([SYSTEM_PYTHON, "-c", hold]), stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert "CANARYSIGNIN" in fetch(redirect.url, timeout=10)
    finally:
        served = redirect.wait(1)
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert served is True


def test_nobody_fetching_returns_false_within_the_timeout() -> None:
    redirect = OneShotRedirect(TARGET)
    started = time.monotonic()
    assert redirect.wait(0.5) is False
    assert time.monotonic() - started < 3
    assert redirect.refused == 0
    with pytest.raises(urllib.error.URLError):
        fetch(redirect.url, timeout=2)


def test_a_wrong_path_gets_nothing_and_does_not_consume() -> None:
    redirect = OneShotRedirect(TARGET)
    try:
        with pytest.raises(urllib.error.HTTPError) as raised:
            fetch(redirect.url.rsplit("/", 1)[0] + "/guess")
        assert raised.value.code == 404
        raised.value.close()
        assert "CANARYSIGNIN" in fetch(redirect.url)
    finally:
        assert redirect.wait(1) is True


def test_nothing_is_logged(capfd: pytest.CaptureFixture[str]) -> None:
    redirect = OneShotRedirect(TARGET)
    idle = socket.create_connection(("127.0.0.1", int(redirect.url.split(":")[2].split("/")[0])))
    idle.sendall(b"GARBAGE\r\n\r\n")
    try:
        fetch(redirect.url)
    finally:
        redirect.wait(1)
        idle.close()
    out, err = capfd.readouterr()
    assert out == err == ""


# -- through hand_to_browser, with a fake browser command --

BROWSER = """
import subprocess, sys, urllib.request
url = sys.argv[-1]
if {stranger!r}:
    subprocess.run({stranger!r} + [url], timeout=30, check=False, capture_output=True)
if {fetch!r}:
    urllib.request.urlopen(url, timeout=10).read()
"""


def fake_browser(*, fetch: bool, stranger: list[str] | None = None) -> tuple[str, ...]:
    return (sys.executable, "-c", BROWSER.format(fetch=fetch, stranger=stranger or []), "{url}")


@needs_second_user
@needs_stranger
def test_hand_to_browser_reports_a_refused_stranger() -> None:
    assert SYSTEM_PYTHON is not None
    refused: list[int] = []
    stranger = as_second_user([SYSTEM_PYTHON, "-c", STRANGER_FETCH])
    opened = hand_to_browser(
        TARGET,
        browser=fake_browser(fetch=True, stranger=stranger),
        container=None,
        name="acct/Role",
        color=None,
        env=dict(os.environ),
        timeout=30,
        on_refused=refused.append,
    )
    assert opened is True
    assert refused == [1]


def test_hand_to_browser_false_when_the_browser_never_fetches() -> None:
    refused: list[int] = []
    started = time.monotonic()
    opened = hand_to_browser(
        TARGET,
        browser=fake_browser(fetch=False),
        container=None,
        name="acct/Role",
        color=None,
        env=dict(os.environ),
        timeout=1,
        on_refused=refused.append,
    )
    assert opened is False
    assert refused == []
    assert time.monotonic() - started < 5


# -- where the socket table cannot be read: a private file:// page --

FILE_BROWSER = """
import re, sys, urllib.request
url = sys.argv[-1]
open({log!r}, "w").write(url)
assert url.startswith("file://"), url
page = open(url[len("file://"):]).read()
open({log!r} + ".page", "w").write(page)
target = re.search(r'url=([^"]+)"', page).group(1).replace("&amp;", "&")
urllib.request.urlopen(target, timeout=10).read()
"""


@pytest.fixture
def no_socket_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Play a system without /proc/net/tcp (macOS, BSD)."""
    monkeypatch.setattr(browser, "SOCKET_TABLES", (str(tmp_path / "no-such-table"),))


@pytest.mark.usefixtures("no_socket_table")
def test_without_a_socket_table_the_browser_gets_a_private_file(tmp_path: Path) -> None:
    log = tmp_path / "argv"
    opened = hand_to_browser(
        TARGET,
        browser=(sys.executable, "-c", FILE_BROWSER.format(log=str(log)), "{url}"),
        container=None,
        name="acct/Role",
        color=None,
        env=dict(os.environ),
        timeout=30,
    )
    assert opened is True
    argv = log.read_text()
    page = Path(str(log) + ".page").read_text()
    assert "CANARYSIGNIN" not in argv and "CANARYSIGNIN" not in page
    assert "http://127.0.0.1:" in page, "the file forwards to the loopback one-shot"
    path = Path(argv[len("file://") :])
    assert not path.exists() and not path.parent.exists(), "the page is removed after use"


@pytest.mark.usefixtures("no_socket_table")
def test_the_private_file_is_0600_in_a_0700_directory() -> None:
    redirect = OneShotRedirect(TARGET)
    try:
        handed = redirect.browser_url(redirect.url)
        assert handed.startswith("file://")
        path = Path(handed[len("file://") :])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert redirect.url in path.read_text()
        assert "CANARYSIGNIN" not in path.read_text()
    finally:
        assert redirect.wait(0.2) is False
    assert not path.exists() and not path.parent.exists()


def test_with_the_socket_table_the_browser_gets_the_loopback_url() -> None:
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("Linux only")
    redirect = OneShotRedirect(TARGET)
    try:
        assert redirect.browser_url(redirect.url) == redirect.url
    finally:
        redirect.wait(0.1)


def test_a_dual_stack_client_of_ours_is_recognised() -> None:
    """An IPv6 socket reaching 127.0.0.1 as ::ffff:127.0.0.1 is listed in tcp6, not tcp."""
    if not socket.has_ipv6 or not os.path.exists("/proc/net/tcp6"):
        pytest.skip("no IPv6 socket table")
    redirect = OneShotRedirect(TARGET)
    port = int(redirect.url.split(":")[2].split("/")[0])
    path = redirect.url.rsplit("/", 1)[1]
    client = (
        "import socket, sys\n"
        "with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as c:\n"
        "    c.settimeout(10)\n"
        f"    c.connect(('::ffff:127.0.0.1', {port}))\n"
        f"    c.sendall(b'GET /{path} HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n')\n"
        "    answer = b''\n"
        "    while chunk := c.recv(65536):\n"
        "        answer += chunk\n"
        "sys.stdout.write(answer.decode())\n"
    )
    try:
        # a process of its own: the suite's loopback guard does not know the mapped form
        answer = subprocess.run(
            [sys.executable, "-c", client], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        assert answer.startswith("HTTP/1.0 200"), answer[:40]
        assert "CANARYSIGNIN" in answer
    finally:
        assert redirect.wait(1) is True
    assert redirect.refused == 0
