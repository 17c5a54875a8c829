"""Team hubs in the editor, over stdio against a real hub process on loopback: a member's key sees its
project's sessions in search, the session list and a transcript, never another project's; a revoked
key and an unreachable or silent hub give a message while local results are still shown."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest
import pytest_lsp
from lsprotocol import types as T
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from sessionlens.models.api import NOT_FOUND
from sessionlens.services.hub import Hub
from sessionlens.web import push as client_push
from tests.lsp.conftest import server_command, vscode_caps
from tests.web.helpers import write_claude_session
from tests.web.test_hub_process import PW, _app, _free_port, _start_hub, _stop, _wait_idle

pytestmark = pytest.mark.lsp
_S: dict = {}


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """A hub process with two projects pushed (alpha by bob, beta by dave) and keys minted for them."""
    root = tmp_path_factory.mktemp("team")
    home = root / "hub"
    hub = Hub(_app(home))
    users = {
        n: hub.create_user(n, PW, r, p) for n, r, p in (("root", "admin", []), ("bob", "member", ["alpha"]), ("dave", "member", ["beta"]))
    }
    keys = {}
    keys["root"], _ = hub.create_key(users["root"], "ops", ["ingest", "read"])
    keys["bob_push"], _ = hub.create_key(users["bob"], "push", ["ingest"])
    keys["dave_push"], _ = hub.create_key(users["dave"], "push", ["ingest"])
    keys["bob_read"], _ = hub.create_key(users["bob"], "editor", ["read"])
    keys["bob_ingest_only"], _ = hub.create_key(users["bob"], "ingest only", ["ingest"])
    keys["bob_doomed"], doomed = hub.create_key(users["bob"], "to revoke", ["read"])
    keys["bob_expired"], old = hub.create_key(users["bob"], "old", ["read"], expires_days=1)
    with hub.store.conn:
        hub.store.conn.execute("UPDATE api_keys SET expires_at=? WHERE id=?", (time.time() - 60, old.id))
    hub.store.close()
    logs = root / "pushed"
    sid_a = write_claude_session(
        logs / "alpha" / "a.jsonl",
        prompt="alpha teamword refactor",
        cwd="/src/alpha",
        extra_text="teamword alphaonly <script>alert(1)</script>",
    )
    sid_b = write_claude_session(
        logs / "beta" / "b.jsonl", prompt="beta teamword secret plans", cwd="/src/beta", extra_text="teamword betaonly"
    )
    proc, url = _start_hub(home, _free_port())
    try:
        capp = _app(root / "pusher")
        capp.index([str(logs)])
        for key, project in ((keys["bob_push"], "alpha"), (keys["dave_push"], "beta")):
            st = client_push.push_once(
                capp,
                client_push.HubClient(url, key, retries=2, backoff=0.05),
                machine="laptop",
                project=project,
                paths=[str(logs / project)],
            )
            assert st.refused == [] and st.chunks >= 1
        capp.close()
        _wait_idle(url, keys["root"])
        yield {"url": url.rstrip("/"), "keys": keys, "home": home, "sid_a": sid_a, "sid_b": sid_b, "doomed": doomed.id}
    finally:
        _stop(proc)


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command()))
async def client(lsp_client: LanguageClient, tmp_path_factory, team):
    root = tmp_path_factory.mktemp("editor")
    ws = root / "ws"
    sid_local = write_claude_session(
        ws / "logs" / "local.jsonl", prompt="local teamword work", cwd=str(ws), extra_text="teamword localonly"
    )
    _S.update(team, ws=ws, sid_local=sid_local, editor_home=root / "home")
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=vscode_caps(),
            workspace_folders=[T.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
            initialization_options={"storePath": str(root / "home"), "includeHomeLogs": False},
        )
    )
    for _ in range(300):
        st = await cmd(lsp_client, "sessionlens.status")
        if not st["indexing"] and st["sessions"] > 0:
            break
        await asyncio.sleep(0.1)
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 10)


async def cmd(client: LanguageClient, name: str, args: dict | None = None):
    return await client.workspace_execute_command_async(T.ExecuteCommandParams(command=name, arguments=[args or {}]))


@pytest.mark.asyncio(loop_scope="module")
async def test_a_member_key_sees_its_project_in_search_and_the_session_list_and_not_another(client: LanguageClient):
    key = _S["keys"]["bob_read"]
    res = await cmd(client, "sessionlens.addHub", {"url": _S["url"] + "/", "key": key, "name": "Team"})
    hub = res["hub"]
    assert hub["status"] == "ok" and hub["sessions"] == 1, hub
    assert hub["id"] == _S["url"] and hub["name"] == "Team" and hub["key_hint"].endswith("_…")
    assert key not in json.dumps(res) and key.split("_", 2)[2] not in json.dumps(res)
    listed = await cmd(client, "sessionlens.hubs")
    assert [h["id"] for h in listed["hubs"]] == [_S["url"]] and key not in json.dumps(listed)

    found = await cmd(client, "sessionlens.search", {"query": "teamword", "limit": 20})
    by_hub = {(h["session_id"], h["hub"]) for h in found["hits"]}
    assert (_S["sid_local"], None) in by_hub, "local hits stay"
    assert (_S["sid_a"], _S["url"]) in by_hub, "the team's hits for the key's project"
    assert all(h["session_id"] != _S["sid_b"] for h in found["hits"]), "no hit from another project"
    team_hit = next(h for h in found["hits"] if h["hub"])
    assert team_hit["hub_name"] == "Team" and team_hit["uri"] is None and team_hit["path"] == "" and team_hit["link"] == ""
    assert found["warnings"] == []
    only_beta = await cmd(client, "sessionlens.search", {"query": "betaonly"})
    assert only_beta["hits"] == [], "another project's words find nothing"

    rows = (await cmd(client, "sessionlens.sessions"))["sessions"]
    ids = {(r["id"], r["hub"]) for r in rows}
    assert (_S["sid_local"], None) in ids and (_S["sid_a"], _S["url"]) in ids
    assert all(r["id"] != _S["sid_b"] for r in rows)
    team_row = next(r for r in rows if r["hub"])
    assert team_row["project_name"] == "alpha" and team_row["events"] > 0 and team_row["cost_label"]
    local_only = await cmd(client, "sessionlens.sessions", {"hubs": False})
    assert {r["hub"] for r in local_only["sessions"]} == {None}


@pytest.mark.asyncio(loop_scope="module")
async def test_a_team_session_opens_as_a_transcript_rendered_here_and_sanitized(client: LanguageClient):
    parts = await cmd(client, "sessionlens.renderSessionHtml", {"session_id": _S["sid_a"], "hub": _S["url"]})
    assert parts["session_id"] == _S["sid_a"] and parts["title"].endswith("· Team")
    assert "alphaonly" in parts["body"] and 'class="sl-turns"' in parts["body"]
    assert "<script" not in parts["body"] and "&lt;script&gt;" in parts["body"]
    assert parts["path"] is None and "team hub Team" in parts["body"]
    md = await cmd(client, "sessionlens.renderSession", {"session_id": _S["sid_a"], "hub": _S["url"]})
    assert "alphaonly" in md["markdown"]
    with pytest.raises(JsonRpcException) as exc:  # another project's session: not found, as on the hub
        await cmd(client, "sessionlens.renderSessionHtml", {"session_id": _S["sid_b"], "hub": _S["url"]})
    assert exc.value.code == NOT_FOUND


@pytest.mark.asyncio(loop_scope="module")
async def test_a_saved_view_filters_local_and_team_sessions(client: LanguageClient):
    from sessionlens.services import web as svc
    from sessionlens.services.app import App
    from sessionlens.services.settings import Settings

    app = App(Settings.model_validate({"storePath": str(_S["editor_home"]), "includeHomeLogs": False}))
    svc.save_view(app, "alpha only", {"project": "alpha"})
    svc.save_view(app, "codex", {"agent": "codex"})
    app.close()
    views = (await cmd(client, "sessionlens.savedViews"))["views"]
    assert [v["name"] for v in views] == ["alpha only", "codex"] and views[0]["description"] == "project=alpha"
    rows = await cmd(client, "sessionlens.sessions", {"view": "alpha only"})
    assert rows["view"] == {"project": "alpha"}
    assert {(r["id"], r["hub"]) for r in rows["sessions"]} == {(_S["sid_a"], _S["url"])}
    none = await cmd(client, "sessionlens.sessions", {"view": "codex"})
    assert none["sessions"] == []
    with pytest.raises(JsonRpcException) as exc:
        await cmd(client, "sessionlens.sessions", {"view": "no such view"})
    assert exc.value.code == NOT_FOUND and "alpha only" in exc.value.message


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    "key, status, words", [("bob_ingest_only", "forbidden", "read scope"), ("bob_expired", "unauthorized", "has expired")]
)
async def test_a_key_without_read_scope_or_expired_is_a_message(client: LanguageClient, key, status, words):
    url = _S["url"].replace("127.0.0.1", "localhost")  # another hub entry for the same process
    try:
        res = await cmd(client, "sessionlens.addHub", {"url": url, "key": _S["keys"][key], "name": "other"})
        # the hub's Host check accepts localhost: the key is what is refused
        assert res["hub"]["status"] == status and words in res["hub"]["message"], res
        found = await cmd(client, "sessionlens.search", {"query": "teamword"})
        assert _S["sid_local"] in {h["session_id"] for h in found["hits"]} and all(h["hub"] != url for h in found["hits"])
        assert [w for w in found["warnings"] if w.startswith("team hub other")], found["warnings"]
    finally:
        await cmd(client, "sessionlens.removeHub", {"hub": url})


@pytest.mark.asyncio(loop_scope="module")
async def test_a_revoked_key_gives_a_message_and_local_results(client: LanguageClient):
    await cmd(client, "sessionlens.addHub", {"url": _S["url"], "key": _S["keys"]["bob_doomed"], "name": "Team"})
    assert (await cmd(client, "sessionlens.search", {"query": "alphaonly"}))["hits"], "the key works before it is revoked"
    hub = Hub(_app(_S["home"]))
    hub.store.revoke_key(_S["doomed"])
    hub.store.close()
    found = await cmd(client, "sessionlens.search", {"query": "teamword"})
    assert {h["session_id"] for h in found["hits"]} == {_S["sid_local"]}
    assert len(found["warnings"]) == 1 and "team hub Team" in found["warnings"][0] and "refused the API key" in found["warnings"][0]
    rows = await cmd(client, "sessionlens.sessions")
    assert {r["id"] for r in rows["sessions"]} == {_S["sid_local"]} and "revoked" in rows["warnings"][0]
    listed = (await cmd(client, "sessionlens.hubs"))["hubs"]
    assert listed[0]["status"] == "unauthorized"
    with pytest.raises(JsonRpcException) as exc:
        await cmd(client, "sessionlens.renderSessionHtml", {"session_id": _S["sid_a"], "hub": _S["url"]})
    assert "refused the API key" in exc.value.message and _S["keys"]["bob_doomed"] not in exc.value.message
    assert (await cmd(client, "sessionlens.removeHub", {"hub": "Team"}))["removed"] is True
    assert (await cmd(client, "sessionlens.hubs"))["hubs"] == []


@pytest.mark.asyncio(loop_scope="module")
async def test_an_unreachable_hub_is_a_message(client: LanguageClient):
    port = _free_port()  # nothing listens there
    res = await cmd(client, "sessionlens.addHub", {"url": f"http://127.0.0.1:{port}", "key": _S["keys"]["bob_read"]})
    assert res["hub"]["status"] == "unreachable" and "cannot connect" in res["hub"]["message"]
    found = await cmd(client, "sessionlens.search", {"query": "teamword"})
    assert {h["session_id"] for h in found["hits"]} == {_S["sid_local"]} and "cannot connect" in found["warnings"][0]
    await cmd(client, "sessionlens.removeHub", {"hub": f"http://127.0.0.1:{port}"})


@pytest.mark.asyncio(loop_scope="module")
async def test_a_silent_hub_times_out_without_blocking_the_server(client: LanguageClient):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)  # accepts connections, never answers
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        await cmd(client, "sessionlens.addHub", {"url": url, "key": _S["keys"]["bob_read"], "name": "silent", "check": False})
        search = asyncio.ensure_future(cmd(client, "sessionlens.search", {"query": "teamword"}))
        await asyncio.sleep(0.3)
        status = await cmd(client, "sessionlens.status")  # answered while the hub keeps the search waiting
        assert status["sessions"] >= 1 and not search.done()
        found = await asyncio.wait_for(search, 30)
        assert {h["session_id"] for h in found["hits"]} == {_S["sid_local"]}
        assert "no answer" in found["warnings"][0] and "team hub silent" in found["warnings"][0]
        tried = len(held)
        again = await cmd(client, "sessionlens.sessions")  # the hub that just timed out is not waited for again
        assert "no answer" in again["warnings"][0] and len(held) == tried
        assert _S["sid_local"] in {r["id"] for r in again["sessions"]}
    finally:
        await cmd(client, "sessionlens.removeHub", {"hub": url})
        stop.set()
        t.join(2)
        for c in held:
            c.close()
        sock.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_bad_hub_urls_and_keys_are_refused_without_echoing_the_key(client: LanguageClient):
    for args, words in (
        ({"url": "ftp://hub.example", "key": _S["keys"]["bob_read"]}, "http"),
        ({"url": "http://user:pw@hub.example", "key": _S["keys"]["bob_read"]}, "not in the URL"),
        ({"url": "http://hub.example", "key": "hunter2-not-a-key"}, "not a sessionlens hub API key"),
    ):
        with pytest.raises(JsonRpcException) as exc:
            await cmd(client, "sessionlens.addHub", args)
        assert words in exc.value.message and args["key"] not in exc.value.message
    assert (await cmd(client, "sessionlens.hubs"))["hubs"] == []
