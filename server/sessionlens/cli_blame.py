"""``sessionlens blame FILE[:LINE]``: which agent session wrote each line of a file (agent blame)."""

from __future__ import annotations

import argparse
import os
import re

EXAMPLES = """examples:
  sessionlens blame src/app.py            every line, with the session that wrote it ([n] = the list above)
  sessionlens blame src/app.py:42         who wrote line 42: agent, date, turn, prompt, tool, the link to the edit
  sessionlens blame --json src/app.py     the same as data (schemas/cli-blame.schema.json)
  sessionlens blame --no-git README.md    by content only (ignore the git history)
"""


def register(sub, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser(
        "blame",
        parents=[common],
        help="which agent session wrote each line of a file",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Match the lines of FILE against the edits of indexed sessions (by content, "
        "following renames; with git, lines committed before an edit are not its). "
        "FILE:LINE tells who wrote that line and links to the edit in its transcript.",
    )
    sp.add_argument("file", metavar="FILE[:LINE]", help="a file in a repository (LINE is 1-based)")
    sp.add_argument("--no-git", action="store_true", help="match by content only (ignore the git history)")
    sp.set_defaults(func=cmd_blame)


def _split(arg: str) -> tuple[str, int | None]:
    m = re.fullmatch(r"(.+):(\d+)", arg)
    if m and not os.path.exists(arg):
        return m.group(1), int(m.group(2))
    return arg, None


def cmd_blame(args) -> int:
    from sessionlens.cli_common import NotFoundError, UsageError, _app, _json, _out
    from sessionlens.services import blame

    raw, line = _split(args.file)
    path = os.path.abspath(os.path.expanduser(raw))
    if not os.path.isfile(path):
        raise NotFoundError(f"{raw}: no such file")
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    lines = text.split("\n")
    if lines and lines[-1] == "" and text.endswith("\n"):
        lines.pop()
    if line is not None and not 1 <= line <= max(len(lines), 1):
        raise UsageError(f"{raw} has {len(lines)} lines: no line {line}")
    app = _app(args)
    try:
        rep = blame.report(app, path, text, None if line is None else line - 1, use_git=not args.no_git)
    finally:
        app.close()
    shown = range(len(lines)) if line is None else range(line - 1, line)
    if getattr(args, "json", False):
        out = {k: v for k, v in rep.items() if k != "writers"}
        out["lines"] = [{"line": i + 1, "text": lines[i], "session": rep["writers"][i]} for i in shown]
        _json(out)
        return 0
    sessions = rep["sessions"]
    title = blame.lens_title(sessions)
    _out(
        f"{rep['rel']}: {title or 'no agent session edited this file'}"
        + ("" if rep["git"] or not sessions else " (content only: no git history)")
    )
    if line is not None:
        w = rep["writer"]
        if w is None:
            _out(f"line {line}: not written by an agent session (as far as the indexed sessions tell)")
        else:
            _out(f"line {line}: {_plain(blame.headline(w, rep['rel']))}")
            _out(f"  {w['link']}")
            _out(f"  log: {w['log_path']}:{w['line']}")
        _out(f"  {lines[line - 1]}")
        return 0
    if not sessions:
        return 0
    _out("")
    for i, s in enumerate(sessions):
        what = s["title"] or ""
        _out(
            f"  [{i + 1}] {s['agent_label']} · {(s['last'] or '')[:10]} · {s['lines']} line(s) · {' '.join(what.split())[:70]}  {s['link']}"
        )
    _out("")
    width = len(str(len(lines)))
    for i in shown:
        k = rep["writers"][i]
        gutter = f"[{k + 1}]" if k is not None else ""
        _out(f"{gutter:>5} {i + 1:>{width}}  {lines[i]}")
    return 0


def _plain(md: str) -> str:
    """A Markdown headline for the terminal (its escapes and emphasis dropped)."""
    return re.sub(r"\\(.)", r"\1", md.replace("*", "")) if md else md
