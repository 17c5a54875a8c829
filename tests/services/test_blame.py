"""Agent blame over the scripted repository: every line's writer, with and without git, in a clone."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from sessionlens.samples import blame_repo
from sessionlens.services import blame
from tests.services.helpers import make_app

NAMES = {blame_repo.SESSION_A: "A", blame_repo.SESSION_B: "B", blame_repo.SESSION_C: "C"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("blame")
    fx = blame_repo.build(root / "fx")
    app = make_app(root / "home")
    app.index([str(fx.logs)])
    yield fx, app
    app.close()


def _who(fb) -> list[str | None]:
    return [NAMES.get(w.session_id, w.session_id) if w else None for w in fb.lines]


def _want(fx, rel) -> list[str | None]:
    return [NAMES.get(x) if x else None for x in fx.expected[rel]]


@pytest.mark.parametrize("rel", ["src/app.py", "src/config.py", "src/helpers.py", "README.md"])
def test_every_line_has_its_scripted_writer(world, rel):
    fx, app = world
    fb = blame.service(app).file(str(fx.repo / rel))
    assert fb.git and fb.rel == rel
    assert _who(fb) == _want(fx, rel)


def test_the_turn_and_the_edit_of_a_line(world):
    fx, app = world
    svc = blame.service(app)
    fb = svc.file(str(fx.repo / "src/config.py"))
    doc = svc.describe(fb.lines[5])  # "# the number of attempts ..." (A's second prompt)
    assert (doc["session_id"], doc["turn"], doc["tool"], doc["prompt"]) == (blame_repo.SESSION_A, 1, "Edit", blame_repo.PROMPT_A2)
    assert doc["link"] == f"sessionlens://session/{blame_repo.SESSION_A}?event={doc['line']}"
    resolved = app.resolve_link(doc["link"])
    ev = app.db().event(resolved["session_id"] and app.db().session_for_path(doc["log_path"]).file_id, doc["seq"])
    assert ev is not None and ev.tool == "Edit" and "MAX_ATTEMPTS" in (ev.text or "")
    head = blame.headline(doc)
    assert head.startswith("Claude Code · 2026-02-09 · turn 2: *Document the config module*") and head.endswith("Edit of config.py")


def test_renamed_file_brings_the_edits_of_its_old_name(world):
    fx, app = world
    fb = blame.service(app).file(str(fx.repo / "src/helpers.py"))
    assert "src/util.py" in fb.names
    assert {w.path for w in fb.lines if w} == {"src/util.py"}


def test_sessions_of_a_file_newest_first_with_their_lines(world):
    fx, app = world
    fb = blame.service(app).file(str(fx.repo / "src/config.py"))
    got = [(NAMES[s["session_id"]], s["edits"], s["lines"]) for s in fb.sessions]
    assert got == [("C", 1, 2), ("A", 2, _want(fx, "src/config.py").count("A"))]


def test_unsaved_editor_text_is_blamed_as_shown(world):
    fx, app = world
    text = (fx.repo / "src/config.py").read_text()
    edited = "# a line typed just now\n" + text.replace("RETRIES = 3", "RETRIES = 5")
    fb = blame.service(app).file(str(fx.repo / "src/config.py"), edited)
    who = _who(fb)
    assert who[0] is None  # typed by the person, not saved
    assert who[5] is None  # RETRIES = 5: changed by the person
    assert who[1:5] == _want(fx, "src/config.py")[0:4] and who[6:] == _want(fx, "src/config.py")[5:]


def test_without_git_content_alone_decides(world, tmp_path):
    """A copy without history: lines match by content only (older lines an edit rewrote count as its)."""
    fx, app = world
    copy = tmp_path / "copy" / "demo"
    shutil.copytree(fx.repo, copy, ignore=shutil.ignore_patterns(".git"))
    app.workspace_folders = [str(copy)]
    try:
        fb = blame.service(app).file(str(copy / "src/app.py"))
    finally:
        app.workspace_folders = []
    who = _who(fb)
    assert not fb.git and fb.rel == "src/app.py"
    lines = (copy / "src/app.py").read_text().split("\n")
    assert who[lines.index("def greet(name: str) -> str:")] == "A"
    assert who[lines.index('    print(farewell("world"))')] == "B"
    assert who[lines.index('    return f"Hi there, {name}!"')] is None  # the person's
    assert who[lines.index('    print(greet("world"))')] == "B"  # without history B's patch is its latest writer


def test_a_clone_elsewhere_matches_by_repository_relative_path(world, tmp_path):
    fx, app = world
    clone = tmp_path / "elsewhere" / "demo-clone"
    subprocess.run(["git", "clone", "-q", str(fx.repo), str(clone)], check=True, capture_output=True)
    for rel in ("README.md", "src/config.py"):  # C's work is uncommitted in the original: bring it along
        shutil.copyfile(fx.repo / rel, clone / rel)
    fb = blame.service(app).file(str(clone / "src/config.py"))
    assert fb.git and _who(fb) == _want(fx, "src/config.py")


def test_a_file_no_session_edited_costs_no_git(world, tmp_path, monkeypatch):
    fx, app = world
    calls: list = []
    real = blame._git

    def spy(root, *args, **kw):
        calls.append(args[0])
        return real(root, *args, **kw)

    monkeypatch.setattr(blame, "_git", spy)
    (fx.repo / "NOTES.txt").write_text("nothing an agent wrote\n")
    try:
        fb = blame.service(app).file(str(fx.repo / "NOTES.txt"))
        assert fb.lines == [None] and fb.sessions == []
        assert "blame" not in calls
    finally:
        (fx.repo / "NOTES.txt").unlink()


def test_attribute_is_pure_and_prefers_the_newest_allowed_writer():
    from sessionlens.ingest.edits import line_hash, pack_hashes
    from sessionlens.store.edits import EditRow

    def row(sid, ts, lines, op="edit", started=None):
        return EditRow(
            1,
            1,
            0,
            "/r",
            "f.py",
            op,
            "Edit",
            ts,
            0,
            None,
            len(lines),
            pack_hashes(line_hash(x) for x in lines),
            None,
            None,
            sid,
            "claude",
            started if started is not None else ts,
            None,
            None,
            "/logs/x",
        )

    rows = [row("old", 100.0, ["value = compute()"]), row("new", 200.0, ["value = compute()"])]
    got = blame.attribute(["value = compute()"], rows, None)
    assert got[0] is not None and got[0].row.session_id == "new"
    committed = [blame._BlameLine("c" * 40, 150, "f.py")]  # committed at 150: before "new" was written
    got = blame.attribute(["value = compute()"], rows, committed)
    assert got[0] is not None and got[0].row.session_id == "old"
    early = [blame._BlameLine("c" * 40, 50, "f.py")]  # committed before either session began
    assert blame.attribute(["value = compute()"], rows, early) == [None]


def test_real_corpus_edits_blame_a_checkout_of_their_file(corpus, tmp_path):
    """The corpus's Claude and Codex crud sessions both edited a JOKE.md of their repository: a checkout
    of that file elsewhere (no git) gets each line from the session whose edit wrote it."""
    from sessionlens import ingest
    from sessionlens.models import EventKind

    logs = tmp_path / "logs"
    logs.mkdir()
    for rel in ("claude/agentlogs/crud.jsonl", "codex/agentlogs/crud.jsonl"):
        shutil.copyfile(corpus / rel, logs / rel.replace("/", "__"))
    app = make_app(tmp_path / "home")
    app.index([str(logs)])
    claude = ingest.parse_file(str(corpus / "claude/agentlogs/crud.jsonl"))
    codex = ingest.parse_file(str(corpus / "codex/agentlogs/crud.jsonl"))
    write = next(e for e in claude.events if e.kind is EventKind.PATCH and e.tool == "Write")
    written = [ln[1:] for ln in (write.text or "").split("\n")[3:]]  # the "+" lines after the headers
    patched = "Footer note: The office cactus applauds politely."
    ws = tmp_path / "checkout"
    ws.mkdir()
    (ws / "JOKE.md").write_text("\n".join([written[0], "A line nobody's session wrote.", patched]) + "\n")
    app.workspace_folders = [str(ws)]
    try:
        fb = blame.service(app).file(str(ws / "JOKE.md"))
    finally:
        app.close()
    assert fb.rel == "JOKE.md" and not fb.git
    got = [w.session_id if w else None for w in fb.lines]
    assert got == [claude.session.id, None, codex.session.id]
    assert fb.lines[0].tool == "Write" and fb.lines[2].tool == "apply_patch"  # type: ignore[union-attr]
