from __future__ import annotations

import shutil

from lsprotocol import types as T

from sessionlens.lsp.features import indexing
from sessionlens.samples.generator import generate_corpus


def test_watched_files_queue_changed_logs_and_a_config_change_asks_a_full_pass(ls, tmp_path):
    log = tmp_path / "a.jsonl"
    indexing.did_change_watched(
        ls,
        T.DidChangeWatchedFilesParams(
            changes=[
                T.FileEvent(uri=log.as_uri(), type=T.FileChangeType.Changed),
                T.FileEvent(uri=(tmp_path / "gone.jsonl").as_uri(), type=T.FileChangeType.Deleted),
            ]
        ),
    )
    assert ls.pending_paths == {str(log)} and not ls.full_pass_requested
    indexing.did_change_watched(
        ls,
        T.DidChangeWatchedFilesParams(changes=[T.FileEvent(uri=(tmp_path / ".sessionlens.json").as_uri(), type=T.FileChangeType.Changed)]),
    )
    assert ls.full_pass_requested


async def test_reindex_of_a_new_log_reports_counts_progress_and_status(ls, log_path, tmp_path):
    ls.capabilities.add(("window", "work_done_progress"))
    before = await indexing.status.execute(ls, [{}])
    new = sorted(str(p) for p in generate_corpus(tmp_path / "new", seed=99, total_bytes=30_000).root.rglob("*.jsonl"))
    res = await indexing.reindex.execute(ls, [{"paths": new}])
    assert res["changed"] == len(new) and res["files"] == before["files"] + len(new)
    assert ls.work_done_progress.kinds()[:2] == ["create", "begin"] and ls.work_done_progress.kinds()[-1] == "end"
    assert [n for n in ls.notifications if n[0] == "sessionlens/status"][-1][1]["state"] == "idle"
    after = await indexing.status.execute(ls, [])
    assert after["indexing"] is False and after["files"] == res["files"] and after["store"] == str(ls.app.home)


async def test_without_progress_support_indexing_sends_no_progress(ls, tmp_path, log_path):
    copy = tmp_path / "b.jsonl"
    shutil.copyfile(log_path, copy)
    stats = await indexing.run_index(ls, paths=[str(copy)], title="x")
    assert stats.files_changed == 1 and ls.work_done_progress.events == []
