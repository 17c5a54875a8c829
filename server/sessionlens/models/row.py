"""Plain rows: the store's read API returns these (``models.store``, ``models.listing``).

No pydantic (importing it costs a process ~90 ms, and a read command has 150 ms in all) and no
dataclasses (~20 ms).  A row class lists its fields as annotations (after its base classes' fields);
:class:`Row` turns them into ``__slots__`` and gives it a keyword ``__init__`` with the class
defaults (a mutable default - ``[]``, ``{}`` - is copied for each row), ``model_dump()`` (the dict the
store returned before these rows existed: the same keys in the same order, so every JSON output
stays byte-identical), ``model_copy(update=...)``, ``model_fields`` (the fields, in order, with
their defaults), ``__eq__`` and ``__repr__`` - the part of pydantic's interface the callers use.

No validation: the store builds rows from columns that already have the fields' types
(``from_row``/``from_dict``).  Where a row reaches a pydantic contract (``models.api``,
``models.cli_api``), its ``model_dump()`` goes in, or the contract reads it with ``from_attributes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

R = TypeVar("R", bound="Row")

_MUTABLE = (list, dict, set, bytearray)
_MISSING: Any = object()


class RowField:
    """One field of a row class (``Row.model_fields[name]``): its default, if any."""

    __slots__ = ("default", "name")

    def __init__(self, name: str, default: Any = _MISSING) -> None:
        self.name = name
        self.default = default

    def is_required(self) -> bool:
        return self.default is _MISSING

    def __repr__(self) -> str:
        return f"RowField({self.name!r}{'' if self.is_required() else f', default={self.default!r}'})"


def _is_classvar(v: Any) -> bool:
    return v is ClassVar or (isinstance(v, str) and v.startswith(("ClassVar", "typing.ClassVar")))


class _RowMeta(type):
    """Fields from the class annotations (after the base classes' fields), as ``__slots__``."""

    def __new__(mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any], **kw: Any):
        own = [k for k, v in ns.get("__annotations__", {}).items() if not _is_classvar(v)]
        inherited: tuple[str, ...] = ()
        defaults: dict[str, Any] = {}
        for b in reversed(bases):
            inherited += tuple(f for f in getattr(b, "_fields", ()) if f not in inherited)
            defaults.update(getattr(b, "_defaults", {}))
        for k in own:
            if k in ns:
                defaults[k] = ns.pop(k)
        ns["__slots__"] = tuple(k for k in own if k not in inherited)
        cls = super().__new__(mcls, name, bases, ns, **kw)
        fields = inherited + tuple(k for k in own if k not in inherited)
        cls._fields = fields  # type: ignore[attr-defined]
        cls._defaults = defaults  # type: ignore[attr-defined]
        cls._mutable = frozenset(k for k, v in defaults.items() if isinstance(v, _MUTABLE))  # type: ignore[attr-defined]
        cls.model_fields = {k: RowField(k, defaults.get(k, _MISSING)) for k in fields}  # type: ignore[attr-defined]
        if fields and "from_row" not in ns and cls.__setattr__ is object.__setattr__:
            cls.from_row = classmethod(_unpacking_builder(fields))  # type: ignore[attr-defined]
        return cls


def _unpacking_builder(fields: tuple[str, ...]) -> Any:
    """``from_row`` as one unpacking assignment to the fields (``o.a, o.b, = values``): each value
    stored by the interpreter's attribute store, about 7x faster than a loop of
    ``object.__setattr__`` calls (a 8,000-event timeline: 38 -> 5 ms).  Too few or too many values
    raise ``ValueError`` as the loop's ``zip(strict=True)`` did.  Not for a frozen row (its
    ``__setattr__`` refuses): that one keeps the loop.  The names are the class's own annotations."""
    src = f"def from_row(cls, values):\n    o = new(cls)\n    {', '.join('o.' + f for f in fields)}, = values\n    return o\n"
    ns: dict[str, Any] = {"new": object.__new__}
    exec(src, ns)  # noqa: S102 - identifiers from class annotations, as dataclasses does
    fn = ns["from_row"]
    fn.__doc__ = "A row from a result row whose columns are the fields, in order (no checks: the store's)."
    return fn


def _rebuild(cls: type[R], values: tuple[Any, ...]) -> R:
    return cls.from_row(values)


class Row(metaclass=_RowMeta):
    """Base of the store's read rows: attribute access, ``model_dump()``, ``model_copy()``, equality
    by type and values."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _mutable: ClassVar[frozenset[str]] = frozenset()
    #: the fields in order, with their defaults (``RowField``): the names are what callers iterate
    model_fields: ClassVar[dict[str, RowField]] = {}

    def __init__(self, **values: Any) -> None:
        setattr_ = object.__setattr__
        for name in self._fields:
            if name in values:
                setattr_(self, name, values.pop(name))
            elif name in self._defaults:
                v = self._defaults[name]
                setattr_(self, name, v.copy() if name in self._mutable else v)
            else:
                raise TypeError(f"{type(self).__name__}() missing field {name!r}")
        if values:
            raise TypeError(f"{type(self).__name__}() got unknown fields {sorted(values)}")
        self._check()

    def _check(self) -> None:
        """A subclass's checks of its values (``__init__`` runs them; the store's builders do not)."""

    @classmethod
    def from_row(cls: type[R], values: Iterable[Any]) -> R:
        """A row from a result row whose columns are the fields, in order (no checks: the store's)."""
        obj = cls.__new__(cls)
        setattr_ = object.__setattr__
        for name, v in zip(cls._fields, values, strict=True):
            setattr_(obj, name, v)
        return obj

    @classmethod
    def from_dict(cls: type[R], values: Mapping[str, Any]) -> R:
        """A row from a mapping of (correctly typed) field values; a missing one takes its default.
        No checks, and keys that are no field are ignored (the store's builders)."""
        obj = cls.__new__(cls)
        setattr_ = object.__setattr__
        defaults, mutable = cls._defaults, cls._mutable
        for name in cls._fields:
            if name in values:
                setattr_(obj, name, values[name])
            else:
                v = defaults.get(name, _MISSING)
                if v is _MISSING:
                    raise TypeError(f"{cls.__name__}: missing field {name!r}")
                setattr_(obj, name, v.copy() if name in mutable else v)
        return obj

    def model_dump(
        self,
        *,
        mode: str = "python",
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        exclude_none: bool = False,
    ) -> dict[str, Any]:
        """The row as the dict the store used to return (same keys, same order).  ``mode`` is
        accepted for pydantic's sake: the values are JSON types already."""
        names: Iterable[str] = self._fields
        if include is not None:
            inc = set(include)
            names = [n for n in names if n in inc]
        if exclude is not None:
            exc = set(exclude)
            names = [n for n in names if n not in exc]
        out = {name: getattr(self, name) for name in names}
        if exclude_none:
            out = {k: v for k, v in out.items() if v is not None}
        return out

    def model_copy(self: R, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> R:
        """A copy, with the fields in ``update`` replaced (not checked, as pydantic's)."""
        values = {name: getattr(self, name) for name in self._fields}
        if deep:
            import copy

            values = copy.deepcopy(values)
        if update:
            unknown = set(update) - set(self._fields)
            if unknown:
                raise TypeError(f"{type(self).__name__} has no fields {sorted(unknown)}")
            values.update(update)
        return type(self).from_dict(values)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable rows

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._fields)})"


class FrozenRow(Row):
    """A row whose fields cannot be set after it is built (e.g. a filter used as a cache key)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __hash__(self) -> int:  # type: ignore[override]
        return hash((type(self), tuple(tuple(v) if isinstance(v, list) else v for v in self._values())))
