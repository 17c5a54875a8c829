"""Real corpus sessions against AGENTS.md files written for them."""

from pathlib import Path

from sessionlens.compliance.checker import RULE_ID, guideline_followed, guideline_results, report
from sessionlens.compliance.instructions import instruction_files
from sessionlens.models.store import StoredSession
from tests.compliance.conftest import AGENTS_MD, CRUD, IMAGES, IMAGES_COMMIT, IMAGES_CWD, copy_log, git, make_app


def _workspace(tmp_path, corpus):
    ws = tmp_path / "ws"
    logs = ws / "logs"
    paths = [copy_log(corpus, IMAGES, logs), copy_log(corpus, CRUD, logs)]
    (ws / "AGENTS.md").write_text(AGENTS_MD)
    return ws, paths


def test_violated_followed_never_applies_and_findings(tmp_path, corpus):
    ws, (images, crud) = _workspace(tmp_path, corpus)
    app = make_app(tmp_path)
    app.index([str(ws / "logs")])
    s_img = app.session_for_path(str(images))
    by_key = {r.guideline.key: r for r in guideline_results(app, s_img.id)}
    commit = by_key["id:no-commit"]
    assert commit.status == "violated" and commit.file.path == str(ws / "AGENTS.md")
    seq, note = commit.evidence[0]
    raw = images.read_text().split("\n")[seq - 1]
    assert '"git commit -m' in raw and "git commit" in note
    assert by_key["text:use rg instead of grep"].status == "followed"  # rg and sed only
    assert by_key["text:only deploy from ci"].status == "not-applicable"
    assert "text:be kind to reviewers" not in by_key  # not checkable
    # stored as findings on the violating line, related to the guideline's line in AGENTS.md
    f = [x for x in app.db().findings(session_id=s_img.id, rule=RULE_ID)]
    assert [x.seq for x in f] == [seq]
    assert f[0].related[0]["path"] == str(ws / "AGENTS.md") and f[0].related[0]["line"] == 5
    diag = [d for d in app.diagnostics(str(images)) if d.code == RULE_ID]
    assert diag[0].line == seq - 1 and diag[0].related[0]["line"] == 4 and diag[0].related[0]["path"].endswith("AGENTS.md")
    # the crud session never ran git: the commit rule does not apply to it
    s_crud = app.session_for_path(str(crud))
    assert {r.guideline.key: r.status for r in guideline_results(app, s_crud.id)}["id:no-commit"] == "not-applicable"
    assert guideline_followed(app, s_img.id, "no-commit")[0] is False
    assert guideline_followed(app, s_img.id, "Use `rg` instead of `grep`.")[0] is True
    assert guideline_followed(app, s_crud.id, "no-commit")[0] is None


def test_report_counts_and_never_relevant(tmp_path, corpus):
    ws, (images, crud) = _workspace(tmp_path, corpus)
    copy_log(corpus, "codex/localpush/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl", ws / "logs")
    app = make_app(tmp_path)
    app.index([str(ws / "logs")])
    rep = report(app, path=str(ws / "AGENTS.md"))
    assert rep["sessions"] == 3
    rows = {r["key"]: r for r in rep["rows"]}
    c = rows["id:no-commit"]
    assert (c["applied"], c["followed"], c["violated"]) == (1, 0, 1)
    assert c["violations"][0]["link"].startswith("sessionlens://session/")
    deploy = rows["text:only deploy from ci"]
    assert deploy["applied"] == 0 and deploy["never_relevant"] is True
    assert rows["text:use rg instead of grep"]["never_relevant"] is False


