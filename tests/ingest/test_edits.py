"""The edits index extraction (agent blame): every agent's edit rendering -> hunks -> rows."""

from __future__ import annotations

from datetime import datetime, timezone

from sessionlens import ingest
from sessionlens.ingest.edits import edit_rows, hunks_of, line_hash, normalize, resolve, unpack_hashes
from sessionlens.models import Event, EventKind

TS = datetime(2026, 2, 11, 10, 0, tzinfo=timezone.utc)


def _patch(text: str, tool: str = "Edit", files: list[str] | None = None, seq: int = 5, **kw) -> Event:
    return Event(seq=seq, line=seq, offset=0, kind=EventKind.PATCH, tool=tool, text=text, files=files or [], timestamp=TS, turn=2, **kw)


def test_old_new_block_edit_keeps_only_the_lines_the_edit_changed():
    ev = _patch(
        "--- /r/a.py\n+++ /r/a.py\n@@\n-def main():\n-    print('x')\n+def helper():\n+    return 1\n+\n+def main():\n+    print(helper())",
        files=["/r/a.py"],
    )
    [h] = hunks_of(ev)
    assert h.path == "/r/a.py" and h.op == "edit"
    assert h.lines == ["def helper():", "    return 1", "", "    print(helper())"]  # "def main():" was carried over


def test_whole_file_write_and_multiedit():
    [w] = hunks_of(_patch("--- /r/n.md\n+++ /r/n.md\n@@ new file @@\n+# T\n+\n+body", tool="Write"))
    assert (w.op, w.lines, w.start) == ("write", ["# T", "", "body"], 1)
    multi = hunks_of(_patch("--- /r/m.py\n+++ /r/m.py\n@@\n-a = 1\n+a = 2\n@@\n-b = 1\n+b = 3", tool="MultiEdit"))
    assert [h.lines for h in multi] == [["a = 2"], ["b = 3"]]


def test_a_real_unified_diff_gives_line_numbers():
    [h] = hunks_of(_patch("--- a/x.py\n+++ b/x.py\n@@ -3,2 +3,3 @@\n keep = 1\n-old = 2\n+new = 2\n+more = 3\n"))
    assert h.path == "x.py" and h.lines == ["new = 2", "more = 3"] and h.start == 4


def test_apply_patch_add_update_move_delete():
    text = (
        "*** Begin Patch\n*** Add File: src/new.py\n+x = 1\n+y = 2\n*** Update File: src/old.py\n*** Move to: src/moved.py\n"
        "@@ def f():\n     a = 1\n-    b = 2\n+    b = 3\n*** Delete File: src/gone.py\n*** End Patch"
    )
    hunks = hunks_of(_patch(text, tool="apply_patch"))
    got = [(h.op, h.path, h.lines, h.old_path) for h in hunks]
    assert ("add", "src/new.py", ["x = 1", "y = 2"], None) in got
    assert ("edit", "src/moved.py", ["    b = 3"], None) in got  # lines land in the file's new name
    assert ("move", "src/moved.py", [], "src/old.py") in got
    assert ("delete", "src/gone.py", [], None) in got


def test_body_only_renderings_use_the_event_file():
    [h] = hunks_of(_patch("new text\nsecond", tool="replace", files=["pkg/m.go"]))
    assert (h.path, h.op, h.lines) == ("pkg/m.go", "edit", ["new text", "second"])
    [w] = hunks_of(_patch("whole\nfile\n", tool="write_file", files=["pkg/w.go"]))
    assert (w.op, w.lines) == ("write", ["whole", "file"])
    assert hunks_of(_patch("no file known")) == []


def test_clipped_text_drops_its_partial_last_line():
    from sessionlens.agents.common import clip

    body = "+" + "\n+".join(f"line {i}" for i in range(20000))
    ev = _patch(clip("--- /r/big.txt\n+++ /r/big.txt\n@@ new file @@\n" + body), tool="Write")
    [h] = hunks_of(ev)
    assert h.lines and all(x.startswith("line ") for x in h.lines)
    assert h.lines[-1] in {f"line {i}" for i in range(20000)}  # a whole line, not a cut one


def test_paths_are_relative_to_the_repository_root():
    assert resolve("/home/u/repo/src/a.py", cwd="/home/u/repo/src", root="/home/u/repo") == ("/home/u/repo", "src/a.py")
    assert resolve("a.py", cwd="/home/u/repo/src", root="/home/u/repo") == ("/home/u/repo", "src/a.py")
    assert resolve("../x/../b.py", cwd="/home/u/repo/src", root="/home/u/repo") == ("/home/u/repo", "b.py")
    assert resolve("/etc/hosts", cwd="/home/u/repo", root="/home/u/repo") == (None, "/etc/hosts")
    assert resolve("/home/u/repo/../../../etc/passwd", cwd=None, root="/home/u/repo") == (None, "/etc/passwd")
    assert resolve("rel.py", cwd=None, root=None) is None
    assert resolve("bad\x00name", cwd="/r", root="/r") is None


