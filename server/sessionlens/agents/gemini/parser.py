"""Parser for Gemini CLI chat recordings (see README.md here).

Two shapes, one parser, content decides:

* the single JSON document ``{sessionId, projectHash, startTime, lastUpdated, messages[], kind?}``
  (``session-*.json``; also Entire CLI's ``full.jsonl`` copies, which are pretty-printed JSON);
* the JSONL recording: a metadata line, then message records, ``{"$set": {...}}`` patches and
  ``{"$rewindTo": id}`` truncations.  A message is re-appended in full whenever it changes: the
  last copy wins (by ``id``), in the order of first appearance; ``$rewindTo`` drops that message
  and every later one.

Tokens per ``gemini`` message: ``{input, output, cached, thoughts, tool, total}`` where ``cached``
is a subset of ``input`` and ``thoughts`` are billed as output: normalized to
``input_tokens = input - cached``, ``cache_read = cached``, ``output = output + thoughts``
(``reasoning = thoughts``), ``tool`` (tool-use prompt tokens) counted as uncached input, so the
normalized total equals the recorded ``total``.

A recording is rewritten in place (the document) or grows by re-appended messages (JSONL), and the
indexer parses it whole each time.  What each message contributes (its events, turn, billed usage)
is remembered per file and message id, with a digest of the message's bytes: a message whose bytes
did not change is not interpreted again, its recorded contribution is replayed at its new place.
In a pretty-printed document the messages are found by their indentation, so an unchanged message
costs a hash of its bytes (its line spans are computed only when it changed).  The result is the
same as a parse from scratch (``tests/agents/gemini``); :data:`STATS` counts both kinds.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from typing import Any

import orjson

from sessionlens.agents.common import as_int, as_str, iter_lines, parse_ts, scrub_data_urls
from sessionlens.agents.docparse import DocBuilder, line_offsets, text_of
from sessionlens.agents.jsonspan import spans
from sessionlens.models.session import EventKind, ParseResult, ParserState, Session, TokenUsage

AGENT = "gemini"
_SHELL_TOOLS = frozenset({"run_shell_command", "shell"})
_PATCH_TOOLS = frozenset({"write_file", "replace", "edit", "smart_edit"})
_FILE_ARGS = ("file_path", "absolute_path", "path", "dir_path")
_TASK_TOOLS = frozenset({"delegate_to_agent", "subagent", "codebase_investigator"})

#: Messages interpreted from their JSON vs. replayed unchanged (tests and benchmarks read it).
STATS = {"interpreted": 0, "reused": 0}
#: path -> (session id, {message id: (digest, recorded operations)}), the most recent files last.
_MEMO: OrderedDict[str, tuple[str, dict[str, tuple[bytes, list[tuple]]]]] = OrderedDict()
_MEMO_FILES = 64


def usage_of(tokens: Any) -> TokenUsage | None:
    if not isinstance(tokens, dict):
        return None
    inp = max(as_int(tokens.get("input")) or 0, 0)
    cached = min(max(as_int(tokens.get("cached")) or 0, 0), inp)
    out = max(as_int(tokens.get("output")) or 0, 0)
    thoughts = max(as_int(tokens.get("thoughts")) or 0, 0)
    tool = max(as_int(tokens.get("tool")) or 0, 0)
    if not (inp or out or thoughts or tool):
        return None
    return TokenUsage(input_tokens=inp - cached + tool, cache_read_tokens=cached, output_tokens=out + thoughts, reasoning_tokens=thoughts)


def _result_text(result: Any) -> tuple[str | None, bool]:
    """(output text, is_error) of a tool call's ``result`` (a list of ``functionResponse`` parts)."""
    texts: list[str] = []
    error = False
    items = result if isinstance(result, list) else [result]
    for part in items:
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            continue
        fr = part.get("functionResponse")
        if isinstance(fr, dict):
            resp = fr.get("response")
            if isinstance(resp, dict):
                if isinstance(resp.get("output"), str):
                    texts.append(resp["output"])
                if resp.get("error") is not None:
                    error = True
                    texts.append(str(resp["error"]))
            elif isinstance(resp, str):
                texts.append(resp)
        elif isinstance(part.get("text"), str):
            texts.append(part["text"])
    return ("\n".join(texts) if texts else None), error


