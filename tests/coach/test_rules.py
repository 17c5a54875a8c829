from __future__ import annotations

from datetime import timedelta

from sessionlens.coach.config import CoachConfig, RuleConfig
from sessionlens.coach.rules import RULES, run_rules
from sessionlens.models import EventKind, Severity
from tests.coach.builders import T0, Log, session


def ids(log: Log, config: CoachConfig | None = None, rule: str | None = None):
    findings = run_rules(session(), log.events, log.turns, config)
    return [f for f in findings if rule is None or f.rule_id == rule]


def test_registry_metadata() -> None:
    assert {
        "tool-error",
        "repeated-failure",
        "no-tests-after-edit",
        "huge-tool-output",
        "aborted-turn",
        "rejected-tool-use",
        "patch-failed",
        "context-compaction",
        "token-outlier",
        "slow-tool-call",
        "secret-in-log",
    } <= set(RULES)
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id and rule.title and rule.guideline.endswith(".")
        assert isinstance(rule.default_severity, Severity)


def test_clean_session_has_no_findings() -> None:
    log = Log()
    log.prompt("add a feature")
    log.add(EventKind.PATCH, call_id="p1", files=["src/a.py"], text="*** Begin Patch")
    log.shell("pytest -q", output="3 passed")
    log.say("done")
    assert ids(log) == []


# ------------------------------------------------------------------------------ tool-error


def test_tool_error_names_command_and_exit_code() -> None:
    log = Log()
    log.prompt()
    call, res = log.shell("make build", output="\nmake: *** No rule to make target 'build'.  Stop.\n", exit_code=2)
    [f] = ids(log, rule="tool-error")
    assert f.seq == res.seq and f.severity is Severity.WARNING
    assert f.message == "`make build` failed with exit code 2: make: *** No rule to make target 'build'. Stop."
    assert [r.seq for r in f.related] == [call.seq] and f.related[0].path == "/logs/s1.jsonl"
    assert f.data["exit_code"] == 2 and f.guideline


def test_tool_error_tailored_guideline_and_error_result_without_exit_code() -> None:
    log = Log()
    log.prompt()
    log.shell("foo --x", output="bash: foo: command not found", exit_code=127)
    log.tool("WebFetch", "https://x", output="HTTP 500", is_error=True)
    first, second = ids(log, rule="tool-error")
    assert "command -v foo" in first.guideline
    assert second.message == "WebFetch failed with an error result: HTTP 500"


def test_tool_error_ignores_success_and_grep_no_match() -> None:
    log = Log()
    log.prompt()
    log.shell("ls", output="a b")
    log.shell("cd src && rg TODO", output="", exit_code=1)
    log.shell("grep -r foo .", output="", exit_code=1, is_error=True)
    assert ids(log, rule="tool-error") == []


# ------------------------------------------------------------------------ repeated-failure


def test_repeated_failure_loop() -> None:
    log = Log()
    log.prompt()
    results = [log.shell("pytest  tests/test_a.py", output="1 failed", exit_code=1)[1] for _ in range(2)]
    results.append(log.shell("pytest tests/test_a.py", output="1 failed", exit_code=1)[1])
    [f] = ids(log, rule="repeated-failure")
    assert f.seq == results[0].seq and [r.seq for r in f.related] == [r.seq for r in results[1:]]
    assert "failed 3 times (exit codes 1, 1, 1)" in f.message and "`pytest tests/test_a.py`" in f.message
    assert f.data["count"] == 3


def test_repeated_failure_below_threshold_or_different_commands() -> None:
    log = Log()
    log.prompt()
    log.shell("pytest a", output="x", exit_code=1)
    log.shell("pytest a", output="x", exit_code=1)
    log.shell("pytest b", output="x", exit_code=1)
    assert ids(log, rule="repeated-failure") == []
    assert len(ids(log, CoachConfig(repeat_threshold=2), rule="repeated-failure")) == 1


# --------------------------------------------------------------------- no-tests-after-edit


