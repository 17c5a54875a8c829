"""Where the store lives by default (no import of its own: the settings of both shapes read it)."""

from __future__ import annotations

import os
from pathlib import Path


def default_home() -> Path:
    """``$SESSIONLENS_HOME``, else ``$XDG_DATA_HOME/sessionlens``, else ``~/.local/share/sessionlens``."""
    env = os.environ.get("SESSIONLENS_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "sessionlens"
