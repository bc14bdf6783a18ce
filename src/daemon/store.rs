//! The daemon's job store: one SQLite database (`jobs.sqlite`, WAL, `synchronous=FULL`) in
//! the data dir holding every [`JobRecord`], so a restarted daemon can take up its active jobs
//! again ([`JobStore::active`]).
//!
//! The spec is kept as JSON text, the state as [`JobState::name`]; every other record field has
//! its own column. At most one active (queued, running or paused) job per volume is enforced
//! by SQLite itself with a partial unique index, reported as [`StoreError::VolumeBusy`].
//! Progress updates ([`JobStore::set_progress`]) skip the fsync: the volume's own checkpoint
//! is the truth for progress, and the next durable write syncs them anyway.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{params, Connection, OptionalExtension};

use super::model::{JobRecord, JobSpec, JobState};

#[path = "store_schema.rs"]
mod schema;
use schema::{decode, is_unique_violation, ACTIVE_SQL, COLUMNS, DB_FILE, SCHEMA, SCHEMA_VERSION};

/// Job store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another active (queued/running/paused) job holds the volume.
    #[error("job {id} is already {state} on {volume}")]
    VolumeBusy {
        /// The job holding the volume.
        id: u64,
        /// Its state.
        state: JobState,
        /// The volume key.
        volume: String,
    },
    /// No such job.
    #[error("no job {0}")]
    NotFound(u64),
    /// The database failed (path and operation in the message).
    #[error("job store {path}: {what}: {source}")]
    Db {
        /// The database file.
        path: PathBuf,
        /// The operation that failed.
        what: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored row could not be decoded.
    #[error("job store {path}: job {id}: {message}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The job whose row is bad.
        id: u64,
        /// What is wrong with it.
        message: String,
    },
    /// Creating the data directory failed.
    #[error("job store {path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// The SQLite job store. Cheap to share (`Arc<JobStore>`): every call takes the connection's
