"""The team hub over real HTTP on loopback: the authorization matrix (endpoint × role × own/other
project × key state), sign-in with CSRF and rate limits, API keys, request limits and malformed
input, idempotent push (retry, gap, simulated crash), the audit log and its hash chain."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from pathlib import Path

import pytest

from sessionlens.services.app import App
from sessionlens.services.hub import Hub, HubError
from sessionlens.services.settings import Settings
from sessionlens.web import push as client_push
from sessionlens.web.security import WebConfig, cookie_kw
from sessionlens.web.server import start
from tests.web.helpers import assert_escaped, client, write_claude_session

PW = "correct horse battery staple"


def _app(home: Path) -> App:
    return App(Settings.model_validate({"storePath": str(home), "includeHomeLogs": False}))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("hub")
    logs = root / "logs"
    sid_a = write_claude_session(
        logs / "alpha" / "a.jsonl",
        prompt="alpha work <b>bold</b>",
        turns=3,
        cwd="/src/alpha",
        extra_text="shared-word <script>alert(1)</script>",
    )
    sid_b = write_claude_session(logs / "beta" / "b.jsonl", prompt="beta secret plans", turns=2, cwd="/src/beta", extra_text="shared-word")
    hub_app = _app(root / "hub")
    hub = Hub(hub_app)
    users = {}
    for name, role, projects in (
        ("alice", "admin", []),
        ("bob", "member", ["alpha"]),
        ("carol", "viewer", ["alpha"]),
        ("dave", "member", ["beta"]),
    ):
        users[name] = hub.create_user(name, PW, role, projects)
    keys = {}
    keys["admin"], _ = hub.create_key(users["alice"], "admin", ["ingest", "read", "admin"])
    keys["bob_both"], _ = hub.create_key(users["bob"], "both", ["ingest", "read"])
    keys["bob_ingest"], _ = hub.create_key(users["bob"], "ingest", ["ingest"])
    keys["bob_read"], _ = hub.create_key(users["bob"], "read", ["read"])
    keys["carol_read"], _ = hub.create_key(users["carol"], "read", ["read"])
    keys["dave_both"], _ = hub.create_key(users["dave"], "both", ["ingest", "read"])
    keys["alice_beta"], _ = hub.create_key(users["alice"], "beta only", ["read"], project="beta")
    keys["expired"], rec = hub.create_key(users["bob"], "old", ["read", "ingest"], expires_days=1)
    with hub.store.conn:
        hub.store.conn.execute("UPDATE api_keys SET expires_at=? WHERE id=?", (time.time() - 60, rec.id))
    keys["revoked"], rec = hub.create_key(users["bob"], "gone", ["read", "ingest"])
    hub.store.revoke_key(rec.id)
    keys["wrong"] = keys["bob_both"][:-4] + "AAAA"
    keys["garbage"] = "not-a-key"
    client_app = _app(root / "client")
    client_app.index([str(logs)])
    return {
        "root": root,
        "logs": logs,
        "hub_app": hub_app,
        "hub": hub,
        "keys": keys,
        "users": users,
        "sid_a": sid_a,
        "sid_b": sid_b,
        "client_app": client_app,
    }


@pytest.fixture
async def hub_server(world):
    cfg = WebConfig(team=True, index_on_start=False)
    runner, port = await start(world["hub_app"], cfg, world["hub"])
    base = f"http://127.0.0.1:{port}"
    try:
        yield base, cfg
    finally:
        await runner.cleanup()


async def wait_indexed(s, key):
    for _ in range(200):
        r = await s.get("/api/status", headers={"Authorization": f"Bearer {key}"})
        if not (await r.json())["indexing"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("hub did not finish indexing")


async def push_all(world, base, key, project, paths):
    c = client_push.HubClient(base, key, retries=2, backoff=0.05)
    return await asyncio.to_thread(client_push.push_once, world["client_app"], c, machine="laptop", project=project, paths=paths)


@pytest.fixture
async def pushed(world, hub_server):
    base, cfg = hub_server
    st_a = await push_all(world, base, world["keys"]["bob_both"], "alpha", [str(world["logs"] / "alpha")])
    st_b = await push_all(world, base, world["keys"]["dave_both"], "beta", [str(world["logs"] / "beta")])
    async with client(base) as s:
        await wait_indexed(s, world["keys"]["admin"])
    return base, cfg, st_a, st_b


def _bearer(key):
    return {"Authorization": f"Bearer {key}"} if key else {}


async def test_authorization_matrix(world, pushed):
    base, cfg, st_a, st_b = pushed
    assert st_a.refused == [] and st_b.refused == []
    A, B = world["sid_a"], world["sid_b"]
    ok_a, ok_b, ok_ab = {A}, {B}, {A, B}
    # who: (visible sessions or status of /api/sessions, /s/A, /s/B, push alpha, push beta, /admin,
    #       /api/s/A, /api/s/B (a session as data, for editors))
    matrix = {
        "admin": (ok_ab, 200, 200, 200, 200, 200, 200, 200),
        "bob_both": (ok_a, 200, 404, 200, 403, 403, 200, 404),
        "bob_ingest": (403, 403, 403, 200, 403, 403, 403, 403),
        "bob_read": (ok_a, 200, 404, 403, 403, 403, 200, 404),
        "carol_read": (ok_a, 200, 404, 403, 403, 403, 200, 404),
        "dave_both": (ok_b, 404, 200, 403, 200, 403, 404, 200),
        "alice_beta": (ok_b, 404, 200, 403, 403, 403, 404, 200),
        "expired": (401, 401, 401, 401, 401, 401, 401, 401),
        "revoked": (401, 401, 401, 401, 401, 401, 401, 401),
        "wrong": (401, 401, 401, 401, 401, 401, 401, 401),
        "garbage": (401, 401, 401, 401, 401, 401, 401, 401),
        None: (401, 303, 303, 401, 401, 303, 401, 401),
    }
    got = {}
    async with client(base) as s:
        for who in matrix:
            h = _bearer(world["keys"].get(who) if who else None)
            r = await s.get("/api/sessions", headers=h)
            vis = {x["id"] for x in (await r.json())["sessions"]} if r.status == 200 else r.status
            row = [vis]
            for path in (f"/s/{A}", f"/s/{B}"):
                row.append((await s.get(path, headers=h, allow_redirects=False)).status)
            for proj in ("alpha", "beta"):
                body = {
                    "chunks": [
                        {
                            "file_key": ("c" if proj == "alpha" else "d") * 64,
                            "machine": "m1",
                            "project": proj,
                            "source_name": "x.jsonl",
                            "offset": 0,
                            "end": 0,
                            "data": "",
                        }
                    ]
                }
                row.append((await s.post("/api/push", json=body, headers=h)).status)
            row.append((await s.get("/admin", headers=h, allow_redirects=False)).status)
            for sid in (A, B):
                r = await s.get(f"/api/s/{sid}", headers=h, allow_redirects=False)
                if r.status == 200:  # the payload is the session asked for, nothing else
                    assert (await r.json())["session"]["id"] == sid
                row.append(r.status)
            got[who] = tuple(row)
    assert got == matrix


async def test_search_facets_and_cost_never_reveal_another_project(world, pushed):
    base, *_ = pushed
    A, B = world["sid_a"], world["sid_b"]
    async with client(base) as s:
        for who, allowed in (("bob_read", {A}), ("dave_both", {B}), ("admin", {A, B})):
            h = _bearer(world["keys"][who])
            data = await (await s.get("/api/search", params={"q": "shared-word"}, headers=h)).json()
            assert {x["session_id"] for x in data["hits"]} == allowed
            assert data["total"] == len(data["hits"]) or who == "admin"
            assert sum(n for _, n in data["facets"]["agent"]) == len(data["hits"])
            cost = await (await s.get("/api/cost", params={"by": "session"}, headers=h)).json()
            assert {r["key"] for r in cost["rows"]} == allowed
            sess = await (await s.get("/api/sessions", headers=h)).json()
            assert sum(n for _, n in sess["facets"]["agent"]) == len(allowed)
        h = _bearer(world["keys"]["bob_read"])
        html = await (await s.get("/search", params={"q": "beta secret plans"}, headers=h)).text()
        assert '<a class="hit"' not in html and "No matches" in html
        assert_escaped(await (await s.get(f"/s/{A}", headers=h)).text())


async def test_push_is_idempotent_and_resumable(world, pushed):
    base, *_ = pushed
    key = world["keys"]["bob_both"]
    hub_events = world["hub_app"].db().get_session(world["sid_a"]).events
    local_events = world["client_app"].db().get_session(world["sid_a"]).events
    assert hub_events == local_events > 10
    again = await push_all(world, base, key, "alpha", [str(world["logs"] / "alpha")])
    assert again.chunks == 0 and again.files == 0  # nothing new to send
    # a replayed chunk is acknowledged, not written twice
    from sessionlens.services import push as P

    f = P.candidates(world["client_app"], machine="laptop", project="alpha", paths=[str(world["logs"] / "alpha")])[0]
    end, text = P.read_chunk(f.path, 0)
    async with client(base) as s:
        r = await s.post("/api/push", json={"chunks": [P.payload(f, "laptop", 0, end, text)]}, headers=_bearer(key))
        assert r.status == 200 and (await r.json())["results"][0]["status"] == "duplicate"
        r = await s.post("/api/push", json={"chunks": [P.payload(f, "laptop", end + 100, end + 200, "{}\n")]}, headers=_bearer(key))
        res = (await r.json())["results"][0]
        assert r.status == 409 and res["committed"] == end
        # the same file from another machine's name is refused, not mixed in
        r = await s.post("/api/push", json={"chunks": [P.payload(f, "other-machine", 0, end, text)]}, headers=_bearer(key))
        assert r.status == 409
        await wait_indexed(s, key)
    assert world["hub_app"].db().get_session(world["sid_a"]).events == local_events


async def test_a_crash_between_write_and_commit_leaves_one_copy(world, hub_server, tmp_path):
    base, cfg = hub_server
    hub = world["hub"]
    key = world["keys"]["bob_both"]
    src = tmp_path / "crash" / "c.jsonl"
    sid = write_claude_session(src, prompt="crash test", turns=6, cwd="/src/alpha")
    capp = _app(tmp_path / "client")
    capp.index([str(src)])
    from sessionlens.services import push as P

    f = P.candidates(capp, machine="laptop", project="alpha")[0]
    lines = src.read_bytes().split(b"\n")
    half = len(b"\n".join(lines[:12])) + 1
    text1 = "".join(P.redact_line(x) + "\n" for x in lines[:12])
    async with client(base) as s:
        r = await s.post("/api/push", json={"chunks": [P.payload(f, "laptop", 0, half, text1)]}, headers=_bearer(key))
        assert r.status == 200
        rec = hub.store.pushed(f.key)
        # the hub dies after writing the next chunk's bytes but before recording them (a partial line too)
        with open(rec.hub_path, "ab") as fh:
            fh.write(src.read_bytes()[half : half + 700])
        assert hub.recover() and Path(rec.hub_path).stat().st_size == rec.committed_len
        # the client never got an answer: it retries the chunk, then the rest
        c = client_push.HubClient(base, key, retries=2, backoff=0.05)
        st = await asyncio.to_thread(client_push.push_once, capp, c, machine="laptop", project="alpha")
        assert st.chunks == 1 and st.refused == []
        await wait_indexed(s, key)
    assert world["hub_app"].db().get_session(sid).events == capp.db().get_session(sid).events
    hub_lines = Path(rec.hub_path).read_bytes().count(b"\n")
    assert hub_lines == src.read_bytes().count(b"\n")


async def test_push_redacts_secrets_before_they_leave(world, hub_server, tmp_path):
    base, cfg = hub_server
    secret = "sk-ant-api03-" + "Z9y8X7w6" * 10
    src = tmp_path / "sec" / "s.jsonl"
    sid = write_claude_session(src, prompt="use " + secret, cwd="/src/alpha", extra_text=secret)
    capp = _app(tmp_path / "client")
    capp.index([str(src)])
    c = client_push.HubClient(base, world["keys"]["bob_both"], retries=1, backoff=0.05)
    st = await asyncio.to_thread(client_push.push_once, capp, c, machine="laptop2", project="alpha")
    assert st.chunks == 1
    rec = next(r for r in world["hub"].store.all_pushed() if r.machine == "laptop2")
    body = Path(rec.hub_path).read_text()
    assert secret not in body and "[REDACTED:anthropic_key]" in body
    assert sid in body


async def test_sign_in_csrf_keys_and_roles_through_the_pages(world, hub_server):
    base, cfg = hub_server
    async with client(base) as s:
        r = await s.get("/", allow_redirects=False)
        assert r.status == 303 and r.headers["Location"].startswith("/login")
        page = await (await s.get("/login")).text()
        nonce = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        r = await s.post("/login", data={"username": "bob", "password": PW}, allow_redirects=False)
        assert r.status == 403  # no CSRF token
        r = await s.post("/login", data={"username": "bob", "password": "wrong password!", "csrf": nonce}, allow_redirects=False)
        assert r.status == 401
        r = await s.post(
            "/login", data={"username": "bob", "password": PW, "csrf": nonce, "next": "//evil.example/"}, allow_redirects=False
        )
        assert r.status == 303 and r.headers["Location"] == "/"  # no open redirect
        sc = r.headers["Set-Cookie"]
        assert "sessionlens_session=" in sc and "HttpOnly" in sc and "SameSite=Lax" in sc and "Secure" not in sc
        html = await (await s.get("/")).text()
        assert world["sid_a"][:8] in html or "alpha" in html
        keys_page = await (await s.get("/keys")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', keys_page).group(1)
        r = await s.post("/keys", data={"name": "from page", "scope": "read"})
        assert r.status == 403
        r = await s.post("/keys", data={"name": "from page", "scope": "read", "csrf": csrf}, headers={"Origin": "http://evil.example"})
        assert r.status == 403
        r = await s.post("/keys", data={"name": "from page", "scope": ["read"], "csrf": csrf})
        html = await r.text()
        new_key = re.search(r'class="secret">(slk_[^<]+)<', html).group(1)
        assert r.status == 200
        r = await s.post("/keys", data={"name": "sneaky", "scope": ["admin"], "csrf": csrf})
        assert r.status == 403  # a member cannot mint an admin key
        r = await s.get("/admin", allow_redirects=False)
        assert r.status == 403
        assert new_key not in await (await s.get("/keys")).text()  # shown once only
    async with client(base) as s2:
        r = await s2.get("/api/sessions", headers=_bearer(new_key))
        assert r.status == 200
    rec = next(k for k in world["hub"].store.keys() if k.name == "from page")
    assert rec.last_used_at is not None
    assert new_key.split("_", 2)[2] not in json.dumps(world["hub"].store.key_by_prefix(rec.prefix).model_dump())  # stored hashed
    async with client(base) as s:
        page = await (await s.get("/login")).text()
        nonce = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        await s.post("/login", data={"username": "alice", "password": PW, "csrf": nonce})
        admin = await (await s.get("/admin")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', admin).group(1)
        r = await s.post("/admin/role", data={"user": "carol", "role": "member", "csrf": csrf}, allow_redirects=False)
        assert r.status == 303 and world["hub"].store.user(username="carol").role == "member"
        r = await s.post("/admin/role", data={"user": "alice", "role": "viewer", "csrf": csrf}, allow_redirects=False)
        assert r.status == 409  # the last admin keeps the role
        r = await s.post("/keys/revoke", data={"id": str(rec.id), "csrf": csrf}, allow_redirects=False)
        assert r.status == 303
        await s.post("/admin/role", data={"user": "carol", "role": "viewer", "csrf": csrf})
        audit = await (await s.get("/admin/audit")).text()
        assert "chain intact" in audit
        export = await (await s.get("/admin/audit", params={"format": "jsonl"})).text()
        assert len(export.splitlines()) >= 5
    async with client(base) as s3:
        assert (await s3.get("/api/sessions", headers=_bearer(new_key))).status == 401
    actions = {(e.action, e.outcome) for e in world["hub"].store.audit(limit=10_000)}
    for a in (
        ("signin", "ok"),
        ("signin", "failed"),
        ("key.create", "ok"),
        ("key.create", "denied"),
        ("key.revoke", "ok"),
        ("role.change", "ok"),
        ("role.change", "denied"),
        ("push", "ok"),
    ):
        assert a in actions, a
    assert world["hub"].verify_audit()["ok"]


async def test_sign_in_is_rate_limited(world):
    cfg = WebConfig(team=True, index_on_start=False, auth_window=3600)  # no refill during the test
    runner, port = await start(world["hub_app"], cfg, world["hub"])
    base = f"http://127.0.0.1:{port}"
    async with client(base) as s:
        statuses = []
        for i in range(12):
            page = await (await s.get("/login")).text()
            nonce = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            r = await s.post("/login", data={"username": "dave", "password": f"guess {i} xxxxxx", "csrf": nonce}, allow_redirects=False)
            statuses.append(r.status)
            if r.status == 429:
                assert int(r.headers["Retry-After"]) >= 1
        assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    await runner.cleanup()


async def test_request_limits_and_malformed_batches(world, hub_server):
    base, cfg = hub_server
    h = _bearer(world["keys"]["bob_both"])
    good = {"file_key": "a" * 64, "machine": "m1", "project": "alpha", "source_name": "x.jsonl", "offset": 0, "end": 3, "data": "{}\n"}
    cases = [
        ({"chunks": "nope"}, 400),
        ({"chunks": []}, 400),
        ({"chunks": [good] * 33}, 400),
        ([1, 2], 400),
        ({"chunks": [{**good, "file_key": "../../etc/passwd"}]}, 400),
        ({"chunks": [{**good, "project": "../other"}]}, 400),
        ({"chunks": [{**good, "machine": "a/b"}]}, 400),
        ({"chunks": [{**good, "data": "{} no newline"}]}, 400),
        ({"chunks": [{**good, "offset": -1}]}, 400),
        ({"chunks": [{**good, "extra": 1}]}, 400),
        ({"chunks": [{**good, "end": "x"}]}, 400),
    ]
    async with client(base) as s:
        for body, status in cases:
            r = await s.post("/api/push", json=body, headers=h)
            assert r.status == status, body
        r = await s.post("/api/push", data=b"{not json", headers={**h, "Content-Type": "application/json"})
        assert r.status == 400
        r = await s.post("/api/push", data=b"x=1", headers={**h, "Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 415
        r = await s.post("/api/push", data=b"x" * (cfg.max_push_body + 10), headers={**h, "Content-Type": "application/json"})
        assert r.status == 413
        # a traversal-shaped source name is flattened inside the hub's folder
        r = await s.post("/api/push", json={"chunks": [{**good, "file_key": "b" * 64, "source_name": "../../../../tmp/evil"}]}, headers=h)
        assert r.status == 200
        rec = world["hub"].store.pushed("b" * 64)
        assert Path(rec.hub_path).resolve().is_relative_to(world["hub"].logs)


def test_cookies_are_secure_over_tls():
    assert cookie_kw(WebConfig(team=True, tls=True))["secure"] is True
    assert cookie_kw(WebConfig(team=True))["samesite"] == "Lax" and cookie_kw(WebConfig())["samesite"] == "Strict"


def test_audit_chain_detects_tampering(tmp_path):
    hub = Hub(_app(tmp_path / "h"))
    for i in range(5):
        hub.audit("alice", "search", target=f"q{i}", source="127.0.0.1")
    assert hub.verify_audit() == {"ok": True, "entries": 5, "bad_id": None, "message": "5 entries, chain intact"}
    import apsw

    with pytest.raises(apsw.ConstraintError):
        hub.store.conn.execute("UPDATE audit SET target='x' WHERE id=2")
    with pytest.raises(apsw.ConstraintError):
        hub.store.conn.execute("DELETE FROM audit WHERE id=2")
    hub.seal_audit()
    # an attacker with the database file drops the triggers and rewrites history
    c = hub.store.conn
    c.execute("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete")
    c.execute("UPDATE audit SET target='innocent' WHERE id=3")
    res = hub.verify_audit()
    assert not res["ok"] and res["bad_id"] == 3 and "altered" in res["message"]
    c.execute("UPDATE audit SET target='q2' WHERE id=3")
    assert hub.verify_audit()["ok"]
    c.execute("DELETE FROM audit WHERE id=2")
    res = hub.verify_audit()
    assert not res["ok"] and res["bad_id"] == 3
    hub2 = Hub(_app(tmp_path / "h2"))
    for _ in range(3):
        hub2.audit("bob", "push", target="alpha")
    hub2.seal_audit()
    hub2.store.conn.execute("DROP TRIGGER audit_no_delete")
    hub2.store.conn.execute("DELETE FROM audit WHERE id=3")
    res = hub2.verify_audit()
    assert not res["ok"] and "removed" in res["message"]


def test_audit_cli_verifies_and_exports(tmp_path, capsys, monkeypatch):
    from sessionlens.cli import main

    home = str(tmp_path / "h")
    monkeypatch.setenv("SESSIONLENS_PASSWORD", PW)
    assert main(["--home", home, "admin", "create-user", "root"]) == 0
    assert "created admin root" in capsys.readouterr().out  # the first user is the admin
    assert main(["--home", home, "admin", "create-user", "eve", "--project", "alpha"]) == 0
    assert main(["--home", home, "admin", "create-key", "eve", "--scopes", "ingest"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("slk_")
    assert main(["--home", home, "admin", "keys", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed and key not in json.dumps(listed)
    assert main(["--home", home, "admin", "revoke-key", str(listed[0]["id"])]) == 0
    assert main(["--home", home, "audit", "--verify"]) == 0
    out = capsys.readouterr().out
    assert "chain intact" in out
    assert main(["--home", home, "audit", "--export", str(tmp_path / "a.jsonl")]) == 0
    rows = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert [r["action"] for r in rows] == ["user.create", "user.create", "key.create", "key.revoke"]
    import apsw

    c = apsw.Connection(str(Path(home) / "hub.db"))
    c.execute("DROP TRIGGER audit_no_update")
    c.execute("UPDATE audit SET actor='someone else' WHERE id=1")
    c.close()
    assert main(["--home", home, "audit", "--verify"]) == 4
    assert "TAMPERED" in capsys.readouterr().out
    with pytest.raises(HubError):
        Hub(_app(Path(home))).create_user("x", "short", "member")


__all__ = ["contextlib"]


def test_a_new_password_or_disabling_signs_the_user_out(tmp_path):
    hub = Hub(_app(tmp_path / "h"))
    u = hub.create_user("erin", PW, "member")
    token, _ = hub.start_session(u)
    assert hub.session_principal(token).user.username == "erin"
    hub.set_password(u.id, PW + "!")
    assert hub.session_principal(token) is None
    assert hub.authenticate("erin", PW) is None and hub.authenticate("erin", PW + "!").id == u.id
    token, _ = hub.start_session(u)
    hub.set_disabled(u.id, True)
    assert hub.session_principal(token) is None and hub.authenticate("erin", PW + "!") is None
    assert hub.authenticate("nobody", PW) is None


READERS = {"admin": "AB", "bob_both": "A", "bob_read": "A", "carol_read": "A", "dave_both": "B", "alice_beta": "B"}
BAD_KEYS = ("expired", "revoked", "wrong", "garbage")


def _expected(who, path, project):
    """The status every read endpoint must answer, from the rules (not from the server)."""
    api = path.startswith("/api/")
    if who in BAD_KEYS:
        return 401
    if who is None:
        return 401 if api else 303
    if who == "bob_ingest":
        return 403  # no read scope
    if path == "/admin/audit":
        return 200 if who == "admin" else 403
    if project is not None and project not in READERS[who]:
        return 404  # another project's session reads as missing
    return 200


async def test_every_read_endpoint_for_every_principal(world, pushed):
    base, *_ = pushed
    from urllib.parse import quote

    A, B = world["sid_a"], world["sid_b"]
    link = lambda sid: "/link?u=" + quote(f"sessionlens://session/{sid}?event=2")  # noqa: E731
    endpoints = [
        ("/", None),
        ("/search?q=shared-word", None),
        ("/cost", None),
        ("/cost?by=session", None),
        ("/coach", None),
        ("/evals", None),
        ("/keys", None),
        ("/admin/audit", None),
        ("/api/sessions", None),
        ("/api/search?q=shared-word", None),
        ("/api/cost", None),
        ("/api/status", None),
    ]
    for sid, proj in ((A, "A"), (B, "B")):
        endpoints += [
            (f"/s/{sid}", proj),
            (f"/s/{sid}/events?after=0", proj),
            (f"/s/{sid}/export", proj),
            (link(sid), proj),
            (f"/api/s/{sid}", proj),
            (f"/api/s/{sid[:8]}", proj),
        ]  # an id prefix resolves only within the scope
    mismatches = []
    async with client(base) as s:
        for who in [*READERS, "bob_ingest", *BAD_KEYS, None]:
            h = _bearer(world["keys"].get(who) if who else None)
            for path, proj in endpoints:
                r = await s.get(path, headers=h, allow_redirects=False)
                want = _expected(who, path, proj)
                if path.startswith("/link") and want == 200:
                    want = 303  # resolves to the transcript
                if r.status != want:
                    mismatches.append((who, path, r.status, want))
                if r.status == 200 and proj is None and path.startswith(("/search", "/api/search", "/cost?by=session")):
                    body = await r.text()
                    other = {"A": B, "B": A}.get(READERS.get(who, "AB")) if READERS.get(who) in ("A", "B") else None
                    if other and other in body:
                        mismatches.append((who, path, "leaks", other))
    assert mismatches == []


async def test_push_follow_ships_a_live_session_as_it_grows(world, hub_server, tmp_path):
    import threading

    from tests.web.helpers import claude_turn_lines

    base, cfg = hub_server
    src = tmp_path / "live" / "live.jsonl"
    sid = write_claude_session(src, prompt="live push", cwd="/src/alpha")
    capp = _app(tmp_path / "client")
    stop = threading.Event()
    done: dict = {}

    def follow():
        try:
            done["stats"] = client_push.run(
                capp,
                url=base,
                key=world["keys"]["bob_both"],
                machine="live-box",
                project="alpha",
                paths=[str(src.parent)],
                follow=True,
                interval=0.2,
                quiet=True,
                stop=stop,
            )
        except BaseException as e:
            done["error"] = repr(e)

    t = threading.Thread(target=follow)
    t.start()
    try:
        async with client(base) as s:

            async def hub_events():
                await wait_indexed(s, world["keys"]["admin"])
                sess = world["hub_app"].db().get_session(sid)
                return sess.events if sess else 0

            for _ in range(100):
                if await hub_events() == 5:
                    break
                await asyncio.sleep(0.1)
            assert await hub_events() == 5
            with open(src, "a", encoding="utf-8") as fh:
                fh.write(claude_turn_lines(sid, 1, "second turn", cwd="/src/alpha"))
            for _ in range(150):
                if await hub_events() == 10:
                    break
                await asyncio.sleep(0.1)
            assert await hub_events() == 10
    finally:
        stop.set()
        await asyncio.to_thread(t.join, 90)  # never block the loop that serves the hub
    assert not t.is_alive(), "push --follow did not stop"
    assert "error" not in done, done.get("error")
    assert done["stats"].chunks >= 2 and done["stats"].refused == []


async def test_the_session_api_gives_data_masked_and_refuses_hostile_ids(world, pushed):
    """``/api/s/<id>`` (editors render it): the events as data; traversal-, injection-
    and oversized ids read as not found, never as another session or an error page."""
    base, *_ = pushed
    h = _bearer(world["keys"]["bob_read"])
    async with client(base) as s:
        r = await s.get(f"/api/s/{world['sid_a']}", headers=h)
        assert r.status == 200 and r.content_type == "application/json"
        data = await r.json()
        assert data["session"]["id"] == world["sid_a"] and data["events"] and data["turns"]
        assert "path" not in data["session"], "the hub's own folders stay on the hub"
        assert any("shared-word" in (e.get("text") or "") for e in data["events"])
        for bad in ("..%2F..%2Fetc%2Fpasswd", "%27%20OR%201%3D1--", "%25", "x" * 5000, world["sid_b"]):
            r = await s.get(f"/api/s/{bad}", headers=h)
            assert r.status == 404, bad
            assert world["sid_b"] not in await r.text()
