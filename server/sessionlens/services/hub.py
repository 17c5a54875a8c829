"""The team hub: accounts and roles, API keys, sign-in sessions, the audit chain, and push ingestion.

Roles (organization-wide): ``admin`` manages members, keys and settings and reads every project;
``member`` pushes to and reads the projects it belongs to; ``viewer`` reads the projects it belongs
to.  A key carries scopes (``ingest``, ``read``, ``admin``) and optionally one project; it never
grants more than its owner has.

Pushed logs land in ``<home>/hub/logs/<project>/<machine>/<key>/<name>.jsonl`` and are indexed by
the normal indexer (the one writer).  A push chunk names the source byte range it covers; the hub
appends it only when it starts exactly where the committed data ends, so a retried or replayed
chunk is acknowledged without being written twice, and a gap is refused with the offset to resume
from.  The committed length is recorded after the bytes are fsynced; a hub killed in between
truncates the file back to the committed length when it starts (:meth:`Hub.recover`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sessionlens.models.hubrows import ApiKey, HubUser
from sessionlens.services.app import App
from sessionlens.store.hub import GENESIS, HubStore, audit_hash

log = logging.getLogger(__name__)

ROLES = ("admin", "member", "viewer")
SCOPES = ("ingest", "read", "admin")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@\-]{0,63}$")
KEY_RE = re.compile(r"^slk_([a-z0-9]{10})_([A-Za-z0-9_\-]{32,64})$")
MIN_PASSWORD = 10
SESSION_TTL = 12 * 3600.0
MAX_CHUNK_BYTES = 4 * 1024 * 1024


class HubError(Exception):
    """A refused hub operation; ``status`` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400, **extra: Any):
        super().__init__(message)
        self.status = status
        self.extra = extra


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _hasher():
    try:
        from argon2 import PasswordHasher
    except ImportError:  # pragma: no cover - the [hub] extra is missing
        raise HubError("the team hub needs argon2-cffi: pip install 'sessionlens[hub]'", 500) from None
    return PasswordHasher()


@dataclass
class Principal:
    """Who is calling: a signed-in user, or a user acting through an API key."""

    user: HubUser
    key: ApiKey | None = None
    csrf: str | None = None

    @property
    def name(self) -> str:
        return self.user.username + (f" (key {self.key.prefix})" if self.key else "")

    @property
    def role(self) -> str:
        return self.user.role

    def has_scope(self, scope: str) -> bool:
        return self.key is None or scope in self.key.scopes or "admin" in self.key.scopes


