"""The team hub's own database (``<home>/hub.db``): accounts, projects, memberships, API keys,
sign-in sessions, pushed files and the append-only, hash-chained audit log.

Kept apart from the session store (``sessionlens.db``) so that the hub's accounts never mix with
indexed logs and its schema evolves on its own (``PRAGMA user_version``).  All SQL of the hub lives
here; ``services.hub`` holds the rules (hashing, roles, chain verification).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apsw
import orjson

from sessionlens.models.hubrows import ApiKey, ApiKeyCredential, AuditEntry, HubMember, HubUser, PushedFile, WebSession

HUB_MIGRATIONS: list[str] = [
    # 1: accounts, projects, keys, sessions, audit, pushed files
    """
    CREATE TABLE users(
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        pw_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE projects(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL
    );
    CREATE TABLE members(
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, project_id)
    );
    CREATE TABLE api_keys(
        id INTEGER PRIMARY KEY,
        prefix TEXT NOT NULL UNIQUE,
        secret_hash TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,
        project TEXT,
        expires_at REAL,
        created_at REAL NOT NULL,
        revoked_at REAL,
        last_used_at REAL
    );
    CREATE TABLE web_sessions(
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE TABLE pushed(
        file_key TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        machine TEXT NOT NULL,
        source_name TEXT NOT NULL,
        hub_path TEXT NOT NULL UNIQUE,
        committed_source INTEGER NOT NULL DEFAULT 0,
        committed_len INTEGER NOT NULL DEFAULT 0,
        pushed_by INTEGER,
        updated_at REAL NOT NULL
    );
    CREATE TABLE audit(
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        source TEXT,
        outcome TEXT NOT NULL,
        detail TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TABLE hub_settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
]

GENESIS = "0" * 64
#: the audit table's columns, in order: the hash covers the first eight (``AuditEntry`` has the same fields)
AUDIT_COLS = ("id", "ts", "actor", "action", "target", "source", "outcome", "detail", "prev_hash", "hash")


def audit_hash(prev_hash: str, entry: AuditEntry) -> str:
    """The chain link: sha256 over the previous hash and the canonical JSON of the entry's first eight
    fields (``AUDIT_COLS[:8]``: its id to its detail, keys sorted, orjson's compact form)."""
    body = orjson.dumps({k: getattr(entry, k) for k in AUDIT_COLS[:8]}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


class HubStore:
    """Per-thread APSW connections on ``<home>/hub.db`` (WAL, busy timeout)."""

    def __init__(self, home: str | Path):
        self.path = Path(home) / "hub.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._audit_lock = threading.Lock()
        self._migrate()

    @property
    def conn(self) -> apsw.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = apsw.Connection(str(self.path))
            c.setbusytimeout(10_000)
            c.execute("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL")
            self._local.conn = c
        return c

    def _migrate(self) -> None:
        c = self.conn
        with c:
            v = c.execute("PRAGMA user_version").get
            for i, sql in enumerate(HUB_MIGRATIONS[v:], start=v + 1):
                c.execute(sql)
                c.execute(f"PRAGMA user_version={i}")

    @contextlib.contextmanager
    def _immediate(self):
        """A write transaction taken up front (BEGIN IMMEDIATE): a read-then-write never fails with
        SQLITE_BUSY when another connection wrote in between; waits use the busy timeout."""
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")

    def close(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None

    # ------------------------------------------------------------------ users / projects
    def add_user(self, username: str, pw_hash: str, role: str) -> int:
        with self.conn:
            self.conn.execute(
                "INSERT INTO users(username, pw_hash, role, created_at) VALUES(?,?,?,?)", (username, pw_hash, role, time.time())
            )
            rowid = self.conn.last_insert_rowid()
        return rowid

    def user(self, *, username: str | None = None, user_id: int | None = None) -> HubUser | None:
        q = f"SELECT {', '.join(HubUser._fields)} FROM users WHERE "
        r = (
            self.conn.execute(q + "username=?", (username,)) if username is not None else self.conn.execute(q + "id=?", (user_id,))
        ).fetchone()
        return HubUser.from_row(r) if r else None

    def users(self) -> list[HubMember]:
        rows = list(self.conn.execute("SELECT id, username, role, disabled, created_at FROM users ORDER BY username"))
        return [HubMember.from_row((*r, self.user_projects(r[0]))) for r in rows]

    def count_users(self, role: str | None = None) -> int:
        if role:
            return self.conn.execute("SELECT count(*) FROM users WHERE role=? AND disabled=0", (role,)).get
        return self.conn.execute("SELECT count(*) FROM users").get

    def set_user(self, user_id: int, *, role: str | None = None, pw_hash: str | None = None, disabled: bool | None = None) -> None:
        with self.conn:
            if role is not None:
                self.conn.execute("UPDATE users SET role=? WHERE id=?", (role, user_id))
            if pw_hash is not None:
                self.conn.execute("UPDATE users SET pw_hash=? WHERE id=?", (pw_hash, user_id))
            if disabled is not None:
                self.conn.execute("UPDATE users SET disabled=? WHERE id=?", (int(disabled), user_id))
                if disabled:
                    self.conn.execute("DELETE FROM web_sessions WHERE user_id=?", (user_id,))

    def ensure_project(self, name: str) -> int:
        with self.conn:
            self.conn.execute("INSERT OR IGNORE INTO projects(name, created_at) VALUES(?,?)", (name, time.time()))
            pid: int = self.conn.execute("SELECT id FROM projects WHERE name=?", (name,)).get
        return pid

    def projects(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM projects ORDER BY name")]

    def add_member(self, user_id: int, project: str) -> None:
        pid = self.ensure_project(project)
        with self.conn:
            self.conn.execute("INSERT OR IGNORE INTO members(user_id, project_id) VALUES(?,?)", (user_id, pid))

    def remove_member(self, user_id: int, project: str) -> None:
        with self.conn:
            self.conn.execute(
                "DELETE FROM members WHERE user_id=? AND project_id=(SELECT id FROM projects WHERE name=?)", (user_id, project)
            )

    def user_projects(self, user_id: int) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT p.name FROM members m JOIN projects p ON p.id=m.project_id WHERE m.user_id=? ORDER BY p.name", (user_id,)
            )
        ]

    # ------------------------------------------------------------------ API keys
    def add_key(
        self, *, prefix: str, secret_hash: str, user_id: int, name: str, scopes: list[str], project: str | None, expires_at: float | None
    ) -> int:
        with self.conn:
            self.conn.execute(
                "INSERT INTO api_keys(prefix, secret_hash, user_id, name, scopes, project, expires_at, created_at) VALUES(?,?,?,?,?,?,?,?)",
                (prefix, secret_hash, user_id, name, ",".join(scopes), project, expires_at, time.time()),
            )
            rowid = self.conn.last_insert_rowid()
        return rowid

    @staticmethod
    def _scopes(r: tuple[Any, ...], at: int) -> tuple[Any, ...]:
        """The row with its comma-separated scopes column (at ``at``) as a list."""
        return (*r[:at], [s for s in r[at].split(",") if s], *r[at + 1 :])

    def key_by_prefix(self, prefix: str) -> ApiKeyCredential | None:
        cols = ", ".join(ApiKeyCredential._fields)
        r = self.conn.execute(f"SELECT {cols} FROM api_keys WHERE prefix=?", (prefix,)).fetchone()
        return ApiKeyCredential.from_row(self._scopes(r, ApiKeyCredential._fields.index("scopes"))) if r else None

    def keys(self, user_id: int | None = None) -> list[ApiKey]:
        """Every key (or one user's), oldest first, without their secrets' hashes."""
        q = f"SELECT {', '.join(ApiKey._fields)} FROM api_keys"
        rows = (
            self.conn.execute(q + " WHERE user_id=? ORDER BY id", (user_id,))
            if user_id is not None
            else self.conn.execute(q + " ORDER BY id")
        )
        at = ApiKey._fields.index("scopes")
        return [ApiKey.from_row(self._scopes(r, at)) for r in rows]

    def revoke_key(self, key_id: int) -> bool:
        with self.conn:
            self.conn.execute("UPDATE api_keys SET revoked_at=? WHERE id=? AND revoked_at IS NULL", (time.time(), key_id))
            changed = self.conn.changes() > 0
        return changed

    def touch_key(self, key_id: int) -> None:
        with self.conn:
            self.conn.execute("UPDATE api_keys SET last_used_at=? WHERE id=?", (time.time(), key_id))

    # ------------------------------------------------------------------ sign-in sessions
    def add_web_session(self, token_hash: str, user_id: int, csrf: str, ttl: float) -> None:
        now = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", (now,))
            self.conn.execute(
                "INSERT INTO web_sessions(token_hash, user_id, csrf, created_at, expires_at) VALUES(?,?,?,?,?)",
                (token_hash, user_id, csrf, now, now + ttl),
            )

    def web_session(self, token_hash: str) -> WebSession | None:
        r = self.conn.execute("SELECT user_id, csrf, expires_at FROM web_sessions WHERE token_hash=?", (token_hash,)).fetchone()
        if not r or r[2] < time.time():
            return None
        return WebSession.from_row(r)

    def drop_user_sessions(self, user_id: int) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM web_sessions WHERE user_id=?", (user_id,))

    def drop_web_session(self, token_hash: str) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM web_sessions WHERE token_hash=?", (token_hash,))

    # ------------------------------------------------------------------ pushed files
    _PUSH_COLS = ", ".join(PushedFile._fields)

    def pushed(self, file_key: str) -> PushedFile | None:
        r = self.conn.execute(f"SELECT {self._PUSH_COLS} FROM pushed WHERE file_key=?", (file_key,)).fetchone()
        return PushedFile.from_row(r) if r else None

    def all_pushed(self) -> list[PushedFile]:
        return [PushedFile.from_row(r) for r in self.conn.execute(f"SELECT {self._PUSH_COLS} FROM pushed")]

    def add_pushed(self, *, file_key: str, project: str, machine: str, source_name: str, hub_path: str, user_id: int | None) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT OR IGNORE INTO pushed(file_key, project, machine, source_name, hub_path, pushed_by, updated_at) VALUES(?,?,?,?,?,?,?)",
                (file_key, project, machine, source_name, hub_path, user_id, time.time()),
            )

    def commit_pushed(self, file_key: str, committed_source: int, committed_len: int) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE pushed SET committed_source=?, committed_len=?, updated_at=? WHERE file_key=?",
                (committed_source, committed_len, time.time(), file_key),
            )

    # ------------------------------------------------------------------ settings
    def setting(self, key: str) -> str | None:
        return self.conn.execute("SELECT value FROM hub_settings WHERE key=?", (key,)).get

    def set_setting(self, key: str, value: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO hub_settings(key, value) VALUES(?,?)", (key, value))

    # ------------------------------------------------------------------ audit
    def append_audit(
        self, *, actor: str, action: str, target: str | None, source: str | None, outcome: str, detail: dict | None = None
    ) -> AuditEntry:
        with self._audit_lock, self._immediate():
            last = self.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            prev = last[1] if last else GENESIS
            entry = AuditEntry(
                id=(last[0] + 1) if last else 1,
                ts=time.time(),
                actor=actor,
                action=action,
                target=target,
                source=source,
                outcome=outcome,
                detail=orjson.dumps(detail).decode() if detail else None,
                prev_hash=prev,
                hash="",
            )
            entry.hash = audit_hash(prev, entry)
            self.conn.execute(
                f"INSERT INTO audit({', '.join(AUDIT_COLS)}) VALUES({','.join('?' * len(AUDIT_COLS))})",
                tuple(getattr(entry, k) for k in AUDIT_COLS),
            )
            return entry

    def audit(
        self, *, limit: int = 500, offset: int = 0, action: str | None = None, actor: str | None = None, ascending: bool = False
    ) -> list[AuditEntry]:
        where, args = [], []
        if action:
            where.append("action=?")
            args.append(action)
        if actor:
            where.append("actor=?")
            args.append(actor)
        w = ("WHERE " + " AND ".join(where)) if where else ""
        return [
            AuditEntry.from_row(r)
            for r in self.conn.execute(
                f"SELECT {', '.join(AUDIT_COLS)} FROM audit {w} ORDER BY id {'ASC' if ascending else 'DESC'} LIMIT ? OFFSET ?",
                (*args, limit, offset),
            )
        ]

    def audit_iter(self) -> Iterator[AuditEntry]:
        """Every entry, oldest first (the chain's order), streamed."""
        for r in self.conn.execute(f"SELECT {', '.join(AUDIT_COLS)} FROM audit ORDER BY id"):
            yield AuditEntry.from_row(r)
