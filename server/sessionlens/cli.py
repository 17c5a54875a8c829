"""The ``sessionlens`` command line.

``sessionlens`` with no command is the main job: index the agent logs on this machine (or, when
there are none, the bundled *fictional* sample logs, kept in a store of their own) and print a
summary.  Every command has ``--json`` (a versioned contract: ``schemas/cli-*.schema.json``).

Errors are one line on stderr and an exit code from one hierarchy (:class:`CliError`):

====  ==========================================================================
0     success (also "nothing matched", which says so)
1     an error while doing the work (bad store, unreadable file, failed eval)
2     a usage error: an unknown option, a bad value (``--limit 0``, a bad date)
3     eval regressions with ``--fail-on-regression``
4     something named does not exist or is ambiguous (a session id, a file, a suite, a rule)
5     another process holds the store's writer lock past ``--wait``
130   interrupted
====  ==========================================================================

Terminal output uses rich (tables, colour, progress, Markdown), imported only when a command
prints for a person: ``--help`` and ``--json`` never load it.  NO_COLOR and non-terminal output
are respected (rich's own rules).  Secrets the coach's detector finds are masked everywhere unless
``--show-secrets`` asks otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from sessionlens.cli_common import (  # noqa: F401  (re-exported: the one error hierarchy and store helpers)
    EXIT_BUSY,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REGRESSION,
    EXIT_USAGE,
    BusyError,
    CliError,
    NotFoundError,
    UsageError,
    _app,
    _default_home,
    _home_arg,
    _json,
    _out,
    _settings,
    samples_dir,
)

#: the width of a session id in tables (a sub-agent shows as ``<parent>›<agent id>`` in the same width)
ID_WIDTH = 13
TITLE_WIDTH = 60
SAMPLES_VERSION = "2"


# ---------------------------------------------------------------------------------------------- output

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe(text: Any) -> str:
    """Log text made harmless for a terminal: control characters (ANSI escapes, bidi overrides) shown as ``�``."""
    return _CONTROL.sub("�", "" if text is None else str(text))


def _note(text: str) -> None:
    sys.stderr.write(text + "\n")


_CONSOLES: dict[bool, Any] = {}


def console(stderr: bool = False):
    """The rich console of stdout (or stderr).  Not a terminal: no colour, no wrapping at 80 columns."""
    c = _CONSOLES.get(stderr)
    stream = sys.stderr if stderr else sys.stdout
    if c is None or c.file is not stream:
        from rich.console import Console

        tty = stream.isatty()
        width = None if tty else int(os.environ.get("COLUMNS") or 0) or 200
        c = Console(file=stream, width=width, highlight=False, markup=False, emoji=False, soft_wrap=not tty)
        _CONSOLES[stderr] = c
    return c


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def money(x: float | None, known: bool = True) -> str:
    """Dollars with two decimals everywhere (``<$0.01`` for a non-zero amount below a cent)."""
    if x is None or not known:
        return "unknown"
    if 0 < x < 0.005:
        return "<$0.01"
    return f"${x:,.2f}"


def cut(text: str | None, width: int) -> str:
    """One line of at most ``width`` characters, ``…`` where it was cut."""
    t = " ".join(safe(text).split())
    return t if len(t) <= width else t[: max(width - 1, 0)].rstrip() + "…"


def short_id(sid: str, agent_id: str | None = None, parent: str | None = None) -> str:
    """A session id in :data:`ID_WIDTH` characters: ``ae4a77f8-aed…``; a sub-agent as
    ``ae4a77›aac57…`` (parent prefix › agent id).  ``show``/``export`` accept both forms."""
    if parent and agent_id:
        head = parent[:5] + "›"
        rest = ID_WIDTH - len(head)
        return head + (agent_id if len(agent_id) <= rest else agent_id[: rest - 1] + "…")
    return sid if len(sid) <= ID_WIDTH else sid[: ID_WIDTH - 1] + "…"


def _row_id(r: dict[str, Any]) -> str:
    return short_id(r["id"], r.get("agent_id"), r.get("parent_session_id"))


#: characters one terminal cell wide that the plain renderer lays out (beyond printable ASCII)
_NARROW = frozenset("…↳⊘›·−–—✓✗")
#: environment variables that make rich colour (or treat as a terminal) output that is piped
_RICH_FORCING = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")


#: the free-text columns a narrow table shortens with "…" (:func:`_table`); never numbers or ids
FLEX_COLUMNS = frozenset({"Title", "Project", "Message"})


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """rich's ``_ratio.ratio_reduce`` (the same integer arithmetic, so the same widths)."""
    ratios = [ratio if m else 0 for ratio, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    out = []
    for ratio, m, v in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            d = min(m, round(ratio * remaining / total_ratio))
            out.append(v - d)
            remaining -= d
            total_ratio -= ratio
        else:
            out.append(v)
    return out


def _collapse(widths: list[int], wrapable: list[bool], max_width: int) -> list[int]:
    """rich's ``Table._collapse_widths``: shrink the widest shrinkable columns first."""
    total = sum(widths)
    excess = total - max_width
    if any(wrapable):
        while total and excess > 0:
            top = max(w for w, ok in zip(widths, wrapable) if ok)
            second = max(w if ok and w != top else 0 for w, ok in zip(widths, wrapable))
            diff = top - second
            ratios = [1 if (w == top and ok) else 0 for w, ok in zip(widths, wrapable)]
            if not any(ratios) or not diff:
                break
            widths = _ratio_reduce(excess, ratios, [min(excess, diff)] * len(widths), widths)
            total = sum(widths)
            excess = total - max_width
    return widths


class PlainTable:
    """What :func:`_table` lays out without rich when the output is no terminal: the same bytes as
    rich's ``SIMPLE_HEAD`` table with the options :func:`_table` gives it (``tests/test_cli_table.py``
    compares them), without importing rich (~40 ms) nor rendering every cell through it (a 200-row
    cost report: ~150 ms; 2,800 sessions: seconds).  A table wider than the width is laid out as
    rich does: the free-text columns (:data:`FLEX_COLUMNS`) shrink, their cells end in "…", the
    others keep their width (the table then overflows).  Only for text that is one cell per
    character; what rich would wrap (a header or footer wider than its shrunk column) is left to rich."""

    def __init__(
        self,
        columns: list[tuple[str, Any]],
        rows: list[list[str]],
        footer: list[str] | None,
        title: str | None,
        widths: list[int],
        cut: list[bool] | None = None,
    ):
        self.columns, self.rows, self.footer, self.title, self.widths = columns, rows, footer, title, widths
        #: columns whose cells may be longer than their width (shortened with "…")
        self.cut = cut or [False] * len(widths)

    @staticmethod
    def make(columns, rows, footer, title, width: int) -> PlainTable | None:
        cells = [[h for h, _ in columns], *rows, *([footer] if footer is not None else [])]
        texts: list[list[str]] = []
        for r in cells:
            row = []
            for c in r:
                if hasattr(c, "__rich_console__") or hasattr(c, "__rich__"):
                    return None
                t = safe(c)
                if not (t.isascii() and t.isprintable()) and any(not (" " <= ch <= "~" or ch in _NARROW) for ch in t):
                    return None
                row.append(t)
            texts.append(row)
        if title is not None and not (title.isascii() and title.isprintable()):
            return None
        if any(justify not in ("left", "right") for _, justify in columns):
            return None
        n = len(columns)
        if n == 0:
            return None
        natural = [max(len(r[i]) for r in texts) for i in range(n)]
        if any(w == 0 for w in natural):
            return None
        flex = [h in FLEX_COLUMNS for h, _ in columns]
        pads = [(0 if i == 0 else 1) + (0 if i == n - 1 else 1) for i in range(n)]
        max_width = width - (n - 1)  # less one divider between columns
        if max_width < 1:
            return None
        # rich's Table._calculate_column_widths (widths with padding): a shrinkable column is measured
        # up to the width, the others keep their content's width (their min_width)
        full = [natural[i] + pads[i] for i in range(n)]
        widths = [min(full[i], max_width) if flex[i] else full[i] for i in range(n)]
        if sum(widths) > max_width:
            widths = _collapse(widths, flex, max_width)
            if sum(widths) > max_width:  # rich's last resort: every column evenly (only the flexible ones give)
                widths = _ratio_reduce(sum(widths) - max_width, [1] * n, widths, widths)
            if any(w < 1 for w in widths):  # rich then drops the column (measured at width 0)
                return None
            widths = [min(full[i], widths[i]) if flex[i] else full[i] for i in range(n)]
        cut = [False] * n
        for i in range(n):
            if flex[i] and widths[i] < full[i]:
                inner = widths[i] - pads[i]
                if inner < 1:
                    return None
                # rich wraps (not cuts) a header or a footer: leave those tables to rich
                if len(texts[0][i]) > inner or (footer is not None and len(texts[-1][i]) > inner):
                    return None
                cut[i] = True
        body = texts[1 : len(texts) - (1 if footer is not None else 0)]
        inner_widths = [widths[i] - pads[i] for i in range(n)]
        return PlainTable(columns, body, texts[-1] if footer is not None else None, title, inner_widths, cut)

    def _line(self, cells: list[str]) -> str:
        out = []
        for (_head, justify), w, c, cut in zip(self.columns, self.widths, cells, self.cut):
            if justify == "right":
                c = c.rstrip()
                if cut and len(c) > w:
                    c = c[: w - 1] + "…"
                out.append(c.rjust(w))
            else:
                if cut and len(c) > w:
                    c = c[: w - 1] + "…"
                out.append(c.ljust(w))
        return "   ".join(out)

    def render(self) -> str:
        widths = self.widths
        lines = [self.title] if self.title is not None else []
        lines.append(self._line([h for h, _ in self.columns]))
        lines.append("─".join("─" * (w + (1 if i > 0 else 0) + (1 if i < len(widths) - 1 else 0)) for i, w in enumerate(widths)))
        lines += [self._line(r) for r in self.rows]
        if self.footer is not None:
            lines.append(" " * (sum(widths) + 3 * (len(widths) - 1)))
            lines.append(self._line(self.footer))
        return "\n".join(lines) + "\n"


def _plain_width() -> int | None:
    """The width a piped table is laid out in (as :func:`console` gives rich), None for a terminal."""
    if sys.stdout.isatty() or any(os.environ.get(v) for v in _RICH_FORCING):
        return None
    return int(os.environ.get("COLUMNS") or 0) or 200


def _table(columns: list[tuple[str, Any]], rows: list[list[Any]], *, footer: list[Any] | None = None, title: str | None = None):
    """A rich table; ``columns`` are (header, justify).  Cells are plain text, never markup.  Piped:
    a :class:`PlainTable` when it can lay the table out (the same bytes)."""
    width = _plain_width()
    if width is not None:
        plain = PlainTable.make(columns, rows, footer, title, width)
        if plain is not None:
            return plain
    from rich import box
    from rich.table import Table
    from rich.text import Text

    t = Table(box=box.SIMPLE_HEAD, show_footer=footer is not None, title=title, title_justify="left", pad_edge=False, show_edge=False)
    for i, (head, justify) in enumerate(columns):
        # a narrow terminal shortens the free-text columns (Title, Project) with "…", never numbers or ids
        flex = head in FLEX_COLUMNS
        width = max(
            [len(safe(r[i])) for r in rows if not hasattr(r[i], "__rich_console__")]
            + [len(head)]
            + ([len(safe(footer[i]))] if footer is not None else [])
        )
        t.add_column(
            head,
            justify=justify,
            no_wrap=not flex,
            overflow="ellipsis",
            min_width=None if flex else width,
            footer=Text(safe(footer[i])) if footer is not None else "",
            header_style="bold",
        )
    for r in rows:  # cells are one line each: a flex column shrinks, its text ends in "…"
        t.add_row(
            *(
                c if hasattr(c, "__rich_console__") or hasattr(c, "__rich__") else Text(safe(c), no_wrap=True, overflow="ellipsis")
                for c in r
            )
        )
    return t


def _print(renderable) -> None:
    if isinstance(renderable, PlainTable):
        _out(renderable.render()[:-1])
        return
    console().print(renderable)


def _plain_lines(*texts: str) -> bool:
    """Write these lines as rich would to a pipe (no colour, no wrapping: as they are), when rich
    would change nothing (no tab to expand); False: rich must print them."""
    if _plain_width() is None or any("\t" in t for t in texts):
        return False
    sys.stdout.write("".join(t + "\n" for t in texts))
    return True


def _say(text: str) -> None:
    """A paragraph for a person: wrapped at word boundaries in a terminal, one line when piped."""
    if _plain_lines(safe(text)):
        return
    from rich.text import Text

    console().print(Text(safe(text)))


# ---------------------------------------------------------------------------------------------- secrets


def _masker(args):
    """Mask the secrets the coach's detector finds, unless ``--show-secrets``."""
    if getattr(args, "show_secrets", False):
        return lambda s: s
    from sessionlens.coach.redact import redact

    return lambda s: redact(s) if isinstance(s, str) and s else s


# ---------------------------------------------------------------------------------------------- app


class _Progress:
    """Indexing progress on stderr (rich), only when stderr is a terminal and not ``--json``."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None
        self._last = 0.0

    def __call__(self, p) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("indexing"),
                BarColumn(),
                TextColumn("{task.completed:,.0f}/{task.total:,.0f} files"),
                TextColumn("{task.fields[mb]}"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[name]}"),
                console=console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("index", total=max(p.total, 1), mb="", name="")
        now = time.monotonic()
        if p.path is not None and now - self._last < 0.1:
            return
        self._last = now
        self._bar.update(
            self._task,
            completed=p.done,
            total=max(p.total, 1),
            mb=f"{p.bytes_done / 1e6:,.1f} MB",
            name=cut(Path(p.path).name, 40) if p.path else "",
        )
        if p.path is None:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _wait_note(holder):
    _note(f"sessionlens: another process is indexing this store ({holder or 'unknown'}); waiting for it…")


def _index(app, paths, args) -> Any:
    prog = _Progress(not args.json)
    try:
        stats = app.index(paths or None, progress=prog, on_wait=_wait_note, lock_timeout=args.wait)
    finally:
        prog.close()
    if stats.errors == ["busy"]:
        raise BusyError(f"another process is indexing {app.home} and did not finish within {args.wait}s")
    return stats


def _no_logs_hint(app) -> str:
    from sessionlens.ingest.discovery import default_roots

    roots = [_tilde(str(getattr(r, "path", r))) for r in default_roots()]
    where = ", ".join(roots[:3]) + (f" and {len(roots) - 3} more: `sessionlens doctor` lists them" if len(roots) > 3 else "")
    return (
        f"No agent logs found (looked in {where}).\n"
        "  Index a folder or file with `sessionlens index PATH`, or run `sessionlens` to try the bundled sample sessions."
    )


def _tilde(p: str) -> str:
    home = str(Path.home())
    return "~" + p[len(home) :] if p == home or p.startswith(home + "/") else p


# ---------------------------------------------------------------------------------------------- commands


def cmd_index(args) -> int:
    app = _app(args)
    explicit = [os.path.abspath(os.path.expanduser(p)) for p in args.paths]
    for raw, p in zip(args.paths, explicit):
        if not os.path.exists(p):
            raise NotFoundError(f"{raw}: no such file or directory")
    if not explicit and not app.roots():
        if args.json:
            _json({"index": None, "store": app.stats(), "hint": "no agent logs found"})
        else:
            _out(_no_logs_hint(app))
        return 0
    stats = _index(app, explicit, args)
    not_logs = []
    db = app.db()
    for raw, p in zip(args.paths, explicit):
        if os.path.isfile(p):
            row = db.file_row(p)
            if row is None or row.status == "not_session" or not row.session_id:
                not_logs.append(raw)
    if not_logs and len(not_logs) == len(explicit) and not args.json:
        raise CliError(f"{', '.join(not_logs)}: not a session log of any agent sessionlens reads")
    if args.json:
        _json({"index": stats.to_dict(), "store": app.stats(), "not_session_logs": not_logs})
    else:
        mb = stats.bytes_parsed / 1e6
        rate = mb / stats.seconds if stats.seconds else 0
        _out(
            f"Indexed {plural(stats.files_changed, 'changed file')} of {stats.files_seen:,} "
            f"({stats.files_skipped:,} unchanged) in {stats.seconds:.2f} s: {plural(stats.events, 'event')}, "
            f"{mb:.1f} MB ({rate:.1f} MB/s)"
        )
        if stats.problems:
            _out(f"  {plural(stats.problems, 'malformed line')} recorded (see `sessionlens show` or `sessionlens doctor`)")
        _skipped(stats)
        for e in stats.errors[:10]:
            _out(f"  error: {safe(e)}")
        dirs = [raw for raw, p in zip(args.paths, explicit) if os.path.isdir(p)]
        if dirs and stats.files_seen == 0:
            _out(f"  no session logs in {', '.join(dirs)} (`sessionlens doctor` lists where each agent keeps them)")
    if not_logs and len(not_logs) == len(explicit):
        return EXIT_ERROR
    for raw in not_logs:
        _note(f"sessionlens: {raw}: not a session log of any agent sessionlens reads; skipped")
    return 0


def _skipped(stats) -> None:
    """Every file looked at but not indexed, named with why (at most 10 listed)."""
    if not stats.skipped:
        return
    _out(f"  skipped {len(stats.skipped)} file(s) or folder(s):")
    for path, reason in stats.skipped[:10]:
        _out(f"    {path}: {reason}")
    if len(stats.skipped) > 10:
        _out(f"    … and {len(stats.skipped) - 10} more (`--json` lists them all)")


def _store_summary(app, args, *, samples: bool = False) -> None:
    st = app.stats()
    t = st["totals"]
    mask = _masker(args)
    agents = ", ".join(f"{k}: {v}" for k, v in sorted(st["by_agent"].items())) or "none"
    _out(f"Store: {st['store']}" + ("  (the sample sessions: fictional, kept apart from your history)" if samples else ""))
    _out(
        f"  {plural(st['sessions'], 'session')} ({agents}) in {plural(st['projects'], 'project')}, "
        f"{plural(st['events'], 'event')}, {st['search_docs']:,} searchable"
    )
    _out(
        f"  tokens: input {t['input']:,} · cache read {t['cache_read']:,} · cache write "
        f"{t['cache_write_5m'] + t['cache_write_1h']:,} · output {t['output']:,}"
    )
    untracked = t.get("untracked_sessions", 0)
    unpriced = t["unknown"] - untracked
    notes = ([f"+{plural(unpriced, 'request')} with unknown prices"] if unpriced else []) + (
        [f"{plural(untracked, 'session')} of agents that record no tokens"] if untracked else []
    )
    _out(f"  cost: {money(t['cost_usd'])}" + (f" ({'; '.join(notes)})" if notes else ""))
    if st["findings"]:
        counts = app.finding_counts()
        top = ", ".join(f"{c['rule_id']} {c['findings']}" for c in counts[:5])
        _out(f"  coach findings: {st['findings']:,} ({top})")
    if st["problems"]:
        _out(f"  malformed lines: {st['problems']:,}")
    sessions = app.sessions(limit=5, workspace_only=False, include_subagents=False)
    if sessions:
        _out("")
        _print(
            _table(
                [("Started", "left"), ("Agent", "left"), ("Cost", "right"), ("Id", "left"), ("Title", "left")],
                [
                    [
                        (s["started_at"] or "")[:16].replace("T", " "),
                        s["agent"],
                        money(s["cost_usd"], s["cost_known"]),
                        _row_id(s),
                        cut(mask(s["title"]), TITLE_WIDTH),
                    ]
                    for s in sessions
                ],
                title="Latest sessions",
            )
        )
    flag = " --samples" if samples else ""
    _say(
        f"Try: sessionlens{flag} search pytest · sessionlens{flag} sessions · sessionlens{flag} cost --by day · "
        f"sessionlens{flag} coach · sessionlens doctor"
    )


def _ensure_samples(args) -> Path:
    """Write the sample logs once (a marker says they are complete); later runs reuse them."""
    logs = samples_dir(args) / "logs"
    marker = logs / ".sessionlens-samples"
    if not (marker.is_file() and marker.read_text().strip() == SAMPLES_VERSION):
        from sessionlens.samples.generator import sample_home

        sample_home(logs)
        marker.write_text(SAMPLES_VERSION + "\n")
    return logs


def _drop_samples_from(app, args) -> int:
    """Older versions indexed the samples into the user's store: take them out (never mixed)."""
    prefix = str(samples_dir(args)) + os.sep
    db = app.db()
    rows = [r for r in db.file_rows().values() if r.path.startswith(prefix)]
    if not rows:
        return 0
    with db.lock:
        for r in rows:
            db.delete_file(r.id)
        app.search_index.sync(db)
    return len(rows)


def cmd_main(args) -> int:
    """The main job: index this machine's agent logs, or the sample logs (in their own store) when there are none."""
    app = _app(args)
    from sessionlens.ingest.discovery import discover

    roots = app.roots(args.paths or [])
    has_logs = any(True for _ in discover(roots)) if roots else False
    samples = False
    if getattr(args, "samples", False) or (not has_logs and not args.paths and app.stats()["sessions"] == 0):
        samples = True
        logs = _ensure_samples(args)
        store = samples_dir(args) / "store"
        app = _app(args, home=store)
        paths = [str(logs)]
        if not args.json:
            _say(
                f"No agent logs found (~/.codex/sessions, ~/.claude/projects, … see `sessionlens doctor`), so here are the bundled sample "
                f"sessions (fictional). They live in a store of their own ({store}) and never mix with your history, "
                f"which goes to {_settings(args).home}. Delete {samples_dir(args)} to remove them.\n"
            )
    else:
        dropped = _drop_samples_from(app, args)
        if dropped and not args.json:
            _note(f"sessionlens: removed {plural(dropped, 'sample session file')} from your store (samples live in their own store now)")
        paths = list(roots)
    stats = _index(app, paths, args)
    if args.json:
        _json(
            {
                "index": stats.to_dict(),
                "store": app.stats(),
                "samples": samples,
                "sessions": _masked_sessions(app.sessions(limit=10, workspace_only=False), args),
            }
        )
        return 0
    _out(
        f"Indexed {plural(stats.files_changed, 'changed file')} of {stats.files_seen:,} in {stats.seconds:.2f} s "
        f"({stats.bytes_parsed / 1e6:.1f} MB, {plural(stats.events, 'event')})"
    )
    _skipped(stats)
    _store_summary(app, args, samples=samples)
    return 0


def cmd_stats(args) -> int:
    app = _app(args)
    if args.json:
        _json(app.stats())
    else:
        _store_summary(app, args, samples=getattr(args, "samples", False))
    return 0


def _nothing_indexed(app) -> bool:
    return app.stats()["sessions"] == 0


def _selection(args, names=("agent", "project", "since", "until", "kind", "tool", "session")) -> str:
    parts = [f"--{n} {getattr(args, n)}" for n in names if getattr(args, n, None)]
    return ", ".join(parts)


def cmd_search(args) -> int:
    query = " ".join(args.query).strip()
    if not query:
        raise UsageError("empty search query: give the words to look for, e.g. `sessionlens search pytest`")
    app = _app(args)
    res = app.search(
        query,
        agent=args.agent,
        project=args.project,
        kind=args.kind,
        tool=args.tool,
        session=app.resolve_session(args.session).id if args.session else None,
        since=args.since,
        until=args.until,
        limit=args.limit,
        workspace_only=False,
        show_secrets=args.show_secrets,
    )
    if args.json:
        _json(res)
        return 0
    if not res["hits"]:
        if _nothing_indexed(app):
            _out("Nothing is indexed yet: run `sessionlens` or `sessionlens index PATH` first.")
        else:
            sel = _selection(args)
            _out(
                f"No matches for {query!r}" + (f" with {sel}" if sel else "") + f" in {plural(app.stats()['sessions'], 'indexed session')}."
            )
        return 0
    plain: list[str] = []
    for h in res["hits"]:
        tool = f" · {h['tool']}" if h.get("tool") else ""
        when = (h["timestamp"] or "")[:16].replace("T", " ")
        plain.append(
            safe(f"{_tilde(h['path'])}:{h['line']}") + safe(f"  [{h['agent']} · {h['kind']}{tool} · {when} · {h['project_name'] or '-'}]")
        )
        if h.get("description"):
            plain.append("    # " + cut(h["description"], 100))
        plain.append("    " + safe((h["snippet"] or "").strip()))
    if not _plain_lines(*plain):
        _search_lines(res["hits"])
    _out(f"\n{len(res['hits'])} of {plural(res['total'], 'match', 'matches')}")
    return 0


def _search_lines(hits: list[dict[str, Any]]) -> None:
    from rich.text import Text

    c = console()
    for h in hits:
        snippet = h["snippet"] or ""
        text = Text(safe(snippet.strip()))
        lead = len(snippet) - len(snippet.lstrip())
        for a, b in h.get("highlights") or []:
            text.stylize("bold yellow", max(a - lead, 0), max(b - lead, 0))
        when = (h["timestamp"] or "")[:16].replace("T", " ")
        tool = f" · {h['tool']}" if h.get("tool") else ""
        head = Text(safe(f"{_tilde(h['path'])}:{h['line']}"), style="cyan")
        head.append(safe(f"  [{h['agent']} · {h['kind']}{tool} · {when} · {h['project_name'] or '-'}]"), style="dim")
        c.print(head)
        if h.get("description"):
            c.print(Text("    # " + cut(h["description"], 100), style="green"))
        body = Text("    ")
        body.append_text(text)
        c.print(body)


#: ``models.listing.SESSION_SORTS`` (not imported here: pydantic is too slow to load for a read command)
SESSION_SORTS = ("started", "ended", "cost", "tokens", "events", "turns", "findings", "agent", "title")
#: the Title column's mark of a session whose log file is gone (it still opens from the store)
LOG_MISSING_MARK = "⊘"


def _masked_sessions(rows: list[dict[str, Any]], args) -> list[dict[str, Any]]:
    mask = _masker(args)
    return [{**r, "title": mask(r.get("title"))} for r in rows]


def cmd_sessions(args) -> int:
    app = _app(args)
    if getattr(args, "view", None):  # a saved view's filters (all of them, as the web UI applies them); flags win
        from sessionlens.web.cli import view_filters

        v = view_filters(app, args.view)
        args.project, args.agent = args.project or v.get("project"), args.agent or v.get("agent")
        args.since, args.until = args.since or v.get("since"), args.until or v.get("until")
        args.text = args.text or v.get("q")
        args.has_findings = args.has_findings or bool(v.get("findings"))
        args.sort = args.sort or v.get("sort")
        args.asc = args.asc or v.get("order") == "asc"
    rows = _masked_sessions(
        app.sessions(
            project=args.project,
            agent=args.agent,
            since=args.since,
            until=args.until,
            limit=args.limit,
            workspace_only=False,
            include_subagents=not args.no_subagents,
            query=args.text,
            has_findings=args.has_findings,
            sort=args.sort or "started",
            descending=not args.asc,
        ),
        args,
    )
    if args.json:
        _json(rows)
        return 0
    if not rows:
        if _nothing_indexed(app):
            _out("No sessions indexed yet: run `sessionlens` (this machine's logs, or the samples) or `sessionlens index PATH`.")
        else:
            sel = _selection(args, ("agent", "project", "since", "until", "text", "has_findings")) or "that selection"
            _out(f"No sessions match {sel} ({plural(app.stats()['sessions'], 'session')} indexed).")
        return 0
    _print(
        _table(
            [
                ("Started", "left"),
                ("Agent", "left"),
                ("Id", "left"),
                ("Project", "left"),
                ("Turns", "right"),
                ("Events", "right"),
                ("Tokens", "right"),
                ("Cost", "right"),
                ("Title", "left"),
            ],
            [
                [
                    (r["started_at"] or "")[:16].replace("T", " "),
                    r["agent"],
                    _row_id(r),
                    cut(r["project_name"] or "-", 24),
                    f"{r['turns']:,}",
                    f"{r['events']:,}",
                    "-" if r["tokens"] is None else f"{r['tokens']:,}",
                    money(r["cost_usd"], r["cost_known"]),
                    (LOG_MISSING_MARK + " " if r.get("log_missing") else "")
                    + ("↳ " if r.get("parent_session_id") else "")
                    + cut(r["title"], TITLE_WIDTH)
                    + (" (imported)" if r.get("imported") else ""),
                ]
                for r in rows
            ],
        )
    )
    more = "" if len(rows) < args.limit else f" (the first {args.limit}: --limit N for more)"
    subs = "; ↳ marks a sub-agent (id: parent›agent)" if any(r.get("parent_session_id") for r in rows) else ""
    _out(f"{plural(len(rows), 'session')}{more}{subs}")
    gone = sum(1 for r in rows if r.get("log_missing"))
    if gone:
        _out(
            f"{LOG_MISSING_MARK} log file deleted ({plural(gone, 'session')}): the transcript still opens from the store "
            "(`sessionlens show ID`)"
        )
    return 0


def cmd_show(args) -> int:
    app = _app(args)
    mask = _masker(args)
    if args.markdown:
        title, md = app.render_session(args.session, redact=not args.show_secrets)
        title, md = mask(title), mask(md)
        if args.json:
            _json({"title": title, "markdown": md})
        elif sys.stdout.isatty():
            from rich.markdown import Markdown

            _print(Markdown(safe(md), hyperlinks=False))
        else:
            _out(md)
        return 0
    s, rows = app.timeline(args.session, redact=not args.show_secrets)
    problems = app.db().problems(s.file_id)
    if args.json:
        _json(
            {
                "session": s.model_dump(),
                "timeline": [{"line": int(a), "time": b, "text": c} for a, b, c in rows],
                "problems": [p.model_dump() for p in problems],
            }
        )
        return 0
    from sessionlens.agents.base import source_exists  # (a database member's path names its database)

    title = safe(s.title or s.id)
    facts = safe(f"  {s.agent} · {s.id} · {s.cwd or '-'} · {', '.join(s.models) or '-'}")
    gone = "  (log file deleted: shown from the store)" if not source_exists(s.path) else ""
    path = safe(f"  {s.path}{gone}")
    # piped: the lines as rich writes them (no colour, no wrapping), without importing rich (~40 ms)
    if _plain_lines(
        title,
        facts,
        path,
        "",
        *(f"{line:>6}  {t}  {safe(text)}" for line, t, text in rows),
        *(f"{p.line:>6}  problem: {safe(p.message)}" for p in problems),
    ):
        return 0
    from rich.text import Text

    c = console()
    c.print(Text(title, style="bold"))
    c.print(Text(facts))
    c.print(Text(path, style="dim"))
    _out("")
    for line, t, text in rows:
        row = Text(f"{line:>6}  ", style="dim")
        row.append(f"{t}  ", style="dim")
        row.append(safe(text), style="red" if "✗" in text else None)
        c.print(row)
    for p in problems:
        c.print(Text(f"{p.line:>6}  problem: {safe(p.message)}", style="red"))
    return 0


def _export_selection(app, args) -> list[str]:
    """The ids of the sessions an export names."""
    if args.session:
        return [app.resolve_session(args.session).id]
    if not (args.all or args.project or args.since or args.until or args.agent):
        raise UsageError("name a session, or a selection: --project, --since, --until, --agent or --all")
    rows = app.sessions(
        project=args.project,
        agent=args.agent,
        since=args.since,
        until=args.until,
        limit=args.limit,
        workspace_only=False,
        include_subagents=True,
    )
    if not rows:
        raise NotFoundError("no sessions match " + (_selection(args, ("agent", "project", "since", "until")) or "--all"))
    return [r["id"] for r in rows]


def cmd_export(args) -> int:
    """Sessions as Markdown, JSON, JSON Lines or CSV, always with secrets redacted (exports leave the machine)."""
    from sessionlens import cli_otlp
    from sessionlens.services import exchange

    app = _app(args)
    if cli_otlp.wanted(args):
        return cli_otlp.run(app, args, as_json=args.json)
    ids = _export_selection(app, args)
    fmt = args.format
    if fmt in ("markdown", "md"):
        text = exchange.export_markdown(app, ids)
    elif fmt == "json":
        if len(ids) != 1:
            raise UsageError("--format json writes one session; use --format jsonl for a selection")
        text = json.dumps(exchange.export_json(app, ids[0]), indent=2, ensure_ascii=False, default=str) + "\n"
    elif fmt == "jsonl":
        text = "".join(json.dumps(rec, ensure_ascii=False, default=str) + "\n" for rec in exchange.export_records(app, ids))
    elif fmt == "html":  # one self-contained page, no network
        if len(ids) != 1:
            raise UsageError("--format html writes one session; name it")
        text = app.render_session_html(ids[0], redact=True)
    else:  # csv
        text = exchange.export_csv(app, ids, args.table)
    if args.output:
        Path(args.output).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        if not args.json:
            _note(
                f"wrote {args.output}: {plural(len(ids), 'session')} as {fmt}{' (' + args.table + ')' if fmt == 'csv' else ''}, secrets redacted"
            )
    else:
        _out(text[:-1] if text.endswith("\n") else text)  # no control sequence from a log reaches the terminal
    return 0


def cmd_import(args) -> int:
    from sessionlens.services import exchange

    path = Path(args.file).expanduser()
    if not path.is_file():
        raise NotFoundError(f"{args.file}: no such file")
    app = _app(args)
    try:
        res = exchange.import_jsonl(app, path, lock_timeout=args.wait)
    except exchange.ImportFormatError as e:
        raise CliError(f"{args.file}: {e}") from None
    if args.json:
        _json(res)
        return 0
    _out(
        f"Imported {plural(res['imported'], 'session')} ({plural(res['events'], 'event')}) from {args.file}; "
        f"{res['skipped']:,} already in the store"
    )
    for s in res.get("skipped_ids", [])[:10]:
        _out(f"  skipped {s} (already present)")
    return 0


_COST_HEADERS = {
    "day": "Day",
    "week": "Week",
    "month": "Month",
    "session": "Session",
    "model": "Model",
    "project": "Project",
    "agent": "Agent",
    "input": "Input",
    "cache_read": "Cache read",
    "cache_write": "Cache write",
    "output": "Output",
    "cost_usd": "Cost",
    "unpriced_requests": "Unpriced requests",
    "title": "Title",
    "requests": "Requests",
}


def cmd_cost(args) -> int:
    app = _app(args)
    if args.reprice:
        n = app.reprice()
        if not args.json:
            _note(f"re-priced {plural(n, 'billed request')} with the current price table")
    rep = app.cost_report(args.by, since=args.since, until=args.until, project=args.project, agent=args.agent)
    if args.json:
        _json(rep)
        return 0
    if args.csv:
        from sessionlens.cost.report import to_csv

        sys.stdout.write(to_csv(rep["rows"]))
        return 0
    if not rep["rows"]:
        if _nothing_indexed(app):
            _out("Nothing is indexed yet: run `sessionlens` or `sessionlens index PATH` first.")
        else:
            sel = _selection(args, ("agent", "project", "since", "until"))
            _out("No token usage recorded" + (f" for {sel}" if sel else "") + ".")
        return 0
    unpriced = rep["totals"]["unpriced_requests"] > 0
    keys = [args.by] + (["model"] if args.by in ("day", "week", "month") else [])
    keys += ["input", "cache_read", "cache_write", "output", "requests", "cost_usd"] + (["unpriced_requests"] if unpriced else [])
    if args.by == "session":
        keys.append("title")
    mask = _masker(args) if "title" in keys else None  # (the one column of log text: only then the detector)

    def cell(k, r):
        v = r.get(k)
        if k == "cost_usd":
            return money(v)
        if k == "session":
            return short_id(v or "")
        if k == "title" and mask is not None:
            return cut(mask(v), 40)
        if isinstance(v, int):
            return f"{v:,}"
        return v if v is not None else "-"

    cols = [(_COST_HEADERS.get(k, k), "right" if k not in (args.by, "model", "title") else "left") for k in keys]
    t = rep["totals"]
    footer = ["Total"] + [""] * (len(keys) - 1)
    for i, k in enumerate(keys):
        if k in t:
            footer[i] = money(t[k]) if k == "cost_usd" else f"{t[k]:,}"
    _print(_table(cols, [[cell(k, r) for k in keys] for r in rep["rows"]], footer=footer))
    if unpriced:
        _out(f"{plural(t['unpriced_requests'], 'request')} used models without a known price; their cost is not included.")
    return 0


def cmd_coach(args) -> int:
    app = _app(args)
    if args.rule:
        rules = app.coach_rules()
        if args.rule not in rules:
            raise NotFoundError(f"unknown coach rule {args.rule!r}; known rules: {', '.join(sorted(rules))}")
    mask = _masker(args)
    findings = [
        {**f.model_dump(), "message": mask(f.message)}
        for f in app.findings(session=args.session, project=args.project, rule=args.rule, limit=args.limit)
    ]
    counts = app.finding_counts(args.project, args.rule, args.session)
    totals = app.finding_totals(args.project, args.rule, args.session)
    if args.json:
        _json({"counts": counts, "totals": totals, "findings": findings})
        return 0
    if not counts:
        if _nothing_indexed(app):
            _out("Nothing is indexed yet: run `sessionlens` or `sessionlens index PATH` first.")
        else:
            sel = _selection(args, ("project", "session", "rule"))
            _out("No coach findings" + (f" for {sel}" if sel else "") + ".")
        return 0
    _print(
        _table(
            [("Rule", "left"), ("Severity", "left"), ("Findings", "right"), ("Sessions", "right")],
            [[c["rule_id"], c["severity"], f"{c['findings']:,}", f"{c['sessions']:,}"] for c in counts],
            footer=["Total", "", f"{totals['findings']:,}", f"{totals['sessions']:,}"],
        )
    )
    shown = findings[: args.limit]
    if not _plain_lines(
        *(safe(f"{_tilde(f['path'])}:{f['seq']}: ") + f["severity"] + safe(f": [{f['rule_id']}] {f['message']}") for f in shown)
    ):
        _coach_lines(shown)
    if len(findings) >= args.limit and totals["findings"] > args.limit:
        _out(f"(the first {args.limit} of {totals['findings']:,}: --limit N for more)")
    return 0


def _coach_lines(findings: list[dict[str, Any]]) -> None:
    from rich.text import Text

    c = console()
    style = {"error": "red", "warning": "yellow", "info": "blue", "hint": "dim"}
    for f in findings:
        line = Text(safe(f"{_tilde(f['path'])}:{f['seq']}: "), style="cyan")
        line.append(f"{f['severity']}", style=style.get(f["severity"]))
        line.append(safe(f": [{f['rule_id']}] {f['message']}"))
        c.print(line)


def cmd_doctor(args) -> int:
    from sessionlens.services.doctor import run_checks

    report = run_checks(_settings(args))
    if args.json:
        _json(report)
        return EXIT_ERROR if not report["ok"] else 0
    from rich.text import Text

    c = console()
    marks = {"ok": ("✓", "green"), "info": ("·", "blue"), "warn": ("!", "yellow"), "error": ("✗", "red")}
    section = None
    for ch in report["checks"]:
        if ch["section"] != section:
            section = ch["section"]
            c.print(Text(section, style="bold"))
        m, st = marks[ch["status"]]
        line = Text(f"  {m} ", style=st)
        line.append(safe(ch["title"]))
        c.print(line)
        for d in ch.get("details") or []:
            c.print(Text("      " + safe(d), style="dim"))
        if ch.get("fix"):
            c.print(Text("      fix: " + safe(ch["fix"]), style=st))
    bad = [ch for ch in report["checks"] if ch["status"] in ("warn", "error")]
    _out("")
    _out("Everything looks fine." if not bad else f"{plural(len(bad), 'thing')} to look at (see the fixes above).")
    return EXIT_ERROR if not report["ok"] else 0


def cmd_completion(args) -> int:
    from sessionlens.cli_completion import generate

    sys.stdout.write(generate(build_parser(), args.shell))
    return 0


def cmd_complete_ids(args) -> int:
    """Hidden: session ids for shell completion (fast: one read-only query, no rich, no index)."""
    from sessionlens.store import Store

    home = _settings(args).home
    if not (home / "sessionlens.db").exists():
        return 0
    try:
        st = Store(home, readonly=True)
        ids = st.session_ids(args.prefix or "")
    except Exception:
        return 0
    for i in ids[:500]:
        sys.stdout.write(i + "\n")
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


# ---------------------------------------------------------------------------------------------- arguments


def positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if x < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {text}")
    return x


def time_arg(text: str) -> str:
    """Validated at the edge; the command gets the text (relative spans are resolved when it runs)."""
    from sessionlens.store import StoreError, parse_time

    try:
        parse_time(text)
    except StoreError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("cannot read the time ")) from None
    return text


