"""Transcripts: a session as Markdown (terminals, Neovim, virtual documents), as HTML parts for a
host page with its own CSP (VS Code webview, web UI), as one self-contained page, and single
turns or events as HTML fragments."""

from __future__ import annotations

import secrets
from typing import TypedDict

from sessionlens.coach.redact import egress
from sessionlens.services import render
from sessionlens.services.render import blocks as render_blocks
from sessionlens.services.render import html as render_html
from sessionlens.services.sessions import Sessions
from sessionlens.store import NotFound


class TranscriptParts(TypedDict):
    session_id: str
    title: str
    body: str  # sanitized HTML
    css: str
    js: str  # to run under the host page's nonce
    path: str | None
    log_missing: bool


class Transcripts:
    def __init__(self, sessions: Sessions):
        self.sessions = sessions

    def markdown(self, ref: str, *, redact: bool = True) -> tuple[str, str]:
        """(title, Markdown transcript) of a session."""
        d = self.sessions.data(ref, redact=redact)
        s = d.session
        md = render.session_markdown(s, d.turns, d.events, d.totals, d.findings, d.turn_usage, log_missing=d.log_missing)
        if d.subagents:
            md += "\n## Sub-agents\n\n" + "\n".join(
                f"- {render.md_text(x['agent_id'] or x['id'])}: {x['events']} events ({render.code_span(x['path'])})" for x in d.subagents
            )
        if redact:
            md = egress(md)  # what rendering joined or escaped is looked at once more
        return s.get("title") or s["id"], md

    def parts(self, ref: str, *, redact: bool = True) -> TranscriptParts:
        """The HTML transcript in parts, for a host page that sets its own CSP."""
        d = self.sessions.data(ref, redact=redact)
        s = d.session
        return {
            "session_id": s["id"],
            "title": s.get("title") or s["id"],
            "body": render_html.session_body(d),
            "css": render_html.TRANSCRIPT_CSS,
            "js": render_html.TRANSCRIPT_JS,
            "path": s.get("path"),
            "log_missing": d.log_missing,
        }

    def turn_html(self, ref: str, turn: int, *, redact: bool = True) -> str:
        """One turn (0-based index; -1: before the first prompt) as a sanitized HTML fragment."""
        d = self.sessions.data(ref, redact=redact)
        want = None if turn < 0 else turn
        for b in render_blocks.build(d.events, d.turns, d.turn_usage):
            if b.index == want:
                return render_html.turn_html(b, d.session.get("cwd"))
        raise NotFound(f"session {d.session['id']} has no turn {turn + 1}")

    def event_html(self, ref: str, seq: int, *, redact: bool = True) -> str:
        """The transcript item holding event ``seq`` (a call comes with its result) as an HTML fragment."""
        d = self.sessions.data(ref, redact=redact)
        cwd = d.session.get("cwd")

        def find(items: list[render_blocks.Item]) -> render_blocks.Item | None:
            for it in items:
                seqs = {x.seq for x in ([it.event] if it.event else []) + it.results + it.folded + it.mirrors}
                if seq in seqs:
                    return it
                hit = find(it.children)
                if hit is not None:
                    return hit
            return None

        for b in render_blocks.build(d.events, d.turns, d.turn_usage):
            it = find(b.items)
            if it is not None:
                return render_html.item_html(it, cwd)
        raise NotFound(f"session {d.session['id']} has no event on line {seq}")

    def page(self, ref: str, *, redact: bool = True, script: bool = True) -> str:
        """A session as one self-contained HTML page (no network: CSP ``default-src 'none'``, images
        as ``data:``): what ``export --format html`` writes and the local web UI serves."""
        p = self.parts(ref, redact=redact)
        return render_html.document(p["title"], p["body"], nonce=secrets.token_urlsafe(16), script=script)
