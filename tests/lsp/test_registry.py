"""The server is built from one list of features; every declared command has exactly one handler."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from sessionlens.lsp.commands import CommandSpec, RequestFailed, command
from sessionlens.lsp.core import Feature, method
from sessionlens.lsp.features import FEATURES
from sessionlens.lsp.server import COMMANDS, build_server, check_contract
from sessionlens.models.api import COMMANDS as DECLARED
from sessionlens.models.api import REQUEST_FAILED, Params


def test_every_declared_command_has_one_handler_and_nothing_else_is_served():
    assert check_contract() == []
    assert sorted(COMMANDS) == sorted(DECLARED)
    srv = build_server()
    assert set(DECLARED) <= set(srv.protocol.fm.commands)


def test_every_feature_is_registered_and_the_log_provider_is_last():
    srv = build_server()
    assert [p.name for p in srv.providers] == ["guidelines", "evals", "blame", "logs"]  # blame: source files, no log
    methods = {m.method for f in FEATURES for m in f.methods}
    assert methods <= set(srv.protocol.fm.features)


def test_two_handlers_for_one_method_or_command_fail_loudly():
    spec = next(c for f in FEATURES for c in f.commands)
    with pytest.raises(RuntimeError, match="implemented by both"):
        build_server([Feature("a", commands=(spec,)), Feature("b", commands=(spec,))])
    m = method("textDocument/hover")(lambda ls, p: None)
    with pytest.raises(RuntimeError, match="handled by both"):
        build_server([Feature("a", methods=(m,)), Feature("b", methods=(m,))])


def test_an_undeclared_command_cannot_be_implemented():
    with pytest.raises(KeyError):
        command("sessionlens.noSuchCommand")


async def test_domain_refusals_are_request_failed_and_bad_shapes_invalid_params():
    async def refuse(ls, a):
        raise ValueError("no way")

    spec = CommandSpec(DECLARED["sessionlens.status"], refuse)
    with pytest.raises(RequestFailed) as exc:
        await spec.execute(object(), [{}])
    assert exc.value.code == REQUEST_FAILED and exc.value.message == "no way"

    async def drifted(ls, a):
        return {"indexing": "maybe"}

    with pytest.raises(Exception, match="indexing"):
        await CommandSpec(DECLARED["sessionlens.status"], drifted).execute(object(), [])
    with pytest.raises(JsonRpcInvalidParams):
        await spec.execute(object(), [42])


def test_params_ignore_unknown_keys_but_check_known_ones():
    p = DECLARED["sessionlens.search"].params.model_validate({"query": "x", "extra": 1})
    assert isinstance(p, Params) and p.query == "x" and not hasattr(p, "extra")


def test_every_registered_feature_has_a_handler_unit_test_with_the_fake_context():
    """Each module in ``FEATURES`` is imported and driven by a test in tests/lsp/features (the fake
    context: no pygls server, no stdio), besides the end-to-end tests."""
    import re
    import sys
    from pathlib import Path

    from sessionlens.lsp.features import FEATURES

    modules = sorted(
        name for name, mod in list(sys.modules.items()) if name.startswith("sessionlens.lsp.") and getattr(mod, "FEATURE", None) in FEATURES
    )
    assert len(modules) == len(FEATURES), modules
    tests = {p.name: p.read_text() for p in (Path(__file__).parent / "features").glob("test_*.py")}
    missing = []
    for name in modules:
        pkg, _, short = name.rpartition(".")
        pattern = rf"^from {re.escape(pkg)} import .*\b{short}\b|^from {re.escape(name)} import "
        users = [t for t, text in tests.items() if re.search(pattern, text, re.M) and re.search(r"\bls\b", text)]
        if not users:
            missing.append(name)
    assert missing == [], f"feature modules without a handler unit test in tests/lsp/features: {missing}"
