from __future__ import annotations

from sessionlens.coach.markdown import code_block, escape_md, inline_code, message_md


def test_links_and_command_uris_are_neutralised() -> None:
    out = escape_md("[x](command:foo) and <command:bar> and [y](javascript:alert(1))")
    assert "command:" not in out and "javascript:" not in out
    assert "](" not in out and "\\[x\\]" in out and "&lt;" in out
    assert "command&#58;foo" in out


def test_raw_html_is_escaped() -> None:
    out = escape_md('<img src=x onerror="alert(1)"> & <script>')
    assert "<" not in out and ">" not in out and '"' not in out
    assert out.startswith("&lt;img src=x onerror=&quot;alert\\(1\\)&quot;&gt; &amp; &lt;script&gt;")


def test_markdown_syntax_is_escaped() -> None:
    assert escape_md("# *bold* _x_ `code` | ![i](u)") == "\\# \\*bold\\* \\_x\\_ \\`code\\` \\| \\!\\[i\\]\\(u\\)"
    assert escape_md(None) == "" and escape_md("plain words") == "plain words"


def test_autolinks_are_broken() -> None:
    out = escape_md("see https://evil.example/x or www.evil.example")
    assert "https://" not in out and "www." not in out


def test_code_block_fence_is_longer_than_content_backticks() -> None:
    block = code_block("a ``` b\n`````\n", "bash")
    assert block.startswith("``````bash\n") and block.endswith("\n``````")
    assert code_block("x", "py; rm") == "```pyrm\nx\n```"
    assert code_block(None) == "```\n\n```"


def test_inline_code_handles_backticks() -> None:
    assert inline_code("ls") == "`ls`"
    assert inline_code("a `b` c") == "``a `b` c``"
    assert inline_code("`x`") == "`` `x` ``"
    assert inline_code("a\nb") == "`a b`"


def test_message_md_renders_code_spans_and_escapes_the_rest() -> None:
    assert message_md("`make build` failed: [x](y) <b>") == "`make build` failed: \\[x\\]\\(y\\) &lt;b&gt;"
    risky = message_md("`echo <img onerror=x>` then `open command:foo`")
    assert "<img" not in risky and "command:" not in risky and "\\`echo &lt;img" in risky
    assert message_md(None) == ""


def test_a_quoted_shell_redirection_stays_code():
    """`2>&1` in a finding is a code span (literal in Markdown), not `2&gt;&amp;1` escaped text."""
    from sessionlens.coach.markdown import message_md

    assert message_md("ran `mix test 2>&1 | tail -5` and stopped") == "ran `mix test 2>&1 | tail -5` and stopped"
    assert "<b>" not in message_md("see `<b>bold</b>`")
