"""The cache-hit memo answers every shape of `credential-process` and `env` whose answer
depends only on its arguments, environment and catalogue, byte for byte as the full command
does; `--no-cache` and `--mfa-code` are never memoised; a memo hit imports only the lean
modules."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.aws import RecordingProxy
from tests.conftest import EXAMPLE, World

TARGET = "payments-dev/Developer"

SHAPES = [
    ["credential-process", TARGET],
    ["env", TARGET],
    ["env", TARGET, "--format", "fish"],
    ["env", TARGET, "--format=powershell"],
    ["env", TARGET, "--format", "json"],
    ["credential-process", TARGET, "--var", "ticket=INC-1", "--template", "ticket"],
    ["env", "--var=ticket=INC-2", TARGET, "--template=ticket"],
    ["credential-process", TARGET, "--template", "incident"],
    ["env", TARGET, "--session-name", "alice-review", "--format", "json"],
    ["credential-process", TARGET, "--duration", "2h", "--region", "us-east-1"],
    ["--catalogue", str(EXAMPLE), "credential-process", TARGET],
    ["env", TARGET, "--catalogue", str(EXAMPLE), "--format", "sh"],
]

LEAN = {
    "rolecall",
    "rolecall.version",
    "rolecall.entry",
    "rolecall.core",
    "rolecall.core.errors",
    "rolecall.core.locations",
    "rolecall.core.private_files",
    "rolecall.core.shell_env",
    "rolecall.core.sts",
    "rolecall.core.sts.hit_memo",
    "rolecall.core.sts.session_file",
    "__future__",
    "_json",
    "_sha256",
    "_sha2",
}
"""Every module a memo hit may import beyond a bare interpreter."""


def entry(world: World, *args: str, cwd: Path | None = None) -> tuple[str, set[str]]:
    """Run the real entry point under -X importtime: (stdout, modules imported)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from rolecall.entry import run; run()", *args],
        capture_output=True,
        text=True,
        env=world.env,
        timeout=60,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    modules = {
        line.split("|")[-1].strip() for line in result.stderr.splitlines() if "import time" in line
    }
    return result.stdout, modules


def bare_modules(world: World) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"],
        capture_output=True,
        text=True,
        env=world.env,
        check=True,
    )
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines()}


def memos(world: World) -> list[Path]:
    hits = world.home / "cache" / "hits"
    return sorted(hits.iterdir()) if hits.is_dir() else []


@pytest.mark.parametrize("argv", SHAPES, ids=[" ".join(a[:4]) for a in SHAPES])
def test_every_shape_is_answered_from_the_memo_as_the_full_command_answers(
    world: World, sts: RecordingProxy, argv: list[str]
) -> None:
    first = world.run(*argv)
    assert first.returncode == 0, first.stderr
    assert len(memos(world)) == 1
    fast, modules = entry(world, *argv)
    assert "rolecall.cli" not in modules, "a memo hit"
    assert fast == first.stdout
    shutil.rmtree(world.home / "cache" / "hits")
    again = world.run(*argv)  # the full command, answering from the session cache
    assert again.stdout == fast
    assert len(sts.calls()) == 1, "one STS call for the shape; every later answer is cached"
    extra = {m for m in modules if m not in bare_modules(world)}
    assert extra <= LEAN, sorted(extra - LEAN)


@pytest.mark.parametrize(
    "option", [["--no-cache"], ["--mfa-code", "123456"]], ids=["no-cache", "mfa-code"]
)
def test_no_cache_and_mfa_code_are_never_memoised(
    world: World, sts: RecordingProxy, option: list[str]
) -> None:
    argv = ["credential-process", TARGET, *option]
    for _ in range(2):
        result = world.run(*argv)
        assert result.returncode == 0, result.stderr
        assert memos(world) == []
        _, modules = entry(world, *argv)
        assert "rolecall.cli" in modules, "answered by the full command"


def test_a_changed_var_misses(world: World, sts: RecordingProxy) -> None:
    names = []
    for ticket in ("INC-1", "INC-1", "INC-2", "INC-2"):
        result = world.run("env", TARGET, "--template", "ticket", "--var", f"ticket={ticket}",
                           "--format", "json")  # fmt: skip
        assert result.returncode == 0, result.stderr
        names.append(json.loads(result.stdout)["set"]["ROLECALL_SESSION_NAME"])
    assert names[0] == names[1] and names[2] == names[3]
    assert names[0].endswith("-INC-1") and names[2].endswith("-INC-2")
    assert len(sts.calls()) == 2, "another --var value is another session"
    assert len(memos(world)) == 2


