"""Instruction files (AGENTS.md) and the coach-conversation commands, with a fake context."""

from __future__ import annotations

import pytest
from lsprotocol import types as T
from pygls.exceptions import JsonRpcInvalidParams

from sessionlens.lsp.commands import CommandNotFound
from sessionlens.lsp.features import guidelines

AGENTS_MD = """# Rules

- Never push. <!-- sessionlens: id=no-push must-not-run=/\\bgit\\s+push\\b/ -->
- Be nice.
- Run the tests. <!-- sessionlens: must-run=/pytest|npm test|cargo test|go test/ -->
- Broken <!-- sessionlens: must-run=/(/ -->
"""


@pytest.fixture
def agents_md(indexed, ls):
    p = indexed["root"] / "AGENTS.md"
    p.write_text(AGENTS_MD)
    ls.open(p)
    return p


async def test_lenses_one_per_checkable_guideline_pointing_at_the_report(ls, agents_md):
    lenses = await guidelines.PROVIDER.code_lens(ls, str(agents_md))
    assert [lens.range.start.line for lens in lenses] == [2, 4]
    assert all(lens.command.command == "sessionlens.guidelineReport" for lens in lenses)
    assert lenses[0].command.arguments == [{"path": str(agents_md), "line": 2}]


async def test_a_broken_annotation_is_an_error_diagnostic(ls, agents_md):
    diags = await guidelines.PROVIDER.diagnostics(ls, str(agents_md))
    broken = [d for d in diags if d.code == guidelines.ANNOTATION_CODE]
    assert [d.range.start.line for d in broken] == [5] and broken[0].severity == T.DiagnosticSeverity.Error


async def test_hover_explains_how_a_guideline_is_checked(ls, agents_md):
    h = await guidelines.PROVIDER.hover(ls, str(agents_md), T.Position(line=2, character=3))
    assert "Checked by a sessionlens annotation" in h.contents.value
    plain = await guidelines.PROVIDER.hover(ls, str(agents_md), T.Position(line=3, character=3))
    assert plain is None or "Not checked" in plain.contents.value
    assert await guidelines.PROVIDER.hover(ls, str(agents_md), T.Position(line=0, character=0)) is None


async def test_the_open_buffer_wins_over_the_file_on_disk(ls, agents_md):
    ls.open(agents_md, text="# Rules\n\n- Never push. <!-- sessionlens: must-not-run=/git push/ -->\n")
    syms = await guidelines.PROVIDER.document_symbol(ls, str(agents_md))
    assert len(syms) == 1 and syms[0].kind == T.SymbolKind.Property


async def test_guideline_report_command(ls, agents_md):
    res = await guidelines.guideline_report.execute(ls, [{"path": str(agents_md), "line": 2}])
    assert "Never push" in res["markdown"] or "**Guideline**" in res["markdown"]
    assert res["sessions"] >= 0
    with pytest.raises(CommandNotFound):
        await guidelines.guideline_report.execute(ls, [{"path": str(agents_md.with_name("README.md"))}])
    with pytest.raises(JsonRpcInvalidParams):
        await guidelines.guideline_report.execute(ls, [{"path": str(agents_md), "line": -1}])


async def test_conversation_commands_validate_and_find_sessions(ls, log_path):
    with pytest.raises(JsonRpcInvalidParams, match="question"):
        await guidelines.ask_coach.execute(ls, [{"uri": log_path.as_uri(), "question": "   "}])
    with pytest.raises(CommandNotFound):
        await guidelines.conversation.execute(ls, [{"session_id": "nope-nope"}])
    res = await guidelines.conversation.execute(ls, [{"uri": log_path.as_uri()}])
    assert res["messages"] == [] and res["session_id"]
    cleared = await guidelines.clear_conversation.execute(ls, [{"uri": log_path.as_uri()}])
    assert cleared == {"ok": True, "session_id": res["session_id"]}