def test_no_tests_after_edit_fires_on_last_edit() -> None:
    log = Log()
    log.prompt()
    log.shell("pytest", output="ok")
    e1 = log.tool("Edit", files=["src/a.py"], output="ok")[0]
    e2 = log.add(EventKind.PATCH, call_id="p9", files=["src/b.py"], text="patch")
    log.say("All done!")
    [f] = ids(log, rule="no-tests-after-edit")
    assert f.seq == e2.seq
    assert f.message == ("2 code edits (src/a.py, src/b.py) with no test run afterwards: the last test run was at line 2, before them")
    assert [r.seq for r in f.related] == [e1.seq, 2]


def test_no_tests_when_never_ran() -> None:
    log = Log()
    log.prompt()
    log.add(EventKind.TOOL_CALL, tool="apply_patch", call_id="x", command="apply_patch <<EOF", files=["main.go"])
    [f] = ids(log, rule="no-tests-after-edit")
    assert "no test command ran in this session" in f.message


def test_no_tests_quiet_when_tests_ran_or_docs_only() -> None:
    for cmd in [
        "go test ./...",
        "npm test",
        "yarn run test",
        "cargo test -p x",
        "./gradlew test",
        "make check",
        "npx vitest run",
        "tox -e py311",
        "bundle exec rspec",
        "ctest --output-on-failure",
        "python -m pytest",
    ]:
        log = Log()
        log.prompt()
        log.tool("Write", files=["src/x.rs"])
        log.shell(cmd, output="ok")
        assert ids(log, rule="no-tests-after-edit") == [], cmd
    log = Log()
    log.prompt()
    log.tool("Edit", files=["README.md", "docs/guide.rst"])
    assert ids(log, rule="no-tests-after-edit") == []


# ------------------------------------------------------------------------ huge-tool-output


def test_huge_tool_output() -> None:
    log = Log()
    log.prompt()
    call, res = log.shell("cat big.log", output="z" * 25_000)
    log.shell("cat small.log", output="z" * 100)
    [f] = ids(log, rule="huge-tool-output")
    assert f.seq == res.seq and f.related[0].seq == call.seq
    assert "`cat big.log` returned 25,000 characters" in f.message and f.data["chars"] == 25_000
    assert ids(log, CoachConfig(huge_output_chars=50_000), rule="huge-tool-output") == []


def test_huge_tool_output_uses_recorded_size_of_truncated_excerpt() -> None:
    log = Log()
    log.prompt()
    log.shell("find /", output="short excerpt", extra={"output_chars": 90_000})
    [f] = ids(log, rule="huge-tool-output")
    assert f.data["chars"] == 90_000


def test_huge_tool_output_of_parser_clipped_text_uses_line_length() -> None:
    from sessionlens.ingest.base import TRUNCATION_MARK

    log = Log()
    log.prompt()
    log.shell("cat dump.sql", output="q" * 65536 + TRUNCATION_MARK, length=300_000)
    [f] = ids(log, rule="huge-tool-output")
    assert f.data["chars"] == 300_000 and "returned about 300,000 characters" in f.message


# ---------------------------------------------------------------------------- aborted-turn


def test_aborted_turn_from_interrupt_marker_and_flag() -> None:
    log = Log()
    log.prompt("refactor everything")
    log.shell("ls")
    marker = log.add(EventKind.USER_MESSAGE, text="[Request interrupted by user for tool use]")
    log.prompt("second")
    log.turns[-1].aborted = True
    end = log.say("partial")
    found = ids(log, rule="aborted-turn")
    assert [f.seq for f in found] == [marker.seq, end.seq]
    assert found[0].message == 'Turn 1 was interrupted by the user after 1 tool call (prompt: "refactor everything")'
    assert found[0].related[0].seq == 1


def test_codex_turn_aborted_event_with_reason() -> None:
    log = Log()
    log.prompt()
    ev = log.add(EventKind.ERROR, subtype="event_msg/turn_aborted", text="replaced", is_error=True)
    log.prompt()
    ev2 = log.add(EventKind.ERROR, subtype="user/interrupted", text="[Request interrupted by user]", is_error=True)
    found = ids(log, rule="aborted-turn")
    assert [f.seq for f in found] == [ev.seq, ev2.seq]
    assert "Turn 1 was interrupted (replaced)" in found[0].message
    assert "Turn 2 was interrupted by the user" in found[1].message


