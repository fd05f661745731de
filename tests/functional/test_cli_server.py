"""`exec --server` / `shell --server` against moto's STS: a child whose credentials renew.

The child is a real Python process using boto3's own container-credentials provider, exactly
as terraform, an IDE or a long script would; nothing in it knows about rolecall.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.aws import FakeSts
from tests.conftest import World

WATCHER = """
import json, os, sys, time
import boto3
env = {k: os.environ.get(k) for k in (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_REGION", "ROLECALL_TARGET")}
token_file = env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
print(json.dumps({"env": env, "token_mode": oct(os.stat(token_file).st_mode & 0o777)}), flush=True)
session = boto3.Session()
seen = []
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    key = session.get_credentials().get_frozen_credentials().access_key
    if not seen or seen[-1] != key:
        seen.append(key)
        arn = session.client("sts").get_caller_identity()["Arn"]
        print(json.dumps({"key": key, "arn": arn, "at": time.monotonic()}), flush=True)
    time.sleep(0.5)
"""


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_a_child_sees_new_keys_every_renewal_from_one_server(world: World) -> None:
    result = world.run(
        "exec",
        "--server",
        "payments-dev/Developer",
        "--duration",
        "15m",
        "--renew-before",
        "14m50s",
        "--",
        sys.executable,
        "-c",
        WATCHER,
        "24",
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    first, *seen = lines(result.stdout)
    env = first["env"]
    assert isinstance(env, dict)
    # No key, token or profile variable: each would win over the server in every SDK.
    assert env["AWS_ACCESS_KEY_ID"] is None
    assert env["AWS_SECRET_ACCESS_KEY"] is None
    assert env["AWS_SESSION_TOKEN"] is None
    assert env["AWS_PROFILE"] is None
    assert str(env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]).startswith("http://127.0.0.1:")
    assert env["ROLECALL_TARGET"] == "payments-dev/Developer"
    assert env["AWS_REGION"] == "eu-west-1"
    assert first["token_mode"] == "0o600"
    # Renewed every ~10 s over 24 s: at least two renewals, every key the assumed role.
    keys = [entry["key"] for entry in seen]
    assert len(set(keys)) >= 3, seen
    for entry in seen:
        assert ":assumed-role/Developer/" in str(entry["arn"])
    token_file = Path(str(env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]))
    assert not token_file.exists()  # removed on exit
    port = int(str(env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]).split(":")[2].split("/")[0])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    journal = world.run("journal", "--json").stdout
    assert sum(1 for e in json.loads(journal) if e.get("used_by") == "renewal") >= 2


def test_the_exit_code_passes_through(world: World) -> None:
    result = world.run("exec", "--server", "payments-dev/Developer", "--", "sh", "-c", "exit 7")
    assert result.returncode == 7, result.stderr


def test_a_signal_ending_the_child_ends_rolecall_the_same_way(world: World) -> None:
    result = world.run(
        "exec", "--server", "payments-dev/Developer", "--", "sh", "-c", "kill -TERM $$"
    )
    assert result.returncode == -signal.SIGTERM


def test_sigterm_to_rolecall_reaches_the_child_and_cleans_up(world: World) -> None:
    marker = world.tmp / "child-got-term"
    script = (
        f"import signal, sys, time, os\n"
        f"def bye(*a):\n    open({str(marker)!r}, 'w').close(); sys.exit(3)\n"
        f"signal.signal(signal.SIGTERM, bye)\n"
        f"print(os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'], flush=True)\n"
        f"time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "rolecall", "exec", "--server", "payments-dev/Developer"),
            *("--", sys.executable, "-c", script),
        ],
        env=world.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    token_file = Path(process.stdout.readline().strip())
    assert token_file.exists()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 3
    assert marker.exists()
    assert not token_file.exists()


def test_strangers_are_refused_by_the_running_server(world: World) -> None:
    probe = (
        "import os, urllib.request, urllib.error, json\n"
        "url = os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']\n"
        "token = os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN']\n"
        "def status(headers, method='GET'):\n"
        "    request = urllib.request.Request(url, headers=headers, method=method)\n"
        "    try:\n"
        "        return urllib.request.urlopen(request, timeout=5).status\n"
        "    except urllib.error.HTTPError as e:\n"
        "        return e.code\n"
        "host = url.split('/')[2]\n"
        "print(json.dumps([status({}), status({'Authorization': 'nope'}),\n"
        "    status({'Authorization': token, 'Host': 'evil.example'}),\n"
        "    status({'Authorization': token}, 'POST'), status({'Authorization': token})]))\n"
    )
    result = world.run(
        "exec", "--server", "payments-dev/Developer", "--", sys.executable, "-c", probe
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [401, 401, 403, 405, 200]


def test_a_failed_renewal_keeps_serving_and_says_so_once(
    fake_world: World, fake_sts: FakeSts
) -> None:
    go = fake_world.tmp / "sts-is-down"
    script = (
        "import boto3, os, sys, time\n"
        "s = boto3.Session()\n"
        "print(s.get_credentials().get_frozen_credentials().access_key, flush=True)\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.1)\n"
        "time.sleep(4)\n"
        "print(s.get_credentials().get_frozen_credentials().access_key, flush=True)\n"
    )
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "rolecall", "exec", "--server", "payments-dev/Developer"),
            *("--duration", "15m", "--renew-before", "14m57s"),
            *("--", sys.executable, "-c", script),
        ],
        env=fake_world.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline().strip()
    fake_sts.mode = "unavailable"
    go.touch()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.strip() == first  # the valid session is still served
    assert err.count("could not renew payments-dev/Developer") == 1, err
    assert "Traceback" not in err


def test_renew_before_must_be_shorter_than_the_session(world: World) -> None:
    result = world.run(
        "exec",
        "--server",
        "payments-dev/Developer",
        "--duration",
        "15m",
        "--renew-before",
        "20m",
        "--",
        "true",
    )
    assert result.returncode == 2
    assert "must be shorter than the session" in result.stderr
    alone = world.run("exec", "payments-dev/Developer", "--renew-before", "5m", "--", "true")
    assert alone.returncode == 2
    assert "--renew-before goes with --server" in alone.stderr


def test_nothing_is_left_in_the_servers_directory(world: World) -> None:
    assert world.run("exec", "--server", "payments-dev/Developer", "--", "true").returncode == 0
    servers = Path(world.env["ROLECALL_HOME"]) / "cache" / "servers"
    assert list(servers.iterdir()) == []
    assert os.stat(servers).st_mode & 0o777 == 0o700


def test_the_aws_cli_in_the_child_gets_the_assumed_identity(world: World) -> None:
    aws = Path(sys.executable).parent / "aws"
    if not aws.exists():
        pytest.skip("the AWS CLI is not installed in this environment (pip install awscli)")
    result = world.run(
        "exec",
        "--server",
        "payments-dev/Developer",
        "--",
        str(aws),
        "sts",
        "get-caller-identity",
        "--query",
        "Arn",
        "--output",
        "text",
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("arn:aws:sts::222222222222:assumed-role/Developer/")
