"""``models.hubrows``: the team hub store's plain rows (``models.row.Row``: no pydantic, no dataclasses)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sessionlens.models.hubrows import ApiKey, ApiKeyCredential, AuditEntry, HubRow, HubUser, PushedFile


def test_fields_are_slots_in_annotation_order_with_defaults():
    class Point(HubRow):
        x: int
        y: int = 0
        label: str | None = None

    class Named(Point):
        name: str = "p"

    assert Point._fields == ("x", "y", "label") and Point.__slots__ == ("x", "y", "label")
    assert Named._fields == ("x", "y", "label", "name") and Named.__slots__ == ("name",)
    p = Point(x=1)
    assert (p.x, p.y, p.label) == (1, 0, None)
    assert list(Named(x=2, name="n").model_dump().items()) == [("x", 2), ("y", 0), ("label", None), ("name", "n")]
    with pytest.raises(AttributeError):
        p.z = 3  # type: ignore[attr-defined]  # slots: no stray attributes
    with pytest.raises(TypeError, match="missing field 'x'"):
        Point()
    with pytest.raises(TypeError, match="unknown fields"):
        Point(x=1, z=2)

    class Tagged(HubRow):
        tags: list[str] = []  # noqa: RUF012 - a Row copies a mutable default per row

    one, two = Tagged(), Tagged()
    one.tags.append("x")
    assert two.tags == [] and Tagged().tags == []


def test_equality_is_by_type_and_values_and_rows_are_not_hashable():
    a = PushedFile.from_row(("k", "p", "m", "s.jsonl", "/h", 3, 4, None, 1.5))
    b = PushedFile(
        file_key="k",
        project="p",
        machine="m",
        source_name="s.jsonl",
        hub_path="/h",
        committed_source=3,
        committed_len=4,
        pushed_by=None,
        updated_at=1.5,
    )
    assert a == b and a != PushedFile.from_row(("k", "p", "m", "s.jsonl", "/h", 3, 5, None, 1.5))
    assert a != a.model_dump()
    with pytest.raises(TypeError):
        hash(a)
    with pytest.raises(ValueError):
        PushedFile.from_row(("k", "p"))  # a short row is a bug, not a partial row
    assert repr(a).startswith("PushedFile(file_key='k', project='p'")


def test_repr_never_shows_a_secret_hash():
    u = HubUser(id=1, username="ann", pw_hash="$argon2id$secret", role="admin", disabled=0, created_at=1.0)
    k = ApiKeyCredential.from_row((1, "abc", "deadbeef" * 8, 1, "laptop", ["read"], None, None, 1.0, None, None))
    assert "argon2" not in repr(u) and "pw_hash=***" in repr(u) and "username='ann'" in repr(u)
    assert "deadbeef" not in repr(k) and "secret_hash=***" in repr(k)
    # the dump keeps them (the store's callers check them); only the public key record drops the hash
    assert u.model_dump()["pw_hash"] == "$argon2id$secret" and list(k.model_dump())[2] == "secret_hash"
    pub = k.public()
    assert isinstance(pub, ApiKey) and "secret_hash" not in pub.model_dump() and not hasattr(pub, "secret_hash")
    assert pub.model_dump() == {n: v for n, v in k.model_dump().items() if n != "secret_hash"}


def test_a_row_is_mutable_like_the_old_dicts():
    e = AuditEntry.from_row((1, 1.0, "a", "b", None, None, "ok", None, "0" * 64, ""))
    e.hash = "h"
    assert e.model_dump()["hash"] == "h"


def test_importing_the_rows_loads_neither_pydantic_nor_dataclasses():
    code = "import sys, sessionlens.models.hubrows; print(sorted(m for m in ('pydantic', 'dataclasses') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
