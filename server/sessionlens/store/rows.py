"""Stored rows back into models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessionlens.models import Finding


def finding_from_row(row: dict[str, Any]) -> Finding:
    from sessionlens.models import EventRef, Finding, Severity

    return Finding(
        rule_id=row["rule_id"],
        severity=Severity(row["severity"]),
        message=row["message"],
        session_id=row["session_id"],
        seq=row["seq"],
        related=[EventRef(**r) for r in row.get("related") or []],
        guideline=row.get("guideline"),
        data=row.get("data") or {},
    )
