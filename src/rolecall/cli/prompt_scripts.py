"""`rolecall prompt --init SHELL`: shell functions that render the prompt segment themselves.

They show what `rolecall prompt` shows (`payments-prod/ReadOnly 42m`, `↻` in a credential-
server shell, amber / red / dim with `--color`) without starting any process on each prompt:

* bash (4.2+): `PROMPT_COMMAND` runs `__rolecall_prompt`, which sets `__rolecall_ps1`; `PS1`
  shows it. The clock is `printf '%(%s)T'`; the expiry is `ROLECALL_EXPIRATION_EPOCH` (set by
  rolecall beside `ROLECALL_EXPIRATION`), else `ROLECALL_EXPIRATION` parsed in arithmetic.
  Colours are wrapped in \\001 \\002 so that readline knows their width.
* zsh: a `precmd` hook, `$EPOCHSECONDS` from `zsh/datetime`, `%{ %}` around colours and `%`
  doubled in the target (the prompt is expanded with `prompt_subst`).
* fish (3.5+): `fish_prompt` is wrapped. fish has no clock builtin: the function truncates a
  file in `$XDG_RUNTIME_DIR` (a private directory) and reads its `path mtime`; without
  `XDG_RUNTIME_DIR` it runs `date +%s` (one small process, about 1 ms). It reads the expiry
  from `ROLECALL_EXPIRATION_EPOCH` only (without it, the target is shown alone).

Targets are ASCII by the catalogue's rules; anything else in `ROLECALL_TARGET` is shown as `?`
(`rolecall prompt` shows escapes such as `\\x1b` instead).
"""

from __future__ import annotations

from rolecall.core.shell.prompt import CRITICAL, EXPIRING, RENEWING

SHELLS = ("bash", "zsh", "fish")
"""The shells `rolecall prompt --init` writes for."""

# Shared by bash and zsh: the expiry in seconds, from the epoch variable or the RFC 3339
# text (`2026-11-27T22:43:16Z`, as rolecall writes it) with days-from-civil arithmetic.
_EXPIRY = r"""    expiry=${ROLECALL_EXPIRATION_EPOCH-}
    if [[ ! $expiry =~ ^[0-9]+$ ]]; then
        expiry=''
        if [[ $ROLECALL_EXPIRATION =~ $pattern ]]; then
            local y=$((10#@1@)) mo=$((10#@2@)) d=$((10#@3@))
            local h=$((10#@4@)) mi=$((10#@5@)) s=$((10#@6@)) era yoe doy
            ((y -= mo <= 2, era = y / 400, yoe = y - era * 400))
            ((doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1))
            ((expiry = (era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468) * 86400))
            ((expiry += h * 3600 + mi * 60 + s))
        fi
    fi
"""

_PATTERN = (
    "^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\\.[0-9]+)?(Z|[+-]00:?00)$"
)

_TEXT = r"""    if [[ -z ${ROLECALL_EXPIRATION-} ]]; then
        text=$target
        [[ -n ${ROLECALL_SERVER-} ]] && text+=" @RENEWING@"
    else
@EXPIRY@        if [[ -z $expiry ]]; then
            text=$target
        else
            ((left = expiry - now))
            if ((left <= 0)); then
                text=expired style=@DIM@
            elif ((left < 60)); then
                text=${left}s
            elif ((left < 3600)); then
                text=$((left / 60))m
            else
                printf -v text '%dh%02dm' $((left / 3600)) $((left % 3600 / 60))
            fi
            ((left > 0 && left < @CRITICAL@)) && style=@RED@
            ((left >= @CRITICAL@ && left < @EXPIRING@)) && style=@AMBER@
            text="$target $text"
        fi
    fi
"""


def _common(dim: str, red: str, amber: str, group: str) -> str:
    expiry = _EXPIRY
    for n in range(1, 7):
        expiry = expiry.replace(f"@{n}@", group.replace("N", str(n)))
    return (
        _TEXT.replace("@EXPIRY@", expiry)
        .replace("@RENEWING@", RENEWING)
        .replace("@CRITICAL@", str(CRITICAL))
        .replace("@EXPIRING@", str(EXPIRING))
        .replace("@DIM@", dim)
        .replace("@RED@", red)
        .replace("@AMBER@", amber)
    )


