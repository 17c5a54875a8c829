"""Shell completion scripts (bash, zsh, fish) generated from the ``sessionlens`` argparse tree.

Commands, sub-commands, options, option choices, files and folders come from the parser itself, so
a new option completes without touching this module.  Session ids are completed at run time by
``sessionlens __complete ids PREFIX`` (one read-only query), honouring a ``--home`` on the line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field

#: option/positional destinations whose values are session ids, folders or files
SESSION_DESTS = {"session"}
DIR_DESTS = {"home", "out", "workspace"}
FILE_DESTS = {"paths", "file", "files", "output", "junit", "dataset", "instructions", "logs"}


@dataclass
class Opt:
    flags: list[str]
    help: str
    takes_value: bool
    choices: list[str] = field(default_factory=list)
    kind: str = ""  # session | dir | file | ""


@dataclass
class Cmd:
    path: list[str]
    help: str
    options: list[Opt] = field(default_factory=list)
    positionals: list[Opt] = field(default_factory=list)
    subcommands: dict[str, "Cmd"] = field(default_factory=dict)


def _kind(dest: str) -> str:
    if dest in SESSION_DESTS:
        return "session"
    if dest in DIR_DESTS:
        return "dir"
    if dest in FILE_DESTS:
        return "file"
    return ""


def walk(parser: argparse.ArgumentParser, path: list[str] | None = None, help_: str = "") -> Cmd:
    cmd = Cmd(path=path or [], help=help_)
    helps: dict[str, str] = {}
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for ca in a._choices_actions:
                helps[ca.dest] = ca.help or ""
            for name, sp in a.choices.items():
                if name.startswith("__"):
                    continue
                cmd.subcommands[name] = walk(sp, [*cmd.path, name], helps.get(name, sp.description or ""))
            continue
        if a.help == argparse.SUPPRESS:
            continue
        choices = [str(c) for c in a.choices] if a.choices else []
        if a.dest == "agent" and not choices:  # validated at run time against the agent registry
            from sessionlens.agents import names

            choices = list(names())
        o = Opt(
            flags=list(a.option_strings),
            help=(a.help or "").replace("%(default)s", str(a.default)),
            takes_value=a.nargs != 0,
            choices=choices,
            kind=_kind(a.dest),
        )
        (cmd.options if a.option_strings else cmd.positionals).append(o)
    return cmd


def _all(cmd: Cmd):
    yield cmd
    for c in cmd.subcommands.values():
        yield from _all(c)


def _words(xs) -> str:
    return " ".join(xs)


# ---------------------------------------------------------------------------------------------- bash, zsh


@dataclass(frozen=True)
class Dialect:
    """How one shell spells the pieces of the generated ``case`` tables (bash and zsh share the rest)."""

    choices: str  # {words}: the option's choices
    session: str
    dir: str
    file: str
    other: str
    subs: Callable[[Cmd], str]  # the value of a command's sub-command list
    opts: Callable[[Cmd], str]  # the assignment of a command's option list

    def value(self, o: Opt) -> str:
        if o.choices:
            return self.choices.format(words=_words(o.choices))
        return {"session": self.session, "dir": self.dir, "file": self.file}.get(o.kind, self.other)


@dataclass
class Cases:
    value_opts: str  # every option that takes a value, space-separated
    subs: str  # one case per command with sub-commands
    prev: str  # one case per (command, option taking a value): complete the value
    opts: str  # one case per command: its options
    pos: str  # one case per leaf command with a positional


def _cases(root: Cmd, d: Dialect) -> Cases:
    value_opts = sorted({f for c in _all(root) for o in c.options if o.takes_value for f in o.flags})
    subs, prev, opts, pos = [], [], [], []
    for c in _all(root):
        key = "/".join(c.path)
        if c.subcommands:
            subs.append(f'        "{key}") {d.subs(c)} ;;')
        for o in c.options:
            if o.takes_value:
                pats = "|".join(f'"{key}:{f}"' for f in o.flags)
                prev.append(f"        {pats}) {d.value(o)}; return ;;")
        opts.append(f'        "{key}") {d.opts(c)} ;;')
        if c.positionals and not c.subcommands:
            pos.append(f'        "{key}") {d.value(c.positionals[0])} ;;')
    return Cases(_words(value_opts), *("\n".join(x) for x in (subs, prev, opts, pos)))


BASH = Dialect(
    choices='COMPREPLY=($(compgen -W "{words}" -- "$cur"))',
    session='COMPREPLY=($(compgen -W "$(_sessionlens_ids "$cur")" -- "$cur"))',
    dir='COMPREPLY=($(compgen -d -- "$cur"))',
    file='COMPREPLY=($(compgen -f -- "$cur"))',
    other="COMPREPLY=()",
    subs=lambda c: f'echo "{_words(c.subcommands)}"',
    opts=lambda c: f'opts="{_words(f for o in c.options for f in o.flags)}"',
)


def _zq(s: str) -> str:
    return s.replace("'", "'\\''").replace(":", "\\:").replace("[", "(").replace("]", ")")


ZSH = Dialect(
    choices="compadd -- {words}",
    session="_sessionlens_ids",
    dir="_directories",
    file="_files",
    other="_message 'value'",
    subs=lambda c: "_sl_subs=(" + " ".join(f"'{name}:{_zq(sc.help)}'" for name, sc in c.subcommands.items()) + ")",
    opts=lambda c: "_sl_opts=(" + " ".join(f"'{f}:{_zq(o.help)}'" for o in c.options for f in o.flags) + ")",
)


def bash(root: Cmd) -> str:
    k = _cases(root, BASH)
    return f"""# bash completion for sessionlens — generated by `sessionlens completion bash`
