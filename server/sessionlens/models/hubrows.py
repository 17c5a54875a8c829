"""The team hub store's rows (``store/hub.py``): accounts, API keys, sign-in sessions, pushed files
and audit entries.

Plain rows (:class:`sessionlens.models.row.Row`: no pydantic, whose import costs a process ~90 ms):
attribute access, ``model_dump()`` (the dict the store used to return: the same keys in the same
order, so every JSON output stays byte-identical), ``from_row``, equality, and a ``__repr__`` that
hides the secret hashes.
"""

from __future__ import annotations

from typing import ClassVar

from sessionlens.models.row import Row


class HubRow(Row):
    """Base of the hub's rows: a :class:`Row` whose ``repr`` hides the hashes of secrets."""

    #: fields shown as ``'***'`` by ``repr`` (hashes of secrets: never in a log line)
    _hidden: ClassVar[frozenset[str]] = frozenset()

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={'***' if n in self._hidden else repr(getattr(self, n))}" for n in self._fields)
        return f"{type(self).__name__}({parts})"


class HubUser(HubRow):
    """An account (``HubStore.user``): what signing in and authorizing need."""

    _hidden = frozenset({"pw_hash"})

    id: int
    username: str
    pw_hash: str
    role: str
    disabled: int
    created_at: float


class HubMember(HubRow):
    """An account as the members list shows it (``HubStore.users``): no password hash, its projects."""

    id: int
    username: str
    role: str
    disabled: int
    created_at: float
    projects: list[str]


class ApiKey(HubRow):
    """An API key's record without its secret's hash (``HubStore.keys``, a principal's key)."""

    id: int
    prefix: str
    user_id: int
    name: str
    scopes: list[str]
    project: str | None
    expires_at: float | None
    created_at: float
    revoked_at: float | None
    last_used_at: float | None


class ApiKeyCredential(HubRow):
    """An API key's stored record with its secret's hash (``HubStore.key_by_prefix``: checking a key)."""

    _hidden = frozenset({"secret_hash"})

    id: int
    prefix: str
    secret_hash: str
    user_id: int
    name: str
    scopes: list[str]
    project: str | None
    expires_at: float | None
    created_at: float
    revoked_at: float | None
    last_used_at: float | None

    def public(self) -> ApiKey:
        """The record without the hash."""
        return ApiKey.from_row(getattr(self, n) for n in ApiKey._fields)


class WebSession(HubRow):
    """A live sign-in session (``HubStore.web_session``)."""

    user_id: int
    csrf: str
    expires_at: float


class PushedFile(HubRow):
    """A pushed log's bookkeeping (``HubStore.pushed``): where it lives and how much is committed."""

    file_key: str
    project: str
    machine: str
    source_name: str
    hub_path: str
    committed_source: int
    committed_len: int
    pushed_by: int | None
    updated_at: float


class AuditEntry(HubRow):
    """One entry of the hash-chained audit log; ``hash`` covers the first eight fields and ``prev_hash``
    (``store.hub.audit_hash``)."""

    id: int
    ts: float
    actor: str
    action: str
    target: str | None
    source: str | None
    outcome: str
    detail: str | None
    prev_hash: str
    hash: str
