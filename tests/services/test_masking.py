"""Pieces of a secret in an excerpt are masked, highlights follow."""

from sessionlens.services.masking import mask_excerpt

KEY = "sk-ant-api03-" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kM9nP2rS5uV8xA1dG4" + "AA"


def test_a_whole_secret_is_masked_and_highlights_move():
    text = f"export ANTHROPIC_API_KEY={KEY} then run pytest"
    out, hl = mask_excerpt(text, [[text.index("pytest"), text.index("pytest") + 6]], text)
    assert KEY not in out and "[REDACTED:anthropic_key]" in out
    assert out[hl[0][0] : hl[0][1]] == "pytest"


def test_a_secret_cut_by_the_excerpt_edge_is_masked():
    full = f"The staging key is {KEY} do not share"
    cut_end = full[: full.index(KEY) + 25]
    out, _ = mask_excerpt(cut_end, [], full)
    assert KEY[:25] not in out and out.endswith("[REDACTED:anthropic_key]")
    cut_start = full[full.index(KEY) + 30 :]
    out, _ = mask_excerpt(cut_start, [], full)
    assert KEY[30:] not in out and out.startswith("[REDACTED:anthropic_key]")


def test_text_without_secrets_is_unchanged():
    assert mask_excerpt("pytest -q", [[0, 6]], "pytest -q") == ("pytest -q", [[0, 6]])
