"""The client side of ``sessionlens push``: which local logs to ship, and their lines with secrets
redacted before anything leaves the machine.

A chunk covers the source bytes ``[offset, end)`` of one file and always ends at a line end, so the
hub can acknowledge a retried chunk by its offsets alone.  Redaction is deterministic (the same
line always redacts to the same text), which keeps a retry byte-identical.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from sessionlens.coach.redact import redact, redact_obj
from sessionlens.services.app import App

CHUNK_BYTES = 512 * 1024
NAME_OK = re.compile(r"[^A-Za-z0-9._\-]")


def machine_name() -> str:
    return (NAME_OK.sub("-", socket.gethostname()) or "machine")[:64].lstrip(".-_") or "machine"


def project_name(value: str | None) -> str:
    v = NAME_OK.sub("-", Path(value).name if value else "")[:64].lstrip(".-_")
    return v or "default"


def file_key(machine: str, path: str) -> str:
    return hashlib.sha256(f"{machine}\0{os.path.abspath(path)}".encode()).hexdigest()


@dataclass
class PushFile:
    path: str
    key: str
    project: str
    source_name: str
    size: int


def candidates(app: App, *, machine: str, project: str | None = None, paths: list[str] | None = None) -> list[PushFile]:
    """The indexed JSONL session logs (optionally only those under ``paths``), with their hub project."""
    roots = [os.path.abspath(os.path.expanduser(p)) for p in paths or []]
    out = []
    seen: set[str] = set()
    for s in app.db().list_sessions(limit=1_000_000):
        path = s.path
        if path in seen or not path.endswith(".jsonl"):
            continue  # compressed logs and database sources are not pushed (yet)
        if roots and not any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots):
            continue
        seen.add(path)
        try:
            size = os.path.getsize(path)
        except OSError:
            continue
        out.append(
            PushFile(
                path=path,
                key=file_key(machine, path),
                project=project or project_name(s.project),
                source_name=Path(path).name,
                size=size,
            )
        )
    return sorted(out, key=lambda f: f.path)


def redact_line(raw: bytes) -> str:
    """One log line (without its newline), secrets redacted; JSON stays JSON."""
    text = raw.decode("utf-8", errors="replace")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return redact(text).replace("\n", " ")
    return orjson.dumps(redact_obj(obj)).decode()


def read_chunk(path: str, offset: int, *, redact_secrets: bool = True, limit: int | None = None) -> tuple[int, str] | None:
    """Complete lines from ``offset``: (end offset, text to send); None when no complete line is there yet."""
    limit = limit or CHUNK_BYTES
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read(limit)
        if len(data) == limit:
            cut = data.rfind(b"\n")
            if cut < 0:  # one line longer than the limit: read on to its end
                more = bytearray(data)
                while True:
                    block = fh.read(limit)
                    if not block:
                        break
                    more += block
                    if b"\n" in block:
                        break
                data = bytes(more)
    cut = data.rfind(b"\n")
    if cut < 0:
        return None
    data = data[: cut + 1]
    lines = data.split(b"\n")[:-1]
    if redact_secrets:
        text = "".join(redact_line(ln) + "\n" if ln.strip() else "\n" for ln in lines)
    else:
        text = data.decode("utf-8", errors="replace")
    return offset + len(data), text


def payload(f: PushFile, machine: str, offset: int, end: int, text: str) -> dict[str, Any]:
    return {
        "file_key": f.key,
        "machine": machine,
        "project": f.project,
        "source_name": f.source_name,
        "offset": offset,
        "end": end,
        "data": text,
    }
