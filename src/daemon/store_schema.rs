//! The job store's SQLite schema (version 1), its column list, and decoding a row into a
//! [`JobRecord`]: what [`super::JobStore`]'s statements share.

use std::path::Path;

use super::StoreError;
use crate::daemon::model::JobRecord;

/// The schema version kept in SQLite's `user_version`.
pub(super) const SCHEMA_VERSION: i64 = 1;

/// The active states as an SQL list; must match [`JobState::is_active`](crate::daemon::model::JobState::is_active) (a test checks).
pub(super) const ACTIVE_SQL: &str = "'queued','running','paused'";

/// The database's file name in the data dir.
pub(super) const DB_FILE: &str = "jobs.sqlite";

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec TEXT NOT NULL,
    volume_key TEXT NOT NULL,
    state TEXT NOT NULL,
    created INTEGER NOT NULL,
    started INTEGER,
    finished INTEGER,
    bytes_total INTEGER NOT NULL DEFAULT 0,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    chunk_size INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    start_version INTEGER,
    error TEXT,
    result TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_active_volume ON jobs(volume_key)
    WHERE state IN ('queued','running','paused');
";

/// The columns [`decode`] reads, in its order.
pub(super) const COLUMNS: &str =
    "id, spec, volume_key, state, created, started, finished, bytes_total, \
                       bytes_done, chunk_size, attempts, start_version, error, result";

/// Decodes one row (selected as [`COLUMNS`]). Reading a stepped row does no I/O, so every
/// failure here is a bad value: [`StoreError::Corrupt`].
pub(super) fn decode(r: &rusqlite::Row<'_>, path: &Path) -> Result<JobRecord, StoreError> {
    // Row ids are positive integers (AUTOINCREMENT), so the fallback never shows.
    let id = r.get::<_, u64>(0).unwrap_or(0);
    let bad = |message: String| StoreError::Corrupt {
        path: path.to_owned(),
        id,
        message,
    };
    let text = |i: usize| r.get::<_, String>(i).map_err(|e| bad(e.to_string()));
    let spec = serde_json::from_str(&text(1)?).map_err(|e| bad(format!("spec: {e}")))?;
    let state = text(3)?.parse().map_err(bad)?;
    let result = match r
        .get::<_, Option<String>>(13)
        .map_err(|e| bad(e.to_string()))?
    {
        Some(t) => Some(serde_json::from_str(&t).map_err(|e| bad(format!("result: {e}")))?),
        None => None,
    };
    let rest = || -> rusqlite::Result<JobRecord> {
        Ok(JobRecord {
            id,
            spec,
            volume_key: r.get(2)?,
            state,
            created: r.get(4)?,
            started: r.get(5)?,
            finished: r.get(6)?,
            bytes_total: r.get(7)?,
            bytes_done: r.get(8)?,
            chunk_size: r.get(9)?,
            attempts: r.get(10)?,
            start_version: r.get(11)?,
            error: r.get(12)?,
            result,
        })
    };
    rest().map_err(|e| bad(e.to_string()))
}

/// True for a violation of the active-volume unique index.
pub(super) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    e.sqlite_error()
        .is_some_and(|e| e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}
