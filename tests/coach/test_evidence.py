"""Findings say what the log shows: the informative line of an error, nothing when evidence is redacted,
no slow-tool-call on tools that wait by design (hand-built logs; the corpus cases are in test_corpus_defects)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sessionlens.coach.evidence import informative_line, is_blocking_tool, is_redacted
from sessionlens.coach.rules import run_rules
from sessionlens.coach.rules import tests_after_edit as edit_testing
from sessionlens.models import EventKind
from tests.coach.builders import T0, Log, session


def _findings(log: Log, rule: str):
    return [f for f in run_rules(session(), log.events, log.turns) if f.rule_id == rule]


@pytest.mark.parametrize(
    ("output", "line"),
    [
        (
            "Exit code 128\nfatal: The current branch feature/x has no upstream branch.\nTo push the current branch and set "
            "the remote as upstream, use\n\n    git push --set-upstream origin feature/x\n",
            "fatal: The current branch feature/x has no upstream branch.",
        ),
        (
            'Exit code 1\nTraceback (most recent call last):\n  File "a.py", line 1, in <module>\n    import foo\n'
            "ModuleNotFoundError: No module named 'foo'",
            "ModuleNotFoundError: No module named 'foo'",
        ),
        (
            "Exit code 1\n===== 1 failed, 3 passed in 0.20s =====\nFAILED tests/test_a.py::test_x - assert 1 == 2",
            "FAILED tests/test_a.py::test_x - assert 1 == 2",
        ),
        (
            "Pre-commit validation failed:\\n\\n[FORMAT] Code is not formatted.\\nRun 'mix format' to fix.",
            "[FORMAT] Code is not formatted.",
        ),
        (
            "<tool_use_error>String to replace not found in file.\nString:   rescue\n      error ->\n  end</tool_use_error>",
            "String to replace not found in file.",
        ),
        ("Exit code 2\n\n", ""),
    ],
)
def test_informative_line(output: str, line: str) -> None:
    assert informative_line(output) == line


def test_tool_error_quotes_the_informative_line_not_the_exit_code_prefix() -> None:
    log = Log()
    log.prompt()
    log.shell("git push 2>&1", "Exit code 128\nfatal: The current branch main has no upstream branch.\n", exit_code=128)
    [f] = _findings(log, "tool-error")
    assert f.message == "`git push 2>&1` failed with exit code 128: fatal: The current branch main has no upstream branch."
    assert "Exit code" not in f.message


def test_redaction_markers_are_unknown_evidence() -> None:
    assert is_redacted("[REDACTED_ARGUMENTS len=479 sha=939b61bc]")
    assert is_redacted("[REDACTED:aws-access-key]")
    assert not is_redacted("pytest -q [REDACTED:github-token]")
    assert not is_redacted("pytest -q")


def _codex_redacted(commands: list[str | None]) -> Log:
    log = Log()
    log.prompt()
    log.add(EventKind.PATCH, tool="apply_patch", call_id="p1", files=["src/app.py"])
    for i, text in enumerate(commands):
        log.add(EventKind.TOOL_CALL, tool="exec_command", call_id=f"x{i}", command=None, text=text)
        log.add(EventKind.TOOL_RESULT, tool="exec_command", call_id=f"x{i}", text="[REDACTED_OUTPUT len=12 sha=ab]")
    return log


def test_no_tests_after_edit_says_nothing_when_commands_are_redacted() -> None:
    log = _codex_redacted(["[REDACTED_ARGUMENTS len=40 sha=1a2b3c4d]"])
    assert _findings(log, "no-tests-after-edit") == []
    assert edit_testing(_ctx(log)).status == "unknown"


def test_no_tests_after_edit_still_fires_when_every_command_is_known() -> None:
    log = _codex_redacted([])
    log.shell("ls -la")
    [f] = _findings(log, "no-tests-after-edit")
    assert "no test command ran in this session" in f.message


def test_a_redacted_command_before_the_edit_does_not_hide_the_missing_test() -> None:
    log = Log()
    log.prompt()
    log.add(EventKind.TOOL_CALL, tool="exec_command", call_id="x", text="[REDACTED_ARGUMENTS len=40 sha=1a]")
    log.add(EventKind.PATCH, tool="apply_patch", call_id="p1", files=["src/app.py"])
    log.shell("git diff")
    assert len(_findings(log, "no-tests-after-edit")) == 1


def _ctx(log: Log):
    from sessionlens.coach.config import CoachConfig
    from sessionlens.coach.rules import Context, _test_patterns

    cfg = CoachConfig()
    return Context(
        session=session(), events=log.events, turns=log.turns, config=cfg, test_patterns=_test_patterns(tuple(cfg.test_command_patterns))
    )


@pytest.mark.parametrize(
    "tool", ["TaskOutput", "BashOutput", "AgentOutputTool", "Task", "wait_agent", "wait_for_job", "mcp__ci__poll_status", "write_stdin"]
)
def test_slow_tool_call_ignores_tools_that_block_by_design(tool: str) -> None:
    assert is_blocking_tool(tool)
    log = Log()
    log.prompt()
    log.tool(tool, "{}", "done", duration_ms=600_000)
    assert _findings(log, "slow-tool-call") == []


def test_slow_tool_call_ignores_sleep_and_watchers() -> None:
    log = Log()
    log.prompt()
    log.shell("sleep 300", duration_ms=300_500)
    log.shell("gh run watch 123", duration_ms=900_000)
    assert _findings(log, "slow-tool-call") == []


def test_slow_tool_call_fires_strictly_above_the_threshold_and_says_so() -> None:
    log = Log()
    log.prompt()
    log.shell("make a", duration_ms=120_000)  # at the threshold: not slow
    c2, _ = log.shell("make b", duration_ms=120_400)
    [f] = _findings(log, "slow-tool-call")
    assert f.seq == c2.seq
    assert f.message == "`make b` took 120.4 s (threshold 120 s)"


def test_slow_tool_call_skips_redacted_calls_timed_by_timestamps_only() -> None:
    log = Log()
    log.prompt()
    log.add(EventKind.TOOL_CALL, tool="exec_command", call_id="z", text="[REDACTED_ARGUMENTS len=9 sha=aa]", timestamp=T0)
    log.add(EventKind.TOOL_RESULT, tool="exec_command", call_id="z", text="x", timestamp=T0 + timedelta(seconds=4000))
    assert _findings(log, "slow-tool-call") == []
    # the same call with the agent's own duration is reported (the time is a recorded fact)
    log2 = Log()
    log2.prompt()
    log2.add(EventKind.TOOL_CALL, tool="exec_command", call_id="z", text="[REDACTED_ARGUMENTS len=9 sha=aa]")
    log2.add(EventKind.TOOL_RESULT, tool="exec_command", call_id="z", text="x", duration_ms=400_000)
    [f] = _findings(log2, "slow-tool-call")
    assert f.message.startswith("exec_command took 400 s") and "REDACTED" not in f.message


def test_repeated_failure_is_a_loop_only_without_edits_in_between() -> None:
    log = Log()
    log.prompt()
    for _ in range(3):
        log.shell("git commit -m x", "Exit code 1\nhook failed", exit_code=1)
        log.tool("Edit", '{"file_path": "a.py"}', "ok", files=["a.py"])  # fixing what the hook reported
    assert _findings(log, "repeated-failure") == []
    for _ in range(3):
        log.shell("git commit -m x", "Exit code 1\nhook failed", exit_code=1)
    [f] = _findings(log, "repeated-failure")
    assert "failed 3 times" in f.message and "with no edit in between" in f.message  # after the last edit


def test_a_linter_location_comes_with_its_message() -> None:
    out = (
        "Total errors: 2, Skipped: 0\ndone in 0m12.09s\nlib/app/helpers.ex:57:13:pattern_match\n"
        "The pattern can never match the type.\n\nPattern:\n{:ok, _id}"
    )
    assert informative_line(out) == "The pattern can never match the type. (lib/app/helpers.ex:57:13:pattern_match)"


def test_other_agents_edit_failures_refusals_and_cancels() -> None:
    log = Log()
    log.prompt()
    log.tool("edit", '{"file_path": "a.go"}', "Could not find the exact text in a.go.", is_error=True, files=["a.go"])
    log.tool("write", '{"file_path": "b.go"}', "Permission denied", is_error=True, files=["b.go"])  # the prompt, refused
    c, _ = log.shell("go test ./...", "Tool execution canceled by user", exit_code=None, tool="bash", is_error=True)
    log.shell('grep -n "a\\|b" x.go', "(no output)", exit_code=None, tool="bash", is_error=True)
    found = run_rules(session(), log.events, log.turns)
    by = {(f.rule_id, f.seq) for f in found}
    assert ("patch-failed", 3) in by and ("rejected-tool-use", 5) in by
    stopped = next(f for f in found if f.rule_id == "rejected-tool-use" and f.seq == c.seq + 1)
    assert stopped.message.startswith("The user stopped bash")
    assert not [f for f in found if f.rule_id == "tool-error"]  # none of these is a tool error
    assert not [f for f in found if f.rule_id == "no-tests-after-edit"]  # no edit happened


def test_a_long_edit_waited_for_the_permission_prompt() -> None:
    log = Log()
    log.prompt()
    log.tool("edit", '{"file_path": "a.go"}', "ok", files=["a.go"], duration_ms=250_000)
    assert _findings(log, "slow-tool-call") == []
