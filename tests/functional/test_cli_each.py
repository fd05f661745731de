"""`rolecall each` as a real process against moto's server: labelled lines, JSON, failures,
parallelism, confirmation, a shared hub assumed once, --dry-run and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.aws import RecordingProxy, journal_lines
from tests.conftest import World

PY = sys.executable

HUB_AND_SPOKES = """
version = 1

[defaults]
region = "eu-west-1"
source_profile = "identity"
session_name = "{user}-fleet"

[[accounts]]
name = "hub"
id = "000000000000"

  [[accounts.roles]]
  name = "Jump"
  mfa_serial = "arn:aws:iam::000000000000:mfa/alice"

[[accounts]]
name = "spoke-a"
id = "555555555551"
tags = ["fleet"]

  [[accounts.roles]]
  name = "Deploy"
  via = "hub/Jump"

[[accounts]]
name = "spoke-b"
id = "555555555552"
tags = ["fleet"]

  [[accounts.roles]]
  name = "Deploy"
  via = "hub/Jump"

[[accounts]]
name = "spoke-c"
id = "555555555553"
tags = ["fleet"]

  [[accounts.roles]]
  name = "Deploy"
  via = "hub/Jump"
"""


def user() -> str:
    return os.environ.get("USER") or __import__("getpass").getuser()


def test_lines_are_labelled_and_aligned(world: World, sts: RecordingProxy) -> None:
    script = (
        "import os, sys; print('out', os.environ['ROLECALL_TARGET']); print('err', file=sys.stderr)"
    )
    result = world.run("each", "payments", "dev", "--", PY, "-c", script)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [
        "payments-dev/Developer | out payments-dev/Developer",
        "payments-dev/ReadOnly  | out payments-dev/ReadOnly",
    ]
    assert "payments-dev/Developer | err" in result.stderr
    assert "payments-dev/ReadOnly  | err" in result.stderr
    assert "rolecall: 2 of 2 targets succeeded." in result.stderr
    assert len(sts.calls()) == 2
    events = sorted(
        (e["event"], e["target"], e.get("used_by"))
        for e in journal_lines(world.home / "state/journal.jsonl")
    )
    assert events == [
        ("assume", "payments-dev/Developer", "each"),
        ("assume", "payments-dev/ReadOnly", "each"),
        ("exec", "payments-dev/Developer", "each"),
        ("exec", "payments-dev/ReadOnly", "each"),
    ]


def test_json_records(world: World) -> None:
    probe = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
    result = world.run(
        "each",
        "payments dev",
        "--output",
        "json",
        "--session-name",
        "ci-run",
        "--",
        PY,
        "-c",
        probe,
    )
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["target"] for r in records] == ["payments-dev/Developer", "payments-dev/ReadOnly"]
    for record in records:
        assert set(record) == {
            "target",
            "assumed_role_arn",
            "exit",
            "stdout",
            "stderr",
            "seconds",
            "error",
        }
        assert record["exit"] == 0 and record["error"] is None
        role = record["target"].split("/")[1]
        arn = f"arn:aws:sts::222222222222:assumed-role/{role}/ci-run"
        assert record["assumed_role_arn"] == arn
        assert record["stdout"] == arn + "\n"
        assert record["seconds"] > 0


def test_a_failing_target_does_not_stop_the_others(world: World) -> None:
    script = 'test "$ROLECALL_TARGET" != payments-dev/ReadOnly || exit 3; echo ran'
    result = world.run("each", "payments", "dev", "--", "sh", "-c", script)
    assert result.returncode == 1
    assert result.stdout == "payments-dev/Developer | ran\n"
    assert "1 of 2 targets succeeded; 1 failed:" in result.stderr
    assert "  payments-dev/ReadOnly  exit 3" in result.stderr


def test_an_assumption_failure_is_named_in_the_summary(tmp_path: Path, world: World) -> None:
    catalogue = tmp_path / "fleet.toml"
    catalogue.write_text(HUB_AND_SPOKES)
    result = world.run("each", "fleet", "--", "true", env={"ROLECALL_CATALOGUE": str(catalogue)})
    assert result.returncode == 1
    assert "0 of 3 targets succeeded; 3 failed:" in result.stderr
    assert (
        "spoke-a/Deploy  not assumed: hub/Jump needs a code from the MFA device "
        "arn:aws:iam::000000000000:mfa/alice." in result.stderr
    )


def test_parallel_runs_at_the_same_time(world: World) -> None:
    started = time.monotonic()
    result = world.run("each", "payments", "dev", "--parallel", "2", "--", "sleep", "3")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 5.5, elapsed


def test_no_match_names_the_query(world: World, sts: RecordingProxy) -> None:
    result = world.run("each", "payments", "prd", "--", "true")
    assert result.returncode == 2
    assert 'rolecall: no role matches "payments prd".' in result.stderr
    assert "hint: rolecall list payments prd" in result.stderr
    assert sts.calls() == []


def test_bad_input(world: World) -> None:
    assert world.run("each", "payments", "dev").returncode == 2  # no command
    assert world.run("each", "payments", "--parallel", "0", "--", "true").returncode == 2
    missing = world.run("each", "payments", "--", "true")  # Admin needs --var ticket=...
    assert missing.returncode == 2
    assert "payments-prod/Admin: the session-name template needs a value for ticket" in (
        missing.stderr
    )


def test_confirmation_needs_a_terminal_or_yes(world: World, sts: RecordingProxy) -> None:
    refused = world.run("each", "payments", "readonly", "--", "true")
    assert refused.returncode == 2
    assert "1 of the 2 matching roles ask for confirmation" in refused.stderr
    assert "  payments-prod/ReadOnly  111111111111" in refused.stderr
    assert "--yes" in refused.stderr
    assert sts.calls() == []
    accepted = world.run("each", "payments", "readonly", "--yes", "--", "true")
    assert accepted.returncode == 0, accepted.stderr
    assert "2 of 2 targets succeeded." in accepted.stderr


def test_a_shared_hub_is_assumed_once(tmp_path: Path, world: World, sts: RecordingProxy) -> None:
    catalogue = tmp_path / "fleet.toml"
    catalogue.write_text(HUB_AND_SPOKES)
    env = {"ROLECALL_CATALOGUE": str(catalogue)}
    # The MFA ledger refuses a code twice, so the run without the cache gets its own code.
    for code, extra in (("123456", []), ("654321", ["--no-cache"])):
        sts.requests.clear()
        result = world.run("each", "fleet", "--mfa-code", code, *extra, "--", "true", env=env)
        assert result.returncode == 0, result.stderr
        calls = sts.calls()
        hub = [c for c in calls if c.params["RoleArn"].endswith(":role/Jump")]
        spokes = sorted(c.params["RoleArn"] for c in calls if c not in hub)
        assert len(hub) == 1, extra
        assert hub[0].params["TokenCode"] == code
        assert spokes == [f"arn:aws:iam::55555555555{n}:role/Deploy" for n in (1, 2, 3)]
        assert all("TokenCode" not in c.params for c in calls if c not in hub)
    # The first run's hub and spokes are in the cache: no code, no call.
    sts.requests.clear()
    cached = world.run("each", "fleet", "--", "true", env=env)
    assert cached.returncode == 0, cached.stderr
    assert sts.calls() == []


def test_dry_run_shows_the_arns_and_assumes_nothing(world: World, sts: RecordingProxy) -> None:
    result = world.run(
        "each", "payments", "--dry-run", "--var", "ticket=INC42", "--template", "@ticket"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TARGET", "CLOUDTRAIL", "WILL", "SHOW", "VIA", "ASKS"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["payments-prod/Admin"] == [
        f"arn:aws:sts::111111111111:assumed-role/Admin/{user()}-INC42",
        "identity/OrgAccess",
        "confirm",
    ]
    assert rows["payments-dev/Developer"] == [
        f"arn:aws:sts::222222222222:assumed-role/Developer/{user()}-INC42",
        "-",
    ]
    assert "nothing was assumed" in result.stderr
    assert sts.requests == []


def test_ctrl_c_stops_every_child_and_still_summarises(world: World) -> None:
    process = subprocess.Popen(
        [
            PY,
            "-m",
            "rolecall",
            "each",
            "payments",
            "dev",
            "--",
            "sh",
            "-c",
            "echo $$; exec sleep 60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=world.env,
        start_new_session=True,
    )
    assert process.stdout is not None
    pids = [int(process.stdout.readline().rsplit("|", 1)[1]) for _ in range(2)]
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 130, stderr
    assert time.monotonic() - started < 10
    assert "rolecall: 0 of 2 targets succeeded (interrupted); 2 failed:" in stderr
    assert "stopped: the run was interrupted." in stderr
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"child {pid} is still running")
