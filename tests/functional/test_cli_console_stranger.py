"""`rolecall console` while another local user watches the browser's command line.

The other user (uid 1002) reads the one-shot URL from the browser's argv and fetches it
first: it must get nothing, the browser must still sign in, and rolecall must say so.
"""

from __future__ import annotations

import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aws import FakeFederation, FakeSts
from tests.conftest import World
from tests.second_user import as_second_user, needs_second_user

SYSTEM_PYTHON = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")

STRANGER_FETCH = """
import sys, urllib.error, urllib.request
try:
    print("200", urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())
except urllib.error.HTTPError as e:
    print(e.code)
"""

BROWSER = """
import subprocess, sys, urllib.request
url = sys.argv[-1]
seen = subprocess.run({stranger!r} + [url], capture_output=True, text=True, timeout=30)
open({log!r}, "w").write(seen.stdout)
page = urllib.request.urlopen(url, timeout=10).read().decode()
open({log!r} + ".page", "w").write(page)
"""
"""A browser watched by the other user, who fetches the URL before the browser does."""


@pytest.fixture
def federation() -> Iterator[FakeFederation]:
    fake = FakeFederation()
    yield fake
    fake.close()


@needs_second_user
@pytest.mark.skipif(SYSTEM_PYTHON is None, reason="the second user needs a system python3")
def test_another_user_reading_argv_gets_nothing(
    tmp_path: Path, fake_sts: FakeSts, federation: FakeFederation
) -> None:
    assert SYSTEM_PYTHON is not None
    world = World(tmp_path, fake_sts.url)
    world.env["ROLECALL_FEDERATION_ENDPOINT"] = federation.url
    log = tmp_path / "stranger.log"
    script = tmp_path / "browser"
    stranger = as_second_user([SYSTEM_PYTHON, "-c", STRANGER_FETCH])
    script.write_text(f"#!{sys.executable}\n" + BROWSER.format(stranger=stranger, log=str(log)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)

    result = world.run("console", "payments-dev/Developer", env={"BROWSER": str(script)})

    assert result.returncode == 0, result.stderr
    assert log.read_text().strip() == "403", "the other user got the page"
    assert federation.token not in log.read_text()
    assert federation.token in Path(str(log) + ".page").read_text()
    assert "opened the console as arn:aws:sts::222222222222:assumed-role/Developer/" in (
        result.stderr
    )
    assert "another local user tried to fetch the sign-in page (once) and was refused" in (
        result.stderr
    )
