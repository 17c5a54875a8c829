"""A session (or one turn, or one event) as sanitized HTML: the one transcript that VS Code's
webview, the exported file and the local web UI all show.

Everything from a log is either Markdown rendered by :mod:`safe_md` (assistant and user text) or
escaped text; images are only ``data:`` URIs of bytes the adapters kept (never a remote URL).
No inline event handlers: the optional script (``TRANSCRIPT_JS``) binds by class names and
runs under a nonce.
"""

from __future__ import annotations

import base64
import binascii
import html as _html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sessionlens.agents.registry import label as agent_label
from sessionlens.models import Event, EventKind, Turn
from sessionlens.services.render import blocks as B
from sessionlens.services.render import diff as D
from sessionlens.services.render.safe_md import md_to_html
from sessionlens.services.render.text import fmt_duration, fmt_int, fmt_ts, fmt_usd
from sessionlens.services.render.tools import event_name, todo_items, tool_input

OUTPUT_CHARS = 20_000  # a tool output shown in full up to this, then cut with a note
INPUT_CHARS = 12_000
IMAGE_MAX_BYTES = 2_000_000  # decoded size of one image shown inline
IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_B64 = re.compile(r"^[A-Za-z0-9+/=\s]+$")


#: where an image's bytes come from: ``None`` inlines them as ``data:`` URIs (the webview, the exported
#: file); a host page that serves them itself (the web UI) sets ``(event, index) -> URL``.
_IMAGE_URL: ContextVar[Callable[[Event, int], str] | None] = ContextVar("sessionlens_image_url", default=None)


@contextmanager
def image_urls(url_for: Callable[[Event, int], str]) -> Iterator[None]:
    """Render images as ``<img src=url_for(event, index)>`` (the bytes served by the caller) inside this block."""
    tok = _IMAGE_URL.set(url_for)
    try:
        yield
    finally:
        _IMAGE_URL.reset(tok)


def image_bytes(ev: Event, index: int) -> tuple[str, bytes] | None:
    """(mime, bytes) of image ``index`` of an event, under the same checks as an inline image."""
    imgs = (ev.extra or {}).get("images")
    if not isinstance(imgs, list) or not 0 <= index < len(imgs) or not isinstance(imgs[index], dict):
        return None
    return _decoded(imgs[index])


def _decoded(im: dict) -> tuple[str, bytes] | None:
    mime, data = im.get("mime"), im.get("data")
    if mime not in IMAGE_MIMES or not isinstance(data, str) or not _B64.match(data[:4096] or "x"):
        return None
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return None
    return (mime, raw) if raw and len(raw) <= IMAGE_MAX_BYTES else None


#: terminal escape sequences in tool output (colours, cursor moves, OSC titles/links): dropped, they only draw
_TERM_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?")
#: other control characters (not tab/newline/carriage return): shown as U+FFFD, never passed to the page
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def esc(s: Any) -> str:
    text = "" if s is None else str(s)
    if _CONTROL.search(text):
        text = _CONTROL.sub("\ufffd", _TERM_ESCAPE.sub("", text))
    return _html.escape(text, quote=True)


@dataclass
class SessionData:
    """Everything the transcript shows, read from the store by the services layer."""

    session: dict[str, Any]
    turns: list[Turn]
    events: list[Event]
    totals: dict[str, Any] = field(default_factory=dict)
    turn_usage: dict[int, dict] = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    subagents: list[dict] = field(default_factory=list)
    log_missing: bool = False


# ---------------------------------------------------------------------------------------- pieces


def _clip(text: str, limit: int) -> tuple[str, int]:
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def _pre(text: str | None, limit: int = OUTPUT_CHARS, cls: str = "") -> str:
    if not text:
        return ""
    body, more = _clip(text, limit)
    note = f'<div class="sl-cut">… {more:,} more characters (open the raw line for all of it)</div>' if more else ""
    return f'<pre class="sl-pre {cls}">{esc(body)}</pre>{note}'


def usage_html(u: dict[str, Any] | None) -> str:
    """Tokens with fresh input and cache reads apart (a big cache-read number is cheap, not alarming)."""
    if not u:
        return ""
    cw = (u.get("cache_write") or 0) + (u.get("cache_write_5m") or 0) + (u.get("cache_write_1h") or 0)
    parts = [
        f'<span title="uncached prompt tokens">in {fmt_int(u.get("input"))}</span>',
        f'<span class="sl-cached" title="prompt tokens served from cache (billed at a fraction)">cached {fmt_int(u.get("cache_read"))}</span>',
    ]
    if cw:
        parts.append(f'<span title="prompt tokens written to the cache">cache write {fmt_int(cw)}</span>')
    parts.append(f"<span>out {fmt_int(u.get('output'))}</span>")
    known = not u.get("unknown") if "unknown" in u else bool(u.get("cost_known", True))
    parts.append(f'<span class="sl-cost">{esc(fmt_usd(u.get("cost_usd"), known))}</span>')
    return '<span class="sl-usage">' + " · ".join(parts) + "</span>"


