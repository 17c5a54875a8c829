"""The generator's shapes: the classic output is what it always was, the real shape adds what real homes
hold (images on one line, large outputs, long single lines, hooks, sub-agent files) and still parses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessionlens.ingest import parse_file
from sessionlens.samples import generator as gen


@pytest.fixture(scope="module")
def real_shaped(tmp_path_factory) -> gen.CorpusInfo:
    return gen.generate_corpus(tmp_path_factory.mktemp("real"), seed=5, total_bytes=12_000_000, shape=gen.REAL_SHAPE)


def _bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.jsonl"))}


def test_the_classic_shape_is_the_default(tmp_path):
    a = gen.generate_corpus(tmp_path / "a", seed=3, total_bytes=400_000)
    b = gen.generate_corpus(tmp_path / "b", seed=3, total_bytes=400_000, shape=gen.CLASSIC_SHAPE)
    assert _bytes(a.root) == _bytes(b.root)
    assert not any(b";base64," in v or b'"base64"' in v for v in _bytes(a.root).values())


def test_real_shape_holds_images_long_lines_and_hooks(real_shaped):
    files = _bytes(real_shaped.root)
    lines = [ln for data in files.values() for ln in data.splitlines()]
    images = [ln for ln in lines if b"data:image/png;base64," in ln or b'"media_type":"image/png"' in ln]
    assert images, "no pasted or read image"
    for ln in images:
        obj = json.loads(ln)  # one JSON line each, whatever its size
        assert isinstance(obj, dict)
    assert max(len(ln) for ln in lines) > 100_000  # a large output or an image: one long line
    assert any(b"hook_progress" in ln for ln in lines)
    assert any("/subagents/" in name for name in files)
    # same seed, same bytes
    assert real_shaped.total_bytes == sum(len(v) for v in files.values())


def test_real_shape_parses_with_images_kept_out_of_text(real_shaped):
    s = next(x for x in real_shaped.sessions if x.agent == "claude")
    res = parse_file(str(s.path))
    assert res is not None and res.events and not [p for p in res.problems if p.severity == "error"]
    for info in real_shaped.sessions:
        r = parse_file(str(info.path))
        assert r is not None
        for ev in r.events:  # images never land in the searchable text as base64
            assert ";base64," not in (ev.text or "")
