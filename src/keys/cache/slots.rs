//! The key slots of a [`DataKeyCache`]: plaintext data keys in one [`LockedBuf`]
//! (`capacity` x 32 bytes, allocated and `mlock`ed once), the entries that point into it,
//! and their least-recently-used order. A slot is zeroized whenever its entry goes
//! (eviction, expiry, `clear`).

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zeroize::Zeroize;

use super::flight::{Flight, FlightId};
use super::DataKeyCache;
use crate::crypto::{DataKey, KEY_LEN};
use crate::format::KeyKind;
use crate::io::LockedBuf;
use crate::keys::{KeyContext, KeyError, WrappedKey};

/// An unwrap cache key: the wrapping and the canonical context.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct EntryKey {
    kind: KeyKind,
    key_id: String,
    blob: Vec<u8>,
    ctx: Vec<u8>,
}

impl Hash for EntryKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // `kind` is left out (KeyKind is not `Hash`); equal keys still hash equally.
        self.key_id.hash(state);
        self.blob.hash(state);
        self.ctx.hash(state);
    }
}

impl EntryKey {
    pub(super) fn new(w: &WrappedKey, ctx: &KeyContext) -> Self {
        EntryKey {
            kind: w.kind,
            key_id: w.key_id.clone(),
            blob: w.blob.clone(),
            ctx: ctx.canonical(),
        }
    }

    pub(super) fn wrapped(&self) -> WrappedKey {
        WrappedKey {
            kind: self.kind,
            key_id: self.key_id.clone(),
            blob: self.blob.clone(),
        }
    }
}

/// A cached key: where it lives and what it has been used for.
pub(super) struct Entry {
    pub(super) slot: usize,
    pub(super) created: Instant,
    /// LRU position (key of `State::lru`).
    tick: u64,
    /// New volumes served (reuse mode).
    pub(super) uses: u64,
    /// Bytes recorded against the key (reuse mode).
    pub(super) bytes: u64,
}

/// Everything behind the cache's lock.
pub(super) struct State {
    /// `capacity` slots of `KEY_LEN` bytes.
    pub(super) keys: LockedBuf,
    free: Vec<usize>,
    pub(super) entries: HashMap<EntryKey, Entry>,
    lru: BTreeMap<u64, EntryKey>,
    tick: u64,
    /// Shared context (canonical) -> the entry new volumes currently get.
    pub(super) reuse: HashMap<Vec<u8>, EntryKey>,
    pub(super) flights: HashMap<FlightId, Arc<Flight>>,
}

/// True when an entry created at `created` is `max_age` old at `now`.
pub(super) fn expired(created: Instant, now: Instant, max_age: Duration) -> bool {
    now.checked_duration_since(created)
        .is_some_and(|age| age >= max_age)
}

/// A fresh copy of `k` for a caller.
pub(super) fn copy_key(k: &DataKey) -> Result<DataKey, KeyError> {
    Ok(DataKey::from_slice(k.expose())?)
}

/// A fresh [`DataKey`] from a slot's bytes.
pub(super) fn copy_key_from(bytes: &[u8]) -> Result<DataKey, KeyError> {
    Ok(DataKey::from_slice(bytes)?)
}

impl State {
    /// An empty state over `keys`, which holds `capacity` slots.
    pub(super) fn new(keys: LockedBuf, capacity: usize) -> Self {
        State {
            keys,
            free: (0..capacity).rev().collect(),
            entries: HashMap::new(),
            lru: BTreeMap::new(),
            tick: 0,
            reuse: HashMap::new(),
            flights: HashMap::new(),
        }
    }

    pub(super) fn slot(&self, slot: usize) -> &[u8] {
        &self.keys.as_slice()[slot * KEY_LEN..(slot + 1) * KEY_LEN]
    }

    /// Removes an entry, wiping its slot.
    pub(super) fn remove(&mut self, key: &EntryKey) {
        if let Some(e) = self.entries.remove(key) {
            self.keys.as_mut_slice()[e.slot * KEY_LEN..(e.slot + 1) * KEY_LEN].zeroize();
            self.free.push(e.slot);
            self.lru.remove(&e.tick);
            self.reuse.retain(|_, k| k != key);
        }
    }

    pub(super) fn touch(&mut self, key: &EntryKey) {
        self.tick += 1;
        let tick = self.tick;
        if let Some(e) = self.entries.get_mut(key) {
            self.lru.remove(&e.tick);
            e.tick = tick;
            self.lru.insert(tick, key.clone());
        }
    }

    /// Drops every entry older than `max_age`; returns how many.
    pub(super) fn purge(&mut self, now: Instant, max_age: Duration) -> u64 {
        let old: Vec<EntryKey> = self
            .entries
            .iter()
            .filter(|(_, e)| expired(e.created, now, max_age))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &old {
            self.remove(k);
        }
        old.len() as u64
    }

    /// Stores `dk` under `key`, evicting the least recently used entry if full. Returns the
    /// number of evictions (0 or 1), or `None` when the cache has no slots.
    fn insert(
        &mut self,
        key: EntryKey,
        dk: &DataKey,
        now: Instant,
        uses: u64,
        bytes: u64,
    ) -> Option<u64> {
        self.remove(&key);
        let mut evicted = 0;
        if self.free.is_empty() {
            let oldest = self.lru.first_key_value().map(|(_, k)| k.clone())?;
            self.remove(&oldest);
            evicted = 1;
        }
        let slot = self.free.pop()?;
        self.keys.as_mut_slice()[slot * KEY_LEN..(slot + 1) * KEY_LEN].copy_from_slice(dk.expose());
        self.tick += 1;
        self.lru.insert(self.tick, key.clone());
        self.entries.insert(
            key,
            Entry {
                slot,
                created: now,
                tick: self.tick,
                uses,
                bytes,
            },
        );
        Some(evicted)
    }
}

impl DataKeyCache {
    /// Inserts under the lock, counting evictions and expirations. False when the cache has
    /// no slots (nothing was stored).
    pub(super) fn store(
        &self,
        st: &mut State,
        key: EntryKey,
        dk: &DataKey,
        now: Instant,
        uses: u64,
        bytes: u64,
    ) -> bool {
        let expired = st.purge(now, self.limits.max_age);
        self.expirations.fetch_add(expired, Ordering::Relaxed);
        match st.insert(key, dk, now, uses, bytes) {
            Some(evicted) => {
                self.evictions.fetch_add(evicted, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
impl DataKeyCache {
    /// The slot of the cached key for (`wrapped`, `ctx`), if cached.
    pub(super) fn slot_of(&self, wrapped: &WrappedKey, ctx: &KeyContext) -> Option<usize> {
        super::lock(&self.state)
            .entries
            .get(&EntryKey::new(wrapped, ctx))
            .map(|e| e.slot)
    }

    /// A copy of slot `slot`'s bytes.
    pub(super) fn slot_bytes(&self, slot: usize) -> [u8; KEY_LEN] {
        let mut out = [0u8; KEY_LEN];
        out.copy_from_slice(super::lock(&self.state).slot(slot));
        out
    }

    /// True when `key` appears anywhere in the slot buffer.
    pub(super) fn buffer_contains(&self, key: &[u8; KEY_LEN]) -> bool {
        super::lock(&self.state)
            .keys
            .as_slice()
            .chunks(KEY_LEN)
            .any(|c| c == key)
    }

    /// True when every slot byte is zero.
    pub(super) fn buffer_is_zero(&self) -> bool {
        super::lock(&self.state)
            .keys
            .as_slice()
            .iter()
            .all(|&b| b == 0)
    }
}
