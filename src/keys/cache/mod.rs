//! [`DataKeyCache`]: a [`KeyProvider`] in front of another one (normally the KMS provider)
//! that keeps recently used plaintext data keys, so opening the same volume again, or many
//! volumes at once, costs one KMS call instead of one per open.
//!
//! What it does:
//! - **Unwrap cache.** Entries are keyed by (wrapping kind, wrapping key id, ciphertext blob,
//!   canonical encryption context). A hit returns a fresh [`DataKey`] copy and the inner
//!   provider is not called; a miss calls it once and keeps the result. A hit is not
//!   re-authorized by the key service: a key disabled or a grant revoked after the call
//!   still serves cached opens until the entry expires (`max_age` bounds that window, as in
//!   the Encryption SDK's caching CMM).
//! - **Single flight** (`flight`). Concurrent identical requests share one inner call: the
//!   first caller makes it, the others wait on a per-request slot (a `Mutex` + `Condvar`)
//!   and take its result. If it fails, every waiter gets an equivalent error and nothing is
//!   cached. [`KeyError`] is not `Clone`, so waiters get a re-created copy: the same variant
//!   with the same fields (a `Crypto` error keeps its kind); a variant this module does not
//!   know becomes `KeyError::Kms { code, message }` with the original's code (see
//!   [`CacheMetrics::errors`]) and message.
//! - **Data-key reuse for new volumes** (`reuse`; [`CacheLimits::reuse_data_keys`], off by
//!   default, like the AWS Encryption SDK's caching CMM). When on,
//!   [`KeyProvider::shares_data_keys`] is true, the engine asks for keys under the shared
//!   context ([`KeyContext::shared`]), and `generate` hands the same (data key, wrapped key)
//!   to new volumes until the entry has served [`CacheLimits::max_uses`] volumes, is
//!   [`CacheLimits::max_age`] old, or has [`CacheLimits::max_bytes`] recorded against it;
//!   then the next volume gets a new one. Creating N volumes therefore makes at most
//!   `ceil(N / max_uses)` (`<= N / max_uses + 1`) `GenerateDataKey` calls while no key
//!   expires or is evicted meanwhile, concurrent creations included (generation is
//!   single-flight too). Each volume still gets unique keys, because the key schedule salts
//!   them with the volume UUID. Generated shared keys also go into the unwrap cache, so
//!   opening those volumes later is a hit. Non-shared contexts, or reuse off: `generate` is
//!   a pass-through (counted in the metrics, never cached).
//! - **Limits.** `capacity` and `max_age` apply to every entry (least recently used first
//!   out; an expired entry is dropped when next looked up, on every insertion, and by
//!   [`DataKeyCache::purge_expired`]). `max_uses` and `max_bytes` govern only reuse for new
//!   volumes (as in the Encryption SDK, whose message/byte limits apply to encryption
//!   materials): an entry that reached them still serves unwraps of the volumes it was
//!   given to. Bytes: the engine creates a volume through [`KeyProvider::generate_sized`]
//!   with its data size, which the cache answers with [`DataKeyCache::generate_for_bytes`]
//!   (checked before handing the key out, like the SDK's plaintext length: a key is only
//!   reused if `bytes so far + this volume <= max_bytes`). Plain [`KeyProvider::generate`]
//!   does not know the size and counts 0 bytes; bytes can also be reported after the fact
//!   with [`DataKeyCache::record_bytes`].
//! - **Key storage** (`slots`). Plaintext keys live only in slots of one [`LockedBuf`]
//!   (`capacity` x 32 bytes, allocated and `mlock`ed once). A slot is zeroized when its
//!   entry is evicted, expires or is cleared, and the whole buffer when the cache is dropped. If `mlock` is refused (`RLIMIT_MEMLOCK`), the
//!   cache still works and [`DataKeyCache::mlock_warning`] says so, for the CLI to print.
//!   Keys handed out are ordinary [`DataKey`]s (zeroized on drop by their owner).
//! - **Metrics** (`metrics`; [`DataKeyCache::metrics`]): hits, misses, coalesced waits,
//!   evictions, expirations, inner calls per operation, an HDR histogram of inner-call
//!   latency in microseconds, errors by code. `describe` is delegated but not counted: it is
//!   a local string, not a call to the key service, and would skew the latency histogram.
//!
//! It must not do I/O of its own, log, or keep a plaintext key anywhere but its slot buffer
//! (and, for the few microseconds of a single-flight hand-over, the shared result slot).

