"""Checks that rendered output is safe to show: used by every renderer test.

* HTML: only allowlisted tags and attributes, no event handlers, links only http(s)/mailto or
  in-page anchors, images only ``data:image/...`` URIs, no script/style outside the page's own.
* Markdown: rendered by a CommonMark renderer *with raw HTML allowed* (the most permissive client),
  the result must pass the same HTML check.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a",
    "article",
    "b",
    "blockquote",
    "br",
    "button",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "input",
    "label",
    "li",
    "main",
    "nav",
    "ol",
    "option",
    "p",
    "pre",
    "s",
    "section",
    "select",
    "span",
    "strong",
    "sub",
    "summary",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "time",
    "tr",
    "ul",
}
PAGE_TAGS = {"html", "head", "meta", "title", "style", "script", "body"}
ALLOWED_ATTRS = {
    "class",
    "id",
    "href",
    "title",
    "loading",
    "data-kind",
    "data-line",
    "data-tool",
    "data-turn",
    "data-target",
    "data-session",
    "data-filter",
    "open",
    "rel",
    "target",
    "alt",
    "src",
    "style",
    "type",
    "checked",
    "placeholder",
    "aria-label",
    "role",
    "value",
    "colspan",
    "start",
    "lang",
    "charset",
    "http-equiv",
    "content",
    "name",
    "nonce",
}


class _Checker(HTMLParser):
    def __init__(self, page: bool):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.problems: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        ok_tags = ALLOWED_TAGS | (PAGE_TAGS if self.page else set())
        if tag not in ok_tags:
            self.problems.append(f"tag <{tag}>")
        if tag == "script":
            self.scripts += 1
        for k, v in attrs:
            v = v or ""
            if k.startswith("on") or k not in ALLOWED_ATTRS:
                self.problems.append(f"attribute {k}= on <{tag}>")
            if k == "href" and not (re.match(r"(?i)^(https?://|mailto:|#[A-Za-z0-9_-]*$)", v)):
                self.problems.append(f"href {v!r}")
            if k == "src" and not re.match(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$", v):
                self.problems.append(f"src {v[:60]!r}")
            if k == "style" and tag not in ("th", "td") and not self.page:
                self.problems.append(f"style on <{tag}>")


def html_problems(html: str, *, page: bool = False) -> list[str]:
    c = _Checker(page)
    c.feed(html)
    c.close()
    if page and c.scripts > 1:
        c.problems.append(f"{c.scripts} scripts")
    return c.problems


def assert_safe_html(html: str, *, page: bool = False) -> None:
    probs = html_problems(html, page=page)
    assert not probs, probs[:10]


_PERMISSIVE = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_PERMISSIVE.validateLink = lambda url: True  # the client trusts whatever links the Markdown has


def assert_safe_markdown(md: str) -> None:
    html = _PERMISSIVE.render(md)
    probs = [p for p in html_problems(html) if not p.startswith("attribute class=")]
    assert not probs, (probs[:10], md[:2000])
    # outside code (which no client linkifies), no text a linkifying client could turn into a risky link
    prose = re.sub(r"(`+)[^`]*?\1", "", re.sub(r"(?ms)^(`{3,}|~{3,}).*?^\1\s*$", "", md))
    hit = re.search(r"(?i)\b(command:[\w.]|javascript:|vbscript:|file:/)", prose)
    assert not hit, f"a risky URI scheme survives as text: {prose[max(hit.start() - 60, 0) : hit.end() + 40]!r}"
