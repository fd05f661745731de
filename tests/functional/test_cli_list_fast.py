"""The `rolecall list` fast path (`rolecall.core.catalogue.listing`) against the full command.

Every shape is run twice as a real process: through the executable's entry point (which
answers a warm `list` from the `.list` cache file) and through `rolecall.cli.main` alone
(argparse, the model, `cmd_list`). stdout, stderr and the exit code must be identical.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from rolecall.core.catalogue import listing
from tests.conftest import EXAMPLE, isolated_env

ENTRY = "from rolecall.entry import run; run()"
FULL = "import sys; from rolecall.cli import main; sys.exit(main(sys.argv[1:]))"

UNICODE = """version = 1
[[accounts]]
name = "unicode"
id = "000000000009"
tags = ["prod", "☃"]
description = "wide 表 text"
roles = [{ name = "Admin" }, { name = "Viewer", tags = ["ß"] }]

[[accounts]]
name = "plain"
id = "000000000010"
region = "eu-central-1"
roles = [{ name = "Reader", duration = "1h30m" }, { name = "Writer", tags = ["prod", "team-a"] }]
"""


def run(code: str, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stdout, result.stderr


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = isolated_env(tmp_path)
    env["ROLECALL_CATALOGUE"] = str(EXAMPLE)
    assert run(FULL, env, "list")[0] == 0  # warm the parsed-catalogue cache
    return env


SHAPES = [
    [],
    ["payments"],
    ["PAYMENTS", "dev"],
    ["prod"],
    ["dev", "payments-dev/", "arn:aws"],
    ["no-such-role"],
    [""],
    ["payments", "--catalogue", str(EXAMPLE)],
    ["--catalogue=" + str(EXAMPLE), "prod"],
    ["--json"],
    ["prod", "--json"],
    ["--json", "zzz"],
    ["-x"],
    ["--cat", str(EXAMPLE)],
    ["--catalogue"],
    ["a", "--catalogue", str(EXAMPLE), "b"],
    ["--help"],
    ["--", "prod"],
]


@pytest.mark.parametrize("shape", SHAPES, ids=repr)
def test_the_fast_path_prints_what_the_full_command_prints(
    env: dict[str, str], shape: list[str]
) -> None:
    argv = ["list", *shape]
    assert run(ENTRY, env, *argv) == run(FULL, env, *argv)


@pytest.mark.parametrize(
    "before", [["--catalogue", str(EXAMPLE)], [f"--catalogue={EXAMPLE}"], []], ids=repr
)
def test_catalogue_before_the_command(env: dict[str, str], before: list[str]) -> None:
    argv = [*before, "list", "payments"]
    expected = run(FULL, env, *argv)
    assert expected[0] == 0 and "payments-dev/Developer" in expected[1]
    assert run(ENTRY, env, *argv) == expected


def test_non_ascii_text_alike(tmp_path: Path, env: dict[str, str]) -> None:
    wide = tmp_path / "wide.toml"
    wide.write_text(UNICODE)
    env["ROLECALL_CATALOGUE"] = str(wide)
    assert run(FULL, env, "check", str(wide))[0] == 0
    run(FULL, env, "list")  # cache it
    for query in (
        [],
        ["unicode"],
        ["UNICODE"],
        ["plain"],
        ["prod"],
        ["表"],
        ["reader"],
        ["☃", "viewer"],
    ):
        assert run(ENTRY, env, "list", *query) == run(FULL, env, "list", *query)
    out = io.StringIO()
    assert listing.serve(["list", "☃"], env, out, io.StringIO()) == 0
    assert "unicode/Admin  [prod]" in out.getvalue()


def test_rows_that_need_escaping_are_left_to_the_full_command(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The loader refuses control characters, so this is defence in depth: a row whose cells
    # would need escaping is stored empty and the full command (which escapes) answers.
    from rolecall.core.catalogue import store

    copy = tmp_path / "accounts.toml"
    copy.write_bytes(EXAMPLE.read_bytes())
    env["ROLECALL_CATALOGUE"] = str(copy)
    real = listing.cells

    def hostile(role: object, duration: str) -> tuple[str, str, str, str, str]:
        cells = real(role, duration)  # type: ignore[arg-type]
        if cells[0].startswith("payments-dev/"):
            return (cells[0] + "\x1b[2J", *cells[1:])
        return cells

    monkeypatch.setattr(listing, "cells", hostile)
    store.load(copy, Path(env["ROLECALL_HOME"]) / "cache")
    assert listing.serve(["list", "payments-dev"], env, io.StringIO(), io.StringIO()) is None
    out = io.StringIO()
    assert listing.serve(["list", "payments-prod"], env, out, io.StringIO()) == 0
    assert "payments-prod/" in out.getvalue()


def test_a_cold_or_changed_catalogue_goes_to_the_full_command(
    tmp_path: Path, env: dict[str, str]
) -> None:
    copy = tmp_path / "accounts.toml"
    copy.write_bytes(EXAMPLE.read_bytes())
    env["ROLECALL_CATALOGUE"] = str(copy)
    assert listing.serve(["list"], env, io.StringIO(), io.StringIO()) is None  # no cache yet
    first = run(ENTRY, env, "list")
    assert first == run(FULL, env, "list")
    assert listing.serve(["list"], env, io.StringIO(), io.StringIO()) == 0  # warm now
    copy.write_text(copy.read_text().replace("payments-dev", "payments-qa"))
    assert listing.serve(["list"], env, io.StringIO(), io.StringIO()) is None  # edited: stale
    again = run(ENTRY, env, "list")
    assert again == run(FULL, env, "list")
    assert "payments-qa/Developer" in again[1]


def test_includes_are_checked(tmp_path: Path, env: dict[str, str]) -> None:
    team = tmp_path / "team.toml"
    team.write_text(
        'version = 1\n[[accounts]]\nname = "team"\nid = "000000000011"\n'
        'roles = [{ name = "Dev" }]\n'
    )
    main = tmp_path / "main.toml"
    main.write_text(f'version = 1\ninclude = ["{team.name}"]\n')
    env["ROLECALL_CATALOGUE"] = str(main)
    if run(FULL, env, "check", str(main))[0] != 0:
        pytest.skip("include syntax differs")
    run(FULL, env, "list")
    assert listing.serve(["list"], env, io.StringIO(), io.StringIO()) == 0
    team.write_text(team.read_text().replace("Dev", "Ops"))
    assert listing.serve(["list"], env, io.StringIO(), io.StringIO()) is None
    result = run(ENTRY, env, "list", "team")
    assert result == run(FULL, env, "list", "team")
    assert "team/Ops" in result[1]


def test_an_untrusted_catalogue_is_refused_alike(tmp_path: Path, env: dict[str, str]) -> None:
    shared = tmp_path / "shared.toml"
    shared.write_bytes(EXAMPLE.read_bytes())
    env["ROLECALL_CATALOGUE"] = str(shared)
    run(FULL, env, "list")
    shared.chmod(0o666)
    full = run(FULL, env, "list")
    assert full[0] != 0
    assert run(ENTRY, env, "list") == full


def test_a_closed_pipe_is_not_an_error(env: dict[str, str]) -> None:
    for code in (ENTRY, FULL):
        reader = subprocess.Popen(
            [sys.executable, "-c", code, "list"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert reader.stdout is not None and reader.stderr is not None
        reader.stdout.close()  # `| head -0`
        assert reader.wait(timeout=60) == 0, code
        assert b"Traceback" not in reader.stderr.read()


def test_a_warm_list_imports_no_argparse_model_or_typing(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", ENTRY, "list", "payments"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "payments-dev/Developer" in result.stdout
    modules = {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and not line.rstrip().endswith("package")
    }
    assert "rolecall.core.catalogue.listing" in modules
    for heavy in (
        "argparse",
        "typing",
        "pathlib",
        "re",
        "json",
        "rolecall.cli",
        "rolecall.core.catalogue.model",
        "rolecall.core.catalogue.store",
        "rolecall.core.text",
    ):
        assert heavy not in modules, heavy


def test_the_table_matches_the_cli_columns() -> None:
    from rolecall.cli.output import columns

    rows = [
        ("a/b  [prod]", "000000000001", "eu-west-1", "1h", ""),
        ("long-account/Role", "000000000002", "us-east-1", "1h30m", "prod,x"),
        ("c/d", "1", "r", "15m", "tag  "),
        ("ü/ß", "2", "eu-central-1", "45s", "t\u00a0"),
    ]
    assert listing.table(rows) == columns(listing.HEADER, rows)
    assert listing.table([]) == columns(listing.HEADER, [])
