import re

import pytest

from sessionlens.compliance.guidelines import (
    AnnotationError,
    Check,
    command_regex,
    format_annotation,
    parse_annotation,
    parse_guidelines,
    recognize,
)
from sessionlens.services.coaching import add_guideline_text, guideline_line


def test_parse_bullets_paragraphs_headings_and_annotations():
    text = (
        "---\ntitle: x\n---\n# Rules\n\n- Never commit. <!-- sessionlens: must-not-run=/git commit/ -->\n"
        "- Keep it short\n  and sweet.\n\n```\n- not a guideline\n```\n## Style\n\nWrite clear prose.\n"
        "* Use `uv` instead of `pip`.\n  <!-- sessionlens: id=uv files=*.py,*.toml -->\n"
    )
    gs = parse_guidelines(text, "/p/AGENTS.md")
    assert [(g.line, g.text) for g in gs] == [
        (6, "Never commit."),
        (7, "Keep it short and sweet."),
        (15, "Write clear prose."),
        (16, "Use `uv` instead of `pip`."),
    ]
    assert gs[0].source == "annotation" and gs[0].check.must_not_run == ["git commit"] and gs[0].heading == "Rules"
    assert gs[1].check is None and gs[2].heading == "Style"
    assert gs[3].source == "annotation" and gs[3].check.id == "uv" and gs[3].check.files == ["*.py", "*.toml"]
    assert gs[3].end_line == 17 and gs[3].key == "id:uv"


def test_annotation_grammar_round_trip_and_errors():
    c = parse_annotation(' must-not-run=/git push\\/x "y"/ ; must-use=Bash when=edit files="src/a b/*.py" severity=error')
    assert c.must_not_run == ['git push/x "y"'] and c.must_use == ["Bash"] and c.files == ["src/a b/*.py"]
    again = parse_annotation(format_annotation(c)[len("<!-- sessionlens:") : -3])
    assert again.to_dict() == c.to_dict()
    assert parse_annotation("must-run=pytest").must_run == [re.escape("pytest")]
    for bad, msg in (
        ("frobnicate=1", "unknown key"),
        ("must-run=/(/", "invalid regular expression"),
        ("when=sometimes", "when=sometimes"),
        ("must-run", "needs a value"),
        ("must-run=/abc", "closing"),
    ):
        with pytest.raises(AnnotationError, match=re.escape(msg)):
            parse_annotation(bad)
    gs = parse_guidelines("- Bad one <!-- sessionlens: must-run=/(/ -->\n", "/p/AGENTS.md")
    assert gs[0].errors and gs[0].errors[0][0] == 1 and not gs[0].checkable


@pytest.mark.parametrize(
    "text,cmd_bad,cmd_ok",
    [
        ("Use `uv` instead of `pip`.", "pip install x", "uv pip install x"),
        ("Prefer rg over grep", "cd src && grep -r foo .", "rg foo"),
        ("Never commit without asking.", "git commit -m x", "git status"),
        ("Don't push to main.", "git -C repo push origin main", "git pull"),
        ("Never force-push.", "git push --force origin x", "git push origin x"),
        ("Never run `rm -rf`.", "bash -lc 'rm -rf build'", "rm file.txt"),
    ],
)
def test_builtin_recognizers(text, cmd_bad, cmd_ok):
    c = recognize(text)
    assert c is not None and c.must_not_run, text
    assert any(re.search(rx, cmd_bad) for rx in c.must_not_run)
    assert not any(re.search(rx, cmd_ok) for rx in c.must_not_run)
    assert any(re.search(t, cmd_bad) for t in c.trigger)


def test_run_tests_recognizer_and_unrecognized():
    c = recognize("Always run the tests before finishing.")
    assert c.must_run and c.when == "edit" and re.search(c.must_run[0], "uv run pytest -q")
    c = recognize("Run `make lint` after every change")
    assert re.search(c.must_run[0], "make lint") and not re.search(c.must_run[0], "make build")
    assert recognize("Be kind to reviewers.") is None
    assert not re.search(command_regex("pip"), "pipx run x")


def test_coach_quick_fix_lines_are_checkable():
    line = guideline_line("If the same command fails twice, stop.", "repeated-failure")
    assert line.startswith("- If the same command fails twice, stop. <!-- sessionlens:")
    text = add_guideline_text(None, "If the same command fails twice, stop.", "repeated-failure")
    g = [g for g in parse_guidelines(text, "/p/AGENTS.md") if g.checkable]
    assert len(g) == 1 and g[0].check.rule == "repeated-failure" and g[0].source == "annotation"
    assert Check(rule="x").summary() == "coach rule `x` must not fire"
