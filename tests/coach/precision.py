"""The coach's precision, measured on the real-log corpus against a labeled set.

Every finding the store produces on the corpus (``SESSIONLENS_CORPUS``) is keyed stably by
``<file relative to the corpus>:<line>:<rule>`` and labeled in ``labels.json`` (next to this file)
as ``correct`` (the log line shows what the message says, and the guideline fits), ``wrong`` (the
message states something the log does not show) or ``unhelpful`` (true, but noise).  Labels of
findings the coach no longer produces stay in the set: a ``wrong`` one coming back is a regression.

    .venv/bin/python -m tests.coach.precision            # the table per rule (Markdown)
    .venv/bin/python -m tests.coach.precision --new      # label templates for unlabeled findings
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

LABELS_PATH = Path(__file__).with_name("labels.json")
LABELS = ("correct", "wrong", "unhelpful")


def finding_key(corpus: Path | str, f: dict[str, Any]) -> str:
    rel = os.path.relpath(f["path"], str(corpus))
    key = f"{rel}:{f['seq']}:{f['rule_id']}"
    if f["rule_id"] == "guideline-violation":  # several guidelines may be violated on one line
        key += ":" + str((f.get("data") or {}).get("guideline_key", ""))
    return key


def corpus_findings(corpus: Path, home: Path) -> dict[str, dict[str, Any]]:
    """{key: finding} of everything the coach produces on the corpus, through the real indexer."""
    from sessionlens.services.app import App
    from sessionlens.services.settings import Settings

    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    try:
        app.index([str(corpus)])
        out: dict[str, dict[str, Any]] = {}
        for row in app.db().findings(limit=1_000_000):
            f = row.model_dump()
            key = finding_key(corpus, f)
            assert key not in out, f"two findings share the key {key}"
            out[key] = f
        return out
    finally:
        app.close()


def load_labels(path: Path = LABELS_PATH) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["labels"]


def table(findings: dict[str, dict[str, Any]], labels: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows per rule: findings produced now, how they are labeled, and the precision."""
    per: dict[str, Counter] = defaultdict(Counter)
    for key, f in findings.items():
        per[f["rule_id"]][labels.get(key, {}).get("label", "unlabeled")] += 1
        per[f["rule_id"]]["findings"] += 1
    rows = []
    total: Counter = Counter()
    for rule in sorted(per):
        c = per[rule]
        total.update(c)
        rows.append(
            {
                "rule": rule,
                **{k: c[k] for k in ("findings", *LABELS, "unlabeled")},
                "precision": c["correct"] / c["findings"] if c["findings"] else None,
            }
        )
    rows.append(
        {
            "rule": "all",
            **{k: total[k] for k in ("findings", *LABELS, "unlabeled")},
            "precision": total["correct"] / total["findings"] if total["findings"] else None,
        }
    )
    return rows


def markdown(rows: list[dict[str, Any]], fixed: int) -> str:
    out = ["| rule | findings | correct | wrong | unhelpful | unlabeled | precision |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        p = "–" if r["precision"] is None else f"{100 * r['precision']:.1f}%"
        name = f"**{r['rule']}**" if r["rule"] == "all" else f"`{r['rule']}`"
        out.append(f"| {name} | {r['findings']} | {r['correct']} | {r['wrong']} | {r['unhelpful']} | {r['unlabeled']} | {p} |")
    out.append("")
    out.append(f"Labeled findings the coach no longer produces (fixed, kept as regression guards): {fixed}.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=os.environ.get("SESSIONLENS_CORPUS") or "../shared/corpus")
    ap.add_argument("--new", action="store_true", help="print label templates (JSON) for unlabeled findings")
    args = ap.parse_args(argv)
    corpus = Path(args.corpus).resolve()
    with tempfile.TemporaryDirectory(prefix="sessionlens-precision-") as tmp:
        findings = corpus_findings(corpus, Path(tmp))
    labels = load_labels()
    if args.new:
        new = {
            k: {"label": "?", "rule": f["rule_id"], "severity": f["severity"], "message": f["message"], "note": ""}
            for k, f in findings.items()
            if k not in labels
        }
        json.dump(new, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    fixed = sum(1 for k in labels if k not in findings)
    print(markdown(table(findings, labels), fixed))
    pending = {k: f for k, f in findings.items() if labels.get(k, {}).get("pending")}
    if pending:
        own = table({k: f for k, f in findings.items() if k not in pending}, labels)[-1]
        print(
            f"\n{len(pending)} wrong finding(s) wait for another branch's fix (`pending`); without them: "
            f"{own['correct']} of {own['findings']} correct ({100 * own['precision']:.1f}%)."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
