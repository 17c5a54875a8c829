"""Seeded benchmark corpora, generated once and cached (a marker file records the parameters).

Three corpora are measured side by side (``python -m tests.perf.run`` reports their shapes next to
each other: events/MB, line-size percentiles, what their bytes are made of):

* ``generated``: :func:`sessionlens.samples.generator.generate_corpus` as the first round used it;
* ``real-shaped``: the same generator with :data:`~sessionlens.samples.generator.REAL_SHAPE`
  (images, large tool outputs, long single lines, hooks, sub-agent files);
* ``real``: the real Claude Code and Codex logs of ``SESSIONLENS_CORPUS`` copied again and again
  under fresh ids (every uuid and message / request / call id remapped per copy), so nothing
  deduplicates across copies.

Plus a many-small-files corpus for the no-change re-scan.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from sessionlens.samples import generator as gen
from sessionlens.samples import wordbank as wb

_UNITS = {"": 1, "B": 1, "KB": 1_000, "MB": 1_000_000, "GB": 1_000_000_000, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3}


def parse_size(text: str) -> int:
    """``"10MB"`` → 10_000_000, ``"1GB"`` → 1_000_000_000, ``"200MiB"``, ``"5000"``."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).upper() not in _UNITS:
        raise ValueError(f"bad size {text!r}; use e.g. 10MB, 200MB, 1GB")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _cached(root: Path, params: dict) -> bool:
    marker = root / ".perf-corpus.json"
    try:
        return json.loads(marker.read_text()) == params
    except (OSError, ValueError):
        return False


def _mark(root: Path, params: dict) -> None:
    (root / ".perf-corpus.json").write_text(json.dumps(params))


def main_corpus(root: Path, *, total_bytes: int, big_bytes: int | None, seed: int = 2026, shape: str = "generated") -> dict:
    """The Codex + Claude corpus (``root/codex``, ``root/claude``); returns facts about it."""
    params = {"kind": "main", "total": total_bytes, "big": big_bytes, "seed": seed, "generator": 1, "shape": shape}
    if shape == "generated":
        del params["shape"]  # caches made before shapes existed stay valid
    facts_path = root / ".perf-facts.json"
    if _cached(root, params) and facts_path.exists():
        return json.loads(facts_path.read_text())
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    info = gen.generate_corpus(root, seed=seed, total_bytes=total_bytes, big_file_bytes=big_bytes, shape=gen.SHAPES[shape])
    big = max(info.sessions, key=lambda s: s.bytes)
    files = [s.path for s in info.sessions] + [p for s in info.sessions for p in s.subagent_files]
    facts = {
        "root": str(root),
        "bytes": info.total_bytes,
        "files": info.files,
        "sessions": len(info.sessions),
        "codex_sessions": sum(1 for s in info.sessions if s.agent == "codex"),
        "claude_sessions": sum(1 for s in info.sessions if s.agent == "claude"),
        "lines": sum(s.lines for s in info.sessions),
        "shape": shape,
        "big_file": str(big.path),
        "big_file_bytes": big.bytes,
        "big_file_lines": big.lines,
        "generate_seconds": round(info.seconds, 2),
        "all_files": [str(p) for p in files],
    }
    facts_path.write_text(json.dumps(facts))
    _mark(root, params)
    return facts


def small_files_corpus(root: Path, *, files: int, seed: int = 99) -> int:
    """``files`` tiny sessions (~12 KB each, Codex and Claude alternating) under ``root``."""
    params = {"kind": "small", "files": files, "seed": seed, "generator": 1}
    if _cached(root, params):
        return files
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rng = random.Random(seed)
    for i in range(files):
        proj = wb.PROJECTS[i % len(wb.PROJECTS)]
        start = gen.DEFAULT_START + timedelta(minutes=i)
        d = root / f"d{i // 500:03d}"
        d.mkdir(exist_ok=True)
        make = gen.generate_codex_session if i % 2 else gen.generate_claude_session
        make(rng, path=d / f"s{i:05d}.jsonl", start=start, target_bytes=3000, cwd=f"/home/dev/projects/{proj.name}", project=proj)
    _mark(root, params)
    return files


# ---------------------------------------------------------------------------------------- the real corpus, copied
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_IDS = re.compile(rb"\b(msg|req|toolu|call|srvtoolu|agent_msg)_([A-Za-z0-9]{6,})")


def _remap(data: bytes, copy: int) -> bytes:
    """Every uuid and message/request/call id in ``data`` replaced by one of copy ``copy`` (same
    length, deterministic: the same id maps to the same new id within a copy)."""
    salt = f"{copy}:".encode()

    def new_uuid(m: re.Match) -> bytes:
        h = hashlib.blake2b(salt + m.group(0), digest_size=16).hexdigest().encode()
        return b"-".join((h[:8], h[8:12], b"4" + h[13:16], b"8" + h[17:20], h[20:32]))

    def new_id(m: re.Match) -> bytes:
        body = m.group(2)
        h = hashlib.blake2b(salt + body, digest_size=32).hexdigest().encode()
        return m.group(1) + b"_" + body[:4] + h[: max(len(body) - 4, 2)]

    return _IDS.sub(new_id, _UUID.sub(new_uuid, data))


