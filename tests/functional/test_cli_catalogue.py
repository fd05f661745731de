"""`rolecall check`, `rolecall list`, target lookup and catalogue location, as real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, isolated_env


def rolecall(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rolecall", *args],
        capture_output=True,
        text=True,
        env=env or isolated_env(tmp_path),
        timeout=60,
        check=False,
    )


def test_check_accepts_the_example(tmp_path: Path) -> None:
    result = rolecall(tmp_path, "check", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "OK, 5 accounts, 7 roles (2 chained)" in result.stdout


def test_check_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        "version = 1\n"
        "[[accounts]]\n"
        'name = "a"\n'
        'id = "12"\n'
        "[[accounts]]\n"
        'name = "b"\n'
        'id = "000000000002"\n'
        'colour = "red"\n'
        'roles = [{ name = "R", duration = "20h" }]\n'
    )
    result = rolecall(tmp_path, "check", str(bad))
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{bad}:4: accounts[0].id:")
    assert lines[1].startswith(f"{bad}:8: accounts[1].colour: unknown key")
    assert "did you mean 'color'?" in lines[1]
    assert lines[2].startswith(f"{bad}:9: accounts[1].roles[0].duration:")
    assert "3 problems" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_of_a_missing_file(tmp_path: Path) -> None:
    result = rolecall(tmp_path, "check", str(tmp_path / "nope.toml"))
    assert result.returncode == 2  # bad input
    assert result.stderr.startswith("rolecall: cannot read")
    assert "rolecall import aws-config -o PATH" in result.stderr  # works outside the repository
    assert "accounts.example.toml" not in result.stderr
    listing = rolecall(tmp_path, "--catalogue", str(tmp_path / "nope.toml"), "list")
    assert listing.returncode == 2
    assert "there is no catalogue at" in listing.stderr
    assert "Traceback" not in result.stderr


def test_check_never_echoes_control_characters(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'version = 1\n[defaults]\n"\\u001b[2Jx" = 1\nregion = "\\u001b]52;c;AAAA\\u0007"\n'
    )
    result = rolecall(tmp_path, "check", str(bad))
    assert result.returncode == 2
    assert "\x1b" not in result.stdout + result.stderr
    assert "\\x1b" in result.stdout


def test_list_table_and_query(tmp_path: Path) -> None:
    result = rolecall(tmp_path, "list", "--catalogue", str(EXAMPLE), "payments", "read")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TARGET", "ACCOUNT", "ID", "REGION", "DURATION", "TAGS"]
    assert [line.split()[0] for line in lines[1:]] == [
        "payments-prod/ReadOnly",
        "payments-dev/ReadOnly",
    ]
    assert "[prod]" in lines[1]


def test_list_json_rows(tmp_path: Path) -> None:
    result = rolecall(tmp_path, "--catalogue", str(EXAMPLE), "list", "--json", "admin")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["target"] == "payments-prod/Admin"
    assert row["account"] == "payments-prod"
    assert row["account_id"] == "111111111111"
    assert row["role"] == "Admin"
    assert row["arn"] == "arn:aws:iam::111111111111:role/ops/Admin"
    assert row["region"] == "eu-west-1"
    assert row["tags"] == ["prod", "payments", "admin"]


def test_catalogue_lookup_order(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    # 1. nothing configured: a sentence pointing at the config dir
    result = rolecall(tmp_path, "list", env=env)
    assert result.returncode == 2
    assert "there is no catalogue at" in result.stderr
    assert str(Path(env["ROLECALL_HOME"]) / "config" / "accounts.toml") in result.stderr
    # 2. the config dir
    config = Path(env["ROLECALL_HOME"]) / "config"
    config.mkdir(parents=True)
    (config / "accounts.toml").write_bytes(EXAMPLE.read_bytes())
    assert rolecall(tmp_path, "list", env=env).stdout.count("\n") == 8
    # 3. ROLECALL_CATALOGUE wins over the config dir
    other = tmp_path / "other.toml"
    other.write_text(
        'version = 1\n[[accounts]]\nname = "x"\nid = "000000000009"\nroles = [{name = "R"}]\n'
    )
    env["ROLECALL_CATALOGUE"] = str(other)
    assert "x/R" in rolecall(tmp_path, "list", env=env).stdout
    # 4. --catalogue wins over both
    result = rolecall(tmp_path, "list", "--catalogue", str(EXAMPLE), env=env)
    assert "x/R" not in result.stdout
    assert "payments-prod/Admin" in result.stdout


def test_invalid_catalogue_fails_list_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 3\n")
    result = rolecall(tmp_path, "list", "--catalogue", str(bad))
    assert result.returncode == 2
    assert "schema version 3 is not supported" in result.stderr
    assert "hint: run `rolecall check`" in result.stderr


@pytest.mark.parametrize("args", [[], ["list"], ["check"]])
def test_help_everywhere(tmp_path: Path, args: list[str]) -> None:
    result = rolecall(tmp_path, *args, "--help")
    assert result.returncode == 0
    assert "usage: rolecall" in result.stdout


def test_version(tmp_path: Path) -> None:
    result = rolecall(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("rolecall ")


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    result = rolecall(tmp_path, "list", "--no-such-flag")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


FAST_PATH_PROBE = """
import sys
from rolecall.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("boto3", "botocore", "textual", "rich") if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--catalogue", str(EXAMPLE)],
        ["list", "--catalogue", str(EXAMPLE), "--json", "prod"],
        ["check", str(EXAMPLE)],
    ],
)
def test_fast_paths_import_neither_boto3_nor_textual(tmp_path: Path, args: list[str]) -> None:
    for _ in range(2):  # cold, then served from the parsed-catalogue cache
        result = subprocess.run(
            [sys.executable, "-c", FAST_PATH_PROBE, *args],
            capture_output=True,
            text=True,
            env=isolated_env(tmp_path),
            timeout=60,
            check=False,
        )
        assert "HEAVY=\n" in result.stderr, result.stderr
