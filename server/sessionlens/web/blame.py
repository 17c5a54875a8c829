"""Agent blame in the local web UI: a transcript links to the files its session edited (when they exist
in their repository on this machine), and ``/blame/<log>/<event>/<hunk>`` shows such a file with the
session that wrote each line (linked to the edit in its transcript).

Links carry only the store's numbers (file id, event, hunk); the page reads the file the store's edit
row names, only when it lies in the git work tree of that session's repository (``services.blame.known_file``).
Not served by a team hub (the files of the hub's machine are nobody's workspace).
"""

from __future__ import annotations

import os

from aiohttp import web

from sessionlens.services import blame
from sessionlens.web import html as H
from sessionlens.web.common import ctx_of, page


def files_bar(app, session_id: str) -> str:
    """The "edited files" line of a transcript page ('' when none of them is here)."""
    files = blame.session_files(app, session_id)
    if not files:
        return ""
    links = " · ".join(
        f'<a class="sl-blame-file" href="/blame/{int(f["file_id"])}/{int(f["seq"])}/{int(f["hunk"])}">{H.esc(f["rel"])}</a>'
        for f in files[:50]
    )
    more = f" and {len(files) - 50} more" if len(files) > 50 else ""
    return f'<p class="crumbs sl-blame-files">Edited files (agent blame): {links}{more}</p>'


async def blame_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    fid, seq, hunk = (int(request.match_info[k]) for k in ("fid", "seq", "hunk"))
    rep = await ctx.run(blame.blame_of_edit, ctx.app, fid, seq, hunk)
    if rep is None:
        raise web.HTTPNotFound(text="no such edit, or its file is not in its repository on this machine\n")
    sessions = rep["sessions"]
    legend = "".join(
        f'<li><span class="sl-blame-key">[{i + 1}]</span> <a href="{H.session_href(s["session_id"])}">'
        f"{H.esc(s['agent_label'])} · {H.esc((s['last'] or '')[:10])} · {H.esc(s['title'] or s['session_id'])}</a>"
        f" — {int(s['lines'])} line(s)</li>"
        for i, s in enumerate(sessions)
    )
    rows = []
    for i, text in enumerate(rep["text"]):
        k = rep["writers"][i]
        link = rep["line_links"][i]
        gutter = (
            f'<a href="{H.session_href(link[0], link[1])}" title="{H.esc(sessions[k]["agent_label"])}">[{k + 1}]</a>'
            if k is not None and link is not None
            else ""
        )
        rows.append(
            f'<tr class="{"sl-agent" if k is not None else "sl-human"}"><td class="sl-blame-who">{gutter}</td>'
            f'<td class="sl-blame-n">{i + 1}</td><td class="sl-blame-src"><code>{H.esc(text)}</code></td></tr>'
        )
    title = blame.lens_title(sessions) or "no agent session edited this file"
    body = (
        f'<p class="crumbs"><a href="/">Sessions</a> › agent blame</p>'
        f"<h1>{H.esc(rep['rel'])}</h1><p>{H.esc(title)}"
        f"{'' if rep['git'] else ' (content only: no git history)'} · {H.esc(os.path.dirname(rep['path']))}</p>"
        f'<ul class="sl-blame-legend">{legend}</ul>'
        f'<table class="sl-blame">{"".join(rows)}</table>'
    )
    return page(request, f"blame: {rep['rel']}", body)


def add_routes(r: web.UrlDispatcher) -> None:
    r.add_get(r"/blame/{fid:\d+}/{seq:\d+}/{hunk:\d+}", blame_page)
