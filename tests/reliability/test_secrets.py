"""#17 item 8 (+ #16 "placeholders are not secrets"): a secret of every kind planted in every field
of a Claude and a Codex session is flagged by the coach and never leaves or shows: JSON and
Markdown exports, the LLM payloads (explain, coach session, ask), search snippets, `show`, hovers,
session lists and the coach's own messages.  Placeholders planted the same way are not flagged."""

from __future__ import annotations

import io
import random
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from sessionlens import cli
from sessionlens.coach.config import LLMConfig
from sessionlens.compliance.conversation import ConversationService
from sessionlens.services.app import App
from sessionlens.services.coaching import CoachService
from sessionlens.services.settings import Settings
from tests.coach.conftest import fake_anthropic  # noqa: F401 - the loopback fake of the Anthropic API
from tests.coach.fake_anthropic import FAKE_API_KEY, FAKE_MODEL
from tests.reliability.base_logs import generated
from tests.reliability.hostile import SECRETS, secret_core
from tests.reliability.planted import CLAUDE_FIELDS, CODEX_FIELDS, claude_session, codex_session, write

PLACEHOLDERS = [
    'TOKEN="${SPOTTER_REVIEW_TOKEN:-}"',
    "export OPENAI_API_KEY=$OPENAI_API_KEY",
    "password: <your-password>",
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "api_key = [REDACTED:credential]",
    "postgres://user:password@localhost:5432/db",
    "token: ********",
    "sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxx",
    "client_secret={{ secrets.CLIENT_SECRET }}",
    "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("secrets")
    base = generated(root / "base", seed=13, turns=1)
    logs = root / "logs"
    sessions = {}
    rng = random.Random(8)
    for kind, secret in SECRETS.items():
        for agent, fields in (("claude", CLAUDE_FIELDS), ("codex", CODEX_FIELDS)):
            sid = f"0195e0f0-{rng.randrange(16**4):04x}-4{rng.randrange(16**3):03x}-8000-{rng.randrange(16**12):012x}"
            payload = {f: secret for f in fields}
            payload["cwd"] = f"/work/{secret.splitlines()[0][:60]}" if "cwd" in fields else None
            payload = {k: v for k, v in payload.items() if v}
            data = (claude_session if agent == "claude" else codex_session)(base[agent], payload, sid)
            sessions[sid] = (kind, agent, secret_core(secret), write(logs, agent, sid, data), len(fields))
    fakes = {}
    for i, text in enumerate(PLACEHOLDERS):
        sid = f"0195e0f0-0000-4000-9000-{i:012d}"
        data = claude_session(base["claude"], {"prompt": text, "command": text, "output": text}, sid)
        fakes[sid] = (text, write(logs, "claude", sid, data))
    home = root / "home"
    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    st = app.index([str(logs)])
    assert st.errors == [] and st.files_changed == len(sessions) + len(fakes)
    app.close()
    return home, sessions, fakes


def _cli(home: Path, *args: str) -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = cli.main([*args, "--home", str(home)])
    assert code == 0, args
    return buf.getvalue()


def test_item8_every_planted_secret_is_flagged(planted, figures):
    home, sessions, _ = planted
    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    try:
        for sid, (kind, agent, core, _path, nfields) in sessions.items():
            figures.add("secrets planted", nfields)
            found = app.findings(session=sid, rule="secret-in-log")
            lines = {f.seq for f in found}
            # one finding per planted record (the session's metadata on its first line)
            if len(lines) < nfields - (3 if agent == "claude" else 1):
                figures.add("leaks", 1, f"{kind}/{agent}: {len(lines)} flagged lines for {nfields} planted fields")
            for f in found:
                if core in f.message:
                    figures.add("leaks", 1, f"{kind}: the finding quotes the secret")
    finally:
        app.close()
    figures.check()


def test_item8_no_egress_or_display_shows_a_secret(planted, figures):
    home, sessions, _ = planted
    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    try:
        for sid, (kind, agent, core, path, _) in sessions.items():
            outputs = {
                "export markdown": _cli(home, "export", sid),
                "export json": _cli(home, "export", sid, "--format", "json"),
                "show": _cli(home, "show", sid),
                "show --markdown": _cli(home, "show", sid, "--markdown"),
                "coach --json": _cli(home, "coach", "--session", sid, "--json"),
                "sessions": repr(app.sessions(limit=500, workspace_only=False)),
            }
            for q in (core[:12], "Please look", "output follows", "Done"):
                outputs[f"search {q!r}"] = repr(app.search(q, session=sid, limit=20)["hits"])
            n_lines = len(path.read_bytes().splitlines())
            outputs["hovers"] = "\n".join(app.hover(str(path), i) or "" for i in range(max(0, n_lines - 12), n_lines))
            for what, text in outputs.items():
                figures.add("egress checks")
                if core in text:
                    figures.add("leaks", 1, f"{kind}/{agent} via {what}")
        # the explicit request shows it
        sid, (kind, agent, core, *_rest) = next(iter(sessions.items()))
        assert core in _cli(home, "show", sid, "--show-secrets")
    finally:
        app.close()
    figures.check()


async def test_item8_llm_payloads_carry_no_secret(planted, fake_anthropic, figures):  # noqa: F811
    home, sessions, _ = planted
    settings = Settings(storePath=str(home), includeHomeLogs=False, llm=LLMConfig(model=FAKE_MODEL, base_url=fake_anthropic.base_url))
    app = App(settings)
    app.api_key = FAKE_API_KEY
    try:
        coach = CoachService(app)
        ask = ConversationService(app)
        for sid, (kind, agent, core, *_rest) in list(sessions.items())[::3]:
            fake_anthropic.requests.clear()
            async for _ in coach.coach_session(sid):
                pass
            async for _ in ask.ask(sid, "what went wrong?"):
                pass
            finding = app.findings(session=sid, rule="secret-in-log")[0]
            async for _ in coach.explain(finding):
                pass
            figures.add("egress checks", 3)
            if core in fake_anthropic.sent_text() or any(core in r.raw.decode("utf-8", "replace") for r in fake_anthropic.requests):
                figures.add("leaks", 1, f"{kind}/{agent} via the LLM payload")
            assert len(fake_anthropic.requests) >= 3
    finally:
        app.close()
    figures.check()


def test_16_placeholders_are_not_secrets(planted, figures):
    home, _, fakes = planted
    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    try:
        for sid, (text, _path) in fakes.items():
            figures.add("inputs tried")
            got = app.findings(session=sid, rule="secret-in-log")
            assert got == [], (text, [f.message for f in got])
            exported = _cli(home, "export", sid, "--format", "json").replace("[REDACTED:credential]", "")  # the planted marker
            assert "[REDACTED" not in exported, text
    finally:
        app.close()
