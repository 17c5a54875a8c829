from __future__ import annotations

import pytest

from sessionlens.coach.redact import find_secrets, mask, redact, redact_obj

CASES = [
    ("aws_access_key", "AKIAQ3EGUWX7KZL4NB2P"),
    ("aws_secret_key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY8Qk2LmPvRz"),
    ("anthropic_key", "sk-ant-api03-" + "aB3_-" * 18),
    ("openai_key", "sk-proj-" + "Ab1" * 16),
    ("openai_key", "sk-" + "9aZ" * 16),
    ("github_token", "ghp_" + "x1Y2" * 9),
    ("github_token", "gho_" + "x1Y2" * 9),
    ("github_token", "github_pat_11ABCDEFG0" + "a1" * 20),
    ("slack_token", "xoxb-1234567890-0987654321-AbCdEfGh"),
    ("google_api_key", "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
    ("stripe_key", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"),
    ("private_key", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),  # truncated output
]


@pytest.mark.parametrize(("kind", "secret"), CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)])
def test_each_kind_is_found_and_redacted(kind: str, secret: str) -> None:
    text = f"before {secret} after"
    [(found_kind, start, end)] = find_secrets(text)
    assert found_kind == kind
    redacted = redact(text)
    assert redacted.startswith("before ") and redacted.endswith(" after")
    assert f"[REDACTED:{kind}]" in redacted
    assert secret.split()[-1][-12:] not in redacted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('curl -H "Authorization: Bearer abcdef0123456789abcdef"', 'curl -H "Authorization: Bearer [REDACTED:bearer_token]"'),
        ("password=hunter22", "password=[REDACTED:credential]"),
        ('config = {"api_key": "s3cr3t-value"}', 'config = {"api_key": "[REDACTED:credential]"}'),
        ("DB_PASSWORD: 'p@ssw0rd!'", "DB_PASSWORD: '[REDACTED:credential]'"),
        ("OPENAI_API_KEY=sk-proj-abc123def456ghi789jkl012", "OPENAI_API_KEY=[REDACTED:openai_key]"),
    ],
)
def test_generic_credentials(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "id 123e4567-e89b-12d3-a456-426614174000",
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        "api_key = os.environ.get('ANTHROPIC_API_KEY')",
        "password: Optional[str] = None",
        "token = getpass()",
        'password = "${DB_PASSWORD}"',
        "pip install scikit-learn sk-learn-extras-package-name",
        "msg_01ABCDEF2345 toolu_01XyZ and requestId req_011CXYZ",
        "PWD=/home/user/project OLDPWD=/tmp",
        '{"max_token": 4096, "input_token": 123456}',
        'password="$(cat /run/secrets/db)"',
        "secret_path=./config/secret.json",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert find_secrets(text) == []
    assert redact(text) == text


def test_redact_obj_recurses_and_keeps_structure() -> None:
    key = "sk-ant-api03-" + "k9" * 20
    obj = {"a": [key, 1, None, {"b": f"x {key}"}], "n": 2.5, key: "kept key"}
    out = redact_obj(obj)
    assert out["a"][0] == "[REDACTED:anthropic_key]" and out["a"][1:3] == [1, None]
    assert out["a"][3] == {"b": "x [REDACTED:anthropic_key]"} and out["n"] == 2.5
    assert obj["a"][0] == key  # input not mutated


def test_multiple_and_overlapping_spans_are_ordered() -> None:
    text = "A=AKIAQ3EGUWX7KZL4NB2P B=ghp_" + "z1" * 18
    spans = find_secrets(text)
    assert [s.kind for s in spans] == ["aws_access_key", "github_token"]
    assert spans[0].end <= spans[1].start


def test_mask_never_shows_more_than_a_prefix() -> None:
    assert mask("sk-ant-api03-abcdefghijkl") == "sk-a…(25 chars)"
    assert mask("hunter22") == "hu…(8 chars)"


def test_empty_inputs() -> None:
    assert find_secrets(None) == [] and find_secrets("") == [] and redact("") == ""


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        ("DATABASE_URL=postgres://app:Qm7s2KpL9x@db.internal:5432/app", "url_credential", "Qm7s2KpL9x"),
        ("mongodb+srv://svc:Zr8Kp2Lq9Xm4@cluster0.abcde.mongodb.net/db", "url_credential", "Zr8Kp2Lq9Xm4"),
        ("git clone https://x-access-token:ghs_R8x2Lq9ZmT4vR8x2Lq9ZmT4vR8x2Lq9ZmT4v@github.com/o/r", "url_credential", "ghs_R8x2"),
        ('{"Credentials": {"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY8Qk2LmPvRz"}}', "aws_secret_key", "wJalrXUtnFEMI"),
        (
            '"SessionToken": "FwoGZXIvYXdzEJr//////////wEaDOBLrLcXZHTpCRn9dSKyAXkeaJO2aVo4Tr5vSUqYt8Jq6Pzh"',
            "aws_session_token",
            "FwoGZXIvYXdzEJr",
        ),
    ],
)
def test_17_credentials_in_urls_and_aws_json_are_caught(text: str, kind: str, secret: str) -> None:
    assert kind in {m.kind for m in find_secrets(text)}
    assert secret not in redact(text) and f"[REDACTED:{kind}]" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        'TOKEN="${SPOTTER_REVIEW_TOKEN:-}"',
        "export OPENAI_API_KEY=$OPENAI_API_KEY",
        "password: <your-password>",
        "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "api_key = [REDACTED:credential]",
        "postgres://user:password@localhost:5432/db",
        "https://user:${PASS}@host/x",
        "token: ********",
        "sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxx",
        "client_secret={{ secrets.CLIENT_SECRET }}",
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
        "ghp_" + "0" * 36,
    ],
)
def test_16_placeholders_examples_references_and_markers_are_not_secrets(text: str) -> None:
    assert find_secrets(text) == [] and redact(text) == text


def test_redact_obj_reads_a_value_with_its_key() -> None:
    out = redact_obj(
        {"password": "hunter2xyz", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY8Qk2LmPvRz", "name": "hello world", "token": "${X}"}
    )
    assert out == {
        "password": "[REDACTED:credential]",
        "SecretAccessKey": "[REDACTED:aws_secret_key]",
        "name": "hello world",
        "token": "${X}",
    }


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("redis://:S3cr3tR3dis@cache.internal:6379", True),
        ("postgres://postgres:dbos@localhost:5432/gogogo", False),  # a local development database
        ("postgresql://admin:pwd@db.example.net:5432/x", False),  # a placeholder password
        ("http://localhost:8080@x", False),  # a port, not a password
        ("postgres://app:${PGPASSWORD}@db.internal/app", False),
    ],
)
def test_url_credentials_precision(text: str, caught: bool) -> None:
    assert bool(find_secrets(text)) is caught