/// lock for one short statement or transaction. Calls block on disk I/O (an fsync per durable
/// write).
#[derive(Debug)]
pub struct JobStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl JobStore {
    /// Opens (creating) `dir/jobs.sqlite`; creates `dir` with mode 0700 if missing and the
    /// database file with mode 0600 (an existing one is narrowed to 0600); WAL journal mode,
    /// `synchronous=FULL` (a job accepted is durable), busy timeout 5 s; creates the schema
    /// (`user_version` 1) and refuses a database with a newer schema.
    pub fn open(dir: &Path) -> Result<JobStore, StoreError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(dir))?;
        let path = dir.join(DB_FILE);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io(&path))?;
        if file.metadata().map_err(io(&path))?.permissions().mode() & 0o777 != 0o600 {
            file.set_permissions(Permissions::from_mode(0o600))
                .map_err(io(&path))?;
        }
        drop(file);
        let db = |what: &'static str| {
            let path = path.clone();
            move |source| StoreError::Db { path, what, source }
        };
        let mut conn = Connection::open(&path).map_err(db("open"))?;
        conn.execute_batch(
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
        )
        .map_err(db("pragmas"))?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db("schema"))?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db("schema"))?;
        if version > SCHEMA_VERSION {
            let newer = format!("schema version {version} is newer than this volcrypt's");
            let code = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH);
            return Err(db("schema")(rusqlite::Error::SqliteFailure(
                code,
                Some(newer),
            )));
        }
        tx.execute_batch(SCHEMA).map_err(db("schema"))?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(db("schema"))?;
        tx.commit().map_err(db("schema"))?;
        Ok(JobStore {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done statement behind (SQLite rolls
        // back an unfinished transaction when its statement or transaction is dropped).
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn db(&self, what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Db {
            path: self.path.clone(),
            what,
            source,
        }
    }

    /// The active job other than `except` on `volume_key` (default: `except`'s volume), as a
    /// [`StoreError::VolumeBusy`]; `fallback` if there is none (the constraint failed for
    /// another reason).
    fn busy(
        &self,
        conn: &Connection,
        volume_key: Option<&str>,
        except: u64,
        fallback: StoreError,
    ) -> StoreError {
        let sql = format!(
            "SELECT id, state, volume_key FROM jobs WHERE id != ?2 AND state IN ({ACTIVE_SQL}) \
             AND volume_key = COALESCE(?1, (SELECT volume_key FROM jobs WHERE id = ?2))"
        );
        let holder = conn
            .query_row(&sql, params![volume_key, except], |r| {
                Ok((r.get(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })
            .optional();
        match holder {
            Ok(Some((id, state, volume))) => match state.parse() {
                Ok(state) => StoreError::VolumeBusy { id, state, volume },
                Err(_) => fallback,
            },
            Ok(None) => fallback,
            Err(e) => self.db("find volume holder")(e),
        }
    }

    /// Inserts a new queued job; fails with [`StoreError::VolumeBusy`] (naming the holder) if
    /// an active job has the same `volume_key`.
    pub fn insert(
        &self,
        spec: &JobSpec,
        volume_key: &str,
        now: u64,
    ) -> Result<JobRecord, StoreError> {
        let json = serde_json::to_string(spec).map_err(|e| {
            self.db("encode spec")(rusqlite::Error::ToSqlConversionFailure(e.into()))
        })?;
        let conn = self.lock();
        let res = conn.execute(
            "INSERT INTO jobs (spec, volume_key, state, created) VALUES (?1, ?2, ?3, ?4)",
            params![json, volume_key, JobState::Queued.name(), now],
        );
        if let Err(e) = res {
            return Err(if is_unique_violation(&e) {
                self.busy(&conn, Some(volume_key), 0, self.db("insert")(e))
            } else {
                self.db("insert")(e)
            });
        }
        let id = u64::try_from(conn.last_insert_rowid()).unwrap_or(0);
        Ok(JobRecord {
            id,
            spec: spec.clone(),
            volume_key: volume_key.to_owned(),
            state: JobState::Queued,
            created: now,
            started: None,
            finished: None,
            bytes_total: 0,
            bytes_done: 0,
            chunk_size: 0,
            attempts: 0,
            start_version: None,
            error: None,
            result: None,
        })
    }

    /// Records what a finished run reported (the engine's summary, as JSON).
    pub fn set_result(&self, id: u64, result: &serde_json::Value) -> Result<(), StoreError> {
        let conn = self.lock();
        let n = conn
            .prepare_cached("UPDATE jobs SET result = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id, result.to_string()]))
            .map_err(self.db("set result"))?;
        match n {
            0 => Err(StoreError::NotFound(id)),
            _ => Ok(()),
        }
    }

    /// The job `id`, or [`StoreError::NotFound`].
    pub fn get(&self, id: u64) -> Result<JobRecord, StoreError> {
        let conn = self.lock();
        let rec = conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id], |r| Ok(decode(r, &self.path))).optional())
            .map_err(self.db("get"))?;
        rec.ok_or(StoreError::NotFound(id))?
    }

    fn query(
        &self,
        what: &'static str,
        sql: &str,
        limit: i64,
    ) -> Result<Vec<JobRecord>, StoreError> {
        let conn = self.lock();
        let recs = conn
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_map([limit], |r| Ok(decode(r, &self.path)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(self.db(what))?;
        recs.into_iter().collect()
    }

    /// All jobs, newest first; `limit` `None` = all.
    pub fn list(&self, limit: Option<usize>) -> Result<Vec<JobRecord>, StoreError> {
        // SQLite: a negative LIMIT means none.
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let sql = format!("SELECT {COLUMNS} FROM jobs ORDER BY id DESC LIMIT ?1");
        self.query("list", &sql, limit)
    }

    /// Active jobs (queued, running, paused), oldest first: what a restarted daemon takes up
    /// again.
    pub fn active(&self) -> Result<Vec<JobRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE state IN ({ACTIVE_SQL}) ORDER BY id LIMIT ?1"
        );
        self.query("active", &sql, -1)
    }

    /// Sets the state and `error` (`None` clears it); `finished` becomes `now` for a final
    /// state (succeeded, failed, cancelled) and is cleared for an active one. Moving a final
    /// job back to active fails with [`StoreError::VolumeBusy`] if another active job took
    /// its volume meanwhile.
    pub fn set_state(
        &self,
        id: u64,
        state: JobState,
        error: Option<&str>,
        now: u64,
    ) -> Result<(), StoreError> {
        let finished = (!state.is_active()).then_some(now);
        self.update(
            "set state",
            id,
            "UPDATE jobs SET state = ?2, error = ?3, finished = ?4 WHERE id = ?1",
            params![id, state.name(), error, finished],
        )
    }

    /// Marks a (re)start: state running, `attempts` + 1, `started` = `now` and
    /// `start_version` = the given one unless already set, `bytes_total` and `chunk_size`
    /// replaced, `finished` cleared. [`StoreError::VolumeBusy`] as for [`Self::set_state`].
    pub fn mark_started(
        &self,
        id: u64,
        now: u64,
        bytes_total: u64,
        chunk_size: u64,
        start_version: Option<u32>,
    ) -> Result<(), StoreError> {
        self.update(
            "mark started",
            id,
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, \
             started = COALESCE(started, ?2), start_version = COALESCE(start_version, ?3), \
             bytes_total = ?4, chunk_size = ?5, finished = NULL WHERE id = ?1",
            params![id, now, start_version, bytes_total, chunk_size],
        )
    }

    /// A durable update of one job's row: [`StoreError::NotFound`] if there is none,
    /// [`StoreError::VolumeBusy`] if the active-volume index refuses it.
    fn update(
        &self,
        what: &'static str,
        id: u64,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        match conn.prepare_cached(sql).and_then(|mut s| s.execute(params)) {
            Ok(0) => Err(StoreError::NotFound(id)),
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(self.busy(&conn, None, id, self.db(what)(e))),
            Err(e) => Err(self.db(what)(e)),
        }
    }

    /// Progress (bytes done); called about once a second per job, so it is cheap: one cached
    /// statement, committed without an fsync (`synchronous=NORMAL` for this write only; the
    /// next durable write or checkpoint syncs it, and a lost update only shows older progress).
    /// `bytes_total` 0 leaves the stored total as it is.
    pub fn set_progress(
        &self,
        id: u64,
        bytes_done: u64,
        bytes_total: u64,
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(self.db("set progress"))?;
        let res = conn
            .prepare_cached(
                "UPDATE jobs SET bytes_done = ?2, \
                 bytes_total = CASE WHEN ?3 > 0 THEN ?3 ELSE bytes_total END WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![id, bytes_done, bytes_total]));
        // Restore durability before reporting anything, whatever the update did.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(self.db("set progress"))?;
        match res.map_err(self.db("set progress"))? {
            0 => Err(StoreError::NotFound(id)),
            _ => Ok(()),
        }
    }

    /// Counts of jobs per state, in [`JobState::ALL`] order (every state present, 0 if none).
    pub fn counts(&self) -> Result<Vec<(JobState, u64)>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare_cached("SELECT state, COUNT(*), MIN(id) FROM jobs GROUP BY state")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(self.db("counts"))?;
        drop(conn);
        let mut out: Vec<(JobState, u64)> = JobState::ALL.iter().map(|&s| (s, 0)).collect();
        for (name, n, min_id) in rows {
            let state: JobState = name.parse().map_err(|message| StoreError::Corrupt {
                path: self.path.clone(),
                id: u64::try_from(min_id).unwrap_or(0),
                message,
            })?;
            if let Some(slot) = out.iter_mut().find(|(s, _)| *s == state) {
                slot.1 = u64::try_from(n).unwrap_or(0);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
