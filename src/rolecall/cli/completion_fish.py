"""The fish completion script, written from the command tree (`rolecall.cli.completion`).

`complete -c rolecall` lines for every command, option and value, and a `__rolecall_names`
function that reads the catalogue's names file with builtins only (`string`, `path mtime`:
fish 3.5 or later), asking `rolecall __complete names` when it is missing or stale.
"""

from __future__ import annotations

from rolecall.cli.completion import FILES, TARGETS, TEMPLATES, Command, Option

_FISH_NAMES = r"""
# The catalogue's targets (`targets`) or template names (`templates`): from the names file
# beside rolecall's catalogue cache (builtins only), else from `rolecall __complete names`.
function __rolecall_names --argument-names kind
    set -l given
    set -l tokens (commandline -opc) ''
    set -l i 1
    while test $i -lt (count $tokens)
        switch $tokens[$i]
            case --catalogue
                set given $tokens[(math $i + 1)]
            case '--catalogue=*'
                set given (string replace -- --catalogue= '' $tokens[$i])
        end
        set i (math $i + 1)
    end
    set -l cache
    set -l config
    if set -q ROLECALL_HOME[1]; and test -n "$ROLECALL_HOME"
        set -l home (string replace -r '^~' $HOME -- $ROLECALL_HOME)
        set cache $home/cache
        set config $home/config
    else if test -d /System/Library/CoreServices  # macOS
        set cache $HOME/Library/Caches/rolecall
        set config "$HOME/Library/Application Support/rolecall"
    else
        set cache $HOME/.cache
        string match -q '/*' -- "$XDG_CACHE_HOME"; and set cache $XDG_CACHE_HOME
        set config $HOME/.config
        string match -q '/*' -- "$XDG_CONFIG_HOME"; and set config $XDG_CONFIG_HOME
        set cache $cache/rolecall
        set config $config/rolecall
    end
    set -l catalogue $given
    test -n "$catalogue"; or set catalogue $ROLECALL_CATALOGUE
    test -n "$catalogue"; or set catalogue $config/accounts.toml
    set catalogue (string replace -r '^~/' $HOME/ -- $catalogue)
    string match -q '/*' -- $catalogue; or set catalogue $PWD/$catalogue
    set -l escaped (string replace -a % %25 -- $catalogue | string replace -a / %2F)
    set -l file $cache/catalogues/$escaped.names
    set -l lines
    set -l edited (path mtime -- $catalogue 2>/dev/null; or echo 0)
    if test -f $file; and test (path mtime -- $file) -ge $edited
        set lines (string split \n -- (string collect < $file))
    else if test -n "$given"
        set lines (command rolecall __complete names --catalogue $given 2>/dev/null)
    else
        set lines (command rolecall __complete names 2>/dev/null)
    end
    string match -qr '^[0-9]+$' -- "$lines[1]"; or return
    set -l k (math $lines[1] + 1)
    if test "$kind" = templates
        test $k -gt 1; and printf '%s\n' $lines[2..$k]
    else if test (count $lines) -gt (math $k + 2000)
        # A big catalogue is narrowed to the typed prefix first.
        string match -- (commandline -ct)'*' $lines[(math $k + 1)..-1]
    else if test (count $lines) -gt $k
        printf '%s\n' $lines[(math $k + 1)..-1]
    end
end

# Whether the command line so far has `--` (`exec TARGET -- CMD`).
function __rolecall_after_dashdash
    contains -- -- (commandline -opc)
end
"""


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_option(condition: str, option: Option) -> str:
    parts = ["complete -c rolecall", "-n", _fish_quote(condition)]
    for flag in option.flags:
        parts += ["-l", flag[2:]] if flag.startswith("--") else ["-s", flag[1:]]
    if option.values is not None:
        if isinstance(option.values, tuple):
            parts += ["-x", "-a", _fish_quote(" ".join(option.values))]
        elif option.values == TEMPLATES:
            parts += ["-x", "-a", _fish_quote("(__rolecall_names templates)")]
        elif option.values == FILES:
            parts += ["-r", "-F"]
        else:
            parts.append("-x")
    if option.help:
        parts += ["-d", _fish_quote(option.help)]
    return " ".join(parts)


def fish(root: Command) -> str:
    """The fish script: `rolecall completion fish | source`, or a file in
    `~/.config/fish/completions/rolecall.fish` (fish 3.5 or later, for `path mtime`)."""
    lines = ["complete -c rolecall -f"]
    top = "__fish_use_subcommand"
    lines += [_fish_option(top, o) for o in root.options]
    for command in root.subcommands:
        lines.append(
            f"complete -c rolecall -n {top} -a {command.name} -d {_fish_quote(command.help)}"
        )
    for command in root.subcommands:
        seen = f"__fish_seen_subcommand_from {command.name}"
        if command.subcommands:
            subs = " ".join(c.name for c in command.subcommands)
            none = f"{seen}; and not __fish_seen_subcommand_from {subs}"
            lines += [_fish_option(none, o) for o in command.options]
            for sub in command.subcommands:
                lines.append(
                    f"complete -c rolecall -n {_fish_quote(none)} -a {sub.name} "
                    f"-d {_fish_quote(sub.help)}"
                )
                inner = f"{seen}; and __fish_seen_subcommand_from {sub.name}"
                lines += [_fish_option(inner, o) for o in sub.options]
            continue
        lines += [_fish_option(seen, o) for o in command.options]
        if isinstance(command.positional, tuple):
            words = _fish_quote(" ".join(command.positional))
            lines.append(f"complete -c rolecall -n {_fish_quote(seen)} -a {words}")
        elif command.positional == TARGETS:
            condition = f"{seen}; and not __rolecall_after_dashdash"
            lines.append(
                f"complete -c rolecall -n {_fish_quote(condition)} -a '(__rolecall_names targets)'"
            )
        elif command.positional == FILES:
            lines.append(f"complete -c rolecall -n {_fish_quote(seen)} -F")
        if command.after_dashdash:
            condition = f"{seen}; and __rolecall_after_dashdash"
            lines.append(
                f"complete -c rolecall -n {_fish_quote(condition)} "
                "-F -a '(__fish_complete_command)'"
            )
    header = "# fish completion for rolecall (written by `rolecall completion fish`)\n"
    return header + _FISH_NAMES + "\n" + "\n".join(lines) + "\n"
