//! The audit log, like CloudTrail: one row per request (time, request id, principal, source
//! address, operation, key ARN, encryption context, outcome), in the keystore database.
//!
//! Requests hand events to a channel; a writer thread commits them in batches, so the hot
//! path never waits on SQLite. Plaintext and key material are never recorded: an event has no
//! field that could hold them.

use std::path::Path;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, Sender};
use rusqlite::{params, Connection};
use serde::Serialize;

use super::service::Caller;
use super::store::StoreError;
use crate::kms::wire::Operation;

/// One audited request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEvent {
    /// KMS time (epoch seconds).
    pub time: u64,
    /// `x-amzn-RequestId`.
    pub request_id: String,
    /// Principal ARN (empty when authentication failed).
    pub principal: String,
    /// Client address.
    pub source: String,
    /// Operation name.
    pub operation: String,
    /// The key's ARN, when the request named one that exists.
    pub key_arn: Option<String>,
    /// The encryption context, as JSON, when the request had one.
    pub context: Option<String>,
    /// `ok` or the error code.
    pub outcome: String,
}

impl AuditEvent {
    /// An event for an authenticated request (outcome filled in later).
    pub fn new(caller: &Caller, op: Operation, time: u64) -> Self {
        AuditEvent {
            time,
            request_id: caller.request_id.clone(),
            principal: caller.principal.arn.clone(),
            source: caller.source.clone(),
            operation: op.name().to_owned(),
            key_arn: None,
            context: None,
            outcome: String::new(),
        }
    }

    /// An event for a request refused before authentication completed.
    pub fn rejected(source: &str, request_id: &str, target: &str, code: &str, time: u64) -> Self {
        AuditEvent {
            time,
            request_id: request_id.to_owned(),
            principal: String::new(),
            source: source.to_owned(),
            operation: target.trim_start_matches("TrentService.").to_owned(),
            key_arn: None,
            context: None,
            outcome: code.to_owned(),
        }
    }
}

/// The asynchronous audit writer.
pub struct AuditLog {
    tx: Mutex<Option<Sender<AuditEvent>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditLog")
    }
}

fn insert(conn: &mut Connection, batch: &[AuditEvent]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO audit (time, request_id, principal, source, operation, key_arn, context, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for e in batch {
            stmt.execute(params![
                e.time as f64,
                e.request_id,
                e.principal,
                e.source,
                e.operation,
                e.key_arn,
                e.context,
                e.outcome
            ])?;
        }
    }
    tx.commit()
}

fn writer_loop(mut conn: Connection, rx: Receiver<AuditEvent>) {
    let mut batch = Vec::with_capacity(512);
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(e) => {
                batch.push(e);
                while batch.len() < 512 {
                    match rx.try_recv() {
                        Ok(e) => batch.push(e),
                        Err(_) => break,
                    }
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                let _ = insert(&mut conn, &batch);
                return;
            }
        }
        if !batch.is_empty() && insert(&mut conn, &batch).is_ok() {
            batch.clear();
        }
    }
}

impl AuditLog {
    /// Starts the writer on `<dir>/keystore.db` (the schema exists: the store created it).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(dir.join("keystore.db"))?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        let (tx, rx) = bounded(65_536);
        let writer = std::thread::Builder::new()
            .name("kms-audit".into())
            .spawn(move || writer_loop(conn, rx))
            .map_err(|e| StoreError::Record(format!("audit writer: {e}")))?;
        Ok(AuditLog {
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Queues an event (dropped only if 65,536 are already waiting).
    pub fn record(&self, e: AuditEvent) {
        if let Some(tx) = self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = tx.try_send(e);
        }
    }

    /// Writes every queued event and stops the writer.
    pub fn flush_and_stop(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = w.join();
        }
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        self.flush_and_stop();
    }
}

/// Reads the audit log of the data dir `dir`, optionally for one key ARN or id and since a
/// time, oldest first.
pub fn query(
    dir: &Path,
    key: Option<&str>,
    since: Option<u64>,
) -> Result<Vec<AuditEvent>, StoreError> {
    let conn = Connection::open_with_flags(
        dir.join("keystore.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let mut stmt = conn.prepare(
        "SELECT time, request_id, principal, source, operation, key_arn, context, outcome
         FROM audit WHERE (?1 IS NULL OR key_arn = ?1 OR key_arn LIKE '%/' || ?1)
         AND time >= ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![key, since.unwrap_or(0) as f64], |r| {
        Ok(AuditEvent {
            time: r.get::<_, f64>(0)? as u64,
            request_id: r.get(1)?,
            principal: r.get(2)?,
            source: r.get(3)?,
            operation: r.get(4)?,
            key_arn: r.get(5)?,
            context: r.get(6)?,
            outcome: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
