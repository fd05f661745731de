"""The cache-hit memo never serves another catalogue's session; cache files cannot hang us;
`env` and `credential-process` keep secrets out of terminal scrollback."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.aws import FakeSts, RecordingProxy
from tests.conftest import EXAMPLE, World

TARGET = "payments-dev/Developer"
OLD, NEW = "222222222222", "555555555555"  # same length: the catalogues have the same size


def catalogue_copy(path: Path, account: str) -> Path:
    """The example catalogue with payments-dev moved to `account`, mtime pinned to 1 ns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(EXAMPLE.read_text().replace(OLD, account))
    os.utime(path, ns=(1, 1))  # as in a Nix store: every file has the same mtime
    return path


def env_json(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert result.returncode == 0, result.stderr
    variables: dict[str, str] = json.loads(result.stdout)["set"]
    return variables


def run_in(
    world: World, cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`rolecall ARGS` as a real process started in `cwd`."""
    return subprocess.run(
        [sys.executable, "-m", "rolecall", *args],
        capture_output=True,
        text=True,
        env={**world.env, **(env or {})},
        cwd=cwd,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )


def test_a_repointed_symlink_is_not_served_the_old_accounts_keys(
    world: World, tmp_path: Path, sts: RecordingProxy
) -> None:
    old = catalogue_copy(tmp_path / "store" / "a" / "accounts.toml", OLD)
    new = catalogue_copy(tmp_path / "store" / "b" / "accounts.toml", NEW)
    assert old.stat().st_size == new.stat().st_size
    link = tmp_path / "accounts.toml"
    link.symlink_to(old)
    world.env["ROLECALL_CATALOGUE"] = str(link)
    env_args = ("env", TARGET, "--format", "json")
    first = env_json(world.run(*env_args))
    assert f":{OLD}:" in first["ROLECALL_ASSUMED_ROLE_ARN"]
    assert env_json(world.run(*env_args)) == first, "a memo hit"
    process = world.run("credential-process", TARGET)
    assert process.returncode == 0, process.stderr
    assert world.run("credential-process", TARGET).stdout == process.stdout, "a memo hit"
    old_key = json.loads(process.stdout)["AccessKeyId"]
    assert len(sts.calls()) == 1

    staged = tmp_path / "accounts.toml.new"
    staged.symlink_to(new)
    os.replace(staged, link)  # re-pointed: same size, same mtime, another account

    listed = world.run("list", "--json")
    assert NEW in listed.stdout and OLD not in listed.stdout, listed.stderr
    now = env_json(world.run(*env_args))
    assert f":{NEW}:" in now["ROLECALL_ASSUMED_ROLE_ARN"]
    assert now["AWS_ACCESS_KEY_ID"] not in (first["AWS_ACCESS_KEY_ID"], old_key)
    again = world.run("credential-process", TARGET)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["AccessKeyId"] not in (first["AWS_ACCESS_KEY_ID"], old_key)
    assert env_json(world.run(*env_args)) == now, "the new account is memoised in turn"


def test_a_relative_catalogue_from_another_directory(
    world: World, tmp_path: Path, sts: RecordingProxy
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    real = catalogue_copy(one / "accounts.toml", OLD)
    catalogue_copy(two / "accounts.toml", "666666666666")  # a decoy with the same stat
    env_args = ("env", TARGET, "--format", "json")
    here = env_json(run_in(world, one, *env_args, env={"ROLECALL_CATALOGUE": "accounts.toml"}))
    assert f":{OLD}:" in here["ROLECALL_ASSUMED_ROLE_ARN"]
    relative = {"ROLECALL_CATALOGUE": "../one/accounts.toml"}
    for _ in range(2):  # the second answer comes from the memo
        there = env_json(run_in(world, two, *env_args, env=relative))
        assert there["AWS_ACCESS_KEY_ID"] == here["AWS_ACCESS_KEY_ID"]
    real.write_text(EXAMPLE.read_text().replace(OLD, NEW))  # the real catalogue changes
    moved = env_json(run_in(world, two, *env_args, env=relative))
    assert f":{NEW}:" in moved["ROLECALL_ASSUMED_ROLE_ARN"]
    assert moved["AWS_ACCESS_KEY_ID"] != here["AWS_ACCESS_KEY_ID"]
    # --catalogue given relative, from each directory: each its own file
    flag = ("env", TARGET, "--catalogue", "accounts.toml", "--format", "json")
    assert f":{NEW}:" in env_json(run_in(world, one, *flag))["ROLECALL_ASSUMED_ROLE_ARN"]
    decoy = env_json(run_in(world, two, *flag))["ROLECALL_ASSUMED_ROLE_ARN"]
    assert ":666666666666:" in decoy


@pytest.mark.parametrize("planted", ["session", "memo"])
def test_a_fifo_in_place_of_a_cache_file_does_not_hang(world: World, planted: str) -> None:
    first = world.run("credential-process", TARGET)
    assert first.returncode == 0, first.stderr
    directory = world.home / "cache" / ("sessions" if planted == "session" else "hits")
    (victim,) = directory.glob("*.json")
    victim.unlink()
    os.mkfifo(victim, 0o600)
    started = time.monotonic()
    second = world.run("credential-process", TARGET, timeout=30)  # a hang raises TimeoutExpired
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["Version"] == 1
    assert time.monotonic() - started < 20


def test_private_files_refuse_fifos_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "cache" / "x.json"
    fifo.parent.mkdir(mode=0o700)
    os.mkfifo(fifo, 0o600)
    probe = (
        "import sys; from pathlib import Path;"
        "from rolecall.core.private_files import append_private, open_private, read_private;"
        "p = Path(sys.argv[1]);"
        "assert open_private(p) is None; assert read_private(p) is None;"
        "\ntry:\n    append_private(p, b'x')\nexcept OSError:\n    pass\n"
        "else:\n    raise SystemExit('appended to a FIFO')\nprint('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(fifo)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"


CANARIES = ("ASIACANARYKEY0000001", "CANARYSECRET", "CANARYTOKEN")


def run_on_a_terminal(world: World, *args: str) -> tuple[int, str, str]:
    """Run rolecall with its stdout on a pty: (exit code, what the terminal showed, stderr)."""
    primary, secondary = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rolecall", *args],
            stdin=subprocess.DEVNULL,
            stdout=secondary,
            stderr=subprocess.PIPE,
            env=world.env,
            text=True,
            start_new_session=True,
        )
        os.close(secondary)
        secondary = -1
        shown = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:  # EIO: the last writer closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            elif proc.poll() is not None:
                break
        _, stderr = proc.communicate(timeout=60)
        return proc.returncode, shown.decode(errors="replace"), stderr
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)


@pytest.mark.parametrize("command", ["env", "credential-process"])
@pytest.mark.parametrize("cached", [False, True], ids=["miss", "memo-hit"])
def test_secrets_are_not_printed_on_a_terminal(tmp_path: Path, command: str, cached: bool) -> None:
    fake = FakeSts(
        access_key_id="ASIACANARYKEY0000001",
        secret="CANARYSECRETxxxxxxxxxxxxxxxxxxxxxxxxxx",
        token="CANARYTOKENyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
    )
    try:
        world = World(tmp_path, fake.url)
        if cached:
            for _ in range(2):  # the second run is answered by the memo
                piped = world.run(command, TARGET)
                assert piped.returncode == 0, piped.stderr
                assert "CANARYSECRET" in piped.stdout, "piped, the output is there for eval"
        code, shown, stderr = run_on_a_terminal(world, command, TARGET)
        assert code == 2, stderr
        for canary in CANARIES:
            assert canary not in shown + stderr, canary
        assert "scrollback" in stderr
        assert "hint:" in stderr and TARGET in stderr
        assert len(fake.calls()) == (1 if cached else 0), "refused before any STS call"
    finally:
        fake.close()
