"""Helpers shared by the command-line modules (``cli``, ``cli_rules``, ``cli_evals``), so none imports another."""

from __future__ import annotations

import json
import sys
from typing import Any


class CliError(Exception):
    pass


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


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
