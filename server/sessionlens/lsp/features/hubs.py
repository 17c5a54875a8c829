"""Team hubs in the editor: add, remove and list them (``sessionlens.addHub`` / ``removeHub`` / ``hubs``).

The search and session-list commands (``features.sessions``) merge the hubs' results; the keys stay
in ``ls.hubs`` (memory only) and are never logged: the editor keeps them in its secret storage and
sends them again at every start.
"""

from __future__ import annotations

import logging

from sessionlens.lsp.commands import command
from sessionlens.lsp.core import Feature, SessionLensServer
from sessionlens.models.api import AddHubParams, AddHubResult, HubInfo, HubRef, HubsParams, HubsResult, RemoveHubResult

log = logging.getLogger(__name__)


@command("sessionlens.addHub")
async def add_hub(ls: SessionLensServer, a: AddHubParams) -> AddHubResult:
    hub = ls.hubs.add(a.url, a.key.get_secret_value(), a.name)  # ValueError (a bad URL or key) -> REQUEST_FAILED
    if a.check:
        await ls.hubs.check(hub)
    log.info("team hub %s added (%s)", hub.url, hub.status)
    return AddHubResult(hub=HubInfo.model_validate(hub.info()))


@command("sessionlens.removeHub")
async def remove_hub(ls: SessionLensServer, a: HubRef) -> RemoveHubResult:
    return RemoveHubResult(removed=ls.hubs.remove(a.hub))


@command("sessionlens.hubs")
async def hubs(ls: SessionLensServer, a: HubsParams) -> HubsResult:
    if a.check:
        await ls.hubs.check_all()
    return HubsResult(hubs=[HubInfo.model_validate(h.info()) for h in ls.hubs.all()])


FEATURE = Feature("hubs", commands=(add_hub, remove_hub, hubs))