def test_nested_agents_md_precedence(tmp_path, corpus):
    repo = tmp_path / "repo"
    web = repo / "packages" / "web"
    web.mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "AGENTS.md").write_text(AGENTS_MD)
    (web / "AGENTS.md").write_text(
        "# Web\n\n- Commit your work when done. <!-- sessionlens: id=no-commit must-run=/git commit/ when=always -->\n"
    )
    inner = copy_log(corpus, IMAGES, tmp_path / "logs", {IMAGES_CWD: str(web)})
    outer = copy_log(corpus, CRUD, tmp_path / "logs2", {IMAGES_CWD + "/fixtures": str(repo)})
    app = make_app(tmp_path)
    app.index([str(inner), str(outer)])
    s_in = app.session_for_path(str(inner))
    files, note = instruction_files(s_in)
    assert [f.path for f in files] == [str(repo / "AGENTS.md"), str(web / "AGENTS.md")] and note == ""
    assert "no git commit" not in files[0].note  # the session's commit is not in this repo: current file, said so
    assert "not in this repository" in files[0].note
    res = {r.guideline.key: r for r in guideline_results(app, s_in.id)}
    assert res["id:no-commit"].file.path == str(web / "AGENTS.md") and res["id:no-commit"].status == "followed"
    res_out = {r.guideline.key: r for r in guideline_results(app, app.session_for_path(str(outer)).id)}
    assert res_out["id:no-commit"].file.path == str(repo / "AGENTS.md")


def test_reads_the_file_as_of_the_sessions_commit(tmp_path, corpus):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "AGENTS.md").write_text("# Rules\n\n- Never commit. <!-- sessionlens: id=c must-not-run=/git commit/ -->\n")
    git(repo, "add", "AGENTS.md")
    git(repo, "commit", "-qm", "v1")
    v1 = git(repo, "rev-parse", "HEAD")
    (repo / "AGENTS.md").write_text("# Rules\n\n- Intro line.\n- Committing is fine now.\n")
    git(repo, "commit", "-qam", "v2")
    old = copy_log(corpus, IMAGES, tmp_path / "logs", {IMAGES_CWD: str(repo), IMAGES_COMMIT: v1})
    app = make_app(tmp_path)
    app.index([str(old)])
    s = app.session_for_path(str(old))
    files, _ = instruction_files(s)
    assert files[0].commit == v1 and "Never commit" in files[0].text and v1[:10] in files[0].note
    res = {r.guideline.key: r for r in guideline_results(app, s.id)}
    assert res["id:c"].status == "violated" and res["id:c"].current_line is None
    f = app.db().findings(session_id=s.id, rule=RULE_ID)
    assert f and "as of commit" in f[0].related[0]["note"] and "no longer in the file" in f[0].related[0]["note"]
    # without a recorded commit the current file is used, and the note says so
    (repo / "CLAUDE.md").write_text("- Use `rg` instead of `grep`.\n")
    files, _ = instruction_files(StoredSession(id="x", agent="claude", cwd=str(repo), git_commit=None, path="", file_id=0))
    assert [Path(f.path).name for f in files] == ["CLAUDE.md"] and "no git commit" in files[0].note


def test_claude_imports_and_ruler(tmp_path, corpus):
    proj = tmp_path / "spotter"
    (proj / ".ruler").mkdir(parents=True)
    (proj / ".ruler" / "tools.md").write_text("- Never use WebFetch. <!-- sessionlens: must-not-use=WebFetch -->\n")
    (proj / "CLAUDE.md").write_text("@AGENTS.md\n")
    (proj / "AGENTS.md").write_text("- Use `mix phx.server` instead of `iex`.\n")
    log = copy_log(corpus, "claude/spotter/tool_heavy.jsonl", tmp_path / "logs", {"/home/marco/projects/spotter": str(proj)})
    app = make_app(tmp_path)
    app.index([str(log)])
    s = app.session_for_path(str(log))
    files, _ = instruction_files(s)
    assert [Path(f.path).name for f in files] == ["tools.md", "CLAUDE.md", "AGENTS.md"]
    res = {r.guideline.text: r for r in guideline_results(app, s.id)}
    web = res["Never use WebFetch."]
    assert web.status == "violated" and '"WebFetch"' in log.read_text().split("\n")[web.evidence[0][0] - 1]
    assert res["Use `mix phx.server` instead of `iex`."].status == "followed"
