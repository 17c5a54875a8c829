"""The Tantivy index over the real corpus: rebuilds (missing, outdated schema, corrupt), filters,
snippets, hostile query text, and hit locations that point at the right log line."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from sessionlens.search import index as search_index
from tests.services.helpers import index, make_app, search_docs

TERM = "test"


@pytest.fixture(scope="module")
def home(corpus, tmp_path_factory) -> Path:
    h = tmp_path_factory.mktemp("search") / "home"
    st = index(h, corpus)
    assert st.search_docs > 1000 and not st.errors
    return h


@pytest.fixture(scope="module")
def app(home):
    a = make_app(home)
    yield a
    a.close()


def _results(app, query: str, **kw) -> list[tuple]:
    return [(h["session_id"], h["line"], h["kind"]) for h in app.search(query, limit=2000, **kw)["hits"]]


@pytest.fixture
def copy(home, tmp_path) -> Path:
    dst = tmp_path / "home"
    shutil.copytree(home, dst)
    return dst


def _rebuilt_equal(original: Path, copy: Path, app_original) -> None:
    app = make_app(copy)
    try:
        assert app.search_index.needs_rebuild()
        # the first search rebuilds the derived index from the store (no silent empty results)
        assert app.search(TERM)["total"] == app_original.search(TERM)["total"] > 0
        assert not app.search_index.needs_rebuild()
        assert search_docs(copy) == search_docs(original)
        for q in (TERM, "README", "error"):
            assert _results(app, q) == _results(app_original, q)
    finally:
        app.close()


def test_rebuilt_from_the_store_after_the_index_dir_is_deleted(home, app, copy):
    shutil.rmtree(copy / "index")
    _rebuilt_equal(home, copy, app)


def test_rebuilt_when_the_schema_version_changes(home, app, copy, monkeypatch):
    monkeypatch.setattr(search_index, "SCHEMA_VERSION", search_index.SCHEMA_VERSION + 100)
    _rebuilt_equal(home, copy, app)
    assert (copy / "index" / "sessionlens-schema-version").read_text() == str(search_index.SCHEMA_VERSION)


def test_rebuilt_when_the_index_dir_is_corrupt(home, app, copy):
    for f in (copy / "index").iterdir():
        if f.is_file() and f.name != "sessionlens-schema-version":
            f.write_bytes(b"\x00garbage\xff" * 7)
    (copy / "index" / "stray.bin").write_bytes(b"junk")
    _rebuilt_equal(home, copy, app)


def _narrows(app, key: str, value, check) -> None:
    everything = app.search(TERM, limit=2000)
    narrowed = app.search(TERM, limit=2000, **{key: value})
    assert 0 < narrowed["total"] < everything["total"], (key, value)
    assert len(narrowed["hits"]) == narrowed["total"]
    for h in narrowed["hits"]:
        assert check(h), (key, value, h)


def test_filters_narrow_results(app):
    hits = app.search(TERM, limit=2000)["hits"]
    assert len(hits) > 50
    _narrows(app, "agent", "codex", lambda h: h["agent"] == "codex")
    _narrows(app, "agent", "claude", lambda h: h["agent"] == "claude")
    project = next(h["project"] for h in hits if h["project"])
    name = Path(project).name
    _narrows(app, "project", name, lambda h: h["project"] == project or h["project"].endswith("/" + name))
    _narrows(app, "kind", "tool_call", lambda h: h["kind"] == "tool_call")
    _narrows(app, "kind", "user_message,assistant_message", lambda h: h["kind"] in ("user_message", "assistant_message"))
    tool = next(h["tool"] for h in hits if h["tool"])
    _narrows(app, "tool", tool, lambda h: h["tool"] == tool)
    session = hits[0]["session_id"]
    _narrows(app, "session", session, lambda h: h["session_id"] == session)
    stamps = sorted(int(datetime.fromisoformat(h["timestamp"]).timestamp()) for h in hits if h["timestamp"])
    mid = stamps[len(stamps) // 2]
    assert stamps[0] < mid
    _narrows(app, "since", mid, lambda h: datetime.fromisoformat(h["timestamp"]).timestamp() >= mid)
    _narrows(app, "until", mid, lambda h: datetime.fromisoformat(h["timestamp"]).timestamp() < mid)
    day = datetime.fromtimestamp(mid).astimezone().strftime("%Y-%m-%d")  # ISO dates work too
    assert app.search(TERM, since=day, until=day)["total"] > 0


def test_snippets_highlight_the_query_term(app):
    res = app.search(TERM, limit=200)
    assert res["hits"]
    for h in res["hits"]:
        assert h["highlights"], h
        for a, b in h["highlights"]:
            assert h["snippet"][a:b].lower().startswith(TERM), (h["snippet"], a, b)
        assert "<b>" in h["snippet_html"]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "(open",
        "close)",
        "text:",
        ":",
        "kind:",
        'kind:"tool_call',
        "a AND",
        "OR",
        "NOT",
        "*",
        "\\",
        '"',
        "''",
        "title:(",
        "+",
        "-",
        "~",
        "^2",
        "test^",
        "ts:[1 TO",
        "line:>5",
        "🙂",
        "a" * 5000,
        "foo:bar:baz",
        "[]{}",
        "  ",
        "",
    ],
)
def test_hostile_query_text_never_raises(app, query):
    res = app.search(query, limit=5)
    assert isinstance(res["total"], int) and isinstance(res["hits"], list) and isinstance(res["warnings"], list)


def test_hits_point_at_a_log_line_containing_the_term(app):
    res = app.search(TERM, limit=300)
    assert len(res["hits"]) > 50
    cache: dict[str, list[bytes]] = {}
    for h in res["hits"]:
        if "#" in h["path"] and not Path(h["path"]).exists():  # a session inside a database: the transcript is its view
            assert Path(h["path"].rpartition("#")[0]).is_file() and h["link"].endswith(f"?event={h['seq']}")
            continue
        lines = cache.setdefault(h["path"], Path(h["path"]).read_bytes().split(b"\n"))
        raw = lines[h["line"] - 1].decode("utf-8", "replace").lower()
        if h["end_line"] > h["line"]:  # a message of a JSON document: the term is in its line range
            raw = b"\n".join(lines[h["line"] - 1 : h["end_line"]]).decode("utf-8", "replace").lower()
        if h["path"].endswith(".txt"):  # a text transcript: the event is the block that starts at its line
            end = next(
                (i for i in range(h["line"], len(lines)) if lines[i][:1] == b"[" or lines[i] in (b"user:", b"assistant:")), len(lines)
            )
            raw = b"\n".join(lines[h["line"] - 1 : end]).decode("utf-8", "replace").lower()
        assert TERM in raw, (h["path"], h["line"], h["snippet"])
        assert h["link"].endswith(f"?event={h['seq']}")  # == line, except where a line holds several events (Pi)