def _line_link(ev: Event) -> str:
    row = (ev.extra or {}).get("row")
    if isinstance(row, dict):  # a database row, not a line of a text log: nothing to reveal in an editor
        where = " ".join(str(row[k]) for k in ("table", "id") if row.get(k) is not None)
        return f'<span class="sl-line sl-row" title="{esc("row " + where)} of the agent\'s database">#{ev.seq}</span>'
    return f'<a class="sl-line" href="#e{ev.seq}" data-line="{ev.line}" title="show line {ev.line} of the raw log">line {ev.line}</a>'


def _time(ev: Event) -> str:
    return f"<time>{esc(ev.timestamp.astimezone().strftime('%H:%M:%S'))}</time>" if ev.timestamp else ""


def images_html(ev: Event) -> str:
    imgs = (ev.extra or {}).get("images")
    if isinstance(imgs, int) and imgs > 0:
        return (
            f'<div class="sl-images"><span class="sl-img-missing">[{imgs} image{"s" if imgs != 1 else ""} not kept in the log]</span></div>'
        )
    if not isinstance(imgs, list) or not imgs:
        return ""
    out = []
    url_for = _IMAGE_URL.get()
    for i, im in enumerate(imgs):
        if not isinstance(im, dict):
            continue
        got = _decoded(im)
        if got is not None:
            mime, raw = got
            src = url_for(ev, i) if url_for is not None else f"data:{mime};base64,{base64.b64encode(raw).decode()}"
            label = f"image {i + 1} ({len(raw) // 1024:,} KB {mime.split('/')[1]})"
            out.append(
                f'<figure class="sl-figure"><img class="sl-thumb" alt="{esc(label)}" loading="lazy" '
                f'src="{esc(src)}"><figcaption>{esc(label)}</figcaption></figure>'
            )
            continue
        size = im.get("bytes")
        out.append(
            f'<span class="sl-img-missing">[image{" of " + fmt_int(size) + " bytes" if isinstance(size, int) else ""} not shown]</span>'
        )
    return f'<div class="sl-images">{"".join(out)}</div>' if out else ""


def checklist_html(tool: str | None, inp: dict | None) -> str:
    items = todo_items(tool, inp)
    if items is None:
        return ""
    lis = []
    for t in items:
        mark = "☑" if t.done else ("◐" if t.status == "in_progress" else "☐")
        lis.append(f'<li class="sl-todo sl-todo-{esc(t.status)}"><span class="sl-check">{mark}</span> {esc(t.text)}</li>')
    return f'<ul class="sl-checklist">{"".join(lis)}</ul>'


def diff_html(files: list[D.FileDiff]) -> str:
    out = []
    for f in files:
        stat = f'<span class="sl-add">+{f.added}</span> <span class="sl-del">−{f.removed}</span>'
        op = "" if f.op == "update" else f' <span class="sl-op">{esc(f.op)}</span>'
        note = f' <span class="sl-note">{esc(f.note)}</span>' if f.note else ""
        rows = []
        for h in f.hunks:
            if h.header and h.header != "@@" or not f.numbered:
                rows.append(f'<tr class="sl-hunk"><td colspan="3">{esc(h.header if h.header != "@@" else "…")}</td></tr>')
            for ln in h.lines:
                cls = {"+": "sl-l-add", "-": "sl-l-del"}.get(ln.tag, "sl-l-ctx")
                o = "" if ln.old is None or not f.numbered else str(ln.old)
                n = "" if ln.new is None or not f.numbered else str(ln.new)
                rows.append(
                    f'<tr class="{cls}"><td class="sl-ln">{o}</td><td class="sl-ln">{n}</td>'
                    f'<td class="sl-code"><span class="sl-tag">{esc(ln.tag)}</span>{esc(ln.text)}</td></tr>'
                )
        numbered = (
            ""
            if f.numbered
            else ' <span class="sl-note" title="the edit did not say where in the file it applied">lines relative to the edit</span>'
        )
        out.append(
            f'<div class="sl-diff"><div class="sl-diff-head"><code>{esc(f.path)}</code>{op} {stat}{note}{numbered}</div>'
            f'<table class="sl-diff-table">{"".join(rows)}</table></div>'
        )
    return "".join(out)


def _status(call: Event, result: Event | None) -> tuple[str, str]:
    """(css class, label) of a call's outcome."""
    if result is None:
        return "sl-pending", "no result"
    if result.extra.get("rejected"):
        return "sl-fail", "rejected"
    if result.is_error or result.exit_code not in (None, 0):
        return "sl-fail", f"exit {result.exit_code}" if result.exit_code is not None else "error"
    return "sl-ok", "ok" if result.exit_code is None else "exit 0"


