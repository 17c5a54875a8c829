"""The one renderer of sessionlens: a session, a turn or an event as sanitized HTML (webview, export,
web UI) or Markdown (LSP hovers, Neovim, terminals), from the normalized event model only.

``text`` holds the Markdown renderings and shared formatting; ``html`` the HTML transcript;
``tools`` names calls by what they did; ``diff`` computes minimal diffs; ``safe_md`` renders log
Markdown safely; ``blocks`` groups events into turns of items for both outputs.

The names below load on first use (PEP 562): ``sessionlens show``'s timeline reads ``tools`` alone
and never pays for markdown-it (``safe_md``) or the pydantic models ``text`` is typed with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sessionlens.models.lazy import lazy_exports

if TYPE_CHECKING:
    from sessionlens.services.render.safe_md import code_span, md_text, md_to_html, md_to_markdown
    from sessionlens.services.render.text import (
        OUTPUT_EXCERPT,
        TEXT_EXCERPT,
        checklist_md,
        diff_md,
        escape_md,
        event_markdown,
        excerpt,
        fmt_duration,
        fmt_int,
        fmt_ts,
        fmt_usd,
        session_markdown,
        turn_markdown,
        usage_lines,
    )
    from sessionlens.services.render.tools import KIND_LABEL, call_name, error_name, event_name, one_line, prompt_name

__all__ = [
    "KIND_LABEL",
    "OUTPUT_EXCERPT",
    "TEXT_EXCERPT",
    "call_name",
    "checklist_md",
    "code_span",
    "diff_md",
    "error_name",
    "escape_md",
    "event_markdown",
    "event_name",
    "excerpt",
    "fmt_duration",
    "fmt_int",
    "fmt_ts",
    "fmt_usd",
    "md_text",
    "md_to_html",
    "md_to_markdown",
    "one_line",
    "prompt_name",
    "session_markdown",
    "turn_markdown",
    "usage_lines",
]

_SAFE_MD = frozenset({"code_span", "md_text", "md_to_html", "md_to_markdown"})
_TOOLS = frozenset({"KIND_LABEL", "call_name", "error_name", "event_name", "one_line", "prompt_name"})
#: name -> the submodule that defines it (``text`` for the rest)
_HOME = {n: f"{__name__}." + ("safe_md" if n in _SAFE_MD else "tools" if n in _TOOLS else "text") for n in __all__}
#: ``render.text`` as an attribute, as when this package imported it
_SUBMODULES = frozenset({"blocks", "diff", "html", "safe_md", "text", "tools"})

__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOME, _SUBMODULES)
