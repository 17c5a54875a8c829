"""The OTLP export against a real backend: Arize Phoenix (its own venv, started on loopback).

``make test`` installs Phoenix into ``.venv-phoenix`` and points ``SESSIONLENS_PHOENIX`` at its
``phoenix`` executable.  Spans are read back through Phoenix's REST API and compared with the store.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from sessionlens.services.otlp import OtlpExport

REPO = Path(__file__).resolve().parents[2]


def _phoenix_exe() -> str:
    exe = os.environ.get("SESSIONLENS_PHOENIX") or str(REPO / ".venv-phoenix" / "bin" / "phoenix")
    if not Path(exe).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"Phoenix is not installed at {exe} (make test installs it)")
        pytest.skip(f"Phoenix not installed at {exe}: run `make phoenix`")
    return exe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory):
    exe = _phoenix_exe()
    wd = tmp_path_factory.mktemp("phoenix")
    port, grpc = _free_port(), _free_port()
    env = {
        **os.environ,
        "PHOENIX_WORKING_DIR": str(wd),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc),
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    log = (wd / "phoenix.log").open("wb")
    proc = subprocess.Popen([exe, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("Phoenix did not start:\n" + (wd / "phoenix.log").read_text(errors="replace")[-3000:])
            time.sleep(0.5)
    yield base
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _spans(base: str, project: str) -> list[dict]:
    out, cursor = [], None
    while True:
        url = f"{base}/v1/projects/{project}/spans?limit=1000" + (f"&cursor={cursor}" if cursor else "")
        try:
            d = _get(url)
        except urllib.error.HTTPError as e:
            if e.code == 404:  # the project appears with its first span
                return []
            raise
        out += d["data"]
        cursor = d.get("next_cursor")
        if not cursor:
            return out


def _wait_for(base: str, project: str, n: int, timeout: float = 300) -> list[dict]:
    deadline = time.monotonic() + timeout
    spans = _spans(base, project)
    while len(spans) < n and time.monotonic() < deadline:
        time.sleep(0.5)
        spans = _spans(base, project)
    return spans


def test_corpus_sessions_round_trip_through_phoenix(phoenix, corpus_app):
    ex = OtlpExport(corpus_app, phoenix, project_name="roundtrip", batch_spans=500)
    sel = ex.select()
    st = ex.run(sel)
    assert st.sessions == len(sel) > 5 and st.spans > 500
    spans = _wait_for(phoenix, "roundtrip", st.spans)
    assert len(spans) == st.spans
    ids = {s["context"]["span_id"] for s in spans}
    roots = [s for s in spans if not s["parent_id"]]
    assert len(roots) == len(sel)  # one root (invoke_agent) per top-level session, sub-agents nested
    assert all(s["parent_id"] in ids for s in spans if s["parent_id"])
    assert {s["span_kind"] for s in roots} == {"AGENT"}
    kinds = {s["span_kind"] for s in spans}
    assert {"AGENT", "LLM", "TOOL"} <= kinds
    # token sums read back from Phoenix equal the store's totals
    by_conv: dict[str, list[int]] = {}
    for s in spans:
        a = s["attributes"]
        if a.get("gen_ai.operation.name") == "chat":
            root_sid = a["gen_ai.conversation.id"].split(":agent-")[0]
            t = by_conv.setdefault(root_sid, [0, 0])
            t[0] += a["gen_ai.usage.input_tokens"]
            t[1] += a["gen_ai.usage.output_tokens"]
    for s in sel:
        ids_ = [s.id, *[c.id for c in corpus_app.db().subagent_sessions(s.id)]]
        tot = corpus_app.db().session_totals(ids_)
        want = [tot.input + tot.cache_read + tot.cache_write_5m + tot.cache_write_1h, tot.output]
        assert by_conv.get(s.id, [0, 0]) == want, s.id

    # exporting everything again (no resume marks) adds no span in Phoenix: ids are deterministic
    again = ex.run(sel, resume=False)
    assert again.spans == st.spans
    time.sleep(3)
    assert len(_spans(phoenix, "roundtrip")) == st.spans