def _session_from_path(path: str) -> tuple[str, str | None]:
    """(fallback id, parent session id) - sub-agent recordings live in ``chats/<parent>/<id>.jsonl``."""
    name = os.path.basename(path)
    for suf in (".jsonl", ".json"):
        if name.endswith(suf):
            name = name[: -len(suf)]
    parent_dir = os.path.dirname(path)
    parent = None
    if os.path.basename(os.path.dirname(parent_dir)) == "chats":
        parent = os.path.basename(parent_dir) or None
    return name or path, parent


class _Msg:
    __slots__ = ("obj", "line", "end_line", "key_lines", "call_lines", "digest", "raw", "sliced")

    def __init__(self, obj: dict[str, Any], line: int, end_line: int, raw: bytes | None = None, sliced: bool = False):
        self.obj = obj
        self.line = line
        self.end_line = end_line
        self.key_lines: dict[str, int] = {}
        self.call_lines: list[tuple[int, int]] = []
        #: digest of the message's own bytes (its line spans relative to ``line`` follow from them),
        #: None when the message is not alone on its lines (then it is always interpreted)
        # (the comma after an element is not the message's: the last message gains one when another follows)
        self.digest: bytes | None = hashlib.blake2b(raw.rstrip().rstrip(b","), digest_size=16).digest() if raw is not None else None
        self.raw = raw
        self.sliced = sliced  # cut out of a pretty-printed document: its spans are not computed yet


def _locate(msg: _Msg, sp: dict, prefix: tuple, base: int) -> None:
    """Key and tool-call lines of ``msg`` from the spans ``sp`` (paths under ``prefix``, lines shifted
    by ``base``)."""
    first, last = msg.line, msg.end_line
    for key in ("content", "thoughts", "tokens", "toolCalls"):
        kl = sp.get(prefix + (key, "@key"))
        if kl:
            msg.key_lines[key] = kl[0] + base
    calls = msg.obj.get("toolCalls")
    if isinstance(calls, list):
        for j in range(len(calls)):
            cs = sp.get(prefix + ("toolCalls", j))
            cs = (cs[0] + base, cs[1] + base) if cs else (first, last)
            args = sp.get(prefix + ("toolCalls", j, "args", "@key"))
            res = sp.get(prefix + ("toolCalls", j, "result", "@key"))
            a0 = args[0] + base if args else cs[0]
            r0 = res[0] + base if res else cs[0]
            msg.call_lines.append((a0, r0 if r0 != a0 else cs[1]))


def _message_lines(data: bytes, offsets: list[int], n: int) -> list[tuple[int, int]] | None:
    """(first, last) line of each of the ``n`` messages of a document written with a two-space
    indent (Gemini CLI's ``JSON.stringify(.., null, 2)``): each message opens with a line ``    {``
    and closes with ``    }`` inside the top-level ``"messages": [`` array.  None for any other
    layout (then the spans of the whole document are computed)."""
    start = None
    out: list[tuple[int, int]] = []
    opened = 0
    for i, off in enumerate(offsets):
        if start is None:
            if data.startswith(b'  "messages": [', off):
                start = i
                if data.startswith(b'  "messages": []', off):
                    return [] if n == 0 else None
            continue
        if data.startswith(b"    {", off):
            if opened or data.startswith(b"     ", off):
                continue
            opened = i + 1
        elif data.startswith(b"    }", off) and not data.startswith(b"     ", off):
            if not opened:
                return None
            out.append((opened, i + 1))
            opened = 0
        elif data.startswith(b"  ]", off) and not data.startswith(b"   ", off):
            break
        elif not opened:
            return None  # something other than an object element in the array
    return out if len(out) == n and not opened else None