def call_html(it: B.Item, cwd: str | None, depth: int = 0) -> str:
    ev = it.event
    assert ev is not None
    res = it.result
    scls, slabel = _status(ev, res)
    dur = ev.duration_ms if ev.duration_ms is not None else (res.duration_ms if res else None)
    name = event_name(ev, cwd, limit=160)
    tool = ev.tool or ("patch" if ev.kind == EventKind.PATCH else "tool")
    body: list[str] = []
    inp = tool_input(ev)
    # the input
    if ev.kind == EventKind.PATCH or (ev.text and ev.text.lstrip().startswith("*** Begin Patch")):
        reported = next((r.extra.get("patch") for r in it.results if isinstance(r.extra.get("patch"), str)), None)
        files = D.diffs_for(ev.text, reported=reported, path=ev.files[0] if ev.files else "")
        body.append(diff_html(files) if files else _pre(ev.text, INPUT_CHARS, "sl-input"))
    else:
        chk = checklist_html(ev.tool, inp)
        if chk:
            body.append(chk)
        elif ev.command:
            desc = ev.extra.get("description")
            if isinstance(desc, str):
                body.append(f'<div class="sl-desc">{esc(desc)}</div>')
            body.append(f'<pre class="sl-pre sl-cmd"><span class="sl-prompt">$ </span>{esc(_clip(ev.command, INPUT_CHARS)[0])}</pre>')
        elif inp is not None:
            body.append(_kv_html(inp))
        elif ev.text:
            body.append(_pre(ev.text, INPUT_CHARS, "sl-input"))
    body.append(images_html(ev))
    for child in it.children:
        body.append(_item_html(child, cwd, depth + 1))
    for r in it.results:
        rcls = "sl-output sl-err" if (r.is_error or r.exit_code not in (None, 0)) else "sl-output"
        head = f'<div class="sl-out-head">output {_line_link(r)}'
        if r.exit_code is not None:
            head += f" · exit {r.exit_code}"
        if r.extra.get("rejected"):
            head += " · rejected by the user"
        if r.extra.get("interrupted"):
            head += " · interrupted"
        head += "</div>"
        stderr = r.extra.get("stderr") if isinstance(r.extra.get("stderr"), str) else ""
        body.append(
            f'<div class="{rcls}" id="e{r.seq}" data-kind="output" data-line="{r.line}">{head}'
            f"{_pre(r.text) if r.text else '<div class=sl-empty>(no output)</div>'}"
            f"{_pre(stderr, 4000, 'sl-stderr') if stderr and stderr not in (r.text or '') else ''}{images_html(r)}</div>"
        )
    meta = [f'<span class="sl-status {scls}">{esc(slabel)}</span>']
    if dur is not None:
        meta.append(f'<span class="sl-dur">{esc(fmt_duration(dur))}</span>')
    sub = ' <span class="sl-badge">sub-agent</span>' if ev.sidechain else ""
    is_open = " open" if scls == "sl-fail" else ""
    return (
        f'<details class="sl-ev sl-call {scls}" id="e{ev.seq}" data-kind="tool" data-tool="{esc(tool)}" data-line="{ev.line}"{is_open}>'
        f'<summary><span class="sl-icon">{"✎" if ev.kind == EventKind.PATCH else "⚙"}</span> '
        f'<span class="sl-name">{esc(name)}</span>{sub} {" ".join(meta)} {_time(ev)} {_line_link(ev)}</summary>'
        f'<div class="sl-body">{"".join(body)}</div></details>'
    )


def _kv_html(inp: dict) -> str:
    rows = []
    for k, v in list(inp.items())[:40]:
        if isinstance(v, str):
            val = _pre(v, INPUT_CHARS) if ("\n" in v or len(v) > 120) else f"<code>{esc(v)}</code>"
        else:
            import orjson

            val = _pre(orjson.dumps(v, option=orjson.OPT_INDENT_2).decode(), INPUT_CHARS)
        rows.append(f"<tr><th>{esc(k)}</th><td>{val}</td></tr>")
    return f'<table class="sl-args">{"".join(rows)}</table>'


