"""#17 item 11 (paths from logs are data): go-to-definition only reaches files inside the open
workspace folders, and nothing outside them is read to find a hunk's line; over the services and
over LSP with the real server."""

from __future__ import annotations

import asyncio
import builtins
import os
from pathlib import Path

import orjson
import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

import sessionlens.services.app as app_module
from tests.lsp.conftest import server_command, vscode_caps, wait_idle
from tests.reliability.base_logs import generated
from tests.reliability.hostile import lines_of
from tests.services.helpers import make_app

TRAVERSALS = [
    "/etc/passwd",
    "../../../../../../etc/passwd",
    "src/../../../../../../etc/passwd",
    "/proc/self/environ",
    "~/.ssh/id_rsa",
    "passwd",
    "/./etc//passwd",
    "link-out.txt",
    "linkdir/passwd",
    "ws-sibling/secret.txt",
]


def _edit_log(base: bytes, cwd: str, files: list[str]) -> bytes:
    """The generated transcript with one Edit per path (each its own assistant line)."""
    lines = lines_of(base)
    tmpl = next(orjson.loads(x) for x in lines if b'"name":"Edit"' in x)
    out = list(lines)
    for i, f in enumerate(files):
        obj = orjson.loads(orjson.dumps(tmpl))
        obj["cwd"] = cwd
        obj["uuid"] = f"00000000-0000-4000-8000-{i:012d}"
        obj["message"]["id"] = f"msg_hostile_{i}"
        block = obj["message"]["content"][0]
        block["id"] = f"toolu_hostile_{i}"
        block["input"] = {"file_path": f, "old_string": "root", "new_string": "root = 1"}
        out.append(orjson.dumps(obj))
    return b"\n".join(out) + b"\n"


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("paths")
    ws = root / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "inside.py").write_text("print('inside')\nroot = 1\n")
    sibling = root / "ws-sibling"
    sibling.mkdir()
    (sibling / "secret.txt").write_text("root outside\n")
    os.symlink("/etc/passwd", ws / "link-out.txt")
    os.symlink("/etc", ws / "linkdir")
    base = generated(root / "base", seed=3)["claude"]
    files = [*TRAVERSALS, "src/inside.py", str(ws / "src" / "inside.py")]
    log = ws / "logs" / "claude" / "-ws" / "0195e0f0-0000-4000-8000-00000000abcd.jsonl"
    log.parent.mkdir(parents=True)
    # the session ran "in" /etc: relative paths of the log resolve against a folder outside the workspace
    log.write_bytes(_edit_log(base, "/etc", files))
    first = len(lines_of(base))
    return ws, log, files, first


def test_item11_definition_stays_inside_the_workspace(layout, tmp_path, monkeypatch, figures):
    ws, log, files, first = layout
    opened: list[str] = []
    real_open = builtins.open

    def spy(file, *a, **kw):
        opened.append(os.fspath(file))
        return real_open(file, *a, **kw)

    monkeypatch.setattr(app_module, "open", spy, raising=False)
    app = make_app(tmp_path / "home")
    try:
        app.workspace_folders = [str(ws)]
        assert app.index([str(log)]).errors == []
        allowed = os.path.realpath(ws)
        hits = {}
        for i, f in enumerate(files):
            figures.add("paths tried")
            targets = app.definition(str(log), first + i)  # 0-based line of the i-th Edit
            hits[f] = targets
            for path, _line in targets:
                if os.path.commonpath([os.path.realpath(path), allowed]) != allowed:
                    figures.add("outside reads", 1, f"{f} -> {path}")
        for path in opened:
            if os.path.commonpath([os.path.realpath(path), allowed]) != allowed:
                figures.add("outside reads", 1, f"read {path}")
        # the workspace's own file is still found, by relative and absolute path
        assert [os.path.basename(p) for p, _ in hits["src/inside.py"]] == ["inside.py"]
        assert hits["src/inside.py"][0][1] == 1  # the hunk line was looked up (inside the workspace)
        assert hits[str(ws / "src" / "inside.py")]
        app.workspace_folders = []  # no workspace open: no definition at all
        assert app.definition(str(log), first + len(files) - 1) == []
    finally:
        app.close()
    figures.check()


