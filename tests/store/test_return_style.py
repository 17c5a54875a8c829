"""The store's read API has one return style: typed rows (``models.store`` pydantic models, the team
hub's plain ``models.hubrows`` rows, or a ``NamedTuple`` for small internal rows), never an untyped
dict or tuple (see docs/ARCHITECTURE.md,
"The store's return style").

Checked on the return annotation of every public method of ``Store`` and every public function and
method of the repository modules in ``store/``:

- no ``Any`` anywhere in it (``dict[str, Any]``, ``tuple[Any, ...]``) and no unparametrized
  ``dict`` / ``list`` / ``tuple`` / ``Iterator``;
- a ``tuple[...]`` wider than a pair only as the element of an ``Iterator`` (a stream of raw rows
  on the indexing hot path, unpacked where it is read);
- mappings are fine when they map an id to a scalar or a typed row (``counts``, ``line_map``,
  ``turn_usage``).
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import typing

import pytest

from sessionlens.models import store as rows
from sessionlens.store import db, edits, hub, sessions, telemetry, webq
from tests.services.helpers import make_app

#: not a read API: a SQL fragment and its (heterogeneous) parameters
NOT_READS = {"sessions.where"}

#: repository functions not converted yet: the list may only shrink (the test fails when one of them is
#: typed, so it is taken off); empty since the hub's rows (``models.hubrows``) came
PENDING: set[str] = set()

REPOSITORIES = (sessions, webq, edits, telemetry, hub)


def problems(annotation: object) -> list[str]:
    """What is wrong with a return annotation (its text, as ``from __future__ import annotations`` keeps it)."""
    if annotation is inspect.Signature.empty:
        return ["no return annotation"]
    text = annotation if isinstance(annotation, str) else repr(annotation)
    out = []
    if re.search(r"\bAny\b", text):
        out.append("Any")
    if re.search(r"\b(dict|list|tuple|Iterator|Iterable|Sequence)\b(?!\[)", text):
        out.append("an unparametrized container")
    for m in re.finditer(r"(Iterator\[)?tuple\[([^\[\]]*)\]", text):
        if m.group(2).count(",") >= 2 and not m.group(1):
            out.append(f"a positional tuple[{m.group(2)}] (use a NamedTuple or a model)")
    return out


def _public(cls: type) -> list[tuple[str, object]]:
    return [(n, f) for n, f in vars(cls).items() if not n.startswith("_") and inspect.isfunction(f)]


def read_api() -> dict[str, object]:
    """qualified name -> return annotation of every public method/function checked."""
    out: dict[str, object] = {}
    for name, fn in _public(db.Store):
        out[f"Store.{name}"] = inspect.signature(fn).return_annotation
    for name, fn in _public(db.PreparedParse):
        out[f"PreparedParse.{name}"] = inspect.signature(fn).return_annotation
    for mod in REPOSITORIES:
        short = mod.__name__.rsplit(".", 1)[-1]
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isfunction(obj):
                out[f"{short}.{name}"] = inspect.signature(obj).return_annotation
            elif inspect.isclass(obj) and not issubclass(obj, tuple) and typing.Protocol not in obj.__mro__:
                for n2, fn in _public(obj):
                    out[f"{short}.{name}.{n2}"] = inspect.signature(fn).return_annotation
    return out


def test_the_checker_catches_what_it_should():
    assert problems("dict[str, Any] | None") == ["Any"]
    assert problems("list[tuple[Any, ...]]")[0] == "Any"
    assert problems("Iterator[tuple]") == ["an unparametrized container"]
    assert problems("list[tuple[str, str, int, int]]")
    assert problems(inspect.Signature.empty) == ["no return annotation"]
    for fine in ("StoredSession | None", "list[StoredFinding]", "dict[int, TurnUsage]", "dict[str, int]", "tuple[int, int]"):
        assert problems(fine) == [], fine
    assert problems("Iterator[tuple[int, str | None, str | None]]") == []


def test_the_read_api_returns_typed_rows():
    api = read_api()
    assert {"Store.get_session", "Store.findings", "Store.usage_report", "webq.findings_by_project", "edits.files_of"} <= set(api)
    bad = {name: p for name, ann in api.items() if name not in NOT_READS | PENDING and (p := problems(ann))}
    assert bad == {}, "untyped store rows: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(bad.items()))


def test_the_pending_list_only_shrinks():
    api = read_api()
    assert PENDING <= set(api), f"gone from the store, take them off PENDING: {sorted(PENDING - set(api))}"
    typed = sorted(name for name in PENDING if not problems(api[name]))
    assert typed == [], f"typed now, take them off PENDING: {typed}"


def test_every_row_model_is_a_plain_row_without_pydantic():
    models = [v for v in vars(rows).values() if isinstance(v, type) and v.__module__ == rows.__name__]
    assert len(models) >= 15
    assert [m.__name__ for m in models if not issubclass(m, rows.Row)] == []
    # slots only: a row holds its values, no per-object dict
    assert [m.__name__ for m in models if any("__dict__" in vars(c) for c in m.__mro__ if c is not object)] == []
    # reading rows imports no pydantic (a read command's budget: see tests/test_cli_imports.py)
    probe = (
        "import sys; import sessionlens.models.store, sessionlens.models.listing, sessionlens.store.db; print('pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


@pytest.fixture(scope="module")
def app(sample_logs, tmp_path_factory):
    a = make_app(tmp_path_factory.mktemp("rows") / "home")
    a.index([str(sample_logs)])
    yield a
    a.close()


def test_the_rows_carry_what_callers_read_and_dump_as_the_old_dicts(app):
    db_ = app.db()
    listing = db_.list_sessions(limit=1000)
    s = next(r for r in listing if r.turns > 1)
    got = db_.get_session(s.id)
    assert isinstance(got, rows.StoredSession) and db_.session_for_path(got.path) == got
    # the JSON form: exactly the columns, in the order outputs always had them
    assert list(got.model_dump()) == [c.split(".")[-1] for c in db.SESSION_COLS.split(", ")]
    assert got.model_dump() == {k: getattr(s, k) for k in rows.StoredSession.model_fields}
    tot = db_.session_totals([s.id])
    assert tot.requests == len(db_.usage_rows(s.id)) and "untracked_sessions" not in tot.as_dict()
    per_turn = db_.turn_usage(s.id)
    assert per_turn and sum(u.output for u in per_turn.values()) == tot.output
    found = db_.findings(limit=100_000)
    assert found and all(isinstance(f, rows.StoredFinding) and f.path and f.rule_id for f in found)
    one = db_.finding(found[0].id)
    assert isinstance(one, rows.FindingDetail) and one.model_dump(exclude={"cwd"}) == found[0].model_dump()
    report = db_.usage_report("model")
    assert sum(g.requests for g in report) == db_.session_totals(db_.all_session_ids()).requests
