"""The labeled set (labels.json): every finding on the corpus is labeled, no labeled-wrong finding comes
back, and precision stays at the target (>= 95% correct, no wrong finding at error severity)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.coach.precision import LABELS, corpus_findings, load_labels, markdown, table


@pytest.fixture(scope="module")
def findings(corpus: Path, tmp_path_factory) -> dict:
    return corpus_findings(corpus, tmp_path_factory.mktemp("precision"))


def test_labels_are_well_formed() -> None:
    labels = load_labels()
    assert labels
    for key, lab in labels.items():
        assert lab["label"] in LABELS, key
        assert key.split(":")[-1] == lab["rule"] or lab["rule"] == "guideline-violation", key
        assert lab["note"].strip(), f"{key}: say what the log line shows"


def test_every_corpus_finding_is_labeled(findings: dict) -> None:
    labels = load_labels()
    new = sorted(k for k in findings if k not in labels)
    assert not new, (
        "unlabeled findings (label them by reading the log line; "
        "`python -m tests.coach.precision --new` prints templates): " + ", ".join(new)
    )


def test_no_labeled_wrong_finding_comes_back(findings: dict) -> None:
    labels = load_labels()
    back = sorted(k for k in findings if labels.get(k, {}).get("label") == "wrong" and not labels[k].get("pending"))
    assert not back, "findings labeled wrong are produced again: " + ", ".join(back)


def test_pending_labels_name_the_fix() -> None:
    """A wrong finding another branch fixes (e.g. the secret detector's placeholders, owned by `hostile`) is
    labeled wrong with ``pending`` naming that fix: it counts against precision in the table, and the
    target below holds without it until that branch is merged (then drop the key)."""
    for key, lab in load_labels().items():
        if lab.get("pending"):
            assert lab["label"] == "wrong" and len(lab["pending"]) > 10, key


def test_precision_target(findings: dict) -> None:
    labels = load_labels()
    rows = table(findings, labels)
    total = rows[-1]
    assert total["rule"] == "all" and total["findings"] == len(findings) > 0
    settled = {k: f for k, f in findings.items() if not labels.get(k, {}).get("pending")}
    own = table(settled, labels)[-1]
    assert own["precision"] >= 0.95, markdown(rows, 0)
    wrong_errors = [k for k, f in settled.items() if f["severity"] == "error" and labels.get(k, {}).get("label") == "wrong"]
    assert not wrong_errors


def test_precision_table_counts_labels() -> None:
    fake = {
        "a:1:tool-error": {"rule_id": "tool-error"},
        "a:2:tool-error": {"rule_id": "tool-error"},
        "b:1:aborted-turn": {"rule_id": "aborted-turn"},
    }
    labels = {"a:1:tool-error": {"label": "correct"}, "a:2:tool-error": {"label": "wrong"}}
    rows = {r["rule"]: r for r in table(fake, labels)}
    assert rows["tool-error"]["precision"] == 0.5 and rows["aborted-turn"]["unlabeled"] == 1
    assert rows["all"]["findings"] == 3 and abs(rows["all"]["precision"] - 1 / 3) < 1e-9
    assert "| `tool-error` | 2 | 1 | 1 | 0 | 0 | 50.0% |" in markdown(list(rows.values()), 0)
