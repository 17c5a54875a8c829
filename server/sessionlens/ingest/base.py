"""Moved to :mod:`sessionlens.agents.common` (this name stays for existing imports)."""

import sys

from sessionlens.agents import common as _common

sys.modules[__name__] = _common
