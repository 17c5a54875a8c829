"""ProjectResolver: the deepest known root above a cwd, found by ancestor look-ups."""

from __future__ import annotations

from sessionlens.services.indexer import ProjectResolver


def test_a_cwd_inside_a_known_root_gets_the_deepest_one() -> None:
    r = ProjectResolver()
    assert r("/nowhere/a", "/nowhere/a") == "/nowhere/a"  # a root of its own (hint == cwd)
    assert r("/nowhere/a/b", "/nowhere/a/b") == "/nowhere/a/b"
    assert r("/nowhere/a/b/c/d") == "/nowhere/a/b"  # deepest, not the first found
    assert r("/nowhere/a/x") == "/nowhere/a"
    assert r("/nowhere/ab/x") == "/nowhere/ab/x"  # "/nowhere/a" is not a path prefix of it
    assert r("/nowhere/a") == "/nowhere/a"


def test_trailing_slashes_and_the_file_system_root() -> None:
    r = ProjectResolver()
    assert r("/nowhere/p/", "/nowhere/p/") == "/nowhere/p/"
    assert r("/nowhere/p/q") == "/nowhere/p/"
    assert r("/nowhere/pq") == "/nowhere/pq"
    assert r("/elsewhere", "/") == "/"  # the hint is an ancestor: taken
    assert r("/other/place") == "/"  # now a known root above everything


def test_many_sessions_do_not_scan_every_root() -> None:
    r = ProjectResolver()
    for i in range(3000):
        assert r(f"/nowhere/repo{i}/sub", f"/nowhere/repo{i}") == f"/nowhere/repo{i}"
    assert r("/nowhere/repo2999/sub/deeper") == "/nowhere/repo2999"
    assert len(r._by_stem) == 3000
