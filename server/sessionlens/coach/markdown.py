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

    Backtick-quoted spans become inline code (a code span is literal: ``2>&1`` stays readable), unless
    they hold ``<`` (a tag's start) or a risky URI scheme; everything else goes through :func:`escape_md`.
    """
    if not text:
        return ""
    out: list[str] = []
    pos = 0
    for m in _CODE_SPAN.finditer(text):
        code = m.group(1)
        if _SCHEMES.search(code) or "<" in code:
            continue  # rendered by escape_md below: no raw HTML or URI text even inside code
        out.append(escape_md(text[pos : m.start()]))
        out.append(inline_code(code))
        pos = m.end()
    out.append(escape_md(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------------------------- model output
# An AI coach's answer is untrusted content too (a log can steer the model): before it reaches a
# Markdown preview it loses raw HTML (<script>, <img onerror>, <iframe>…), images (a remote image
# is a beacon that can carry data out), links other than http(s) and sessionlens deep links
# (``command:`` links run editor commands in a trusted preview), and link definitions alike.

_SAFE_LINK = re.compile(r"(?i)^(?:https?://|sessionlens://|#)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_IMAGE = re.compile(r"!\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^()\s>]*(?:\([^()]*\)[^()\s>]*)*)>?(?:\s+[\"'(][^)]*)?\)")
_REF_DEF = re.compile(r"^( {0,3})\[([^\]]+)\]:\s*<?(\S*?)>?(\s.*)?$")
_REF_IMAGE = re.compile(r"!\[([^\]]*)\]\[[^\]]*\]")


def _safe_text(seg: str) -> str:
    """One stretch of a line outside code: no HTML, no image, only safe links, no risky scheme."""
    seg = _REF_IMAGE.sub(lambda m: f"[image: {m.group(1)}]" if m.group(1) else "[image]", seg)
    seg = _IMAGE.sub(lambda m: f"[image: {m.group(1)}]" if m.group(1) else "[image]", seg)
    seg = _LINK.sub(lambda m: m.group(0) if _SAFE_LINK.match(m.group(2) or "") else m.group(1), seg)
    seg = seg.replace("<", "&lt;")
    # a risky scheme left in plain text (``command:x`` a renderer might linkify), outside safe links
    out, pos = [], 0
    for m in _LINK.finditer(seg):
        out.append(_SCHEMES.sub(lambda s: s.group(1) + "&#58;", seg[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_SCHEMES.sub(lambda s: s.group(1) + "&#58;", seg[pos:]))
    return "".join(out)


def _safe_line(line: str) -> str:
    m = _REF_DEF.match(line)
    if m and not _SAFE_LINK.match(m.group(3) or ""):
        return f"{m.group(1)}\\[{m.group(2)}\\]: {_safe_text(m.group(3) or '')}{_safe_text(m.group(4) or '')}"
    out, pos = [], 0
    i, n = 0, len(line)
    while i < n:  # inline code spans render literally: kept as they are
        if line[i] != "`":
            i += 1
            continue
        j = i
        while j < n and line[j] == "`":
            j += 1
        ticks = line[i:j]
        close = line.find(ticks, j)
        while close >= 0 and close + len(ticks) < n and line[close + len(ticks)] == "`":
            close = line.find(ticks, close + len(ticks) + 1)
        if close < 0:
            i = j
            continue
        out.append(_safe_text(line[pos:i]))
        out.append(line[i : close + len(ticks)])
        pos = i = close + len(ticks)
    out.append(_safe_text(line[pos:]))
    return "".join(out)


class SafeMarkdownStream:
    """Sanitizes streamed model Markdown line by line (a tag or link split across deltas is held back
    until its line ends; fenced code blocks pass as they are: they render literally)."""

    def __init__(self) -> None:
        self.pending = ""
        self.fence: str | None = None

    def _line(self, line: str) -> str:
        m = _FENCE.match(line)
        if self.fence is not None:
            if m and m.group(1)[0] == self.fence[0] and len(m.group(1)) >= len(self.fence) and not line[m.end() :].strip():
                self.fence = None
            return line
        if m:
            self.fence = m.group(1)
            return line
        return _safe_line(line)

    mid_line = False  # part of the current line was emitted already (it is no fence line)

    def feed(self, delta: str) -> str:
        self.pending += delta
        out: list[str] = []
        cut = self.pending.rfind("\n")
        if cut >= 0:
            head, self.pending = self.pending[: cut + 1], self.pending[cut + 1 :]
            for ln in head[:-1].split("\n"):
                out.append((_safe_line(ln) if self.mid_line else self._line(ln)) + "\n")
                self.mid_line = False
        out.append(self._partial())
        return "".join(out)

    def _partial(self) -> str:
        """The quiet head of an unfinished line: up to its last blank outside any link, code span or
        tag (a construct split across deltas waits for its end)."""
        p = self.pending
        if self.fence is not None or not self.mid_line and _could_be_fence(p):
            return ""
        cut = max(p.rfind(" "), p.rfind("\t"))
        while cut > 0 and not _quiet(p[:cut]):
            cut = max(p.rfind(" ", 0, cut), p.rfind("\t", 0, cut))
        if cut <= 0:
            return ""
        head, self.pending = p[:cut], p[cut:]
        self.mid_line = True
        return _safe_line(head)

    def flush(self) -> str:
        tail, self.pending = self.pending, ""
        if not tail:
            return ""
        out = _safe_line(tail) if self.mid_line else self._line(tail)
        self.mid_line = False
        return out


def _could_be_fence(partial: str) -> bool:
    stripped = partial.lstrip(" ")
    return len(partial) - len(stripped) <= 3 and (not stripped or stripped[0] in "`~")


def _quiet(head: str) -> bool:
    """No construct left open at the end of ``head``: code spans, brackets, parentheses, tags."""
    if head.count("`") % 2 or head.count("[") != head.count("]") or head.count("(") != head.count(")"):
        return False
    return head.rfind("<") <= head.rfind(">")


def sanitize_model_markdown(text: str | None) -> str:
    """An AI answer made safe to render (see :class:`SafeMarkdownStream`)."""
    s = SafeMarkdownStream()
    return s.feed(text or "") + s.flush()