def agent_names() -> list[str]:
    """``--agent`` values: every registered agent."""
    from sessionlens.agents.registry import agent_names as names

    return names()


def agent_arg(text: str) -> str:
    names = agent_names()
    if text not in names:
        raise argparse.ArgumentTypeError(f"unknown agent {text!r} (known: {', '.join(names)})")
    return text


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) and examples kept as written."""

    def __init__(self, *a, **kw):
        kw.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*a, **kw)

    def error(self, message: str):  # noqa: D401 - argparse's hook
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see `{self.prog} --help`)\n")

    def _get_formatter(self):  # argparse's hook (one formatter per argument added, and per help shown)
        return self.formatter_class(prog=self.prog, width=_help_width())  # type: ignore[call-arg]


def _help_width() -> int:
    """``shutil.get_terminal_size().columns - 2``, the width argparse wraps help at when given none,
    without importing shutil (~3 ms with bz2 and lzma, for a read command that shows no help)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # no stdout, closed, detached, not a terminal
            columns = 0
        columns = columns or 80
    return columns - 2


def _common_options(*, suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command.  A command's copy must not set defaults
    (``suppress``): argparse would let them overwrite a value given before the command."""
    d: dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    common = _Parser(add_help=False)  # (only its arguments are used: copied into the commands' parsers)
    common.add_argument("--home", metavar="DIR", help="store directory (default $SESSIONLENS_HOME or ~/.local/share/sessionlens)", **d)
    common.add_argument(
        "--samples", action="store_true", help="use the store of the bundled sample sessions (kept apart from your history)", **d
    )
    common.add_argument("--json", action="store_true", help="machine-readable output (schemas/cli-*.schema.json)", **d)
    common.add_argument("-v", "--verbose", action="store_true", help="log to stderr; show tracebacks", **d)
    return common


_EXAMPLES: dict[str, str] = {
    "": """examples:
  sessionlens                       index this machine's agent logs (or the samples) and summarise
  sessionlens search "pytest -q"    full-text search across every session
  sessionlens sessions --since 7d   the last week's sessions
  sessionlens doctor                what sessionlens found, and what to fix
  sessionlens completion bash > ~/.local/share/bash-completion/completions/sessionlens

exit codes: 0 ok · 1 error · 2 bad usage · 3 eval regression · 4 not found · 5 store busy · 130 interrupted""",
    "index": """examples:
  sessionlens index                          the agent homes (~/.codex/sessions, ~/.claude/projects)
  sessionlens index ~/work/logs some.jsonl   these folders and files
  sessionlens index --wait 10 --json         give up after 10 s if another process is indexing""",
    "search": """examples:
  sessionlens search pytest
  sessionlens search "cargo test" --agent codex --since 7d
  sessionlens search apply_patch --kind patch --limit 5
  sessionlens search timeout --session ae4a77f8 --json""",
    "sessions": """examples:
  sessionlens sessions
  sessionlens sessions --since 2026-02-01 --until 2026-02-28 --project spotter
  sessionlens sessions --no-subagents --limit 10 --json
  sessionlens sessions --has-findings --sort cost --text migration
  sessionlens sessions --view failing-api      # a saved view (web UI or `sessionlens views --save`)""",
    "show": """examples:
  sessionlens show ae4a77f8              by id prefix (as `sessionlens sessions` shows it)
  sessionlens show ~/.codex/sessions/2026/02/23/rollout-….jsonl
  sessionlens show ae4a77f8 --markdown   the full transcript, rendered""",
    "stats": """examples:
  sessionlens stats
  sessionlens stats --json""",
    "export": """examples:
  sessionlens export ae4a77f8 -o session.md                  one session as Markdown
  sessionlens export --project spotter --since 30d --format jsonl -o spotter.jsonl
  sessionlens export --all --format csv --table commands -o commands.csv
every export is redacted: secrets the coach detects become [REDACTED:<kind>]""",
    "import": """examples:
  sessionlens import teammate.jsonl            load a `sessionlens export --format jsonl` bundle
  sessionlens import teammate.jsonl --home /tmp/review   into another store
importing the same bundle twice changes nothing; imported sessions are marked "imported\"""",
    "cost": """examples:
  sessionlens cost                       per day and model
  sessionlens cost --by project --since 30d
  sessionlens cost --by session --agent claude --csv > cost.csv
  sessionlens cost --reprice             after changing prices in $SESSIONLENS_HOME/config.json""",
    "coach": """examples:
  sessionlens coach
  sessionlens coach --rule tool-error --project spotter
  sessionlens coach --session ae4a77f8 --json""",
    "doctor": """examples:
  sessionlens doctor
  sessionlens doctor --json""",
    "completion": """examples:
  sessionlens completion bash > ~/.local/share/bash-completion/completions/sessionlens
  sessionlens completion zsh > "${fpath[1]}/_sessionlens"
  sessionlens completion fish > ~/.config/fish/completions/sessionlens.fish""",
    "lsp": """examples:
  sessionlens lsp          (editors start this; it speaks JSON-RPC on stdin/stdout)""",
    "schemas": """examples:
  sessionlens schemas --out schemas""",
}


