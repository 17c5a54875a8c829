"""Assistant and user text is Markdown: render it as Markdown, safely.

Two outputs from one parse (markdown-it-py, CommonMark + tables + strikethrough):

* :func:`md_to_html` — HTML with raw HTML disabled (it shows as text), links only to
  ``http``/``https``/``mailto`` (anything else stays text), no images (log content never loads a
  remote image: an image becomes its alt text);
* :func:`md_to_markdown` — the same document written back as *canonical, safe* Markdown for LSP
  hovers and terminals: raw HTML becomes code, unsafe links lose their target, images become
  text, and text is escaped minimally (only what would otherwise turn into markup), so a hover
  in Neovim shows ``2026-02-11``, not ``2026\\-02\\-11``.

:func:`md_text` escapes a metadata string for inline Markdown the same minimal way.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

SAFE_SCHEMES = ("http:", "https:", "mailto:")
# URI schemes that could run something if a client linkified plain text: broken with a word joiner
# (only where a URI could follow: "the file: foo" or "command: ls" stay as written)
_RISKY = re.compile(r"(?i)\b(command|javascript|vbscript|data|file|vscode(?:-insiders)?|vscode-webview)(\s*):(?=[^\s])")
WJ = "\u2060"


def safe_href(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s)/mailto link (or an in-page ``#anchor``), else None."""
    if not url:
        return None
    u = url.strip()
    low = re.sub(r"[\x00-\x20]", "", u).lower()
    if low.startswith("#") and re.fullmatch(r"#[A-Za-z0-9_-]*", u):
        return u
    if low.startswith(SAFE_SCHEMES):
        if low.startswith("mailto:") or re.match(r"https?://[^/\s]", low):
            return u
    return None


def defang(text: str) -> str:
    """Break ``command:``-like schemes in plain text so no client turns them into links."""
    return _RISKY.sub(lambda m: m.group(1) + m.group(2) + WJ + ":", text)


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = lambda url: safe_href(url) is not None  # type: ignore[method-assign]

    def image(self, tokens, idx, options, env):
        alt = "".join(c.content for c in (tokens[idx].children or [])) or tokens[idx].content
        return f'<span class="sl-blocked-img">[image: {html.escape(alt)}]</span>'

    def link_open(self, tokens, idx, options, env):
        tok = tokens[idx]
        href = safe_href(str(tok.attrGet("href") or ""))
        if href is None:  # validateLink already refused it; belt and braces
            return "<span>"
        tok.attrs = {"href": href}
        if not href.startswith("#"):
            tok.attrs.update({"rel": "noopener noreferrer nofollow", "target": "_blank"})
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("image", image)
    md.add_render_rule("link_open", link_open)
    return md


