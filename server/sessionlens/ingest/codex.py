"""Moved to :mod:`sessionlens.agents.codex.parser` (this name stays for existing imports)."""

import sys

from sessionlens.agents.codex import parser as _parser

sys.modules[__name__] = _parser
