"""The team hub store's rows (``store/hub.py``): accounts, API keys, sign-in sessions, pushed files
and audit entries.

Plain classes, no pydantic (importing it costs a process ~90 ms) and no dataclasses (~20 ms): a
row class lists its fields as annotations, :class:`HubRow` turns them into ``__slots__`` and gives
it a keyword ``__init__`` (with the class defaults), ``model_dump()`` (the dict the store used to
return: the same keys in the same order, so every JSON output stays byte-identical), ``__eq__``
and a ``__repr__`` that hides the secret hashes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

R = TypeVar("R", bound="HubRow")

_MUTABLE = (list, dict, set, bytearray)


class _RowMeta(type):
    """Fields from the class annotations (after the base classes' fields), as ``__slots__``."""

    def __new__(mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any]):
        own = [
            k
            for k, v in ns.get("__annotations__", {}).items()
            if not (isinstance(v, str) and v.startswith(("ClassVar", "typing.ClassVar"))) and v is not ClassVar
        ]
        inherited: tuple[str, ...] = ()
        defaults: dict[str, Any] = {}
        for b in reversed(bases):
            inherited += tuple(f for f in getattr(b, "_fields", ()) if f not in inherited)
            defaults.update(getattr(b, "_defaults", {}))
        for k in own:
            if k in ns:
                v = ns.pop(k)
                if isinstance(v, _MUTABLE):
                    raise TypeError(f"{name}.{k}: a row field's default must be immutable")
                defaults[k] = v
        ns["__slots__"] = tuple(k for k in own if k not in inherited)
        cls = super().__new__(mcls, name, bases, ns)
        cls._fields = inherited + tuple(k for k in own if k not in inherited)  # type: ignore[attr-defined]
        cls._defaults = defaults  # type: ignore[attr-defined]
        return cls


class HubRow(metaclass=_RowMeta):
    """Base of the hub's rows: attribute access, ``model_dump()``, equality by type and values."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    #: fields shown as ``'***'`` by ``repr`` (hashes of secrets: never in a log line)
    _hidden: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, **values: Any) -> None:
        for name in self._fields:
            if name in values:
                object.__setattr__(self, name, values.pop(name))
            elif name in self._defaults:
                object.__setattr__(self, name, self._defaults[name])
            else:
                raise TypeError(f"{type(self).__name__}() missing field {name!r}")
        if values:
            raise TypeError(f"{type(self).__name__}() got unknown fields {sorted(values)}")

    @classmethod
    def from_row(cls: type[R], values: Iterable[Any]) -> R:
        """A row from a result row whose columns are the fields, in order (no checks: the store's)."""
        obj = cls.__new__(cls)
        for name, v in zip(cls._fields, values, strict=True):
            object.__setattr__(obj, name, v)
        return obj

    def model_dump(self) -> dict[str, Any]:
        """The row as the dict the store used to return (same keys, same order)."""
        return {name: getattr(self, name) for name in self._fields}

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable rows

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
