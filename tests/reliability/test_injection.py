"""#17 item 9: injection payloads (raw HTML, ``command:`` and ``javascript:`` links, remote images)
planted in every field of a session reach no rendered surface alive: transcripts, hovers, search
snippets, the coach's summary, the guideline hover and report, and the AI coach's answers (model
output is untrusted too: a fake model answers with the payloads)."""

from __future__ import annotations

import pytest

from sessionlens.coach.config import LLMConfig
from sessionlens.compliance.conversation import ConversationService
from sessionlens.compliance.guidelines import parse_guidelines
from sessionlens.lsp.features.guidelines import _hover_markdown
from sessionlens.services.app import App
from sessionlens.services.coaching import CoachService
from sessionlens.services.settings import Settings
from tests.coach.conftest import fake_anthropic  # noqa: F401 - the loopback fake of the Anthropic API
from tests.coach.fake_anthropic import FAKE_API_KEY, FAKE_MODEL
from tests.reliability.base_logs import generated
from tests.reliability.hostile import INJECTIONS, injection_found
from tests.reliability.planted import CLAUDE_FIELDS, CODEX_FIELDS, claude_session, codex_session, write

PAYLOAD = " ".join(INJECTIONS)


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    root = tmp_path_factory.mktemp("inject")
    base = generated(root / "base", seed=17, turns=1)
    logs = root / "logs"
    sids = {}
    for i, payload in enumerate([PAYLOAD, *INJECTIONS]):
        for agent, fields in (("claude", CLAUDE_FIELDS), ("codex", CODEX_FIELDS)):
            sid = f"0195e0f0-{i:04x}-4000-8000-{(0 if agent == 'claude' else 1):012d}"
            plant = {f: payload for f in fields if f != "cwd"}
            data = (claude_session if agent == "claude" else codex_session)(base[agent], plant, sid)
            sids[sid] = write(logs, agent, sid, data)
    home = root / "home"
    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    assert app.index([str(logs)]).errors == []
    app.close()
    return home, sids


def _check(figures, what: str, rendered: str | None, markdown: bool = True) -> None:
    figures.add("payloads rendered")
    for bad in injection_found(rendered or "", markdown):
        figures.add("injections", 1, f"{what}: {bad}")


def test_item9_log_content_is_inert_on_every_surface(injected, figures):
    home, sids = injected
    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    try:
        coach = CoachService(app)
        for sid, path in sids.items():
            _check(figures, "transcript", app.render_session(sid, redact=False)[1])
            _check(figures, "coach summary", coach.session_summary(sid)[1])
            n = len(path.read_bytes().splitlines())
            for i in range(max(0, n - 12), n):
                _check(figures, f"hover line {i + 1}", app.hover(str(path), i))
            for q in ("script", "onerror", "command", "beacon", "javascript", "iframe"):
                for h in app.search(q, session=sid, limit=10)["hits"]:
                    _check(figures, f"snippet_html {q}", h["snippet_html"].replace("<b>", "").replace("</b>", ""), markdown=False)
            for d in app.diagnostics(str(path)):
                _check(figures, "diagnostic", d.message)
    finally:
        app.close()
    figures.check()


def test_item9_titles_are_escaped_in_the_guideline_hover_and_report(figures):
    text = "# Rules\n\n- Never force-push. <!-- sessionlens: must-not-run=/git push --force/ -->\n"
    [g] = [x for x in parse_guidelines(text, "/ws/AGENTS.md") if x.checkable]
    for payload in [PAYLOAD, *INJECTIONS]:
        row = {
            "key": g.key,
            "applied": 2,
            "followed": 1,
            "violated": 1,
            "sessions": 2,
            "never_relevant": False,
            "violations": [
                {
                    "session_id": "s1",
                    "title": payload,
                    "seq": 4,
                    "note": f"ran `git push --force` {payload}",
                    "events": 1,
                    "link": "sessionlens://session/s1?event=4",
                }
            ],
        }
        md = _hover_markdown(g, row, 2)
        _check(figures, "guideline hover", md)
        assert "sessionlens://session/s1?event=4" in md  # the one link we build stays
    figures.check()


async def test_item9_ai_answers_are_sanitized(injected, fake_anthropic, figures):  # noqa: F811
    home, sids = injected
    settings = Settings(storePath=str(home), includeHomeLogs=False, llm=LLMConfig(model=FAKE_MODEL, base_url=fake_anthropic.base_url))
    app = App(settings)
    app.api_key = FAKE_API_KEY
    answer = f"Here is what happened.\n\n{PAYLOAD}\n\n" + "\n".join(INJECTIONS) + "\n[ok](https://example.com)\n"
    chunks = [answer[i : i + 7] for i in range(0, len(answer), 7)]  # tags and links split across deltas
    try:
        coach = CoachService(app)
        ask = ConversationService(app)
        sid = next(iter(sids))
        for what in ("explain", "coach session", "ask"):
            fake_anthropic.reply(answer, chunks=chunks)
            if what == "explain":
                finding = app.findings(session=sid)[0]
                out = "".join([d async for d in coach.explain(finding)])
            elif what == "coach session":
                out = "".join([d async for d in coach.coach_session(sid)])
            else:
                out = "".join([d async for d in ask.ask(sid, "what happened?")])
            _check(figures, what, out)
            assert "Here is what happened." in out and "[ok](https://example.com)" in out
        stored = ask.history(sid)[1]
        _check(figures, "stored answer", "\n".join(m.content for m in stored))
        cached = "".join([d async for d in coach.explain(app.findings(session=sid)[0])])  # from the cache
        _check(figures, "cached explain", cached)
    finally:
        app.close()
    figures.check()


TERMINAL = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x1b[2J\x1b[H\x1b]0;pwned\x07\x9b31m"


def test_item9_the_terminal_gets_no_control_sequence_from_a_log(tmp_path, figures):
    import io
    import re
    from contextlib import redirect_stdout

    from sessionlens import cli

    base = generated(tmp_path / "base", seed=19, turns=1)
    sid = "0195e0f0-7777-4000-8000-000000000007"
    plant = {f: f"see {TERMINAL} here" for f in CLAUDE_FIELDS if f != "cwd"}
    path = write(tmp_path / "logs", "claude", sid, claude_session(base["claude"], plant, sid))
    home = str(tmp_path / "home")
    app = App(Settings(storePath=home, includeHomeLogs=False))
    assert app.index([str(path)]).errors == []
    app.close()
    for args in (
        ("show", sid),
        ("show", sid, "--markdown"),
        ("sessions",),
        ("search", "click"),
        ("coach", "--session", sid),
        ("export", sid),
    ):
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert cli.main([*args, "--home", home]) == 0
        out = buf.getvalue()
        if args[0] == "show":
            assert "click" in out  # the payload did reach the terminal (inert)
        figures.add("payloads rendered")
        if re.search(r"\x1b(?!\[[0-9;]*m)|[\x07\x9b]", out):
            figures.add("injections", 1, f"terminal via {args[0]}")
    figures.check()
