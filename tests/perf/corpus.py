"""Seeded benchmark corpora, generated once and cached (a marker file records the parameters).

Wraps :func:`sessionlens.samples.generator.generate_corpus`, whose Codex and Claude shapes are
calibrated on the real corpus, and adds a many-small-files corpus for the no-change re-scan.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from datetime import timedelta
from pathlib import Path

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


def main_corpus(root: Path, *, total_bytes: int, big_bytes: int | None, seed: int = 2026) -> dict:
    """The Codex + Claude corpus (``root/codex``, ``root/claude``); returns facts about it."""
    params = {"kind": "main", "total": total_bytes, "big": big_bytes, "seed": seed, "generator": 1}
    facts_path = root / ".perf-facts.json"
    if _cached(root, params) and facts_path.exists():
        return json.loads(facts_path.read_text())
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    info = gen.generate_corpus(root, seed=seed, total_bytes=total_bytes, big_file_bytes=big_bytes)
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
