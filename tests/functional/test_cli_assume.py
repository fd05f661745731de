"""The assuming commands as real processes against moto's server and a fault endpoint."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.aws import FakeSts, RecordingProxy, free_port, journal_lines
from tests.conftest import World

PRINT_ARN = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"


def test_exec_carries_the_identity_and_the_session_name(world: World, sts: RecordingProxy) -> None:
    result = world.run(
        "exec",
        "payments-prod/Admin",
        "--var",
        "ticket=INC1234",
        "--mfa-code",
        "123456",
        "--",
        sys.executable,
        "-c",
        PRINT_ARN,
    )
    assert result.returncode == 0, result.stderr
    user = os.environ.get("USER") or __import__("getpass").getuser()
    assert result.stdout.strip() == (f"arn:aws:sts::111111111111:assumed-role/Admin/{user}-INC1234")
    hub, admin = sts.calls()
    assert hub.params["TokenCode"] == "123456"
    assert admin.params["ExternalId"] == "payments-7f3a"
    events = [(e["event"], e["target"]) for e in journal_lines(world.home / "state/journal.jsonl")]
    assert events == [("assume", "payments-prod/Admin"), ("exec", "payments-prod/Admin")]


def test_child_environment(world: World) -> None:
    env = {
        "AWS_PROFILE": "stale",
        "AWS_DEFAULT_PROFILE": "stale",
        "AWS_SECURITY_TOKEN": "stale",
        "AWS_SESSION_TOKEN": "stale",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.2/x",
        "KEEP_ME": "yes",
    }
    probe = "import json, os; print(json.dumps(dict(os.environ)))"
    result = world.run("exec", "payments-dev/Developer", "--", sys.executable, "-c", probe, env=env)
    assert result.returncode == 0, result.stderr
    child = json.loads(result.stdout)
    for gone in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"):
        assert gone not in child
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in child
    assert child["KEEP_ME"] == "yes"
    assert child["AWS_SESSION_TOKEN"] != "stale"
    assert child["AWS_REGION"] == child["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert child["AWS_CREDENTIAL_EXPIRATION"].endswith("Z")
    assert child["ROLECALL_TARGET"] == "payments-dev/Developer"
    assert child["ROLECALL_EXPIRATION"] == child["AWS_CREDENTIAL_EXPIRATION"]
    assert child["ROLECALL_SESSION_NAME"]


@pytest.mark.parametrize("code", [0, 1, 37])
def test_exec_passes_the_exit_code_through(world: World, code: int) -> None:
    result = world.run("exec", "payments-dev/Developer", "--", "sh", "-c", f"exit {code}")
    assert result.returncode == code


def test_exec_passes_signals_through(world: World) -> None:
    result = world.run("exec", "payments-dev/Developer", "--", "sh", "-c", "kill -TERM $$")
    assert result.returncode == -signal.SIGTERM


def test_exec_of_a_missing_program(world: World) -> None:
    result = world.run("exec", "payments-dev/Developer", "--", "no-such-program-here")
    assert result.returncode == 127
    assert "command not found" in result.stderr


def test_env_formats(world: World) -> None:
    sh = world.run("env", "payments-dev/Developer")
    assert sh.returncode == 0, sh.stderr
    check = subprocess.run(
        ["bash", "-c", sh.stdout + '\nprintf "%s|%s" "$ROLECALL_TARGET" "${AWS_PROFILE-unset}"'],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "AWS_PROFILE": "stale"},
        check=True,
    )
    assert check.stdout == "payments-dev/Developer|unset"
    as_json = json.loads(world.run("env", "payments-dev/Developer", "--format", "json").stdout)
    assert as_json["set"]["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert "AWS_PROFILE" in as_json["unset"]
    fish = world.run("env", "payments-dev/Developer", "--format", "fish").stdout
    assert "set -gx AWS_SESSION_TOKEN '" in fish and "set -e AWS_PROFILE;" in fish
    ps = world.run("env", "payments-dev/Developer", "--format", "powershell").stdout
    assert "$Env:AWS_REGION = 'eu-west-1'" in ps
    assert "Remove-Item Env:AWS_PROFILE" in ps


def test_credential_process_feeds_botocore(world: World, tmp_path: Path) -> None:
    result = world.run("credential-process", "data-lake/Analyst")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["Version"] == 1
    assert set(document) == {
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    }
    assert document["Expiration"].endswith("Z")
    datetime.fromisoformat(document["Expiration"].replace("Z", "+00:00"))
    config = Path(world.env["AWS_CONFIG_FILE"])
    command = f"{sys.executable} -m rolecall credential-process data-lake/Analyst"
    config.write_text(config.read_text() + f"[profile lake]\ncredential_process = {command}\n")
    consumer = subprocess.run(
        [
            sys.executable,
            "-c",
            "import boto3; s = boto3.Session(profile_name='lake');"
            "print(s.client('sts', region_name='us-east-1').get_caller_identity()['Arn'])",
        ],
        capture_output=True,
        text=True,
        env=world.env,
        timeout=60,
        check=False,
    )
    assert consumer.returncode == 0, consumer.stderr
    assert ":assumed-role/Analyst/oncall-" in consumer.stdout


def test_second_credential_process_works_with_sts_stopped(tmp_path: Path) -> None:
    fake = FakeSts()
    world = World(tmp_path, fake.url)
    first = world.run("credential-process", "payments-dev/Developer")
    assert first.returncode == 0, first.stderr
    fake.close()
    second = world.run("credential-process", "payments-dev/Developer")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)
    assert len(fake.calls()) == 1


def test_sessions_forget_and_prompt(world: World) -> None:
    assert world.run("env", "payments-dev/Developer").returncode == 0
    assert world.run("env", "data-lake/Analyst").returncode == 0
    rows = json.loads(world.run("sessions", "--json").stdout)
    assert sorted(r["target"] for r in rows) == ["data-lake/Analyst", "payments-dev/Developer"]
    assert all(r["access_key_id"].startswith("****") for r in rows)
    assert all(50 * 60 < r["remaining_seconds"] <= 8 * 3600 for r in rows)
    table = world.run("sessions").stdout
    assert "payments-dev/Developer" in table and "SecretAccessKey" not in table
    assert world.run("forget", "payments-dev/Developer").returncode == 0
    assert [r["target"] for r in json.loads(world.run("sessions", "--json").stdout)] == [
        "data-lake/Analyst"
    ]
    assert world.run("forget", "--all").returncode == 0
    assert json.loads(world.run("sessions", "--json").stdout) == []
    assert world.run("forget").returncode == 2
    prompt = world.run(
        "prompt",
        env={"ROLECALL_TARGET": "a/R", "ROLECALL_EXPIRATION": "2999-01-01T00:00:00Z"},
    )
    assert prompt.stdout.startswith("a/R ") and prompt.stdout.strip().endswith("m")
    assert world.run("prompt").stdout == ""
    expired = world.run(
        "prompt", env={"ROLECALL_TARGET": "a/R", "ROLECALL_EXPIRATION": "2000-01-01T00:00:00Z"}
    )
    assert expired.stdout == "a/R expired\n"


def test_journal_command(world: World) -> None:
    world.run("exec", "payments-dev/Developer", "--", "true")
    entries = json.loads(world.run("journal", "--json").stdout)
    assert [e["event"] for e in entries] == ["assume", "exec"]
    assert entries[1]["program"] == "true"
    assert entries[0]["assumed_role_arn"].startswith("arn:aws:sts::222222222222:assumed-role/")
    journal = world.home / "state/journal.jsonl"
    assert journal.stat().st_mode & 0o777 == 0o600
    assert "exec" in world.run("journal", "--limit", "1").stdout


def test_nested_shell_is_refused(world: World) -> None:
    result = world.run("shell", "payments-dev/Developer", env={"ROLECALL_TARGET": "x/Y"})
    assert result.returncode == 2
    assert "already carries x/Y" in result.stderr
    assert "--nest" in result.stderr


def test_shell_runs_the_users_shell(world: World, tmp_path: Path) -> None:
    script = tmp_path / "fake-shell"
    script.write_text('#!/bin/sh\necho "in $ROLECALL_TARGET"\nexit 5\n')
    script.chmod(0o755)
    result = world.run(
        "shell",
        "payments-dev/Developer",
        "--nest",
        env={"SHELL": str(script), "ROLECALL_TARGET": "x"},
    )
    assert result.returncode == 5
    assert result.stdout == "in payments-dev/Developer\n"


def test_missing_mfa_without_a_terminal(world: World) -> None:
    result = world.run("env", "payments-prod/Admin", "--var", "ticket=1")
    assert result.returncode == 1
    assert "needs a code from the MFA device arn:aws:iam::000000000000:mfa/alice" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["env", "payments-prod/Admin"], "needs a value for ticket"),
        (["env", "payments-dev/Developer", "--duration", "forever"], "is not a duration"),
        (["env", "payments-dev/Developer", "--var", "novalue"], "is not NAME=VALUE"),
        (["env", "payments-dev/Developer", "--mfa-code", "12"], "six digits"),
        (["env", "payments-dev/Developer", "--region", "moon-1"], "not an AWS region"),
        (["env", "readonly"], "matches 2 roles"),
        (["env", "payments-dev/Developer", "--session-name", "x"], "is not valid"),
        (["exec", "payments-dev/Developer"], "no command was given"),
    ],
)
def test_bad_input_exits_2(world: World, args: list[str], message: str) -> None:
    result = world.run(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("throttling", "STS is throttling requests"),
        ("internal", "STS had an internal problem"),
        ("unavailable", "STS had an internal problem"),
        ("access_denied", "arn:aws:iam::000000000000:user/alice is not allowed to assume"),
        ("expired_token", 'the credentials of profile "identity" are expired'),
        ("invalid_token", "are expired or not valid (InvalidClientTokenId)"),
        ("invalid_mfa", "did not accept the MFA code"),
        ("max_duration", "does not allow sessions of 480 minutes"),
        ("region_disabled", "STS is not activated in eu-west-1"),
        ("malformed", "could not read"),
        ("hang", "did not answer in time"),
    ],
)
def test_sts_failures_are_sentences(
    fake_world: World, fake_sts: FakeSts, mode: str, message: str
) -> None:
    fake_sts.mode = mode
    fake_world.env["ROLECALL_STS_READ_TIMEOUT"] = "0.5"
    started = time.monotonic()
    result = fake_world.run("env", "payments-dev/Developer")
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("rolecall: ") and message in lines[0], result.stderr
    assert lines[1].startswith("  hint: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert elapsed < 3 * (2 + 0.5) + 10, "bounded by the pinned attempts and timeouts"
    if mode in ("throttling", "internal", "unavailable", "hang"):
        assert len(fake_sts.calls()) == 3, "standard retry mode, 3 attempts in total"


def test_connection_refused(tmp_path: Path) -> None:
    world = World(tmp_path, f"http://127.0.0.1:{free_port()}")
    result = world.run("env", "payments-dev/Developer")
    assert result.returncode == 1
    assert "cannot reach STS at http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_profile(world: World) -> None:
    Path(world.env["AWS_CONFIG_FILE"]).write_text("")
    result = world.run("env", "payments-dev/Developer")
    assert result.returncode == 1
    assert 'the AWS profile "identity" does not exist' in result.stderr


def test_eight_processes_make_one_sts_call(tmp_path: Path) -> None:
    fake = FakeSts(delay=0.3)
    try:
        world = World(tmp_path, fake.url)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "rolecall", "credential-process", "payments-dev/Developer"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=world.env,
            )
            for _ in range(8)
        ]
        outputs = [p.communicate(timeout=60) for p in procs]
        assert all(p.returncode == 0 for p in procs), outputs
        documents = {out for out, _ in outputs}
        assert len(documents) == 1, "every process got the same, complete session"
        assert len(fake.calls()) == 1
    finally:
        fake.close()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_cache_hit_does_not_import_boto3(world: World) -> None:
    assert world.run("env", "payments-dev/Developer").returncode == 0
    probe = (
        "import sys; from rolecall.cli import main; main(sys.argv[1:]);"
        "heavy = [m for m in ('boto3', 'botocore', 'textual') if m in sys.modules];"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)"
    )
    for command in (
        ["env", "payments-dev/Developer"],
        ["credential-process", "payments-dev/Developer"],
    ):
        result = subprocess.run(
            [sys.executable, "-c", probe, *command],
            capture_output=True,
            text=True,
            env=world.env,
            check=False,
        )
        assert "HEAVY=\n" in result.stderr, result.stderr


def test_canaries_never_leak(tmp_path: Path) -> None:
    fake = FakeSts(
        access_key_id="ASIACANARYKEY0000001",
        secret="CANARYSECRETxxxxxxxxxxxxxxxxxxxxxxxxxx",
        token="CANARYTOKENyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
    )
    try:
        world = World(tmp_path, fake.url)
        mfa = "918273"
        argv_file = tmp_path / "argv"
        outputs = [
            world.run(
                "exec",
                "payments-prod/Admin",
                "--var",
                "ticket=1",
                "--mfa-code",
                mfa,
                "--",
                "sh",
                "-c",
                f"cat /proc/$$/cmdline > {argv_file}",
            ),
            world.run("sessions"),
            world.run("sessions", "--json"),
            world.run("journal", "--json"),
            world.run("prompt", env={"ROLECALL_TARGET": "a/R"}),
        ]
        fake.mode = "access_denied"
        world.run("forget", "--all")
        outputs.append(world.run("env", "payments-dev/Developer"))
        fake.mode = "hang"
        world.env["ROLECALL_STS_READ_TIMEOUT"] = "0.3"
        outputs.append(world.run("env", "data-lake/Analyst"))
        visible = "".join(o.stdout + o.stderr for o in outputs)
        visible += argv_file.read_text()
        visible += (world.home / "state/journal.jsonl").read_text()
        for canary in ("CANARYSECRET", "CANARYTOKEN", "ASIACANARYKEY0000001", mfa):
            assert canary not in visible, canary
        assert "0001" in visible, "the masked key id is shown"
        ledger = (world.home / "cache/mfa-ledger.json").read_text()
        assert mfa not in ledger
    finally:
        fake.close()


def test_session_from_the_library(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    import rolecall

    boto_session = rolecall.session("data-lake/Analyst")
    identity = boto_session.client("sts").get_caller_identity()
    assert ":assumed-role/Analyst/oncall-" in identity["Arn"]
    frozen = boto_session.get_credentials().get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA")
    assert boto_session.region_name == "us-east-1"
    credentials = boto_session.get_credentials()
    assert credentials._expiry_time > datetime.now(UTC)


def imported_modules(world: World, *args: str) -> tuple[str, set[str]]:
    """Run the real executable's entry point under -X importtime: (stdout, modules)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from rolecall.entry import run; run()", *args],
        capture_output=True,
        text=True,
        env=world.env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    modules = {
        line.split("|")[-1].strip() for line in result.stderr.splitlines() if "import time" in line
    }
    return result.stdout, modules