def test_a_dated_template_is_served_as_the_full_command_serves_it_next_day(
    world: World, sts: RecordingProxy
) -> None:
    """`{date}` names the day a session was issued. The session cache keys a session by the
    template, not by the rendered name, so the full command hands out yesterday's session
    until it runs out; the memo must do exactly the same (and no more)."""
    argv = ["env", TARGET, "--template", "incident", "--format", "json"]
    today = json.loads(world.run(*argv).stdout)["set"]["ROLECALL_SESSION_NAME"]
    (session_file,) = (world.home / "cache" / "sessions").glob("*.json")
    document = json.loads(session_file.read_text())
    yesterday = "oncall-someone-19991231"
    assert today.startswith("oncall-") and document["session_name"] == today
    document["session_name"] = yesterday
    document["issued_at"] = "1999-12-31T23:00:00Z"
    session_file.write_text(json.dumps(document, indent=1))
    memo, modules = entry(world, *argv)
    assert "rolecall.cli" not in modules, "a memo hit"
    assert json.loads(memo)["set"]["ROLECALL_SESSION_NAME"] == yesterday
    shutil.rmtree(world.home / "cache" / "hits")
    full = world.run(*argv)
    assert full.stdout == memo, "the full command hands out the same session"
    assert len(sts.calls()) == 1
    # Once the session is within the margin, both paths make a new one (today's name).
    document["credentials"]["Expiration"] = document["issued_at"]
    session_file.write_text(json.dumps(document, indent=1))
    renewed, modules = entry(world, *argv)
    assert "rolecall.cli" in modules, "the memo does not serve an expired session"
    assert json.loads(renewed)["set"]["ROLECALL_SESSION_NAME"] == today
    assert len(sts.calls()) == 2


def test_the_fast_writers_match_json_and_shlex() -> None:
    import shlex

    from rolecall.core.shell_env import (
        credential_process_text,
        exports_text,
        session_variables,
        sh_quote,
    )

    for value in ["", "a", "a b", "it's", "x=1,y@z%", "é", '"', "$HOME", "-n", "\\", "\n"]:
        assert sh_quote(value) == shlex.quote(value)
    variables = session_variables(
        access_key_id="ASIA\u00e9",
        secret_access_key='s"e\\c/r+et',
        session_token="tok\n\x00",
        expiration="2030-01-02T03:04:05Z",
        expiration_epoch=1893553445,
        region="eu-west-1",
        target="a/R",
        session_name="n",
        assumed_role_arn="arn:aws:sts::1:assumed-role/R/n",
    )
    expected = {
        "Version": 1,
        "AccessKeyId": variables["AWS_ACCESS_KEY_ID"],
        "SecretAccessKey": variables["AWS_SECRET_ACCESS_KEY"],
        "SessionToken": variables["AWS_SESSION_TOKEN"],
        "Expiration": variables["AWS_CREDENTIAL_EXPIRATION"],
    }
    assert credential_process_text(variables) == json.dumps(expected) + "\n"
    stale = json.loads(exports_text(variables, "json"))["unset"]
    assert exports_text(variables, "json") == (
        json.dumps({"set": variables, "unset": stale}, indent=2) + "\n"
    )


def test_epoch_of_reads_exactly_what_rolecall_writes() -> None:
    from datetime import UTC, datetime, timedelta

    from rolecall.core.credentials import rfc3339
    from rolecall.core.sts.session_file import epoch_of

    moment = datetime(1970, 1, 1, tzinfo=UTC)
    for days in range(0, 80_000, 97):
        when = moment + timedelta(days=days, seconds=days * 7 % 86400)
        assert epoch_of(rfc3339(when)) == int(when.timestamp())
    for text in ["2030-02-30T00:00:00Z", "2030-01-01T24:00:00Z", "2030-01-01 00:00:00Z",
                 "2030-01-01T00:00:00+00:00", "2030-01-01T00:00:00.5Z", "２030-01-01T00:00:00Z",
                 None, 5]:  # fmt: skip
        assert epoch_of(text) is None