mod flight;
mod metrics;
mod reuse;
mod slots;

#[cfg(test)]
mod tests_basic;
#[cfg(test)]
mod tests_flight;
#[cfg(test)]
mod tests_reuse;
#[cfg(test)]
mod tests_support;

pub use metrics::{CacheMetrics, InnerCalls, LatencySummary};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{KeyContext, KeyError, KeyProvider, WrappedKey};
use crate::crypto::{DataKey, KEY_LEN};
use crate::io::LockedBuf;
use flight::{copy_error, Flight, FlightGuard, FlightId, Outcome};
use metrics::{CallStats, Op};
use slots::{copy_key, copy_key_from, expired, EntryKey, State};

/// The limits of a [`DataKeyCache`]. The defaults ([`CacheLimits::default`]):
///
/// | field | default | applies to |
/// |---|---|---|
/// | `capacity` | 64 entries | all entries (LRU) |
/// | `max_age` | 5 minutes | all entries |
/// | `max_uses` | 1000 volumes per data key | reuse for new volumes |
/// | `max_bytes` | 2^40 bytes (1 TiB) per data key | reuse for new volumes |
/// | `reuse_data_keys` | `false` | |
/// | `lock_memory` | `true` | |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheLimits {
    /// Entries kept (least recently used out first). 0 disables caching (every request
    /// goes to the inner provider; single flight still applies).
    pub capacity: usize,
    /// Age after which an entry is no longer used.
    pub max_age: Duration,
    /// New volumes one data key may serve in reuse mode (0 or 1: no reuse).
    pub max_uses: u64,
    /// Bytes of data one data key may protect in reuse mode (see the module docs for how
    /// bytes are counted).
    pub max_bytes: u64,
    /// Hand one data key to many new volumes (shared encryption context).
    pub reuse_data_keys: bool,
    /// Try to `mlock` the key slots.
    pub lock_memory: bool,
}

impl Default for CacheLimits {
    fn default() -> Self {
        CacheLimits {
            capacity: 64,
            max_age: Duration::from_secs(300),
            max_uses: 1000,
            max_bytes: 1 << 40,
            reuse_data_keys: false,
            lock_memory: true,
        }
    }
}

/// The time source of a cache (injectable so tests can age entries without sleeping).
pub type CacheClock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// A caching, single-flight [`KeyProvider`] over another provider. See the module docs.
pub struct DataKeyCache {
    inner: Arc<dyn KeyProvider>,
    limits: CacheLimits,
    clock: CacheClock,
    state: Mutex<State>,
    stats: Mutex<CallStats>,
    hits: AtomicU64,
    misses: AtomicU64,
    coalesced: AtomicU64,
    evictions: AtomicU64,
    expirations: AtomicU64,
}

