"""HTML building blocks for the web UI: escaping, the page layout, tables, and the transcript.

Everything that comes from a log or a request is escaped with :func:`esc`.  The only links made
from log content are plain ``http(s)`` URLs (``rel="noopener noreferrer nofollow"``); no other
scheme, no HTML and no attribute ever passes through.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

from sessionlens.services import render

_URL = re.compile(r"\bhttps?://[^\s<>\"'`\\\x00-\x1f\x7f]{1,2000}")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")  # incl. bidi overrides


def esc(value: Any) -> str:
    """Escape text for HTML element content and quoted attributes; control and bidi-override characters are dropped."""
    if value is None:
        return ""
    return html.escape(_CTRL.sub("", str(value)), quote=True)


def linkify(text: str | None) -> str:
    """Escape ``text``; plain http(s) URLs become links that leave the page safely."""
    if not text:
        return ""
    out, pos = [], 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?)]}")
        end = m.start() + len(url)
        out.append(esc(text[pos:m.start()]))
        out.append(f'<a href="{esc(url)}" rel="noopener noreferrer nofollow" target="_blank">{esc(url)}</a>')
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def qs(params: dict[str, Any], **over: Any) -> str:
    p = {k: v for k, v in {**params, **over}.items() if v not in (None, "", False)}
    return ("?" + urlencode(p)) if p else ""


def session_href(session_id: str, seq: int | None = None) -> str:
    return f"/s/{quote(session_id, safe='')}" + (f"#e{int(seq)}" if seq is not None else "")


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")


def fmt_int(n: Any) -> str:
    try:
        return f"{int(n):,}"
    except (TypeError, ValueError):
        return "—"


NAV = [("/", "Sessions"), ("/search", "Search"), ("/cost", "Cost"), ("/coach", "Coach"), ("/evals", "Evals")]


def layout(title: str, body: str, *, active: str = "", user: str | None = None, csrf: str | None = None,
           extra_nav: Sequence[tuple[str, str]] = (), team: bool = False) -> str:
    items = []
    for href, label in [*NAV, *extra_nav]:
        cls = ' class="active"' if href == active else ""
        items.append(f'<a href="{esc(href)}"{cls}>{esc(label)}</a>')
    who = ""
    if user:
        who = (f'<form method="post" action="/logout" class="who"><span>{esc(user)}</span>'
               f'<input type="hidden" name="csrf" value="{esc(csrf or "")}"><button type="submit">Sign out</button></form>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{esc(title)} · sessionlens</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head><body>
<header class="top"><a class="brand" href="/">session<b>lens</b>{'<span class="tag">team</span>' if team else ''}</a>
<nav>{''.join(items)}</nav>{who}</header>
<main>
{body}
</main>
<footer>sessionlens · logs are shown escaped; links from logs open outside this page</footer>
</body></html>"""


def table(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]], *, cls: str = "") -> str:
    """``columns``: (label, css class); cells are HTML already escaped by the caller."""
    head = "".join(f'<th class="{c}">{esc(lbl)}</th>' for lbl, c in columns)
    body = "".join("<tr>" + "".join(f'<td class="{columns[i][1]}">{cell}</td>' for i, cell in enumerate(r)) + "</tr>" for r in rows)
    return f'<table class="grid {cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def select(name: str, options: Sequence[tuple[str, str]], current: str | None) -> str:
    opts = "".join(f'<option value="{esc(v)}"{" selected" if v == (current or "") else ""}>{esc(lbl)}</option>' for v, lbl in options)
    return f'<select name="{esc(name)}">{opts}</select>'


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, money: bool = True, width: int = 640) -> str:
    """A horizontal bar chart as inline SVG (labels escaped, no script, no style attributes)."""
    items = [(str(k), float(v)) for k, v in items if v and v > 0][:15]
    if not items:
        return '<p class="muted">No data for this selection.</p>'
    top = max(v for _, v in items)
    row_h, label_w = 24, 200
    h = 30 + row_h * len(items)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {h}" width="{width}" height="{h}" role="img" aria-label="{esc(title)}">',
             f'<text x="0" y="16" font-size="13" font-weight="600" fill="#1f2933">{esc(title)}</text>']
    for i, (k, v) in enumerate(items):
        y = 28 + i * row_h
        w = max(1.0, (width - label_w - 90) * v / top)
        label = k if len(k) <= 28 else k[:27] + "…"
        val = f"${v:,.2f}" if money else f"{v:,.0f}"
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" font-size="12" text-anchor="end" fill="#3e4c59">{esc(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" rx="3" fill="#3b6fd8"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="#3e4c59">{esc(val)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------- transcript
SKIP_KINDS = {"meta", "token_usage"}
FOLD_CHARS = 1200


