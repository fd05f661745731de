"""Team catalogues: `include = [...]` joins other files' accounts and templates, reports every
problem at its own file and line, refuses duplicates, cycles and deep nesting, and the parsed
cache notices any change to any included file."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolecall.core.catalogue.includes import MAX_DEPTH
from rolecall.core.catalogue.model import CatalogueError
from rolecall.core.catalogue.store import load, parse


def write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("version = 1\n" + textwrap.dedent(body))
    return path


def account(name: str, number: int, roles: tuple[str, ...] = ("R",)) -> str:
    text = f'\n[[accounts]]\nname = "{name}"\nid = "{number:012d}"\n'
    return text + "".join(f'[[accounts.roles]]\nname = "{r}"\n' for r in roles)


def problems(path: Path) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        parse(path.read_bytes(), str(path))
    return [str(p) for p in caught.value.problems]


def test_included_accounts_join_with_their_own_defaults(tmp_path: Path) -> None:
    root = write(
        tmp_path / "accounts.toml",
        """
        include = ["team/accounts.toml"]
        [defaults]
        region = "eu-west-1"
        duration = "2h"
        """
        + account("mine", 1),
    )
    write(
        tmp_path / "team" / "accounts.toml",
        """
        [defaults]
        source_profile = "team"
        """
        + account("hub", 2),
    )
    catalogue = load(root)
    mine, hub = catalogue.resolve("mine/R"), catalogue.resolve("hub/R")
    assert (mine.region, mine.duration, mine.source_profile) == ("eu-west-1", 7200, None)
    assert (hub.region, hub.duration, hub.source_profile) == ("us-east-1", 3600, "team")
    assert [a.name for a in catalogue.accounts] == ["mine", "hub"]
    assert catalogue.account("hub").file == str(tmp_path / "team" / "accounts.toml")  # type: ignore[union-attr]
    assert catalogue.account("mine").file == str(root)  # type: ignore[union-attr]
    assert [i[0] for i in catalogue.includes] == [str(tmp_path / "team" / "accounts.toml")]


def test_nested_relative_and_home_paths_and_via_across_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    root = write(
        tmp_path / "cat" / "accounts.toml",
        'include = ["team/a.toml", "~/shared/s.toml"]\n'
        + account("mine", 1)
        + 'via = "deep/R"\n',  # the last role of mine chains into a nested file
    )
    write(
        tmp_path / "cat" / "team" / "a.toml", 'include = ["../../deep/d.toml"]\n' + account("a", 2)
    )
    write(tmp_path / "deep" / "d.toml", account("deep", 3))
    write(home / "shared" / "s.toml", account("shared", 4) + 'via = "mine/R"\n')
    catalogue = load(root)
    assert sorted(a.name for a in catalogue.accounts) == ["a", "deep", "mine", "shared"]
    assert [r.target for r in catalogue.chain(catalogue.resolve("shared/R"))] == [
        "deep/R",
        "mine/R",
        "shared/R",
    ]
    assert len(catalogue.includes) == 3


def test_templates_join_and_the_including_file_wins(tmp_path: Path) -> None:
    root = write(
        tmp_path / "accounts.toml",
        """
        include = ["team.toml"]
        [session_names]
        ticket = "mine-{ticket}"
        """
        + account("mine", 1)
        + 'session_name = "@oncall"\n',
    )
    write(
        tmp_path / "team.toml",
        """
        [session_names]
        ticket = "team-{ticket}"
        oncall = "oncall-{user}"
        """
        + account("hub", 2)
        + 'session_name = "@ticket"\n',
    )
    catalogue = load(root)
    assert catalogue.session_names == {"ticket": "mine-{ticket}", "oncall": "oncall-{user}"}
    assert catalogue.resolve("mine/R").session_name == "oncall-{user}"
    hub = catalogue.resolve("hub/R")
    assert (hub.session_name, hub.session_name_ref) == ("mine-{ticket}", "ticket")


def test_sibling_files_defining_one_template_differently_are_refused(tmp_path: Path) -> None:
    root = write(tmp_path / "accounts.toml", 'include = ["a.toml", "b.toml"]\n')
    write(tmp_path / "a.toml", '[session_names]\nt = "a-{user}"\n')
    write(tmp_path / "b.toml", '\n[session_names]\nt = "b-{user}"\n')
    (found,) = problems(root)
    assert found.startswith(f"{tmp_path / 'b.toml'}:4: session_names.t:")
    assert f"{tmp_path / 'a.toml'}:3" in found
    write(tmp_path / "b.toml", '\n[session_names]\nt = "a-{user}"\n')  # the same text: fine
    assert load(root).session_names == {"t": "a-{user}"}


def test_a_problem_is_reported_at_its_own_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "team" / "accounts.toml",
        account("ok", 1) + '\n[[accounts]]\nname = "x"\nid = "12"\n',
    )
    root = write(tmp_path / "accounts.toml", 'include = ["team/accounts.toml"]\n')
    (found,) = problems(root)
    assert found.startswith(f"{tmp_path / 'team' / 'accounts.toml'}:11: accounts[1].id:")
    monkeypatch.chdir(tmp_path)  # the catalogue named relatively: so are its includes
    with pytest.raises(CatalogueError) as caught:
        parse(root.read_bytes(), "accounts.toml")
    assert str(caught.value.problems[0]).startswith("team/accounts.toml:11: accounts[1].id:")
    assert caught.value.problems[0].file == "team/accounts.toml"


def test_a_file_that_is_not_toml_is_reported_at_its_own_line(tmp_path: Path) -> None:
    write(tmp_path / "t.toml", "\n\nthis is = = not toml\n")
    root = write(
        tmp_path / "accounts.toml", 'include = ["t.toml"]\n' + account("a", 1) + "nope = 1\n"
    )
    found = problems(root)
    assert found[0].startswith(f"{root}:") and "unknown key" in found[0]
    assert found[1].startswith(f"{tmp_path / 't.toml'}:4:") and "not valid TOML" in found[1]


@pytest.mark.parametrize("same_file", [False, True], ids=["across-files", "within-one"])
def test_an_account_defined_twice_names_both_places(tmp_path: Path, same_file: bool) -> None:
    team = write(tmp_path / "team.toml", account("dup", 5) + account("other", 6))
    extra = account("dup", 7) if same_file else ""
    root = write(
        tmp_path / "accounts.toml", 'include = ["team.toml"]\n' + account("mine", 6) + extra
    )
    found = problems(root)
    id_problem = next(p for p in found if "account id 000000000006" in p)
    assert id_problem.startswith(f"{team}:11: accounts[1].id:")
    assert f"already used by accounts[0] at {root}:4" in id_problem
    if same_file:
        name_problem = next(p for p in found if 'account name "dup"' in p)
        assert name_problem.startswith(f"{team}:4: accounts[0].name:")
        assert f"accounts[1] at {root}:10" in name_problem


def test_include_cycles_are_refused_naming_the_chain(tmp_path: Path) -> None:
    root = write(tmp_path / "accounts.toml", 'include = ["a.toml"]\n' + account("r", 1))
    write(tmp_path / "a.toml", 'include = ["b.toml"]\n' + account("a", 2))
    write(tmp_path / "b.toml", 'include = ["accounts.toml"]\n' + account("b", 3))
    (found,) = problems(root)
    chain = f"{root} → {tmp_path / 'a.toml'} → {tmp_path / 'b.toml'} → {root}"
    assert found == f"{tmp_path / 'b.toml'}:2: include[0]: include cycle: {chain}."
    write(tmp_path / "self.toml", 'include = ["self.toml"]\n')
    (found,) = problems(tmp_path / "self.toml")
    assert "include cycle" in found


def test_depth_eight_loads_and_nine_is_refused(tmp_path: Path) -> None:
    def chain(levels: int) -> Path:
        folder = tmp_path / str(levels)
        for level in range(levels + 1):
            more = f'include = ["{level + 1}.toml"]\n' if level < levels else ""
            write(folder / f"{level}.toml", more + account(f"a{level}", level + 1))
        return folder / "0.toml"

    assert len(load(chain(MAX_DEPTH)).accounts) == MAX_DEPTH + 1
    (found,) = problems(chain(MAX_DEPTH + 1))
    assert found.startswith(f"{tmp_path / '9' / '8.toml'}:2: include[0]:")
    assert "more than 8 files deep" in found


def test_a_missing_file_is_a_problem_at_its_include_line(tmp_path: Path) -> None:
    root = write(
        tmp_path / "accounts.toml",
        'include = [\n    "team/here.toml",\n    "team/gone.toml",\n]\n' + account("a", 1),
    )
    write(tmp_path / "team" / "here.toml", "")
    (found,) = problems(root)
    assert found.startswith(f"{root}:4: include[1]: there is no file ")
    assert "team/gone.toml" in found


@pytest.mark.parametrize(
    ("value", "message"),
    [("'team.toml'", "must be a list"), ("[1]", "must be a file path"), ('[""]', "not a file")],
)
def test_include_must_be_a_list_of_paths(tmp_path: Path, value: str, message: str) -> None:
    root = write(tmp_path / "accounts.toml", f"include = {value}\n")
    (found,) = problems(root)
    assert message in found


def test_an_included_file_others_can_write_is_refused(tmp_path: Path) -> None:
    team = write(tmp_path / "team.toml", account("t", 2))
    team.chmod(0o666)
    root = write(tmp_path / "accounts.toml", 'include = ["team.toml"]\n')
    (found,) = problems(root)
    assert found.startswith(f"{root}:2: include[0]:") and "can be changed by other users" in found
    team.chmod(0o644)
    assert load(root).account("t") is not None


def test_a_fifo_as_an_included_file_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "team.toml")
    root = write(tmp_path / "accounts.toml", 'include = ["team.toml"]\n')
    (found,) = problems(root)
    assert "is not a regular file" in found


# ---------------------------------------------------------------------------------------------
# The parsed cache


def pinned(path: Path, data: str) -> None:
    """Replace `path` through a rename with `data`, mtime pinned to 1 ns (as in a Nix store)."""
    staged = path.with_name(path.name + ".tmp")
    staged.write_text(data)
    os.utime(staged, ns=(1, 1))
    os.replace(staged, path)


@pytest.mark.parametrize("how", ["replaced", "edited-in-place", "removed"])
def test_any_change_to_an_included_file_misses_the_cache(tmp_path: Path, how: str) -> None:
    cache = tmp_path / "cache"
    team = tmp_path / "team.toml"
    pinned(team, "version = 1\n" + account("old", 1))
    root = write(tmp_path / "accounts.toml", 'include = ["team.toml"]\n' + account("mine", 9))
    assert load(root, cache).account("old") is not None
    warm = load(root, cache)
    assert warm._index is not None, "a hit while nothing changed"
    assert warm.account("old") is not None and warm.includes == load(root).includes
    before = os.stat(team)
    if how == "replaced":  # same size, same mtime: only the inode and ctime differ
        pinned(team, "version = 1\n" + account("new", 1))
        assert os.stat(team).st_size == before.st_size
    elif how == "edited-in-place":
        with open(team, "r+b") as stream:
            data = stream.read().replace(b'"old"', b'"new"')  # same size
            stream.seek(0)
            stream.write(data)
        os.utime(team, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back
        assert os.stat(team).st_ino == before.st_ino
    else:
        team.unlink()
    if how == "removed":
        with pytest.raises(CatalogueError, match="there is no file"):
            load(root, cache)
        return
    fresh = load(root, cache)
    assert fresh.account("new") is not None and fresh.account("old") is None


def test_a_catalogue_without_includes_still_hits(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    root = write(tmp_path / "accounts.toml", account("a", 1))
    load(root, cache)
    assert load(root, cache)._index is not None
    assert load(root, cache).includes == ()


# ---------------------------------------------------------------------------------------------
# Random include graphs

graphs = st.integers(min_value=1, max_value=7).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n, unique=True
        ),
    )
)


def _reachable(edges: list[tuple[int, int]]) -> set[int]:
    seen, todo = {0}, [0]
    while todo:
        node = todo.pop()
        for a, b in edges:
            if a == node and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


def _cyclic(nodes: set[int], edges: list[tuple[int, int]]) -> bool:
    state: dict[int, int] = {}

    def visit(node: int) -> bool:
        state[node] = 1
        for a, b in edges:
            if a == node and (state.get(b) == 1 or (b not in state and visit(b))):
                return True
        state[node] = 2
        return False

    return visit(0)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(graph=graphs)
def test_random_include_graphs(tmp_path: Path, graph: tuple[int, list[tuple[int, int]]]) -> None:
    """Acyclic graphs (diamonds included) load with every reachable file's account once;
    any graph with a cycle reachable from the catalogue is refused."""
    count, edges = graph
    folder = tmp_path / f"g{abs(hash((count, tuple(edges))))}"
    for node in range(count):
        targets = [f"f{b}.toml" for a, b in edges if a == node]
        include = f"include = {targets!r}\n".replace("'", '"') if targets else ""
        write(folder / f"f{node}.toml", include + account(f"a{node}", node + 1))
    root = folder / "f0.toml"
    reachable = _reachable(edges)
    if _cyclic(reachable, edges):
        with pytest.raises(CatalogueError) as caught:
            parse(root.read_bytes(), str(root))
        assert all("include cycle" in p.message for p in caught.value.problems)
        return
    catalogue = parse(root.read_bytes(), str(root))
    assert sorted(a.name for a in catalogue.accounts) == sorted(f"a{n}" for n in reachable)
    assert len(catalogue.includes) == len(reachable) - 1
