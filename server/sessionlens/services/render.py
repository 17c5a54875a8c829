"""Readable renderings of events and sessions (Markdown for hovers and virtual documents, text for terminals).

Everything that comes from a log is escaped: no links, HTML or ``command:`` URIs can come from log content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sessionlens.coach.markdown import code_block, escape_md, inline_code
from sessionlens.models import Event, EventKind, Turn

OUTPUT_EXCERPT = 1500
TEXT_EXCERPT = 3000

KIND_LABEL = {
    EventKind.USER_MESSAGE: "User",
    EventKind.ASSISTANT_MESSAGE: "Assistant",
    EventKind.REASONING: "Reasoning",
    EventKind.TOOL_CALL: "Tool call",
    EventKind.TOOL_RESULT: "Tool result",
    EventKind.PATCH: "Patch",
    EventKind.TOKEN_USAGE: "Token usage",
    EventKind.COMPACTION: "Compaction",
    EventKind.SYSTEM: "System",
    EventKind.ERROR: "Error",
    EventKind.META: "Meta",
    EventKind.UNKNOWN: "Unknown line",
}


def fmt_ts(dt: datetime | None) -> str:
    if dt is None:
        return "—"
    return dt.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def fmt_duration(ms: int | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f} s"
    m, s = divmod(int(s), 60)
    if m < 60:
        return f"{m} min {s} s"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"


def fmt_usd(x: float | None, known: bool = True) -> str:
    if x is None or not known:
        return "unknown"
    if x < 0.01:
        return f"${x:.4f}"
    return f"${x:,.2f}"


def fmt_int(n: int | None) -> str:
    return f"{n or 0:,}"


def excerpt(text: str | None, limit: int) -> str:
    if not text:
        return ""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit:,} more characters)"


def usage_lines(u: dict[str, Any] | None) -> list[str]:
    if not u:
        return []
    parts = [f"in {fmt_int(u.get('input'))}", f"cache read {fmt_int(u.get('cache_read'))}"]
    cw = (u.get("cache_write_5m") or 0) + (u.get("cache_write_1h") or 0)
    if cw:
        parts.append(f"cache write {fmt_int(cw)}")
    parts.append(f"out {fmt_int(u.get('output'))}")
    if u.get("reasoning"):
        parts.append(f"(reasoning {fmt_int(u.get('reasoning'))})")
    return [
        f"**Tokens** {escape_md(' · '.join(parts))}",
        f"**Cost** {escape_md(fmt_usd(u.get('cost_usd'), bool(u.get('cost_known'))))}"
        + (f" ({escape_md(u.get('model') or 'unknown model')})" if u.get("model") else ""),
    ]


def event_markdown(ev: Event, *, result: Event | None = None, call: Event | None = None, usage: dict | None = None,
                   findings: list[dict] | None = None, agent: str | None = None) -> str:
    """The hover for one event: who/what, when, model, tokens and cost, command + exit + output, patch, reasoning."""
    label = KIND_LABEL.get(ev.kind, ev.kind.value)
    title = f"**{escape_md(label)}**"
    if ev.tool:
        title += f" · {inline_code(ev.tool)}"
    if ev.sidechain or ev.agent_id:
        title += f" · sub-agent {inline_code(ev.agent_id or '?')}"
    if ev.duplicate:
        title += " · _mirror of another line_"
    lines = [title, ""]
    meta = [f"line {ev.line}", fmt_ts(ev.timestamp)]
    if ev.turn is not None:
        meta.append(f"turn {ev.turn + 1}")
    if ev.model:
        meta.append(ev.model)
    if ev.subtype:
        meta.append(ev.subtype)
    lines.append(escape_md(" · ".join(meta)))
    lines.append("")
    dur = ev.duration_ms if ev.duration_ms is not None else (result.duration_ms if result else None)
    if ev.kind in (EventKind.TOOL_CALL, EventKind.PATCH):
        if ev.command:
            lines.append(code_block(ev.command, "sh"))
        exit_code = result.exit_code if result else ev.exit_code
        status = []
        if result is not None:
            status.append(f"exit {exit_code}" if exit_code is not None else ("error" if result.is_error else "ok"))
            status.append(f"result on line {result.line}")
        else:
            status.append("no result recorded")
        if dur is not None:
            status.append(fmt_duration(dur))
        lines.append(escape_md(" · ".join(status)))
        if ev.kind == EventKind.PATCH and ev.text:
            lines += ["", code_block(excerpt(ev.text, TEXT_EXCERPT), "diff")]
        elif ev.text and not ev.command:
            lines += ["", code_block(excerpt(ev.text, OUTPUT_EXCERPT), "json")]
        if result is not None and result.text:
            lines += ["", "**Output**", code_block(excerpt(result.text, OUTPUT_EXCERPT))]
    elif ev.kind == EventKind.TOOL_RESULT:
        st = []
        if ev.exit_code is not None:
            st.append(f"exit {ev.exit_code}")
        if ev.is_error:
            st.append("error")
        if ev.extra.get("rejected"):
            st.append("rejected by the user")
        if dur is not None:
            st.append(fmt_duration(dur))
        if call is not None:
            st.append(f"call on line {call.line}")
        if st:
            lines.append(escape_md(" · ".join(st)))
        if call is not None and call.command:
            lines.append(code_block(call.command, "sh"))
        if ev.text:
            lines.append(code_block(excerpt(ev.text, OUTPUT_EXCERPT)))
    elif ev.kind == EventKind.REASONING:
        lines.append(escape_md(excerpt(ev.text, TEXT_EXCERPT)) if ev.text else "_encrypted reasoning (not readable)_")
    elif ev.text:
        lines.append(escape_md(excerpt(ev.text, TEXT_EXCERPT)))
    if ev.files:
        lines += ["", "**Files** " + ", ".join(inline_code(f) for f in ev.files[:10])]
    ul = usage_lines(usage)
    if ul:
        lines += [""] + [x + "  " for x in ul]
    for f in findings or []:
        lines += ["", f"⚠ **{escape_md(f['rule_id'])}**: {escape_md(f['message'])}"]
    return "\n".join(lines).strip() + "\n"


def one_line(ev: Event, limit: int = 100) -> str:
    """A short label for outlines and terminal timelines."""
    if ev.kind in (EventKind.TOOL_CALL,) and ev.command:
        s = ev.command
    elif ev.kind == EventKind.PATCH and ev.files:
        s = ", ".join(ev.files)
    elif ev.text:
        s = ev.text
    else:
        s = ev.tool or ev.subtype or ev.kind.value
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def session_markdown(session: dict[str, Any], turns: list[Turn], events: list[Event], totals: dict[str, Any],
                     findings: list[dict], turn_usage: dict[int, dict]) -> str:
    """A whole session as a readable Markdown transcript (for the rendered virtual document)."""
    out = [f"# {escape_md(session.get('title') or session['id'])}", ""]
    rows = [
        ("Session", session["id"]),
        ("Agent", session["agent"]),
        ("Project", session.get("project") or "—"),
        ("Working directory", session.get("cwd") or "—"),
        ("Branch / commit", f"{session.get('git_branch') or '—'} / {(session.get('git_commit') or '—')[:12]}"),
        ("Models", ", ".join(session.get("models") or []) or "—"),
        ("CLI version", session.get("cli_version") or "—"),
        ("File", session.get("path") or "—"),
        ("Events / turns", f"{session.get('events', 0):,} / {session.get('turns', 0):,}"),
        ("Tokens", f"in {totals['input']:,} · cache read {totals['cache_read']:,} · cache write {totals['cache_write_5m'] + totals['cache_write_1h']:,} · out {totals['output']:,}"),
        ("Cost", fmt_usd(totals["cost_usd"]) + (f" (+{totals['unknown']} requests with unknown price)" if totals["unknown"] else "")),
    ]
    out.append("| | |\n|---|---|")
    for k, v in rows:
        out.append(f"| {escape_md(k)} | {escape_md(str(v))} |")
    out.append("")
    if findings:
        out.append("## Coach findings\n")
        for f in findings[:50]:
            out.append(f"- line {f['seq']}: **{escape_md(f['rule_id'])}** — {escape_md(f['message'])}")
        out.append("")
    by_turn: dict[int | None, list[Event]] = {}
    for e in events:
        by_turn.setdefault(e.turn, []).append(e)
    results = {e.call_id: e for e in events if e.kind == EventKind.TOOL_RESULT and e.call_id}
    tmap = {t.index: t for t in turns}
    for tix in sorted(by_turn, key=lambda x: -1 if x is None else x):
        t = tmap.get(tix) if tix is not None else None
        if tix is None:
            out.append("## Before the first prompt\n")
        else:
            u = turn_usage.get(tix) or {}
            head = f"## Turn {tix + 1}"
            if t is not None:
                head += f" · {escape_md(fmt_ts(t.started_at))}"
                if t.duration_ms:
                    head += f" · {escape_md(fmt_duration(t.duration_ms))}"
            if u:
                head += f" · {escape_md(fmt_usd(u.get('cost_usd'), not u.get('unknown')))}"
            out.append(head + "\n")
        for e in by_turn[tix]:
            if e.duplicate or e.kind in (EventKind.META, EventKind.TOKEN_USAGE):
                continue
            anchor = f"<sub>line {e.line}</sub>"
            if e.kind == EventKind.USER_MESSAGE:
                out.append(f"**🧑 User** {anchor}\n\n{escape_md(excerpt(e.text, TEXT_EXCERPT))}\n")
            elif e.kind == EventKind.ASSISTANT_MESSAGE:
                out.append(f"**🤖 Assistant** {anchor}\n\n{escape_md(excerpt(e.text, TEXT_EXCERPT))}\n")
            elif e.kind == EventKind.REASONING:
                if e.text:
                    out.append(f"> 💭 {escape_md(excerpt(e.text, 600))} {anchor}\n")
            elif e.kind in (EventKind.TOOL_CALL, EventKind.PATCH):
                r = results.get(e.call_id) if e.call_id else None
                status = ""
                if r is not None:
                    if r.exit_code not in (None, 0) or r.is_error:
                        status = f" ✗ exit {r.exit_code}" if r.exit_code is not None else " ✗ error"
                    else:
                        status = " ✓"
                out.append(f"**🔧 {escape_md(e.tool or 'tool')}**{escape_md(status)} {anchor}\n")
                if e.command:
                    out.append(code_block(e.command, "sh"))
                elif e.kind == EventKind.PATCH and e.text:
                    out.append(code_block(excerpt(e.text, TEXT_EXCERPT), "diff"))
                elif e.text:
                    out.append(code_block(excerpt(e.text, 800), "json"))
                if r is not None and r.text:
                    out.append(code_block(excerpt(r.text, 800)))
                out.append("")
            elif e.kind == EventKind.TOOL_RESULT:
                continue
            elif e.kind == EventKind.COMPACTION:
                out.append(f"**🗜 Context compacted** {anchor}\n")
            elif e.kind == EventKind.ERROR:
                out.append(f"**⚠ Error** {anchor}: {escape_md(excerpt(e.text, 600))}\n")
            elif e.kind == EventKind.SYSTEM:
                out.append(f"<sub>system {e.line}: {escape_md(excerpt(one_line(e, 160), 160))}</sub>\n")
    return "\n".join(out)
