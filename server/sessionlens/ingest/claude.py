"""Moved to :mod:`sessionlens.agents.claude.parser` (this name stays for existing imports)."""

import sys

from sessionlens.agents.claude import parser as _parser

sys.modules[__name__] = _parser
