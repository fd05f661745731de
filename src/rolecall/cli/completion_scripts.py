"""The completion scripts for bash, zsh and fish, written from the command tree (`completion`).

bash and zsh are written here, fish in `completion_fish`. Each script has a hand-written part,
the same in every release (finding the names file from `ROLECALL_HOME` / `XDG_CACHE_HOME` /
`ROLECALL_CATALOGUE` / `--catalogue` and reading it, with `rolecall __complete names` as the
fallback), and a generated part (commands, options, values). Nothing runs in Python on TAB
while the names file is fresh: bash and zsh read it with a builtin, fish with `string`.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from rolecall.cli.completion import FILES, NOTHING, TARGETS, TEMPLATES, Command, Option

SHELLS = ("bash", "zsh", "fish")
"""The shells `rolecall completion` writes for."""


def script(shell: str, root: Command) -> str:
    """The completion script for `shell`."""
    if shell == "fish":
        from rolecall.cli.completion_fish import fish

        return fish(root)
    return {"bash": bash, "zsh": zsh}[shell](root)


def _walk(command: Command, path: str = "") -> Iterator[tuple[str, Command]]:
    """Every command below `command` with its path (`exec`, `import aws-config`)."""
    for sub in command.subcommands:
        here = f"{path} {sub.name}".strip()
        yield here, sub
        yield from _walk(sub, here)


_NAMES_FILE = r"""    local given=$1 cache config catalogue file
    if [[ -n ${ROLECALL_HOME-} ]]; then
        cache=${ROLECALL_HOME/#\~/$HOME}/cache
        config=${ROLECALL_HOME/#\~/$HOME}/config
    elif [[ $OSTYPE == darwin* ]]; then
        cache=$HOME/Library/Caches/rolecall
        config="$HOME/Library/Application Support/rolecall"
    else
        cache=${XDG_CACHE_HOME-}
        [[ $cache == /* ]] || cache=$HOME/.cache
        config=${XDG_CONFIG_HOME-}
        [[ $config == /* ]] || config=$HOME/.config
        cache+=/rolecall config+=/rolecall
    fi
    catalogue=${given:-${ROLECALL_CATALOGUE:-$config/accounts.toml}}
    [[ $catalogue == "~/"* ]] && catalogue=$HOME/${catalogue:2}
    [[ $catalogue == /* ]] || catalogue=$PWD/$catalogue
    file=${catalogue//[%]/%25}
    file=$cache/catalogues/${file//\//%2F}.names
"""
"""Shell code (bash and zsh alike) that finds the names file for the catalogue the command
line names, as rolecall finds its catalogue and cache (`rolecall.core.catalogue.names`)."""


# ---------------------------------------------------------------------------------------------
# bash

_BASH_NAMES = r"""
# The catalogue's targets and template names into __rolecall_lines: from the names file
# beside rolecall's catalogue cache (no process), else from `rolecall __complete names`.
__rolecall_names() {
@NAMES_FILE@
    if [[ -f $file && ! $catalogue -nt $file ]]; then
        mapfile -t __rolecall_lines < "$file"
    else
        local -a option=()
        [[ -n $given ]] && option=(--catalogue "$given")
        mapfile -t __rolecall_lines < <(
            command rolecall __complete names "${option[@]}" 2>/dev/null
        )
    fi
}
""".replace("@NAMES_FILE@", _NAMES_FILE)

_BASH_LOOKUP = r"""
# COMPREPLY: the targets in __rolecall_lines that start with $cur (two binary searches over
# the sorted targets: a TAB over 50,000 roles compares about 32 of them).
__rolecall_targets() {
    local LC_ALL=C k=${__rolecall_lines[0]-0} n=${#__rolecall_lines[@]} lo hi mid first
    [[ $k == +([0-9]) ]] || k=0
    ((lo = k + 1, hi = n))
    while ((lo < hi)); do
        ((mid = (lo + hi) / 2))
        if [[ ${__rolecall_lines[mid]} < "$cur" ]]; then ((lo = mid + 1)); else ((hi = mid)); fi
    done
    ((first = lo, hi = n))
    while ((lo < hi)); do
        ((mid = (lo + hi) / 2))
        if [[ ${__rolecall_lines[mid]} == "$cur"* ]]; then ((lo = mid + 1)); else ((hi = mid)); fi
    done
    COMPREPLY=("${__rolecall_lines[@]:first:lo-first}")
}

# COMPREPLY: the template names that start with $cur.
__rolecall_templates() {
    local k=${__rolecall_lines[0]-0}
    [[ $k == +([0-9]) ]] || k=0
    ((k)) || return 0
    COMPREPLY=($(compgen -W "${__rolecall_lines[*]:1:k}" -- "$cur"))
}
"""

_BASH_MAIN = r"""
_rolecall() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local i word path='' catalogue='' dashdash=0 IFS=$'\n'
    local takes=' @TAKES@ ' nested=' @NESTED@ '
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        ((dashdash)) && continue
        case $word in
            --) dashdash=$i ;;
            --catalogue=*) catalogue=${word#*=} ;;
            -*)
                if [[ $takes == *" $word "* ]]; then
                    [[ $word == --catalogue ]] && catalogue=${COMP_WORDS[i+1]}
                    ((i += 1))
                fi
                ;;
            *)
                if [[ -z $path ]]; then
                    path=$word
                elif [[ $nested == *" $path "* ]]; then
                    path+=" $word"
                fi
                ;;
        esac
    done
    if ((dashdash)); then
        case $path in
            @AFTER@)
                if ((COMP_CWORD == dashdash + 1)); then
                    COMPREPLY=($(compgen -c -- "$cur"))
                else
                    compopt -o default
                    COMPREPLY=()
                fi
                return
                ;;
        esac
    fi
    case "$path:$prev" in
@VALUES@
    esac
    if [[ $cur == -* ]]; then
        case $path in
@OPTIONS@
        esac
        return
    fi
    case $path in
@WORDS@
    esac
}

complete -F _rolecall rolecall
"""


def _bash_words(words: tuple[str, ...] | list[str]) -> str:
    # One word a line: the function splits on newlines only (IFS), as targets may not.
    text = "\\n".join(w.replace("\\", "\\\\").replace("'", "\\'") for w in words)
    return f"COMPREPLY=($(compgen -W $'{text}' -- \"$cur\"))"


def _bash_kind(kind: str) -> str:
    if kind == TARGETS:
        return '__rolecall_names "$catalogue"; __rolecall_targets'
    if kind == TEMPLATES:
        return '__rolecall_names "$catalogue"; __rolecall_templates'
    if kind == FILES:
        return 'compopt -o filenames; COMPREPLY=($(compgen -f -- "$cur"))'
    return "COMPREPLY=()"


def _pattern(alternatives: list[str]) -> str:
    return "|".join(shlex.quote(a) if a else "''" for a in alternatives)


def bash(root: Command) -> str:
    """The bash script: `eval "$(rolecall completion bash)"` (bash 4.2 or later)."""
    commands = [("", root), *_walk(root)]
    takes = sorted(
        {f for _, c in commands for o in c.options if o.values is not None for f in o.flags}
    )
    arms: dict[str, list[str]] = {}
    for path, command in commands:
        for option in command.options:
            if option.values is None:
                continue
            action = (
                _bash_words(option.values)
                if isinstance(option.values, tuple)
                else _bash_kind(option.values)
            )
            arms.setdefault(action, []).extend(f"{path}:{flag}" for flag in option.flags)
    values = [
        f"        {_pattern(keys)})\n            {action}; return ;;"
        for action, keys in arms.items()
    ]
    options = []
    for path, command in commands:
        flags = [f for o in command.options for f in o.flags]
        options.append(f"            {_pattern([path])}) {_bash_words(flags)} ;;")
    words = [f"        '') {_bash_words([c.name for c in root.subcommands])} ;;"]
    by_kind: dict[str, list[str]] = {}
    for path, command in commands[1:]:
        if command.subcommands:
            subs = [c.name for c in command.subcommands]
            words.append(f"        {_pattern([path])}) {_bash_words(subs)} ;;")
        elif isinstance(command.positional, tuple):
            words.append(f"        {_pattern([path])}) {_bash_words(command.positional)} ;;")
        elif command.positional != NOTHING:
            by_kind.setdefault(command.positional, []).append(path)
    words += [f"        {_pattern(p)}) {_bash_kind(k)} ;;" for k, p in by_kind.items()]
    after = [path for path, c in commands if c.after_dashdash]
    nested = [path for path, c in commands[1:] if c.subcommands]
    main = (
        _BASH_MAIN.replace("@TAKES@", " ".join(takes))
        .replace("@NESTED@", " ".join(nested))
        .replace("@AFTER@", _pattern(after) if after else "''")
        .replace("@VALUES@", "\n".join(values))
        .replace("@OPTIONS@", "\n".join(options))
        .replace("@WORDS@", "\n".join(words))
    )
    header = "# bash completion for rolecall (written by `rolecall completion bash`)\n"
    return header + _BASH_NAMES + _BASH_LOOKUP + main


# ---------------------------------------------------------------------------------------------
# zsh

_ZSH_NAMES = r"""
# The catalogue's targets and template names into reply: from the names file beside
# rolecall's catalogue cache (no process), else from `rolecall __complete names`.
__rolecall_names() {
@NAMES_FILE@
    if [[ -f $file && ! $catalogue -nt $file ]] && zmodload -F zsh/mapfile p:mapfile 2>/dev/null
    then
        reply=("${(@f)mapfile[$file]}")
    else
        local -a option=()
        [[ -n $given ]] && option=(--catalogue "$given")
        reply=("${(@f)$(command rolecall __complete names "${option[@]}" 2>/dev/null)}")
    fi
}

__rolecall_catalogue() {
    local i
    REPLY=${opt_args[--catalogue]-}
    for ((i = 1; i < CURRENT; i++)); do
        case ${words[i]} in
            --catalogue) REPLY=${words[i+1]} ;;
            --catalogue=*) REPLY=${words[i]#*=} ;;
        esac
    done
    [[ -n $REPLY ]] || REPLY=${_rolecall_catalogue-}
}

__rolecall_targets() {
    local REPLY; local -a reply targets
    __rolecall_catalogue
    __rolecall_names "$REPLY"
    [[ ${reply[1]-} == <-> ]] || return 1
    targets=("${(@)reply[reply[1]+2,-1]}")
    # A big catalogue is narrowed to the typed prefix first (compadd would match them all).
    (( $#targets > 2000 )) && targets=(${(M)targets:#${(b)PREFIX}*})
    _wanted targets expl target compadd -a targets
}

__rolecall_templates() {
    local REPLY; local -a reply templates
    __rolecall_catalogue
    __rolecall_names "$REPLY"
    [[ ${reply[1]-} == <-> ]] || return 1
    templates=("${(@)reply[2,reply[1]+1]}")
    _wanted templates expl template compadd -a templates
}

__rolecall_rest() {
    local at=${words[(i)--]}
    if (( at < CURRENT )); then
        shift $at words
        (( CURRENT -= at ))
        _normal
    else
        __rolecall_targets
    fi
}
""".replace("@NAMES_FILE@", _NAMES_FILE)


_ZSH_FOOTER = """
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _rolecall "$@"
else
    compdef _rolecall rolecall
fi
"""


def _zq(text: str) -> str:
    """Text for inside an `_arguments` spec's single-quoted `[description]`."""
    for char in "\\[]:":
        text = text.replace(char, "\\" + char)
    return text.replace("'", "'\\''")


def _zdescribe(text: str) -> str:
    """`"text"` for a `((word\\:"description"))` list inside a single-quoted spec."""
    for char in '\\"$`':
        text = text.replace(char, "\\" + char)
    return '"' + text.replace(":", "\\:").replace("'", "'\\''") + '"'


def _zsh_option(option: Option) -> list[str]:
    specs = []
    for flag in option.flags:
        star = "*" if option.repeats else ""
        if option.values is None:
            specs.append(f"'{star}{flag}[{_zq(option.help)}]'")
            continue
        joiner = "=" if flag.startswith("--") else "+"
        if isinstance(option.values, tuple):
            action = "(" + " ".join(option.values) + ")"
        else:
            action = {TEMPLATES: "__rolecall_templates", FILES: "_files"}.get(option.values, " ")
        name = flag.lstrip("-")
        specs.append(f"'{star}{flag}{joiner}[{_zq(option.help)}]:{name}:{action}'")
    return specs


def _zsh_function(path: str, command: Command) -> str:
    name = "_rolecall" + ("_" + path.replace(" ", "_").replace("-", "_") if path else "")
    specs = [s for o in command.options for s in _zsh_option(o)]
    body = ""
    if command.subcommands:
        described = " ".join(f"{c.name}\\:{_zdescribe(c.help)}" for c in command.subcommands)
        specs += [f"'1:command:(({described}))'", "'*:: :->rest'"]
        body = (
            "\n    if [[ $state == rest ]]; then\n"
            f"        local next={name}_${{words[1]//-/_}}\n"
            "        (( $+functions[$next] )) && $next\n"
            "    fi"
        )
        if not path:
            body = "\n    _rolecall_catalogue=${opt_args[--catalogue]-}" + body
    elif command.after_dashdash:
        specs += ["'1:target:__rolecall_targets'", "'*:: :__rolecall_rest'"]
    elif isinstance(command.positional, tuple):
        specs.append(f"'1:word:({' '.join(command.positional)})'")
    elif command.positional == TARGETS:
        specs.append("'*:target:__rolecall_targets'")
    elif command.positional == FILES:
        specs.append("'1:file:_files'")
    lines = " \\\n        ".join(specs)
    flags = "-C -S" if command.subcommands else "-S"
    return (
        f"{name}() {{\n    local curcontext=$curcontext state line expl\n"
        f"    typeset -A opt_args\n    _arguments {flags} \\\n        {lines}{body}\n}}\n"
    )


def zsh(root: Command) -> str:
    """The zsh script: `eval "$(rolecall completion zsh)"` after `compinit`, or an `_rolecall`
    file on `$fpath`."""
    functions = [_zsh_function("", root)]
    functions += [_zsh_function(path, command) for path, command in _walk(root)]
    header = (
        "#compdef rolecall\n# zsh completion for rolecall (written by `rolecall completion zsh`)\n"
    )
    footer = _ZSH_FOOTER
    return header + _ZSH_NAMES + "\n" + "\n".join(functions) + footer