_S: dict = {}


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command()))
async def client(lsp_client: LanguageClient, layout, tmp_path_factory):
    ws, log, files, first = layout
    home = tmp_path_factory.mktemp("lsp-home")
    _S.update(ws=ws, log=log, files=files, first=first)
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=vscode_caps(),
            workspace_folders=[T.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
            initialization_options={"storePath": str(home), "includeHomeLogs": False},
        )
    )
    await wait_idle(lsp_client)
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 10)


@pytest.mark.lsp
@pytest.mark.asyncio(loop_scope="module")
async def test_item11_definition_over_lsp(client: LanguageClient, figures):
    ws, log, files, first = _S["ws"], _S["log"], _S["files"], _S["first"]
    allowed = os.path.realpath(ws)
    found_inside = 0
    for i, f in enumerate(files):
        figures.add("paths tried")
        res = await client.text_document_definition_async(
            T.DefinitionParams(text_document=T.TextDocumentIdentifier(uri=log.as_uri()), position=T.Position(line=first + i, character=2))
        )
        for loc in res or []:
            target = Path(loc.uri.removeprefix("file://"))
            if os.path.commonpath([os.path.realpath(target), allowed]) != allowed:
                figures.add("outside reads", 1, f"{f} -> {loc.uri}")
            else:
                found_inside += 1
    assert found_inside == 2  # the two spellings of the workspace file
    figures.check()


def test_item10_quick_fix_targets_stay_inside_the_workspace(tmp_path, figures):
    """Every quick fix (add a guideline, disable a rule) of sessions whose log names a hostile folder
    (``/etc``, ``/``, a relative path, ``..``, a symlink out of the workspace) targets a file inside
    the open workspace folders, or is refused with a reason.  (The confinement itself is branch
    ``coach``'s: this test runs where its ``TargetRefused`` exists.)"""
    import random

    from sessionlens.samples.generator import generate_claude_session
    from sessionlens.services import coaching
    from tests.reliability.base_logs import START

    refused_cls = getattr(coaching, "TargetRefused", None)
    if refused_cls is None:
        pytest.skip("quick-fix confinement (branch coach) not merged yet")
    ws = tmp_path / "ws"
    (ws / "proj").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", ws / "escape")
    cwds = [
        "/etc",
        "/",
        "relative/dir",
        str(ws / ".." / "outside"),
        str(ws / "escape"),
        str(ws / "proj"),
        str(ws / "proj" / ".." / ".." / "outside"),
    ]
    rng = random.Random(10)
    for i, cwd in enumerate(cwds):
        p = tmp_path / "logs" / f"-hostile-{i}" / f"0195e0f0-0000-4000-8000-{i:012d}.jsonl"
        generate_claude_session(rng, path=p, start=START, turns=3, cwd=cwd, problems=("repeat_failure", "edits_no_tests"))
    app = make_app(tmp_path / "home")
    try:
        app.workspace_folders = [str(ws)]
        assert app.index([str(tmp_path / "logs")]).errors == []
        svc = coaching.CoachService(app)
        allowed = os.path.realpath(ws)
        tried = 0
        for f in app.findings():
            for make in (svc.guideline_edit, svc.disable_rule_edit):
                tried += 1
                figures.add("paths tried")
                try:
                    edit = make(f)
                except refused_cls:
                    continue
                if edit is not None and os.path.commonpath([os.path.realpath(edit.path), allowed]) != allowed:
                    figures.add("outside writes", 1, f"{f.rule_id} ({f.cwd or f.project}): {edit.path}")
        assert tried > 0
    finally:
        app.close()
    figures.check()
