"""Coach findings for display: listed, counted per rule, totalled, and the rules themselves."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, TypedDict

from sessionlens.services.base import Host
from sessionlens.services.masking import FINDING_TEXT, mask_model
from sessionlens.services.sessions import Sessions

if TYPE_CHECKING:
    from sessionlens.models.store import StoredFinding


class RuleCount(TypedDict):
    rule_id: str
    severity: str
    findings: int
    sessions: int


class FindingTotals(TypedDict):
    findings: int
    sessions: int  # distinct sessions with a finding (not a sum over rules)


def coach_rules() -> dict[str, str]:
    """The coach's rule ids and what each looks for (the rules load here: listing findings needs none)."""
    from sessionlens.coach.rules import RULES

    return {rid: getattr(r, "title", "") or getattr(r, "description", "") or "" for rid, r in RULES.items()}


class Findings:
    def __init__(self, host: Host, sessions: Sessions):
        self.host = host
        self.sessions = sessions

    def _sid(self, session: str | None) -> str | None:
        return self.sessions.resolve(session).id if session else None

    def list(
        self, *, project: str | None = None, session: str | None = None, rule: str | None = None, limit: int = 10_000
    ) -> builtins.list[StoredFinding]:
        """Coach findings, for display: what a rule quoted from the log is masked like the log."""
        rows = self.host.db().findings(project=project, session_id=self._sid(session), rule=rule, limit=limit)
        return [mask_model(f, FINDING_TEXT) for f in rows]

    def counts(self, project: str | None = None, rule: str | None = None, session: str | None = None) -> builtins.list[RuleCount]:
        return [
            {"rule_id": c.rule_id, "severity": c.severity, "findings": c.findings, "sessions": c.sessions}
            for c in self.host.db().finding_counts(project, rule, self._sid(session))
        ]

    def totals(self, project: str | None = None, rule: str | None = None, session: str | None = None) -> FindingTotals:
        n, sessions = self.host.db().finding_totals(project, rule, self._sid(session))
        return {"findings": n, "sessions": sessions}
