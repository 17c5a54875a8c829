"""Editor features for eval suites (``*.eval.json``): schema diagnostics, failing-check diagnostics
linked to the offending session events, a run lens per suite, and ``sessionlens.runEvals``."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from typing import Any

from lsprotocol import types as T

from sessionlens.evals import jsonpos
from sessionlens.evals.models import EvalSuite
from sessionlens.evals.runner import (
    SUITE_SUFFIX,
    Problem,
    SuiteError,
    find_suites,
    last_run,
    load_suite,
    run_suite_sync,
    validate_suite_text,
)
from sessionlens.lsp.commands import command
from sessionlens.lsp.convert import path_to_uri, uri_to_path
from sessionlens.lsp.core import DocumentProvider, Feature, SessionLensServer, provider_for, publish
from sessionlens.lsp.features.indexing import refresh_code_lenses
from sessionlens.lsp.progress import Progress
from sessionlens.models.api import RunEvalsParams
from sessionlens.models.store import EvalResultRow, EvalRun
from sessionlens.store import NotFound

log = logging.getLogger(__name__)

SOURCE = "sessionlens-evals"
MAX_RELATED = 20


def _range(text: str, start: int, end: int) -> T.Range:
    sl, sc = jsonpos.position(text, start)
    el, ec = jsonpos.position(text, max(end, start))
    return T.Range(start=T.Position(line=sl, character=sc), end=T.Position(line=el, character=ec))


def _failing_by_check(rows: list[EvalResultRow]) -> dict[str, tuple[int, list[EvalResultRow]]]:
    out: dict[str, tuple[int, list[EvalResultRow]]] = {}
    for r in rows:
        if r.data.get("skipped"):
            continue
        total, fails = out.get(r.check_id, (0, []))
        if not r.passed:
            fails.append(r)
        out[r.check_id] = (total + 1, fails)
    return out


class EvalDocuments(DocumentProvider):
    name = "evals"

    def matches(self, path: str) -> bool:
        return path.endswith(SUITE_SUFFIX)

    async def _state(
        self, ls: SessionLensServer, path: str
    ) -> tuple[str, EvalSuite | None, list[Problem], tuple[EvalRun, list[EvalResultRow]] | None]:
        text = ls.read_document(path) or ""
        suite, problems = validate_suite_text(text)
        run = await ls.run(last_run, ls.app, suite.name) if suite is not None else None
        return text, suite, problems, run

    async def diagnostics(self, ls: SessionLensServer, path: str) -> list[T.Diagnostic] | None:
        text, suite, problems, run = await self._state(ls, path)
        out = [
            T.Diagnostic(
                range=_range(text, p.start, p.end),
                message=p.message,
                source=SOURCE,
                code="schema",
                severity=T.DiagnosticSeverity.Error if p.severity == "error" else T.DiagnosticSeverity.Warning,
            )
            for p in problems
        ]
        if suite is None or run is None:
            return out
        meta, rows = run
        data = json.loads(text)
        by_check = _failing_by_check(rows)
        for i, check in enumerate(suite.checks):
            total, fails = by_check.get(check.check_id, (0, []))
            if not fails:
                continue
            span = jsonpos.locate(text, data, ("checks", i, "kind"))
            related = []
            for r in fails[:MAX_RELATED]:
                p = r.data.get("path")
                if not p:
                    continue
                line = max((r.evidence_seq or 1) - 1, 0)
                who = r.data.get("title") or r.session_id or ""
                related.append(
                    T.DiagnosticRelatedInformation(
                        location=T.Location(
                            uri=path_to_uri(p),
                            range=T.Range(start=T.Position(line=line, character=0), end=T.Position(line=line, character=1)),
                        ),
                        message=f"{' '.join(who.split())[:60]}: {r.message or ''}"[:300],
                    )
                )
            first = fails[0].message or ""
            out.append(
                T.Diagnostic(
                    range=_range(text, span.start, span.end),
                    message=f"{check.check_id}: failed in {len(fails)} of {total} session(s) in run #{meta.id}; first: {first}",
                    source=SOURCE,
                    code="check-failed",
                    severity=T.DiagnosticSeverity.Warning,
                    related_information=related or None,
                    data={"run_id": meta.id, "check_id": check.check_id},
                )
            )
        return out

    async def code_lens(self, ls: SessionLensServer, path: str) -> list[T.CodeLens] | None:
        text, suite, problems, run = await self._state(ls, path)
        if suite is None:
            return None
        data = json.loads(text)
        name_span = jsonpos.locate(text, data, ("name",))
        line = jsonpos.position(text, name_span.start)[0]
        args = [{"file": path}]
        if run is None:
            title = "Run · never run"
        else:
            meta, rows = run
            s = meta.summary
            title = f"Run · last run {s.get('passed', 0)}/{s.get('total', 0)} passed"
            if s.get("regressions"):
                title += f", {s['regressions']} regression{'s' if s['regressions'] != 1 else ''}"
            if s.get("cancelled"):
                title += " (cancelled)"
        rng = T.Range(start=T.Position(line=line, character=0), end=T.Position(line=line, character=1))
        lenses = [T.CodeLens(range=rng, command=T.Command(title=title, command="sessionlens.runEvals", arguments=args))]
        if run is not None:
            by_check = _failing_by_check(run[1])
            for i, check in enumerate(suite.checks):
                if check.check_id not in by_check:
                    continue
                total, fails = by_check[check.check_id]
                cl = jsonpos.position(text, jsonpos.locate(text, data, ("checks", i, "kind")).start)[0]
                mark = "✓" if not fails else "✗"
                lenses.append(
                    T.CodeLens(
                        range=T.Range(start=T.Position(line=cl, character=0), end=T.Position(line=cl, character=1)),
                        command=T.Command(title=f"{mark} {total - len(fails)}/{total} passed", command=""),
                    )
                )
        return lenses


PROVIDER = EvalDocuments()


def _suite_files(ls: SessionLensServer, a: RunEvalsParams) -> list[Path]:
    ref = a.file or a.uri
    if ref:
        p = uri_to_path(ref) if str(ref).startswith("file:") else str(Path(ref).absolute())
        if not p or not Path(p).is_file():
            raise NotFound(f"no such suite file: {ref}")
        return [Path(p)]
    files = find_suites(ls.app.workspace_folders)
    if not files:
        raise SuiteError("no *.eval.json suites in the workspace")
    return files


@command("sessionlens.runEvals")
async def run_evals(ls: SessionLensServer, a: RunEvalsParams) -> dict[str, Any]:
    """Run the suite ``a.file`` (path or uri), or every suite in the workspace, with cancellable progress."""
    files = _suite_files(ls, a)
    suites = [(f, load_suite(f)) for f in files]
    loop = asyncio.get_running_loop()
    cancel = threading.Event()
    progress = await Progress.start(ls, "Running evals", cancel=cancel)
    reports = []
    try:
        for n, (f, suite) in enumerate(suites):

            def on_progress(done: int, total: int, msg: str, name: str = suite.name, n: int = n) -> None:
                pct = int(100 * (n + (done / total if total else 1)) / len(suites))
                text = f"{name}: {done}/{total} sessions" + (f" · {msg}" if msg and msg != "done" else "")
                progress.report_threadsafe(loop, text, pct)

            reports.append(await ls.run(run_suite_sync, ls.app, suite, suite_path=str(f), progress=on_progress, cancel=cancel))
            if cancel.is_set():
                break
    except asyncio.CancelledError:
        cancel.set()
        raise
    finally:
        msg = "cancelled" if cancel.is_set() else ", ".join(f"{r.suite}: {r.passed}/{r.total}" for r in reports)
        progress.end(msg or "done")
    for uri, doc in list(ls.workspace.text_documents.items()):
        p = uri_to_path(uri)
        if p and provider_for(ls, p) is PROVIDER:
            await publish(ls, uri, doc.version)
    await refresh_code_lenses(ls)
    return {
        "cancelled": cancel.is_set(),
        "suites": [{"file": str(f), **r.to_dict()} for (f, _), r in zip(suites, reports)],
        "markdown": "\n".join(r.markdown() for r in reports),
    }


FEATURE = Feature("evals", documents=PROVIDER, commands=(run_evals,))
