//! The server's state: every key, alias and grant in memory behind one lock, written through
//! to the keystore on every change.
//!
//! Readers (Encrypt, Decrypt, GenerateDataKey: the hot path) share a read lock and touch no
//! storage. A writer mutates the state and lists what it changed in a [`Changes`]; the changes
//! are sealed and committed to SQLite in one transaction before the lock is released, so what
//! the API has acknowledged is on disk.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};

use super::model::KeyRecord;
use super::persist;
use super::store::{Batch, Store, StoreError};
use crate::kms::wire::{ErrorCode, KmsError};

/// An alias.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Alias {
    /// `alias/<name>`.
    pub name: String,
    /// The key id it points to.
    pub target_key_id: String,
    /// Creation time (epoch seconds).
    pub created: u64,
    /// Last update time.
    pub updated: u64,
}

/// A grant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Grant {
    /// Grant id.
    pub id: String,
    /// Grant token.
    pub token: String,
    /// The key id.
    pub key_id: String,
    /// Grantee principal ARN.
    pub grantee: String,
    /// Retiring principal ARN.
    pub retiring: Option<String>,
    /// Who created it.
    pub issuer: String,
    /// Allowed operation names (`Decrypt`, `GenerateDataKey`, ...).
    pub operations: Vec<String>,
    /// EncryptionContextSubset constraint.
    pub context_subset: Option<BTreeMap<String, String>>,
    /// EncryptionContextEquals constraint.
    pub context_equals: Option<BTreeMap<String, String>>,
    /// Optional name.
    pub name: Option<String>,
    /// Creation time.
    pub created: u64,
}

/// Everything in memory.
#[derive(Debug, Default)]
pub struct State {
    /// Keys by key id.
    pub keys: HashMap<String, KeyRecord>,
    /// Aliases by name.
    pub aliases: BTreeMap<String, Alias>,
    /// Grants by id.
    pub grants: BTreeMap<String, Grant>,
}

/// What a write changed, to persist.
#[derive(Debug, Default)]
pub struct Changes {
    keys: Vec<String>,
    deleted_keys: Vec<String>,
    aliases: Vec<String>,
    deleted_aliases: Vec<String>,
    grants: Vec<String>,
    deleted_grants: Vec<String>,
}

impl Changes {
    /// Key `id` was created or changed.
    pub fn key(&mut self, id: &str) {
        self.keys.push(id.to_owned());
    }
    /// Key `id` was deleted.
    pub fn key_deleted(&mut self, id: &str) {
        self.deleted_keys.push(id.to_owned());
    }
    /// Alias `name` was created or changed.
    pub fn alias(&mut self, name: &str) {
        self.aliases.push(name.to_owned());
    }
    /// Alias `name` was deleted.
    pub fn alias_deleted(&mut self, name: &str) {
        self.deleted_aliases.push(name.to_owned());
    }
    /// Grant `id` was created or changed.
    pub fn grant(&mut self, id: &str) {
        self.grants.push(id.to_owned());
    }
    /// Grant `id` was deleted.
    pub fn grant_deleted(&mut self, id: &str) {
        self.deleted_grants.push(id.to_owned());
    }
}

/// The state plus its keystore.
pub struct Registry {
    state: RwLock<State>,
    store: Mutex<Store>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registry")
    }
}

fn internal(e: impl std::fmt::Display) -> KmsError {
    KmsError::internal(format!("keystore: {e}"))
}

impl Registry {
    /// Loads everything from `store`.
    pub(crate) fn load(store: Store) -> Result<Self, StoreError> {
        let mut state = State::default();
        for (id, sealed) in store.load("keys")? {
            let json = store.unseal("keys", &id, &sealed)?;
            state.keys.insert(id, persist::decode(json.expose())?);
        }
        for (name, doc) in store.load("aliases")? {
            let a: Alias =
                serde_json::from_slice(&doc).map_err(|e| StoreError::Record(e.to_string()))?;
            state.aliases.insert(name, a);
        }
        for (id, doc) in store.load("grants")? {
            let g: Grant =
                serde_json::from_slice(&doc).map_err(|e| StoreError::Record(e.to_string()))?;
            state.grants.insert(id, g);
        }
        Ok(Registry {
            state: RwLock::new(state),
            store: Mutex::new(store),
        })
    }

