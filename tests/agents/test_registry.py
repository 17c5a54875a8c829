"""The agent registry is the one place that knows agents: a toy agent added through ``register``
alone is discovered, detected, parsed, indexed, searched, offered as ``--agent`` and accepted by the
eval schema - no other file changes.  A toy SQLite agent shows the multi-session contract: members
indexed from a private snapshot (rows still in the -wal included), only changed members re-read,
vanished ones removed, and the agent's files left byte-for-byte and mtime-for-mtime as they were."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from sessionlens import agents
from sessionlens.agents.base import AgentAdapter, InstructionSpec
from sessionlens.agents.common import LineParser, new_event, parse_ts
from sessionlens.models import EventKind, ParseResult, ParserState, Session
from sessionlens.models.store import StoredSession
from tests.services.helpers import make_app


class _ToyParser(LineParser):
    agent = "toy"

    def initial_session(self) -> Session:
        s = Session(id=Path(self.path).stem, agent="toy")
        s.title = (self.data.get("companions") or {}).get("title")  # from the sidecar, read by the indexer
        return s

    def handle(self, obj: dict[str, Any], line: int, offset: int, length: int):
        ts = parse_ts(obj.get("at"))
        if obj.get("toy") == "prompt":
            turn = self.turns.open(line, ts, prompt=obj.get("text"))
            return new_event(line, offset, length, EventKind.USER_MESSAGE, "prompt", ts, turn, role="user", text=obj.get("text"))
        self.turns.touch(line, ts)
        return new_event(
            line, offset, length, EventKind.ASSISTANT_MESSAGE, "answer", ts, self.turns.index, role="assistant", text=obj.get("text")
        )


def _toy_parse(data: bytes, path: str, state: ParserState | None = None) -> ParseResult:
    return _ToyParser(path, state).parse(data)


TOY = AgentAdapter(
    name="toy",
    label="Toy Agent",
    source="lines",
    file_patterns=("*.toylog",),
    roots=lambda home, env: [
        env.get("TOY_HOME") or os.path.join(home, ".toy"),
    ],
    env_vars=("TOY_HOME",),
    classify_line=lambda obj: "toy" in obj,
    parse=_toy_parse,
    companions=lambda path: [path + ".meta"] if path.endswith(".toylog") else [],
    read_companions=lambda path: {"title": Path(path + ".meta").read_text().strip()} if Path(path + ".meta").exists() else {},
    instructions=InstructionSpec(project=(("TOY.md",),), primary="TOY.md"),
    priority=10,
)


def _members(db) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1])) for r in db.execute("SELECT id, updated FROM chats ORDER BY id")]


def _parse_member(db, key: str, path: str) -> ParseResult:
    s = Session(id=f"toydb-{key}", agent="toydb")
    events = []
    for i, (rowid, text) in enumerate(db.execute("SELECT rowid, text FROM messages WHERE chat=? ORDER BY rowid", (key,)), 1):
        kind = EventKind.USER_MESSAGE if i == 1 else EventKind.ASSISTANT_MESSAGE
        events.append(new_event(i, 0, 0, kind, "message", None, 0, text=text, extra={"row": rowid}))
    return ParseResult.model_construct(
        agent="toydb", session=s, events=events, turns=[], usage=[], problems=[], state=ParserState(session=s)
    )


TOYDB = AgentAdapter(
    name="toydb",
    label="Toy DB Agent",
    source="sqlite",
    file_patterns=("*.toydb",),
    sniff_sqlite=lambda tables: {"chats", "messages"} <= tables,
    members=_members,
    parse_member=_parse_member,
)


@pytest.fixture
def toy():
    agents.register(TOY)
    agents.register(TOYDB)
    try:
        yield
    finally:
        agents.unregister("toy")
        agents.unregister("toydb")


def _toylog(path: Path, n: int = 2) -> None:
    lines = []
    for i in range(n):
        lines.append({"toy": "prompt", "text": f"please count to {i} quokkas", "at": f"2026-01-01T10:0{i}:00Z"})
        lines.append({"toy": "answer", "text": f"{i} quokkas counted", "at": f"2026-01-01T10:0{i}:30Z"})
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))


def test_a_toy_agent_needs_the_registry_only(toy, tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    logs.mkdir()
    _toylog(logs / "first.toylog")
    (logs / "notes.txt").write_text("not a log")
    # discovery roots and env override
    monkeypatch.setenv("TOY_HOME", str(tmp_path / "toyhome"))
    assert str(tmp_path / "toyhome") in [r.path for r in agents.default_roots()]
    assert "**/*.toylog" in agents.watch_globs()
    # detection by content: the same bytes under another name are still the toy's
    assert agents.detect(str(logs / "first.toylog"), (logs / "first.toylog").read_bytes()).name == "toy"
    app = make_app(tmp_path / "home")
    try:
        stats = app.index([str(logs)])
        assert stats.errors == []
        sessions = app.sessions(agent="toy", workspace_only=False)
        assert [(s["id"], s["agent"], s["turns"], s["events"]) for s in sessions] == [("first", "toy", 2, 4)]
        hits = app.search("quokkas", agent="toy")
        assert hits["total"] == 4 and {h["agent"] for h in hits["hits"]} == {"toy"}
        # a grown log is read from its offset
        with open(logs / "first.toylog", "ab") as f:
            f.write(orjson.dumps({"toy": "prompt", "text": "and wombats?", "at": "2026-01-01T11:00:00Z"}) + b"\n")
        app.index([str(logs)])
        assert app.sessions(agent="toy", workspace_only=False)[0]["turns"] == 3
    finally:
        app.close()
    # the CLI's --agent choices and the eval schema's agent names come from the registry
    from sessionlens.cli import agent_names
    from sessionlens.evals.models import SessionSelector

    assert "toy" in agent_names()
    assert SessionSelector(agent="toy").agent == "toy"
    with pytest.raises(ValueError):
        SessionSelector(agent="no-such-agent")
    assert "toy" in SessionSelector.model_json_schema()["properties"]["agent"]["anyOf"][0]["enum"]


def test_the_toy_agents_instruction_files_feed_compliance(toy, tmp_path):
    from sessionlens.compliance.instructions import instruction_files, is_instruction_file

    proj = tmp_path / "proj"
    (proj / ".git").mkdir(parents=True)
    (proj / "TOY.md").write_text("- Always count quokkas.\n")
    (proj / "CLAUDE.md").write_text("- Claude only.\n")
    files, _ = instruction_files(
        StoredSession(id="t", agent="toy", cwd=str(proj), path="", file_id=0), home=str(tmp_path / "h"), use_git=False
    )
    assert [Path(f.path).name for f in files] == ["TOY.md"]
    assert is_instruction_file(str(proj / "TOY.md"))


def _toydb(path: Path) -> sqlite3.Connection:
    """An agent's database in WAL mode, still open (as while the agent runs): its rows sit in the -wal."""
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA wal_autocheckpoint=0")
    c.execute("CREATE TABLE chats(id TEXT PRIMARY KEY, updated INTEGER)")
    c.execute("CREATE TABLE messages(chat TEXT, text TEXT)")
    for chat in ("a", "b"):
        c.execute("INSERT INTO chats VALUES(?, 1)", (chat,))
        c.execute("INSERT INTO messages VALUES(?, ?)", (chat, f"hello platypus from {chat}"))
        c.execute("INSERT INTO messages VALUES(?, ?)", (chat, f"answer to {chat}"))
    return c


