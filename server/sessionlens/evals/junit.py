"""JUnit XML for CI: one <testsuite> per run, one <testcase> per (session or case, check)."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Iterable

from sessionlens.evals.runner import RunReport


def to_junit(reports: Iterable[RunReport]) -> str:
    """The reports as a JUnit XML document (``testsuites`` root; failures carry the evidence location)."""
    root = ET.Element("testsuites", name="sessionlens evals")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    time_total = 0.0
    for rep in reports:
        suite = ET.SubElement(root, "testsuite", name=rep.suite)
        if rep.run_id is not None or rep.regressions:  # <properties> must come first
            props = ET.SubElement(suite, "properties")
            for name, value in (
                ("run_id", rep.run_id),
                ("baseline_run_id", rep.baseline_run_id),
                ("regressions", len(rep.regressions)),
                ("git_commit", rep.git_commit),
                ("instructions_hash", rep.instructions_hash),
            ):
                if value is not None:
                    ET.SubElement(props, "property", name=name, value=str(value))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        elapsed = max(0.0, rep.finished_at - rep.started_at)
        for s in rep.subjects:
            classname = f"{rep.suite}.{s.case_id or s.session_id}"
            if s.error:
                tc = ET.SubElement(suite, "testcase", name="run", classname=classname, time="0")
                err = ET.SubElement(tc, "error", message=s.error, type="RunError")
                err.text = s.error
                counts["tests"] += 1
                counts["errors"] += 1
            for r in s.results:
                tc = ET.SubElement(suite, "testcase", name=r.check_id, classname=classname, time="0")
                if s.path:
                    tc.set("file", s.path)
                    if r.evidence_seq:
                        tc.set("line", str(r.evidence_seq))
                counts["tests"] += 1
                if r.skipped:
                    ET.SubElement(tc, "skipped", message=r.message)
                    counts["skipped"] += 1
                elif not r.passed:
                    f = ET.SubElement(tc, "failure", message=r.message, type=r.kind)
                    where = f"\n{s.path}:{r.evidence_seq}" if s.path and r.evidence_seq else ""
                    f.text = r.message + where
                    counts["failures"] += 1
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("time", f"{elapsed:.3f}")
        suite.set("timestamp", datetime.fromtimestamp(rep.started_at or 0, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
        suite.set("hostname", socket.gethostname() or "localhost")
        time_total += elapsed
    for k, v in totals.items():
        if k != "skipped":
            root.set(k, str(v))
    root.set("time", f"{time_total:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
