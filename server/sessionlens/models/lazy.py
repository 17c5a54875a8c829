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
