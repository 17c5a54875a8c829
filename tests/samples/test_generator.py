"""Tests for the seeded sample-log generator (server/sessionlens/samples/generator.py)."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sessionlens.ingest import parse_file
from sessionlens.samples import generator as gen
from sessionlens.samples import wordbank as wb
from tests.samples.measure_corpus import claude_line_type, codex_line_type

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
CWD = "/home/dev/projects/inventory-api"


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.jsonl"))}


def _lines(path: Path) -> list[dict]:
    return [json.loads(raw) for raw in path.read_bytes().splitlines()]


def _codex_files(root: Path) -> list[Path]:
    return sorted((root / "codex").rglob("*.jsonl"))


def _claude_files(root: Path) -> list[Path]:
    return sorted((root / "claude").rglob("*.jsonl"))


@pytest.fixture(scope="module")
def corpus_2mb(tmp_path_factory) -> gen.CorpusInfo:
    return gen.generate_corpus(tmp_path_factory.mktemp("gen2mb"), seed=11, total_bytes=2_000_000)


@pytest.fixture(scope="module")
def long_sessions(tmp_path_factory) -> tuple[gen.GeneratedInfo, gen.GeneratedInfo]:
    """A long Codex and a long Claude session: long enough for compaction and sub-agents."""
    root = tmp_path_factory.mktemp("long")
    codex = gen.generate_codex_session(
        random.Random(5), path=root / "codex" / "rollout.jsonl", start=START, target_bytes=4_000_000, cwd=CWD, problems=gen.PROBLEMS
    )
    sid = "5b0c1c36-57c2-4c5e-9b39-1f6a3f0e2f11"
    claude = gen.generate_claude_session(
        random.Random(5),
        path=root / "claude" / gen.escape_cwd(CWD) / f"{sid}.jsonl",
        start=START,
        target_bytes=4_000_000,
        cwd=CWD,
        problems=gen.PROBLEMS,
    )
    return codex, claude


# ------------------------------------------------------------------------------ determinism


def test_same_seed_gives_identical_bytes(tmp_path):
    a = gen.generate_corpus(tmp_path / "a", seed=3, total_bytes=400_000)
    b = gen.generate_corpus(tmp_path / "b", seed=3, total_bytes=400_000)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert len(_digest(tmp_path / "a")) == a.files == b.files


def test_different_seed_gives_different_bytes(tmp_path):
    gen.generate_corpus(tmp_path / "a", seed=3, total_bytes=300_000)
    gen.generate_corpus(tmp_path / "b", seed=4, total_bytes=300_000)
    assert set(_digest(tmp_path / "a").values()).isdisjoint(_digest(tmp_path / "b").values())


@pytest.mark.parametrize("fn", [gen.generate_codex_session, gen.generate_claude_session])
def test_session_functions_are_deterministic(tmp_path, fn):
    out = []
    for name in ("x", "y"):
        path = tmp_path / name / "11111111-2222-4333-8444-555555555555.jsonl"
        fn(random.Random(42), path=path, start=START, turns=4, cwd=CWD)
        out.append(path.read_bytes())
    assert out[0] == out[1]


# ------------------------------------------------------------------------------ layout + size


def test_corpus_layout(corpus_2mb):
    root = corpus_2mb.root
    codex = _codex_files(root)
    claude = [p for p in _claude_files(root) if "subagents" not in p.parts]
    assert codex and claude
    for p in codex:
        rel = p.relative_to(root / "codex" / "sessions")
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.jsonl", str(rel)), rel
        meta = _lines(p)[0]
        assert meta["type"] == "session_meta" and p.stem.endswith(meta["payload"]["id"])
    projects = set()
    for p in claude:
        rel = p.relative_to(root / "claude" / "projects")
        first = next(o for o in _lines(p) if "cwd" in o)
        assert rel.parts[0] == gen.escape_cwd(first["cwd"]) and p.stem == first["sessionId"]
        projects.add(first["cwd"])
    assert len(projects | {_lines(p)[0]["payload"]["cwd"] for p in codex}) >= 3
    days = {p.relative_to(root / "codex" / "sessions").parts[:3] for p in codex}
    assert len(days) >= 2


def test_corpus_total_bytes_within_ten_percent(corpus_2mb):
    on_disk = sum(p.stat().st_size for p in corpus_2mb.root.rglob("*.jsonl"))
    assert on_disk == corpus_2mb.total_bytes
    assert 0.9 * 2_000_000 <= on_disk <= 1.1 * 2_000_000


@pytest.mark.parametrize("fn", [gen.generate_codex_session, gen.generate_claude_session])
@pytest.mark.parametrize("target", [60_000, 300_000, 2_000_000])
def test_target_bytes_honoured(tmp_path, fn, target):
    path = tmp_path / "0a0b0c0d-1111-4222-8333-444455556666.jsonl"
    info = fn(random.Random(target), path=path, start=START, target_bytes=target, cwd=CWD)
    assert info.bytes == path.stat().st_size
    assert 0.9 * target <= info.bytes <= 1.1 * target


def test_turns_parameter(tmp_path):
    info = gen.generate_codex_session(random.Random(1), path=tmp_path / "c.jsonl", start=START, turns=3, cwd=CWD)
    starts = [o for o in _lines(tmp_path / "c.jsonl") if o["type"] == "event_msg" and o["payload"]["type"] == "task_started"]
    assert info.turns == len(starts) == 3


def test_big_file(tmp_path):
    info = gen.generate_corpus(tmp_path, seed=2, total_bytes=3_000_000, big_file_bytes=2_000_000)
    big = max(info.sessions, key=lambda s: s.bytes)
    assert big.agent == "codex" and 1_800_000 <= big.bytes <= 2_200_000
    assert 2_700_000 <= info.total_bytes <= 3_300_000


def test_parse_size_and_cli(tmp_path, capsys):
    assert gen.parse_size("200MB") == 200_000_000
    assert gen.parse_size("1.5 MiB") == int(1.5 * 2**20)
    assert gen.parse_size("512") == 512
    for bad in ("", "ten", "5XB", "0MB"):
        with pytest.raises(ValueError):
            gen.parse_size(bad)
    assert gen.main(["--out", str(tmp_path), "--size", "150KB", "--seed", "9"]) == 0
    assert "sessions" in capsys.readouterr().out
    assert list(tmp_path.rglob("*.jsonl"))
    with pytest.raises(SystemExit) as exc:
        gen.main(["--out", str(tmp_path), "--size", "lots"])
    assert exc.value.code == 2


def test_sample_home(tmp_path):
    dest = gen.sample_home(tmp_path / "home")
    assert dest == tmp_path / "home"
    size = sum(p.stat().st_size for p in dest.rglob("*.jsonl"))
    assert 1_000_000 <= size <= 2_000_000
    assert _codex_files(dest) and _claude_files(dest)
    again = gen.sample_home(tmp_path / "home2")
    assert _digest(dest) == _digest(again)


# ------------------------------------------------------------------------------ format shapes


def _key_sets(paths: list[Path], typer, nested) -> tuple[dict[str, set], dict[str, set]]:
    """Union and intersection of key sets per line type (and per nested object, e.g. ``:payload``)."""
    union: dict[str, set] = defaultdict(set)
    inter: dict[str, set] = {}
    for path in paths:
        for obj in _lines(path):
            lt = typer(obj)
            for name, d in [("", obj), *nested(obj)]:
                if not isinstance(d, dict):
                    continue
                key = lt + name
                union[key] |= set(d)
                inter[key] = set(d) if key not in inter else inter[key] & set(d)
    return union, inter


def _codex_nested(obj):
    p = obj.get("payload") or {}
    out = [(":payload", p)]
    if obj.get("type") == "event_msg" and p.get("type") == "token_count":
        info = p.get("info") or {}
        out += [
            (":info", p.get("info")),
            (":rate_limits", p.get("rate_limits")),
            (":total_token_usage", info.get("total_token_usage")),
            (":last_token_usage", info.get("last_token_usage")),
        ]
    if obj.get("type") == "session_meta":
        out.append((":git", p.get("git")))
    return out


def _claude_nested(obj):
    out = []
    msg = obj.get("message")
    if isinstance(msg, dict):
        out.append((":message", msg))
        if obj.get("type") == "assistant":
            out.append((":usage", msg.get("usage")))
            out += [(f":block:{b.get('type')}", b) for b in msg.get("content") or []]
    if obj.get("type") == "progress":
        out.append((":data", obj.get("data")))
    if obj.get("type") == "file-history-snapshot":
        out.append((":snapshot", obj.get("snapshot")))
    return out


def _claude_tool_results(paths: list[Path]) -> dict[str, set]:
    """toolUseResult key union per tool name."""
    names: dict[str, str] = {}
    out: dict[str, set] = defaultdict(set)
    for path in paths:
        for obj in _lines(path):
            if obj.get("type") == "assistant":
                for b in obj["message"]["content"]:
                    if b.get("type") == "tool_use":
                        names[b["id"]] = b["name"]
            elif claude_line_type(obj) == "user/tool_result" and isinstance(obj.get("toolUseResult"), dict):
                out[names.get(obj["message"]["content"][0]["tool_use_id"], "?")] |= set(obj["toolUseResult"])
    return out


def _compare(gen_union, corpus_union, corpus_inter, skip=()):
    compared = 0
    for key, keys in gen_union.items():
        if key not in corpus_union or any(key.startswith(s) for s in skip):
            continue
        compared += 1
        extra = keys - corpus_union[key]
        missing = corpus_inter[key] - keys
        assert not extra, f"{key}: keys never seen in the real corpus: {sorted(extra)}"
        assert not missing, f"{key}: keys every real line has: {sorted(missing)}"
    return compared


def test_codex_line_keys_match_corpus(corpus, corpus_2mb, long_sessions):
    real = sorted((corpus / "codex").rglob("*.jsonl"))
    ours = _codex_files(corpus_2mb.root) + [long_sessions[0].path]
    cu, ci = _key_sets(real, codex_line_type, _codex_nested)
    gu, _ = _key_sets(ours, codex_line_type, _codex_nested)
    for needed in (
        "session_meta",
        "turn_context",
        "compacted",
        "event_msg/token_count",
        "event_msg/task_started",
        "event_msg/task_complete",
        "event_msg/user_message",
        "event_msg/agent_message",
        "event_msg/agent_reasoning",
        "event_msg/context_compacted",
        "event_msg/turn_aborted",
        "response_item/message",
        "response_item/reasoning",
        "response_item/function_call",
        "response_item/function_call_output",
        "response_item/custom_tool_call",
        "response_item/custom_tool_call_output",
        "response_item/web_search_call",
    ):
        assert needed in gu, f"generator never wrote {needed}"
    assert _compare(gu, cu, ci) >= 20


def test_claude_line_keys_match_corpus(corpus, corpus_2mb, long_sessions):
    real = sorted((corpus / "claude").rglob("*.jsonl"))
    ours = _claude_files(corpus_2mb.root) + [long_sessions[1].path, *long_sessions[1].subagent_files]
    cu, ci = _key_sets(real, claude_line_type, _claude_nested)
    gu, _ = _key_sets(ours, claude_line_type, _claude_nested)
    for needed in (
        "user/prompt",
        "user/tool_result",
        "assistant/text",
        "assistant/thinking",
        "assistant/tool_use",
        "progress/bash_progress",
        "progress/agent_progress",
        "progress/hook_progress",
        "file-history-snapshot",
        "system/turn_duration",
        "system/compact_boundary",
        "summary",
    ):
        assert needed in gu, f"generator never wrote {needed}"
    assert _compare(gu, cu, ci) >= 20
    real_results = _claude_tool_results(real)
    for tool, keys in _claude_tool_results(ours).items():
        assert tool in real_results, tool
        assert keys <= real_results[tool], f"{tool} toolUseResult keys never seen: {sorted(keys - real_results[tool])}"


def test_every_line_is_json_with_envelope(corpus_2mb):
    for path in _codex_files(corpus_2mb.root):
        for obj in _lines(path):
            assert set(obj) == {"timestamp", "type", "payload"}
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["timestamp"])
    for path in _claude_files(corpus_2mb.root):
        for obj in _lines(path):
            if obj["type"] not in ("summary", "file-history-snapshot"):
                assert {"uuid", "parentUuid", "sessionId", "timestamp", "cwd", "isSidechain"} <= set(obj), obj["type"]


# ------------------------------------------------------------------------------ semantics


def test_codex_token_counts_repeat_like_real_codex(long_sessions):
    totals = [
        o["payload"]["info"]["total_token_usage"]
        for o in _lines(long_sessions[0].path)
        if o["type"] == "event_msg" and o["payload"]["type"] == "token_count" and o["payload"]["info"]
    ]
    repeats = sum(1 for a, b in zip(totals, totals[1:]) if a == b)
    assert 0.3 <= repeats / len(totals) <= 0.6  # corpus: 334 of 673
    assert totals[-1] == long_sessions[0].token_total
    for a, b in zip(totals, totals[1:]):
        assert all(b[k] >= a[k] for k in a)


def test_claude_responses_split_per_block(long_sessions):
    groups: dict[str, list[int]] = defaultdict(list)
    for obj in _lines(long_sessions[1].path):
        if obj["type"] == "assistant":
            assert len(obj["message"]["content"]) == 1
            groups[obj["message"]["id"] + obj["requestId"]].append(obj["message"]["usage"]["output_tokens"])
    multi = [g for g in groups.values() if len(g) > 1]
    assert multi, "no response was split over several lines"
    assert all(g == sorted(g) for g in multi)


def test_subagent_files(long_sessions):
    info = long_sessions[1]
    assert info.subagent_files
    for sub in info.subagent_files:
        assert sub.parent == info.path.parent / info.session_id / "subagents"
        assert re.fullmatch(r"agent-a(compact-)?[0-9a-f]{6}\.jsonl", sub.name), sub.name
        agent_id = sub.stem.removeprefix("agent-")
        for obj in _lines(sub):
            assert obj["isSidechain"] is True and obj["sessionId"] == info.session_id and obj["agentId"] == agent_id
    parent = _lines(info.path)
    tasks = [o for o in parent if o["type"] == "assistant" and o["message"]["content"][0].get("name") == "Task"]
    progress = [o for o in parent if o["type"] == "progress" and o["data"]["type"] == "agent_progress"]
    assert tasks and progress
    assert {o["data"]["agentId"] for o in progress} <= {p.stem.removeprefix("agent-") for p in info.subagent_files}


def test_claude_failures_and_rejections(corpus_2mb, long_sessions):
    texts = b"".join(p.read_bytes() for p in _claude_files(corpus_2mb.root)) + long_sessions[1].path.read_bytes()
    assert b'"toolUseResult":"User rejected tool use"' in texts
    assert b'"is_error":true' in texts and b'"toolUseResult":"Error: Exit code' in texts
    assert b'"isCompactSummary":true' in long_sessions[1].path.read_bytes()


# ------------------------------------------------------------------------------ seeded problems


def _codex_commands(path: Path) -> list[tuple[str, str]]:
    calls, outputs = {}, {}
    order = []
    for obj in _lines(path):
        p = obj["payload"]
        if obj["type"] != "response_item":
            continue
        if p["type"] in ("function_call", "custom_tool_call"):
            calls[p["call_id"]] = json.loads(p["arguments"]).get("cmd", "") if p["type"] == "function_call" else "apply_patch"
            order.append(p["call_id"])
        elif p["type"] in ("function_call_output", "custom_tool_call_output"):
            outputs[p["call_id"]] = p["output"]
    return [(calls[c], outputs.get(c, "")) for c in order]


def test_problems_are_present(long_sessions, tmp_path):
    codex = long_sessions[0]
    cmds = _codex_commands(codex.path)
    failing = [(c, o.split("Output:\n", 1)[-1]) for c, o in cmds if "Process exited with code 0" not in o and c != "apply_patch"]
    assert any(failing.count(f) >= 3 for f in failing), "no command failing the same way 3 times"
    last_patch = max(i for i, (c, _) in enumerate(cmds) if c == "apply_patch")
    test_words = ("pytest", "npm test", "vitest", "jest", "go test", "cargo test", "nextest")
    assert not any(any(w in c for w in test_words) for c, _ in cmds[last_patch + 1 :]), "tests ran after the last edit"
    assert max(len(o) for _, o in cmds) >= 48_000
    raw = codex.path.read_bytes()
    assert wb.SECRET_TOKEN.encode() in raw
    # a session without problems carries no secret
    clean = gen.generate_codex_session(random.Random(8), path=tmp_path / "c.jsonl", start=START, turns=5, cwd=CWD)
    assert b"sk-ant-api03" not in clean.path.read_bytes()


def test_secret_only_in_a_few_sessions(corpus_2mb):
    files = [p for p in corpus_2mb.root.rglob("*.jsonl")]
    with_secret = [p for p in files if wb.SECRET_TOKEN.encode() in p.read_bytes()]
    assert 1 <= len(with_secret) <= max(2, len(files) // 4)


@pytest.mark.parametrize("word", ["pytest", "migration", "TypeError", "docker compose"])
def test_search_vocabulary(corpus_2mb, word):
    hits = [p for p in corpus_2mb.root.rglob("*.jsonl") if word.encode() in p.read_bytes()]
    assert len(hits) >= 2


# ------------------------------------------------------------------------------ parsing with sessionlens.ingest


def test_generated_files_parse_without_problems(corpus_2mb, long_sessions):
    paths = list(corpus_2mb.root.rglob("*.jsonl")) + [long_sessions[0].path, long_sessions[1].path]
    for path in paths:
        result = parse_file(str(path))
        assert result is not None, path
        assert result.problems == [], (path, result.problems[:3])
        assert len(result.events) == len(path.read_bytes().splitlines())


def test_codex_usage_matches_last_total(corpus_2mb, long_sessions):
    infos = [s for s in corpus_2mb.sessions if s.agent == "codex"] + [long_sessions[0]]
    for info in infos:
        result = parse_file(str(info.path))
        total = info.token_total
        assert len(result.usage) == info.usage_records
        uncached = sum(r.usage.input_tokens for r in result.usage)
        cached = sum(r.usage.cache_read_tokens for r in result.usage)
        assert uncached + cached == total["input_tokens"]
        assert cached == total["cached_input_tokens"]
        assert sum(r.usage.output_tokens for r in result.usage) == total["output_tokens"]
        assert sum(r.usage.reasoning_tokens for r in result.usage) == total["reasoning_output_tokens"]


def test_claude_usage_dedupes_to_one_per_message(corpus_2mb, long_sessions):
    infos = [s for s in corpus_2mb.sessions if s.agent == "claude"] + [long_sessions[1]]
    for info in infos:
        best: dict[str, object] = {}
        for path in [info.path, *info.subagent_files]:
            for rec in parse_file(str(path)).usage:
                if rec.key not in best or rec.usage.output_tokens > best[rec.key].usage.output_tokens:
                    best[rec.key] = rec
        assert len(best) == info.usage_records
        assert sum(r.usage.output_tokens for r in best.values()) == info.token_total["output_tokens"]
        assert sum(r.usage.cache_read_tokens for r in best.values()) == info.token_total["cache_read_input_tokens"]
        written = sum(r.usage.cache_write_5m_tokens + r.usage.cache_write_1h_tokens for r in best.values())
        assert written == info.token_total["cache_creation_input_tokens"]


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown problems"):
        gen.generate_codex_session(random.Random(1), path=tmp_path / "c.jsonl", start=START, turns=1, cwd=CWD, problems=["nope"])
    with pytest.raises(ValueError):
        gen.generate_corpus(tmp_path, total_bytes=0)
    with pytest.raises(ValueError):
        gen.generate_corpus(tmp_path, codex_share=1.5)
