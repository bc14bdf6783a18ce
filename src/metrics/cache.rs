//! The `volcrypt_key_cache_*` families: the last [`CacheMetrics`] snapshot given to
//! [`super::Metrics::set_cache`], rendered by a custom [`Collector`] at scrape time.
//!
//! The cache keeps its own monotonic counters; mirroring them as `ConstCounter`s renders
//! exactly the cache's values, with no delta bookkeeping (a replaced cache that restarts
//! from zero is an ordinary counter reset to Prometheus). Until the first snapshot nothing is
//! rendered, so a daemon without a cache shows no cache families.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::keys::CacheMetrics;

/// The last snapshot, field by field (a scrape may mix two snapshots; each value is still
/// one the cache reported).
#[derive(Debug, Default)]
pub(super) struct CacheState {
    present: AtomicBool,
    hits: AtomicU64,
    misses: AtomicU64,
    coalesced: AtomicU64,
    evictions: AtomicU64,
    expirations: AtomicU64,
    entries: AtomicU64,
}

impl CacheState {
    /// Stores snapshot `m`.
    pub(super) fn set(&self, m: &CacheMetrics) {
        self.hits.store(m.hits, Ordering::Relaxed);
        self.misses.store(m.misses, Ordering::Relaxed);
        self.coalesced.store(m.coalesced, Ordering::Relaxed);
        self.evictions.store(m.evictions, Ordering::Relaxed);
        self.expirations.store(m.expirations, Ordering::Relaxed);
        let entries = u64::try_from(m.entries).unwrap_or(u64::MAX);
        self.entries.store(entries, Ordering::Relaxed);
        self.present.store(true, Ordering::Release);
    }
}

/// Renders a [`CacheState`] (registered once in the registry).
#[derive(Debug)]
pub(super) struct CacheCollector(pub(super) Arc<CacheState>);

impl Collector for CacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.0;
        if !s.present.load(Ordering::Acquire) {
            return Ok(());
        }
        let counters = [
            (
                "volcrypt_key_cache_hits",
                "Data-key requests served from the cache",
                &s.hits,
            ),
            (
                "volcrypt_key_cache_misses",
                "Data-key requests that made the inner provider call",
                &s.misses,
            ),
            (
                "volcrypt_key_cache_coalesced",
                "Data-key requests that waited for an identical in-flight call",
                &s.coalesced,
            ),
            (
                "volcrypt_key_cache_evictions",
                "Cache entries pushed out by capacity",
                &s.evictions,
            ),
            (
                "volcrypt_key_cache_expirations",
                "Cache entries dropped for age",
                &s.expirations,
            ),
        ];
        for (name, help, value) in counters {
            let c = ConstCounter::new(value.load(Ordering::Relaxed));
            c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)?;
        }
        let entries = s.entries.load(Ordering::Relaxed);
        let g = ConstGauge::new(i64::try_from(entries).unwrap_or(i64::MAX));
        g.encode(encoder.encode_descriptor(
            "volcrypt_key_cache_entries",
            "Data keys now cached",
            None,
            g.metric_type(),
        )?)?;
        Ok(())
    }
}
