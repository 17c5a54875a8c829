"""The agent adapter contract: what one agent package tells the rest of sessionlens.

An adapter is data plus pure functions.  The indexer, discovery, the language server, the CLI,
the eval schema and the compliance checker read these fields through :mod:`sessionlens.agents`
(the registry); none of them names an agent.

Source kinds (``AgentAdapter.source``):

``lines``
    A JSONL log that only grows (Codex, Claude Code, Pi...).  ``parse(data, path, state)`` gets the
    bytes from ``state.offset`` and consumes complete lines; the indexer reads a grown file from
    its offset.  One line = one event (``seq == line``).
``document``
    One file rewritten in place (Gemini's ``session-*.json``; Gemini's JSONL whose records update
    earlier ones; Cursor's ``.txt`` transcript).  ``parse(data, path, None)`` always gets the whole
    file and consumes all of it (``state.offset == len(data)``) or, when it is not complete JSON yet,
    nothing but a problem.  A changed document is parsed again from the start.  Events keep the
    line range of their message (``line`` .. ``extra["end_line"]``); ``seq`` is the message's order.
``sqlite``
    A database of many sessions (OpenCode ``opencode.db``, Cursor ``state.vscdb``, Crush ``crush.db``).
    The indexer opens a private read-only snapshot (:func:`sessionlens.agents.sqlite.snapshot`),
    asks ``members(db)`` for ``[(key, fingerprint)]`` and parses only the members whose fingerprint
    changed with ``parse_member(db, key, path)``.  Each member is stored as its own source
    ``<path>#<key>`` (see :func:`member_path`); events keep their row (``extra["row"]``).
``directory``
    Sessions spread over several files (OpenCode's ``storage/{session,message,part}`` tree).  The
    discovered file is an anchor; ``members(anchor_path)`` lists ``(key, fingerprint)`` and
    ``parse_member(anchor_path, key, member_path)`` reads one session (as for ``sqlite``, with the
    anchor's path instead of a database connection; reading is the adapter's, writing never).

Companion files (any kind with a ``parse``): ``companions(path)`` names files read along with a
source (Copilot's ``workspace.yaml`` next to ``events.jsonl``).  Their mtimes count in the source's
stat, a change of any of them re-parses the source whole, and ``read_companions(path)`` (reading
only) gives a JSON-able dict the parser finds in ``state.data["companions"]`` on its first pass
(kept in the state for the passes after it) - ``parse`` stays a pure function of its inputs.

Detection is by content, never by name: ``classify_line(obj)`` for JSONL-shaped files (every
adapter whose files hold one JSON object per line), ``sniff_document(head)`` for files that are one
JSON document (or text), ``sniff_sqlite(tables)`` for SQLite files (the table names of a snapshot).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

# (re-exported: where a session's source is, apart so that a listing imports none of this module)
from sessionlens.agents.paths import MEMBER_SEP, member_path, source_exists, split_member

if TYPE_CHECKING:  # annotations only: listing the agents builds no pydantic model
    from sessionlens.models.session import ParseResult, ParserState

SourceKind = Literal["lines", "document", "sqlite", "directory"]


@dataclass(frozen=True)
class Root:
    """A directory that holds session logs of one agent (it may not exist yet)."""

    path: str
    agent: str

    @property
    def exists(self) -> bool:
        return os.path.isdir(self.path)


@dataclass(frozen=True)
class InstructionSpec:
    """Where an agent reads its instruction files (read by ``compliance/instructions.py``).

    * ``user``: files below the home directory (``~`` expands to it; ``$VAR/...`` to the environment
      variable when set, else to the entry in ``user_defaults``); the first one found is used.
    * ``project``: per directory from the repository root down to the cwd, groups of names; in each
      group the first name found is used (``AGENTS.override.md`` replaces ``AGENTS.md``).  A name
      ending in ``.local.md`` is never committed and is read from disk.
    * ``rules_dirs``: folders at the repository root whose ``*.md`` / ``*.mdc`` files all apply
      (``.cursor/rules``).
    * ``imports``: ``@path`` lines in a file pull in other instruction files (Claude Code).
    * ``primary``: the file a "add this guideline" quick fix edits.
    * ``kinds``: the ``InstructionFile.kind`` for a name (default ``"agents"``).
    """

    user: tuple[str, ...] = ()
    user_defaults: Mapping[str, str] = field(default_factory=dict)
    project: tuple[tuple[str, ...], ...] = ()
    rules_dirs: tuple[str, ...] = ()
    imports: bool = False
    primary: str = "AGENTS.md"
    kinds: Mapping[str, str] = field(default_factory=dict)

    def names(self) -> tuple[str, ...]:
        """Every base name this agent reads (for ``is_instruction_file``)."""
        out: list[str] = []
        for group in self.project:
            out += [os.path.basename(n) for n in group]
        out += [os.path.basename(p) for p in self.user]
        out.append(os.path.basename(self.primary))
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class EvalRunner:
    """How the eval dataset runner starts the agent non-interactively.

    ``command``: a template (``{prompt}`` is shell-quoted); ``log_env``: environment variables that
    point the agent's logs into the case's log folder (value: a sub-folder name; the runner passes
    the absolute path); ``log_subdirs``: folders below that one the agent writes its sessions to;
    ``workdir_logs``: files the agent writes inside the working directory (project-local databases such
    as ``.opencode/opencode.db``), copied with their ``-wal`` / ``-shm`` into the case's log folder
    before the case's worktree is removed.
    """

    command: str
    log_env: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    workdir_logs: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentAdapter:
    """One agent.  Only ``name``, ``label``, ``source`` and a parser are required."""

    name: str  # the adapter's name (files.agent); also the agent's name unless ``agent`` says otherwise
    label: str  # shown to people ("Gemini CLI")
    source: SourceKind = "lines"
    #: file names discovery yields for this agent (fnmatch patterns on the base name).  Content still
    #: decides: a file matching a pattern that no adapter recognises is "not a session log".
    file_patterns: tuple[str, ...] = ("*.jsonl", "*.jsonl.zst")
    #: default log folders: ``(home, env) -> [paths]``; honour the agent's own env overrides there.
    roots: Callable[[str, Mapping[str, str]], list[str]] = lambda home, env: []
    #: the environment variables ``roots`` reads (documentation, ``sessionlens doctor``).
    env_vars: tuple[str, ...] = ()
    #: JSONL detection: True when this decoded line is one of this agent's records.
    classify_line: Callable[[dict[str, Any]], bool] | None = None
    #: document detection: True when the file's first bytes are this agent's document.
    sniff_document: Callable[[bytes], bool] | None = None
    #: SQLite detection: True when a database with these tables is this agent's.
    sniff_sqlite: Callable[[frozenset[str]], bool] | None = None
    #: SQLite detection, second step (only after ``sniff_sqlite`` said yes): True when the snapshot
    #: connection's schema is this agent's -- for agents whose table names are the same (Crush and the
    #: Go OpenCode differ only in a column).
    sniff_db: Callable[[Any], bool] | None = None
    #: ``lines`` / ``document``: the parser (pure; see the module doc).
    parse: Callable[[bytes, str, ParserState | None], ParseResult] | None = None
    #: ``sqlite`` / ``directory``: the sessions in a source and a fingerprint that changes with them.
    members: Callable[[Any], list[tuple[str, str]]] | None = None
    #: ``sqlite`` / ``directory``: parse one member (``(source, key, member path) -> ParseResult``).
    parse_member: Callable[[Any, str, str], ParseResult] | None = None
    #: files read along with a source (their mtimes count in its stat; see the module doc)
    companions: Callable[[str], list[str]] | None = None
    #: ``(path) -> dict``: what the parser needs from the companions (``state.data["companions"]``)
    read_companions: Callable[[str], dict[str, Any]] | None = None
    #: ``(path) -> reason``: a recognised file that is nevertheless no session of its own (e.g. a
    #: Cursor ``.jsonl`` transcript whose ``.txt`` twin, with tool calls and thinking, is read instead)
    skip_if: Callable[[str], str | None] | None = None
    instructions: InstructionSpec = field(default_factory=InstructionSpec)
    #: which provider's token rules price this agent's usage when the model does not say
    #: ("anthropic" | "openai" | "google"), None = decide by the model name.
    pricing_family: str | None = None
    eval_runner: EvalRunner | None = None
    #: lower runs first when several adapters could claim a line (specific shapes before generic ones)
    priority: int = 100
    #: records no token counts at all (Cursor): totals are unknown, never 0
    records_tokens: bool = True
    #: a multi-session source that copies sessions the agent also logs itself (Copilot's OTel export):
    #: a member whose session id the store already has from another source is left out (counted once)
    yields_to_logged: bool = False
    readme: str = ""  # path of the package README (format facts), for docs and `sessionlens doctor`
    #: the agent these sessions belong to (``sessions.agent``, ``--agent``, the eval schema) when one
    #: agent has several adapters (Cursor: transcripts, their .txt twins, the IDE database)
    agent: str = ""

    @property
    def agent_name(self) -> str:
        return self.agent or self.name

    def default_roots(self, home: str | None = None, env: Mapping[str, str] | None = None) -> list[Root]:
        home = home if home is not None else os.path.expanduser("~")
        env = os.environ if env is None else env
        return [Root(os.path.expanduser(p), self.agent_name) for p in self.roots(home, env)]


def env_dirs(env: Mapping[str, str], var: str, default: str, *, multi: bool = False) -> list[str]:
    """Folders from an environment variable (comma-separated when ``multi``), else ``default``."""
    raw = env.get(var) or ""
    dirs = [d.strip() for d in raw.split(",")] if multi else [raw.strip()]
    dirs = [os.path.expanduser(d) for d in dirs if d]
    return dirs or [default]


__all__ = [
    "AgentAdapter",
    "EvalRunner",
    "InstructionSpec",
    "MEMBER_SEP",
    "Root",
    "SourceKind",
    "env_dirs",
    "member_path",
    "source_exists",
    "split_member",
]
