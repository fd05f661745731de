"""Messages, exit codes and argument shapes a new user meets first (issue: every message right)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.conftest import EXAMPLE, World


def test_a_mistyped_target_gets_the_closest_targets(world: World) -> None:
    result = world.run("env", "payments-dev/Developr")
    assert result.returncode == 2
    assert 'matches "payments-dev/Developr"' in result.stderr
    assert "hint: did you mean payments-dev/Developer?" in result.stderr
    typo_in_account = world.run("env", "paymnts-dev/Developer")
    assert "did you mean payments-dev/Developer?" in typo_in_account.stderr


def test_journal_refuses_a_limit_below_one(world: World) -> None:
    for limit in ("-1", "0"):
        result = world.run("journal", "--limit", limit)
        assert result.returncode == 2
        assert "not a positive number" in result.stderr
    assert world.run("journal", "--limit", "3").returncode == 0


def test_words_before_the_double_dash_are_one_query(world: World) -> None:
    probe = "import os; print(os.environ['ROLECALL_TARGET'])"
    result = world.run("exec", "payments-dev", "developer", "--", sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "payments-dev/Developer"


def test_exec_help_shows_the_command_after_the_double_dash(world: World) -> None:
    usage = world.run("exec", "--help").stdout
    assert "-- COMMAND [ARG ...]" in usage
    assert "... ...]" not in usage


def test_an_earlier_hop_needing_a_variable_is_named(world: World) -> None:
    catalogue = world.tmp / "chain.toml"
    original = EXAMPLE.read_text()
    hub = '  name = "OrgAccess"\n'
    assert hub in original
    catalogue.write_text(original.replace(hub, hub + '  session_name = "{user}-{ticket}"\n', 1))
    result = world.run(
        "env",
        "payments-prod/Admin",
        "--template",
        "{user}",
        env={"ROLECALL_CATALOGUE": str(catalogue)},
    )
    assert result.returncode == 2, result.stderr
    assert (
        'hop 1 of 2 (identity/OrgAccess) uses the session-name template "{user}-{ticket}", '
        "which needs --var ticket=…." in result.stderr
    )


def test_the_command_line_mfa_prompt_shows_the_demo_code(tmp_path: Path) -> None:
    from rolecall.cli.context import Context
    from rolecall.demo.world import demo_mfa_code

    demo = Context(argparse.Namespace(), {"ROLECALL_DEMO": "1", "ROLECALL_HOME": str(tmp_path)})
    assert demo._demo_code() == f" [demo world: the code now is {demo_mfa_code()}]"
    assert Context(argparse.Namespace(), {"ROLECALL_HOME": str(tmp_path)})._demo_code() == ""


def test_the_journal_records_every_hop_of_a_chain(world: World) -> None:
    assume = ("exec", "payments-prod/Admin", "--var", "ticket=INC1", "--mfa-code", "123456")
    assert world.run(*assume, "--", "true").returncode == 0
    entries = json.loads(world.run("journal", "--json").stdout)
    assumed = [e for e in entries if e["event"] == "assume"]
    assert len(assumed) == 1
    hub, admin = assumed[0]["chain"]
    assert hub["target"] == "identity/OrgAccess"
    assert hub["assumed_role_arn"].startswith("arn:aws:sts::000000000000:assumed-role/OrgAccess/")
    assert hub["session_name"] and hub["new"] is True
    assert admin["assumed_role_arn"] == assumed[0]["assumed_role_arn"]
    assert admin["session_name"].endswith("-INC1")
    table = world.run("journal").stdout
    assert "hop 1/2" in table and hub["assumed_role_arn"] in table
    # The hub comes from the cache the second time: recorded, and marked as such.
    assert world.run(*assume[:4], "--session-name", "other-name", "--", "true").returncode == 0
    second = [
        e for e in json.loads(world.run("journal", "--json").stdout) if e["event"] == "assume"
    ]
    assert second[-1]["chain"][0]["new"] is False
    assert "hop 1/2 (cached)" in world.run("journal").stdout