def _from_document(doc: dict[str, Any], data: bytes, offsets: list[int]) -> list[_Msg]:
    raw_msgs = doc.get("messages") or []
    lines = _message_lines(data, offsets, len(raw_msgs))
    if lines is not None:  # one slice per message: a changed message's spans cost its own bytes only
        out = []
        for (first, last), m in zip(lines, raw_msgs):
            if not isinstance(m, dict):
                continue
            end = offsets[last] if last < len(offsets) else len(data)
            out.append(_Msg(m, first, last, raw=data[offsets[first - 1] : end], sliced=True))
        return out
    sp = spans(data.decode("utf-8", "replace"), depth=6)
    out = []
    for i, m in enumerate(raw_msgs):
        if not isinstance(m, dict):
            continue
        first, last = sp.get(("messages", i), (1, 1))
        msg = _Msg(m, first, last)
        _locate(msg, sp, ("messages", i), 0)
        out.append(msg)
    return out


def parse(data: bytes, path: str, state: ParserState | None = None) -> ParseResult:
    """Parse a whole Gemini recording (``state`` is ignored: documents are parsed whole)."""
    fallback_id, parent = _session_from_path(path)
    session = Session(id=fallback_id, agent=AGENT, parent_session_id=parent)
    if path:
        session.source_files = [path]
    offsets = line_offsets(data)
    b = DocBuilder(AGENT, session, size=len(data), line_offsets=offsets)
    meta: dict[str, Any] = {}
    msgs: list[_Msg] = []
    doc = None
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
        meta = doc
        msgs = _from_document(doc, data, offsets)
    else:
        by_id: dict[str, _Msg] = {}
        decoded = 0
        for line_no, _off, raw, terminated in iter_lines(data):
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                if not terminated and decoded:
                    break  # the recording is being appended to: the next pass sees it whole
                b.problem(line_no, f"malformed JSON: {exc}", "error")
                if not decoded:
                    return _incomplete(b, data)
                continue
            decoded += 1
            if not isinstance(obj, dict):
                b.problem(line_no, f"line is JSON {type(obj).__name__}, not an object")
                continue
            if "$rewindTo" in obj:
                target = as_str(obj.get("$rewindTo"))
                ids = list(by_id)
                if target in by_id:
                    for dropped in ids[ids.index(target) :]:
                        del by_id[dropped]
                continue
            if "$set" in obj:
                patch = obj.get("$set")
                if isinstance(patch, dict):
                    meta.update({k: v for k, v in patch.items() if k != "messages"})
                    for m in patch.get("messages") or []:
                        if isinstance(m, dict) and as_str(m.get("id")):
                            by_id[m["id"]] = _Msg(m, line_no, line_no)  # several on a line: no digest
                continue
            rid = as_str(obj.get("id"))
            if rid is not None and "type" in obj:
                prev = by_id.get(rid)
                if prev is None:
                    by_id[rid] = _Msg(obj, line_no, line_no, raw=raw)
                else:  # re-appended in full: the last copy wins, in its first place
                    by_id[rid] = _Msg(obj, line_no, line_no, raw=raw)
                continue
            if "sessionId" in obj:
                meta.update(obj)
                continue
            b.problem(line_no, "unknown Gemini record")
        msgs = list(by_id.values())
    _session_meta(session, meta)
    memo = _memo_of(path, session.id)
    seen: dict[str, tuple[bytes, list[tuple]]] = {}
    for m in msgs:
        mid = as_str(m.obj.get("id"))
        hit = memo.get(mid) if (mid and m.digest is not None) else None
        if mid and hit is not None and hit[0] == m.digest:
            _replay(b, hit[1], m.line)
            STATS["reused"] += 1
            seen[mid] = hit
            continue
        STATS["interpreted"] += 1
        if m.sliced and m.raw is not None:
            _locate(m, spans(m.raw.decode("utf-8", "replace"), depth=4), (), m.line - 1)
        rec = _Recorder(b, m.line)
        try:
            _message(rec, m)  # type: ignore[arg-type]
        except Exception as exc:  # one bad message costs that message only
            b.problem(m.line, f"cannot interpret message: {exc!r}")
            continue
        if mid and m.digest is not None:
            seen[mid] = (m.digest, rec.ops)
    if path:
        _MEMO[path] = (session.id, seen)
        _MEMO.move_to_end(path)
        while len(_MEMO) > _MEMO_FILES:
            _MEMO.popitem(last=False)
    return b.result(consumed=len(data))


