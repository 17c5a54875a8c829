"""The ``sessionlens`` command line.

``sessionlens`` with no command is the main job: index the agent logs on this machine (or the
bundled sample logs when there are none) and print a summary.  Every command has ``--json``.
Errors are one clear line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

EXIT_ERROR = 1
EXIT_USAGE = 2


from sessionlens.cli_common import CliError, _app, _json, _out  # noqa: E402  (shared with cli_rules/cli_evals)


def agent_names() -> list[str]:
    """``--agent`` choices: every registered agent."""
    from sessionlens.agents import names

    return names()


class _Bar:
    """A one-line progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, p) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if p.path is not None and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        frac = p.done / p.total if p.total else 1.0
        bar = "█" * int(frac * width) + "·" * (width - int(frac * width))
        name = Path(p.path).name[-40:] if p.path else "done"
        sys.stderr.write(f"\r  {bar} {p.done}/{p.total} files  {p.bytes_done / 1e6:8.1f} MB  {name:<40}")
        if p.path is None:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _wait_note(holder):
    sys.stderr.write(f"sessionlens: another process is indexing this store ({holder or 'unknown'}); waiting for it…\n")


def _index(app, paths, args) -> Any:
    stats = app.index(paths or None, progress=_Bar(not args.json), on_wait=_wait_note, lock_timeout=args.wait)
    if stats.errors == ["busy"]:
        raise CliError(f"another process is indexing {app.home} and did not finish within {args.wait}s")
    return stats


def _fmt_money(x, known=True):
    from sessionlens.services.render import fmt_usd

    return fmt_usd(x, known)


def cmd_index(args) -> int:
    app = _app(args)
    stats = _index(app, args.paths, args)
    if args.json:
        _json({"index": stats.to_dict(), "store": app.stats()})
        return 0
    mb = stats.bytes_parsed / 1e6
    rate = mb / stats.seconds if stats.seconds else 0
    _out(f"Indexed {stats.files_changed} changed file(s) of {stats.files_seen} ({stats.files_skipped} unchanged) "
         f"in {stats.seconds:.2f} s: {stats.events:,} events, {mb:.1f} MB ({rate:.1f} MB/s)")
    if stats.problems:
        _out(f"  {stats.problems} malformed line(s) recorded (see diagnostics / `sessionlens show`)")
    for e in stats.errors[:10]:
        _out(f"  error: {e}")
    return 0


def _summary(app) -> None:
    st = app.stats()
    t = st["totals"]
    _out(f"Store: {st['store']}")
    _out(f"  {st['sessions']:,} sessions ({', '.join(f'{k}: {v}' for k, v in sorted(st['by_agent'].items())) or 'none'}) "
         f"in {st['projects']} project(s), {st['events']:,} events, {st['search_docs']:,} searchable")
    _out(f"  tokens: input {t['input']:,} · cache read {t['cache_read']:,} · cache write "
         f"{t['cache_write_5m'] + t['cache_write_1h']:,} · output {t['output']:,}")
    _out(f"  cost: {_fmt_money(t['cost_usd'])}" + (f" (+{t['unknown']} requests with unknown prices)" if t["unknown"] else ""))
    if st["findings"]:
        counts = app.finding_counts()
        top = ", ".join(f"{c['rule_id']} {c['findings']}" for c in counts[:5])
        _out(f"  coach findings: {st['findings']:,} ({top})")
    if st["problems"]:
        _out(f"  malformed lines: {st['problems']}")
    sessions = app.sessions(limit=5, workspace_only=False, include_subagents=False)
    if sessions:
        _out("\nLatest sessions:")
        for s in sessions:
            _out(f"  {(s['started_at'] or '')[:16]:<16}  {s['agent']:<6}  {_fmt_money(s['cost_usd'], s['cost_known']):>9}  "
                 f"{s['id'][:13]:<13}  {(s['title'] or '')[:60]}")
    _out("\nTry: sessionlens search \"pytest\" · sessionlens sessions · sessionlens cost --by day · sessionlens coach")


