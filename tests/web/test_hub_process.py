"""A hub process started by the test: killed with SIGKILL mid-push and restarted, the client's
retries leave exactly one copy of every event; then 20 concurrent pushers with no event lost or
duplicated (latency figures written to the artifacts folder, never asserted)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from sessionlens.models.hubrows import PushedFile
from sessionlens.samples.generator import generate_corpus
from sessionlens.services import push as P
from sessionlens.services.app import App
from sessionlens.services.settings import Settings
from sessionlens.web import push as client_push
from tests.web.helpers import write_claude_session

REPO = Path(__file__).resolve().parents[2]
PW = "correct horse battery staple"


def _app(home: Path) -> App:
    return App(Settings.model_validate({"storePath": str(home), "includeHomeLogs": False}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_hub(home: Path, port: int) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "server")}
    err = open(home / "hub-stderr.log", "a")  # a file, not a pipe: a full pipe would block the hub
    proc = subprocess.Popen(
        [sys.executable, "-m", "sessionlens", "--home", str(home), "serve", "--team", "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        stderr=err,
        env=env,
        text=True,
    )
    err.close()
    line = proc.stdout.readline()
    if not line:
        raise AssertionError(f"hub did not start: {(home / 'hub-stderr.log').read_text()[-2000:]}")
    return proc, json.loads(line)["url"]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_idle(url: str, key: str) -> None:
    for _ in range(600):
        req = urllib.request.Request(url + "api/status", headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            if not json.load(r)["indexing"]:
                return
        time.sleep(0.1)
    raise AssertionError("the hub kept indexing")


@pytest.fixture
def hub_home(tmp_path, monkeypatch):
    from sessionlens.cli import main

    home = tmp_path / "hub"
    monkeypatch.setenv("SESSIONLENS_PASSWORD", PW)
    assert main(["--home", str(home), "admin", "create-user", "root", "--role", "admin"]) == 0
    from sessionlens.services.hub import Hub

    hub = Hub(_app(home))
    key, _ = hub.create_key(hub.store.user(username="root"), "pushers", ["ingest", "read"])
    hub.store.close()
    return home, key


def _hub_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in (home / "hub" / "logs").rglob("*.jsonl"))


def test_sigkill_mid_push_then_restart_leaves_one_copy_of_every_event(hub_home, tmp_path, monkeypatch):
    home, key = hub_home
    logs = tmp_path / "logs"
    generate_corpus(logs, seed=5, total_bytes=1_500_000)
    capp = _app(tmp_path / "client")
    capp.index([str(logs)])
    monkeypatch.setattr(P, "CHUNK_BYTES", 8 * 1024)  # many small chunks: the kill lands mid-push
    files = P.candidates(capp, machine="laptop", project="alpha")
    total = sum(f.size for f in files)
    port = _free_port()
    proc, url = _start_hub(home, port)
    result: dict = {}

    def pusher():
        c = client_push.HubClient(url, key, retries=40, backoff=0.2, timeout=10)
        try:
            result["stats"] = client_push.push_files(c, files, machine="laptop")
        except Exception as e:  # reported below
            result["error"] = e

    t = threading.Thread(target=pusher)
    t.start()
    try:
        deadline = time.time() + 60
        while _hub_bytes(home) < total * 0.3 and time.time() < deadline and t.is_alive():
            time.sleep(0.02)
        assert t.is_alive(), "the push finished before the kill; use more data"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_at = _hub_bytes(home)
        assert 0 < killed_at < total
        time.sleep(0.5)
        proc, url2 = _start_hub(home, port)
        assert url2 == url
        t.join(120)
        assert not t.is_alive()
        assert "error" not in result, result.get("error")
        st = result["stats"]
        assert st.refused == [] and st.retries >= 1
        _wait_idle(url, key)
        hub_app = _app(home)
        local = {s.id: s.events for s in capp.db().list_sessions(limit=10_000) if s.path.endswith(".jsonl")}
        remote = {s.id: s.events for s in hub_app.db().list_sessions(limit=10_000)}
        assert remote == local
        # byte for byte: every source line is in the hub once (redaction may change a line, never the count)
        for f in files:
            rec = next(r for r in _pushed(home) if r.file_key == f.key)
            assert Path(rec.hub_path).read_bytes().count(b"\n") == Path(f.path).read_bytes().count(b"\n")
        again = client_push.push_files(client_push.HubClient(url, key), files, machine="laptop")
        assert again.chunks == 0
    finally:
        _stop(proc)


def _pushed(home: Path) -> list[PushedFile]:
    from sessionlens.store.hub import HubStore

    st = HubStore(home)
    try:
        return st.all_pushed()
    finally:
        st.close()


def test_twenty_concurrent_pushers_lose_and_duplicate_nothing(hub_home, tmp_path, monkeypatch):
    home, key = hub_home
    monkeypatch.setattr(P, "CHUNK_BYTES", 32 * 1024)  # ~20 requests per pusher
    n_pushers, turns = 20, 200  # 5 lines a turn: 1,000 events per pusher
    sources = []
    for i in range(n_pushers):
        p = tmp_path / "src" / f"m{i}" / "s.jsonl"
        sid = write_claude_session(p, prompt=f"pusher {i}", turns=turns, cwd=f"/src/p{i}")
        sources.append((i, sid, p))
    port = _free_port()
    proc, url = _start_hub(home, port)
    lat: list[list[float]] = [[] for _ in range(n_pushers)]
    errors: list[BaseException] = []

    def run(i, path):
        f = P.PushFile(path=str(path), key=P.file_key(f"m{i}", str(path)), project="load", source_name="s.jsonl", size=path.stat().st_size)
        try:
            st = client_push.push_files(client_push.HubClient(url, key, retries=20, backoff=0.1), [f], machine=f"m{i}", latencies=lat[i])
            assert st.refused == []
        except BaseException as e:
            errors.append(e)

    try:
        t0 = time.perf_counter()
        threads = [threading.Thread(target=run, args=(i, p)) for i, _, p in sources]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        wall = time.perf_counter() - t0
        assert not errors, errors[0]
        _wait_idle(url, key)
        indexed = time.perf_counter() - t0
        hub_app = _app(home)
        for _i, sid, p in sources:
            s = hub_app.db().get_session(sid)
            assert s is not None and s.events == p.read_bytes().count(b"\n") == turns * 5
        allv = sorted(x for xs in lat for x in xs)
        report = {
            "pushers": n_pushers,
            "events_per_pusher": turns * 5,
            "requests": len(allv),
            "push_wall_s": round(wall, 3),
            "push_and_index_s": round(indexed, 3),
            "latency_p50_ms": round(allv[len(allv) // 2] * 1000, 1),
            "latency_p95_ms": round(allv[int(len(allv) * 0.95)] * 1000, 1),
            "latency_max_ms": round(allv[-1] * 1000, 1),
        }
        out = Path(os.environ.get("SESSIONLENS_ARTIFACTS") or REPO / "artifacts") / "web"
        out.mkdir(parents=True, exist_ok=True)
        (out / "hub-load.json").write_text(json.dumps(report, indent=2) + "\n")
        print("hub load:", report)
    finally:
        _stop(proc)
