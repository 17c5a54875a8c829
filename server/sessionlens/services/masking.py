"""Masking secrets in excerpts: a search snippet or a cut line may hold only part of a secret (the
detector needs the whole token), so the secrets are found in the full text and every piece of
them in the excerpt is masked, with highlight ranges moved to follow the masked text."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sessionlens.coach.redact import egress, find_secrets, may_hold_secret, redact

if TYPE_CHECKING:
    from pydantic import BaseModel

    from sessionlens.models.row import Row

M = TypeVar("M", bound="BaseModel | Row")

MIN_PIECE = 6  # a shorter piece of a secret at an excerpt's edge is left alone (it could be any word)


def _label(kind: str) -> str:
    return f"[REDACTED:{kind}]"


def secret_values(full_text: str | None) -> list[tuple[str, str]]:
    """(kind, value) of every secret the detector finds in ``full_text``."""
    if not full_text:
        return []
    return [(m[0], full_text[m[1] : m[2]]) for m in find_secrets(full_text)]


def _spans(excerpt: str, secrets: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    spans = [(m[1], m[2], m[0]) for m in find_secrets(excerpt)]
    # a search snippet folds whitespace: a multi-line secret (a PEM block) is looked for folded too
    folded = [(k, f) for k, v in secrets if (f := re.sub(r"\s+", " ", v)) != v]
    for kind, value in [*secrets, *folded]:
        start = excerpt.find(value)
        while start >= 0:
            spans.append((start, start + len(value), kind))
            start = excerpt.find(value, start + 1)
        # a secret cut by the excerpt's end or start
        for n in range(min(len(value) - 1, len(excerpt)), MIN_PIECE - 1, -1):
            if excerpt.endswith(value[:n]):
                spans.append((len(excerpt) - n, len(excerpt), kind))
                break
        for n in range(min(len(value) - 1, len(excerpt)), MIN_PIECE - 1, -1):
            if excerpt.startswith(value[-n:]):
                spans.append((0, n, kind))
                break
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for a, b, k in spans:
        if merged and a < merged[-1][1]:
            pa, pb, pk = merged[-1]
            merged[-1] = (pa, max(pb, b), pk)
        else:
            merged.append((a, b, k))
    return merged


def mask_excerpt(excerpt: str, highlights: list | None = None, full_text: str | None = None) -> tuple[str, list[list[int]]]:
    """``excerpt`` with every secret (or piece of one, found via ``full_text``) replaced by
    ``[REDACTED:<kind>]``, and ``highlights`` ([start, end) character ranges) moved to match."""
    spans = _spans(excerpt, secret_values(full_text))
    hl = [list(h) for h in highlights or []]
    if not spans:
        return excerpt, hl
    out, pos = [], 0
    moves: list[tuple[int, int, int, int]] = []  # old a, old b, new a, new b
    length = 0
    for a, b, k in spans:
        out.append(excerpt[pos:a])
        length += a - pos
        lab = _label(k)
        moves.append((a, b, length, length + len(lab)))
        out.append(lab)
        length += len(lab)
        pos = b
    out.append(excerpt[pos:])

    def new_pos(p: int, end: bool) -> int:
        shift = 0
        for oa, ob, na, nb in moves:
            if p <= oa:
                break
            if p < ob:
                return nb if end else na
            shift = nb - ob
        return p + shift

    new_hl = []
    for a, b in hl:
        na, nb = new_pos(a, False), new_pos(b, True)
        if nb > na:
            new_hl.append([na, nb])
    return "".join(out), new_hl


def mask_text(text: str | None) -> str | None:
    return redact(text) if text else text


#: Fields of a session row / a finding row that hold text from a log (masked for display).
SESSION_TEXT = ("title", "cwd", "project", "project_name", "git_remote", "git_branch", "originator")
FINDING_TEXT = ("message", "guideline", "title", "cwd", "project", "related", "data")


def mask_row(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """``row`` with the secrets in ``keys`` masked (in place; returned for chaining)."""
    for k in keys:
        v = row.get(k)
        if v and (not isinstance(v, str) or may_hold_secret(v)):
            row[k] = egress(v)
    return row


def mask_model(row: M, keys: tuple[str, ...]) -> M:
    """A store row (``models.store``) with the secrets in ``keys`` masked: a copy when anything
    changed, else ``row`` itself."""
    upd: dict[str, Any] = {}
    for k in keys:
        v = getattr(row, k, None)
        if v and (not isinstance(v, str) or may_hold_secret(v)):
            masked = egress(v)
            if masked != v:
                upd[k] = masked
    return cast("M", row.model_copy(update=upd)) if upd else row


def egress_model(row: M) -> M:
    """A store row with every field passed through ``egress`` (what leaves the machine or is shown
    with secrets masked)."""
    return mask_model(row, tuple(type(row).model_fields))
