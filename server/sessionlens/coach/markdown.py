"""Safe Markdown rendering of untrusted log content (coach reports, LSP hovers).

Everything that comes from a session log must go through :func:`escape_md` (inline text) or
:func:`code_block` / :func:`inline_code` (verbatim text).  The output never contains raw HTML,
clickable links or a ``command:`` URI built from log content.
"""

from __future__ import annotations

import re

# ASCII punctuation with a meaning in CommonMark / GFM that we neutralise with a backslash.
_MD_SPECIAL = set("\\`*_{}[]()#+-.!|~")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
# URI schemes that could trigger actions or load content if a renderer linkified them.
_SCHEMES = re.compile(r"(?i)\b(command|javascript|vbscript|data|vscode|vscode-insiders|file)\s*:")
_LINKIFY = re.compile(r"(?i)\b(https?|ftp|mailto|www)(?=[:.])")


def escape_md(text: str | None) -> str:
    """Escape ``text`` so it renders literally as inline Markdown.

    Markdown punctuation is backslash-escaped, HTML special characters become entities (no raw
    HTML survives), the colon of risky URI schemes (``command:``, ``javascript:``...) becomes
    ``&#58;`` so no such URI appears in the output, and ``http``/``www`` prefixes get a
    zero-width joiner so renderers with linkify enabled do not create links.
    """
    if not text:
        return ""
    text = _SCHEMES.sub(lambda m: m.group(1) + "\x00", text)
    text = _LINKIFY.sub(lambda m: m.group(1)[0] + "\u2060" + m.group(1)[1:], text)
    out: list[str] = []
    for ch in text:
        if ch == "\x00":
            out.append("&#58;")
        elif ch in _HTML:
            out.append(_HTML[ch])
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        elif ch == "\r":
            continue
        else:
            out.append(ch)
    return "".join(out)


def _longest_run(text: str, ch: str) -> int:
    runs = re.findall(re.escape(ch) + "+", text)
    return max((len(r) for r in runs), default=0)


def code_block(text: str | None, lang: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside ``text``."""
    body = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    fence = "`" * max(3, _longest_run(body, "`") + 1)
    lang = re.sub(r"[^A-Za-z0-9_+\-]", "", lang or "")
    if not body.endswith("\n"):
        body += "\n"
    return f"{fence}{lang}\n{body}{fence}"


def inline_code(text: str | None) -> str:
    """An inline code span that can hold any text (newlines become spaces)."""
    body = (text or "").replace("\r", " ").replace("\n", " ")
    if not body:
        return "` `"
    ticks = "`" * (_longest_run(body, "`") + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or (body.startswith(" ") and body.endswith(" ")) else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def message_md(text: str | None) -> str:
    """Render a plain-text message (e.g. a coach finding) safely.

    Backtick-quoted spans become inline code, unless they hold HTML characters or a risky URI
    scheme; everything else goes through :func:`escape_md`.
    """
    if not text:
        return ""
    out: list[str] = []
    pos = 0
    for m in _CODE_SPAN.finditer(text):
        code = m.group(1)
        if _SCHEMES.search(code) or any(c in code for c in "<>&"):
            continue  # rendered by escape_md below: no raw HTML or URI text even inside code
        out.append(escape_md(text[pos:m.start()]))
        out.append(inline_code(code))
        pos = m.end()
    out.append(escape_md(text[pos:]))
    return "".join(out)
