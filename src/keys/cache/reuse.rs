//! Data-key reuse for new volumes ([`CacheLimits::reuse_data_keys`]): under a shared
//! context, a [`DataKeyCache`] hands the same (data key, wrapped key) to new volumes until
//! the entry has served `max_uses` volumes, is `max_age` old, or has `max_bytes` recorded
//! against it. Generation under a shared context is single-flight, so concurrent creations
//! share one `GenerateDataKey`.
//!
//! [`CacheLimits::reuse_data_keys`]: super::CacheLimits::reuse_data_keys

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::flight::{copy_error, Flight, FlightGuard, FlightId, Outcome};
use super::metrics::Op;
use super::slots::{expired, EntryKey, State};
use super::{lock, DataKeyCache};
use crate::crypto::DataKey;
use crate::keys::{KeyContext, KeyError, WrappedKey};

/// What a lookup of the reuse pool found.
enum Reuse {
    Got(DataKey, WrappedKey),
    Expired,
    None,
}

impl DataKeyCache {
    /// A data key for a new volume of `bytes` bytes under `ctx` (what
    /// [`KeyProvider::generate_sized`] does). In reuse mode with a shared context, a cached
    /// key is handed out only if it stays within `max_uses` and `max_bytes` with this volume
    /// counted; otherwise (and for a volume larger than `max_bytes` on its own, which gets a
    /// key no other volume shares) a new one is made. Elsewhere the same as
    /// [`KeyProvider::generate`].
    ///
    /// [`KeyProvider::generate_sized`]: crate::keys::KeyProvider::generate_sized
    /// [`KeyProvider::generate`]: crate::keys::KeyProvider::generate
    pub fn generate_for_bytes(
        &self,
        ctx: &KeyContext,
        bytes: u64,
    ) -> Result<(DataKey, WrappedKey), KeyError> {
        if !(self.limits.reuse_data_keys && ctx.shared) {
            return self.timed(Op::Generate, || self.inner.generate(ctx));
        }
        self.generate_shared(ctx, bytes)
    }

    /// Records `bytes` of data encrypted under the cached key `wrapped` (made for `ctx`).
    /// Once an entry's bytes reach `max_bytes` it is no longer handed to new volumes.
    /// Returns false when the key is not (or no longer) cached.
    pub fn record_bytes(&self, wrapped: &WrappedKey, ctx: &KeyContext, bytes: u64) -> bool {
        let key = EntryKey::new(wrapped, ctx);
        let mut st = lock(&self.state);
        let Some(e) = st.entries.get_mut(&key) else {
            return false;
        };
        e.bytes = e.bytes.saturating_add(bytes);
        if e.bytes >= self.limits.max_bytes {
            st.reuse.retain(|_, k| *k != key);
        }
        true
    }

    /// Looks up the data key currently handed to new volumes under `pool`, taking one use
    /// (and `bytes`) of it.
    fn take_reuse(&self, st: &mut State, pool: &[u8], now: Instant, bytes: u64) -> Reuse {
        let Some(key) = st.reuse.get(pool).cloned() else {
            return Reuse::None;
        };
        let l = &self.limits;
        let Some(e) = st.entries.get_mut(&key) else {
            st.reuse.remove(pool);
            return Reuse::None;
        };
        if expired(e.created, now, l.max_age) {
            st.remove(&key);
            return Reuse::Expired;
        }
        if e.uses >= l.max_uses || e.bytes.saturating_add(bytes) > l.max_bytes {
            st.reuse.remove(pool);
            return Reuse::None;
        }
        e.uses += 1;
        e.bytes = e.bytes.saturating_add(bytes);
        let spent = e.uses >= l.max_uses || e.bytes >= l.max_bytes;
        let slot = e.slot;
        if spent {
            st.reuse.remove(pool);
        }
        st.touch(&key);
        match DataKey::from_slice(st.slot(slot)) {
            Ok(dk) => Reuse::Got(dk, key.wrapped()),
            Err(_) => Reuse::None,
        }
    }

    /// `generate` under a shared context in reuse mode.
    fn generate_shared(
        &self,
        ctx: &KeyContext,
        bytes: u64,
    ) -> Result<(DataKey, WrappedKey), KeyError> {
        let l = &self.limits;
        let pool = ctx.canonical();
        let reusable = l.capacity > 0 && l.max_uses > 1 && bytes <= l.max_bytes;
        loop {
            let id = FlightId::Generate(pool.clone());
            let waiting = {
                let mut st = lock(&self.state);
                let now = (self.clock)();
                if reusable {
                    match self.take_reuse(&mut st, &pool, now, bytes) {
                        Reuse::Got(dk, w) => {
                            self.hits.fetch_add(1, Ordering::Relaxed);
                            return Ok((dk, w));
                        }
                        Reuse::Expired => {
                            self.expirations.fetch_add(1, Ordering::Relaxed);
                        }
                        Reuse::None => {}
                    }
                }
                match st.flights.get(&id) {
                    Some(f) if reusable => {
                        self.coalesced.fetch_add(1, Ordering::Relaxed);
                        Some(Arc::clone(f))
                    }
                    _ => {
                        self.misses.fetch_add(1, Ordering::Relaxed);
                        if reusable {
                            st.flights.insert(id.clone(), Flight::new());
                        }
                        None
                    }
                }
            };
            if let Some(f) = waiting {
                // The leader's key is now in the pool (or it failed): look again.
                f.wait()?;
                continue;
            }
            let guard = FlightGuard::new(self, if reusable { Some(id) } else { None });
            let result = self.timed(Op::Generate, || self.inner.generate(ctx));
            let mut st = lock(&self.state);
            return match result {
                Ok((dk, wrapped)) => {
                    let key = EntryKey::new(&wrapped, ctx);
                    let now = (self.clock)();
                    if self.store(&mut st, key.clone(), &dk, now, 1, bytes)
                        && reusable
                        && bytes < l.max_bytes
                    {
                        st.reuse.insert(pool, key);
                    }
                    guard.finish(st, Outcome::Ok(None));
                    Ok((dk, wrapped))
                }
                Err(e) => {
                    guard.finish(st, Outcome::Failed(copy_error(&e)));
                    Err(e)
                }
            };
        }
    }
}
