"""Each of these agents' instruction files feed the guideline checks and the coach (read from the registry)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.compliance.instructions import instruction_files, is_instruction_file
from sessionlens.models.store import StoredSession


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    (proj / ".git").mkdir(parents=True)
    (proj / ".github" / "instructions").mkdir(parents=True)
    for name in (
        ".github/copilot-instructions.md",
        ".github/instructions/py.instructions.md",
        "AGENTS.md",
        "CLAUDE.md",
        "CRUSH.md",
        "OpenCode.md",
        "GEMINI.md",
    ):
        (proj / name).write_text(f"- Rule from {name}.\n")
    return proj


@pytest.mark.parametrize(
    "agent, expected",
    [
        ("copilot", {"copilot-instructions.md", "py.instructions.md", "AGENTS.md", "CLAUDE.md", "GEMINI.md"}),
        ("opencode", {"AGENTS.md"}),  # CLAUDE.md only when there is no AGENTS.md
        ("opencode-go", {"OpenCode.md", "CLAUDE.md", "copilot-instructions.md"}),
        ("crush", {"CRUSH.md", "AGENTS.md", "OpenCode.md", "CLAUDE.md", "copilot-instructions.md"}),
    ],
)
def test_instruction_files_per_agent(project: Path, tmp_path: Path, agent: str, expected: set[str]):
    files, _ = instruction_files(
        StoredSession(id="t", agent=agent, cwd=str(project), path="", file_id=0), home=str(tmp_path / "h"), use_git=False
    )
    assert {Path(f.path).name for f in files} == expected


def test_user_level_copilot_instructions(project: Path, tmp_path: Path, monkeypatch):
    home = tmp_path / "h"
    (home / ".copilot").mkdir(parents=True)
    (home / ".copilot" / "copilot-instructions.md").write_text("- Personal rule.\n")
    monkeypatch.delenv("COPILOT_HOME", raising=False)
    files, _ = instruction_files(
        StoredSession(id="t", agent="copilot", cwd=str(project), path="", file_id=0), home=str(home), use_git=False
    )
    assert str(home / ".copilot" / "copilot-instructions.md") in {f.path for f in files}


def test_their_files_are_instruction_files(project: Path):
    for name in (".github/copilot-instructions.md", "CRUSH.md", "OpenCode.md"):
        assert is_instruction_file(str(project / name))
