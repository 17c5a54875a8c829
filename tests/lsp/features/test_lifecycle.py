from __future__ import annotations

from lsprotocol import types as T

from sessionlens.lsp.features import lifecycle


def test_watchers_cover_logs_and_project_config(ls):
    from sessionlens import agents

    globs = [w.glob_pattern for w in lifecycle.file_watchers(ls)]
    assert globs == [*agents.watch_globs(), "**/.sessionlens.json"]
    assert {"**/*.jsonl", "**/*.vscdb", "**/agent-transcripts/*.txt", "**/chats/session-*.json"} <= set(globs)
    # every agent's log patterns (from the registry) and the project config
    assert {"**/*.jsonl", "**/.sessionlens.json", "**/events.jsonl", "**/opencode.db", "**/crush.db"} <= set(globs)
    assert len(globs) == len(set(globs))


def test_workspace_folder_changes_update_the_scope_and_ask_a_full_pass(ls, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    ls.app.workspace_folders = [str(a)]
    lifecycle.did_change_folders(
        ls,
        T.DidChangeWorkspaceFoldersParams(
            event=T.WorkspaceFoldersChangeEvent(
                added=[T.WorkspaceFolder(uri=b.as_uri(), name="b")], removed=[T.WorkspaceFolder(uri=a.as_uri(), name="a")]
            )
        ),
    )
    assert ls.app.workspace_folders == [str(b)] and ls.full_pass_requested


async def test_initialized_registers_watchers_and_starts_indexing(ls):
    ls.capabilities |= {("workspace", "did_change_watched_files", "dynamic_registration")}
    await lifecycle.initialized(ls, T.InitializedParams())
    try:
        regs = [r for p in ls.registrations for r in p.registrations]
        assert [r.method for r in regs] == [T.WORKSPACE_DID_CHANGE_WATCHED_FILES]
        assert ls.index_wakeup is not None and ls.full_pass_requested and len(ls.tasks) == 2
    finally:
        for t in list(ls.tasks):
            t.cancel()


async def test_the_declared_documents_are_what_the_providers_claim(ls, tmp_path):
    from fnmatch import fnmatch

    from sessionlens.compliance.instructions import is_instruction_file
    from sessionlens.lsp.core import provider_for

    decl = await lifecycle.documents_command.execute(ls, [])
    assert "**/*.jsonl" in decl["logs"] and "**/*.eval.json" in decl["evals"] and "**/.sessionlens.json" in decl["config"]
    for glob in decl["instructions"]:
        # a concrete path for the glob: `**/` -> a folder, `*` -> a name
        path = str(tmp_path / glob.replace("**/", "proj/").replace("*", "notes"))
        assert fnmatch(path, "*" + glob.replace("**/", "/")), (glob, path)
        assert is_instruction_file(path), glob
        assert provider_for(ls, path).name == "guidelines", glob
    suite = str(tmp_path / decl["evals"][0].replace("**/", "").replace("*", "quality"))
    assert provider_for(ls, suite).name == "evals"
