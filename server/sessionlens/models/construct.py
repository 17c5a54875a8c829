"""Building models without validation on hot paths (parsing, reading events back)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_FIELDS_SET: dict[type, set[str]] = {}


def construct(cls: Any, values: dict[str, Any]) -> Any:
    """``model_construct`` minus its per-call overhead; ``values`` holds every field, already
    correctly typed.  All objects of a class share one fields-set (it already names every field,
    so pydantic never needs to add to it): a set of 27 names per event would cost 2 KB and half a
    microsecond each."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    fs = _FIELDS_SET.get(cls)
    if fs is None:
        fs = _FIELDS_SET[cls] = set(cls.model_fields)
    object.__setattr__(obj, "__pydantic_fields_set__", fs)
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


_NAMES: dict[type, tuple[str, ...]] = {}


def construct_shared(cls: Any, values: Sequence[Any]) -> Any:
    """``construct`` for objects held by the hundred thousand (a huge file's events read back for the
    coach): ``values`` are every field's, in the class's field order, set one by one, so CPython keeps
    the names in the class's shared-key table and each object stores its values only (about 300
    bytes instead of 830 for an event's 28 fields; no dict is built on the way)."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(cls.model_fields)
    if len(values) != len(names):
        raise ValueError(f"{cls.__name__}: {len(values)} values for {len(names)} fields")
    obj = cls.__new__(cls)
    setattr_ = object.__setattr__
    for k, v in zip(names, values):
        setattr_(obj, k, v)
    fs = _FIELDS_SET.get(cls)
    if fs is None:
        fs = _FIELDS_SET[cls] = set(cls.model_fields)
    setattr_(obj, "__pydantic_fields_set__", fs)
    setattr_(obj, "__pydantic_extra__", None)
    setattr_(obj, "__pydantic_private__", None)
    return obj


def prime_shared(cls: Any) -> None:
    """Fill ``cls``'s shared-key table with its field names, in order, before anything else sets an
    object's attributes one by one: a copied or unpickled model (``copy``/``pickle`` set them in
    their own order) would otherwise claim the table and leave ``construct_shared``'s objects with
    ordinary dicts.  Call it right after the class is defined."""
    construct_shared(cls, (None,) * len(cls.model_fields))
