"""``store/hub.py``: the team hub's rows dump as the dicts the store returned before (the CLI's and the
web's JSON are built from them) and the audit chain's hash covers a fixed canonical form."""

from __future__ import annotations

import hashlib

import pytest

from sessionlens.models import hubrows
from sessionlens.store.hub import AUDIT_COLS, GENESIS, HubStore, audit_hash


@pytest.fixture
def st(tmp_path):
    s = HubStore(tmp_path)
    yield s
    s.close()


def _raw(st: HubStore, sql: str, *args) -> list[dict]:
    """Rows as ``column -> value`` dicts straight from SQLite (what the store's dicts held)."""
    cur = st.conn.execute(sql, args)
    names = [d[0] for d in cur.getdescription()]
    return [dict(zip(names, r)) for r in cur]


def test_the_audit_hash_is_sha256_of_the_previous_hash_and_the_sorted_compact_json(st):
    e = st.append_audit(actor="ann", action="search", target=None, source="10.0.0.1", outcome="ok", detail={"q": "naïve ✓", "n": 2})
    assert isinstance(e, hubrows.AuditEntry) and e.id == 1 and e.prev_hash == GENESIS
    # the canonical form, written out: keys sorted, no spaces, UTF-8 unescaped, detail as stored text
    body = (
        '{"action":"search","actor":"ann","detail":"{\\"q\\":\\"naïve ✓\\",\\"n\\":2}","id":1,'
        f'"outcome":"ok","source":"10.0.0.1","target":null,"ts":{e.ts!r}}}'
    )
    assert e.hash == hashlib.sha256(GENESIS.encode() + b"\n" + body.encode()).hexdigest() == audit_hash(GENESIS, e)
    e2 = st.append_audit(actor="bob", action="push", target="alpha", source=None, outcome="partial")
    assert e2.prev_hash == e.hash and e2.detail is None and e2.hash == audit_hash(e.hash, e2)
    # what is stored is what was returned, and it reads back the same way from every read
    assert st.audit(limit=10, ascending=True) == list(st.audit_iter()) == [e, e2]
    assert [x.model_dump() for x in st.audit_iter()] == _raw(st, "SELECT * FROM audit ORDER BY id")
    assert hubrows.AuditEntry._fields == AUDIT_COLS
    assert st.audit(limit=1) == [e2] and st.audit(actor="ann") == [e] and st.audit(action="nope") == []


def test_account_key_session_and_push_rows_dump_as_the_old_dicts(st):
    uid = st.add_user("ann", "$argon2id$x", "member")
    st.add_member(uid, "beta")
    st.add_member(uid, "alpha")
    u = st.user(username="ann")
    assert isinstance(u, hubrows.HubUser) and u == st.user(user_id=uid)
    assert u.model_dump() == _raw(st, "SELECT id, username, pw_hash, role, disabled, created_at FROM users")[0]
    assert st.user(username="nobody") is None and st.user(user_id=99) is None
    [m] = st.users()
    assert list(m.model_dump()) == ["id", "username", "role", "disabled", "created_at", "projects"]
    assert m.projects == ["alpha", "beta"] and m.username == "ann"

    kid = st.add_key(
        prefix="p1", secret_hash="h" * 64, user_id=uid, name="laptop", scopes=["ingest", "read"], project=None, expires_at=None
    )
    cred = st.key_by_prefix("p1")
    raw = _raw(st, "SELECT * FROM api_keys")[0]
    assert isinstance(cred, hubrows.ApiKeyCredential) and cred.model_dump() == {**raw, "scopes": ["ingest", "read"]}
    assert list(cred.model_dump()) == list(raw)  # the table's column order
    [k] = st.keys(uid)
    assert isinstance(k, hubrows.ApiKey) and k == cred.public() and k.id == kid
    assert list(k.model_dump()) == [c for c in raw if c != "secret_hash"]
    assert st.keys() == [k] and st.keys(uid + 1) == [] and st.key_by_prefix("zz") is None

    st.add_web_session("t" * 64, uid, "csrf1", 60)
    ws = st.web_session("t" * 64)
    assert isinstance(ws, hubrows.WebSession) and ws.model_dump() == {"user_id": uid, "csrf": "csrf1", "expires_at": ws.expires_at}
    st.add_web_session("old", uid, "c", -1)  # expired: never returned
    assert st.web_session("old") is None and st.web_session("nope") is None

    st.add_pushed(file_key="f" * 64, project="alpha", machine="m", source_name="s.jsonl", hub_path="/hub/s.jsonl", user_id=uid)
    st.commit_pushed("f" * 64, 10, 12)
    p = st.pushed("f" * 64)
    assert isinstance(p, hubrows.PushedFile) and p.model_dump() == _raw(st, "SELECT * FROM pushed")[0]
    assert (p.committed_source, p.committed_len, p.pushed_by) == (10, 12, uid)
    assert st.all_pushed() == [p] and st.pushed("0" * 64) is None