def event_html(ev: Event, cwd: str | None = None) -> str:
    """One non-call event."""
    k = ev.kind
    cls = B.kind_class(ev)
    head_meta = f"{_time(ev)} {_line_link(ev)}"
    attrs = f'id="e{ev.seq}" data-kind="{cls}" data-line="{ev.line}"'
    if k == EventKind.USER_MESSAGE:
        return (
            f'<div class="sl-ev sl-user" {attrs}><div class="sl-who">User {head_meta}</div>'
            f'<div class="sl-md">{md_to_html(ev.text)}</div>{images_html(ev)}</div>'
        )
    if k == EventKind.ASSISTANT_MESSAGE:
        if not (ev.text or "").strip():
            return f'<span class="sl-anchor" {attrs}></span>'
        model = f' <span class="sl-model">{esc(ev.model)}</span>' if ev.model else ""
        sub = ' <span class="sl-badge">sub-agent</span>' if ev.sidechain else ""
        return (
            f'<div class="sl-ev sl-assistant" {attrs}><div class="sl-who">Assistant{model}{sub} {head_meta}</div>'
            f'<div class="sl-md">{md_to_html(ev.text)}</div>{images_html(ev)}</div>'
        )
    if k == EventKind.REASONING:
        if not (ev.text or "").strip():
            return (
                f'<div class="sl-ev sl-reasoning sl-quiet" {attrs}><span class="sl-icon">∴</span> '
                f"<i>reasoning (encrypted, not readable)</i> {head_meta}</div>"
            )
        first = _plain_line(ev.text or "", 120)
        return (
            f'<details class="sl-ev sl-reasoning" {attrs}><summary><span class="sl-icon">∴</span> '
            f'<span class="sl-name">{esc(first)}</span> {head_meta}</summary>'
            f'<div class="sl-body sl-md">{md_to_html(ev.text)}</div></details>'
        )
    if k == EventKind.ERROR or ev.is_error:
        return (
            f'<div class="sl-ev sl-error" {attrs}><div class="sl-who">⚠ Error'
            f"{' · ' + esc(ev.subtype) if ev.subtype else ''} {head_meta}</div>{_pre(ev.text, 4000)}</div>"
        )
    if k == EventKind.COMPACTION:
        info = []
        for key in ("trigger", "preTokens"):
            if key in (ev.extra or {}):
                info.append(f"{key} {ev.extra[key]}")
        return (
            f'<details class="sl-ev sl-compaction" {attrs}><summary><span class="sl-icon">⇲</span> '
            f'<span class="sl-name">Context compacted</span> {esc(" · ".join(info))} {head_meta}</summary>'
            f'<div class="sl-body sl-md">{md_to_html(ev.text) if ev.text else "<i>no summary text</i>"}</div></details>'
        )
    if k == EventKind.TOOL_RESULT:  # a result without its call
        return (
            f'<div class="sl-ev sl-output{" sl-err" if ev.is_error else ""}" {attrs}><div class="sl-who">Tool output'
            f"{' · ' + esc(ev.tool) if ev.tool else ''} {head_meta}</div>{_pre(ev.text)}{images_html(ev)}</div>"
        )
    # system / injected context: folded, with a one-line summary
    label = event_name(ev, cwd, limit=120)
    return (
        f'<details class="sl-ev sl-system" {attrs}><summary><span class="sl-icon">≡</span> '
        f'<span class="sl-name">{esc(label)}</span> <span class="sl-sub">{esc(ev.subtype or "")}</span> {head_meta}</summary>'
        f'<div class="sl-body">{_pre(ev.text, 8000)}</div></details>'
    )


def _plain_line(text: str, limit: int) -> str:
    """One line of Markdown text without its markup (for a folded summary line)."""
    s = " ".join(text.split())
    s = re.sub(r"(\*\*|__|`)", "", s)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def fold_html(it: B.Item, cwd: str | None) -> str:
    rows = []
    for e in it.folded[:500]:
        label = event_name(e, cwd, limit=140)
        rows.append(
            f'<li id="e{e.seq}" data-kind="meta" data-line="{e.line}">{_line_link(e)} '
            f'<span class="sl-sub">{esc(e.subtype or e.kind.value)}</span> {esc(label if label != (e.subtype or e.kind.value) else "")}</li>'
        )
    more = len(it.folded) - 500
    if more > 0:
        rows.append(f"<li>… {more:,} more (lines {it.folded[500].line}–{it.folded[-1].line})</li>")
    anchors = "".join(f'<span class="sl-anchor" id="e{m.seq}" data-line="{m.line}"></span>' for m in it.mirrors)
    if not it.folded:
        return anchors
    return (
        f'<details class="sl-ev sl-fold" data-kind="meta">{anchors}<summary><span class="sl-icon">⋯</span> '
        f'<span class="sl-name">{esc(B.fold_summary(it))}</span></summary><ul class="sl-fold-list">{"".join(rows)}</ul></details>'
    )


def item_html(it: B.Item, cwd: str | None, depth: int = 0) -> str:
    """One transcript item (message, call with its result, fold)."""
    return _item_html(it, cwd, depth)


def _item_html(it: B.Item, cwd: str | None, depth: int = 0) -> str:
    if it.kind == "call":
        return call_html(it, cwd, depth)
    if it.kind == "fold":
        return fold_html(it, cwd)
    assert it.event is not None
    return event_html(it.event, cwd)


def turn_html(b: B.TurnBlock, cwd: str | None) -> str:
    t = b.turn
    if b.index is None:
        title = "Before the first prompt"
        tid = "t0"
    else:
        prompt = " ".join((t.prompt or "").split()) if t else ""
        title = f"Turn {b.index + 1}" + (f": {prompt[:100]}{'…' if len(prompt) > 100 else ''}" if prompt else "")
        tid = f"t{b.index + 1}"
    meta = []
    if t is not None:
        if t.started_at:
            meta.append(f"<time>{esc(fmt_ts(t.started_at))}</time>")
        dur = t.duration_ms or (int((t.ended_at - t.started_at).total_seconds() * 1000) if t.started_at and t.ended_at else None)
        if dur:
            meta.append(f'<span class="sl-dur">{esc(fmt_duration(dur))}</span>')
        if t.model:
            meta.append(f'<span class="sl-model">{esc(t.model)}</span>')
        if t.aborted:
            meta.append('<span class="sl-status sl-fail">aborted</span>')
    if b.usage:
        meta.append(usage_html(b.usage))
    calls = sum(1 for i in b.items if i.kind == "call")
    if calls:
        meta.append(f"{calls} tool call{'s' if calls != 1 else ''}")
    body = "".join(_item_html(i, cwd) for i in b.items)
    # a block of bookkeeping only (before the first prompt) hides with the bookkeeping filter
    quiet = ' data-kind="meta"' if b.index is None and all(i.kind == "fold" for i in b.items) else ""
    return (
        f'<section class="sl-turn" id="{tid}" data-turn="{b.index if b.index is not None else ""}"{quiet}>'
        f'<h2 class="sl-turn-head"><a href="#{tid}">{esc(title)}</a></h2>'
        f'<div class="sl-turn-meta">{" · ".join(meta)}</div>{body}</section>'
    )