def cmd_main(args) -> int:
    """The main job: index this machine's agent logs, or the sample logs when there are none."""
    app = _app(args)
    roots = app.roots(args.paths or [])
    from sessionlens.ingest.discovery import discover

    has_logs = any(True for _ in discover(roots)) if roots else False
    paths = list(roots)
    if not has_logs and not args.paths:
        from sessionlens.samples.generator import sample_home

        samples = sample_home(app.home / "samples")
        if not args.json:
            _out(f"No agent logs found in ~/.codex/sessions or ~/.claude/projects; using the sample logs in {samples}")
        paths = [str(samples)]
    stats = _index(app, paths, args)
    if args.json:
        _json({"index": stats.to_dict(), "store": app.stats(), "sessions": app.sessions(limit=10, workspace_only=False)})
        return 0
    _out(f"Indexed {stats.files_changed} changed file(s) of {stats.files_seen} in {stats.seconds:.2f} s "
         f"({stats.bytes_parsed / 1e6:.1f} MB, {stats.events:,} events)")
    _summary(app)
    return 0


def cmd_stats(args) -> int:
    app = _app(args)
    if args.json:
        _json(app.stats())
    else:
        _summary(app)
    return 0


def cmd_search(args) -> int:
    app = _app(args)
    res = app.search(" ".join(args.query), agent=args.agent, project=args.project, kind=args.kind, tool=args.tool,
                     session=args.session, since=args.since, until=args.until, limit=args.limit, workspace_only=False)
    if args.json:
        _json(res)
        return 0
    if not res["hits"]:
        _out("No matches.")
        return 0
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    for h in res["hits"]:
        snippet = h["snippet"]
        if color and h.get("highlights"):
            parts, pos = [], 0
            for a, b in h["highlights"]:
                parts.append(snippet[pos:a] + "\033[1;33m" + snippet[a:b] + "\033[0m")
                pos = b
            snippet = "".join(parts) + snippet[pos:]
        when = (h["timestamp"] or "")[:16].replace("T", " ")
        _out(f"{h['path']}:{h['line']}  [{h['agent']} · {h['kind']}{' · ' + h['tool'] if h['tool'] else ''} · {when} · {h['project_name'] or '-'}]")
        _out(f"    {snippet.strip()}")
    _out(f"\n{len(res['hits'])} of {res['total']} match(es)")
    return 0


def cmd_sessions(args) -> int:
    app = _app(args)
    rows = app.sessions(project=args.project, agent=args.agent, since=args.since, until=args.until, limit=args.limit,
                        workspace_only=False, include_subagents=not args.no_subagents)
    if args.json:
        _json(rows)
        return 0
    from sessionlens.cost.report import format_table

    table = [
        {
            "started": (r["started_at"] or "")[:16].replace("T", " "),
            "agent": r["agent"],
            "id": r["id"][:20],
            "project": r["project_name"] or "-",
            "turns": r["turns"],
            "events": r["events"],
            "tokens": r["tokens"],
            "cost": _fmt_money(r["cost_usd"], r["cost_known"]),
            "title": (r["title"] or "")[:50],
        }
        for r in rows
    ]
    _out(format_table(table, totals=False) if table else "No sessions indexed yet; run `sessionlens index`.")
    return 0


def cmd_show(args) -> int:
    app = _app(args)
    if args.markdown:
        title, md = app.render_session(args.session)
        if args.json:
            _json({"title": title, "markdown": md})
        else:
            _out(md)
        return 0
    s, rows = app.timeline(args.session)
    if args.json:
        _json({"session": s, "timeline": [{"line": int(a), "time": b, "text": c} for a, b, c in rows],
               "problems": [p.model_dump() for p in app.db().problems(s["file_id"])]})
        return 0
    _out(f"{s['title'] or s['id']}")
    _out(f"  {s['agent']} · {s['id']} · {s.get('cwd') or '-'} · {', '.join(s['models']) or '-'}")
    _out(f"  {s['path']}\n")
    for line, t, text in rows:
        _out(f"{line:>6}  {t}  {text}")
    probs = app.db().problems(s["file_id"])
    for p in probs:
        _out(f"{p.line:>6}  problem: {p.message}")
    return 0


