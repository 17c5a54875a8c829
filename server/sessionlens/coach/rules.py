"""Deterministic coach rules over normalized session events.

Each rule looks at one session and yields :class:`Finding` objects whose message names the
evidence, whose ``seq`` is the primary event and whose ``guideline`` is a sentence the user can
add to AGENTS.md / CLAUDE.md.  Evidence quoted from the log is redacted and shortened; secrets
are never copied into a finding.
"""

from __future__ import annotations

import bisect
import hashlib
import operator
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache

from sessionlens.agents.common import TRUNCATION_MARK
from sessionlens.coach.config import CoachConfig
from sessionlens.coach.evidence import (
    SHELL_TOOLS,
    informative_line,
    is_blocking_command,
    is_blocking_tool,
    is_redacted,
)
from sessionlens.coach.redact import find_secrets, label, mask, may_hold_secret, redact, secret_candidates  # noqa: F401  (may_hold_secret re-exported for the indexer)
from sessionlens.models import Event, EventKind, EventRef, Finding, Session, Severity, Turn

#: The version of the rules' semantics: bump it when a rule's findings change for the same events.
#: Stored findings carry it (in their coach input hash): a new version re-coaches every session log
#: on the next index pass, without re-parsing.
RULES_VERSION = 4


def coach_input_hash(config: CoachConfig, *others: str) -> str:
    """The hash of everything the coach's findings depend on besides the events: the rules' version,
    the project's coach config and ``others`` (e.g. a fingerprint of the instruction files)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"rules:{RULES_VERSION}\0".encode())
    h.update(config.model_dump_json().encode())
    for o in others:
        h.update(b"\0" + o.encode("utf-8", "replace"))
    return h.hexdigest()


EDIT_TOOLS = frozenset(
    {
        "Edit",
        "MultiEdit",
        "Write",
        "NotebookEdit",
        "apply_patch",
        "str_replace_editor",
        "str_replace_based_edit_tool",
        "edit_file",
        "write_file",
        "create_file",
        # other agents' names: OpenCode / Crush / Pi (edit, write, patch, multiedit), Gemini CLI (replace,
        # write_file), Cursor (StrReplace, ApplyPatch, Write), Copilot CLI (str_replace, create)
        "edit",
        "write",
        "patch",
        "multiedit",
        "replace",
        "StrReplace",
        "ApplyPatch",
        "str_replace",
        "create",
        "insert",
    }
)
_REJECTION_MARKERS = (
    "the user doesn't want to proceed with this tool use",
    "user rejected tool use",
    "the tool use was rejected",
    "rejected by user",
    "user denied",
    "permission to use",  # "Permission to use X has been denied"
    "[operation cancelled]",  # Gemini CLI: "[Operation Cancelled] Reason: User cancelled the operation."
    "user cancelled the operation",
    "canceled by user",  # Crush: "Tool execution canceled by user"
    "cancelled by user",
    "command aborted",  # Pi: the user stopped a running command
)
_CANCEL_MARKERS = ("cancel", "aborted")
_PATCH_FAILURE_MARKERS = (
    "string to replace not found",
    "found multiple matches of the string to replace",
    "file has not been read yet",
    "file has been modified since read",
    "apply_patch verification failed",
    "failed to apply patch",
    "patch rejected",
    "invalid patch",
    "failed to find expected lines",
    "could not find the exact text",  # Pi
    "old_string not found",  # OpenCode / Crush
    "old_string appears multiple times",
    "has been modified since it was last read",
    "modified since it was last read",
    "must read the file before editing",
    "new content is the same as old content",
    "the replacement produced identical content",
    "failed to parse patch",
)
_INTERRUPT_MARKER = "[request interrupted by user"
# Commands for which exit status 1 is a normal answer ("no match", "files differ"), not an error.
_EXIT1_OK = frozenset({"grep", "egrep", "fgrep", "rg", "ag", "ack", "diff", "cmp", "test", "[", "[[", "git"})
# git answers "no" with exit status 1 in these subcommands only (`git commit` failing with 1 is a failure)
_GIT_EXIT1_OK = frozenset(
    {
        "diff",
        "grep",
        "merge-base",
        "check-ignore",
        "show-ref",
        "ls-remote",
        "ls-files",
        "rev-parse",
        "cat-file",
        "config",
        "describe",
        "status",
        "log",
        "branch",
        "tag",
        "stash",
    }
)


def _exit1_ok(command: str | None) -> bool:
    return _exit1_ok_cached(command) if command is None or len(command) <= _CACHED_COMMAND else _exit1_ok_of(command)


#: Commands at most this long have their program and exit status 1 meaning remembered (the rules
#: ask for the same commands over and over).
_CACHED_COMMAND = 1024


def _exit1_ok_of(command: str | None) -> bool:
    program = _program(command)
    if program not in _EXIT1_OK:
        return False
    if program != "git":
        return True
    unquoted = _QUOTED.sub("''", command or "")
    segment = _SHELL_SEP.split(unquoted)[-1].split()
    words = [w for w in segment[segment.index("git") + 1 :] if not w.startswith("-")] if "git" in segment else []
    return not words or words[0] in _GIT_EXIT1_OK


def _short(text: str | None, limit: int = 120) -> str:
    """One redacted line of evidence, at most ``limit`` characters."""
    if not text:
        return ""
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_line(text: str | None, limit: int = 160) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return _short(line, limit)
    return ""


def _error_line(text: str | None, limit: int = 160) -> str:
    """The most informative line of an error output, redacted and shortened (see ``informative_line``)."""
    return _short(informative_line(text), limit)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _is_wait(ev: Event) -> bool:
    """A message that can interrupt a running tool call (an approval prompt, user input)."""
    return bool(ev.timestamp) and ev.kind in (EventKind.USER_MESSAGE, EventKind.SYSTEM)


def _is_rejection(ev: Event) -> bool:
    if ev.extra.get("rejected"):
        return True
    if ev.kind is not EventKind.TOOL_RESULT or not (ev.is_error or ev.exit_code):
        return False
    low = (ev.text or "")[:500].lower()
    if any(m in low for m in _REJECTION_MARKERS):
        return True
    # OpenCode / Crush answer a refused permission prompt with a bare "Permission denied" (a shell's
    # own "permission denied" comes with more text, from a shell tool)
    return low.strip() == "permission denied" and (ev.tool or "") not in SHELL_TOOLS


class _Scan:
    """What ``Context`` reads of every event, from one pass: the tool calls, results and patches,
    the user and system messages, the user messages and errors, the compactions (each in order),
    the events with token usage, and whether any event is marked rejected."""

    __slots__ = ("tools", "messages", "stops", "compactions", "usage", "rejected")

    def __init__(self, events: list[Event]) -> None:
        tools: list[Event] = []
        messages: list[Event] = []
        stops: list[Event] = []
        compactions: list[Event] = []
        usage: list[Event] = []
        rejected = False
        call, result, patch = EventKind.TOOL_CALL, EventKind.TOOL_RESULT, EventKind.PATCH
        user, system, error, compaction = EventKind.USER_MESSAGE, EventKind.SYSTEM, EventKind.ERROR, EventKind.COMPACTION
        for ev in events:
            kind = ev.kind
            if kind is call or kind is result or kind is patch:
                tools.append(ev)
            elif kind is user:
                messages.append(ev)
                stops.append(ev)
            elif kind is system:
                messages.append(ev)
            elif kind is error:
                stops.append(ev)
            elif kind is compaction:
                compactions.append(ev)
            if ev.usage is not None:
                usage.append(ev)
            if not rejected and ev.extra and ev.extra.get("rejected"):
                rejected = True
        self.tools = tools
        self.messages = messages
        self.stops = stops
        self.compactions = compactions
        self.usage = usage
        self.rejected = rejected


@dataclass
class Context:
    """Everything a rule needs, with a few precomputed indexes."""

    session: Session
    events: list[Event]  # non-duplicate events, in seq order
    turns: list[Turn]
    config: CoachConfig
    test_patterns: list[re.Pattern[str]] = field(default_factory=list)
    secret_seqs: frozenset[int] | None = None  # the events holding a secret, when already known

    @cached_property
    def _scan(self) -> _Scan:
        """The events the rules look at, by what they are: one pass over every event."""
        return _Scan(self.events)

    @cached_property
    def calls(self) -> dict[str, Event]:
        out: dict[str, Event] = {}
        for ev in self.tool_events:
            if ev.call_id and ev.kind is not EventKind.TOOL_RESULT and ev.call_id not in out:
                out[ev.call_id] = ev
        return out

    @cached_property
    def results(self) -> dict[str, Event]:
        out: dict[str, Event] = {}
        for ev in self.tool_events:
            if ev.call_id and ev.kind is EventKind.TOOL_RESULT and ev.call_id not in out:
                out[ev.call_id] = ev
        return out

    @cached_property
    def failures(self) -> list[Event]:
        """The failed tool results (see ``is_failure``), in order: most rules look at these only."""
        return [ev for ev in self.tool_events if ev.kind is EventKind.TOOL_RESULT and self.is_failure(ev)]

    @cached_property
    def tool_events(self) -> list[Event]:
        """Tool calls, results and patches, in order."""
        return self._scan.tools

    def call_of(self, ev: Event) -> Event | None:
        call = self.calls.get(ev.call_id) if ev.call_id else None
        return call if call is not None and call.seq != ev.seq else None

    def ref(self, ev: Event, note: str | None = None) -> EventRef:
        return self.ref_at(ev.seq, ev.line, note)

    def ref_at(self, seq: int, line: int, note: str | None = None) -> EventRef:
        path = self.session.source_files[0] if self.session.source_files else None
        return EventRef(session_id=self.session.id, seq=seq, path=path, line=line, note=note)

    # What some rules read of *every* event, as aggregates: a streamed run (``RuleSieve``) sets them
    # from the whole file while it keeps only the events the rules can cite.
    @cached_property
    def calls_per_turn(self) -> Counter[int | None]:
        return Counter(e.turn for e in self.tool_events if e.kind is EventKind.TOOL_CALL)

    @cached_property
    def turn_tokens(self) -> dict[int, list[int]]:
        """{turn: [tokens, model requests, largest request's tokens, its seq, its line]}."""
        out: dict[int, list[int]] = {}
        for ev in self._scan.usage:
            _add_tokens(out, ev)
        return out

    @cached_property
    def edit_seqs(self) -> list[int]:
        """Seqs of the edit events (calls of an edit tool, patches), in order."""
        return [ev.seq for ev in self.tool_events if _is_edit(ev)]

    def command_of(self, ev: Event) -> str | None:
        """The shell command (or tool name) behind a call or result."""
        if ev.command:
            return ev.command
        call = self.call_of(ev)
        if call is not None and call.command:
            return call.command
        return None

    def tool_of(self, ev: Event) -> str | None:
        if ev.tool:
            return ev.tool
        call = self.call_of(ev)
        return call.tool if call is not None else None

    @cached_property
    def _waits(self) -> tuple[list[int], list[datetime]]:
        """(seqs, timestamps) of the messages that can interrupt a running tool call (approval
        prompts, user input)."""
        waits = [e for e in self._scan.messages if e.timestamp]  # ``_is_wait``
        return [e.seq for e in waits], [e.timestamp for e in waits]  # type: ignore[misc]

    def wall_time_ms(self, call: Event, result: Event) -> int:
        """Milliseconds between a call and its result, not counting time spent waiting for the user.

        A user/system message logged between them (e.g. an approval prompt being answered)
        restarts the clock: the tool only ran after it.
        """
        seqs, times = self._waits
        start = call.timestamp
        i = bisect.bisect_right(seqs, call.seq)
        while i < len(seqs) and seqs[i] < result.seq:
            ts = times[i]
            if ts and start and ts > start:
                start = ts
            i += 1
        if start is None or result.timestamp is None:
            return 0
        return int((result.timestamp - start).total_seconds() * 1000)

    def known_command(self, ev: Event) -> str | None:
        """The command of a tool call when the log shows it (None when redacted or missing)."""
        command = self.command_of(ev)
        return None if command is None or is_redacted(command) else command

    def is_opaque_call(self, ev: Event) -> bool:
        """A tool call that may have run any shell command, but the log does not say which
        (a shell tool with a redacted or missing command, or a tool whose name is redacted)."""
        if ev.kind is not EventKind.TOOL_CALL:
            return False
        tool = ev.tool or ""
        if is_redacted(tool):
            return True
        if ev.command is not None and not is_redacted(ev.command):
            return False
        return tool in SHELL_TOOLS or ev.command is not None or (not tool and is_redacted(ev.text))

    def is_test_command(self, command: str | None) -> bool:
        return command is not None and bool(command) and any(p.search(command) for p in self.test_patterns)

    def is_failure(self, ev: Event) -> bool:
        if ev.kind is not EventKind.TOOL_RESULT:
            return False
        if ev.exit_code not in (None, 0):
            if ev.exit_code == 1 and _exit1_ok(self.command_of(ev)):
                return False
            return True
        if (
            ev.is_error
            and ev.exit_code is None
            and (ev.text or "").strip().lower() in ("", "(no output)")
            and _exit1_ok(self.command_of(ev))
            and _program(self.command_of(ev)) != "git"
        ):
            return False  # `grep` finding nothing, logged as an error without its exit status (Pi)
        return ev.is_error

    def is_patch_failure(self, ev: Event) -> bool:
        if ev.kind is EventKind.PATCH:
            return ev.is_error or ev.exit_code not in (None, 0)
        if not self.is_failure(ev) or _is_rejection(ev):
            return False
        tool = self.tool_of(ev) or ""
        command = self.command_of(ev) or ""
        if tool in EDIT_TOOLS or command.lstrip().startswith("apply_patch"):
            return True
        low = (ev.text or "")[:500].lower()
        return any(m in low for m in _PATCH_FAILURE_MARKERS)

    def make(
        self, rule: "Rule", ev_seq: int, message: str, related: Iterable[EventRef] = (), guideline: str | None = None, **data: object
    ) -> Finding:
        return Finding(
            rule_id=rule.id,
            severity=rule.default_severity,
            message=message,
            session_id=self.session.id,
            seq=ev_seq,
            related=list(related),
            guideline=guideline or rule.guideline,
            data=dict(data),
        )


@lru_cache(maxsize=2048)
def _program_cached(command: str | None) -> str:
    return _program_of(command)


@lru_cache(maxsize=2048)
def _exit1_ok_cached(command: str | None) -> bool:
    return _exit1_ok_of(command)


_WRAPPERS = frozenset({"sudo", "env", "time", "nice", "timeout", "bash", "sh", "zsh", "-lc", "-c", "-l", "exec"})


_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_SHELL_SEP = re.compile(r"&&|\|\||;|\|")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _program(command: str | None) -> str:
    """The program whose exit status a shell command reports (``cd x && grep y`` -> ``grep``)."""
    return _program_cached(command) if command is None or len(command) <= _CACHED_COMMAND else _program_of(command)


def _program_of(command: str | None) -> str:
    if not command:
        return ""
    unquoted = _QUOTED.sub("''", command)  # a `\|` inside a grep pattern is no pipe
    segment = _SHELL_SEP.split(unquoted)[-1]
    for word in segment.split():
        word = word.strip("\"'()")
        if not word or word in _WRAPPERS or _ASSIGNMENT.match(word) or word.isdigit():
            continue
        return word.rsplit("/", 1)[-1]
    return ""


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    default_severity: Severity
    description: str
    guideline: str
    check: Callable[[Context, "Rule"], Iterable[Finding]]


# --------------------------------------------------------------------------------------- rules


def _tool_error_guideline(command: str, output: str) -> str | None:
    low = output.lower()
    prog = _program(command)
    if "command not found" in low or "not found" in low and prog and prog in low:
        return f"Only use tools that exist in this environment; check with `command -v {prog or '<tool>'}` first."
    if "modulenotfounderror" in low or "no module named" in low:
        return "Run Python through the project's environment (e.g. `.venv/bin/python` or `uv run`) so dependencies resolve."
    if "no such file or directory" in low:
        return "Verify paths with `ls`/`rg --files` before using them; don't guess file names."
    if "permission denied" in low:
        return "Don't retry commands that fail with 'permission denied'; ask the user instead of escalating privileges."
    return None


def check_tool_error(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for ev in ctx.failures:
        if _is_rejection(ev) or ctx.is_patch_failure(ev):
            continue
        call = ctx.call_of(ev)
        command = ctx.known_command(ev)
        tool = ctx.tool_of(ev) or "tool"
        if is_redacted(tool):
            tool = "a tool call (its name is redacted in the log)"
        what = f"`{_short(command)}`" if command else tool
        status = f"exit code {ev.exit_code}" if ev.exit_code not in (None, 0) else "an error result"
        detail = _error_line(ev.text)
        message = f"{what} failed with {status}" + (f": {detail}" if detail else "")
        related = [ctx.ref(call, "the call")] if call is not None else []
        yield ctx.make(
            rule,
            ev.seq,
            message,
            related,
            _tool_error_guideline(command or "", ev.text or ""),
            tool=tool,
            command=_short(command, 300) or None,
            exit_code=ev.exit_code,
        )


def check_repeated_failure(ctx: Context, rule: Rule) -> Iterable[Finding]:
    """The same command failing again and again with no edit in between: nothing changed, so the
    retry could not succeed.  A retry after an edit (fixing what the failure reported) is progress,
    not a loop: an edit ends the run of failures."""
    edit_seqs = ctx.edit_seqs
    runs: dict[str, list[list[Event]]] = defaultdict(list)
    for ev in ctx.failures:
        if _is_rejection(ev):
            continue
        command = ctx.known_command(ev)
        if command:
            key = "cmd:" + " ".join(command.split())
        else:
            call = ctx.call_of(ev)
            if call is not None and ctx.is_opaque_call(call):
                continue  # a redacted command: nobody can tell two of them are the same
            key = f"tool:{ctx.tool_of(ev)}:{' '.join((call.text or '').split()) if call is not None else ''}"
        groups = runs[key]
        if groups:
            prev = groups[-1][-1]
            i = bisect.bisect_right(edit_seqs, prev.seq)
            if i < len(edit_seqs) and edit_seqs[i] < ev.seq:  # an edit since the last failure
                groups.append([ev])
                continue
            groups[-1].append(ev)
        else:
            groups.append([ev])
    for _key, groups in runs.items():
        for evs in groups:
            if len(evs) < ctx.config.repeat_threshold:
                continue
            first = evs[0]
            command = ctx.known_command(first)
            what = f"`{_short(command)}`" if command else (ctx.tool_of(first) or "the same tool call")
            codes = [e.exit_code for e in evs if e.exit_code is not None]
            code_text = f" (exit codes {', '.join(str(c) for c in codes)})" if codes else ""
            lines = ", ".join(str(e.line) for e in evs[:10]) + (", …" if len(evs) > 10 else "")
            message = (
                f"{what} failed {len(evs)} times{code_text} at lines {lines} with no edit in between; "
                "the agent retried without changing anything"
            )
            yield ctx.make(
                rule,
                first.seq,
                message,
                [ctx.ref(e, f"failure {i + 2}") for i, e in enumerate(evs[1:])],
                count=len(evs),
                command=_short(command, 300) or None,
            )


def _is_edit(ev: Event) -> bool:
    """``_edit_files(ctx, ev) is not None``."""
    kind = ev.kind
    if kind is EventKind.PATCH:
        return True
    return kind is EventKind.TOOL_CALL and (ev.tool in EDIT_TOOLS or (ev.command or "").lstrip().startswith("apply_patch"))


def _edit_files(ctx: Context, ev: Event) -> list[str] | None:
    """Files changed by an edit event, [] when unknown, None when ``ev`` is not an edit."""
    if ev.kind is EventKind.PATCH:
        return list(ev.files)
    if ev.kind is EventKind.TOOL_CALL:
        if ev.tool in EDIT_TOOLS or (ev.command or "").lstrip().startswith("apply_patch"):
            return list(ev.files)
    return None


@dataclass
class EditTesting:
    """Did a test command run after the last code edit?  ``status``: ``"tested"`` (or nothing was
    edited), ``"untested"`` (every command after the last edit is known and none is a test) or
    ``"unknown"`` (a command after the last edit is redacted or missing from the log: it may have
    been a test run, so nothing can be said)."""

    status: str
    edits: list[Event] = field(default_factory=list)  # the code edits after the last test run
    last_test: Event | None = None
    opaque: list[Event] = field(default_factory=list)  # calls whose command is unknown, after the last edit


def tests_after_edit(ctx: Context) -> EditTesting:
    doc_ext = tuple(e.lower() for e in ctx.config.doc_file_extensions)
    edits: list[Event] = []
    last_test: Event | None = None
    opaque: list[Event] = []
    seen_calls: set[str] = set()
    for ev in ctx.tool_events:  # edits and tool calls only
        files = _edit_files(ctx, ev)
        if files is not None:
            # A PATCH event mirroring an edit call already counted is the same edit.
            if ev.call_id and ev.call_id in seen_calls:
                continue
            if ev.call_id:
                seen_calls.add(ev.call_id)
            if files and all(f.lower().endswith(doc_ext) for f in files):
                continue
            if _edit_did_not_happen(ctx, ev):
                continue  # a failed, rejected or cancelled edit changed nothing to test
            edits.append(ev)
            opaque = []  # only the calls after the last edit matter
        elif ev.kind is EventKind.TOOL_CALL:
            if ctx.is_test_command(ctx.known_command(ev)):
                last_test = ev
            elif ctx.is_opaque_call(ev):
                opaque.append(ev)
    if not edits or (last_test is not None and last_test.seq > edits[-1].seq):
        return EditTesting("tested", last_test=last_test)
    after = [e for e in edits if last_test is None or e.seq > last_test.seq]
    if opaque:
        return EditTesting("unknown", after, last_test, opaque)
    return EditTesting("untested", after, last_test)


def _edit_did_not_happen(ctx: Context, ev: Event) -> bool:
    if ev.kind is EventKind.PATCH and (ev.is_error or ev.exit_code not in (None, 0)):
        return True
    result = ctx.results.get(ev.call_id) if ev.call_id else None
    return result is not None and (
        ctx.is_failure(result) or _is_rejection(result) or any(m in (result.text or "")[:200].lower() for m in _REJECTION_MARKERS)
    )


def check_no_tests_after_edit(ctx: Context, rule: Rule) -> Iterable[Finding]:
    res = tests_after_edit(ctx)
    if res.status != "untested":  # "unknown": a redacted command may have been the test run
        return
    after, last_test = res.edits, res.last_test
    last_edit = after[-1]
    files = sorted({f for e in after for f in e.files})
    file_text = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    when = (
        f"the last test run was at line {last_test.line}, before them" if last_test is not None else "no test command ran in this session"
    )
    message = (
        f"{_plural(len(after), 'code edit')}"
        + (f" ({_short(file_text, 200)})" if file_text else "")
        + f" with no test run afterwards: {when}"
    )
    related = [ctx.ref(e, "edit") for e in after[:-1][-20:]]
    if last_test is not None:
        related.append(ctx.ref(last_test, "last test run"))
    yield ctx.make(rule, last_edit.seq, message, related, edits=len(after), files=files[:50])


def _output_chars(ev: Event) -> tuple[int, bool]:
    """Characters of a tool output and whether that is a lower bound (the parser clipped the text)."""
    extra = ev.extra.get("output_chars")
    size = max(extra if isinstance(extra, int) else 0, len(ev.text or ""))
    if (ev.text or "").endswith(TRUNCATION_MARK):
        return max(size - len(TRUNCATION_MARK), ev.length), True
    return size, False


def check_huge_tool_output(ctx: Context, rule: Rule) -> Iterable[Finding]:
    limit = ctx.config.huge_output_chars
    for ev in ctx.tool_events:
        if ev.kind is not EventKind.TOOL_RESULT:
            continue
        size, clipped = _output_chars(ev)
        if size <= limit:
            continue
        command = ctx.command_of(ev)
        what = f"`{_short(command)}`" if command else (ctx.tool_of(ev) or "a tool")
        call = ctx.call_of(ev)
        message = f"{what} returned {'about ' if clipped else ''}{size:,} characters of output (limit {limit:,}), about {size // 4:,} tokens fed back to the model"
        yield ctx.make(
            rule, ev.seq, message, [ctx.ref(call, "the call")] if call is not None else [], chars=size, command=_short(command, 300) or None
        )


def check_aborted_turn(ctx: Context, rule: Rule) -> Iterable[Finding]:
    markers: dict[int | None, Event | None] = {}
    for ev in ctx._scan.stops:  # the user messages and errors
        low = (ev.text or "")[:200].lower()
        sub = ev.subtype or ""
        interrupted = low.startswith(_INTERRUPT_MARKER) or (
            ev.kind is EventKind.ERROR and (sub.endswith(("turn_aborted", "interrupted")) or bool(ev.extra.get("aborted")))
        )
        if interrupted and ev.turn not in markers:
            markers[ev.turn] = ev
    turns = {t.index: t for t in ctx.turns}
    calls_per_turn = ctx.calls_per_turn
    for t in ctx.turns:
        if t.aborted:
            markers.setdefault(t.index, None)
    for index in sorted(markers, key=lambda i: -1 if i is None else i):
        marker = markers[index]
        turn = turns.get(index) if index is not None else None
        if marker is not None:
            seq = marker.seq
        elif turn is not None:
            seq = turn.end_line
        else:
            continue
        calls = calls_per_turn[index] if index is not None else 0
        reason = None
        if marker is not None:  # Codex turn_aborted carries the reason ("interrupted", "replaced") as text
            reason = marker.extra.get("reason") or (marker.text if (marker.subtype or "").endswith("turn_aborted") else None)
        how = f" ({_short(str(reason), 40)})" if reason and reason != "interrupted" else " by the user"
        prompt = f' (prompt: "{_short(turn.prompt, 80)}")' if turn is not None and turn.prompt else ""
        name = f"Turn {index + 1}" if index is not None else "A turn"
        message = f"{name} was interrupted{how} after {_plural(calls, 'tool call')}{prompt}"
        related = []
        if turn is not None and turn.start_line != seq:
            related.append(
                EventRef(
                    session_id=ctx.session.id,
                    seq=turn.start_line,
                    line=turn.start_line,
                    path=ctx.session.source_files[0] if ctx.session.source_files else None,
                    note="turn start",
                )
            )
        yield ctx.make(rule, seq, message, related, turn=index, tool_calls=calls)


def check_rejected_tool_use(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for ev in ctx.events if ctx._scan.rejected else ctx.tool_events:
        if not _is_rejection(ev):
            continue
        call = ctx.call_of(ev)
        command = ctx.command_of(ev)
        tool = ctx.tool_of(ev) or "a tool"
        what = f"{tool}: `{_short(command)}`" if command else tool
        files = (call.files if call is not None else []) or ev.files
        if files and not command:
            what += f" on {_short(', '.join(files[:3]), 160)}"
        low = (ev.text or "")[:300].lower()
        verb = "stopped" if any(m in low for m in _CANCEL_MARKERS) else "rejected"
        message = f"The user {verb} {what}"
        yield ctx.make(rule, ev.seq, message, [ctx.ref(call, "the rejected call")] if call is not None else [], tool=tool)


def check_patch_failed(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for ev in ctx.tool_events:
        if not ctx.is_patch_failure(ev):
            continue
        call = ctx.call_of(ev)
        files = ev.files or (call.files if call is not None else [])
        tool = ctx.tool_of(ev) or "patch"
        where = f" to {_short(', '.join(files[:3]), 160)}" if files else ""
        detail = _error_line(ev.text)
        message = f"{tool} failed to apply{where}" + (f": {detail}" if detail else "")
        yield ctx.make(rule, ev.seq, message, [ctx.ref(call, "the edit")] if call is not None else [], tool=tool, files=files[:20])


def check_context_compaction(ctx: Context, rule: Rule) -> Iterable[Finding]:
    groups: list[list[Event]] = []
    for ev in ctx._scan.compactions:
        # Codex writes `compacted` followed by `context_compacted`: one compaction, two lines.
        if groups and ev.seq - groups[-1][-1].seq <= 3:
            groups[-1].append(ev)
        else:
            groups.append([ev])
    total = len(groups)
    for i, group in enumerate(groups):
        first = group[0]
        details = []
        for ev in group:
            trigger = ev.extra.get("trigger")
            pre = ev.extra.get("pre_tokens") or ev.extra.get("preTokens")
            if trigger and f"{trigger}" not in details:
                details.append(str(trigger))
            if isinstance(pre, int):
                details.append(f"{pre:,} tokens before")
        detail = f" ({', '.join(details)})" if details else ""
        message = f"Context was compacted{detail}: compaction {i + 1} of {total} in this session; earlier details were summarised away"
        yield ctx.make(rule, first.seq, message, [ctx.ref(e) for e in group[1:]], index=i + 1, total=total)


_MAX_TOKEN_OUTLIERS = 3


def _add_tokens(out: dict[int, list[int]], ev: Event) -> None:
    """Count ``ev``'s model request in its turn's ``Context.turn_tokens`` entry."""
    if ev.usage is None or ev.turn is None:
        return
    tokens = ev.usage.total_tokens
    t = out.get(ev.turn)
    if t is None:
        out[ev.turn] = [tokens, 1, tokens, ev.seq, ev.line]
        return
    t[0] += tokens
    t[1] += 1
    if tokens > t[2]:
        t[2:] = [tokens, ev.seq, ev.line]


def check_token_outlier(ctx: Context, rule: Rule) -> Iterable[Finding]:
    agg = ctx.turn_tokens
    per_turn = {turn: t[0] for turn, t in agg.items()}
    values = [v for v in per_turn.values() if v > 0]
    if len(values) < 3:
        return
    median = statistics.median(values)
    if median <= 0:
        return
    starts = {t.index: t.start_line for t in ctx.turns}
    factor = ctx.config.token_outlier_factor
    outliers = [
        (turn, tokens) for turn, tokens in per_turn.items() if tokens >= ctx.config.token_outlier_min_tokens and tokens > factor * median
    ]
    # Only the worst few: a long session with many heavy turns is one story, not ten findings.
    worst = sorted(outliers, key=lambda kv: (-kv[1], kv[0]))[:_MAX_TOKEN_OUTLIERS]
    for turn, tokens in sorted(worst):
        _, requests, _, big_seq, big_line = agg[turn]
        seq = starts.get(turn, big_seq)
        message = (
            f"Turn {turn + 1} used {tokens:,} tokens in {_plural(requests, 'model request')}, "
            f"{tokens / median:.1f}× the session's median turn ({int(median):,})"
        )
        yield ctx.make(
            rule,
            seq,
            message,
            [ctx.ref_at(big_seq, big_line, "largest request")] if big_seq != seq else [],
            turn=turn,
            tokens=tokens,
            median=median,
        )


def _seconds(ms: int, threshold_s: float) -> str:
    """A duration in seconds, precise enough to be visibly above the threshold (``120.4 s``)."""
    s = ms / 1000
    if round(s) > threshold_s:
        return f"{s:,.0f} s"
    return f"{s:,.1f} s" if round(s, 1) > threshold_s else f"{s:,.3f} s"


def check_slow_tool_call(ctx: Context, rule: Rule) -> Iterable[Finding]:
    limit_ms = ctx.config.slow_tool_seconds * 1000
    ignore = tuple(ctx.config.slow_tool_ignore)
    seen: set[str] = set()
    for ev in ctx.tool_events:
        if ev.kind is not EventKind.TOOL_RESULT and not (ev.kind is EventKind.TOOL_CALL and ev.duration_ms):
            continue
        key = ev.call_id or f"seq:{ev.seq}"
        if key in seen:
            continue
        call = ev if ev.kind is EventKind.TOOL_CALL else ctx.call_of(ev)
        result = ctx.results.get(ev.call_id) if ev.call_id else (ev if ev.kind is EventKind.TOOL_RESULT else None)
        duration = ev.duration_ms
        if duration is None and result is not None:
            duration = result.duration_ms
        inferred = False
        if duration is None and call is not None and result is not None and call.timestamp and result.timestamp:
            duration = ctx.wall_time_ms(call, result)
            inferred = True
        if duration is None or duration <= limit_ms:  # strictly above the threshold only
            continue
        seen.add(key)
        tool = ctx.tool_of(ev) or "tool"
        command = ctx.known_command(ev)
        # tools that wait by design: sub-agents, background-job output, questions to the user, `sleep`
        if is_blocking_tool(tool, ignore) or is_blocking_command(command, _program(command)):
            continue
        if tool in EDIT_TOOLS and not command:
            continue  # an edit takes milliseconds: a long one waited for the user's permission prompt
        # a call whose command is redacted, timed only by the log's timestamps, may have waited for an
        # approval or been a watcher: the log cannot say it was slow
        if inferred and call is not None and ctx.is_opaque_call(call):
            continue
        primary = call or ev
        what = f"`{_short(command)}`" if command else tool
        message = f"{what} took {_seconds(duration, ctx.config.slow_tool_seconds)} (threshold {ctx.config.slow_tool_seconds:,.0f} s)"
        related = [ctx.ref(result, "the result")] if result is not None and result.seq != primary.seq else []
        yield ctx.make(rule, primary.seq, message, related, duration_ms=duration, tool=tool)


@lru_cache(maxsize=32)
def _test_patterns(patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    """The test-command patterns as one alternation (one scan per command), or one by one when
    they cannot be joined (e.g. a pattern with global inline flags)."""
    compiled = [re.compile(p) for p in patterns]
    if len(compiled) > 1:
        try:
            return [re.compile("|".join(f"(?:{p})" for p in patterns))]
        except re.error:
            pass
    return compiled


def _secret_hits(events: list[Event]) -> dict[int, list[tuple[str, str, str]]]:
    """{index in ``events``: [(kind, "command" | "text", masked secret)]} of the events holding a secret."""
    texts: list[str] = []
    owners: list[tuple[int, str]] = []  # (event index, "command" | "text") of each text
    for i, ev in enumerate(events):
        if ev.command:
            texts.append(ev.command)
            owners.append((i, "command"))
        if ev.text:
            texts.append(ev.text)
            owners.append((i, "text"))
        if ev.extra:  # a tool's other inputs (descriptions, stderr, env): read with their keys
            for t in _extra_texts(ev.extra):
                texts.append(t)
                owners.append((i, "text"))
    found: dict[int, list[tuple[str, str, str]]] = {}
    for n in secret_candidates(texts):  # what may_hold_secret accepts: find_secrets decides
        text = texts[n]
        i, where = owners[n]
        for kind, start, end in find_secrets(text):
            found.setdefault(i, []).append((kind, where, mask(text[start:end])))
    return found


def _extra_texts(extra: dict, budget: int = 64) -> list[str]:
    """``key: "value"`` texts of the string members of an event's ``extra`` (nested ones too), so a
    secret found there is judged with its key, as redaction judges it (``redact_obj``)."""
    out: list[str] = []
    stack: list[tuple[str | None, object]] = [(None, extra)]
    while stack and len(out) < budget:
        key, v = stack.pop()
        if isinstance(v, str):
            if len(v) >= 6:
                out.append(f'"{key}": "{v}"' if key and len(key) <= 64 else v)
        elif isinstance(v, dict):
            stack.extend((k if isinstance(k, str) else None, x) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((None, x) for x in v[:64])
    return out


#: Session fields a secret can hide in (a git remote with a token, a title, a folder name).
_SESSION_FIELDS = (
    ("title", "title"),
    ("git_remote", "git remote"),
    ("cwd", "working folder"),
    ("git_branch", "git branch"),
    ("originator", "originator"),
)


def _session_secret_hits(session: Session) -> list[tuple[str, str, str]]:
    """[(kind, field label, masked secret)] of the secrets in a session's metadata."""
    hits = []
    for attr, what in _SESSION_FIELDS:
        value = getattr(session, attr, None)
        if isinstance(value, str) and may_hold_secret(value):
            for kind, start, end in find_secrets(value):
                hits.append((kind, what, mask(value[start:end])))
    return hits


def secret_event_seqs(events: list[Event]) -> list[int]:
    """Seqs of the events holding a secret: computed while a huge file's chunks are parsed, it spares
    the coach a scan of the whole file read back (see ``run_rules``' ``secret_seqs``)."""
    return sorted({events[i].seq for i in _secret_hits(events)})


def check_secret_in_log(ctx: Context, rule: Rule) -> Iterable[Finding]:
    events = ctx.events
    if ctx.secret_seqs is not None:
        events = [ev for ev in events if ev.seq in ctx.secret_seqs]
    found = _secret_hits(events)
    for i in sorted(found):
        ev = events[i]
        hits = found[i]
        kinds = sorted({k for k, _, _ in hits})
        place = {
            EventKind.TOOL_RESULT: "tool output",
            EventKind.TOOL_CALL: "a tool call",
            EventKind.USER_MESSAGE: "a user message",
            EventKind.ASSISTANT_MESSAGE: "an assistant message",
        }.get(ev.kind, ev.kind.value.replace("_", " "))
        shown = "; ".join(f"{label(k)} {m}" for k, _, m in hits[:3]) + (f" and {len(hits) - 3} more" if len(hits) > 3 else "")
        message = f"Possible secret in {place}: {shown}. It is stored in the log file; rotate it if it is real"
        yield ctx.make(rule, ev.seq, message, kinds=kinds, count=len(hits))
    meta = _session_secret_hits(ctx.session)
    if meta and ctx.events:
        shown = "; ".join(f"{label(k)} in the {what} {m}" for k, what, m in meta[:3])
        yield ctx.make(
            rule,
            ctx.events[0].seq,
            f"Possible secret in the session's metadata: {shown}. It is stored in the log file; rotate it if it is real",
            kinds=sorted({k for k, _, _ in meta}),
            count=len(meta),
        )


#: The kinds of events the rules read.  An event of another kind matters to them only when it
#: carries token usage (token-outlier) or a secret (secret-in-log): the indexer reads a huge file's
#: events back on that basis.  Keep in step with the rules.
RULE_KINDS = frozenset(
    {
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.PATCH,
        EventKind.USER_MESSAGE,
        EventKind.SYSTEM,
        EventKind.ERROR,
        EventKind.COMPACTION,
    }
)


RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule(
            "tool-error",
            "Tool call failed",
            Severity.WARNING,
            "A tool call returned a non-zero exit code or an error result.",
            "When a command fails, read the error output and fix the cause before running it again.",
            check_tool_error,
        ),
        Rule(
            "repeated-failure",
            "Same failing command repeated",
            Severity.WARNING,
            "The same command failed several times: the agent is looping.",
            "If the same command fails twice, stop and change approach (read the error, inspect the code) instead of re-running it.",
            check_repeated_failure,
        ),
        Rule(
            "no-tests-after-edit",
            "Code edited but not tested",
            Severity.WARNING,
            "Code was edited but no test command ran afterwards in the session.",
            "After changing code, run the relevant tests (and report the result) before saying the task is done.",
            check_no_tests_after_edit,
        ),
        Rule(
            "huge-tool-output",
            "Huge tool output",
            Severity.INFO,
            "A tool returned more output than the configured threshold, filling the context.",
            "Limit command output: pipe through `head`/`tail`, use `rg -l` or `--quiet` flags, and read files in ranges.",
            check_huge_tool_output,
        ),
        Rule(
            "aborted-turn",
            "Turn interrupted",
            Severity.INFO,
            "The user interrupted the agent in the middle of a turn.",
            "State a short plan before multi-step or risky changes, and ask when the request is ambiguous instead of guessing.",
            check_aborted_turn,
        ),
        Rule(
            "rejected-tool-use",
            "Tool use rejected",
            Severity.INFO,
            "The user rejected a tool call or permission was denied.",
            "Ask before destructive or out-of-scope actions (deleting files, installing packages, pushing) and respect a refusal.",
            check_rejected_tool_use,
        ),
        Rule(
            "patch-failed",
            "Edit failed to apply",
            Severity.WARNING,
            "An apply_patch or Edit call failed.",
            "Re-read a file right before editing it and copy the text to replace verbatim (with enough context to be unique).",
            check_patch_failed,
        ),
        Rule(
            "context-compaction",
            "Context compacted",
            Severity.INFO,
            "The conversation was compacted because the context window filled up.",
            "Keep the context small: avoid dumping large files or logs, and split long tasks into separate sessions.",
            check_context_compaction,
        ),
        Rule(
            "token-outlier",
            "Token-hungry turn",
            Severity.INFO,
            "A turn used far more tokens than the session's median turn.",
            "Break large requests into smaller steps and avoid re-reading large files within one turn.",
            check_token_outlier,
        ),
        Rule(
            "slow-tool-call",
            "Slow tool call",
            Severity.INFO,
            "A tool call took longer than the configured threshold.",
            "Run long builds and test suites with a timeout and the narrowest scope (single test file or package) first.",
            check_slow_tool_call,
        ),
        Rule(
            "secret-in-log",
            "Secret in session log",
            Severity.ERROR,
            "An API key, token, password or private key appears in the session log.",
            "Never print secrets: read credentials from environment variables and don't `cat` .env or key files.",
            check_secret_in_log,
        ),
    ]
}
_ORDER = {rule_id: i for i, rule_id in enumerate(RULES)}


def run_rules(
    session: Session, events: list[Event], turns: list[Turn], config: CoachConfig | None = None, *, secret_seqs: Iterable[int] | None = None
) -> list[Finding]:
    """Run every enabled rule; findings are sorted by (seq, rule order, message).

    ``secret_seqs``: the seqs of every event holding a secret (``secret_event_seqs``), when known:
    the secret rule then looks at those only."""
    config = config or CoachConfig()
    ctx = _context(session, events, turns, config, secret_seqs)
    return _run(ctx, config)


_SEQ = operator.attrgetter("seq")


def _context(
    session: Session, events: Iterable[Event], turns: list[Turn], config: CoachConfig, secret_seqs: Iterable[int] | None
) -> Context:
    return Context(
        session=session,
        events=sorted((e for e in events if not e.duplicate), key=_SEQ),
        turns=sorted(turns, key=lambda t: t.index),
        config=config,
        test_patterns=_test_patterns(tuple(config.test_command_patterns)),
        secret_seqs=frozenset(secret_seqs) if secret_seqs is not None else None,
    )


def _run(ctx: Context, config: CoachConfig, only: AbstractSet[str] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for rule in RULES.values():
        rc = config.rule(rule.id)
        if not rc.enabled or (only is not None and rule.id not in only):
            continue
        for finding in rule.check(ctx, rule):
            if rc.severity is not None:
                finding.severity = rc.severity
            findings.append(finding)
    findings.sort(key=lambda f: (f.seq, _ORDER[f.rule_id], f.message))
    return findings


# ------------------------------------------------------------------------- streamed (huge files)

_SIEVE_PAGE = 512
#: Rules whose finding on an event depends on that event and the calls / results of its call id only.
_LOCAL_RULES = frozenset({"tool-error", "huge-tool-output", "rejected-tool-use", "patch-failed"})
#: A failed result's text longer than this is held as what the other rules read of it (that it is no
#: refusal, not empty) and read again, a few at a time, for the local rules.
_SLIM_OVER = 100
_SLIM_KEEP = 500  # the characters ``_is_rejection`` reads


class RuleSieve:
    """The rules over a stream of events with bounded memory: the same findings as ``run_rules``.

    A huge file's events (millions) are fed in seq order, once; the sieve keeps only the events a
    rule can cite or must look at (failures, edits after the latest test run, patches that failed,
    compactions, errors, interrupts, rejections, huge or slow results, secrets, opaque calls after
    the latest test run) and the aggregates some rules read of every event (tool calls and tokens
    per turn, the edits' seqs, the messages that pause a tool call).  The calls and results
    sharing a call id with a kept event (``partner_call_ids``) are then given to ``findings``,
    which runs the unchanged rules on the kept events: every rule's findings depend on those only.

    ``secret_seqs``: the events holding a secret, when known (else they are found here, page by
    page, as ``check_secret_in_log`` would); ``keep_calls``: also keep every tool call and patch and
    the last event (``calls``), for the guideline checks."""

    def __init__(
        self, session: Session, config: CoachConfig | None = None, *, secret_seqs: Iterable[int] | None = None, keep_calls: bool = False
    ) -> None:
        self.session = session
        self.config = config = config or CoachConfig()
        self._probe = Context(
            session=session, events=[], turns=[], config=config, test_patterns=_test_patterns(tuple(config.test_command_patterns))
        )
        self._known_secrets = frozenset(secret_seqs) if secret_seqs is not None else None
        self._secrets: set[int] = set()
        self._huge = config.huge_output_chars
        self._slow_ms = config.slow_tool_seconds * 1000
        self._kept: dict[int, Event] = {}  # seq -> event, for good
        self._bucket: dict[int, Event] = {}  # edits and opaque calls since the latest test run
        self._last_test: Event | None = None
        self._test_calls: set[str] = set()  # call ids of test runs (a later call with no command of its own is one too)
        self._open_calls: dict[str, float | None] = {}  # call id -> the first call's time, until its first result
        self._calls_per_turn: Counter[int | None] = Counter()
        self._turn_tokens: dict[int, list[int]] = {}
        self._edit_seqs: list[int] = []
        self._wait_seqs: list[int] = []
        self._wait_times: list[datetime] = []
        self._page: list[Event] = []
        self._slim: set[int] = set()  # kept failures held with their text cut (see ``_SLIM_OVER``)
        self._first = True
        self.keep_calls = keep_calls
        self.calls: list[Event] = []  # keep_calls: every tool call and patch, then the last event
        self._last: Event | None = None

    def feed(self, events: Iterable[Event]) -> None:
        """The next events, in seq order."""
        for ev in events:
            self._last = ev
            if ev.duplicate:
                continue
            if self.keep_calls and ev.kind in (EventKind.TOOL_CALL, EventKind.PATCH):
                self.calls.append(ev)
            self._page.append(ev)
            if len(self._page) >= _SIEVE_PAGE:
                self._flush()

    def _flush(self) -> None:
        page, self._page = self._page, []
        if not page:
            return
        if self._known_secrets is None:
            self._secrets.update(page[i].seq for i in _secret_hits(page))
            secrets: AbstractSet[int] = self._secrets
        else:
            secrets = self._known_secrets
        for ev in page:
            self._sift(ev, secrets)

    def _sift(self, ev: Event, secrets: AbstractSet[int]) -> None:
        keep = self._kept
        if self._first or ev.seq in secrets or ev.extra.get("rejected"):
            self._first = False
            keep[ev.seq] = ev
        kind = ev.kind
        _add_tokens(self._turn_tokens, ev)
        if kind is EventKind.TOOL_RESULT:
            if ev.is_error or ev.exit_code not in (None, 0) or _output_chars(ev)[0] > self._huge:
                keep[ev.seq] = ev  # a failure (tool-error, repeated-failure, rejected, patch-failed) or huge-tool-output
                text = ev.text
                if (
                    text
                    and len(text) > _SLIM_OVER
                    and ev.seq not in secrets
                    and (ev.is_error or ev.exit_code not in (None, 0))
                    and text.strip().lower() not in ("", "(no output)")
                ):
                    # the non-local rules read whether its first characters say "rejected" (and
                    # that it is not empty): the local ones get it whole again in ``findings``
                    low = text[:_SLIM_KEEP].lower()
                    refusal = low.strip() == "permission denied" or any(m in low for m in _REJECTION_MARKERS)
                    object.__setattr__(ev, "text", text[:_SLIM_KEEP] + " …" if refusal else "…")
                    self._slim.add(ev.seq)
            elif ev.duration_ms is not None:
                if ev.duration_ms > self._slow_ms:
                    keep[ev.seq] = ev
            elif not ev.call_id:
                pass  # no call: its duration is its own
            elif ev.call_id not in self._open_calls:
                keep[ev.seq] = ev  # not the first result after its call: kept (rare), the rules decide
            else:
                started = self._open_calls[ev.call_id]
                if started is not None and ev.timestamp is not None and (ev.timestamp.timestamp() - started) * 1000 > self._slow_ms:
                    keep[ev.seq] = ev  # maybe slow: its call's time to it, less the waits
            if ev.call_id:
                self._open_calls.pop(ev.call_id, None)
            return
        if kind is EventKind.TOOL_CALL or kind is EventKind.PATCH:
            if ev.call_id and ev.call_id not in self._open_calls:
                self._open_calls[ev.call_id] = ev.timestamp.timestamp() if ev.timestamp is not None else None
            known = ev.command if ev.command and not is_redacted(ev.command) else None
            test = known is not None and self._probe.is_test_command(known)
            if test and ev.call_id:
                self._test_calls.add(ev.call_id)
            if kind is EventKind.TOOL_CALL:
                self._calls_per_turn[ev.turn] += 1
                if ev.duration_ms and ev.duration_ms > self._slow_ms:
                    keep[ev.seq] = ev
            if _is_edit(ev):
                self._edit_seqs.append(ev.seq)
                self._bucket[ev.seq] = ev
                if kind is EventKind.PATCH and (ev.is_error or ev.exit_code not in (None, 0)):
                    keep[ev.seq] = ev  # patch-failed
                return
            if kind is EventKind.PATCH:
                return
            if test:  # a test run: only the edits after the latest one count (tests_after_edit)
                self._last_test = ev
                self._bucket = {}
                return
            if (not ev.command and ev.call_id in self._test_calls) or self._probe.is_opaque_call(ev):
                self._bucket[ev.seq] = ev  # maybe a test run (its first call's command), or an opaque call
            return
        if kind is EventKind.USER_MESSAGE or kind is EventKind.SYSTEM:
            if ev.timestamp:
                self._wait_seqs.append(ev.seq)
                self._wait_times.append(ev.timestamp)
            if kind is EventKind.USER_MESSAGE and (ev.text or "")[:200].lower().startswith(_INTERRUPT_MARKER):
                keep[ev.seq] = ev  # aborted-turn
            return
        if kind is EventKind.ERROR or kind is EventKind.COMPACTION:
            keep[ev.seq] = ev  # aborted-turn, context-compaction

    def _held(self) -> dict[int, Event]:
        self._flush()
        held = {**self._kept, **self._bucket}
        if self._last_test is not None:
            held[self._last_test.seq] = self._last_test
        return held

    def partner_call_ids(self) -> set[str]:
        """The call ids of the kept events: ``findings`` wants every tool call, patch and tool result
        of these (``call_of``, ``results`` look them up)."""
        return {ev.call_id for ev in self._held().values() if ev.call_id}

    def findings(
        self, turns: list[Turn], partners: Iterable[Event] = (), reread: Callable[[list[int]], Iterable[Event]] | None = None
    ) -> list[Finding]:
        """The rules' findings; ``partners``: the non-duplicate tool calls, patches and results with a
        call id of ``partner_call_ids`` (in any order), as they were fed; ``reread``: those events
        (by seq) as they were fed, for the kept failures held cut (``slimmed``)."""
        held = self._held()
        for ev in partners:
            if not ev.duplicate and ev.kind in (EventKind.TOOL_CALL, EventKind.PATCH, EventKind.TOOL_RESULT):
                held.setdefault(ev.seq, ev)
        secrets = self._known_secrets if self._known_secrets is not None else self._secrets
        ctx = _context(self.session, held.values(), turns, self.config, secrets)
        ctx.__dict__.update(  # the aggregates of every event (cached properties, set before any rule reads them)
            calls_per_turn=self._calls_per_turn,
            turn_tokens=self._turn_tokens,
            edit_seqs=self._edit_seqs,
            _waits=(self._wait_seqs, self._wait_times),
        )
        slim = self._slim
        findings = _run(ctx, self.config)
        if not slim:
            return findings
        if reread is None:
            raise ValueError("failures were held cut: reread is needed")
        findings = [f for f in findings if f.seq not in slim or f.rule_id not in _LOCAL_RULES]
        by_call: dict[str, list[Event]] = defaultdict(list)
        for ev in ctx.events:
            if ev.call_id:
                by_call[ev.call_id].append(ev)
        order = sorted(slim)
        for i in range(0, len(order), _SIEVE_PAGE):
            part = set(order[i : i + _SIEVE_PAGE])
            whole = [ev for ev in reread(sorted(part)) if ev.seq in part]
            near = {ev.seq: ev for w in whole if w.call_id for ev in by_call[w.call_id] if ev.seq not in part}
            local = _context(self.session, [*whole, *near.values()], turns, self.config, secrets)
            findings += [f for f in _run(local, self.config, _LOCAL_RULES) if f.seq in part]
        findings.sort(key=lambda f: (f.seq, _ORDER[f.rule_id], f.message))
        return findings

    @property
    def slimmed(self) -> int:
        return len(self._slim)

    def turns_needed(self) -> set[int]:
        """The turns the rules read besides the aborted ones (``findings`` wants those and these
        only): the turns of the interrupts kept, and the token-hungry turns."""
        self._flush()
        out = {ev.turn for ev in self._kept.values() if ev.turn is not None and ev.kind in (EventKind.USER_MESSAGE, EventKind.ERROR)}
        values = [t[0] for t in self._turn_tokens.values() if t[0] > 0]
        if len(values) >= 3:
            median = statistics.median(values)
            cfg = self.config
            out.update(
                turn
                for turn, t in self._turn_tokens.items()
                if t[0] >= cfg.token_outlier_min_tokens and t[0] > cfg.token_outlier_factor * median
            )
        return out

    def last_event(self) -> Event | None:
        return self._last