# install: sessionlens completion bash > ~/.local/share/bash-completion/completions/sessionlens

_sessionlens_ids() {{
    local home=() i
    for ((i = 1; i < ${{#COMP_WORDS[@]}} - 1; i++)); do
        if [[ ${{COMP_WORDS[i]}} == --home ]]; then home=(--home "${{COMP_WORDS[i + 1]}}"); fi
    done
    command sessionlens "${{home[@]}}" __complete ids "$1" 2>/dev/null
}}

_sessionlens_subcommands() {{
    case "$1" in
{k.subs}
    esac
}}

_sessionlens() {{
    local cur prev path="" w i opts="" subs
    COMPREPLY=()
    cur=${{COMP_WORDS[COMP_CWORD]}}
    prev=${{COMP_WORDS[COMP_CWORD - 1]}}
    local value_opts=" {k.value_opts} "
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${{COMP_WORDS[i]}}
        if [[ $value_opts == *" $w "* ]]; then ((i++)); continue; fi
        [[ $w == -* ]] && continue
        subs=" $(_sessionlens_subcommands "$path") "
        if [[ $subs == *" $w "* ]]; then path=${{path:+$path/}}$w; fi
    done
    if [[ $value_opts == *" $prev "* ]]; then
        case "$path:$prev" in
{k.prev}
        esac
        return 0
    fi
    if [[ $cur == -* ]]; then
        case "$path" in
{k.opts}
        esac
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    subs=$(_sessionlens_subcommands "$path")
    if [[ -n $subs ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
        return 0
    fi
    case "$path" in
{k.pos}
    esac
    return 0
}}

complete -F _sessionlens sessionlens
"""


def zsh(root: Cmd) -> str:
    k = _cases(root, ZSH)
    return f"""#compdef sessionlens
# zsh completion for sessionlens — generated by `sessionlens completion zsh`
# install: sessionlens completion zsh > "${{fpath[1]}}/_sessionlens"   (or source it after compinit)

_sessionlens_ids() {{
    local -a home ids
    local i
    for ((i = 2; i < CURRENT; i++)); do
        [[ ${{words[i]}} == --home ]] && home=(--home "${{words[i+1]}}")
    done
    ids=(${{(f)"$(command sessionlens $home __complete ids "${{words[CURRENT]}}" 2>/dev/null)"}})
    compadd -- $ids
}}

_sessionlens_subs() {{
    _sl_subs=()
    case "$1" in
{k.subs}
    esac
}}

_sessionlens() {{
    local slpath="" w i cur prev  # not `path`: zsh ties it to $PATH
    local -a _sl_subs _sl_opts
    local value_opts=" {k.value_opts} "
    cur=${{words[CURRENT]}}
    prev=${{words[CURRENT-1]}}
    for ((i = 2; i < CURRENT; i++)); do
        w=${{words[i]}}
        if [[ $value_opts == *" $w "* ]]; then ((i++)); continue; fi
        [[ $w == -* ]] && continue
        _sessionlens_subs "$slpath"
        if (( ${{_sl_subs[(I)$w:*]}} )); then slpath=${{slpath:+$slpath/}}$w; fi
    done
    if [[ $value_opts == *" $prev "* ]]; then
        case "$slpath:$prev" in
{k.prev}
        esac
        return
    fi
    if [[ $cur == -* ]]; then
        case "$slpath" in
{k.opts}
        esac
        _describe -t options 'option' _sl_opts
        return
    fi
    _sessionlens_subs "$slpath"
    if (( ${{#_sl_subs}} )); then
        _describe -t commands 'command' _sl_subs
        return
    fi
    case "$slpath" in
{k.pos}
    esac
}}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _sessionlens "$@"
else
    compdef _sessionlens sessionlens
fi
"""


# ---------------------------------------------------------------------------------------------- fish


def _fq(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_cond(c: Cmd, root: Cmd) -> str:
    if not c.path:
        return f"not __fish_seen_subcommand_from {_words(root.subcommands)}"
    parts = [f"__fish_seen_subcommand_from {p}" for p in c.path]
    if c.subcommands:
        parts.append(f"not __fish_seen_subcommand_from {_words(c.subcommands)}")
    return "; and ".join(parts)


def _fish_value(o: Opt) -> str:
    if o.choices:
        return f"-x -a {_fq(_words(o.choices))}"
    if o.kind == "session":
        return "-x -a '(__sessionlens_ids)'"
    if o.kind == "dir":
        return "-x -a '(__fish_complete_directories)'"
    if o.kind == "file":
        return "-r -F"
    return "-x"


def fish(root: Cmd) -> str:
    lines = [
        "# fish completion for sessionlens — generated by `sessionlens completion fish`",
        "# install: sessionlens completion fish > ~/.config/fish/completions/sessionlens.fish",
        "",
        "function __sessionlens_ids",
        "    set -l tokens (commandline -opc)",
        "    set -l home",
        "    set -l i (contains -i -- --home $tokens)",
        "    and set home --home $tokens[(math $i + 1)]",
        "    command sessionlens $home __complete ids (commandline -ct) 2>/dev/null",
        "end",
        "",
        "complete -c sessionlens -f",
    ]
    for c in _all(root):
        cond = _fish_cond(c, root)
        for name, sc in c.subcommands.items():
            lines.append(f"complete -c sessionlens -n {_fq(cond)} -a {name} -d {_fq(sc.help)}")
        opt_cond = _fish_cond(c, root) if not c.path else "; and ".join(f"__fish_seen_subcommand_from {p}" for p in c.path)
        if c.subcommands and c.path:
            opt_cond = cond
        for o in c.options:
            spec = []
            for f in o.flags:
                spec.append(f"-l {f[2:]}" if f.startswith("--") else f"-s {f[1:]}")
            val = _fish_value(o) if o.takes_value else ""
            lines.append(f"complete -c sessionlens -n {_fq(opt_cond)} {' '.join(spec)} {val} -d {_fq(o.help)}".replace("  ", " "))
        if c.positionals and not c.subcommands and c.path:
            p = c.positionals[0]
            if p.choices:
                lines.append(f"complete -c sessionlens -n {_fq(opt_cond)} -a {_fq(_words(p.choices))}")
            elif p.kind == "session":
                lines.append(f"complete -c sessionlens -n {_fq(opt_cond)} -a '(__sessionlens_ids)'")
            elif p.kind in ("file", "dir"):
                lines.append(f"complete -c sessionlens -n {_fq(opt_cond)} -F")
    return "\n".join(lines) + "\n"


def generate(parser: argparse.ArgumentParser, shell: str) -> str:
    root = walk(parser)
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](root)
