"""Stored rows back into models."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sessionlens.models import Finding
    from sessionlens.models.store import StoredFinding


def finding_from_row(row: StoredFinding) -> Finding:
    """The domain's ``Finding`` of a stored one."""
    from sessionlens.models import EventRef, Finding, Severity

    return Finding(
        rule_id=row.rule_id,
        severity=Severity(row.severity),
        message=row.message,
        session_id=row.session_id,
        seq=row.seq,
        related=[EventRef(**r) for r in row.related],
        guideline=row.guideline,
        data=row.data,
    )
