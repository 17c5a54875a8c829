"""Source positions of values in a JSON text, to put validation errors where they belong."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Path = tuple[Any, ...]


@dataclass
class Span:
    start: int  # character offsets into the text
    end: int
    key_start: int | None = None  # the member's key, for object members
    key_end: int | None = None


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.spans: dict[Path, Span] = {}
        self.dec = json.JSONDecoder()

    def ws(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in " \t\r\n":
            i += 1
        return i

    def value(self, i: int, path: Path, key: tuple[int, int] | None = None) -> int:
        i = self.ws(i)
        start = i
        ch = self.text[i] if i < len(self.text) else ""
        if ch == "{":
            i = self.ws(i + 1)
            if self.text[i] == "}":
                i += 1
            else:
                while True:
                    i = self.ws(i)
                    k, kend = self.dec.raw_decode(self.text, i)
                    kstart = i
                    i = self.ws(kend)
                    i = self.ws(i + 1)  # ':'
                    i = self.value(i, path + (k,), (kstart, kend))
                    i = self.ws(i)
                    if self.text[i] == ",":
                        i += 1
                        continue
                    i += 1  # '}'
                    break
        elif ch == "[":
            i = self.ws(i + 1)
            if self.text[i] == "]":
                i += 1
            else:
                n = 0
                while True:
                    i = self.value(i, path + (n,))
                    n += 1
                    i = self.ws(i)
                    if self.text[i] == ",":
                        i += 1
                        continue
                    i += 1
                    break
        else:
            _, i = self.dec.raw_decode(self.text, i)
        self.spans[path] = Span(start, i, *(key or (None, None)))
        return i


def spans(text: str) -> dict[Path, Span]:
    """Spans of every value by JSON path; call only on text that ``json.loads`` accepts."""
    p = _Parser(text)
    p.value(0, ())
    return p.spans


def locate(text: str, data: Any, loc: Path) -> Span:
    """The span of the deepest existing value along a pydantic error ``loc``.

    Discriminated-union tags in ``loc`` (e.g. ``("checks", 0, "limit", "max")``) are skipped; a
    missing member highlights the object's key.
    """
    table = spans(text)
    node: Any = data
    path: tuple[str | int, ...] = ()
    for comp in loc:
        if isinstance(node, dict) and isinstance(comp, str) and comp in node:
            node, path = node[comp], path + (comp,)
        elif isinstance(node, list) and isinstance(comp, int) and 0 <= comp < len(node):
            node, path = node[comp], path + (comp,)
        elif isinstance(node, dict) and isinstance(comp, str) and node.get("kind") == comp:
            continue
        else:
            break
    span = table.get(path) or Span(0, 0)
    if isinstance(node, (dict, list)) and span.key_start is not None:
        return Span(span.key_start, span.key_end or span.key_start, span.key_start, span.key_end)
    if isinstance(node, (dict, list)) and path == ():
        return Span(span.start, min(span.start + 1, span.end))
    return span


def position(text: str, offset: int) -> tuple[int, int]:
    """(0-based line, UTF-16 column) of a character offset."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    col = len(text[start:offset].encode("utf-16-le")) // 2
    return line, col