#: the commands defined in this module (the others come from cli_evals, cli_rules and web.cli)
CORE_COMMANDS = frozenset(
    {
        "index",
        "search",
        "sessions",
        "show",
        "stats",
        "export",
        "import",
        "cost",
        "coach",
        "doctor",
        "completion",
        "__complete",
        "lsp",
        "schemas",
    }
)
_VALUE_OPTIONS = frozenset({"--home", "--wait"})  # options before the command that take a value


def command_of(argv: list[str]) -> str | None:
    """The command ``argv`` names (its first word that is no option nor an option's value), if any."""
    it = iter(argv)
    for a in it:
        if a == "--":
            return None
        if a.startswith("-"):
            if a in _VALUE_OPTIONS:
                next(it, None)
            continue
        return a
    return None


#: the options accepted before the command, as :func:`_lean` takes them (True: it takes a value)
_TOP_OPTIONS: dict[str, bool] = {
    "--home": True,
    "--wait": True,
    "--samples": False,
    "--json": False,
    "-v": False,
    "--verbose": False,
    "--no-home-logs": False,
    "--show-secrets": False,
}


def _lean(argv: list[str], command: str | None) -> bool:
    """Whether argparse surely runs ``command`` (one of this module's) on ``argv``: every word before
    it is a top-level option spelled out in full, with its value (no abbreviation, no ``-h``, no value
    that looks like an option).  Then :func:`build_parser` need not build the other commands."""
    if command not in CORE_COMMANDS:
        return False
    it = iter(argv)
    for a in it:
        if not a.startswith("-"):
            return a == command
        name, eq, _ = a.partition("=")
        takes = _TOP_OPTIONS.get(name)
        if takes is None or (eq and not takes):
            return False
        if takes and not eq:
            value = next(it, None)
            if value is None or value.startswith("-"):
                return False
    return False


