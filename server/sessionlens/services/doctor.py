"""``sessionlens doctor``: what sessionlens found and where, what is wrong and how to fix it.

Each check is a dict ``{section, id, status, title, details, fix}`` with ``status`` one of
``ok``, ``info``, ``warn``, ``error``; the report is ``ok`` unless some check is an ``error``.
Nothing here writes anything: the store is opened read-only when it exists, never created.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from sessionlens.ingest.discovery import default_roots, discover
from sessionlens.services.settings import AnySettings

#: Claude Code deletes transcripts older than this many days at start-up unless settings say otherwise
CLAUDE_DEFAULT_RETENTION_DAYS = 30
#: below this a retention setting earns a warning
SHORT_RETENTION_DAYS = 90
#: counting log files stops here (a doctor must answer quickly on a huge home)
COUNT_CAP = 100_000


def _check(section: str, id_: str, status: str, title: str, details: list[str] | None = None, fix: str | None = None) -> dict[str, Any]:
    return {"section": section, "id": id_, "status": status, "title": title, "details": details or [], "fix": fix}


def _tilde(p: str | Path) -> str:
    p, home = str(p), str(Path.home())
    return "~" + p[len(home) :] if p == home or p.startswith(home + "/") else p


def _versions() -> list[dict[str, Any]]:
    from importlib.metadata import PackageNotFoundError, version

    from sessionlens import __version__

    parts = [f"sessionlens {__version__}", f"Python {platform.python_version()} ({sys.executable})"]
    for pkg in ("pygls", "tantivy", "apsw", "pydantic", "rich", "aiohttp"):
        try:
            parts.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            parts.append(f"{pkg} not installed")
    try:
        import apsw

        parts.append(f"SQLite {apsw.sqlite_lib_version()}")
    except ImportError:
        pass
    return [_check("Versions", "versions", "info", parts[0], parts[1:])]


def _roots(settings: AnySettings) -> tuple[list[dict[str, Any]], dict[str, tuple[int, int]]]:
    """A check per agent log folder, and {path: (size, mtime_ns)} of every log found."""
    checks: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, int]] = {}

    def agent_of(r) -> str | None:
        a = getattr(r, "agent", None)
        return getattr(a, "value", a)

    homes = [(str(getattr(r, "path", r)), agent_of(r)) for r in default_roots()]
    extra = [(os.path.expanduser(p), None) for p in settings.log_roots]
    roots = (homes if settings.include_home_logs else []) + extra
    if not settings.include_home_logs:
        checks.append(_check("Agent logs", "home-logs-off", "info", "home-directory logs are not read (includeHomeLogs is off)"))
    any_logs = False
    absent: list[str] = []
    for path, agent in roots:
        label = f"{agent or 'logs'}: {_tilde(path)}"
        if not os.path.exists(path):
            absent.append(_tilde(path))
            continue
        n = size = 0
        for f in discover([path]):
            fp = str(getattr(f, "path", f))
            try:
                st = os.stat(fp)
            except OSError:
                continue
            seen[os.path.abspath(fp)] = (st.st_size, st.st_mtime_ns)
            n += 1
            size += st.st_size
            if n >= COUNT_CAP:
                break
        any_logs = any_logs or n > 0
        checks.append(
            _check("Agent logs", "root", "ok" if n else "info", f"{label} — {n:,} log file{'s' if n != 1 else ''}, {size / 1e6:.1f} MB")
        )
    if absent:
        checks.append(_check("Agent logs", "absent", "info", f"{len(absent)} other agent folder(s) not present", [", ".join(absent)]))
    if not any_logs:
        checks.append(
            _check(
                "Agent logs",
                "no-logs",
                "warn",
                "no agent session logs found on this machine",
                fix="run an agent (Codex, Claude Code) once, or index a folder: `sessionlens index PATH`; "
                "`sessionlens` alone shows the bundled sample sessions",
            )
        )
    return checks, seen


def _claude_settings_paths() -> list[Path]:
    dirs = [d.strip() for d in (os.environ.get("CLAUDE_CONFIG_DIR") or "").split(",") if d.strip()]
    if not dirs:
        dirs = [str(Path.home() / ".claude")]
    return [Path(os.path.expanduser(d)) / "settings.json" for d in dirs]


def claude_retention() -> list[dict[str, Any]]:
    """Claude Code deletes transcripts older than ``cleanupPeriodDays`` (default 30) when it starts."""
    out = []
    for path in _claude_settings_paths():
        if not path.parent.is_dir():
            continue
        days: Any = None
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                out.append(
                    _check(
                        "Retention",
                        "claude-settings",
                        "error",
                        f"{_tilde(path)} is not valid JSON ({e})",
                        fix=f"repair {_tilde(path)}: Claude Code ignores settings it cannot read",
                    )
                )
                continue
            days = data.get("cleanupPeriodDays") if isinstance(data, dict) else None
        where = _tilde(path)
        keep = (
            "sessionlens keeps what it indexed: a session stays in the store after Claude Code deletes its log, "
            "so run `sessionlens` (or keep the editor extension running) more often than the retention period"
        )
        change = (
            f'set "cleanupPeriodDays": 365 (or more) in {where} to keep transcripts longer '
            "(0 is rejected or stops transcripts being written, depending on the version)"
        )
        if days is None:
            out.append(
                _check(
                    "Retention",
                    "claude-retention",
                    "warn",
                    f"Claude Code deletes transcripts older than {CLAUDE_DEFAULT_RETENTION_DAYS} days "
                    f"(cleanupPeriodDays is not set in {where}; the default is {CLAUDE_DEFAULT_RETENTION_DAYS})",
                    [keep],
                    fix=change,
                )
            )
        elif not isinstance(days, (int, float)) or isinstance(days, bool) or days < 1:
            out.append(
                _check(
                    "Retention",
                    "claude-retention",
                    "warn",
                    f"cleanupPeriodDays in {where} is {days!r}: not a number of days Claude Code accepts",
                    [keep],
                    fix=change,
                )
            )
        elif days < SHORT_RETENTION_DAYS:
            out.append(
                _check(
                    "Retention",
                    "claude-retention",
                    "warn",
                    f"Claude Code deletes transcripts older than {days:g} days (cleanupPeriodDays in {where})",
                    [keep],
                    fix=change,
                )
            )
        else:
            out.append(
                _check(
                    "Retention",
                    "claude-retention",
                    "ok",
                    f"Claude Code keeps transcripts for {days:g} days (cleanupPeriodDays in {where})",
                    [keep],
                )
            )
    return out


def _store(settings: AnySettings, on_disk: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
    home = settings.home
    db_path = home / "sessionlens.db"
    checks = []
    if not db_path.exists():
        checks.append(
            _check(
                "Store",
                "store",
                "warn",
                f"no store yet at {_tilde(home)}",
                fix="run `sessionlens` (or `sessionlens index`) to index the agent logs",
            )
        )
        return checks
    import apsw

    try:
        conn = apsw.Connection(f"file:{db_path}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
        user_version: int = conn.execute("PRAGMA user_version").get
        counts: dict[str, int] = {
            t: conn.execute(f"SELECT count(*) FROM {t}").get
            for t in ("files", "sessions", "events", "usage", "findings", "problems", "search_queue")
        }
        files: list[Any] = conn.execute("SELECT path, size, mtime_ns, status, error FROM files").fetchall()
    except apsw.Error as e:
        checks.append(
            _check(
                "Store",
                "store",
                "error",
                f"{_tilde(db_path)} cannot be read: {e}",
                fix=f"move {_tilde(home)} aside and run `sessionlens` to index again (logs Claude Code already deleted cannot be re-read)",
            )
        )
        return checks
    from sessionlens.store.schema import MIGRATIONS

    latest = len(MIGRATIONS)
    size = sum(p.stat().st_size for p in home.glob("sessionlens.db*") if p.is_file())
    n_s, n_e = counts["sessions"], counts["events"]
    checks.append(
        _check(
            "Store",
            "store",
            "ok",
            f"{_tilde(home)}: {n_s:,} session{'s' if n_s != 1 else ''}, {n_e:,} event{'s' if n_e != 1 else ''}, {size / 1e6:.1f} MB",
            [f"schema version {user_version} (this sessionlens: {latest})"],
        )
    )
    if user_version > latest:
        checks.append(
            _check(
                "Store",
                "schema",
                "error",
                f"the store was written by a newer sessionlens (schema {user_version} > {latest})",
                fix="upgrade sessionlens, or use another --home",
            )
        )
    errors = [f for f in files if f[3] == "error"]
    if errors:
        checks.append(
            _check(
                "Store",
                "file-errors",
                "warn",
                f"{len(errors):,} log file(s) could not be indexed",
                [f"{_tilde(f[0])}: {f[4] or 'error'}" for f in errors[:5]],
                fix="run `sessionlens index -v` to see why; a bad record never stops the rest",
            )
        )
    if counts["problems"]:
        checks.append(
            _check(
                "Store",
                "problems",
                "info",
                f"{counts['problems']:,} malformed line(s) recorded",
                fix="`sessionlens show <session>` lists them",
            )
        )
    # pending work: logs that grew or appeared since the last index; sessions whose log is gone
    indexed = {f[0]: (f[1], f[2]) for f in files}
    changed = [p for p, (sz, mt) in on_disk.items() if p in indexed and indexed[p][0] != sz]
    new = [p for p in on_disk if p not in indexed]
    if changed or new:
        checks.append(
            _check(
                "Index",
                "pending",
                "warn",
                f"{len(new):,} new and {len(changed):,} changed log file(s) not indexed yet",
                [_tilde(p) for p in (new + changed)[:5]],
                fix="run `sessionlens` or `sessionlens index`",
            )
        )
    else:
        checks.append(_check("Index", "pending", "ok", "every log found is indexed"))
    gone = [p for p in indexed if os.path.isabs(p) and not os.path.exists(p)]
    if gone:
        checks.append(
            _check(
                "Index",
                "kept",
                "info",
                f"{len(gone):,} indexed log file(s) no longer exist on disk; "
                "their sessions stay in the store (sessionlens keeps what it indexed)",
            )
        )
    if counts["search_queue"]:
        checks.append(
            _check(
                "Index",
                "search-queue",
                "warn",
                f"{counts['search_queue']:,} search update(s) pending",
                fix="run `sessionlens index` (or any search) to apply them",
            )
        )
    idx = home / "index"
    if not idx.is_dir() or (idx / "sessionlens-needs-rebuild").exists():
        checks.append(
            _check(
                "Index",
                "search-index",
                "warn",
                "the search index is missing or being rebuilt",
                fix="run `sessionlens search x` or `sessionlens index` to rebuild it from the store",
            )
        )
    else:
        from sessionlens.search.index import SCHEMA_VERSION

        try:
            ver = int((idx / "sessionlens-schema-version").read_text().strip())
        except (OSError, ValueError):
            ver = -1
        if ver != SCHEMA_VERSION:
            checks.append(
                _check(
                    "Index",
                    "search-index",
                    "warn",
                    f"the search index has an older layout ({ver} != {SCHEMA_VERSION})",
                    fix="the next `sessionlens search` rebuilds it",
                )
            )
        else:
            checks.append(_check("Index", "search-index", "ok", f"search index at {_tilde(idx)}"))
    cfg = home / "config.json"
    if cfg.exists():
        try:
            json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            checks.append(
                _check(
                    "Store",
                    "config",
                    "error",
                    f"{_tilde(cfg)} is not valid JSON ({e})",
                    fix=f"repair {_tilde(cfg)} (price overrides are ignored until then)",
                )
            )
    return checks


def run_checks(settings: AnySettings) -> dict[str, Any]:
    checks = _versions()
    roots, on_disk = _roots(settings)
    checks += roots
    checks += claude_retention()
    checks += _store(settings, on_disk)
    return {"ok": not any(c["status"] == "error" for c in checks), "store": str(settings.home), "checks": checks}