def test_no_aborted_turn_in_normal_session() -> None:
    log = Log()
    log.prompt("please don't interrupt")
    log.say("ok")
    assert ids(log, rule="aborted-turn") == []


# ----------------------------------------------------------------------- rejected-tool-use


def test_rejected_tool_use() -> None:
    log = Log()
    log.prompt()
    call, res = log.shell(
        "rm -rf build",
        output="The user doesn't want to proceed with this tool use. The tool use was rejected",
        exit_code=None,
        is_error=True,
    )
    log.tool("Write", files=["a.py"], output="denied", is_error=True, extra={"rejected": True})
    found = ids(log)
    rejected = [f for f in found if f.rule_id == "rejected-tool-use"]
    assert [f.message for f in rejected] == ["The user rejected Bash: `rm -rf build`", "The user rejected Write on a.py"]
    assert rejected[0].related[0].seq == call.seq
    assert not [f for f in found if f.rule_id in ("tool-error", "patch-failed")]


# ---------------------------------------------------------------------------- patch-failed


def test_patch_failed_edit_and_apply_patch() -> None:
    log = Log()
    log.prompt()
    _, r1 = log.tool(
        "Edit", files=["src/a.py"], output="<tool_use_error>String to replace not found in file.</tool_use_error>", is_error=True
    )
    p = log.add(EventKind.PATCH, call_id="p2", files=["b.py"], is_error=True, text="apply_patch verification failed: x")
    found = ids(log, rule="patch-failed")
    assert [f.seq for f in found] == [r1.seq, p.seq]
    assert found[0].message.startswith("Edit failed to apply to src/a.py: ")
    assert not ids(log, rule="tool-error")


def test_successful_edits_do_not_fail() -> None:
    log = Log()
    log.prompt()
    log.tool("Edit", files=["src/a.py"], output="The file has been updated")
    assert ids(log, rule="patch-failed") == []


# ---------------------------------------------------------------------- context-compaction


def test_context_compaction_groups_adjacent_lines() -> None:
    log = Log()
    log.prompt()
    c1 = log.add(EventKind.COMPACTION, subtype="compacted")
    log.add(EventKind.COMPACTION, subtype="event_msg/context_compacted")
    log.say("x")
    log.say("y")
    log.say("z")
    log.say("w")
    c2 = log.add(EventKind.COMPACTION, subtype="system/compact_boundary", extra={"trigger": "auto", "pre_tokens": 142431})
    found = ids(log, rule="context-compaction")
    assert [f.seq for f in found] == [c1.seq, c2.seq]
    assert found[0].related[0].seq == c1.seq + 1
    assert "(auto, 142,431 tokens before): compaction 2 of 2" in found[1].message


def test_no_compaction() -> None:
    log = Log()
    log.prompt()
    log.say("hi")
    assert ids(log, rule="context-compaction") == []


# --------------------------------------------------------------------------- token-outlier


def _usage_log(totals: list[int]) -> Log:
    log = Log()
    for t in totals:
        log.prompt()
        log.usage(t)
    return log


def test_token_outlier() -> None:
    log = _usage_log([50_000, 60_000, 55_000, 700_000])
    [f] = ids(log, rule="token-outlier")
    assert f.seq == log.turns[3].start_line
    assert f.message.startswith("Turn 4 used 700,000 tokens in 1 model request, 12.2× the session's median turn (57,500)")


def test_token_outlier_reports_only_the_worst_three() -> None:
    log = _usage_log([50_000] * 6 + [400_000, 900_000, 500_000, 700_000])
    found = ids(log, rule="token-outlier")
    assert [f.data["turn"] for f in found] == [7, 8, 9]


