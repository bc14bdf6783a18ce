//! The keystore: SQLite (WAL) in the data dir, plus the root key and the admin credential.
//!
//! Key records are stored as one JSON document each, sealed with AES-256-GCM under the root
//! key (random nonce, AAD = table and id), so no key material ever reaches the disk in the
//! clear. Aliases and grants hold no secrets and are stored as plain JSON. The root key is a
//! 0600 file in the data dir (generated on first start) or an operator-supplied file. The
//! audit log shares the database (see `audit.rs`).

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use crate::crypto::{self, Backend, ChunkKey, DataKey, SecretBytes, NONCE_LEN, TAG_LEN};

/// Keystore failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("keystore database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A file in the data dir could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A sealed record did not open: wrong root key or a damaged store.
    #[error("a sealed keystore record failed authentication (wrong root key?)")]
    Unseal,
    /// The root key file has the wrong shape.
    #[error("root key file {0}: expected 32 raw bytes")]
    RootKey(PathBuf),
    /// A record could not be encoded or decoded.
    #[error("keystore record: {0}")]
    Record(String),
}

fn file_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::File {
        path: path.to_owned(),
        source,
    }
}

/// Writes `data` to a new file readable by its owner only. Fails if it exists.
pub(crate) fn write_private(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(file_err(path))?;
    f.write_all(data).map_err(file_err(path))?;
    f.sync_all().map_err(file_err(path))
}

/// Loads the root key, generating `<dir>/root.key` on first start.
pub(crate) fn root_key(dir: &Path, supplied: Option<&Path>) -> Result<DataKey, StoreError> {
    let path = supplied.map_or_else(|| dir.join("root.key"), Path::to_path_buf);
    if supplied.is_none() && !path.exists() {
        let key = DataKey::generate().map_err(|_| StoreError::RootKey(path.clone()))?;
        write_private(&path, key.expose())?;
        return Ok(key);
    }
    let raw = SecretBytes::new(std::fs::read(&path).map_err(file_err(&path))?);
    DataKey::from_slice(raw.expose()).map_err(|_| StoreError::RootKey(path))
}

/// The SQLite keystore.
pub(crate) struct Store {
    conn: Connection,
    root: ChunkKey,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS aliases (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grants (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    request_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    source TEXT NOT NULL,
    operation TEXT NOT NULL,
    key_arn TEXT,
    context TEXT,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_key ON audit(key_arn);
CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
";

/// The rows of one table, by primary key.
pub(crate) type Rows = Vec<(String, Vec<u8>)>;

impl Store {
    /// Opens (creating if needed) `<dir>/keystore.db` with root key `root`.
    pub fn open(dir: &Path, root: &DataKey) -> Result<Self, StoreError> {
        let conn = Connection::open(dir.join("keystore.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        conn.execute_batch(SCHEMA)?;
        let root = ChunkKey::new(Backend::Ring, root.expose()).map_err(|_| StoreError::Unseal)?;
        Ok(Store { conn, root })
    }

    fn aad(table: &str, id: &str) -> Vec<u8> {
        format!("volcrypt-kms v1\0{table}\0{id}").into_bytes()
    }

    /// Seals `doc` for row `id` of `table`.
    pub fn seal(&self, table: &str, id: &str, doc: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        crypto::random_bytes(&mut nonce).map_err(|_| StoreError::Unseal)?;
        let mut body = doc.to_vec();
        let tag = self
            .root
            .seal(nonce, &Self::aad(table, id), &mut body)
            .map_err(|_| StoreError::Unseal)?;
        let mut out = nonce.to_vec();
        out.append(&mut body);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens a blob made by [`Self::seal`].
    pub fn unseal(&self, table: &str, id: &str, sealed: &[u8]) -> Result<SecretBytes, StoreError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(StoreError::Unseal);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| StoreError::Unseal)?;
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| StoreError::Unseal)?;
        let mut out = SecretBytes::new(body.to_vec());
        let mut buf = out.expose().to_vec();
        self.root
            .open(nonce, &Self::aad(table, id), &mut buf, &tag)
            .map_err(|_| StoreError::Unseal)?;
        out = SecretBytes::new(buf);
        Ok(out)
    }

    /// Every row of `table` (`keys`, `aliases` or `grants`).
    pub fn load(&self, table: &'static str) -> Result<Rows, StoreError> {
        let col = if table == "keys" { "sealed" } else { "doc" };
        let pk = if table == "aliases" { "name" } else { "id" };
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {pk}, {col} FROM {table}"))?;
        let rows = stmt.query_map([], |r| {
            let id: String = r.get(0)?;
            let v: rusqlite::types::Value = r.get(1)?;
            let bytes = match v {
                rusqlite::types::Value::Blob(b) => b,
                rusqlite::types::Value::Text(t) => t.into_bytes(),
                _ => Vec::new(),
            };
            Ok((id, bytes))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Applies a batch of upserts and deletes in one transaction.
    pub fn apply(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for (id, sealed) in &batch.keys {
            tx.execute(
                "INSERT OR REPLACE INTO keys (id, sealed) VALUES (?1, ?2)",
                params![id, sealed],
            )?;
        }
        for id in &batch.deleted_keys {
            tx.execute("DELETE FROM keys WHERE id = ?1", params![id])?;
        }
        for (name, doc) in &batch.aliases {
            tx.execute(
                "INSERT OR REPLACE INTO aliases (name, doc) VALUES (?1, ?2)",
                params![name, doc],
            )?;
        }
        for name in &batch.deleted_aliases {
            tx.execute("DELETE FROM aliases WHERE name = ?1", params![name])?;
        }
        for (id, doc) in &batch.grants {
            tx.execute(
                "INSERT OR REPLACE INTO grants (id, doc) VALUES (?1, ?2)",
                params![id, doc],
            )?;
        }
        for id in &batch.deleted_grants {
            tx.execute("DELETE FROM grants WHERE id = ?1", params![id])?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Changes to persist together.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Sealed key records.
    pub keys: Vec<(String, Vec<u8>)>,
    /// Deleted key ids.
    pub deleted_keys: Vec<String>,
    /// Alias documents.
    pub aliases: Vec<(String, String)>,
    /// Deleted alias names.
    pub deleted_aliases: Vec<String>,
    /// Grant documents.
    pub grants: Vec<(String, String)>,
    /// Deleted grant ids.
    pub deleted_grants: Vec<String>,
}

impl Batch {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.deleted_keys.is_empty()
            && self.aliases.is_empty()
            && self.deleted_aliases.is_empty()
            && self.grants.is_empty()
            && self.deleted_grants.is_empty()
    }
}
