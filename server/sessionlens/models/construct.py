"""Building models without validation on hot paths (parsing, reading events back)."""

from __future__ import annotations

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
