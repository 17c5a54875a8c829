"""HTML building blocks for the web UI: escaping, the page layout, tables and charts.

Everything that comes from a log or a request is escaped with :func:`esc`.  A session's transcript
is not drawn here: it is the reader's one renderer (``services/render``), sanitized there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")  # incl. bidi overrides


def esc(value: Any) -> str:
    """Escape text for HTML element content and quoted attributes; control and bidi-override characters are dropped."""
    if value is None:
        return ""
    return html.escape(_CTRL.sub("", str(value)), quote=True)


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


def layout(
    title: str,
    body: str,
    *,
    active: str = "",
    user: str | None = None,
    csrf: str | None = None,
    extra_nav: Sequence[tuple[str, str]] = (),
    team: bool = False,
    transcript: bool = False,
) -> str:
    """A whole page.  ``transcript``: the page shows the reader's transcript (its stylesheet and
    script, served as files like every other: the CSP allows no inline style or script)."""
    items = []
    for href, label in [*NAV, *extra_nav]:
        cls = ' class="active"' if href == active else ""
        items.append(f'<a href="{esc(href)}"{cls}>{esc(label)}</a>')
    who = ""
    if user:
        who = (
            f'<form method="post" action="/logout" class="who"><span>{esc(user)}</span>'
            f'<input type="hidden" name="csrf" value="{esc(csrf or "")}"><button type="submit">Sign out</button></form>'
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{esc(title)} · sessionlens</title>
<link rel="stylesheet" href="/static/style.css">{'<link rel="stylesheet" href="/static/transcript.css">' if transcript else ""}
<script src="/static/app.js" defer></script>{'<script src="/static/transcript.js" defer></script>' if transcript else ""}
</head><body{' class="with-transcript"' if transcript else ""}>
<header class="top"><a class="brand" href="/">session<b>lens</b>{'<span class="tag">team</span>' if team else ""}</a>
<nav>{"".join(items)}</nav>{who}</header>
<main>
{body}
</main>
<footer>sessionlens · logs are shown sanitized; links from logs open outside this page</footer>
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
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {h}" width="{width}" height="{h}" role="img" aria-label="{esc(title)}">',
        f'<text x="0" y="16" font-size="13" font-weight="600" fill="#1f2933">{esc(title)}</text>',
    ]
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
