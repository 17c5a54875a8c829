"""Session commands: search, the session list, rendering, sessionlens:// links, the cost report."""

from __future__ import annotations

from typing import Any

from sessionlens.cost.report import to_markdown
from sessionlens.lsp.commands import command, session_ref
from sessionlens.lsp.convert import uri_to_path
from sessionlens.lsp.core import Feature, SessionLensServer
from sessionlens.models.api import (
    CostReportParams,
    DeepLinkParams,
    DeepLinkResult,
    RenderSessionParams,
    RenderSessionResult,
    ResolveLinkParams,
    SearchParams,
    SessionsParams,
    SessionsResult,
)
from sessionlens.store import NotFound


@command("sessionlens.search")
async def search(ls: SessionLensServer, a: SearchParams) -> dict[str, Any]:
    return await ls.run(
        ls.app.search, a.query, agent=a.agent, project=a.project, kind=a.kind, tool=a.tool, session=a.session,
        since=a.since, until=a.until, limit=a.limit, workspace_only=a.workspace_only,
    )


@command("sessionlens.sessions")
async def sessions(ls: SessionLensServer, a: SessionsParams) -> SessionsResult:
    rows = await ls.run(ls.app.sessions, project=a.project, agent=a.agent, since=a.since, until=a.until,
                        limit=a.limit, workspace_only=a.workspace_only)
    return SessionsResult(sessions=rows)


@command("sessionlens.renderSession")
async def render_session(ls: SessionLensServer, a: RenderSessionParams) -> RenderSessionResult:
    title, md = await ls.run(ls.app.render_session, session_ref(a))
    return RenderSessionResult(title=title, markdown=md)


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
    svg = await ls.run(ls.app.cost_chart_svg, **kw)
    rep["markdown"] = to_markdown(rep["rows"]) if rep["rows"] else "_No token usage recorded._"
    rep["svg"] = svg
    return rep


FEATURE = Feature("sessions", commands=(search, sessions, render_session, resolve_link, deep_link, cost_report))