def bash(color: bool) -> str:
    """The bash functions and hooks (evaluated by `eval "$(rolecall prompt --init bash)"`)."""
    body = _common(r"$'\e[2m'", r"$'\e[31m'", r"$'\e[33m'", "${BASH_REMATCH[N]}")
    show = (
        r"""    if [[ -n $style ]]; then
        __rolecall_ps1=$'\001'$style$'\002'$text$'\001\e[0m\002 '
    else
        __rolecall_ps1="$text "
    fi"""
        if color
        else '    __rolecall_ps1="$text "'
    )
    return f"""# rolecall prompt segment for bash (written by `rolecall prompt --init bash`)
__rolecall_prompt() {{
    local status=$? target=${{ROLECALL_TARGET-}} text='' style='' now expiry left
    local pattern='{_PATTERN}'
    __rolecall_ps1=''
    [[ -n $target ]] || return $status
    local LC_ALL=C
    target=${{target//[^[:print:]]/?}}
    printf -v now '%(%s)T' -1
{body}{show}
    return $status
}}
if [[ ${{PROMPT_COMMAND-}} != *__rolecall_prompt* ]]; then
    PROMPT_COMMAND="__rolecall_prompt${{PROMPT_COMMAND:+;$PROMPT_COMMAND}}"
fi
[[ $PS1 == *'${{__rolecall_ps1}}'* ]] || PS1='${{__rolecall_ps1}}'$PS1
"""


def zsh(color: bool) -> str:
    """The zsh functions and hooks (evaluated by `eval "$(rolecall prompt --init zsh)"`)."""
    body = _common(r"$'\e[2m'", r"$'\e[31m'", r"$'\e[33m'", "${match[N]}")
    show = (
        r"""    if [[ -n $style ]]; then
        __rolecall_ps1="%{$style%}$text%{"$'\e[0m'"%} "
    else
        __rolecall_ps1="$text "
    fi"""
        if color
        else '    __rolecall_ps1="$text "'
    )
    return f"""# rolecall prompt segment for zsh (written by `rolecall prompt --init zsh`)
zmodload zsh/datetime
__rolecall_prompt() {{
    local target=${{ROLECALL_TARGET-}} text='' style='' now=$EPOCHSECONDS expiry left
    local pattern='{_PATTERN}'
    local -a match
    typeset -g __rolecall_ps1=''
    [[ -n $target ]] || return 0
    local LC_ALL=C
    target=${{target//[^[:print:]]/?}}
    target=${{target//\\%/%%}}
{body}{show}
}}
autoload -Uz add-zsh-hook
add-zsh-hook precmd __rolecall_prompt
setopt prompt_subst
[[ $PROMPT == *'${{__rolecall_ps1}}'* ]] || PROMPT='${{__rolecall_ps1}}'$PROMPT
"""


def fish(color: bool) -> str:
    """The fish functions (evaluated by `rolecall prompt --init fish | source`)."""
    colour = "true" if color else "false"
    return f"""# rolecall prompt segment for fish (written by `rolecall prompt --init fish`)
function __rolecall_now
    # No clock builtin in fish: the mtime of a file just truncated, in a private directory.
    if set -q XDG_RUNTIME_DIR[1]; and test -d "$XDG_RUNTIME_DIR"
        set -l clock $XDG_RUNTIME_DIR/rolecall-clock.$fish_pid
        echo -n >$clock; and path mtime -- $clock; and return
    end
    command date +%s
end

function __rolecall_prompt
    set -q ROLECALL_TARGET[1]; and test -n "$ROLECALL_TARGET"; or return 0
    set -l target (string replace -ra '[^\\x20-\\x7e]' '?' -- $ROLECALL_TARGET)
    set -l style ''
    set -l text $target
    if test -z "$ROLECALL_EXPIRATION"
        set -q ROLECALL_SERVER[1]; and test -n "$ROLECALL_SERVER"; and set text "$target {RENEWING}"
    else
        set -l expiry $ROLECALL_EXPIRATION_EPOCH
        string match -qr '^[0-9]+$' -- "$expiry"; or set expiry ''
        if test -n "$expiry"
            set -l left (math (string join '' $expiry) - (__rolecall_now))
            if test $left -le 0
                set text expired
                set style \\e'[2m'
            else if test $left -lt 60
                set text {{$left}}s
            else if test $left -lt 3600
                set text (math -s0 $left / 60)m
            else
                set text (printf '%dh%02dm' (math -s0 $left / 3600) (math -s0 $left % 3600 / 60))
            end
            test $left -gt 0 -a $left -lt {CRITICAL}; and set style \\e'[31m'
            test $left -ge {CRITICAL} -a $left -lt {EXPIRING}; and set style \\e'[33m'
            set text "$target $text"
        end
    end
    if {colour}; and test -n "$style"
        printf '%s%s%s ' $style $text \\e'[0m'
    else
        printf '%s ' $text
    end
end

if not functions -q __rolecall_original_prompt; and functions -q fish_prompt
    functions -c fish_prompt __rolecall_original_prompt
    function __rolecall_status
        return $argv[1]
    end
    function fish_prompt
        set -l last $status  # the original prompt may show it
        __rolecall_prompt
        __rolecall_status $last
        __rolecall_original_prompt
    end
end
"""


def script(shell: str, color: bool) -> str:
    """The `--init` text for `shell`."""
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](color)