def real_sources(corpus: Path) -> list[tuple[str, Path]]:
    """(agent, path) of the real Claude Code and Codex logs (sub-agent files included)."""
    out = []
    for agent in ("claude", "codex"):
        base = corpus / agent
        if base.is_dir():
            out += [(agent, p) for p in sorted(base.rglob("*.jsonl")) if p.is_file()]
    return out


def real_copies_corpus(root: Path, *, total_bytes: int, corpus: Path) -> dict | None:
    """The real logs copied under fresh ids until ``total_bytes`` (None without a real corpus)."""
    sources = real_sources(corpus)
    if not sources:
        return None
    params = {
        "kind": "real-copies",
        "total": total_bytes,
        "corpus": str(corpus),
        "version": 1,
        "sources": [[str(p), p.stat().st_size] for _, p in sources],
    }
    facts_path = root / ".perf-facts.json"
    if _cached(root, params) and facts_path.exists():
        return json.loads(facts_path.read_text())
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    blobs = [(agent, p.relative_to(corpus / agent), p.read_bytes()) for agent, p in sources]
    files: list[str] = []
    written = copy = 0
    while written < total_bytes:
        for agent, rel, data in blobs:
            new = _remap(data, copy)
            name = _remap(str(rel).encode(), copy).decode()
            if agent == "codex":  # CODEX_HOME/sessions/YYYY/MM/DD/<name>
                dest = root / "codex" / "sessions" / "2026" / "02" / f"{1 + copy % 28:02d}" / f"c{copy:04d}-{name.replace('/', '-')}"
            else:  # one Claude project folder per source folder and copy; sub-agent folders kept as they are
                top, _, restp = name.partition("/")
                dest = root / "claude" / "projects" / f"-home-dev-{top}-{copy:04d}" / restp
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(new)
            files.append(str(dest))
            written += len(new)
        copy += 1
    facts = {
        "root": str(root),
        "bytes": written,
        "files": len(files),
        "copies": copy,
        "shape": "real",
        "source_files": len(sources),
        "all_files": files,
    }
    facts_path.write_text(json.dumps(facts))
    _mark(root, params)
    return facts


# ---------------------------------------------------------------------------------------- shape of a corpus
def _kind(obj: Any) -> str:
    if not isinstance(obj, dict):
        return "other"
    t = str(obj.get("type"))
    p = obj.get("payload")
    if isinstance(p, dict):
        return f"codex {t}/{p.get('type', '')}".rstrip("/")
    if t in ("user", "assistant"):
        c = (obj.get("message") or {}).get("content") if isinstance(obj.get("message"), dict) else None
        if isinstance(c, list) and c and isinstance(c[0], dict):
            return f"claude {t}/{c[0].get('type')}"
        return f"claude {t}/text"
    return f"claude {t}"


def shape_of(root: Path, *, sample_bytes: int = 200_000_000) -> dict:
    """Line sizes (p50/p90/p99/max), files, sub-agent files, and the share of bytes in lines over
    64 KB, in base64 images and per line kind, over the ``*.jsonl`` files under ``root`` (at most
    ``sample_bytes`` read, spread over the files, so this stays quick on 10 GB)."""
    paths = sorted(p for p in Path(root).rglob("*.jsonl") if p.is_file())
    total = sum(p.stat().st_size for p in paths)
    step = max(1, round(total / sample_bytes)) if sample_bytes and total > sample_bytes else 1
    sizes: list[int] = []
    kinds: dict[str, int] = {}
    big = images = read = 0
    for i, p in enumerate(paths):
        if i % step:
            continue
        with open(p, "rb") as f:
            for line in f:
                n = len(line)
                sizes.append(n)
                read += n
                if n > 65536:
                    big += n
                if b";base64," in line or b'"base64"' in line:
                    images += n
                if n > 2_000_000:  # a huge line's kind from its start
                    k = "huge line"
                else:
                    try:
                        k = _kind(json.loads(line))
                    except ValueError:
                        k = "not JSON"
                kinds[k] = kinds.get(k, 0) + n
    sizes.sort()

    def q(x: float) -> int:
        return sizes[min(len(sizes) - 1, int(x * len(sizes)))] if sizes else 0

    top = sorted(kinds.items(), key=lambda kv: -kv[1])[:6]
    return {
        "files": len(paths),
        "subagent_files": sum(1 for p in paths if "subagents" in p.parts),
        "bytes": total,
        "sampled_bytes": read,
        "lines": len(sizes),
        "line_p50": q(0.5),
        "line_p90": q(0.9),
        "line_p99": q(0.99),
        "line_max": sizes[-1] if sizes else 0,
        "share_lines_over_64k": round(big / read, 3) if read else 0.0,
        "share_image_lines": round(images / read, 3) if read else 0.0,
        "top_kinds": [[k, round(v / read, 3)] for k, v in top] if read else [],
    }


def corpus_path() -> Path:
    return Path(os.environ.get("SESSIONLENS_CORPUS") or Path(__file__).resolve().parents[3] / "shared" / "corpus")