def _toc(blocks: list[B.TurnBlock]) -> str:
    lis = []
    for b in blocks:
        tid = "t0" if b.index is None else f"t{b.index + 1}"
        label = "Start" if b.index is None else f"{b.index + 1}. " + " ".join(((b.turn.prompt if b.turn else "") or "").split())[:60]
        lis.append(f'<li><a href="#{tid}" data-target="{tid}">{esc(label)}</a></li>')
    return f'<nav class="sl-toc" aria-label="turns"><ul>{"".join(lis)}</ul></nav>'


def _tools(events: list[Event]) -> list[str]:
    seen: dict[str, int] = {}
    for e in events:
        if e.kind in (EventKind.TOOL_CALL, EventKind.PATCH) and not e.duplicate:
            name = e.tool or ("patch" if e.kind == EventKind.PATCH else "tool")
            seen[name] = seen.get(name, 0) + 1
    return sorted(seen, key=lambda k: -seen[k])


def _header(d: SessionData) -> str:
    s = d.session
    tot = d.totals or {}
    rows = [
        ("Agent", agent_label(s["agent"]) if s.get("agent") else None),
        ("Project", s.get("project")),
        ("Directory", s.get("cwd")),
        ("Branch", s.get("git_branch")),
        ("Models", ", ".join(s.get("models") or [])),
        ("Started", s.get("started_at_text")),
        ("Log", s.get("path")),
    ]
    cells = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in rows if v)
    missing = (
        '<div class="sl-banner">The log file no longer exists: this transcript is from the sessionlens store.</div>'
        if d.log_missing
        else ""
    )
    totals = (
        usage_html(
            {
                "input": tot.get("input"),
                "cache_read": tot.get("cache_read"),
                "cache_write_5m": tot.get("cache_write_5m"),
                "cache_write_1h": tot.get("cache_write_1h"),
                "output": tot.get("output"),
                "cost_usd": tot.get("cost_usd"),
                "unknown": tot.get("unknown"),
            }
        )
        if tot
        else ""
    )
    if tot.get("untracked_sessions") and not tot.get("requests"):  # Cursor: no tokens recorded, never "0"
        totals = '<span class="sl-usage" title="this agent records no token counts">tokens unknown (not recorded by the agent)</span>'
    finds = ""
    if d.findings:
        lis = "".join(
            f'<li><a href="#e{f["seq"]}">line {f["seq"]}</a> <b>{esc(f["rule_id"])}</b> {esc(f["message"])}</li>' for f in d.findings[:100]
        )
        finds = f'<details class="sl-findings"><summary>{len(d.findings)} coach finding{"s" if len(d.findings) != 1 else ""}</summary><ul>{lis}</ul></details>'
    subs = ""
    if d.subagents:
        lis = "".join(
            f"<li><code>{esc(x.get('agent_id') or x['id'])}</code> {esc(x.get('title') or '')} · {fmt_int(x.get('events'))} events</li>"
            for x in d.subagents
        )
        subs = f'<details class="sl-subagents"><summary>{len(d.subagents)} sub-agent run{"s" if len(d.subagents) != 1 else ""}</summary><ul>{lis}</ul></details>'
    return (
        f'<header class="sl-head"><h1>{esc(s.get("title") or s.get("id"))}</h1>{missing}'
        f'<div class="sl-totals">{fmt_int(s.get("turns"))} turn{"" if s.get("turns") == 1 else "s"} · '
        f"{fmt_int(s.get('events'))} event{'' if s.get('events') == 1 else 's'} · {totals}</div>"
        f'<dl class="sl-facts">{cells}<div><dt>Session</dt><dd><code>{esc(s.get("id"))}</code></dd></div></dl>{finds}{subs}</header>'
    )


def _toolbar(tools: list[str]) -> str:
    kinds = [
        ("user", "Prompts"),
        ("assistant", "Answers"),
        ("reasoning", "Reasoning"),
        ("tool", "Tool calls"),
        ("output", "Tool output"),
        ("system", "System"),
        ("meta", "Bookkeeping"),
        ("error", "Errors"),
    ]
    boxes = "".join(
        f'<label><input type="checkbox" class="sl-filter" data-filter="{k}"{"" if k == "meta" else " checked"}> {esc(label)}</label>'
        for k, label in kinds
    )
    opts = "".join(f'<option value="{esc(t)}">{esc(t)}</option>' for t in tools)
    return (
        f'<div class="sl-toolbar" role="toolbar">{boxes}'
        f'<select class="sl-tool-filter" aria-label="tool"><option value="">all tools</option>{opts}</select>'
        f'<input type="search" class="sl-find" placeholder="Find in session" aria-label="find in session">'
        f'<span class="sl-find-count"></span>'
        f'<button type="button" class="sl-expand">Expand all</button><button type="button" class="sl-collapse">Collapse all</button></div>'
    )


