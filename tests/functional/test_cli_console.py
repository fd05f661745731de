"""`rolecall console` as a real process: the link reaches the browser, and nothing else."""

from __future__ import annotations

import json
import stat
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aws import FakeFederation, FakeSts, journal_lines
from tests.conftest import World

FETCH = """
import sys, urllib.request
LOG = {log!r}
open(LOG, "a").write(repr(sys.argv[1:]) + "\\n")
url = sys.argv[-1]
if url.startswith("ext+"):
    url = dict(__import__("urllib.parse").parse.parse_qsl(url.split(":", 1)[1]))["url"]
page = urllib.request.urlopen(url, timeout=10).read().decode()
open(LOG + ".page", "w").write(page)
"""


@pytest.fixture
def federation() -> Iterator[FakeFederation]:
    fake = FakeFederation()
    yield fake
    fake.close()


@pytest.fixture
def console_world(tmp_path: Path, fake_sts: FakeSts, federation: FakeFederation) -> World:
    world = World(tmp_path, fake_sts.url)
    world.env["ROLECALL_FEDERATION_ENDPOINT"] = federation.url
    fake_sts.access_key_id = "ASIACANARYKEY0000001"
    fake_sts.secret = "CANARYSECRETxxxxxxxx"
    fake_sts.token = "CANARYTOKENyyyyyyyyy"
    return world


def page_of(log: Path) -> str:
    """The page the fake browser fetched (it may finish writing after rolecall exits)."""
    page = Path(str(log) + ".page")
    for _ in range(100):
        if page.exists() and page.stat().st_size:
            return page.read_text()
        time.sleep(0.1)
    raise AssertionError("the browser never fetched the page")


def browser(tmp_path: Path) -> tuple[Path, Path]:
    script = tmp_path / "browser"
    log = tmp_path / "argv.log"
    script.write_text(f"#!{sys.executable}\n" + FETCH.format(log=str(log)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


def test_print(console_world: World, federation: FakeFederation) -> None:
    result = console_world.run(
        "console", "payments-dev/Developer", "--print", "--destination", "s3"
    )
    assert result.returncode == 0, result.stderr
    url = urllib.parse.urlsplit(result.stdout.strip())
    query = dict(urllib.parse.parse_qsl(url.query))
    assert query["SigninToken"] == federation.token
    assert (
        query["Destination"] == "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
    )
    assert query["Action"] == "login"
    (fields,) = federation.requests
    assert fields["SessionDuration"] == str(8 * 3600), "direct role: console as long as the role"


def test_chained_role_sends_no_session_duration(
    console_world: World, federation: FakeFederation
) -> None:
    result = console_world.run(
        "console", "payments-prod/Admin", "--print", "--var", "ticket=1", "--mfa-code", "123456"
    )
    assert result.returncode == 0, result.stderr
    assert "SessionDuration" not in federation.requests[0]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(result.stdout.strip()).query))
    assert query["Destination"].startswith("https://eu-west-1.console.aws.amazon.com/cloudwatch/")


def test_open_never_puts_the_link_in_argv(
    console_world: World, federation: FakeFederation, tmp_path: Path
) -> None:
    script, log = browser(tmp_path)
    result = console_world.run("console", "payments-dev/Developer", env={"BROWSER": str(script)})
    assert result.returncode == 0, result.stderr
    argv = log.read_text()
    assert "127.0.0.1" in argv
    for secret in (federation.token, "SigninToken", "CANARY"):
        assert secret not in argv
    page = page_of(log)
    assert federation.token in page, "the one-shot page forwards to the sign-in link"
    assert (
        "opened the console as arn:aws:sts::222222222222:assumed-role/Developer/" in result.stderr
    )
    entries = list(journal_lines(console_world.home / "state/journal.jsonl"))
    assert entries[-1]["event"] == "console"
    assert federation.token not in json.dumps(entries)


def test_container_and_configured_browser(
    console_world: World, federation: FakeFederation, tmp_path: Path
) -> None:
    script, log = browser(tmp_path)
    config = console_world.home / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(
        f'[console]\nbrowser = ["{script}", "{{url}}"]\ncontainer = "granted"\n'
    )
    result = console_world.run("console", "payments-dev/Developer", "--logout-first")
    assert result.returncode == 0, result.stderr
    (line,) = log.read_text().splitlines()
    (handoff,) = eval(line)  # the recorded argv list
    assert handoff.startswith("ext+granted-containers:")
    fields = dict(urllib.parse.parse_qsl(handoff.split(":", 1)[1]))
    assert fields["name"] == "payments-dev/Developer"
    assert fields["color"] == "green"
    assert fields["url"].startswith("http://127.0.0.1:")
    page = page_of(log)
    assert "oauth?Action=logout" in page


def test_copy_goes_through_stdin(console_world: World, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "xclip"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/xclip.argv\ncat > {tmp_path}/clip\n')
    fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    result = console_world.run("console", "payments-dev/Developer", "--copy", env=env)
    assert result.returncode == 0, result.stderr
    assert "SigninToken=" in (tmp_path / "clip").read_text()
    assert "SigninToken" not in (tmp_path / "xclip.argv").read_text()
    assert "cleared from the clipboard in 60 s" in result.stderr


@pytest.mark.parametrize("mode", ["fail", "hang"])
def test_signin_failures_leak_nothing(
    console_world: World, federation: FakeFederation, mode: str
) -> None:
    federation.mode = mode
    result = console_world.run("console", "payments-dev/Developer", "--print", timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("rolecall: ")
    assert "Traceback" not in result.stderr
    for canary in ("CANARY", federation.token, "Session="):
        assert canary not in result.stderr + result.stdout


def test_unsupported_destination(console_world: World) -> None:
    result = console_world.run(
        "console", "payments-dev/Developer", "--destination", "https://evil.example.com/"
    )
    assert result.returncode == 2
    assert "is not an AWS console URL" in result.stderr
