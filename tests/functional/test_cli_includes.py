"""Team catalogues from the command line: `check` and `list --json` name the included files,
`import --include` writes an include line instead of copying, and the cache-hit memo never
answers from a catalogue whose included file has changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import World, isolated_env

OLD, NEW = "222222222222", "555555555555"


def rolecall(tmp: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rolecall", *args],
        capture_output=True,
        text=True,
        env=isolated_env(tmp),
        cwd=cwd,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def team_text(account_id: str, name: str = "team-dev") -> str:
    return (
        'version = 1\n[defaults]\nsource_profile = "identity"\n'
        f'[[accounts]]\nname = "{name}"\nid = "{account_id}"\n'
        '[[accounts.roles]]\nname = "Developer"\n'
    )


def pinned(path: Path, text: str) -> None:
    """Replace `path` through a rename, mtime pinned to 1 ns: only inode and ctime differ."""
    staged = path.with_name(path.name + ".tmp")
    staged.write_text(text)
    os.utime(staged, ns=(1, 1))
    os.replace(staged, path)


def catalogue_with_team(folder: Path, account_id: str = OLD) -> Path:
    (folder / "team").mkdir(parents=True, exist_ok=True)
    pinned(folder / "team" / "accounts.toml", team_text(account_id))
    root = folder / "accounts.toml"
    root.write_text(
        'version = 1\ninclude = ["team/accounts.toml"]\n'
        '[[accounts]]\nname = "mine"\nid = "000000000001"\n'
        '[[accounts.roles]]\nname = "Admin"\nvia = "team-dev/Developer"\n'
    )
    return root


def test_check_reports_problems_in_included_files_at_their_own_paths(tmp_path: Path) -> None:
    root = catalogue_with_team(tmp_path / "cat")
    (tmp_path / "cat" / "team" / "accounts.toml").write_text(team_text("12"))
    result = rolecall(tmp_path, "check", "accounts.toml", cwd=tmp_path / "cat")
    assert result.returncode == 2
    # In file order: the chain into the refused account dangles in accounts.toml, then the
    # refused id, at its own file and line.
    assert result.stdout.startswith("accounts.toml:8: accounts[0].roles[0].via:"), result.stdout
    assert "\nteam/accounts.toml:6: accounts[0].id:" in result.stdout
    (tmp_path / "cat" / "team" / "accounts.toml").write_text(team_text(OLD))
    result = rolecall(tmp_path, "check", str(root))
    assert result.returncode == 0, result.stdout
    assert "2 accounts, 2 roles (1 chained)" in result.stdout
    assert "with 1 included file." in result.stdout


def test_list_json_names_the_file_of_each_role(tmp_path: Path) -> None:
    root = catalogue_with_team(tmp_path / "cat")
    for _ in range(2):  # parsed, then from the cache
        result = rolecall(tmp_path, "list", "--json", "--catalogue", str(root))
        assert result.returncode == 0, result.stderr
        files = {row["target"]: row["file"] for row in json.loads(result.stdout)}
        assert files == {
            "mine/Admin": str(root),
            "team-dev/Developer": str(tmp_path / "cat" / "team" / "accounts.toml"),
        }


def test_import_include_writes_an_include_line_instead_of_copying(tmp_path: Path) -> None:
    catalogue_with_team(tmp_path / "cat")
    team = tmp_path / "cat" / "team" / "accounts.toml"
    config = tmp_path / "aws-config-import"
    config.write_text(
        "[profile identity]\naws_access_key_id = AKIAEXAMPLE\n"
        f"[profile team-dev-developer]\nrole_arn = arn:aws:iam::{OLD}:role/Developer\n"
        "source_profile = identity\n"
        f"[profile team-dev-other]\nrole_arn = arn:aws:iam::{OLD}:role/Other\n"
        "source_profile = identity\n"
        "[profile mine-ops]\nrole_arn = arn:aws:iam::000000000077:role/Ops\n"
        "source_profile = team-dev-developer\n"
    )
    out = tmp_path / "me" / "accounts.toml"
    out.parent.mkdir()
    result = rolecall(
        tmp_path, "import", "aws-config", "--config", str(config), "--include", str(team),
        "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = tomllib.loads(out.read_text())
    assert written["include"] == ["../cat/team/accounts.toml"]
    assert [a["id"] for a in written["accounts"]] == ["000000000077"]
    assert written["accounts"][0]["roles"][0]["via"] == "team-dev/Developer"
    assert "has no role Other" in result.stderr
    assert "included, not copied" in result.stderr
    check = rolecall(tmp_path, "check", str(out))
    assert check.returncode == 0, check.stdout
    # Again, merging: the same bytes; the include is not repeated.
    before = out.read_text()
    again = rolecall(
        tmp_path, "import", "aws-config", "--config", str(config), "--include", str(team),
        "-o", str(out), "--merge",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert out.read_text() == before


def test_import_include_refuses_a_catalogue_that_has_copies(tmp_path: Path) -> None:
    catalogue_with_team(tmp_path / "cat")
    out = tmp_path / "mine.toml"
    out.write_text(team_text(OLD, name="copied"))
    config = tmp_path / "aws-config-import"
    config.write_text("[profile identity]\naws_access_key_id = AKIAEXAMPLE\n")
    result = rolecall(
        tmp_path, "import", "aws-config", "--config", str(config),
        "--include", str(tmp_path / "cat" / "team" / "accounts.toml"), "-o", str(out), "--merge",
    )  # fmt: skip
    assert result.returncode == 2
    assert "already has copied" in result.stderr


def env_json(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert result.returncode == 0, result.stderr
    variables: dict[str, str] = json.loads(result.stdout)["set"]
    return variables


def test_the_memo_never_answers_for_a_changed_included_file(world: World, tmp_path: Path) -> None:
    root = catalogue_with_team(tmp_path / "cat")
    team = tmp_path / "cat" / "team" / "accounts.toml"
    world.env["ROLECALL_CATALOGUE"] = str(root)
    args = ("env", "team-dev/Developer", "--format", "json")
    first = env_json(world.run(*args))
    assert f":{OLD}:" in first["ROLECALL_ASSUMED_ROLE_ARN"]
    assert env_json(world.run(*args)) == first, "a memo hit"
    memo = next((world.home / "cache" / "hits").iterdir())
    assert str(team) in memo.read_text(), "the memo names the included file"

    before = team.stat()
    pinned(team, team_text(NEW))  # same size, same mtime: another account
    assert team.stat().st_size == before.st_size
    moved = env_json(world.run(*args))
    assert f":{NEW}:" in moved["ROLECALL_ASSUMED_ROLE_ARN"]
    assert moved["AWS_ACCESS_KEY_ID"] != first["AWS_ACCESS_KEY_ID"]
    assert env_json(world.run(*args)) == moved, "memoised in turn"

    pinned(team, team_text(NEW, name="team-qa1"))  # the account is gone from the team file
    gone = world.run(*args)
    assert gone.returncode == 2, gone.stdout
    assert "AWS_ACCESS_KEY_ID" not in gone.stdout and "team-dev" in gone.stderr
