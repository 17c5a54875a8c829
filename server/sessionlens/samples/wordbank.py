"""Vocabulary for the sample-log generator: fake projects, prompts, commands and outputs.

Everything here is static data plus small pure helpers; the generator draws from it with a
seeded ``random.Random`` so that the same seed always yields the same bytes.  Vocabulary is
real programming vocabulary on purpose, so that demo searches such as ``pytest``,
``migration``, ``TypeError`` or ``docker compose`` find something.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stack:
    """A project's tech stack: what its files are called and how it is built and tested."""

    lang: str
    ext: str
    test_cmds: tuple[str, ...]
    build_cmds: tuple[str, ...]
    dirs: tuple[str, ...]
    modules: tuple[str, ...]
    error_types: tuple[str, ...]


PYTHON = Stack(
    lang="python",
    ext="py",
    test_cmds=("pytest -q", "pytest -q tests/test_{mod}.py", "pytest -x -k {fn}", "python -m pytest tests/ -q --maxfail=1"),
    build_cmds=(
        "ruff check .",
        "python -m mypy src",
        "alembic upgrade head",
        "uv pip install -e .[dev]",
        "alembic revision --autogenerate -m 'add {table}'",
    ),
    dirs=("src/app", "src/app/api", "src/app/models", "src/app/services", "migrations/versions", "tests"),
    modules=("users", "orders", "billing", "auth", "inventory", "webhooks", "reports", "settings", "jobs", "search"),
    error_types=("TypeError", "KeyError", "AttributeError", "ValueError", "ModuleNotFoundError", "IntegrityError", "AssertionError"),
)
TYPESCRIPT = Stack(
    lang="typescript",
    ext="ts",
    test_cmds=("npm test", "npx vitest run src/{mod}", "pnpm test -- {mod}", "npx jest --runInBand {mod}"),
    build_cmds=("npx tsc --noEmit", "npm run lint", "npm run build", "pnpm install", "npx prisma migrate dev --name add_{table}"),
    dirs=("src", "src/components", "src/hooks", "src/api", "src/lib", "prisma/migrations"),
    modules=("dashboard", "checkout", "session", "chart", "table", "router", "form", "toast", "auth", "settings"),
    error_types=("TypeError", "ReferenceError", "SyntaxError", "Error"),
)
GO = Stack(
    lang="go",
    ext="go",
    test_cmds=("go test ./...", "go test ./internal/{mod}/...", "go test -run Test{Fn} ./...", "go vet ./..."),
    build_cmds=("go build ./...", "golangci-lint run", "go mod tidy", "migrate -path db/migrations -database $DATABASE_URL up"),
    dirs=("cmd/server", "internal/api", "internal/store", "internal/worker", "db/migrations", "pkg/config"),
    modules=("store", "worker", "queue", "api", "config", "metrics", "ratelimit", "cache"),
    error_types=("panic: runtime error", "nil pointer dereference", "undefined", "cannot use"),
)
RUST = Stack(
    lang="rust",
    ext="rs",
    test_cmds=("cargo test", "cargo test {mod}", "cargo nextest run", "cargo clippy --all-targets"),
    build_cmds=("cargo build --release", "cargo fmt --check", "cargo update", "sqlx migrate run"),
    dirs=("src", "src/commands", "src/parser", "src/storage", "migrations", "tests"),
    modules=("parser", "lexer", "storage", "commands", "config", "index", "render"),
    error_types=("error[E0308]: mismatched types", "error[E0382]: borrow of moved value", "thread 'main' panicked"),
)


@dataclass(frozen=True)
class ProjectSpec:
    name: str
    stack: Stack
    services: tuple[str, ...]
    tables: tuple[str, ...]


PROJECTS: tuple[ProjectSpec, ...] = (
    ProjectSpec("inventory-api", PYTHON, ("db", "redis", "api", "worker"), ("products", "stock_levels", "suppliers", "warehouses")),
    ProjectSpec("web-dashboard", TYPESCRIPT, ("web", "api", "postgres"), ("widgets", "dashboards", "user_prefs")),
    ProjectSpec("billing-service", GO, ("postgres", "nats", "billing"), ("invoices", "payments", "subscriptions", "ledger_entries")),
    ProjectSpec("log-parser", RUST, ("minio",), ("segments", "checkpoints")),
    ProjectSpec("ml-pipeline", PYTHON, ("postgres", "mlflow", "trainer"), ("experiments", "runs", "datasets", "features")),
    ProjectSpec("mobile-bff", TYPESCRIPT, ("bff", "redis", "mock-api"), ("devices", "push_tokens", "sessions")),
)

FUNCS = (
    "parse_config",
    "load_user",
    "create_order",
    "apply_discount",
    "refresh_token",
    "compute_total",
    "serialize_row",
    "validate_payload",
    "retry_with_backoff",
    "fetch_page",
    "render_chart",
    "normalize_email",
    "build_query",
    "handle_webhook",
    "schedule_job",
    "resolve_path",
    "merge_settings",
    "encode_cursor",
)
CLASSES = ("UserService", "OrderRepository", "PaymentGateway", "ConfigLoader", "RateLimiter", "SessionStore", "ReportBuilder", "EventBus")
FIELDS = ("created_at", "updated_at", "user_id", "amount_cents", "status", "email", "tenant_id", "external_ref", "deleted_at")

