"""Helpers shared by the command-line modules (``cli``, ``cli_rules``, ``cli_evals``), so none imports another:
the error hierarchy (exit codes), output, and opening the store (``--home``, ``--samples``)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REGRESSION = 3
EXIT_NOT_FOUND = 4
EXIT_BUSY = 5
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """An error the user can act on: one line on stderr, exit code :attr:`code`."""

    code = EXIT_ERROR


class UsageError(CliError):
    """A bad argument or option value (caught at the edge, before any work)."""

    code = EXIT_USAGE


class NotFoundError(CliError):
    """Something the user named does not exist (or is ambiguous)."""

    code = EXIT_NOT_FOUND


class BusyError(CliError):
    """Another process is writing this store."""

    code = EXIT_BUSY


# Log content reaches the terminal through _out: no control sequence from a log may move the cursor,
# clear the screen, retitle the window or plant an OSC 8 link; only SGR colors (ours) pass.
_TERM_UNSAFE = re.compile(r"\x1b(?!\[[0-9;]*m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f\x80-\x9f]")


def _out(text: str = "") -> None:
    sys.stdout.write(_TERM_UNSAFE.sub("\ufffd", text) + "\n")


def _json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")


def _home_arg(args) -> Path | None:
    raw = getattr(args, "home", None)
    if not raw:
        return None
    p = Path(raw).expanduser()
    for q in (p, *p.parents):
        if q.exists():
            if not q.is_dir():
                raise UsageError(f"--home {raw} is not a directory (it names the folder that holds the store)")
            break
    return p


def _default_home() -> Path:
    from sessionlens.services.settings import default_home

    return default_home()


def samples_dir(args) -> Path:
    """The demo's own folder: ``<home>/samples`` with ``logs/`` and a ``store/`` of its own."""
    return (_home_arg(args) or _default_home()) / "samples"


def _settings(args, *, home: Path | None = None):
    """The store folder and whether to read the agent homes: plain values, so no validated
    (pydantic) model is built for a command line."""
    from sessionlens.services.settings import CliSettings

    h = home or _home_arg(args)
    include_home_logs = True
    if getattr(args, "samples", False) and home is None:
        h = samples_dir(args) / "store"
        include_home_logs = False
    if getattr(args, "no_home_logs", False):
        include_home_logs = False
    return CliSettings(str(h) if h is not None else None, include_home_logs)


def _app(args, *, home: Path | None = None):
    from sessionlens.services.app import App  # lazily: `sessionlens --help` stays fast

    return App(_settings(args, home=home))
