"""Minimal diffs from every edit format the model carries."""

from sessionlens.services.render import diff as D


def test_edit_blocks_become_a_minimal_diff():
    old = [f"line {i}" for i in range(45)]
    new = list(old)
    new[10] = "line 10 changed"
    new[30:31] = ["line 30a", "line 30b"]
    text = "\n".join(["--- /w/a.py", "+++ /w/a.py", "@@", *("-" + x for x in old), *("+" + x for x in new)])
    [f] = D.diffs_for(text)
    assert (f.path, f.removed, f.added) == ("/w/a.py", 2, 3)  # not 45 removed and 46 added
    assert not f.numbered  # the edit did not say where in the file it applied
    assert all(ln.text in old or ln.text in new for h in f.hunks for ln in h.lines)


def test_reported_patch_carries_file_line_numbers():
    reported = "@@ -10,3 +10,3 @@\n a\n-b\n+B\n c"
    [f] = D.diffs_for("--- /w/a.py\n+++ /w/a.py\n@@\n-b\n+B", reported=reported, path="/w/a.py")
    assert f.numbered and f.path == "/w/a.py"
    assert [(ln.tag, ln.old, ln.new) for ln in f.hunks[0].lines] == [(" ", 10, 10), ("-", 11, None), ("+", None, 11), (" ", 12, 12)]


def test_apply_patch_files_and_hunks():
    text = (
        "*** Begin Patch\n*** Update File: src/a.rs\n@@ fn main\n ctx\n-old\n+new\n*** Add File: b.txt\n+hello\n+world\n"
        "*** Delete File: c.txt\n*** Update File: d.rs\n*** Move to: e.rs\n@@\n-x\n+y\n*** End Patch"
    )
    files = D.diffs_for(text)
    assert [(f.path, f.op, f.added, f.removed) for f in files] == [
        ("src/a.rs", "update", 1, 1),
        ("b.txt", "add", 2, 0),
        ("c.txt", "delete", 0, 0),
        ("d.rs", "move", 1, 1),
    ]
    assert files[1].hunks[0].lines[1].new == 2 and files[3].note == "moved to e.rs"


def test_write_is_a_new_file_and_unified_text_round_trips():
    [f] = D.diffs_for("--- /w/n.md\n+++ /w/n.md\n@@ new file @@\n+# Title\n+body")
    assert (f.op, f.added, f.numbered) == ("add", 2, True)
    assert D.unified_text([f]).splitlines()[-2:] == ["+# Title", "+body"]
