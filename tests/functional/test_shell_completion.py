"""`rolecall completion bash|zsh|fish`, driven in the real shells, and the names file.

bash is driven by setting COMP_WORDS/COMP_CWORD and calling the function; zsh through a
pseudo-terminal (`zpty`) with `compadd` recording its matches; fish with `complete -C`.
zsh and fish tests are skipped where the shell is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rolecall.core.catalogue.names import escape, names_file
from tests.conftest import EXAMPLE, isolated_env

ROLECALL = Path(sys.executable).with_name("rolecall")


class Shells:
    """An isolated environment with the example catalogue and a seeded names file."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.env = isolated_env(tmp)
        self.env["ROLECALL_CATALOGUE"] = str(EXAMPLE)
        self.env["PATH"] = f"{ROLECALL.parent}{os.pathsep}{os.environ['PATH']}"
        self.cache = Path(self.env["ROLECALL_HOME"]) / "cache"

    def rolecall(self, *args: str) -> str:
        done = subprocess.run(
            [str(ROLECALL), *args], capture_output=True, text=True, env=self.env, check=True
        )
        return done.stdout

    def script(self, shell: str) -> Path:
        path = self.tmp / f"completion.{shell}"
        path.write_text(self.rolecall("completion", shell))
        return path

    @property
    def names(self) -> Path:
        return names_file(self.cache, str(EXAMPLE))

    def shim(self) -> Path:
        """A PATH with only a `rolecall` that records its calls (and no python at all)."""
        bin_dir = self.tmp / "shim"
        bin_dir.mkdir(exist_ok=True)
        shim = bin_dir / "rolecall"
        shim.write_text(f'#!/bin/sh\necho "$@" >> {self.tmp / "calls"}\nexec {ROLECALL} "$@"\n')
        shim.chmod(0o755)
        return bin_dir


@pytest.fixture
def shells(tmp_path: Path) -> Shells:
    s = Shells(tmp_path)
    s.rolecall("list")  # writes the parsed cache and, beside it, the names file
    return s


def bash_complete(s: Shells, line: str, env: dict[str, str] | None = None) -> list[str]:
    """COMPREPLY for `line` (the cursor at its end) from the real bash function."""
    words = line.split(" ")
    driver = (
        f"source {s.script('bash')}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_rolecall\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run(
        ["/bin/bash", "--norc", "--noprofile", "-c", driver],
        capture_output=True,
        text=True,
        env=env or s.env,
        timeout=30,
        check=True,
    )
    return [w for w in done.stdout.splitlines() if w]


def test_names_file_is_written_beside_the_cache(shells: Shells) -> None:
    assert escape("/a%b/c") == "%2Fa%25b%2Fc"
    names = shells.names.read_text().splitlines()
    assert "payments-prod/ReadOnly" in names and "default" in names
    assert shells.names.stat().st_mode & 0o777 == 0o600
    assert shells.rolecall("__complete", "names").splitlines() == names


def test_bash_completes_targets_commands_options_and_values(shells: Shells) -> None:
    assert "payments-prod/ReadOnly" in bash_complete(shells, "rolecall exec pay")
    assert all(t.startswith("pay") for t in bash_complete(shells, "rolecall exec pay"))
    assert bash_complete(shells, "rolecall ex") == ["exec"]
    assert "completion" in bash_complete(shells, "rolecall ")
    assert bash_complete(shells, "rolecall env --format ") == ["sh", "fish", "powershell", "json"]
    assert bash_complete(shells, "rolecall each --output ") == ["lines", "json", "quiet"]
    assert "default" in bash_complete(shells, "rolecall exec --template ")
    assert "payments-prod/ReadOnly" not in bash_complete(shells, "rolecall exec --template ")
    assert "s3" in bash_complete(shells, "rolecall console x --destination s")
    assert bash_complete(shells, "rolecall console x --container g") == ["granted"]
    assert "--template" in bash_complete(shells, "rolecall exec --")
    assert "aws-config" in bash_complete(shells, "rolecall import ")
    assert "--dry-run" in bash_complete(shells, "rolecall import aws-config --d")
    assert bash_complete(shells, "rolecall completion ") == ["bash", "zsh", "fish"]
    # option values are skipped when finding the command and its targets
    assert "payments-dev/Developer" in bash_complete(shells, "rolecall exec --template x pay")