def test_token_outlier_needs_factor_and_floor() -> None:
    assert ids(_usage_log([50_000, 60_000, 55_000, 150_000]), rule="token-outlier") == []
    assert ids(_usage_log([1_000, 1_000, 1_000, 50_000]), rule="token-outlier") == []
    assert ids(_usage_log([100, 500_000]), rule="token-outlier") == []  # too few turns


# -------------------------------------------------------------------------- slow-tool-call


def test_slow_tool_call_from_duration_and_timestamps() -> None:
    log = Log()
    log.prompt()
    call1, _ = log.shell("cargo build", duration_ms=400_000)
    call2 = log.add(EventKind.TOOL_CALL, tool="Bash", call_id="z", command="make all", timestamp=T0)
    log.add(EventKind.TOOL_RESULT, tool="Bash", call_id="z", timestamp=T0 + timedelta(seconds=300))
    log.shell("ls", duration_ms=50)
    log.tool("Task", "sub agent", duration_ms=900_000)
    found = ids(log, rule="slow-tool-call")
    assert [f.seq for f in found] == [call1.seq, call2.seq]
    assert found[0].message == "`cargo build` took 400 s (threshold 120 s)"
    assert found[1].data["duration_ms"] == 300_000


def test_slow_tool_call_does_not_count_waiting_for_approval() -> None:
    log = Log()
    log.prompt()
    log.add(EventKind.TOOL_CALL, tool="exec_command", call_id="a", timestamp=T0)
    log.add(EventKind.SYSTEM, role="developer", text="approved", timestamp=T0 + timedelta(seconds=1000))
    log.add(EventKind.TOOL_RESULT, tool="exec_command", call_id="a", timestamp=T0 + timedelta(seconds=1002))
    log.add(EventKind.TOOL_CALL, tool="AskUserQuestion", call_id="q", timestamp=T0)
    log.add(EventKind.TOOL_RESULT, tool="AskUserQuestion", call_id="q", timestamp=T0 + timedelta(seconds=600))
    assert ids(log, rule="slow-tool-call") == []


# --------------------------------------------------------------------------- secret-in-log


def test_secret_in_log_masks_secret() -> None:
    secret = "ghp_" + "A1b2C3d4" * 5
    log = Log()
    log.prompt()
    _, res = log.shell("cat .env", output=f"GITHUB_TOKEN={secret}")
    [f] = ids(log, rule="secret-in-log")
    assert f.seq == res.seq and f.severity is Severity.ERROR
    assert secret not in f.message and secret[:10] not in f.message
    assert "GitHub token ghp_…(44 chars)" in f.message and f.data["kinds"] == ["github_token"]


def test_no_secret_in_hashes() -> None:
    log = Log()
    log.prompt()
    log.shell("git log -1", output="commit 3f786850e387550fdab836ed7e6dc881de23001b\nid 123e4567-e89b-12d3-a456-426614174000")
    assert ids(log, rule="secret-in-log") == []


# ---------------------------------------------------------------------- engine behaviour


def test_config_disables_rules_and_overrides_severity() -> None:
    log = Log()
    log.prompt()
    log.shell("make", output="err", exit_code=2)
    cfg = CoachConfig(rules={"tool-error": RuleConfig(severity=Severity.HINT)})
    [f] = ids(log, cfg)
    assert f.severity is Severity.HINT
    assert ids(log, CoachConfig(rules={"tool-error": RuleConfig(enabled=False)})) == []


def test_duplicates_skipped_and_order_deterministic() -> None:
    log = Log()
    log.prompt()
    log.shell("make", output="err", exit_code=2)
    log.add(EventKind.TOOL_RESULT, tool="Bash", call_id="c2", exit_code=2, text="err", duplicate=True)
    log.shell("cat .env", output="password=hunter22", exit_code=1)
    shuffled = list(reversed(log.events))
    a = run_rules(session(), log.events, log.turns)
    b = run_rules(session(), shuffled, list(reversed(log.turns)))
    assert a == b
    assert [(f.seq, f.rule_id) for f in a] == [(3, "tool-error"), (6, "tool-error"), (6, "secret-in-log")]
