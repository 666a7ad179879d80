-- shush's triage store, schema version 2 (PostgreSQL takes it with its own integer and key
-- types: `postgres_schema` in mod.rs). One row per secret (keyed fingerprint: rule and
-- secret), one per place it was seen, one per run, and the history of every status change.
-- No secret is stored in clear unless `meta.clear_secrets` is '1' (a run with --show-secrets
-- wrote it).

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    command     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    findings    INTEGER NOT NULL DEFAULT 0,
    complete    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS secrets (
    fingerprint    TEXT PRIMARY KEY,
    secret_id      TEXT NOT NULL,
    rule_id        TEXT NOT NULL,
    description    TEXT NOT NULL,
    confidence     TEXT NOT NULL,
    secret         TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'false-positive', 'accepted-risk', 'revoked')),
    comment        TEXT,
    status_by      TEXT,
    status_at      TEXT,
    first_seen_run INTEGER NOT NULL REFERENCES runs(id),
    last_seen_run  INTEGER NOT NULL REFERENCES runs(id)
);
CREATE INDEX IF NOT EXISTS secrets_by_id ON secrets(secret_id);

CREATE TABLE IF NOT EXISTS locations (
    id             INTEGER PRIMARY KEY,
    fingerprint    TEXT NOT NULL REFERENCES secrets(fingerprint),
    scope          TEXT NOT NULL,
    place          TEXT NOT NULL,
    path           TEXT NOT NULL,
    line           INTEGER NOT NULL,
    col            INTEGER NOT NULL,
    commit_id      TEXT,
    commit_date    TEXT,
    source         TEXT NOT NULL,
    first_seen_run INTEGER NOT NULL REFERENCES runs(id),
    last_seen_run  INTEGER NOT NULL REFERENCES runs(id),
    present        INTEGER NOT NULL DEFAULT 1,
    UNIQUE (fingerprint, scope, place)
);
CREATE INDEX IF NOT EXISTS locations_by_scope ON locations(scope, present);

CREATE TABLE IF NOT EXISTS status_history (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL REFERENCES secrets(fingerprint),
    status      TEXT NOT NULL,
    comment     TEXT,
    by_whom     TEXT NOT NULL,
    at          TEXT NOT NULL
);

-- Statuses imported from another tool's baseline (gitleaks, detect-secrets), which names a
-- place rather than a shush fingerprint: the first secret found there takes the status.
CREATE TABLE IF NOT EXISTS imported_places (
    id        INTEGER PRIMARY KEY,
    path      TEXT NOT NULL,
    line      INTEGER NOT NULL,
    commit_id TEXT,
    rule      TEXT,
    status    TEXT NOT NULL,
    comment   TEXT,
    origin    TEXT NOT NULL,
    used      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS imported_by_place ON imported_places(path, line);

-- Statuses imported from a shush baseline, for fingerprints not seen yet.
CREATE TABLE IF NOT EXISTS imported_fingerprints (
    fingerprint TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    comment     TEXT,
    origin      TEXT NOT NULL
);

-- The fleet's work queue (`shush fleet`): one row per repository. A worker claims a queued
-- repository, or one whose lease ran out (its worker died), by setting `lease_until`; it
-- renews the lease while it works, and ends the row done or failed (with the error).
CREATE TABLE IF NOT EXISTS fleet_repos (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL UNIQUE,
    state       TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'done', 'failed')),
    worker      TEXT,
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    enqueued_at TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT,
    blobs       INTEGER,
    -- Blobs not scanned because the ledger (scanned_blobs) knew them.
    known_blobs INTEGER,
    bytes       INTEGER,
    findings    INTEGER,
    seconds     REAL,
    -- The ref tips (commit ids, one a line) the last completed audit covered: the next one
    -- audits only what is new since.
    audited_refs TEXT
);
CREATE INDEX IF NOT EXISTS fleet_by_state ON fleet_repos(state, lease_until);

-- The fleet's ledger of blobs scanned: forks, mirrors and vendored copies share most of their
-- blobs, and a worker skips the ones scanned before or being scanned by another worker
-- (attributing those with findings to its own repository). A row's id is an HMAC, under the store's fingerprint key, of the blob id
-- and the scan's identity (build, rules, options): a change of rules matches no old row, and
-- without the key no one can confirm a guessed file (whose blob id anyone can compute).
CREATE TABLE IF NOT EXISTS scanned_blobs (
    id            TEXT PRIMARY KEY,
    -- 1 with findings, 0 without; NULL while the worker holding the claim `owner_repo`
    -- (a fleet_repos id) at attempt `owner_attempt` scans it: others wait for its verdict
    -- while that claim lives, and take the blob over once it does not.
    findings      INTEGER,
    -- Which scan identity wrote it (a short HMAC of it), so that rows of old rules can go.
    rules         TEXT NOT NULL,
    owner_repo    INTEGER,
    owner_attempt INTEGER
) WITHOUT ROWID;