def _fingerprint(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_a_toy_database_is_indexed_by_member_without_touching_it(toy, tmp_path):
    src = tmp_path / "agentdata"
    src.mkdir()
    writer = _toydb(src / "chats.toydb")
    try:
        assert (src / "chats.toydb-wal").stat().st_size > 0
        before = _fingerprint(src)
        app = make_app(tmp_path / "home")
        try:
            app.index([str(src)])
            got = {s["id"]: s["events"] for s in app.sessions(agent="toydb", workspace_only=False)}
            assert got == {"toydb-a": 2, "toydb-b": 2}
            assert _fingerprint(src) == before  # bytes and mtimes of db, -wal and -shm
            assert app.search("platypus", agent="toydb")["total"] == 2
            # unchanged: nothing re-read
            assert app.index([str(src)]).files_changed == 0
            # one chat changes, one vanishes: only the changed member is parsed again
            writer.execute("INSERT INTO messages VALUES('a', 'more platypus')")
            writer.execute("UPDATE chats SET updated=2 WHERE id='a'")
            writer.execute("DELETE FROM chats WHERE id='b'")
            stats = app.index([str(src)])
            assert stats.changed_paths == [f"{src / 'chats.toydb'}#a"]
            got = {s["id"]: s["events"] for s in app.sessions(agent="toydb", workspace_only=False)}
            assert got == {"toydb-a": 3}
        finally:
            app.close()
    finally:
        writer.close()


def test_an_adapter_package_imports_models_and_its_own_level_only():
    root = Path(agents.__file__).parent
    bad = []
    for f in root.rglob("*.py"):
        for line in f.read_text().splitlines():
            s = line.strip()
            if s.startswith(("from sessionlens.", "import sessionlens.")):
                mod = s.split()[1]
                if not mod.startswith(("sessionlens.agents", "sessionlens.models")):
                    bad.append(f"{f.relative_to(root)}: {s}")
    assert bad == []


def test_the_registry_loads_in_a_fresh_interpreter():
    out = (
        subprocess.run(
            [sys.executable, "-c", "from sessionlens import agents; print(','.join(agents.names()))"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .split(",")
    )
    assert out[:2] == ["codex", "claude"]


def test_a_companion_file_feeds_the_parser_and_its_change_reparses(toy, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    _toylog(logs / "s.toylog")
    (logs / "s.toylog.meta").write_text("Quokka census\n")
    app = make_app(tmp_path / "home")
    try:
        app.index([str(logs)])
        assert [s["title"] for s in app.sessions(agent="toy", workspace_only=False)] == ["Quokka census"]
        assert app.index([str(logs)]).files_changed == 0  # unchanged: one stat (and the companion's)
        meta = logs / "s.toylog.meta"
        meta.write_text("Wombat census\n")
        os.utime(meta, ns=(meta.stat().st_mtime_ns + 10**9, meta.stat().st_mtime_ns + 10**9))
        assert app.index([str(logs)]).files_changed == 1
        assert [s["title"] for s in app.sessions(agent="toy", workspace_only=False)] == ["Wombat census"]
    finally:
        app.close()


def test_an_agent_name_runs_its_non_interactive_command():
    from sessionlens.evals.agent_runner import build_command

    assert build_command("gemini", "say hi", workdir="/w", case_id="c1") == "gemini --yolo -p 'say hi'"
    assert build_command("pi", "x", workdir="/w", case_id="c1") == "pi -p x"
    assert build_command("mytool --ask {prompt}", "x y", workdir="/w", case_id="c1") == "mytool --ask 'x y'"