@lru_cache(maxsize=1)
def _md_html() -> MarkdownIt:
    """A parser that *recognizes* raw HTML (so the Markdown writer can neutralize it)."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # the writer decides
    return md


def md_to_html(text: str | None) -> str:
    if not text:
        return ""
    return defang_html(_md().render(text))


def defang_html(s: str) -> str:
    # text nodes only carry the scheme names as text; attributes were validated above
    return _RISKY.sub(lambda m: m.group(1) + m.group(2) + "&#8288;:", s)


# ---------------------------------------------------------------------------------------- Markdown out

_LINE_START = re.compile(r"^(\s*)([#>]|[-+*](?=\s|$)|\d{1,9}[.)](?=\s|$)|=+\s*$|-+\s*$|`{3,}|~{3,})")


def md_text(text: str | None, *, table: bool = False, line_start: bool = True) -> str:
    """Escape ``text`` minimally for inline Markdown: only characters that would start markup."""
    if not text:
        return ""
    s = defang(text)
    out: list[str] = []
    n = len(s)
    for i, ch in enumerate(s):
        if ch in "\\`*[]":
            out.append("\\" + ch)
        elif ch == "_":
            prev = s[i - 1] if i else " "
            nxt = s[i + 1] if i + 1 < n else " "
            out.append("_" if prev.isalnum() and nxt.isalnum() else "\\_")
        elif ch == "<":
            nxt = s[i + 1] if i + 1 < n else ""
            out.append("\\<" if (nxt.isalpha() or nxt in "/!?") else "<")
        elif ch == "&":
            out.append("\\&" if re.match(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);", s[i : i + 34]) else "&")
        elif ch == "~" and ((i + 1 < n and s[i + 1] == "~") or (i and s[i - 1] == "~")):
            out.append("\\~")
        elif ch == "|" and table:
            out.append("\\|")
        elif ch == "\r":
            continue
        elif ch == "\n":
            out.append(" ")
        else:
            out.append(ch)
    r = "".join(out)
    return _escape_line_start(r) if line_start else r


def _escape_line_start(line: str) -> str:
    m = _LINE_START.match(line)
    if not m:
        return line
    i = len(m.group(1))
    return line[:i] + "\\" + line[i:]


def _longest_run(text: str, ch: str) -> int:
    runs = re.findall(re.escape(ch) + "+", text)
    return max((len(r) for r in runs), default=0)


def code_span(text: str | None) -> str:
    body = (text or "").replace("\r", " ").replace("\n", " ")
    if not body:
        return "` `"
    ticks = "`" * (_longest_run(body, "`") + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or (body.startswith(" ") and body.endswith(" ")) else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


def fence(text: str | None, lang: str = "") -> str:
    body = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    f = "`" * max(3, _longest_run(body, "`") + 1)
    lang = re.sub(r"[^A-Za-z0-9_+\-]", "", lang or "")[:20]
    if not body.endswith("\n"):
        body += "\n"
    return f"{f}{lang}\n{body}{f}"


def md_to_markdown(text: str | None) -> str:
    """``text`` (Markdown from a log) rewritten as safe Markdown (see the module docstring)."""
    if not text:
        return ""
    tokens = _md_html().parse(text)
    lines = _blocks(tokens, 0, len(tokens))
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _close_of(tokens: list[Token], i: int) -> int:
    level = tokens[i].level
    for j in range(i + 1, len(tokens)):
        t = tokens[j]
        if t.nesting == -1 and t.level == level:
            return j
    return len(tokens) - 1


def _blocks(tokens: list[Token], i: int, end: int, tight: bool = False) -> list[str]:
    out: list[str] = []

    def sep():
        if out and out[-1] != "" and not tight:
            out.append("")

    while i < end:
        t = tokens[i]
        ty = t.type
        if ty == "paragraph_open":
            j = _close_of(tokens, i)
            sep()
            out.extend(_inline_lines(tokens[i + 1]) if i + 1 < j else [])
            i = j + 1
            continue
        if ty == "heading_open":
            j = _close_of(tokens, i)
            sep()
            level = int(t.tag[1]) if t.tag[1:].isdigit() else 2
            out.append("#" * level + " " + " ".join(_inline_lines(tokens[i + 1])))
            i = j + 1
            continue
        if ty in ("bullet_list_open", "ordered_list_open"):
            j = _close_of(tokens, i)
            sep()
            start = int(t.attrGet("start") or 1) if ty == "ordered_list_open" else 1
            n = start
            k = i + 1
            while k < j:
                if tokens[k].type == "list_item_open":
                    kj = _close_of(tokens, k)
                    hidden = any(x.type == "paragraph_open" and x.hidden for x in tokens[k + 1 : kj])
                    inner = _blocks(tokens, k + 1, kj, tight=hidden) or [""]
                    marker = f"{n}. " if ty == "ordered_list_open" else "- "
                    pad = " " * len(marker)
                    out.append(marker + inner[0])
                    out.extend((pad + x) if x else "" for x in inner[1:])
                    n += 1
                    k = kj + 1
                else:
                    k += 1
            i = j + 1
            continue
        if ty == "blockquote_open":
            j = _close_of(tokens, i)
            sep()
            out.extend(("> " + x) if x else ">" for x in _blocks(tokens, i + 1, j))
            i = j + 1
            continue
        if ty in ("fence", "code_block"):
            sep()
            out.extend(fence(t.content, (t.info or "").split(" ")[0] if ty == "fence" else "").split("\n"))
        elif ty == "html_block":
            sep()
            out.extend(fence(t.content, "html").split("\n"))
        elif ty == "hr":
            sep()
            out.append("---")
        elif ty == "table_open":
            j = _close_of(tokens, i)
            sep()
            out.extend(_table(tokens, i, j))
            i = j + 1
            continue
        elif ty == "inline":
            out.extend(_inline_lines(t))
        i += 1
    return out


def _table(tokens: list[Token], i: int, j: int) -> list[str]:
    rows: list[list[str]] = []
    aligns: list[str] = []
    row: list[str] | None = None
    in_head = False
    for k in range(i, j):
        t = tokens[k]
        if t.type == "thead_open":
            in_head = True
        elif t.type == "thead_close":
            in_head = False
        elif t.type == "tr_open":
            row = []
        elif t.type == "tr_close" and row is not None:
            rows.append(row)
        elif t.type in ("th_open", "td_open"):
            if in_head:
                style = str(t.attrGet("style") or "")
                aligns.append("center" if "center" in style else "right" if "right" in style else "left" if "left" in style else "")
        elif t.type == "inline" and row is not None:
            row.append(" ".join(_inline_lines(t, table=True)))
    if not rows:
        return []
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    aligns += [""] * (width - len(aligns))
    seps = {"center": ":---:", "right": "---:", "left": ":---", "": "---"}
    out = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join(seps[a] for a in aligns) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return out


def _inline_lines(tok: Token, table: bool = False) -> list[str]:
    parts: list[str] = []
    stack: list[str | None] = []
    for c in tok.children or []:
        ty = c.type
        if ty == "text":
            parts.append(md_text(c.content, table=table, line_start=False))
        elif ty == "softbreak":
            parts.append("\n")
        elif ty == "hardbreak":
            parts.append("  \n" if not table else " ")
        elif ty == "code_inline":
            parts.append(code_span(defang(c.content)))
        elif ty in ("em_open", "em_close"):
            parts.append("*")
        elif ty in ("strong_open", "strong_close"):
            parts.append("**")
        elif ty in ("s_open", "s_close"):
            parts.append("~~")
        elif ty == "link_open":
            href = safe_href(str(c.attrGet("href") or ""))
            if c.markup == "autolink":
                stack.append("auto" if href else None)
                parts.append("<" if href else "")
            else:
                stack.append(href)
                parts.append("[" if href else "")
        elif ty == "link_close":
            href = stack.pop() if stack else None
            if href == "auto":
                parts.append(">")
            elif href:
                parts.append("](" + href.replace(" ", "%20").replace("(", "%28").replace(")", "%29") + ")")
        elif ty == "image":
            alt = "".join(x.content for x in (c.children or [])) or c.content
            parts.append("\\[image: " + md_text(alt, table=table) + "\\]")
        elif ty == "html_inline":
            parts.append(code_span(c.content))
        else:
            parts.append(md_text(c.content, table=table, line_start=False))
    # autolink text children were escaped as text: inside <...> they must stay verbatim
    text = "".join(parts)
    text = re.sub(
        r"<([^<>\s]+)>", lambda m: "<" + m.group(1).replace("\\", "") + ">" if safe_href(m.group(1).replace("\\", "")) else m.group(0), text
    )
    if table:  # a cell is never at the start of a line
        return text.split("\n")
    return [_escape_line_start(x) for x in text.split("\n")]