PROMPTS = (
    "Fix the {err} in {file} when `{field}` is None",
    "Run the tests and fix whatever fails in `{mod}`",
    "Add a migration that adds `{field}` to the `{table}` table and backfills it",
    "The `docker compose up` for {svc} keeps failing, can you figure out why?",
    "Refactor `{fn}` in {file} so it is easier to test, keep the behaviour",
    "Write unit tests for `{cls}.{fn}` covering the edge cases",
    "Why does `{test}` fail on CI but pass locally?",
    "Add pagination to the {mod} endpoint using an opaque cursor",
    "Upgrade the dependencies and fix the deprecation warnings",
    "Add structured logging to `{fn}` and remove the print statements",
    "We get a {err} in production: `{err}: {msg}`. Find the root cause",
    "Implement retry with exponential backoff in `{fn}`",
    "Explain how `{cls}` works and where it is used",
    "Make `{fn}` handle timezones correctly, it currently assumes UTC",
    "Add a `--dry-run` flag to the {mod} command",
    "Speed up the {mod} query, it takes 4s on the staging database",
    "Clean up the {mod} module: remove dead code and fix the lint warnings",
    "Set up docker compose with {svc} and a healthcheck for local development",
)
ERR_MSGS = (
    "'NoneType' object is not subscriptable",
    "unsupported operand type(s) for +: 'int' and 'str'",
    "Cannot read properties of undefined (reading 'id')",
    "object of type 'NoneType' has no len()",
    "duplicate key value violates unique constraint",
    "missing 1 required positional argument: 'session'",
    "relation does not exist",
    "connection refused",
)
REASONING_TITLES = (
    "Inspecting the failing test",
    "Planning the migration",
    "Checking docker compose configuration",
    "Reviewing the stack trace",
    "Searching for call sites",
    "Verifying the fix with pytest",
    "Considering edge cases",
    "Reading the existing implementation",
    "Comparing with the schema",
    "Deciding on the test strategy",
    "Investigating the TypeError",
    "Summarizing the changes",
)
SENTENCES = (
    "I'll start by reading {file} to understand how `{fn}` is wired up.",
    "The stack trace points at `{fn}`, which assumes `{field}` is always set.",
    "Let me run the test suite first to see the current failures.",
    "The migration needs a default for existing rows, otherwise the NOT NULL constraint fails.",
    "`{cls}` is constructed in two places; only one passes the session.",
    "docker compose reports that the port is already allocated, so another container is running.",
    "I'll add a regression test that reproduces the {err} before changing the code.",
    "The fixture creates rows without `{field}`, which explains the {err}.",
    "All tests pass now, including the new regression test.",
    "I updated `{fn}` to return early when the input is empty.",
    "The lint job fails because of an unused import in {file}.",
    "Caching the config avoids re-reading the file on every request.",
    "There is no test covering the `{mod}` error path yet.",
    "The query does a sequential scan; an index on `{field}` fixes it.",
    "I kept the public signature of `{fn}` unchanged so callers do not break.",
)
SUMMARY_TITLES = (
    "Fix {err} in {mod}",
    "Add {table} migration",
    "Docker compose setup for {svc}",
    "Refactor {fn}",
    "Tests for {cls}",
    "Debug CI failure in {mod}",
    "Pagination for {mod} endpoint",
    "Dependency upgrade",
)
LOG_LINES = (
    "INFO  [{mod}] request completed status=200 duration_ms={n}",
    "DEBUG [{mod}] cache miss key={field}:{n}",
    "WARN  [{mod}] slow query took {n}ms: SELECT * FROM {table} WHERE {field} = $1",
    "INFO  [alembic.runtime.migration] Running upgrade {hex} -> {hex2}, add {field} to {table}",
    "ERROR [{mod}] {err}: {msg}",
    "{svc}-1  | listening on 0.0.0.0:{port}",
    "{svc}-1  | LOG:  database system is ready to accept connections",
    "tests/test_{mod}.py::test_{fn} PASSED",
    "tests/test_{mod}.py::test_{fn} FAILED",
    '  File "src/app/{mod}.py", line {n}, in {fn}',
    "    return {field}[0]",
    "{file}:{n}:{col}: F401 `{mod}` imported but unused",
    "   Compiling {mod} v0.{n}.0",
    "ok  \tgithub.com/acme/{mod}\t0.{n}s",
    "✓ src/{mod}.test.ts ({n} tests) {port}ms",
    "Step {n}/12 : RUN pip install -r requirements.txt",
)
CODE_LINES = (
    "def {fn}({field}, *, session=None):",
    '    """{title}."""',
    "    if {field} is None:",
    '        raise ValueError("{field} is required")',
    "    result = {cls}(session).{fn}({field})",
    "    return result",
    "class {cls}:",
    "    def __init__(self, session):",
    "        self.session = session",
    "import logging",
    "from datetime import datetime, timezone",
    "logger = logging.getLogger(__name__)",
    "export function {fn}({field}: string): Promise<void> {{",
    "  const res = await fetch(`/api/{mod}/${{{field}}}`);",
    "  if (!res.ok) throw new Error(`{mod} failed: ${{res.status}}`);",
    "}}",
    "func (s *{cls}) {Fn}(ctx context.Context, id string) error {{",
    "\tif err := s.db.QueryRowContext(ctx, q, id).Scan(&row); err != nil {{",
    '\t\treturn fmt.Errorf("{fn}: %w", err)',
    "pub fn {fn}(input: &str) -> Result<{cls}, Error> {{",
    "    let {field} = input.trim();",
    "",
)

#: Seeded secrets (the "secret in log" problem): random, not valid keys, and not marked as examples
#: (the coach rightly ignores ``…EXAMPLE…`` values).
SECRET_TOKEN = "sk-ant-api03-HAZt9xslXTTIQrh6bpy0VAq3GZuO2R8UziJdi0Y4mj4TIJZ9RnvIh4TOetAfG82EOMjRZA0G6vbBxKd5WVwd9ExLXa3AA"
OPENAI_SECRET = "sk-proj-zphJn9pH9xdreYrmVM1JIJ5iqQt6wukvg6KLYrvadWwbD"