def cmd_export(args) -> int:
    """A session as Markdown or JSON, with secrets redacted (exports leave the machine)."""
    from sessionlens.coach.redact import redact, redact_obj

    app = _app(args)
    if args.format == "markdown":
        title, md = app.render_session(args.session, redact=True)
        text = redact(md)
    else:
        s = app.resolve_session(args.session)
        events = app.db().events(s["file_id"])
        payload = {
            "session": s,
            "turns": [t.model_dump(mode="json") for t in app.db().turns(s["id"])],
            "events": [e.model_dump(mode="json", exclude_none=True) for e in events],
            "usage": app.db().session_totals([s["id"]]),
            "findings": app.db().findings(session_id=s["id"]),
        }
        text = json.dumps(redact_obj(payload), indent=2, ensure_ascii=False, default=str)
    if args.output:
        Path(args.output).write_text(text + ("" if text.endswith("\n") else "\n"))
        if not args.json:
            sys.stderr.write(f"wrote {args.output} (secrets redacted)\n")
    else:
        _out(text)
    return 0


def cmd_cost(args) -> int:
    app = _app(args)
    if args.reprice:
        n = app.reprice()
        if not args.json:
            sys.stderr.write(f"re-priced {n:,} billed requests with the current price table\n")
    rep = app.cost_report(args.by, since=args.since, until=args.until, project=args.project, agent=args.agent)
    if args.json:
        _json(rep)
        return 0
    from sessionlens.cost.report import format_table, to_csv

    if args.csv:
        sys.stdout.write(to_csv(rep["rows"]))
        return 0
    if not rep["rows"]:
        _out("No token usage recorded for that selection.")
        return 0
    rows = []
    for r in rep["rows"]:
        d = dict(r)
        d.pop("requests", None)
        if "title" in d:
            d["title"] = (d["title"] or "")[:40]
        rows.append(d)
    _out(format_table(rows))
    if rep["totals"]["unpriced_requests"]:
        _out(f"\n{rep['totals']['unpriced_requests']} request(s) used models without a known price; their cost is not included.")
    return 0


def cmd_coach(args) -> int:
    app = _app(args)
    if args.session:
        findings = app.findings(session=args.session, project=args.project, rule=args.rule)
    else:
        findings = app.findings(project=args.project, rule=args.rule, limit=args.limit)
    if args.json:
        _json({"counts": app.finding_counts(args.project), "findings": findings})
        return 0
    counts = app.finding_counts(args.project)
    if not counts:
        _out("No coach findings.")
        return 0
    from sessionlens.cost.report import format_table

    _out(format_table(counts))
    _out("")
    for f in findings[: args.limit]:
        _out(f"{f['path']}:{f['seq']}: {f['severity']}: [{f['rule_id']}] {f['message']}")
    return 0


def cmd_lsp(args) -> int:
    # stdout is the JSON-RPC channel: keep the real stdout for the server and route everything else to stderr
    out = sys.stdout.buffer
    sys.stdout = sys.stderr
    from sessionlens.lsp.server import run

    return run(sys.stdin.buffer, out)


def cmd_schemas(args) -> int:
    from sessionlens.schemas import write_schemas

    written = write_schemas(Path(args.out))
    if args.json:
        _json([str(p) for p in written])
    else:
        for p in written:
            _out(str(p))
    return 0


