"""SQLite schema migrations, applied in order by ``PRAGMA user_version``.

Each entry is one migration step, run in a single transaction.  Never edit a released step:
append a new one.
"""

MIGRATIONS: list[str] = [
    # 1: the foundation
    """
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) STRICT;

    CREATE TABLE files(
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        agent TEXT,
        size INTEGER NOT NULL DEFAULT 0,
        mtime_ns INTEGER NOT NULL DEFAULT 0,
        offset INTEGER NOT NULL DEFAULT 0,       -- bytes parsed (end of the last complete line)
        lines INTEGER NOT NULL DEFAULT 0,
        head_len INTEGER NOT NULL DEFAULT 0,     -- bytes covered by head_hash
        head_hash TEXT,                          -- detects a rewritten file
        parser_version INTEGER NOT NULL DEFAULT 0,
        state TEXT,                              -- ParserState JSON, to continue after growth
        session_id TEXT,
        status TEXT NOT NULL DEFAULT 'ok',       -- ok | not_session | error
        error TEXT,
        indexed_at REAL
    ) STRICT;

    CREATE TABLE projects(
        root TEXT PRIMARY KEY,
        name TEXT NOT NULL
    ) STRICT;

    CREATE TABLE sessions(
        id TEXT PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        agent TEXT NOT NULL,
        cwd TEXT,
        project TEXT,
        git_branch TEXT,
        git_commit TEXT,
        git_remote TEXT,
        models TEXT NOT NULL DEFAULT '[]',
        cli_version TEXT,
        originator TEXT,
        started_at REAL,
        ended_at REAL,
        parent_session_id TEXT,
        agent_id TEXT,
        title TEXT,
        events INTEGER NOT NULL DEFAULT 0,
        turns INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX sessions_file ON sessions(file_id);
    CREATE INDEX sessions_project ON sessions(project, started_at);
    CREATE INDEX sessions_started ON sessions(started_at);
    CREATE INDEX sessions_parent ON sessions(parent_session_id);

    CREATE TABLE turns(
        session_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        file_id INTEGER NOT NULL,
        start_line INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        started_at REAL,
        ended_at REAL,
        prompt TEXT,
        model TEXT,
        turn_id TEXT,
        aborted INTEGER NOT NULL DEFAULT 0,
        duration_ms INTEGER,
        PRIMARY KEY(session_id, idx)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX turns_file ON turns(file_id);

    CREATE TABLE events(
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,                    -- == 1-based line number
        session_id TEXT NOT NULL,
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL,
        ts REAL,
        kind TEXT NOT NULL,
        subtype TEXT,
        turn INTEGER,
        tool TEXT,
        call_id TEXT,
        command TEXT,
        exit_code INTEGER,
        is_error INTEGER NOT NULL DEFAULT 0,
        duration_ms INTEGER,
        text TEXT,
        files TEXT,
        model TEXT,
        usage_key TEXT,
        flags INTEGER NOT NULL DEFAULT 0,        -- 1 duplicate, 2 sidechain
        agent_id TEXT,
        parent_call_id TEXT,
        data TEXT                                -- JSON: role, ids, extra, usage
    ) STRICT;
    CREATE UNIQUE INDEX events_file_seq ON events(file_id, seq);
    CREATE INDEX events_session ON events(session_id, seq);
    CREATE INDEX events_call ON events(session_id, call_id) WHERE call_id IS NOT NULL;

    CREATE TABLE usage(
        key TEXT PRIMARY KEY,
        file_id INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        turn INTEGER,
        ts REAL,
        day TEXT,                                 -- local calendar day of ts, for reports
        model TEXT,
        agent TEXT NOT NULL,
        project TEXT,
        input INTEGER NOT NULL DEFAULT 0,
        cache_read INTEGER NOT NULL DEFAULT 0,
        cache_write_5m INTEGER NOT NULL DEFAULT 0,
        cache_write_1h INTEGER NOT NULL DEFAULT 0,
        output INTEGER NOT NULL DEFAULT 0,
        reasoning INTEGER NOT NULL DEFAULT 0,
        speed TEXT,
        cost_usd REAL,
        cost_known INTEGER NOT NULL DEFAULT 0,
        log_cost_usd REAL
    ) STRICT;
    CREATE INDEX usage_file ON usage(file_id);
    CREATE INDEX usage_session ON usage(session_id, seq);
    CREATE INDEX usage_day ON usage(day, model);

    CREATE TABLE problems(
        file_id INTEGER NOT NULL,
        line INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL
    ) STRICT;
    CREATE INDEX problems_file ON problems(file_id, line);

    CREATE TABLE findings(
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        rule_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        guideline TEXT,
        related TEXT,
        data TEXT
    ) STRICT;
    CREATE INDEX findings_file ON findings(file_id, seq);
    CREATE INDEX findings_session ON findings(session_id);
    CREATE INDEX findings_rule ON findings(rule_id);

    -- derived-index work queue, written in the same transaction as the events it refers to
    CREATE TABLE search_queue(
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL,
        op TEXT NOT NULL,                         -- append | replace | delete
        from_seq INTEGER NOT NULL DEFAULT 0
    ) STRICT;

    CREATE TABLE eval_runs(
        id INTEGER PRIMARY KEY,
        suite TEXT NOT NULL,
        suite_path TEXT,
        started_at REAL NOT NULL,
        finished_at REAL,
        git_commit TEXT,
        instructions_hash TEXT,
        pinned INTEGER NOT NULL DEFAULT 0,
        summary TEXT
    ) STRICT;
    CREATE TABLE eval_results(
        run_id INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
        session_id TEXT,
        case_id TEXT,
        check_id TEXT NOT NULL,
        passed INTEGER NOT NULL,
        message TEXT,
        evidence_seq INTEGER,
        data TEXT
    ) STRICT;
    CREATE INDEX eval_results_run ON eval_results(run_id);

    CREATE TABLE llm_cache(
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        model TEXT,
        created REAL NOT NULL,
        value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE conversations(
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        created REAL NOT NULL
    ) STRICT;
    CREATE INDEX conversations_session ON conversations(session_id, id);
    """,
    # 2: find the other copies of a billed request when the file that owns its usage row is cleared
    """
    CREATE INDEX events_usage_key ON events(usage_key) WHERE usage_key IS NOT NULL;
    """,
    # 3: every event query goes by file: the session index was never read, and the call index is
    # keyed by file id (an integer) rather than the session id (a 36-character text) - lighter writes
    """
    DROP INDEX events_session;
    DROP INDEX events_call;
    CREATE INDEX events_call ON events(file_id, call_id) WHERE call_id IS NOT NULL;
    """,
    # migration: otheragents — sessions whose token figures are a lower bound (Copilot CLI segments
    # without session.shutdown)
    """
    ALTER TABLE sessions ADD COLUMN usage_lower_bound INTEGER NOT NULL DEFAULT 0;
    """,
    # migration: otel — what each OTLP endpoint already received, per session (resumable, idempotent exports)
    """
    CREATE TABLE otlp_exports(
        endpoint TEXT NOT NULL,
        session_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,               -- events/usage/findings counts when it was sent
        spans INTEGER NOT NULL,
        exported_at REAL NOT NULL,
        PRIMARY KEY(endpoint, session_id)
    ) STRICT, WITHOUT ROWID;
    """,
    # migration: coach — findings follow their inputs: the hash of the rules' version, the project's coach
    # config and the instruction files the findings were computed with (a change re-coaches, no re-parse)
    """
    ALTER TABLE files ADD COLUMN coach_hash TEXT;
    """,
    # migration: blame — edits index: what each edit event of a session wrote (agent blame), by the
    # file's path relative to the session's repository root; rows follow their log (file_id) like events
    """
    CREATE TABLE edits(
        file_id INTEGER NOT NULL,                -- the log (source row) that recorded the edit
        seq INTEGER NOT NULL,                    -- the edit event
        hunk INTEGER NOT NULL,                   -- its n-th hunk
        repo TEXT,                               -- the session's repository root; NULL: path is absolute
        path TEXT NOT NULL,                      -- relative to repo
        op TEXT NOT NULL,                        -- edit | write | add | delete | move
        tool TEXT,
        ts REAL,
        turn INTEGER,
        line INTEGER,                            -- 1-based line of the first produced line, when logged
        nlines INTEGER NOT NULL,
        hashes BLOB,                             -- produced lines' normalized-content hashes (int64 LE)
        base_commit TEXT,                        -- the commit the session started from, when logged
        old_path TEXT,                           -- a move's source (relative like path)
        PRIMARY KEY(file_id, seq, hunk)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX edits_path ON edits(path);
    """,
    # migration: clifast — the cost report reads one index, never the table: usage in (day, model) order with
    # every column a report sums, filters or counts (it replaces usage_day, its prefix); 1 GB of logs' report
    # ~190 -> ~45 ms
    """
    CREATE INDEX IF NOT EXISTS usage_report ON usage(day, model, input, cache_read, cache_write_5m, cache_write_1h, output, reasoning,
                                       cost_usd, cost_known, session_id, ts, agent, project);
    DROP INDEX IF EXISTS usage_day;
    CREATE INDEX IF NOT EXISTS files_status ON files(status);  -- `stats` counts the indexed files without reading their rows
    """,
    # migration: rollout3 — a huge log's outline selects its notable events (errors, failed results,
    # patches, compactions: a few % of the rows) by kind and line range without a scan of the file
    """
    CREATE INDEX IF NOT EXISTS events_notable ON events(file_id, kind, seq)
        WHERE kind IN ('error', 'patch', 'compaction') OR (kind = 'tool_result' AND (is_error = 1 OR exit_code != 0));
    """,
    # migration: costdays — the cost report by day / week reads a few hundred summary rows instead of every
    # billed request (124k at 1 GB of logs: ~40 ms -> ~1 ms).  usage_days holds, per (day, model), exactly
    # what the report's grouped query gives (computed by that query, over the same index range); any change
    # of a usage row marks its day dirty (triggers: every write path, a re-price included), the writer
    # recomputes the dirty days at the end of each pass, and a reader finding any day dirty reads the
    # usage rows themselves: never a stale figure.  A day '' stands for requests without a day (NULL).  An
    # older store is summarised by the migration itself (store/db.py's _USAGE_SUMS, spelled out: a test
    # checks the two agree), so its first report after the upgrade reads the summary too.
    """
    CREATE TABLE IF NOT EXISTS usage_days(
        day TEXT, model TEXT, input INTEGER, cache_read INTEGER, cache_write_5m INTEGER, cache_write_1h INTEGER,
        output INTEGER, reasoning INTEGER, cost_usd REAL, unknown INTEGER, requests INTEGER
    );
    CREATE INDEX IF NOT EXISTS usage_days_day ON usage_days(day);
    CREATE TABLE IF NOT EXISTS usage_days_dirty(day TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TRIGGER IF NOT EXISTS usage_days_insert AFTER INSERT ON usage
        BEGIN INSERT INTO usage_days_dirty(day) SELECT coalesce(NEW.day, '') WHERE NOT EXISTS (SELECT 1 FROM usage_days_dirty WHERE day = coalesce(NEW.day, '')); END;
    CREATE TRIGGER IF NOT EXISTS usage_days_delete AFTER DELETE ON usage
        BEGIN INSERT INTO usage_days_dirty(day) SELECT coalesce(OLD.day, '') WHERE NOT EXISTS (SELECT 1 FROM usage_days_dirty WHERE day = coalesce(OLD.day, '')); END;
    CREATE TRIGGER IF NOT EXISTS usage_days_update
        AFTER UPDATE OF day, model, input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, cost_usd, cost_known ON usage
        BEGIN
            INSERT INTO usage_days_dirty(day) SELECT coalesce(OLD.day, '') WHERE NOT EXISTS (SELECT 1 FROM usage_days_dirty WHERE day = coalesce(OLD.day, ''));
            INSERT INTO usage_days_dirty(day) SELECT coalesce(NEW.day, '') WHERE NOT EXISTS (SELECT 1 FROM usage_days_dirty WHERE day = coalesce(NEW.day, ''));
        END;
    INSERT INTO usage_days(day, model, input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, cost_usd, unknown, requests)
        SELECT u.day, u.model, CAST(total(u.input) AS INTEGER), CAST(total(u.cache_read) AS INTEGER),
               CAST(total(u.cache_write_5m) AS INTEGER), CAST(total(u.cache_write_1h) AS INTEGER), CAST(total(u.output) AS INTEGER),
               CAST(total(u.reasoning) AS INTEGER), sum(coalesce(u.cost_usd, 0)), sum(1 - u.cost_known), count(*)
        FROM usage u GROUP BY u.day, u.model;
    """,
    # migration: findingcounts — the coach's counts per rule (``stats``, ``coach``) read one covering index in
    # group order instead of the findings rows (16k at 1 GB of logs: 25 -> 7 ms); it serves a rule's lookups too
    """
    CREATE INDEX IF NOT EXISTS findings_counts ON findings(rule_id, severity, session_id);
    DROP INDEX IF EXISTS findings_rule;
    """,
]
