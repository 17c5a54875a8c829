"""Helpers shared by the command-line modules (``cli``, ``cli_rules``, ``cli_evals``), so none imports another."""

from __future__ import annotations

import json
import re
import sys
from typing import Any


class CliError(Exception):
    pass


# Log content reaches the terminal through _out: no control sequence from a log may move the cursor,
# clear the screen, retitle the window or plant an OSC 8 link; only SGR colors (ours) pass.
_TERM_UNSAFE = re.compile(r"\x1b(?!\[[0-9;]*m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f\x80-\x9f]")


def _out(text: str = "") -> None:
    sys.stdout.write(_TERM_UNSAFE.sub("\ufffd", text) + "\n")


def _json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")


def _settings(args):
    from sessionlens.services.settings import Settings

    kw: dict[str, Any] = {}
    if getattr(args, "home", None):
        kw["storePath"] = args.home
    if getattr(args, "no_home_logs", False):
        kw["includeHomeLogs"] = False
    return Settings.model_validate(kw)


def _app(args):
    from sessionlens.services.app import App  # lazily: `sessionlens --help` stays fast

    return App(_settings(args))