def test_rows_carry_session_time_turn_commit_and_normalized_hashes():
    ev = _patch("--- /r/a.py\n+++ /r/a.py\n@@ new file @@\n+x  =   1\n+y = 2", tool="Write", files=["/r/a.py"])
    [row] = edit_rows([ev], cwd="/r", root="/r", commit="abc123")
    seq, hunk, repo, path, op, tool, ts, turn, line, nlines, hashes, commit, old = row
    assert (seq, hunk, repo, path, op, tool, turn, line, nlines, commit) == (5, 0, "/r", "a.py", "write", "Write", 2, 1, 2, "abc123")
    assert ts == TS.timestamp()
    assert list(unpack_hashes(hashes)) == [line_hash("x = 1"), line_hash("y = 2")]
    assert normalize("  a\t b  ") == "a b" and line_hash(" a  b") == line_hash("a b")


def test_a_rejected_edit_produces_nothing():
    call = _patch("--- /r/a.py\n+++ /r/a.py\n@@\n-a\n+b = 22", call_id="t1")
    res = Event(seq=6, line=6, offset=0, kind=EventKind.TOOL_RESULT, call_id="t1", is_error=True, text="rejected")
    assert edit_rows([call, res], cwd="/r", root="/r", commit=None) == []
    assert len(edit_rows([call], cwd="/r", root="/r", commit=None)) == 1


def test_hostile_patch_texts_never_raise():
    for text in (
        "*** Begin Patch\n*** Update File: \n+x",
        "@@ -x +y @@\n+a",
        "\x00" * 100,
        "+++ \n--- \n@@",
        "*** Add File: " + "a" * 9000,
    ):
        edit_rows([_patch(text, files=["/r/f"])], cwd="/r", root="/r", commit=None)


def test_corpus_edits_resolve_against_their_sessions(corpus):
    """Real edits of every agent in the corpus that logs some: each resolves to a repository-relative
    path with the lines the tool call wrote."""
    seen: dict[str, int] = {}
    for rel in (
        "claude/agentlogs/crud.jsonl",
        "codex/agentlogs/crud.jsonl",
        "claude/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl",
        "pi/badlogic+pi-mono/packages/coding-agent/test/fixtures/before-compaction.jsonl",
    ):
        r = ingest.parse_file(str(corpus / rel))
        assert r is not None
        rows = edit_rows(r.events, cwd=r.session.cwd, root=r.session.cwd, commit=r.session.git_commit)
        patches = [e for e in r.events if e.kind is EventKind.PATCH]
        assert rows and len({x[0] for x in rows}) <= len(patches)
        for row in rows:
            assert not row[3].startswith("/") and ".." not in row[3].split("/"), row[3]
            assert row[9] == len(unpack_hashes(row[10]))
        seen[r.agent if isinstance(r.agent, str) else r.agent.value] = len(rows)
    codex = ingest.parse_file(str(corpus / "codex/agentlogs/crud.jsonl"))
    [row] = [
        x
        for x in edit_rows(codex.events, cwd=codex.session.cwd, root=codex.session.cwd, commit=codex.session.git_commit)
        if x[3] == "JOKE.md"
    ][-1:]
    assert row[11] == "f997532faee8964c9a3b194f6997f4049551eede"  # the commit from session_meta
    assert line_hash("Footer note: The office cactus applauds politely.") in unpack_hashes(row[10])
    assert set(seen) == {"claude", "codex", "pi"}


def test_lines_that_look_like_headers_inside_a_hunk_are_content():
    # an SQL comment removed and a "++" line added: inside the hunk they are lines, not file headers
    ev = _patch("--- /r/q.sql\n+++ /r/q.sql\n@@\n-- old comment\n-SELECT 1;\n++ new comment\n+SELECT 2;", files=["/r/q.sql"])
    [h] = hunks_of(ev)
    assert h.path == "/r/q.sql" and h.lines == ["+ new comment", "SELECT 2;"]
    # a real two-file diff: the second header starts once the first hunk has its declared lines
    two = hunks_of(_patch("--- a/x.py\n+++ b/x.py\n@@ -1,1 +1,1 @@\n-a = 1\n+a = 2\n--- a/y.py\n+++ b/y.py\n@@ -1 +1 @@\n-b = 1\n+b = 2"))
    assert [(h.path, h.lines) for h in two] == [("x.py", ["a = 2"]), ("y.py", ["b = 2"])]


def test_huge_old_new_blocks_are_compared_as_sets():
    old = "\n".join(f"-line {i}" for i in range(3000))
    new = "\n".join(f"+line {i}" for i in range(3000)) + "\n+brand new"
    [h] = hunks_of(_patch(f"--- /r/big\n+++ /r/big\n@@\n{old}\n{new}", files=["/r/big"]))
    assert h.lines == ["brand new"]
