"""What a rule may say about the evidence in a log: the most informative line of an error output,
and whether a command or output is known at all (redacted or missing evidence is *unknown*, never
a fact such as "no test command ran").

Pure: no I/O.  Secret detection lives in :mod:`sessionlens.coach.redact`.
"""

from __future__ import annotations

import re

#: Markers that stand in for content removed before the log reached us: log sanitizers'
#: ``[REDACTED_ARGUMENTS len=479 sha=939b61bc]`` and the like, and sessionlens' own
#: ``[REDACTED:<kind>]``.
REDACTION_RE = re.compile(
    r"\[(?:REDACTED|redacted)(?:[_:][A-Za-z0-9_-]+)?(?:\s[^\]\n]{0,200})?\]"
    r"|\[(?:trimmed|omitted|elided|removed|truncated)(?: for [\w ]{1,40})?\]",
    re.I,
)

#: Tools that run shell commands: a call of one of them whose command is unknown may have been
#: any command (a test run included).
SHELL_TOOLS = frozenset(
    {
        "Bash",
        "bash",
        "shell",
        "local_shell",
        "exec_command",
        "container.exec",
        "run_terminal_cmd",
        "run_shell_command",
        "execute_command",
        "terminal",
        "run_command",
        "shell_command",
        "PowerShell",
    }
)

#: Tools that block by design (they wait for a background job, a sub-agent or the user): their
#: duration says nothing about the tool being slow.
BLOCKING_TOOLS = (
    "Task",
    "Agent",
    "TaskOutput",
    "AgentOutputTool",
    "BashOutput",
    "KillShell",
    "Monitor",
    "spawn_agent",
    "wait",
    "wait_agent",
    "AskUserQuestion",
    "ExitPlanMode",
    "request_user_input",
    "write_stdin",
)
_BLOCKING_NAME_RE = re.compile(r"(?:^|[_.-])(?:wait|sleep|poll|await)(?:$|[_.-])|Output$|^(?:Wait|Sleep|Poll)", re.I)
#: Shell programs that block by design (``sleep 60``, ``wait``, ``tail -f``-like watchers).
BLOCKING_PROGRAMS = frozenset({"sleep", "wait", "watch", "inotifywait"})
_BLOCKING_COMMAND_RE = re.compile(r"\b(?:gh\s+(?:run|pr\s+checks)\s+watch|gh\s+pr\s+checks\b.*--watch|tail\s+-[a-zA-Z]*[fF])\b")


def is_redacted(text: str | None) -> bool:
    """True when ``text`` is nothing but redaction markers (the real content is unknown)."""
    if not text or not text.strip():
        return False
    if "[" not in text:  # every marker starts with one: nothing to remove
        return not text.strip(" \t\r\n,;:")
    return not REDACTION_RE.sub("", text).strip(" \t\r\n,;:")


def has_redaction(text: str | None) -> bool:
    return text is not None and REDACTION_RE.search(text) is not None


def is_blocking_tool(tool: str | None, extra: tuple[str, ...] | list[str] = ()) -> bool:
    """Tools that wait by design (sub-agents, background-job output, user questions)."""
    if not tool:
        return False
    return tool in BLOCKING_TOOLS or tool in extra or bool(_BLOCKING_NAME_RE.search(tool))


def is_blocking_command(command: str | None, program: str) -> bool:
    if not command:
        return False
    return program in BLOCKING_PROGRAMS or bool(_BLOCKING_COMMAND_RE.search(command))


# ------------------------------------------------------------------------------ error output

#: Lines that say nothing by themselves: Claude's ``Exit code N`` prefix, wrappers, separators.
_NOISE_RE = re.compile(
    r"^(?:exit (?:code|status):? -?\d+|command exited with (?:code|status) -?\d+|process exited with code -?\d+"
    r"|traceback \(most recent call last\):|\[output truncated[^\]]*\]|<\/?tool_use_error>|<\/?error>"
    r"|stdout:|stderr:|output:|[-=_~*#.┃│|]+|\^+|\s*~*\^[~^]*)$",
    re.I,
)
_STRONG_RE = re.compile(
    r"^(?i:fatal|error|panic|failed|failure|exception|npm err!|err!)(?:\[\w+\])?:\s*\S|^\[(?i:error|fatal)\]\s*\S"
    r"|\b\w*(?:Error|Exception)\b:\s*\S|^(?:ERROR|FAILED|FAIL|FATAL)\b\s*\S|^E\s{2,}\S|^error\[E\d+\]"
    r"|^error TS\d+|: (?i:error|fatal error):\s"
)
_MEDIUM_RE = re.compile(
    r"\b(?:error|errors|failed|failure|fatal|not found|no such file|permission denied|denied|cannot|can't|could not"
    r"|couldn't|unable to|invalid|refused|timed out|timeout|not formatted|no upstream|rejected|conflict|missing"
    r"|unknown|unrecognized|not allowed|does not exist|doesn't exist|is not|undefined)\b",
    re.I,
)
_LOCATION_RE = re.compile(r"^[\w./-]+\.\w+:\d+(?::\d+)?\b")
_NO_ERRORS_RE = re.compile(r"\b(?:0|no) (?:errors?|failures?)\b", re.I)
_TAG_RE = re.compile(r"</?(?:tool_use_error|error|stderr|stdout)>", re.I)