def session_body(d: SessionData) -> str:
    blocks = B.build(d.events, d.turns, d.turn_usage)
    cwd = d.session.get("cwd")
    turns = "".join(turn_html(b, cwd) for b in blocks)
    return (
        f'<div class="sl-page">{_toc(blocks)}<main class="sl-main" data-session="{esc(d.session.get("id"))}">'
        f'{_header(d)}{_toolbar(_tools(d.events))}<div class="sl-turns">{turns}</div></main></div>'
    )


def document(title: str, body: str, *, nonce: str, csp_extra: str = "", script: bool = True) -> str:
    """A whole self-contained page: no network (CSP ``default-src 'none'``), images only ``data:``."""
    csp = (
        f"default-src 'none'; img-src data: {csp_extra}; style-src 'nonce-{nonce}'; "
        f"script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'"
    )
    js = f'<script nonce="{nonce}">{TRANSCRIPT_JS}</script>' if script else ""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)}</title><style nonce="{nonce}">{TRANSCRIPT_CSS}</style></head>'
        f"<body>{body}{js}</body></html>"
    )


#: the palette (VS Code theme variables, light and dark): a host page with its own sets the variables itself
TRANSCRIPT_THEME_CSS = r"""
:root{--fg:var(--vscode-editor-foreground,#1f2328);--bg:var(--vscode-editor-background,#fff);--muted:var(--vscode-descriptionForeground,#656d76);
--border:var(--vscode-panel-border,#d0d7de);--card:var(--vscode-sideBar-background,#f6f8fa);--accent:var(--vscode-textLink-foreground,#0969da);
--add:rgba(46,160,67,.18);--del:rgba(248,81,73,.18);--err:#cf222e;--ok:#1a7f37;--mono:var(--vscode-editor-font-family,ui-monospace,SFMono-Regular,Menlo,Consolas,monospace)}
@media (prefers-color-scheme:dark){:root{--fg:var(--vscode-editor-foreground,#e6edf3);--bg:var(--vscode-editor-background,#0d1117);--muted:var(--vscode-descriptionForeground,#8d96a0);--border:var(--vscode-panel-border,#30363d);--card:var(--vscode-sideBar-background,#161b22);--accent:var(--vscode-textLink-foreground,#4493f8);--err:#f85149;--ok:#3fb950}}
body{margin:0;color:var(--fg);background:var(--bg);font:14px/1.5 var(--vscode-font-family,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif)}
"""

