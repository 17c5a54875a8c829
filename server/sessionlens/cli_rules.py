"""``sessionlens rules``: how well recent sessions follow the guidelines in AGENTS.md / CLAUDE.md."""

from __future__ import annotations

import argparse
import os
import sys


def register(sub, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser(
        "rules",
        parents=[common],
        help="guideline compliance of recent sessions (AGENTS.md / CLAUDE.md)",
        description="For every checkable guideline in the instruction files of recent sessions: "
        "how many sessions it applied to, followed it, violated it.",
    )
    sp.add_argument("--project", help="project root or name (default: all sessions)")
    sp.add_argument("--file", help="one instruction file (AGENTS.md, CLAUDE.md, .ruler/*.md)")
    sp.add_argument("--limit", type=int, default=20, help="recent sessions to check (default 20)")
    sp.add_argument(
        "--impact",
        action="store_true",
        help="for each guideline: when it appeared (git history), and the sessions before vs after it: "
        "violations, tool errors, repeated failures, tested edits, turns, tokens, cost "
        "(--file, default: the AGENTS.md / CLAUDE.md / GEMINI.md of the current folder)",
    )
    sp.set_defaults(func=cmd_rules)


def cmd_rules(args) -> int:
    from sessionlens.cli_common import _app, _json, _out
    from sessionlens.compliance.checker import lens_title, report

    path = os.path.abspath(os.path.expanduser(args.file)) if args.file else None
    if path and not os.path.isfile(path):
        sys.stderr.write(f"sessionlens: {args.file}: no such file\n")
        return 1
    if getattr(args, "impact", False):
        return cmd_impact(args, path)
    app = _app(args)
    rep = report(app, path=path, project=args.project, limit=max(args.limit, 1))
    if getattr(args, "json", False):
        _json(rep)
        return 0
    if not rep["rows"]:
        _out(
            f"No checkable guidelines in effect for the {rep['sessions']} session(s) checked. "
            "Annotate guidelines with <!-- sessionlens: ... --> (see docs/compliance.md)."
        )
        return 0
    from sessionlens.cost.report import format_table

    table = [
        {
            "guideline": f"{os.path.basename(r['path'])}:{r['line']} {r['guideline'][:60]}",
            "applied": r["applied"],
            "followed": r["followed"],
            "violated": r["violated"],
            "status": lens_title(r) + (" — retire it?" if r["never_relevant"] else ""),
        }
        for r in rep["rows"]
    ]
    _out(format_table(table, totals=False))
    bad = [r for r in rep["rows"] if r["violations"]]
    if bad:
        _out("")
        _out("Violations:")
        for r in bad:
            for v in r["violations"]:
                _out(f"  {os.path.basename(r['path'])}:{r['line']}  {v['link']}  {v['note']}")
    _out(f"\n{rep['sessions']} session(s) checked.")
    return 0


def cmd_impact(args, path: str | None) -> int:
    """``sessionlens rules --impact``: the guideline loop, per instruction file."""
    from sessionlens.cli_common import _app, _json, _out
    from sessionlens.compliance.impact import OUTCOME_LABELS, change_words, hover_markdown, impact_report, lens_text
    from sessionlens.cost.report import format_table

    paths = [path] if path else [os.path.abspath(n) for n in ("AGENTS.md", "CLAUDE.md", "GEMINI.md") if os.path.isfile(n)]
    if not paths:
        sys.stderr.write("sessionlens: no AGENTS.md / CLAUDE.md / GEMINI.md here; name one with --file\n")
        return 1
    app = _app(args)
    reports = [impact_report(app, p) for p in paths]
    if getattr(args, "json", False):
        _json(reports if len(reports) > 1 else reports[0])
        return 0
    for rep in reports:
        _out(f"{rep['path']} — {rep['sessions']} session(s) read it")
        if not rep["rows"]:
            _out("  (no guidelines)")
            continue
        table = []
        for r in rep["rows"]:
            b, a = r["before"], r["after"]
            table.append(
                {
                    "line": r["line"],
                    "guideline": r["short"][:48],
                    "added": (r["added"]["date"] + ("*" if r["added"]["how"] == "working-tree" else "")) if r["added"] else "?",
                    "before": b["sessions"],
                    "after": a["sessions"],
                    "violated before": f"{b['violated']}/{b['applied']}" if r["checkable"] else "–",
                    "violated after": f"{a['violated']}/{a['applied']}" if r["checkable"] else "–",
                    OUTCOME_LABELS["tool_errors"]: change_words(r, "tool_errors") or "–",
                    OUTCOME_LABELS["tested_share"]: change_words(r, "tested_share") or "–",
                    "cost": change_words(r, "cost_usd") or "–",
                }
            )
        _out(format_table(table, totals=False))
        for r in rep["rows"]:
            if not r["added"]:
                continue
            _out(f"  {os.path.basename(r['path'])}:{r['line']}  {lens_text(r)}")
            if r["significance"]:
                _out(f"      {r['significance']['note']}")
        if any(r["added"] and r["added"]["how"] == "working-tree" for r in rep["rows"]):
            _out("  * not committed yet: counted from the file's modification time")
        if getattr(args, "verbose", False):
            for r in rep["rows"]:
                _out("")
                _out(hover_markdown(r))
    return 0


__all__ = ["register", "cmd_rules", "cmd_impact"]