def test_bash_reads_the_names_file_without_starting_python(shells: Shells) -> None:
    env = {**shells.env, "PATH": str(shells.shim())}
    assert "payments-prod/ReadOnly" in bash_complete(shells, "rolecall exec pay", env)
    assert "default" in bash_complete(shells, "rolecall shell --template ", env)
    assert not (shells.tmp / "calls").exists()


def test_bash_asks_rolecall_when_the_names_file_is_missing_or_stale(shells: Shells) -> None:
    env = {**shells.env, "PATH": f"{shells.shim()}{os.pathsep}{shells.env['PATH']}"}
    shells.names.unlink()
    assert "payments-prod/ReadOnly" in bash_complete(shells, "rolecall exec pay", env)
    assert (shells.tmp / "calls").read_text() == "__complete names\n"
    assert shells.names.exists()  # rewritten for the next TAB
    catalogue = shells.tmp / "mine.toml"
    catalogue.write_bytes(EXAMPLE.read_bytes())
    env["ROLECALL_CATALOGUE"] = str(catalogue)
    first = bash_complete(shells, "rolecall exec pay", env)
    assert "payments-prod/ReadOnly" in first
    stat = names_file(shells.cache, str(catalogue)).stat()
    os.utime(catalogue, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # edited since
    (shells.tmp / "calls").unlink()
    assert bash_complete(shells, "rolecall exec pay", env) == first
    assert (shells.tmp / "calls").read_text() == "__complete names\n"


def test_bash_passes_the_catalogue_option_to_the_fallback(shells: Shells) -> None:
    other = shells.tmp / "other.toml"
    other.write_text(
        "version = 1\n[[accounts]]\nname = 'zeta'\nid = '123456789012'\n"
        "[[accounts.roles]]\nname = 'Viewer'\n"
    )
    assert bash_complete(shells, f"rolecall exec --catalogue {other} z") == ["zeta/Viewer"]
    assert bash_complete(shells, f"rolecall --catalogue={other} exec z") == ["zeta/Viewer"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_targets_options_and_values(shells: Shells) -> None:
    script = shells.script("fish")

    def complete(line: str, path: str | None = None) -> list[str]:
        env = {**shells.env, "PATH": f"{path}:/usr/bin:/bin" if path else shells.env["PATH"]}
        done = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=True,
        )
        return [w.split("\t")[0] for w in done.stdout.splitlines()]

    assert "payments-prod/ReadOnly" in complete("rolecall exec pay", str(shells.shim()))
    assert "default" in complete("rolecall exec --template ", str(shells.shim()))
    assert not (shells.tmp / "calls").exists()
    assert sorted(complete("rolecall env --format ")) == ["fish", "json", "powershell", "sh"]
    assert "exec" in complete("rolecall ex")
    assert "--dry-run" in complete("rolecall import aws-config --dr")


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_targets_options_and_values(shells: Shells) -> None:
    script = shells.script("zsh")
    driver = shells.tmp / "drive.zsh"
    # An interactive zsh on a pseudo-terminal; compadd prints what it is given.
    driver.write_text(
        "zmodload zsh/zpty\n"
        "zpty z zsh -f -i\n"
        f"zpty -w z 'PROMPT=; autoload -Uz compinit; compinit -u -D; source {script}'\n"
        "zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then "
        'builtin compadd "$@"; return $?; fi; local -a hits; builtin compadd -A hits "$@"; '
        'local h; for h in $hits; do print -r -- "HIT:$h"; done; }\'\n'
        "zpty -w -n z \"$1\"$'\\t'\n"
        "local line out='' i\n"
        # up to 10 s for the first HIT (a busy host), then what follows it
        "for i in {1..100}; do\n"
        "  sleep 0.1; while zpty -r -t z line; do out+=$line; done\n"
        "  [[ $out == *HIT:* ]] || continue\n"
        "  sleep 0.3; while zpty -r -t z line; do out+=$line; done; break\n"
        "done\n"
        'print -r -- "$out"\n'
        "zpty -d z\n"
    )

    def complete(line: str, path: str | None = None) -> list[str]:
        env = {**shells.env, "PATH": f"{path}:/usr/bin:/bin" if path else shells.env["PATH"]}
        done = subprocess.run(
            ["zsh", "-f", str(driver), line],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=True,
        )
        return re.findall(r"HIT:(\S+)", done.stdout)

    assert "payments-prod/ReadOnly" in complete("rolecall exec pay", str(shells.shim()))
    assert "default" in complete("rolecall exec --template ", str(shells.shim()))
    assert not (shells.tmp / "calls").exists()
    assert "powershell" in complete("rolecall env --format ")
    assert "exec" in complete("rolecall ex")