#: the transcript's layout and components, in the variables above
TRANSCRIPT_RULES_CSS = r"""
.sl-page{display:flex;align-items:flex-start}
.sl-toc{position:sticky;top:0;flex:0 0 220px;max-height:100vh;overflow:auto;border-right:1px solid var(--border);font-size:12px;padding:8px 4px}
.sl-toc ul{margin:0;padding-left:8px;list-style:none}.sl-toc a{color:var(--muted);text-decoration:none;display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.sl-toc a.sl-current{color:var(--accent);font-weight:600}
.sl-main{flex:1;min-width:0;padding:0 20px 40vh;max-width:1100px}
.sl-head h1{font-size:20px;margin:16px 0 4px}.sl-facts{display:flex;flex-wrap:wrap;gap:4px 18px;margin:6px 0;font-size:12px}
.sl-facts dt{color:var(--muted);display:inline}.sl-facts dd{display:inline;margin:0 0 0 4px}.sl-totals{color:var(--muted);font-size:13px}
.sl-banner{background:rgba(212,167,44,.2);border:1px solid rgba(212,167,44,.6);padding:6px 10px;border-radius:6px;margin:6px 0}
.sl-toolbar{position:sticky;top:0;z-index:2;background:var(--bg);border-bottom:1px solid var(--border);padding:6px 0;display:flex;flex-wrap:wrap;gap:4px 10px;align-items:center;font-size:12px}
.sl-toolbar input[type=search]{min-width:180px}.sl-find-count{color:var(--muted)}
.sl-turn{border-top:1px solid var(--border);padding-top:6px;margin-top:14px}
.sl-turn-head{font-size:16px;margin:6px 0 0}.sl-turn-head a{color:inherit;text-decoration:none}.sl-turn-meta{color:var(--muted);font-size:12px;margin-bottom:6px}
.sl-ev{margin:6px 0;border-radius:6px}.sl-who{font-size:12px;color:var(--muted);font-weight:600}
.sl-user{background:var(--card);border-left:3px solid var(--accent);padding:6px 10px}.sl-assistant{padding:2px 10px;border-left:3px solid transparent}
.sl-md p{margin:4px 0}.sl-md pre,.sl-pre{font:12px/1.45 var(--mono);background:var(--card);border:1px solid var(--border);border-radius:6px;padding:6px 8px;overflow:auto;max-height:480px;white-space:pre-wrap;word-break:break-word}
.sl-md code{font-family:var(--mono);font-size:12px;background:var(--card);padding:0 3px;border-radius:3px}.sl-md table{border-collapse:collapse}.sl-md td,.sl-md th{border:1px solid var(--border);padding:2px 6px}
details.sl-ev>summary{cursor:pointer;list-style:none;padding:3px 8px;border:1px solid var(--border);border-radius:6px;background:var(--card);font-size:13px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
details.sl-ev>summary::-webkit-details-marker{display:none}details.sl-ev>summary::before{content:"▸";display:inline-block;width:1em;color:var(--muted)}details.sl-ev[open]>summary::before{content:"▾"}
.sl-body{padding:6px 8px 6px 18px;border-left:1px dashed var(--border);margin-left:10px}
.sl-name{font-weight:500}.sl-line{color:var(--muted);font-size:11px;margin-left:6px;text-decoration:none}.sl-line:hover{text-decoration:underline}
time{color:var(--muted);font-size:11px;margin-left:6px}.sl-model,.sl-sub,.sl-dur{color:var(--muted);font-size:11px}
.sl-status{font-size:11px;padding:0 5px;border-radius:8px;border:1px solid var(--border)}.sl-ok .sl-status,.sl-status.sl-ok{color:var(--ok)}.sl-fail .sl-status,.sl-status.sl-fail{color:var(--err);border-color:var(--err)}
.sl-call.sl-fail>summary{border-color:var(--err)}.sl-error{border:1px solid var(--err);padding:6px 10px}.sl-error .sl-who{color:var(--err)}
.sl-output{margin-top:6px}.sl-out-head{font-size:11px;color:var(--muted)}.sl-output.sl-err .sl-pre{border-color:var(--err)}
.sl-cmd{background:var(--card)}.sl-prompt{color:var(--muted);user-select:none}.sl-desc{color:var(--muted);font-size:12px}
.sl-badge{font-size:10px;border:1px solid var(--border);border-radius:8px;padding:0 5px;color:var(--muted)}
.sl-args th{text-align:left;vertical-align:top;color:var(--muted);font-weight:500;padding-right:8px;font-size:12px}.sl-args code{font-family:var(--mono);font-size:12px}
.sl-diff{border:1px solid var(--border);border-radius:6px;margin:4px 0;overflow:auto}.sl-diff-head{padding:3px 8px;background:var(--card);font-size:12px;border-bottom:1px solid var(--border)}
.sl-diff-table{border-collapse:collapse;width:100%;font:12px/1.4 var(--mono)}.sl-diff-table td{padding:0 6px;white-space:pre-wrap;word-break:break-word}
.sl-ln{color:var(--muted);text-align:right;width:1%;user-select:none;white-space:nowrap!important}.sl-l-add{background:var(--add)}.sl-l-del{background:var(--del)}.sl-hunk td{color:var(--muted);background:var(--card)}
.sl-tag{user-select:none;color:var(--muted);display:inline-block;width:1.2em}.sl-add{color:var(--ok)}.sl-del{color:var(--err)}.sl-note{color:var(--muted);font-size:11px}
.sl-checklist{list-style:none;padding-left:4px;margin:4px 0}.sl-todo-completed{color:var(--muted);text-decoration:line-through}.sl-todo-in_progress{font-weight:600}.sl-check{display:inline-block;width:1.3em}
.sl-images{display:flex;flex-wrap:wrap;gap:8px;margin:4px 0}.sl-figure{margin:0}.sl-thumb{max-width:320px;max-height:240px;border:1px solid var(--border);border-radius:4px;cursor:zoom-in}.sl-thumb.sl-big{max-width:100%;max-height:none;cursor:zoom-out}
.sl-figure figcaption,.sl-img-missing,.sl-cut,.sl-empty{font-size:11px;color:var(--muted)}
.sl-fold>summary,.sl-system>summary,.sl-quiet{color:var(--muted);font-size:12px;background:transparent;border-style:dashed}.sl-fold-list{font-size:12px;color:var(--muted);max-height:300px;overflow:auto;margin:2px 0}
.sl-anchor{display:block;height:0}.sl-flash{outline:2px solid var(--accent);outline-offset:2px;transition:outline-color 1.5s}
.sl-hit{background:rgba(255,200,0,.45)}
body.hide-user [data-kind=user],body.hide-assistant [data-kind=assistant],body.hide-reasoning [data-kind=reasoning],body.hide-tool [data-kind=tool],
body.hide-output [data-kind=output],body.hide-system [data-kind=system],body.hide-meta [data-kind=meta],body.hide-error [data-kind=error],.sl-tool-hidden,.sl-find-hidden{display:none!important}
@media (max-width:900px){.sl-toc{display:none}.sl-main{padding:0 10px 40vh}}
@media print{.sl-toc,.sl-toolbar{display:none}details{display:block}}
"""