    /// Runs `f` under the read lock.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        f(&s)
    }

    /// Runs `f` under the write lock and persists what it reports changed before returning.
    pub fn write<R>(
        &self,
        f: impl FnOnce(&mut State, &mut Changes) -> Result<R, KmsError>,
    ) -> Result<R, KmsError> {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        let mut changes = Changes::default();
        let out = f(&mut s, &mut changes)?;
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let mut batch = Batch::default();
        for id in changes.keys {
            if let Some(rec) = s.keys.get(&id) {
                let doc = persist::encode(rec).map_err(internal)?;
                batch
                    .keys
                    .push((id.clone(), store.seal("keys", &id, &doc).map_err(internal)?));
            }
        }
        batch.deleted_keys = changes.deleted_keys;
        for name in changes.aliases {
            if let Some(a) = s.aliases.get(&name) {
                batch
                    .aliases
                    .push((name, serde_json::to_string(a).map_err(internal)?));
            }
        }
        batch.deleted_aliases = changes.deleted_aliases;
        for id in changes.grants {
            if let Some(g) = s.grants.get(&id) {
                batch
                    .grants
                    .push((id, serde_json::to_string(g).map_err(internal)?));
            }
        }
        batch.deleted_grants = changes.deleted_grants;
        if !batch.is_empty() {
            store.apply(&batch).map_err(internal)?;
        }
        Ok(out)
    }
}

impl State {
    /// Resolves a `KeyId` member (key id, key ARN, alias name or alias ARN) to a key id.
    pub fn resolve(&self, key_id: &str) -> Result<String, KmsError> {
        let not_found = || {
            KmsError::new(
                ErrorCode::NotFound,
                format!("Key '{key_id}' does not exist"),
            )
        };
        let alias_name = if let Some(rest) = key_id.strip_prefix("arn:") {
            match rest.split_once(":alias/") {
                Some((_, name)) => Some(format!("alias/{name}")),
                None => {
                    let id = rest.rsplit_once(":key/").map(|(_, id)| id).ok_or_else(|| {
                        KmsError::new(ErrorCode::InvalidArn, format!("Invalid arn {key_id}"))
                    })?;
                    return self
                        .keys
                        .get(id)
                        .filter(|k| k.arn == key_id)
                        .map(|k| k.key_id())
                        .ok_or_else(not_found);
                }
            }
        } else if key_id.starts_with("alias/") {
            Some(key_id.to_owned())
        } else {
            None
        };
        match alias_name {
            Some(name) => self
                .aliases
                .get(&name)
                .map(|a| a.target_key_id.clone())
                .ok_or_else(|| {
                    KmsError::new(ErrorCode::NotFound, format!("Alias {key_id} is not found."))
                }),
            None if self.keys.contains_key(key_id) => Ok(key_id.to_owned()),
            None => Err(not_found()),
        }
    }

    /// The key a `KeyId` member names.
    pub fn key(&self, key_id: &str) -> Result<&KeyRecord, KmsError> {
        let id = self.resolve(key_id)?;
        self.keys.get(&id).ok_or_else(|| {
            KmsError::new(
                ErrorCode::NotFound,
                format!("Key '{key_id}' does not exist"),
            )
        })
    }

    /// The key a `KeyId` member names, mutably.
    pub fn key_mut(&mut self, key_id: &str) -> Result<&mut KeyRecord, KmsError> {
        let id = self.resolve(key_id)?;
        self.keys.get_mut(&id).ok_or_else(|| {
            KmsError::new(
                ErrorCode::NotFound,
                format!("Key '{key_id}' does not exist"),
            )
        })
    }
}
