"""Sub-agent activity nests under the call that started it in the outline (files and inline sidechains)."""

import shutil

from sessionlens.services.app import App
from sessionlens.services.settings import Settings

SID = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"


def _walk(nodes, parent=None):
    for n in nodes:
        yield parent, n
        yield from _walk(n.children, n)


def test_subagent_files_nest_under_their_task_call(corpus, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(corpus / "claude" / "spotter" / SID, ws / SID)
    shutil.copyfile(corpus / "claude" / "spotter" / f"{SID}.jsonl", ws / f"{SID}.jsonl")
    app = App(Settings(storePath=str(tmp_path / "home"), includeHomeLogs=False))
    app.index([str(ws)])
    nodes = list(_walk(app.outline(str(ws / f"{SID}.jsonl"))))
    subs = {n.name.split(":")[0]: parent for parent, n in nodes if n.kind == "subagent"}
    assert set(subs) == {"sub-agent aac57f5", "compaction run acompact-946d2b"}
    task = subs["sub-agent aac57f5"]
    assert task.kind == "tool" and task.name.startswith("Task:")
    lines = (ws / f"{SID}.jsonl").read_text().split("\n")
    assert '"name":"Task"' in lines[task.start]
    assert subs["compaction run acompact-946d2b"].kind == "compaction"


def test_inline_sidechain_nests_under_task(corpus, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(corpus / "claude" / "agentlogs" / "subagent.jsonl", ws / "s.jsonl")
    app = App(Settings(storePath=str(tmp_path / "home"), includeHomeLogs=False))
    app.index([str(ws)])
    nodes = list(_walk(app.outline(str(ws / "s.jsonl"))))
    nested = [(p, n) for p, n in nodes if p is not None and p.kind == "tool" and p.name.startswith("Task")]
    assert nested, "the sidechain's lines appear under the Task call"
    lines = (ws / "s.jsonl").read_text().split("\n")
    assert all('"isSidechain":true' in lines[n.start] for _, n in nested)