def _event_body(ev) -> str:
    parts = []
    if ev.command:
        parts.append(f'<pre class="cmd">$ {esc(ev.command)}</pre>')
    text = ev.text or ""
    if text and text != ev.command:
        kind = ev.kind.value
        pre = kind in ("tool_result", "patch", "tool_call", "unknown", "system")
        cls = "out" if pre else "text"
        inner = esc(text) if pre else linkify(text)
        tag = "pre" if pre else "div"
        if len(text) > FOLD_CHARS:
            head = text[:FOLD_CHARS]
            parts.append(f'<details class="fold"><summary><{tag} class="{cls}">{esc(head) if pre else linkify(head)}…</{tag}>'
                         f'<span class="more">show all {len(text):,} characters</span></summary><{tag} class="{cls}">{inner}</{tag}></details>')
        else:
            parts.append(f'<{tag} class="{cls}">{inner}</{tag}>')
    if ev.files and ev.kind.value == "patch":
        parts.append('<p class="files">' + " · ".join(f"<code>{esc(f)}</code>" for f in ev.files[:20]) + "</p>")
    return "".join(parts)


def event_html(ev, *, findings: Sequence[dict] = ()) -> str:
    kind = ev.kind.value
    label = render.KIND_LABEL.get(ev.kind, kind)
    bits = [f'<a class="ln" href="#e{ev.seq}" title="link to this event">#{ev.seq}</a>', f'<span class="kind">{esc(label)}</span>']
    if ev.tool:
        bits.append(f'<span class="tool">{esc(ev.tool)}</span>')
    if ev.exit_code not in (None, 0) or ev.is_error:
        bits.append(f'<span class="bad">{"exit " + esc(ev.exit_code) if ev.exit_code is not None else "error"}</span>')
    if ev.duration_ms:
        bits.append(f'<span class="muted">{esc(render.fmt_duration(ev.duration_ms))}</span>')
    if ev.timestamp:
        bits.append(f'<time class="muted">{esc(ev.timestamp.astimezone().strftime("%H:%M:%S"))}</time>')
    fnd = "".join(f'<p class="finding sev-{esc(f["severity"])}"><b>{esc(f["rule_id"])}</b> {esc(f["message"])}</p>' for f in findings)
    side = " side" if ev.sidechain else ""
    return (f'<article class="ev k-{esc(kind)}{side}" id="e{ev.seq}" data-kind="{esc(kind)}" data-seq="{ev.seq}">'
            f'<div class="evh">{" ".join(bits)}</div>{fnd}{_event_body(ev)}</article>')


def events_html(events: Iterable, findings: Sequence[dict] = (), *, turns: dict[int, Any] | None = None) -> str:
    by_seq: dict[int, list[dict]] = {}
    for f in findings:
        by_seq.setdefault(f["seq"], []).append(f)
    out = []
    last_turn = None
    for ev in events:
        if ev.duplicate or ev.kind.value in SKIP_KINDS:
            continue
        if turns is not None and ev.turn is not None and ev.turn != last_turn:
            last_turn = ev.turn
            t = turns.get(ev.turn)
            prompt = " ".join(((t.prompt if t else "") or "").split())[:120]
            out.append(f'<h2 class="turn" id="t{ev.turn + 1}"><a href="#t{ev.turn + 1}">Turn {ev.turn + 1}</a>'
                       f'{(": " + esc(prompt)) if prompt else ""}</h2>')
        out.append(event_html(ev, findings=by_seq.get(ev.seq, ())))
    return "\n".join(out)


def transcript_html(view: dict[str, Any]) -> str:
    """The transcript of one session.  The one function to swap for the reader's renderer
    (``App.render_session_html``) once it lands."""
    turns = {t.index: t for t in view["turns"]}
    return events_html(view["events"], view["findings"], turns=turns)
