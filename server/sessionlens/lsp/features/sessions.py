"""Session commands: search, the session list, rendering, sessionlens:// links, the cost report."""

from __future__ import annotations

import asyncio
from typing import Any

from sessionlens.cost.report import format_cost, to_html, to_markdown
from sessionlens.lsp.commands import command, session_ref
from sessionlens.lsp.convert import uri_to_path
from sessionlens.lsp.core import Feature, SessionLensServer
from sessionlens.models.api import (
    CostReportParams,
    DeepLinkParams,
    DeepLinkResult,
    RenderSessionHtmlParams,
    RenderSessionHtmlResult,
    RenderSessionParams,
    RenderSessionResult,
    ResolveLinkParams,
    SavedViewsParams,
    SavedViewsResult,
    SearchParams,
    SessionsParams,
    SessionsResult,
)
from sessionlens.models.listing import SESSION_SORTS
from sessionlens.services import hubclient, views
from sessionlens.store import NotFound


async def _nothing() -> None:
    return None


@command("sessionlens.search")
async def search(ls: SessionLensServer, a: SearchParams) -> dict[str, Any]:
    """Local hits first, then the team hubs' (each marked with its hub); a hub that fails is a warning."""
    local = ls.run(
        ls.app.search,
        a.query,
        agent=a.agent,
        project=a.project,
        kind=a.kind,
        tool=a.tool,
        session=a.session,
        since=a.since,
        until=a.until,
        limit=a.limit,
        workspace_only=a.workspace_only,
    )
    # the hubs' search filters by agent, kind, tool (and project, here): a query naming a local session,
    # a date range or the workspace stays local
    team_ok = a.hubs and ls.hubs.all() and a.query.strip() and not (a.session or a.since or a.until or a.workspace_only)
    team = ls.hubs.search(a.query, limit=a.limit, agent=a.agent, kind=a.kind, tool=a.tool, project=a.project) if team_ok else _nothing()
    res: dict[str, Any]
    res, got = await asyncio.gather(local, team)
    if got is not None:
        hits, total, warnings = got
        res["hits"] = [*res["hits"], *hits]
        res["total"] = res["total"] + total
        res["warnings"] = [*res.get("warnings", []), *warnings]
    return res


@command("sessionlens.sessions")
async def sessions(ls: SessionLensServer, a: SessionsParams) -> SessionsResult:
    """This store's sessions and the team hubs' (marked with their hub), newest first; ``view`` applies a
    saved view's filters to both."""
    view = await ls.run(views.view_filters, ls.app, a.view) if a.view else None
    kw = views.session_kwargs(view or {}, {"project": a.project, "agent": a.agent, "since": a.since, "until": a.until})
    v = view or {}
    # the view's findings filter and sort run in the store's query, before the row limit (never dropping rows)
    sort = v.get("sort") if v.get("sort") in SESSION_SORTS else "started"
    local = ls.run(
        ls.app.sessions,
        limit=a.limit,
        workspace_only=a.workspace_only,
        include_subagents=a.include_subagents,
        has_findings=bool(v.get("findings")),
        sort=sort,
        descending=(v.get("order") or "desc") == "desc",
        **kw,
    )
    team_ok = a.hubs and ls.hubs.all() and not a.workspace_only
    team = (
        ls.hubs.sessions(
            limit=a.limit,
            include_subagents=a.include_subagents,
            agent=kw["agent"],
            project=kw["project"],
            since=kw["since"],
            until=kw["until"],
            q=kw["query"],
            findings=v.get("findings"),
            sort=v.get("sort"),
            order=v.get("order"),
        )
        if team_ok
        else _nothing()
    )
    rows, got = await asyncio.gather(local, team)
    warnings: list[str] = []
    if got is not None:
        team_rows, warnings = got
        rows = [*rows, *team_rows]
    if got is not None or v.get("sort"):
        rows = views.sort_rows(rows, v.get("sort"), v.get("order"))[: a.limit]
    for r in rows:
        r["cost_label"] = format_cost(r.get("cost_usd"), r.get("cost_known"))
    return SessionsResult.model_validate({"sessions": rows, "warnings": warnings, "view": view})


@command("sessionlens.savedViews")
async def saved_views(ls: SessionLensServer, a: SavedViewsParams) -> SavedViewsResult:
    return SavedViewsResult.model_validate({"views": await ls.run(views.list_views, ls.app)})


@command("sessionlens.renderSession")
async def render_session(ls: SessionLensServer, a: RenderSessionParams) -> RenderSessionResult:
    if a.hub:  # a team session: fetched from its hub, rendered here
        hub, payload = await ls.hubs.session(a.hub, a.session_id or "")
        title, md = await ls.run(hubclient.render_markdown, hub, payload)
    else:
        title, md = await ls.run(ls.app.render_session, session_ref(a))
    return RenderSessionResult(title=title, markdown=md)


@command("sessionlens.renderSessionHtml")
async def render_session_html(ls: SessionLensServer, a: RenderSessionHtmlParams) -> RenderSessionHtmlResult:
    """The transcript the VS Code webview shows (the server renders, the webview only shows it)."""
    if a.hub:
        hub, payload = await ls.hubs.session(a.hub, a.session_id or "")
        return RenderSessionHtmlResult(**await ls.run(hubclient.render_parts, hub, payload))
    return RenderSessionHtmlResult(**await ls.run(ls.app.render_session_parts, session_ref(a)))


@command("sessionlens.resolveLink")
async def resolve_link(ls: SessionLensServer, a: ResolveLinkParams) -> dict[str, Any]:
    return await ls.run(ls.app.resolve_link, a.link)


@command("sessionlens.deepLink")
async def deep_link(ls: SessionLensServer, a: DeepLinkParams) -> DeepLinkResult:
    path = uri_to_path(a.uri)
    if not path:
        raise NotFound("deepLink needs the uri of an indexed session log")
    return DeepLinkResult(link=await ls.run(ls.app.deep_link, path, a.line))


@command("sessionlens.costReport")
async def cost_report(ls: SessionLensServer, a: CostReportParams) -> dict[str, Any]:
    kw: dict[str, Any] = dict(since=a.since, until=a.until, project=a.project, agent=a.agent)
    rep = await ls.run(ls.app.cost_report, a.by, **kw)
    svg = await ls.run(ls.app.cost_chart_svg, by=a.by, **kw)
    rep["markdown"] = to_markdown(rep["rows"]) if rep["rows"] else "_No token usage recorded._"
    rep["html"] = to_html(rep["rows"]) if rep["rows"] else "<p>No token usage recorded.</p>"
    rep["svg"] = svg
    return rep


FEATURE = Feature(
    "sessions", commands=(search, sessions, saved_views, render_session, render_session_html, resolve_link, deep_link, cost_report)
)
