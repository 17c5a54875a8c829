"""Log Markdown renders as Markdown, safely, in both outputs."""

from sessionlens.services.render.safe_md import md_text, md_to_html, md_to_markdown, safe_href
from tests.services.safety import assert_safe_html, assert_safe_markdown

TEXT = """# Plan for 2026-02-11

Using **claude-opus-4-6** and `snake_case` via assistant/tool_use.

- one
- two with [a link](https://example.test/x) and [bad](command:workbench.action.x)
  1. nested

| a | b |
|---|---|
| x | y |

<script>alert(1)</script>
"""


def test_markdown_out_is_canonical_and_unescaped():
    md = md_to_markdown(TEXT)
    assert "2026-02-11" in md and "claude-opus-4-6" in md and "assistant/tool_use" in md  # no backslashes
    assert "- one\n- two" in md and "  1. nested" in md
    assert "[a link](https://example.test/x)" in md and "command:" not in md.replace("command\u2060:", "")
    assert "```html\n<script>alert(1)</script>\n```" in md  # raw HTML shown as code, never as HTML
    assert_safe_markdown(md)


def test_html_out_renders_markdown_and_drops_bad_links():
    html = md_to_html(TEXT)
    assert "<strong>claude-opus-4-6</strong>" in html and "<li>one</li>" in html and "<table>" in html
    assert 'href="https://example.test/x"' in html and 'href="command' not in html
    assert "&lt;script&gt;" in html
    assert_safe_html(html)


def test_minimal_escaping_and_hrefs():
    assert md_text("2026-02-11 claude-opus-4-6 snake_case") == "2026-02-11 claude-opus-4-6 snake_case"
    assert md_text("*x* [y] _z_ <b>") == "\\*x\\* \\[y\\] \\_z\\_ \\<b>"
    assert md_text("- item") == "\\- item"
    assert [
        safe_href(u) for u in ("https://a.b", "mailto:x@y", "#e12", "javascript:x", " JaVa\tscript:x", "file:///e", "data:x", "//evil")
    ] == ["https://a.b", "mailto:x@y", "#e12", None, None, None, None, None]
