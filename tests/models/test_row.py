"""models/row.py: the plain rows the store's read API returns behave as the pydantic models they
replaced did, as far as callers use them (attributes, model_dump, model_copy, model_fields)."""

from __future__ import annotations

import copy
import pickle

import pytest

from sessionlens.models.listing import SessionFilter, SessionPage, SessionSummary
from sessionlens.models.row import Row
from sessionlens.models.store import StoredSession, UsageTotals


class Base(Row):
    id: str
    tags: list[str] = []
    note: str | None = None


class Child(Base):
    n: int = 0


def test_fields_are_the_annotations_in_order_after_the_bases_and_defaults_apply():
    c = Child(id="a")
    assert Child._fields == ("id", "tags", "note", "n")
    assert list(Child.model_fields) == ["id", "tags", "note", "n"]
    assert Child.model_fields["id"].is_required() and Child.model_fields["n"].default == 0
    assert c.model_dump() == {"id": "a", "tags": [], "note": None, "n": 0}
    assert not hasattr(c, "__dict__")  # slots only


def test_a_mutable_default_is_a_fresh_copy_per_row():
    a, b = Base(id="a"), Base.from_dict({"id": "b"})
    a.tags.append("x")
    assert b.tags == [] and Base(id="c").tags == [] and Base._defaults["tags"] == []


def test_missing_or_unknown_fields_are_refused():
    with pytest.raises(TypeError, match="missing field 'id'"):
        Base()
    with pytest.raises(TypeError, match="unknown fields"):
        Base(id="a", nope=1)
    with pytest.raises(TypeError, match="missing field 'id'"):
        Base.from_dict({})


def test_model_copy_updates_a_copy_and_model_dump_filters():
    a = Child(id="a", tags=["t"], n=2)
    b = a.model_copy(update={"note": "x"})
    assert (a.note, b.note, b.n, b.tags is a.tags) == (None, "x", 2, True)
    assert a.model_copy(deep=True).tags is not a.tags
    with pytest.raises(TypeError):
        a.model_copy(update={"nope": 1})
    assert a.model_dump(exclude={"tags"}) == {"id": "a", "note": None, "n": 2}
    assert a.model_dump(include={"n", "id"}) == {"id": "a", "n": 2}  # field order, not the set's
    assert a.model_dump(exclude_none=True) == {"id": "a", "tags": ["t"], "n": 2}


def test_equality_by_type_and_values_repr_pickle_and_copy():
    a = Child(id="a", n=1)
    assert a == Child(id="a", n=1) and a != Child(id="a", n=2) and a != Base(id="a")
    assert repr(a) == "Child(id='a', tags=[], note=None, n=1)"
    for b in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert b == a and b is not a


def test_the_store_rows_keep_their_json_forms():
    s = StoredSession(id="s", agent="codex", path="/p", file_id=1)
    assert list(s.model_dump())[:3] == ["id", "agent", "cwd"] and s.models == [] and s.usage_lower_bound is False
    summary = SessionSummary(id="s", agent="codex", path="/p", file_id=1, tokens=None)
    assert isinstance(summary, StoredSession) and list(summary.model_dump())[-4:] == ["cost_usd", "cost_known", "tokens", "findings"]
    assert "untracked_sessions" not in UsageTotals().as_dict() and UsageTotals(untracked_sessions=2).as_dict()["untracked_sessions"] == 2
    assert SessionPage(total=1, rows=[summary]).facets == {}


def test_a_session_filter_checks_its_values_and_is_frozen():
    f = SessionFilter(agent="codex", limit=5)
    assert (f.limit, f.offset, f.sort) == (5, 0, "started")
    assert hash(f) == hash(SessionFilter(agent="codex", limit=5))
    with pytest.raises(AttributeError):
        f.limit = 3  # type: ignore[misc]
    for bad in ({"limit": 0}, {"offset": -1}, {"sort": "size"}, {"limit": "5"}):
        with pytest.raises(ValueError):
            SessionFilter(**bad)  # type: ignore[arg-type]
    assert f.model_copy(update={"offset": 10}).offset == 10


def test_from_row_sets_every_field_from_any_iterable_and_refuses_a_wrong_count():
    c = Child.from_row(iter(["a", ["t"], None, 3]))  # a generator, as the store's usage builder passes
    assert c == Child(id="a", tags=["t"], n=3) and not hasattr(c, "__dict__")
    assert Child.from_row is not Base.from_row  # each row class unpacks its own fields
    assert Base.from_row(("b", [], "x")).model_dump() == {"id": "b", "tags": [], "note": "x"}
    for bad in (("a", [], None), ("a", [], None, 1, 2)):
        with pytest.raises(ValueError):
            Child.from_row(bad)


def test_a_frozen_row_is_built_from_a_row_too():
    from sessionlens.models.row import FrozenRow

    class Key(FrozenRow):
        a: int
        b: list[int] = []

    k = Key.from_row((1, [2]))
    assert (k.a, k.b) == (1, [2]) and hash(k) == hash(Key(a=1, b=[2]))
    with pytest.raises(AttributeError):
        k.a = 2
    with pytest.raises(ValueError):
        Key.from_row((1,))
