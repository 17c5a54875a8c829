"""The one renderer of sessionlens: a session, a turn or an event as sanitized HTML (webview, export,
web UI) or Markdown (LSP hovers, Neovim, terminals), from the normalized event model only.

``text`` holds the Markdown renderings and shared formatting; ``html`` the HTML transcript;
``tools`` names calls by what they did; ``diff`` computes minimal diffs; ``safe_md`` renders log
Markdown safely; ``blocks`` groups events into turns of items for both outputs.
"""

from sessionlens.services.render.safe_md import code_span, md_text, md_to_html, md_to_markdown  # noqa: F401
from sessionlens.services.render.text import (  # noqa: F401
    KIND_LABEL,
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
    one_line,
    session_markdown,
    turn_markdown,
    usage_lines,
)
from sessionlens.services.render.tools import call_name, error_name, event_name, prompt_name  # noqa: F401
