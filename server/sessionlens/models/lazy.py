"""Modules imported on first use, for the one-shot commands' start-up.

A read command is a new process each time, and what it imports is most of its time: ``orjson``
alone pulls in ``dataclasses``, ``inspect``, ``ast`` and ``uuid`` (~17 ms of a ~60 ms
``sessionlens cost``), though the report decodes no JSON column.  ``lazy_module("orjson")`` stands
in for the module until an attribute is read, then caches each attribute it hands out on itself, so
a hot loop reads a plain instance attribute, as fast as a module's.  Type checkers see the real
module (``if TYPE_CHECKING: import orjson`` / ``else: orjson = lazy_module("orjson")``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


class LazyModule:
    """Stands in for module ``name``; imports it when the first attribute is read."""

    def __init__(self, name: str) -> None:
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str) -> Any:  # only for attributes not cached yet
        value = getattr(importlib.import_module(self.__dict__["_lazy_name"]), attr)
        self.__dict__[attr] = value
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


def lazy_module(name: str) -> Any:
    return LazyModule(name)


class LazyLogger:
    """Stands in for ``logging.getLogger(name)``; imports :mod:`logging` (~8 ms with ``traceback``,
    ``threading`` and ``string``) when a method is first called, then caches it.  The CLI configures
    logging the moment anything imports it (``cli._LoggingOnImport``), so a record looks the same."""

    def __init__(self, name: str) -> None:
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str) -> Any:  # only for attributes not cached yet
        import logging

        value = getattr(logging.getLogger(self.__dict__["_lazy_name"]), attr)
        if callable(value):  # a bound method of the one logger of that name; plain values are read anew
            self.__dict__[attr] = value
        return value

    def __repr__(self) -> str:
        return f"<lazy logger {self.__dict__['_lazy_name']!r}>"


def lazy_logger(name: str) -> Any:
    return LazyLogger(name)


def lazy_exports(
    package: str, namespace: dict[str, Any], homes: Mapping[str, str], submodules: frozenset[str] = frozenset()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """PEP 562 ``__getattr__`` and ``__dir__`` for a package whose names load on first use:
    ``homes`` maps each name to the module defining it (a name read is kept in ``namespace``, the
    package's globals); ``submodules`` are also reachable as attributes (``package.text``).

    ``__getattr__, __dir__ = lazy_exports(__name__, globals(), {...})``"""

    def getattr_(name: str) -> Any:
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *homes})

    return getattr_, dir_