class PushChunk(BaseModel):
    """One push request: ``data`` holds the (redacted) complete lines of source bytes [offset, end)."""

    model_config = ConfigDict(extra="forbid")

    file_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    machine: str = Field(pattern=NAME_RE.pattern)
    project: str = Field(pattern=NAME_RE.pattern)
    source_name: str = Field(min_length=1, max_length=200)
    offset: int = Field(ge=0, le=2**53)
    end: int = Field(ge=0, le=2**53)
    data: str = Field(max_length=MAX_CHUNK_BYTES)

    @field_validator("source_name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = re.sub(r"[^A-Za-z0-9._\-]", "_", os.path.basename(v))[:120].lstrip(".") or "session"
        return v if v.endswith(".jsonl") else v + ".jsonl"

    @field_validator("data")
    @classmethod
    def _lines(cls, v: str) -> str:
        if v and not v.endswith("\n"):
            raise ValueError("data must be complete lines (ending with a newline)")
        if "\x00" in v:
            raise ValueError("data must not contain NUL characters")
        return v


class Hub:
    def __init__(self, app: App):
        self.app = app
        self.store = HubStore(app.home)
        self.logs = (app.home / "hub" / "logs").resolve()
        self.logs.mkdir(parents=True, exist_ok=True)
        self._file_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._dummy_hash: str | None = None

    # ------------------------------------------------------------------ accounts
    def create_user(self, username: str, password: str, role: str = "member", projects: Iterable[str] = ()) -> HubUser:
        if not USER_RE.match(username or ""):
            raise HubError("a user name is 1-64 letters, digits, '.', '_', '@' or '-'")
        if role not in ROLES:
            raise HubError(f"role must be one of {', '.join(ROLES)}")
        self._check_password(password)
        if self.store.user(username=username):
            raise HubError(f"user {username!r} exists", 409)
        uid = self.store.add_user(username, _hasher().hash(password), role)
        for p in projects:
            self.add_member(uid, p)
        user = self.store.user(user_id=uid)
        if user is None:
            raise HubError(f"user {username!r} was not created", 500)
        return user

    @staticmethod
    def _check_password(password: str) -> None:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 1024:
            raise HubError(f"a password has {MIN_PASSWORD} to 1024 characters")

    def set_password(self, user_id: int, password: str) -> None:
        self._check_password(password)
        self.store.set_user(user_id, pw_hash=_hasher().hash(password))
        self.store.drop_user_sessions(user_id)  # a new password signs the user out everywhere

    def set_role(self, user_id: int, role: str) -> None:
        if role not in ROLES:
            raise HubError(f"role must be one of {', '.join(ROLES)}")
        u = self.store.user(user_id=user_id)
        if u is None:
            raise HubError("no such user", 404)
        if u.role == "admin" and role != "admin" and self.store.count_users("admin") <= 1:
            raise HubError("the last admin cannot lose the admin role", 409)
        self.store.set_user(user_id, role=role)

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        u = self.store.user(user_id=user_id)
        if u is None:
            raise HubError("no such user", 404)
        if disabled and u.role == "admin" and self.store.count_users("admin") <= 1:
            raise HubError("the last admin cannot be disabled", 409)
        self.store.set_user(user_id, disabled=disabled)

    def add_member(self, user_id: int, project: str) -> None:
        if not NAME_RE.match(project or ""):
            raise HubError("a project name is 1-64 letters, digits, '.', '_' or '-'")
        self.store.add_member(user_id, project)

    def user_by_name(self, username: str) -> HubUser:
        u = self.store.user(username=username)
        if u is None:
            raise HubError(f"no user {username!r}", 404)
        return u

    def authenticate(self, username: str, password: str) -> HubUser | None:
        """The user when the password matches (and the account is enabled), else None - in about the same time."""
        ph = _hasher()
        u = self.store.user(username=username) if isinstance(username, str) and len(username) <= 64 else None
        if u is None:
            if self._dummy_hash is None:
                self._dummy_hash = ph.hash(secrets.token_urlsafe(16))
            try:
                ph.verify(self._dummy_hash, password or "")
            except Exception:
                pass
            return None
        try:
            ph.verify(u.pw_hash, password or "")
        except Exception:
            return None
        if u.disabled:
            return None
        if ph.check_needs_rehash(u.pw_hash):
            self.store.set_user(u.id, pw_hash=ph.hash(password))
        return u

    # ------------------------------------------------------------------ sign-in sessions
    def start_session(self, user: HubUser) -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        self.store.add_web_session(_sha(token), user.id, csrf, SESSION_TTL)
        return token, csrf

    def session_principal(self, token: str | None) -> Principal | None:
        if not token or len(token) > 200:
            return None
        ws = self.store.web_session(_sha(token))
        if ws is None:
            return None
        u = self.store.user(user_id=ws.user_id)
        if u is None or u.disabled:
            return None
        return Principal(user=u, csrf=ws.csrf)

    def end_session(self, token: str | None) -> None:
        if token:
            self.store.drop_web_session(_sha(token))

    # ------------------------------------------------------------------ API keys
    def create_key(
        self, user: HubUser, name: str, scopes: Iterable[str], *, project: str | None = None, expires_days: float | None = None
    ) -> tuple[str, ApiKey]:
        """A new key: returns the full key (shown once) and its stored record (hash only)."""
        scopes = sorted(set(scopes))
        if not scopes or any(s not in SCOPES for s in scopes):
            raise HubError(f"scopes are some of {', '.join(SCOPES)}")
        if "admin" in scopes and user.role != "admin":
            raise HubError("only an admin can create an admin key", 403)
        if "ingest" in scopes and user.role == "viewer":
            raise HubError("a viewer cannot create an ingest key", 403)
        if project is not None and not NAME_RE.match(project):
            raise HubError("a project name is 1-64 letters, digits, '.', '_' or '-'")
        if project and user.role != "admin" and project not in self.store.user_projects(user.id):
            raise HubError("you are not a member of that project", 403)
        name = (name or "").strip()[:80] or "key"
        if expires_days is not None and not (0 < expires_days <= 3650):
            raise HubError("expiry is 1 to 3650 days")
        prefix = secrets.token_hex(5)
        secret = secrets.token_urlsafe(32)
        kid = self.store.add_key(
            prefix=prefix,
            secret_hash=_sha(secret),
            user_id=user.id,
            name=name,
            scopes=scopes,
            project=project,
            expires_at=time.time() + expires_days * 86400 if expires_days else None,
        )
        rec = next(k for k in self.store.keys(user.id) if k.id == kid)
        return f"slk_{prefix}_{secret}", rec

    def key_principal(self, raw: str) -> Principal:
        """The principal of a presented key; HubError(401) says why it was refused."""
        m = KEY_RE.match(raw or "")
        if not m:
            raise HubError("invalid API key", 401)
        k = self.store.key_by_prefix(m.group(1))
        if k is None or not hmac.compare_digest(k.secret_hash, _sha(m.group(2))):
            raise HubError("invalid API key", 401)
        if k.revoked_at is not None:
            raise HubError("this API key was revoked", 401)
        if k.expires_at is not None and k.expires_at < time.time():
            raise HubError("this API key has expired", 401)
        u = self.store.user(user_id=k.user_id)
        if u is None or u.disabled:
            raise HubError("invalid API key", 401)
        self.store.touch_key(k.id)
        return Principal(user=u, key=k.public())

    def revoke_key(self, actor: Principal, key_id: int) -> ApiKey:
        k = next((k for k in self.store.keys() if k.id == key_id), None)
        if k is None or (actor.role != "admin" and k.user_id != actor.user.id):
            raise HubError("no such key", 404)
        self.store.revoke_key(key_id)
        return k

    # ------------------------------------------------------------------ what a principal may see
    def readable_projects(self, p: Principal) -> list[str] | None:
        """None: every project (an admin without a project-bound key)."""
        if p.key is not None and p.key.project:
            if p.role == "admin" or p.key.project in self.store.user_projects(p.user.id):
                return [p.key.project]
            return []
        if p.role == "admin":
            return None
        return self.store.user_projects(p.user.id)

    def scope(self, p: Principal) -> list[str] | None:
        projects = self.readable_projects(p)
        if projects is None:
            return [str(self.logs) + os.sep]
        return [str(self.logs / name) + os.sep for name in projects]

    def can_push(self, p: Principal, project: str) -> bool:
        if not p.has_scope("ingest") or p.role == "viewer":
            return False
        if p.key is not None and p.key.project and p.key.project != project:
            return False
        return p.role == "admin" or project in self.store.user_projects(p.user.id)

    # ------------------------------------------------------------------ audit
    def audit(
        self, actor: str, action: str, *, target: str | None = None, source: str | None = None, outcome: str = "ok", **detail: Any
    ) -> None:
        self.store.append_audit(actor=actor, action=action, target=target, source=source, outcome=outcome, detail=detail or None)

    def verify_audit(self) -> dict[str, Any]:
        """Walk the chain: every entry's hash must cover its content and the previous entry's hash."""
        prev, n, last_id = GENESIS, 0, 0
        for e in self.store.audit_iter():
            n += 1
            if e.id != last_id + 1:
                return {"ok": False, "entries": n, "bad_id": e.id, "message": f"entry {last_id + 1} is missing"}
            if e.prev_hash != prev:
                return {"ok": False, "entries": n, "bad_id": e.id, "message": f"entry {e.id} does not chain to entry {last_id}"}
            if audit_hash(prev, e) != e.hash:
                return {"ok": False, "entries": n, "bad_id": e.id, "message": f"entry {e.id} was altered"}
            prev, last_id = e.hash, e.id
        head = self.store.setting("audit_head")
        if head and int(head.split(":")[0]) > last_id:
            return {"ok": False, "entries": n, "bad_id": last_id + 1, "message": "entries at the end of the log were removed"}
        return {"ok": True, "entries": n, "bad_id": None, "message": f"{n} entries, chain intact"}

    def seal_audit(self) -> None:
        """Remember the chain head (id:hash) so that truncating the log's tail is detected too."""
        last = self.store.audit(limit=1)
        if last:
            self.store.set_setting("audit_head", f"{last[0].id}:{last[0].hash}")

    # ------------------------------------------------------------------ push
    def _lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            lk = self._file_locks.get(key)
            if lk is None:
                lk = self._file_locks[key] = threading.Lock()
            return lk

    def hub_path(self, chunk: PushChunk) -> Path:
        p = (self.logs / chunk.project / chunk.machine / chunk.file_key[:32] / chunk.source_name).resolve()
        if not str(p).startswith(str(self.logs) + os.sep):  # pragma: no cover - the validators already forbid it
            raise HubError("bad path", 400)
        return p

    def push_status(self, p: Principal, file_keys: list[str]) -> dict[str, int]:
        """The committed source offset of each of the caller's files (0 when unknown)."""
        out = {}
        for k in file_keys[:10_000]:
            rec = self.store.pushed(k) if isinstance(k, str) else None
            out[k] = rec.committed_source if rec and self.can_push(p, rec.project) else 0
        return out

    def push(self, p: Principal, chunk: PushChunk) -> dict[str, Any]:
        if not self.can_push(p, chunk.project):
            raise HubError("you may not push to that project", 403)
        if chunk.end < chunk.offset:
            raise HubError("end is before offset")
        data = chunk.data.encode("utf-8")
        with self._lock(chunk.file_key):
            rec = self.store.pushed(chunk.file_key)
            if rec is None:
                path = self.hub_path(chunk)
                self.store.ensure_project(chunk.project)
                self.store.add_pushed(
                    file_key=chunk.file_key,
                    project=chunk.project,
                    machine=chunk.machine,
                    source_name=chunk.source_name,
                    hub_path=str(path),
                    user_id=p.user.id,
                )
                rec = self.store.pushed(chunk.file_key)
            if rec is None:
                raise HubError("the pushed file's record is gone", 500)
            if rec.project != chunk.project or rec.machine != chunk.machine:
                raise HubError("this file was pushed to another project or from another machine", 409)
            committed = rec.committed_source
            if chunk.offset < committed:
                if chunk.end <= committed:
                    return {"status": "duplicate", "committed": committed, "path": None}
                raise HubError("chunk overlaps committed data", 409, committed=committed)
            if chunk.offset > committed:
                raise HubError("chunk starts after the committed data", 409, committed=committed)
            path = Path(rec.hub_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
            try:
                os.ftruncate(fd, rec.committed_len)  # drop what a killed hub wrote past the last commit
                os.lseek(fd, rec.committed_len, os.SEEK_SET)
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            finally:
                os.close(fd)
            self.store.commit_pushed(chunk.file_key, chunk.end, rec.committed_len + len(data))
        return {"status": "ok", "committed": chunk.end, "path": str(path)}

    def recover(self) -> list[str]:
        """At start: cut every pushed file back to its committed length; returns the files to (re)index."""
        paths = []
        for rec in self.store.all_pushed():
            path = Path(rec.hub_path)
            try:
                if path.stat().st_size > rec.committed_len:
                    with open(path, "r+b") as fh:
                        fh.truncate(rec.committed_len)
                        os.fsync(fh.fileno())
                    log.warning("hub: %s cut back to its committed %d bytes", path, rec.committed_len)
            except FileNotFoundError:
                continue
            paths.append(str(path))
        return paths

    def project_of_path(self, path: str) -> str | None:
        try:
            rel = Path(path).resolve().relative_to(self.logs)
        except ValueError:
            return None
        return rel.parts[0] if rel.parts else None
