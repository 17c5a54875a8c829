"""Session-log parsing entry points: format detection and file-level parsing, through the agent
registry (:mod:`sessionlens.agents`).

``parse_file`` is the only function here that touches the file system (it reads one file).
"""

from __future__ import annotations

import logging
from typing import BinaryIO

from sessionlens.agents import registry, sniff
from sessionlens.models.session import Agent, ParseResult, ParserState

logger = logging.getLogger(__name__)

#: Bump whenever parsing output changes so that the store re-parses files.
# 3: values range-checked (timestamps, tokens, exit codes), Codex totals robust; 4: reader: injected user records,
# summaries by leafUuid, images, structured patches, hooks; 5: Copilot CLI OTel exports (files judged "no session
# log" by an older version are judged again)
PARSER_VERSION = 5

#: Bytes read from the start of a file to detect its format (more when the first line is longer).
HEAD_BYTES = 64 * 1024
MAX_HEAD_BYTES = 64 * 1024 * 1024


def detect(path: str, head: bytes) -> Agent | str | None:
    """Which agent wrote this file (its name; ``Agent`` members for Codex and Claude), judged by the
    content of its first bytes; None for files that are not session logs (e.g.
    ``~/.codex/history.jsonl`` with ``{session_id, ts, text}`` lines).  ``path`` is only used to open
    SQLite files and for logging: content decides."""
    a = registry.detect(path, head)
    if a is None:
        return None
    try:
        return Agent(a.name)
    except ValueError:
        return a.name


def _read_head(fh: BinaryIO) -> bytes:
    """The first ``HEAD_BYTES`` of a file, extended to the end of its first line (lines can be MBs)."""
    head = fh.read(HEAD_BYTES)
    while b"\n" not in head and len(head) < MAX_HEAD_BYTES:
        more = fh.read(HEAD_BYTES * 16)
        if not more:
            break
        head += more
    return head


def parse_file(path: str, state: ParserState | None = None) -> ParseResult | None:
    """Parse a session file from ``state.offset`` (or whole); None when it is not a session log.

    ``.jsonl.zst`` files are always decompressed and parsed whole (``state`` is ignored for them);
    so are documents (``source == "document"``) and logs stored otherwise than as plain UTF-8 JSONL
    (gzip or zstd by content, UTF-16, a byte-order mark, CR-only line breaks: see
    :mod:`sessionlens.agents.sniff`).  A multi-session source (SQLite) gives its first member's
    result here: use :func:`parse_members` for all of them.
    Raises ``OSError`` when the file cannot be read, ``sniff.TooLarge`` and the decompressors' errors
    for oversized or corrupt archives.
    """
    with open(path, "rb") as fh:
        encoding = sniff.encoding_of(fh.read(65536), path)
    if path.endswith(".zst") or encoding != sniff.PLAIN:
        data = sniff.read_decoded(path, "zstd" if path.endswith(".zst") and encoding == sniff.PLAIN else encoding)
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
            head = data  # detection only looks at the first lines
    adapter = registry.detect(path, head)
    if adapter is None:
        logger.debug("not a session log: %s", path)
        return None
    if adapter.parse is None:
        results = parse_members(path)
        return results[0][1] if results else None
    if adapter.source == "document" and state is not None and state.offset:
        with open(path, "rb") as fh:
            data = fh.read()
        state = None
    if state is None:
        state = registry.initial_state(adapter, path)  # what its companion files hold, if any
    return adapter.parse(data, path, state)


def parse_members(path: str) -> list[tuple[str, ParseResult]]:
    """Every session of a multi-session source (SQLite database, directory), as ``(member path, result)``;
    a plain file gives ``[(path, result)]``."""
    with open(path, "rb") as fh:
        head = _read_head(fh)
    adapter = registry.detect(path, head)
    if adapter is None:
        return []
    if adapter.parse is not None:
        r = parse_file(path)
        return [(path, r)] if r is not None else []
    out = []
    if adapter.members is None or adapter.parse_member is None:
        return []
    with registry.open_source(adapter, path) as src:
        for key, _fp in adapter.members(src):
            mpath = registry.member_path(path, key)
            out.append((mpath, adapter.parse_member(src, key, mpath)))
    return out


__all__ = ["HEAD_BYTES", "PARSER_VERSION", "detect", "parse_file", "parse_members"]
