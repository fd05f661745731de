"""`rolecall prompt`: the segment's shapes and colours, the fast path's imports, and the
`--init` shell functions rendering the same segment with no process."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rolecall.core.shell.prompt import AMBER, DIM, RED, RESET, segment
from tests.conftest import isolated_env

ROLECALL = Path(sys.executable).with_name("rolecall")
NOW = 1_800_000_000.0
RUN = "from rolecall.entry import run; run()"


def shell_env(left: float, *, epoch: bool = True) -> dict[str, str]:
    """The variables of a rolecall shell whose session has `left` seconds to run."""
    expiry = int(time.time() + left)
    env = {
        "ROLECALL_TARGET": "payments-prod/ReadOnly",
        "ROLECALL_EXPIRATION": datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if epoch:
        env["ROLECALL_EXPIRATION_EPOCH"] = str(expiry)
    return env


def at(left: float) -> dict[str, str]:
    text = datetime.fromtimestamp(NOW + left, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"ROLECALL_TARGET": "a/R", "ROLECALL_EXPIRATION": text}


@pytest.mark.parametrize(
    ("left", "plain", "style"),
    [
        (2 * 3600 + 5 * 60, "a/R 2h05m", ""),
        (42 * 60 + 30, "a/R 42m", ""),
        (9 * 60, "a/R 9m", AMBER),
        (90, "a/R 1m", RED),
        (30, "a/R 30s", RED),
        (0, "a/R expired", DIM),
        (-600, "a/R expired", DIM),
    ],
)
def test_segment_shapes_and_colours(left: float, plain: str, style: str) -> None:
    assert segment(at(left), NOW) == plain
    coloured = segment(at(left), NOW, color=True)
    assert coloured == (f"{style}{plain}{RESET}" if style else plain)


def test_segment_outside_inside_a_server_shell_and_hostile_targets() -> None:
    assert segment({}, NOW) == ""
    assert segment({"ROLECALL_TARGET": "a/R", "ROLECALL_SERVER": "http://127.0.0.1:1/"}, NOW) == (
        "a/R ↻"
    )
    assert segment({"ROLECALL_TARGET": "a/R"}, NOW) == "a/R"
    assert segment({"ROLECALL_TARGET": "a/R", "ROLECALL_EXPIRATION": "soon"}, NOW) == "a/R"
    assert segment({"ROLECALL_TARGET": "a/\x1b]0;x\x07R"}, NOW) == "a/\\x1b]0;x\\x07R"


def run_prompt(tmp: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(ROLECALL), "prompt", *args],
        capture_output=True,
        text=True,
        env={**isolated_env(tmp), **env},
        check=True,
    )
    return done.stdout


def test_the_executable_answers_from_the_environment(tmp_path: Path) -> None:
    assert run_prompt(tmp_path, {}) == ""
    assert run_prompt(tmp_path, shell_env(42 * 60 + 30)) == "payments-prod/ReadOnly 42m\n"
    assert run_prompt(tmp_path, shell_env(330), "--color") == (
        f"{AMBER}payments-prod/ReadOnly 5m{RESET}\n"
    )
    server = {"ROLECALL_TARGET": "a/R", "ROLECALL_SERVER": "http://127.0.0.1:9/"}
    assert run_prompt(tmp_path, server) == "a/R ↻\n"
    assert "--init" in run_prompt(tmp_path, {}, "--help")


def test_the_fast_path_imports_no_argparse_catalogue_or_cache(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", RUN, "prompt", "--color"],
        capture_output=True,
        text=True,
        env={**isolated_env(tmp_path), **shell_env(600)},
        check=True,
    )
    assert "payments-prod/ReadOnly" in done.stdout
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines()}
    for heavy in ("argparse", "rolecall.cli", "rolecall.core.catalogue", "rolecall.core.locations"):
        assert heavy not in modules, heavy


def render(shell: str, tmp: Path, env: dict[str, str], color: bool) -> str:
    """What the `--init` function of `shell` puts in the prompt, markers removed."""
    init = tmp / f"init.{shell}"
    init.write_text(run_prompt(tmp, {}, "--init", shell, *(["--color"] if color else [])))
    if shell == "bash":
        command = ["bash", "--norc", "--noprofile", "-c"]
        script = f'source {init}; __rolecall_prompt; printf %s "$__rolecall_ps1"'
    elif shell == "zsh":
        command = ["zsh", "-f", "-c"]
        script = f'source {init}; __rolecall_prompt; print -rn -- "$__rolecall_ps1"'
    else:
        command = ["fish", "--no-config", "-c"]
        script = f"function fish_prompt; end; source {init}; __rolecall_prompt"
    env = {**isolated_env(tmp), **env, "XDG_RUNTIME_DIR": str(tmp)}
    done = subprocess.run([*command, script], capture_output=True, text=True, env=env, check=True)
    text = done.stdout.replace("\x01", "").replace("\x02", "")
    return text.replace("%{", "").replace("%}", "").removesuffix(" ")


SHELLS = [
    pytest.param(shell, marks=pytest.mark.skipif(not shutil.which(shell), reason="not installed"))
    for shell in ("bash", "zsh", "fish")
]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("left", [3 * 3600 + 90, 42 * 60 + 30, 5 * 60 + 30, 90 + 15, -3600])
def test_init_functions_render_what_rolecall_prompt_prints(
    shell: str, left: int, tmp_path: Path
) -> None:
    env = shell_env(left)
    for color in (False, True):
        expected = run_prompt(tmp_path, env, *(["--color"] if color else [])).removesuffix("\n")
        assert render(shell, tmp_path, env, color) == expected, (shell, color)
    if shell != "fish":  # fish reads only the epoch variable
        plain = run_prompt(tmp_path, env).removesuffix("\n")
        assert render(shell, tmp_path, shell_env(left, epoch=False), False) == plain


@pytest.mark.parametrize("shell", SHELLS)
def test_init_functions_outside_and_in_a_server_shell(shell: str, tmp_path: Path) -> None:
    assert render(shell, tmp_path, {}, True) == ""
    server = {"ROLECALL_TARGET": "a/R", "ROLECALL_SERVER": "http://127.0.0.1:9/"}
    assert render(shell, tmp_path, server, True) == "a/R ↻"
