"""Every command's --json validates against its schema in schemas/ (the versioned contract)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from sessionlens import cli
from sessionlens.schemas import generate
from tests.cli_fixtures import run

SCHEMAS = {name: json.loads(text) for name, text in generate().items()}


def validate(command: str, doc) -> None:
    schema = SCHEMAS[f"cli-{command}.schema.json"]
    assert schema["x-sessionlens-version"] == 1
    jsonschema.Draft202012Validator(schema).validate(doc)


def _json(capsys, *argv):
    rc, out, err = run(capsys, *argv, "--json")
    assert rc in (0, 1), err
    return json.loads(out)


@pytest.mark.parametrize(
    "command, argv",
    [
        ("stats", ["stats"]),
        ("sessions", ["sessions"]),
        ("search", ["search", "test"]),
        ("cost", ["cost", "--by", "model"]),
        ("cost", ["cost", "--by", "session"]),
        ("coach", ["coach"]),
        ("doctor", ["doctor"]),
        ("index", ["index"]),
    ],
)
def test_json_output_matches_its_schema(capsys, sample_store, sample_logs, command, argv):
    if command == "index":
        argv = [*argv, str(sample_logs)]
    validate(command, _json(capsys, *argv, "--home", str(sample_store)))


def test_show_json_matches(capsys, sample_store):
    sid = _json(capsys, "sessions", "--home", str(sample_store))[0]["id"]
    validate("show", _json(capsys, "show", sid, "--home", str(sample_store)))
    validate("show-markdown", _json(capsys, "show", sid, "--markdown", "--home", str(sample_store)))


def test_import_and_schemas_json_match(capsys, sample_store, tmp_path):
    f = tmp_path / "b.jsonl"
    assert cli.main(["export", "--all", "--format", "jsonl", "-o", str(f), "--home", str(sample_store)]) == 0
    capsys.readouterr()
    validate("import", _json(capsys, "import", str(f), "--home", str(tmp_path / "h")))
    validate("schemas", _json(capsys, "schemas", "--out", str(tmp_path / "schemas")))


def test_main_job_json_matches(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    (tmp_path / "user").mkdir()
    for var in ("CODEX_HOME", "CLAUDE_CONFIG_DIR", "SESSIONLENS_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    d = _json(capsys, "--home", str(tmp_path / "h"))
    validate("main", d)
    assert d["samples"] is True


def test_a_wrong_document_fails_validation():
    with pytest.raises(jsonschema.ValidationError):
        validate("stats", {"sessions": "many"})
    with pytest.raises(jsonschema.ValidationError):
        validate("sessions", [{"id": 1}])


def test_schemas_in_the_repository_are_current():
    from tests.services.helpers import REPO

    for name, text in generate().items():
        assert (REPO / "schemas" / name).read_text() == text, f"run `make schemas`: {name} is stale"


def test_eval_and_rules_json_match(capsys, sample_store):
    from tests.services.helpers import REPO

    suite = REPO / "examples" / "evals" / "agent-quality.eval.json"
    run_doc = _json(capsys, "eval", "run", str(suite), "--home", str(sample_store))
    validate("eval-run", run_doc)
    assert run_doc["runs"] and run_doc["ok"] is False  # the example suite is meant to fail on the samples
    ds = _json(capsys, "eval", "dataset", str(REPO / "examples" / "evals" / "sample.dataset.jsonl"), "--home", str(sample_store))
    validate("eval-run", ds)
    validate("eval-history", _json(capsys, "eval", "history", run_doc["runs"][0]["suite"], "--home", str(sample_store)))
    validate("rules", _json(capsys, "rules", "--home", str(sample_store)))