def _memo_of(path: str, session_id: str) -> dict[str, tuple[bytes, list[tuple]]]:
    hit = _MEMO.get(path) if path else None
    return hit[1] if hit is not None and hit[0] == session_id else {}


def forget(path: str | None = None) -> None:
    """Drop what is remembered of ``path`` (every file when None)."""
    if path is None:
        _MEMO.clear()
    else:
        _MEMO.pop(path, None)


class _Recorder:
    """Stands in for the builder while a message is interpreted and records what it did (lines
    relative to the message's first line), so that an unchanged message can be replayed."""

    def __init__(self, b: DocBuilder, base: int):
        self.b = b
        self.base = base
        self.ops: list[tuple] = []
        self._events: list[Any] = []

    @property
    def session(self) -> Session:
        return self.b.session

    def open_turn(self, line: int, ts: Any, prompt: str | None, model: str | None = None) -> int:
        self.ops.append(("turn", line - self.base, ts, prompt, model))
        return self.b.open_turn(line, ts, prompt, model)

    def add(self, kind: EventKind, subtype: str | None, **fields: Any) -> Any:
        rec = dict(fields)
        rec["line"] = fields.get("line", 0) - self.base
        if fields.get("end_line"):
            rec["end_line"] = fields["end_line"] - self.base
        if rec.get("extra") is not None:
            rec["extra"] = dict(rec["extra"])
        self.ops.append(("add", kind, subtype, rec))
        ev = self.b.add(kind, subtype, **fields)
        self._events.append(ev)
        return ev

    def bill(self, ev: Any, key: str, usage: TokenUsage, model: str | None) -> None:
        idx = next(i for i, e in enumerate(self._events) if e is ev)
        self.ops.append(("bill", idx, key, usage.model_copy(), model))
        self.b.bill(ev, key, usage, model)


def _replay(b: DocBuilder, ops: list[tuple], base: int) -> None:
    events = []
    for op in ops:
        if op[0] == "turn":
            b.open_turn(op[1] + base, op[2], op[3], op[4])
        elif op[0] == "add":
            fields = dict(op[3])
            fields["line"] = fields["line"] + base
            if fields.get("end_line"):
                fields["end_line"] = fields["end_line"] + base
            if fields.get("extra") is not None:
                fields["extra"] = dict(fields["extra"])
            if isinstance(fields.get("files"), list):
                fields["files"] = list(fields["files"])
            events.append(b.add(op[1], op[2], **fields))
        else:
            b.bill(events[op[1]], op[2], op[3].model_copy(), op[4])


def _incomplete(b: DocBuilder, data: bytes) -> ParseResult:
    """A document that is not complete JSON (being rewritten): nothing consumed, one problem."""
    r = b.result(consumed=0)
    r.problems = [p for p in r.problems][:1]
    if r.problems:
        r.problems[0].message = "not a complete JSON document (being written?): " + r.problems[0].message
    return r


def _session_meta(s: Session, meta: dict[str, Any]) -> None:
    sid = as_str(meta.get("sessionId"))
    if sid:
        s.id = sid if s.parent_session_id is None else f"{s.parent_session_id}:{sid}"
    s.started_at = parse_ts(meta.get("startTime")) or s.started_at
    s.ended_at = parse_ts(meta.get("lastUpdated")) or s.ended_at
    dirs = meta.get("directories")
    if isinstance(dirs, list) and dirs and isinstance(dirs[0], str):
        s.cwd = dirs[0]
    if isinstance(meta.get("summary"), str) and meta["summary"].strip():
        s.title = meta["summary"].strip()[:200]
    kind = as_str(meta.get("kind"))
    if kind and kind != "main":
        s.originator = kind


