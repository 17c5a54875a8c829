"""``sessionlens rules``: how well recent sessions follow the guidelines in AGENTS.md / CLAUDE.md."""

from __future__ import annotations

import argparse
import os
import sys


def register(sub, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("rules", parents=[common], help="guideline compliance of recent sessions (AGENTS.md / CLAUDE.md)",
                        description="For every checkable guideline in the instruction files of recent sessions: "
                                    "how many sessions it applied to, followed it, violated it.")
    sp.add_argument("--project", help="project root or name (default: all sessions)")
    sp.add_argument("--file", help="one instruction file (AGENTS.md, CLAUDE.md, .ruler/*.md)")
    sp.add_argument("--limit", type=int, default=20, help="recent sessions to check (default 20)")
    sp.set_defaults(func=cmd_rules)


def cmd_rules(args) -> int:
    from sessionlens.cli_common import _app, _json, _out
    from sessionlens.compliance.checker import lens_title, report

    app = _app(args)
    path = os.path.abspath(os.path.expanduser(args.file)) if args.file else None
    if path and not os.path.isfile(path):
        sys.stderr.write(f"sessionlens: {args.file}: no such file\n")
        return 1
    rep = report(app, path=path, project=args.project, limit=max(args.limit, 1))
    if getattr(args, "json", False):
        _json(rep)
        return 0
    if not rep["rows"]:
        _out(f"No checkable guidelines in effect for the {rep['sessions']} session(s) checked. "
             "Annotate guidelines with <!-- sessionlens: ... --> (see docs/compliance.md).")
        return 0
    from sessionlens.cost.report import format_table

    table = [{"guideline": f"{os.path.basename(r['path'])}:{r['line']} {r['guideline'][:60]}", "applied": r["applied"],
              "followed": r["followed"], "violated": r["violated"], "status": lens_title(r)
              + (" — retire it?" if r["never_relevant"] else "")} for r in rep["rows"]]
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


__all__ = ["register", "cmd_rules"]