def _lines(text: str, limit: int | None = None) -> list[str]:
    """The lines of an output that can say something (the first ``limit`` of them)."""
    # some agents log a nested output with its newlines escaped ("...failed:\\n\\n[FORMAT] ...")
    text = text.replace("\\r\\n", "\n").replace("\\n", "\n")
    out: list[str] = []
    for raw in text.splitlines():
        line = " ".join((_TAG_RE.sub(" ", raw) if "<" in raw else raw).split()).strip("┃│ ")
        if line and not _NOISE_RE.match(line) and not is_redacted(line):
            out.append(line)
            if limit is not None and len(out) >= limit:
                break
    return out


# ``_STRONG_RE.search`` by parts, each tried only when the text holds its literals (a line is
# scored several times over, and the search of every position was most of ``informative_line``)
_STRONG_START = re.compile(
    r"(?i:fatal|error|panic|failed|failure|exception|npm err!|err!)(?:\[\w+\])?:\s*\S|\[(?i:error|fatal)\]\s*\S"
    r"|(?:ERROR|FAILED|FAIL|FATAL)\b\s*\S|E\s{2,}\S|error\[E\d+\]|error TS\d+"
)
# ``\b\w*(?:Error|Exception)\b:\s*\S``: the word characters before "Error" always start at a word
# boundary, and one always follows it before the colon
_STRONG_NAME = re.compile(r"(?:Error|Exception):\s*\S")
_STRONG_COLON = re.compile(r": (?i:error|fatal error):\s")
# ``_MEDIUM_RE`` / ``_NO_ERRORS_RE`` in a lower-cased ASCII line (there ``re.I`` changes nothing else)
_MEDIUM_LOW = re.compile(_MEDIUM_RE.pattern)
_NO_ERRORS_LOW = re.compile(_NO_ERRORS_RE.pattern)
_URL_RE = re.compile(r"https?://")
_EXCEPTION_RE = re.compile(r"^[\w.]*(?:Error|Exception)\b:")


def _strong(line: str) -> bool:
    """``_STRONG_RE.search(line) is not None``."""
    return (
        _STRONG_START.match(line) is not None
        or (("Error" in line or "Exception" in line) and _STRONG_NAME.search(line) is not None)
        or (": " in line and _STRONG_COLON.search(line) is not None)
    )


def _score(line: str) -> float:
    strong = _strong(line)
    low = line.lower() if line.isascii() else None
    if not strong:
        if low is None:
            no_errors = _NO_ERRORS_RE.search(line) is not None
        else:  # "errors?" / "failures?" in it
            no_errors = ("rror" in low or "lure" in low) and _NO_ERRORS_LOW.search(low) is not None
        if no_errors:
            return 0.5
    if strong:
        score = 3.0
    elif _LOCATION_RE.match(line):
        score = 2.5
    elif (_MEDIUM_LOW.search(low) if low is not None else _MEDIUM_RE.search(line)) is not None:
        score = 2.0
    else:
        score = 1.0
    if line.endswith(":") and score < 3:  # a heading ("Pre-commit validation failed:") introduces the detail
        score -= 0.75
    if score < 3 and "://" in line and _URL_RE.search(line):
        score -= 0.5
    return score


def informative_line(text: str | None, limit: int = 400) -> str:
    """The line of an error output that explains the failure best (unredacted, unshortened).

    ``Exit code 128\\nfatal: The current branch main has no upstream branch.`` gives the
    ``fatal:`` line.  Of several equally strong lines the first wins, except for exception lines
    (``ValueError: ...``) where the last one does (a Python traceback ends with the cause).
    Only the first ``limit`` lines are read; "" when the output holds nothing but noise.
    """
    if not text:
        return ""
    lines = _lines(text, limit)
    if not lines:
        return ""
    best, best_score, at = "", -1.0, -1
    for i, line in enumerate(lines):
        s = _score(line) + (0.25 if i == 0 else 0)  # a tool's own message comes first; later lines may echo input
        if s > best_score or (s == best_score and ("Error" in line or "Exception" in line) and _EXCEPTION_RE.match(line) is not None):
            best, best_score, at = line, s, i
    if _LOCATION_RE.match(best) and not _strong(best):
        # a linter's "file:line:col" names where, its neighbour says what: quote both
        near = [(j, lines[j]) for j in (at + 1, at - 1) if 0 <= j < len(lines) and not _LOCATION_RE.match(lines[j])]
        near = [(j, t) for j, t in near if _score(t) >= 1.0 and not t.endswith(":")]
        if near:
            _, text = max(near, key=lambda jt: (_score(jt[1]), jt[0] > at))
            return f"{text} ({best})"
    return best