def _message(b: DocBuilder, m: _Msg) -> None:
    o = m.obj
    t = as_str(o.get("type"))
    ts = parse_ts(o.get("timestamp"))
    mid = as_str(o.get("id"))
    text = text_of(o.get("content"))
    text = scrub_data_urls(text) if text else text
    loc: dict[str, Any] = {"end_line": m.end_line, "ts": ts, "message_id": mid}
    if t == "user":
        display = text_of(o.get("displayContent"))
        prompt = display or text
        b.open_turn(m.line, ts, prompt)
        b.add(EventKind.USER_MESSAGE, "user", line=m.key_lines.get("content", m.line), text=prompt, role="user", **loc)
        return
    at = m.key_lines.get("content", m.line)
    if t in ("info", "warning"):
        b.add(EventKind.SYSTEM, t, line=at, text=text, **loc)
        return
    if t == "error":
        b.add(EventKind.ERROR, "error", line=at, text=text, is_error=True, **loc)
        return
    if t != "gemini":
        b.add(EventKind.UNKNOWN, t, line=at, text=text, **loc)
        return
    model = as_str(o.get("model"))
    first = None
    thoughts = o.get("thoughts")
    if isinstance(thoughts, list) and thoughts:
        parts = []
        for th in thoughts:
            if isinstance(th, dict):
                subj, desc = as_str(th.get("subject")), as_str(th.get("description"))
                parts.append(f"**{subj}** {desc}" if subj and desc else (subj or desc or ""))
        if any(parts):
            first = b.add(
                EventKind.REASONING,
                "thoughts",
                line=m.key_lines.get("thoughts", m.line),
                text="\n\n".join(p for p in parts if p),
                role="assistant",
                model=model,
                **loc,
            )
    if text or first is None:
        ev = b.add(
            EventKind.ASSISTANT_MESSAGE, "gemini", line=m.key_lines.get("content", m.line), text=text, role="assistant", model=model, **loc
        )
        first = first or ev
    usage = usage_of(o.get("tokens"))
    if usage is not None and mid:
        b.bill(first, f"gemini:{b.session.id}:{mid}", usage, model)
    calls = o.get("toolCalls")
    if not isinstance(calls, list):
        return
    for j, c in enumerate(calls):
        if not isinstance(c, dict):
            continue
        call_line, result_line = m.call_lines[j] if j < len(m.call_lines) else (m.line, m.line)
        name = as_str(c.get("name")) or "tool"
        cid = as_str(c.get("id")) or f"{mid}:{j}"
        args: dict[str, Any] = c["args"] if isinstance(c.get("args"), dict) else {}
        files = [args[k] for k in _FILE_ARGS if isinstance(args.get(k), str)]
        command = as_str(args.get("command")) if name in _SHELL_TOOLS else None
        cts = parse_ts(c.get("timestamp")) or ts
        kind = EventKind.PATCH if name in _PATCH_TOOLS else EventKind.TOOL_CALL
        args_text = orjson.dumps(args, option=orjson.OPT_INDENT_2).decode() if args else None
        if kind is EventKind.PATCH:
            body = as_str(args.get("content")) or as_str(args.get("new_string"))
            args_text = body if body is not None else args_text
        b.add(
            kind,
            name,
            line=call_line,
            end_line=m.end_line,
            ts=cts,
            tool=name,
            call_id=cid,
            command=command,
            text=command or args_text,
            files=files,
            model=model,
            message_id=mid,
            parent_call_id=None,
            extra={"display": as_str(c.get("displayName"))} if c.get("displayName") else None,
        )
        status = as_str(c.get("status"))
        out, err = _result_text(c.get("result"))
        if out is None:
            out = as_str(c.get("resultDisplay")) if isinstance(c.get("resultDisplay"), str) else None
        if out is None and status is None:
            continue
        b.add(
            EventKind.TOOL_RESULT,
            name,
            line=result_line,
            end_line=m.end_line,
            ts=cts,
            tool=name,
            call_id=cid,
            text=scrub_data_urls(out) if out else out,
            is_error=err or status in ("error", "cancelled"),
            message_id=mid,
            extra={"status": status} if status else None,
        )
