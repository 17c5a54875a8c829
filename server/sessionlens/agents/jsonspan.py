"""Line spans of the values in a JSON document, for events that point into a pretty-printed file.

``spans(text, depth)`` maps a path (``("messages", 3, "toolCalls", 0)``) to ``(first line, last
line)`` (1-based) for every object and array value up to ``depth`` levels deep, and for object
members also the line of their key.  It only tracks structure (strings are skipped by a regular
expression); the values themselves come from a real JSON parser.  Pure, no I/O.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]', re.S)

Path = tuple[Any, ...]


def spans(text: str, depth: int = 4) -> dict[Path, tuple[int, int]]:
    """``{path: (start_line, end_line)}`` of containers (and ``path + ("@key",)`` -> key line)."""
    out: dict[Path, tuple[int, int]] = {}
    # stack entries: [path, is_object, next_index, pending_key, start_line]
    stack: list[list[Any]] = []
    line = 1
    pos = 0
    last_key: str | None = None
    expect_key = False
    for m in _TOKEN.finditer(text):
        start = m.start()
        line += text.count("\n", pos, start)
        pos = start
        tok = m.group()
        c = tok[0]
        if c == '"':
            if stack and stack[-1][1] and expect_key:
                last_key = tok[1:-1]
                if len(stack[-1][0]) < depth:
                    out[stack[-1][0] + (last_key, "@key")] = (line, line)
            continue
        if c == ":":
            expect_key = False
            continue
        if c == ",":
            if stack:
                if stack[-1][1]:
                    expect_key = True
                else:
                    stack[-1][2] += 1  # the next array element
            continue
        if c in "{[":
            if stack:
                parent = stack[-1]
                key: Any = last_key if parent[1] else parent[2]
                path = parent[0] + (key,)
            else:
                path = ()
            stack.append([path, c == "{", 0, None, line])
            expect_key = c == "{"
            continue
        # } or ]
        if not stack:
            break
        path, _is_obj, _n, _k, first = stack.pop()
        if len(path) <= depth:
            out[path] = (first, line)
        expect_key = False
    return out


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