TRANSCRIPT_CSS = TRANSCRIPT_THEME_CSS + TRANSCRIPT_RULES_CSS

TRANSCRIPT_JS = r"""
(function(){
const vscode = (typeof acquireVsCodeApi === 'function') ? acquireVsCodeApi() : null;
const body = document.body;
function all(sel, root){ return Array.prototype.slice.call((root||document).querySelectorAll(sel)); }
all('.sl-filter').forEach(function(cb){
  body.classList.toggle('hide-' + cb.dataset.filter, !cb.checked);
  cb.addEventListener('change', function(){ body.classList.toggle('hide-' + cb.dataset.filter, !cb.checked); });
});
const toolSel = document.querySelector('.sl-tool-filter');
if (toolSel) toolSel.addEventListener('change', function(){
  const v = toolSel.value;
  all('.sl-call').forEach(function(el){ el.classList.toggle('sl-tool-hidden', !!v && el.dataset.tool !== v); });
});
function setOpen(open){ all('details.sl-ev').forEach(function(d){ d.open = open; }); }
const ex = document.querySelector('.sl-expand'); if (ex) ex.addEventListener('click', function(){ setOpen(true); });
const co = document.querySelector('.sl-collapse'); if (co) co.addEventListener('click', function(){ setOpen(false); });
function openTo(el){ for (let p = el; p; p = p.parentElement) { if (p.tagName === 'DETAILS') p.open = true; } }
function flash(el){ el.classList.add('sl-flash'); setTimeout(function(){ el.classList.remove('sl-flash'); }, 1600); }
function reveal(id){
  const el = document.getElementById(id); if (!el) return false;
  if (el.offsetParent === null) { const k = (el.closest('[data-kind]') || el).dataset.kind; const cb = document.querySelector('.sl-filter[data-filter="' + k + '"]'); if (cb && !cb.checked) { cb.checked = true; body.classList.remove('hide-' + k); } }
  openTo(el); el.scrollIntoView({block:'start'}); flash(el); return true;
}
window.slReveal = reveal;
// find in session: hide events without the text, open the ones with it
const find = document.querySelector('.sl-find'); const count = document.querySelector('.sl-find-count');
let timer = null;
function runFind(){
  const q = (find.value || '').trim().toLowerCase();
  const evs = all('.sl-turns > .sl-turn > .sl-ev');
  let n = 0;
  evs.forEach(function(el){
    if (!q) { el.classList.remove('sl-find-hidden'); return; }
    const hit = (el.textContent || '').toLowerCase().indexOf(q) >= 0;
    el.classList.toggle('sl-find-hidden', !hit);
    if (hit) { n++; if (el.tagName === 'DETAILS') el.open = true; }
  });
  count.textContent = q ? (n + ' matching event' + (n === 1 ? '' : 's')) : '';
}
if (find) find.addEventListener('input', function(){ clearTimeout(timer); timer = setTimeout(runFind, 150); });
// clicking "line N": reveal the raw line (VS Code) or follow the anchor (browser)
document.addEventListener('click', function(e){
  const act = e.target.closest ? e.target.closest('[data-action]') : null;
  if (act && vscode) { e.preventDefault(); vscode.postMessage({type: act.dataset.action}); return; }
  const a = e.target.closest ? e.target.closest('a.sl-line') : null;
  if (a && vscode) { e.preventDefault(); vscode.postMessage({type:'revealLine', line: parseInt(a.dataset.line, 10)}); return; }
  const img = e.target.closest ? e.target.closest('img.sl-thumb') : null;
  if (img) img.classList.toggle('sl-big');
  const t = e.target.closest ? e.target.closest('.sl-toc a') : null;
  if (t) { e.preventDefault(); reveal(t.dataset.target); }
});
// the table of contents follows the scroll position; the editor is told which turn is on screen
const tocLinks = {}; all('.sl-toc a').forEach(function(a){ tocLinks[a.dataset.target] = a; });
let current = null;
function onScroll(){
  const turns = all('.sl-turn'); let best = null;
  for (let i = 0; i < turns.length; i++) { if (turns[i].getBoundingClientRect().top <= 80) best = turns[i]; else break; }
  if (!best && turns.length) best = turns[0];
  if (best && best.id !== current) {
    if (current && tocLinks[current]) tocLinks[current].classList.remove('sl-current');
    current = best.id; if (tocLinks[current]) tocLinks[current].classList.add('sl-current');
    if (vscode) vscode.postMessage({type:'visibleTurn', turn: best.dataset.turn});
  }
}
window.addEventListener('scroll', function(){ clearTimeout(onScroll.t); onScroll.t = setTimeout(onScroll, 100); });
onScroll();
window.addEventListener('message', function(e){
  const m = e.data || {};
  if (m.type === 'reveal' && m.seq) reveal('e' + m.seq);
  if (m.type === 'find' && find) { find.value = m.text || ''; runFind(); find.focus(); }
});
if (location.hash && location.hash.length > 1) reveal(location.hash.slice(1));
if (vscode) vscode.postMessage({type:'ready'});
})();
"""