class _Unbuilt:
    """Stands in for the parser of a command this run does not parse (:func:`build_parser`'s ``lean``):
    its arguments are not made (argparse builds a help formatter for each, ~15 ms for them all)."""

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        return None

    def set_defaults(self, **kwargs: Any) -> None:
        return None


def build_parser(command: str | None = None, *, lean: bool = False) -> argparse.ArgumentParser:
    """The whole parser; with ``command`` one of this module's own, the other modules' commands
    (evals, rules, the web UI's) are left out: a read command then imports none of them.  ``lean``
    (when :func:`_lean` says argparse surely runs ``command``): the parser of ``command`` only, under
    the top-level options - the other commands are not built at all (their help and errors are never
    shown in such a run)."""
    top = _common_options(suppress=False)
    common = _common_options(suppress=True)

    p = _Parser(
        prog="sessionlens",
        parents=[top],
        epilog=_EXAMPLES[""],
        description="Index, search, coach and cost AI coding-agent session logs (Codex, Claude Code, Gemini CLI, Copilot CLI, OpenCode, Crush, Cursor, Pi, Qwen Code).",
    )
    p.add_argument("--no-home-logs", action="store_true", help="do not read ~/.codex/sessions and ~/.claude/projects")
    p.add_argument(
        "--wait",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help="seconds to wait for another indexer (default: as long as it takes)",
    )
    p.add_argument("--show-secrets", action="store_true", help="print secrets the coach found instead of masking them")
    p.set_defaults(func=cmd_main, paths=[])
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name, func, help_, *, hidden: bool = False):
        if lean and name != command:
            return _Unbuilt()
        kw = {} if hidden else {"help": help_}
        sp = sub.add_parser(name, parents=[common], description=help_, epilog=_EXAMPLES.get(name), **kw)  # type: ignore[list-item]
        sp.set_defaults(func=func)
        return sp

    def filters(sp, limit=50, what="sessions"):
        sp.add_argument("--agent", type=agent_arg, metavar="AGENT", help="only this agent's sessions (codex, claude, gemini, …)")
        sp.add_argument("--project", help="project root or name (the git root of the session's folder)")
        sp.add_argument(
            "--since",
            type=time_arg,
            metavar="WHEN",
            help="from this time: ISO date/time (2026-02-23), unix seconds, or a span back (7d, 12h, 2w)",
        )
        sp.add_argument("--until", type=time_arg, metavar="WHEN", help="up to this time (a date includes its whole day)")
        sp.add_argument("--limit", type=positive_int, default=limit, metavar="N", help=f"at most N {what} (default {limit})")

    def secrets(sp):
        sp.add_argument(
            "--show-secrets", action="store_true", default=argparse.SUPPRESS, help="print secrets the coach found instead of masking them"
        )

    sp = add("index", cmd_index, "index session logs (default: the agent homes) incrementally")
    sp.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: ~/.codex/sessions, ~/.claude/projects)")
    sp.add_argument("--no-home-logs", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sp.add_argument(
        "--wait",
        type=positive_float,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help="seconds to wait for another indexer (default: as long as it takes)",
    )

    sp = add("search", cmd_search, "full-text search across sessions")
    sp.add_argument("query", nargs="+", metavar="WORD", help='words to find (all of them); "quotes" for a phrase; tool:Bash, kind:patch')
    filters(sp, 20, "hits")
    sp.add_argument("--kind", help="event kind, e.g. tool_call, user_message, patch (comma-separated)")
    sp.add_argument("--tool", help="tool name, e.g. Bash, exec_command, apply_patch")
    sp.add_argument("--session", metavar="ID", help="only this session (id, id prefix or log path)")
    secrets(sp)

    sp = add("sessions", cmd_sessions, "list indexed sessions, newest first")
    filters(sp)
    sp.add_argument("--text", metavar="TEXT", help="only sessions whose title, id, project or log path contains TEXT")
    sp.add_argument("--has-findings", action="store_true", help="only sessions with coach findings")
    sp.add_argument("--sort", choices=SESSION_SORTS, help="order by this instead of the start time")
    sp.add_argument("--asc", action="store_true", help="oldest / smallest first")
    sp.add_argument("--no-subagents", action="store_true", help="hide sub-agent sessions")
    secrets(sp)
    sp.add_argument("--view", metavar="NAME", help="apply a saved view's filters (see `sessionlens views`)")

    sp = add("show", cmd_show, "a readable timeline of one session")
    sp.add_argument("session", metavar="SESSION", help="session id, id prefix (as tables show it) or log file path")
    sp.add_argument("--markdown", action="store_true", help="the full transcript (rendered in a terminal, Markdown when piped)")
    secrets(sp)

    sp = add("stats", cmd_stats, "store summary")
    secrets(sp)

    sp = add("export", cmd_export, "export sessions as Markdown, JSON, JSON Lines or CSV, secrets redacted")
    sp.add_argument("session", nargs="?", metavar="SESSION", help="one session (id, id prefix or log path); or select with the options")
    sp.add_argument(
        "--format",
        choices=["markdown", "json", "jsonl", "csv", "html"],
        default="markdown",
        help="markdown (default), json (one session), jsonl (normalized events, importable), csv, "
        "html (one session as a self-contained page)",
    )
    sp.add_argument(
        "--table",
        choices=["events", "commands", "usage"],
        default="events",
        help="with --format csv: events, commands (exit codes, durations) or usage (tokens, cost)",
    )
    sp.add_argument("--all", action="store_true", help="every indexed session")
    sp.add_argument("--agent", type=agent_arg, metavar="AGENT", help="sessions of this agent (codex, claude, gemini, …)")
    sp.add_argument("--project", help="sessions of this project (root or name)")
    sp.add_argument("--since", type=time_arg, metavar="WHEN", help="sessions from this time (ISO date, unix seconds, 7d)")
    sp.add_argument("--until", type=time_arg, metavar="WHEN", help="sessions up to this time")
    sp.add_argument("--limit", type=positive_int, default=10_000, metavar="N", help="at most N sessions (default 10000)")
    sp.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of stdout")
    if command in (None, "export") or command not in CORE_COMMANDS:
        from sessionlens import cli_otlp

        cli_otlp.add_arguments(sp)

    sp = add("import", cmd_import, "load a JSON Lines export into the store (idempotent)")
    sp.add_argument("file", metavar="FILE", help="a file written by `sessionlens export --format jsonl`")
    sp.add_argument(
        "--wait",
        type=positive_float,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help="seconds to wait for another indexer (default: as long as it takes)",
    )

    sp = add("cost", cmd_cost, "token and cost report")
    sp.add_argument(
        "--by",
        choices=["day", "week", "month", "session", "model", "project", "agent"],
        default="day",
        help="one row per day (default), week, month, session, model, project or agent",
    )
    sp.add_argument("--since", type=time_arg, metavar="WHEN", help="from this time: ISO date, unix seconds, or a span back (7d)")
    sp.add_argument("--until", type=time_arg, metavar="WHEN", help="up to this time (a date includes its whole day)")
    sp.add_argument("--project", help="only this project (root or name)")
    sp.add_argument("--agent", type=agent_arg, metavar="AGENT", help="only this agent (codex, claude, gemini, …)")
    sp.add_argument("--csv", action="store_true", help="CSV (machine headers) instead of a table")
    sp.add_argument(
        "--reprice",
        action="store_true",
        help="re-price every request with the current price table ($SESSIONLENS_HOME/config.json overrides)",
    )
    secrets(sp)

    sp = add("coach", cmd_coach, "coach findings across sessions and projects")
    sp.add_argument("--project", help="only this project (root or name)")
    sp.add_argument("--session", metavar="ID", help="only this session (id, id prefix or log path)")
    sp.add_argument("--rule", metavar="RULE", help="only this rule, e.g. tool-error (an unknown name lists the rules)")
    sp.add_argument("--limit", type=positive_int, default=50, metavar="N", help="list at most N findings (default 50)")
    secrets(sp)

    add("doctor", cmd_doctor, "what sessionlens found and where, what is wrong and how to fix it")

    sp = add("completion", cmd_completion, "print a shell completion script (bash, zsh or fish)")
    sp.add_argument("shell", choices=["bash", "zsh", "fish"], help="the shell to complete in")

    sp = add("__complete", cmd_complete_ids, "session ids for shell completion", hidden=True)
    sp.add_argument("what", choices=["ids"], help="what to list")
    sp.add_argument("prefix", nargs="?", default="", help="only ids starting with this")

    add("lsp", cmd_lsp, "run the language server on stdio")

    sp = add("schemas", cmd_schemas, "write the JSON Schemas of config, eval, dataset, export and --json output")
    sp.add_argument("--out", default="schemas", metavar="DIR", help="directory to write the *.schema.json files to (default schemas)")

    if command not in CORE_COMMANDS:
        from sessionlens.cli_blame import register as register_blame
        from sessionlens.cli_evals import register as register_evals
        from sessionlens.cli_rules import register as register_rules

        register_evals(sub, common)
        register_rules(sub, common)
        register_blame(sub, common)
        from sessionlens.web.cli import register as register_web  # serve, admin, audit, push, views

        register_web(sub, common)
    # hide the internal command from the usage line's {a,b,...} list
    sub._choices_actions = [a for a in sub._choices_actions if a.dest != "__complete"]
    return p


def _exit_code(e: BaseException) -> int:
    from sessionlens.store import NotFound

    if isinstance(e, CliError):
        return e.code
    if isinstance(e, NotFound):
        return EXIT_NOT_FOUND
    return EXIT_ERROR


def _basic_config(logging: Any, verbose: bool) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


class _LoggingOnImport:
    """A finder on ``sys.meta_path`` that configures :mod:`logging` the moment something imports it:
    importing it costs ~8 ms (``traceback``, ``threading``, ``string``), and a read command that logs
    nothing never does, while any record is formatted as if ``main`` had configured it up front."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.done = False  # (left on ``sys.meta_path``: removing it could upset an import iterating it)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "logging" or self.done:
            return None
        self.done = True
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module  # (this loader object serves this one import)

        def exec_module(module: Any) -> None:
            run(module)
            _basic_config(module, self.verbose)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _configure_logging(*, verbose: bool) -> None:
    """Log records to stderr as ``LEVEL name: message`` (INFO and up with ``-v``, else WARNING and up)."""
    if verbose or "logging" in sys.modules:
        import logging

        _basic_config(logging, verbose)
    elif not any(isinstance(f, _LoggingOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _LoggingOnImport(verbose))


#: One-shot read commands: their store reads through a memory map (a cold process scans at the OS
#: cache's speed); long-lived and indexing commands don't (mapped pages would count as their memory).
MMAP_COMMANDS = frozenset({"search", "sessions", "show", "cost", "coach", "stats", "blame", "export"})


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    command = command_of(words)
    parser = build_parser(command, lean=_lean(words, command))
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a usage error argparse already printed (one line)
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    _configure_logging(verbose=getattr(args, "verbose", False))
    if not hasattr(args, "show_secrets"):
        args.show_secrets = False
    from sessionlens.store import StoreError

    if command in MMAP_COMMANDS:
        from sessionlens.store.db import use_mmap

        use_mmap()

    try:
        return args.func(args) or 0
    except (CliError, StoreError) as e:
        msg = " ".join(str(e).split()) if not isinstance(e, CliError) else str(e).splitlines()[0]
        _note(f"sessionlens: {msg}")
        return _exit_code(e)
    except KeyboardInterrupt:
        _note("sessionlens: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except OSError as e:  # a folder that cannot be made, a file that cannot be written: the path and why
        if getattr(args, "verbose", False):
            raise
        where = f"{e.filename}: " if e.filename else ""
        _note(f"sessionlens: {where}{e.strerror or e}")
        return EXIT_ERROR
    except Exception as e:  # the one-line promise: no tracebacks for users unless --verbose
        if getattr(args, "verbose", False):
            raise
        _note(f"sessionlens: unexpected error: {type(e).__name__}: {e} (rerun with -v for details)")
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