def test_repeated_hits_skip_argparse_the_catalogue_and_sts_code(world: World) -> None:
    first = world.run("credential-process", "payments-dev/Developer")
    assert first.returncode == 0, first.stderr
    stdout, modules = imported_modules(world, "credential-process", "payments-dev/Developer")
    assert stdout == first.stdout
    for heavy in (
        "argparse",
        "rolecall.cli",
        "rolecall.core.sts.assumer",
        "rolecall.core.catalogue.model",
        # The stdlib a hit does without (each costs a hit milliseconds).
        "typing",
        "re",
        "json",
        "pathlib",
        "datetime",
        "hashlib",
        "shlex",
        "contextlib",
        "rolecall.core.credentials",
        "rolecall.core.sts.session_cache",
    ):
        assert heavy not in modules, heavy
    for fmt in ("sh", "fish", "json"):
        slow = world.run("env", "payments-dev/Developer", "--format", fmt)
        fast, modules = imported_modules(world, "env", "payments-dev/Developer", "--format", fmt)
        assert fast == slow.stdout
        assert "rolecall.cli" not in modules


def test_the_memo_follows_catalogue_edits_and_the_environment(
    world: World, tmp_path: Path, sts: RecordingProxy
) -> None:
    catalogue = tmp_path / "accounts.toml"
    catalogue.write_text(Path(world.env["ROLECALL_CATALOGUE"]).read_text())
    world.env["ROLECALL_CATALOGUE"] = str(catalogue)
    args = ("env", "payments-dev/Developer", "--format", "json")
    assert json.loads(world.run(*args).stdout)["set"]["AWS_REGION"] == "eu-west-1"
    assert json.loads(world.run(*args).stdout)["set"]["AWS_REGION"] == "eu-west-1"
    assert len(sts.calls()) == 1
    text = catalogue.read_text().replace(
        'name = "Developer"\n  duration = "8h"',
        'name = "Developer"\n  duration = "8h"\n  region = "eu-central-1"',
    )
    catalogue.write_text(text)
    assert json.loads(world.run(*args).stdout)["set"]["AWS_REGION"] == "eu-central-1"
    assert len(sts.calls()) == 2, "a changed catalogue is a different session"
    memos = world.home / "cache" / "hits"
    assert len(list(memos.iterdir())) == 1
    other = world.run(*args, env={"AWS_PROFILE": "someone-else"})
    assert other.returncode == 0
    assert len(list(memos.iterdir())) == 2, "another environment: its own memo"
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in memos.iterdir())


def test_the_library_renews_by_the_same_rule(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    import time

    import rolecall

    boto_session = rolecall.session("payments-dev/Developer", duration=900, renew_before=897)
    credentials = boto_session.get_credentials()
    assert credentials._advisory_refresh_timeout == 897
    first = credentials.get_frozen_credentials().access_key
    time.sleep(4)
    second = credentials.get_frozen_credentials().access_key
    assert second != first
    identity = boto_session.client("sts").get_caller_identity()
    assert ":assumed-role/Developer/" in identity["Arn"]
