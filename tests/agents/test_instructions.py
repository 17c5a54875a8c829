"""Each agent's instruction files feed the coach and the guideline checks (from its adapter)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.compliance.instructions import instruction_files, is_instruction_file
from sessionlens.models.store import StoredSession


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    (p / ".git").mkdir(parents=True)
    (p / "sub").mkdir()
    for name in ("AGENTS.md", "CLAUDE.md", "GEMINI.md", "QWEN.md", "sub/GEMINI.md", ".cursorrules"):
        (p / name).write_text(f"- rule from {name}\n")
    (p / ".cursor" / "rules").mkdir(parents=True)
    (p / ".cursor" / "rules" / "style.mdc").write_text("---\nalwaysApply: true\n---\n- Use tabs.\n")
    (tmp_path / "home" / ".gemini").mkdir(parents=True)
    (tmp_path / "home" / ".gemini" / "GEMINI.md").write_text("- user-level gemini rule\n")
    return p


def _names(files, root: Path) -> list[str]:
    out = []
    for f in files:
        p = Path(f.path)
        out.append(str(p.relative_to(root)) if p.is_relative_to(root) else "~/" + str(p.relative_to(root.parent / "home")))
    return out


@pytest.mark.parametrize(
    "agent,expected",
    [
        ("gemini", ["~/.gemini/GEMINI.md", "GEMINI.md", "sub/GEMINI.md"]),
        ("cursor", [".cursor/rules/style.mdc", "AGENTS.md", ".cursorrules"]),
        ("pi", ["AGENTS.md"]),
        ("qwen", ["QWEN.md", "AGENTS.md"]),
        ("codex", ["AGENTS.md"]),
        ("claude", ["CLAUDE.md"]),
    ],
)
def test_instruction_files_per_agent(project: Path, agent: str, expected: list[str]) -> None:
    files, note = instruction_files(
        StoredSession(id="t", agent=agent, cwd=str(project / "sub"), path="", file_id=0), home=str(project.parent / "home"), use_git=False
    )
    assert note == ""
    assert _names(files, project) == expected


def test_every_agents_files_are_instruction_files(project: Path) -> None:
    for name in ("GEMINI.md", "QWEN.md", ".cursor/rules/style.mdc", "AGENTS.md", "CLAUDE.md"):
        assert is_instruction_file(str(project / name)), name
    assert not is_instruction_file(str(project / "README.md"))
