"""The coach: deterministic rules over session events, secret redaction and the LLM client.

* :mod:`.rules` — ``RULES`` and ``run_rules(session, events, turns, config) -> list[Finding]``
* :mod:`.config` — ``CoachConfig``/``LLMConfig``/``ProjectConfig`` (``.sessionlens.json``)
* :mod:`.redact` — ``find_secrets``/``redact``/``redact_obj``
* :mod:`.evidence` — ``informative_line`` of an error output, ``is_redacted`` (unknown evidence), blocking tools
* :mod:`.markdown` — ``escape_md``/``code_block``/``inline_code``/``message_md`` for untrusted text
* :mod:`.llm` — ``CoachLLM`` (Anthropic), prompt builders, ``deterministic_session_summary``

Submodules are imported explicitly (``llm`` pulls in the anthropic SDK).
"""