impl std::fmt::Debug for DataKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeyCache")
            .field("inner", &self.inner.describe())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Locks `m`, going on through poisoning (no invariant here survives a panic half-done
/// that a fresh lock would not also see).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The warning for a refused `mlock` (`err` is the OS error).
pub fn mlock_warning_text(err: &str) -> String {
    format!(
        "data keys are not locked in memory (mlock: {err}): they may be swapped out; \
         raise RLIMIT_MEMLOCK (ulimit -l)"
    )
}

impl DataKeyCache {
    /// A cache over `inner` with `limits`, on the system clock.
    pub fn new(inner: Arc<dyn KeyProvider>, limits: CacheLimits) -> Self {
        Self::with_clock(inner, limits, Arc::new(Instant::now))
    }

    /// A cache over `inner` with `limits` whose entries age by `clock` (tests).
    pub fn with_clock(inner: Arc<dyn KeyProvider>, limits: CacheLimits, clock: CacheClock) -> Self {
        let len = limits.capacity.saturating_mul(KEY_LEN);
        let keys = if limits.lock_memory {
            LockedBuf::new(len)
        } else {
            LockedBuf::unlocked(len)
        };
        DataKeyCache {
            inner,
            state: Mutex::new(State::new(keys, limits.capacity)),
            limits,
            clock,
            stats: Mutex::new(CallStats::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            coalesced: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            expirations: AtomicU64::new(0),
        }
    }

    /// The limits this cache was made with.
    pub fn limits(&self) -> &CacheLimits {
        &self.limits
    }

    /// The provider behind the cache.
    pub fn inner(&self) -> &Arc<dyn KeyProvider> {
        &self.inner
    }

    /// True when the key slots are locked in memory.
    pub fn is_locked(&self) -> bool {
        lock(&self.state).keys.is_locked()
    }

    /// The warning to show when the key slots could not be locked in memory; `None` when
    /// they are locked (or locking was not asked for, or the cache holds no keys).
    pub fn mlock_warning(&self) -> Option<String> {
        let st = lock(&self.state);
        st.keys.lock_error().map(mlock_warning_text)
    }

    /// Entries now cached (expired ones not yet purged included).
    pub fn len(&self) -> usize {
        lock(&self.state).entries.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry, wiping the key slots.
    pub fn clear(&self) {
        let mut st = lock(&self.state);
        let keys: Vec<EntryKey> = st.entries.keys().cloned().collect();
        for k in &keys {
            st.remove(k);
        }
    }

    /// Drops the entries older than `max_age`, wiping their slots (a daemon may call this
    /// periodically; lookups and insertions also do it). Returns how many were dropped.
    pub fn purge_expired(&self) -> u64 {
        let now = (self.clock)();
        let n = lock(&self.state).purge(now, self.limits.max_age);
        self.expirations.fetch_add(n, Ordering::Relaxed);
        n
    }
}

impl KeyProvider for DataKeyCache {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn generate(&self, ctx: &KeyContext) -> Result<(DataKey, WrappedKey), KeyError> {
        self.generate_for_bytes(ctx, 0)
    }

    fn generate_sized(
        &self,
        ctx: &KeyContext,
        bytes: u64,
    ) -> Result<(DataKey, WrappedKey), KeyError> {
        self.generate_for_bytes(ctx, bytes)
    }

    fn unwrap(&self, wrapped: &WrappedKey, ctx: &KeyContext) -> Result<DataKey, KeyError> {
        let key = EntryKey::new(wrapped, ctx);
        let id = FlightId::Unwrap(key.clone());
        let waiting = {
            let mut st = lock(&self.state);
            let now = (self.clock)();
            let hit = match st.entries.get(&key) {
                Some(e) if expired(e.created, now, self.limits.max_age) => {
                    st.remove(&key);
                    self.expirations.fetch_add(1, Ordering::Relaxed);
                    None
                }
                Some(e) => Some(e.slot),
                None => None,
            };
            if let Some(slot) = hit {
                st.touch(&key);
                self.hits.fetch_add(1, Ordering::Relaxed);
                return copy_key_from(st.slot(slot));
            }
            match st.flights.get(&id) {
                Some(f) => {
                    self.coalesced.fetch_add(1, Ordering::Relaxed);
                    Some(Arc::clone(f))
                }
                None => {
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    st.flights.insert(id.clone(), Flight::new());
                    None
                }
            }
        };
        if let Some(f) = waiting {
            return match f.wait()? {
                Some(dk) => Ok(dk),
                // Unwrap flights always publish a key on success.
                None => Err(KeyError::KmsConfig(
                    "the shared key provider call returned no key".into(),
                )),
            };
        }
        let guard = FlightGuard::new(self, Some(id));
        let result = self.timed(Op::Unwrap, || self.inner.unwrap(wrapped, ctx));
        let mut st = lock(&self.state);
        match result {
            Ok(dk) => {
                let now = (self.clock)();
                self.store(&mut st, key, &dk, now, 0, 0);
                let shared = copy_key(&dk)?;
                guard.finish(st, Outcome::Ok(Some(shared)));
                Ok(dk)
            }
            Err(e) => {
                guard.finish(st, Outcome::Failed(copy_error(&e)));
                Err(e)
            }
        }
    }

    fn wrap(&self, key: &DataKey, ctx: &KeyContext) -> Result<WrappedKey, KeyError> {
        self.timed(Op::Wrap, || self.inner.wrap(key, ctx))
    }

    fn rewrap(
        &self,
        wrapped: &WrappedKey,
        ctx: &KeyContext,
    ) -> Result<Option<WrappedKey>, KeyError> {
        self.timed(Op::Rewrap, || self.inner.rewrap(wrapped, ctx))
    }

    fn shares_data_keys(&self) -> bool {
        self.limits.reuse_data_keys
    }
}