def _common_options(*, suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command.  A command's copy must not set defaults
    (``suppress``): argparse would let them overwrite a value given before the command."""
    d: dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="store directory (default $SESSIONLENS_HOME or ~/.local/share/sessionlens)", **d)
    common.add_argument("--json", action="store_true", help="machine-readable output", **d)
    common.add_argument("-v", "--verbose", action="store_true", help="log to stderr", **d)
    return common


def build_parser() -> argparse.ArgumentParser:
    top = _common_options(suppress=False)
    common = _common_options(suppress=True)

    p = argparse.ArgumentParser(prog="sessionlens", parents=[top],
                                description="Index, search, coach and cost AI coding-agent session logs (Codex, Claude Code).")
    p.add_argument("--no-home-logs", action="store_true", help="do not read ~/.codex/sessions and ~/.claude/projects")
    p.add_argument("--wait", type=float, default=None, help="seconds to wait for another indexer (default: forever)")
    p.set_defaults(func=cmd_main, paths=[])
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name, func, help_):
        sp = sub.add_parser(name, parents=[common], help=help_, description=help_)
        sp.set_defaults(func=func)
        return sp

    def filters(sp, limit=50):
        sp.add_argument("--agent", choices=agent_names())
        sp.add_argument("--project", help="project root or name")
        sp.add_argument("--since", help="ISO date/time or span like 7d")
        sp.add_argument("--until", help="ISO date/time")
        sp.add_argument("--limit", type=int, default=limit)

    sp = add("index", cmd_index, "index session logs (default: the agent homes) incrementally")
    sp.add_argument("paths", nargs="*", help="files or directories (default: ~/.codex/sessions, ~/.claude/projects)")
    sp.add_argument("--no-home-logs", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sp.add_argument("--wait", type=float, default=argparse.SUPPRESS, help="seconds to wait for another indexer (default: forever)")

    sp = add("search", cmd_search, "full-text search across sessions")
    sp.add_argument("query", nargs="+")
    filters(sp, 20)
    sp.add_argument("--kind", help="event kind, e.g. tool_call, user_message (comma-separated)")
    sp.add_argument("--tool", help="tool name, e.g. Bash, exec_command")
    sp.add_argument("--session", help="session id")

    sp = add("sessions", cmd_sessions, "list indexed sessions, newest first")
    filters(sp)
    sp.add_argument("--no-subagents", action="store_true", help="hide sub-agent sessions")

    sp = add("show", cmd_show, "a readable timeline of one session")
    sp.add_argument("session", help="session id, id prefix or file path")
    sp.add_argument("--markdown", action="store_true", help="the full Markdown transcript")

    add("stats", cmd_stats, "store summary")

    sp = add("export", cmd_export, "export a session as Markdown or JSON, with secrets redacted")
    sp.add_argument("session", help="session id, id prefix or file path")
    sp.add_argument("--format", choices=["markdown", "json"], default="markdown")
    sp.add_argument("-o", "--output", help="write to this file instead of stdout")

    sp = add("cost", cmd_cost, "token and cost report")
    sp.add_argument("--by", choices=["day", "week", "month", "session", "model", "project", "agent"], default="day")
    sp.add_argument("--since")
    sp.add_argument("--until")
    sp.add_argument("--project")
    sp.add_argument("--agent", choices=agent_names())
    sp.add_argument("--csv", action="store_true")
    sp.add_argument("--reprice", action="store_true",
                    help="re-price every request with the current price table ($SESSIONLENS_HOME/config.json overrides)")

    sp = add("coach", cmd_coach, "coach findings across sessions and projects")
    sp.add_argument("--project")
    sp.add_argument("--session")
    sp.add_argument("--rule")
    sp.add_argument("--limit", type=int, default=50)

    add("lsp", cmd_lsp, "run the language server on stdio")

    sp = add("schemas", cmd_schemas, "write the JSON Schemas of config, eval and dataset files")
    sp.add_argument("--out", default="schemas")

    from sessionlens.cli_evals import register as register_evals
    from sessionlens.cli_rules import register as register_rules

    register_evals(sub, common)
    register_rules(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from sessionlens.store import StoreError

    try:
        return args.func(args) or 0
    except (CliError, StoreError) as e:
        sys.stderr.write(f"sessionlens: {e}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("sessionlens: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # the one-line promise: no tracebacks for users unless --verbose
        if getattr(args, "verbose", False):
            raise
        sys.stderr.write(f"sessionlens: unexpected error: {type(e).__name__}: {e} (rerun with -v for details)\n")
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
