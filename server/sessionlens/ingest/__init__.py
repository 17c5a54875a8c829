"""Session-log parsers: format detection and file-level entry points.

``parse_file`` is the only function here that touches the file system (it reads one file).
"""

from __future__ import annotations

import logging
from typing import BinaryIO, Iterator

import orjson

from sessionlens.ingest import claude, codex
from sessionlens.models.session import Agent, ParseResult, ParserState

logger = logging.getLogger(__name__)

#: Bump whenever parsing output changes so that the store re-parses files.
PARSER_VERSION = 2  # reader: injected user records, summaries by leafUuid, images, structured patches

#: Bytes read from the start of a file to detect its format (more when the first line is longer).
HEAD_BYTES = 64 * 1024
MAX_HEAD_BYTES = 64 * 1024 * 1024

_CODEX_TOP_TYPES = frozenset({"session_meta", "response_item", "event_msg", "turn_context", "compacted"})
_CLAUDE_TYPES = frozenset({
    "user", "assistant", "system", "summary", "file-history-snapshot", "queue-operation", "progress",
    "attachment", "custom-title", "ai-title", "agent-name", "last-prompt", "permission-mode", "pr-link",
    "agent-setting", "bridge-session", "worktree-state",
})
_CODEX_BARE_TYPES = frozenset({"message", "function_call", "function_call_output", "local_shell_call", "reasoning"})


def _classify(obj: object) -> Agent | None | bool:
    """Agent for a recognisable line, None for a line that proves "not a session log", False if undecided."""
    if not isinstance(obj, dict):
        return None
    t = obj.get("type")
    if "payload" in obj and t in _CODEX_TOP_TYPES:
        return Agent.CODEX
    if "record_type" in obj:
        return Agent.CODEX
    if t is None and "id" in obj and "instructions" in obj:
        return Agent.CODEX  # legacy first line
    if t in _CLAUDE_TYPES and ("sessionId" in obj or "uuid" in obj or t in (
            "summary", "file-history-snapshot", "queue-operation")):
        return Agent.CLAUDE
    if t in _CODEX_BARE_TYPES and "uuid" not in obj and "sessionId" not in obj:
        return Agent.CODEX
    return False


def _first_lines(head: bytes, limit: int) -> Iterator[bytes]:
    pos, n, count = 0, len(head), 0
    while pos < n and count < limit:
        end = head.find(b"\n", pos)
        raw = head[pos:] if end < 0 else head[pos:end]
        pos = n if end < 0 else end + 1
        if raw.strip():
            count += 1
            yield raw


def detect(path: str, head: bytes) -> Agent | None:
    """Which agent wrote this JSONL file, judged by the content of its first non-blank lines.

    Returns None for JSONL that is not a session log (e.g. ``~/.codex/history.jsonl`` with
    ``{session_id, ts, text}`` lines, ``~/.claude/history.jsonl`` with ``{display, …}`` lines).
    ``head`` is the start of the (decompressed) file; a cut-off last line is ignored.  ``path`` is
    only used for logging: content decides.
    """
    for raw in _first_lines(head, 20):
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # a malformed or truncated line: look at the next one
        verdict = _classify(obj)
        if verdict is not False:
            return verdict  # type: ignore[return-value]
    logger.debug("no session-log line at the start of %s", path)
    return None


def _read_head(fh: BinaryIO) -> bytes:
    """The first ``HEAD_BYTES`` of a file, extended to the end of its first line (lines can be MBs)."""
    head = fh.read(HEAD_BYTES)
    while b"\n" not in head and len(head) < MAX_HEAD_BYTES:
        more = fh.read(HEAD_BYTES * 16)
        if not more:
            break
        head += more
    return head


def _read_zst(path: str) -> bytes:
    import zstandard

    with open(path, "rb") as fh:
        return zstandard.ZstdDecompressor().stream_reader(fh).read()


def parse_file(path: str, state: ParserState | None = None) -> ParseResult | None:
    """Parse a session file from ``state.offset`` (or whole); None when it is not a session log.

    ``.jsonl.zst`` files are always decompressed and parsed whole (``state`` is ignored for them).
    Raises ``OSError`` when the file cannot be read and ``zstandard.ZstdError`` for corrupt archives.
    """
    if path.endswith(".zst"):
        data = _read_zst(path)
        state = None
        head = data
    else:
        offset = state.offset if state is not None else 0
        with open(path, "rb") as fh:
            if offset:
                head = _read_head(fh)
                fh.seek(offset)
            data = fh.read()
        if not offset:
            head = data  # detect() only looks at the first lines
    agent = detect(path, head)
    if agent is None:
        logger.debug("not a session log: %s", path)
        return None
    parser = codex if agent is Agent.CODEX else claude
    return parser.parse(data, path, state)


__all__ = ["HEAD_BYTES", "PARSER_VERSION", "detect", "parse_file"]
