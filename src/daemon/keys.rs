//! Where jobs get their keys: key files named by the job, or KMS as the daemon's `[kms]`
//! section configures it, through one [`DataKeyCache`] per KMS key shared by every job.
//!
//! KMS clients are expensive to build (an SDK config load and a runtime each), so one client
//! per KMS key id is built on first use and kept; every KMS call goes through the metrics
//! wrapper ([`Metrics::instrument`]) and the cache. SIGHUP replaces the caches with new
//! limits ([`KeySource::reload`]): keys cached so far are dropped (and zeroized), jobs
//! already running keep the cache they hold until they finish.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use super::config::KmsConfig;
use crate::keys::{
    CacheLimits, CacheMetrics, DataKeyCache, FileKeyProvider, KeyError, KeyProvider,
    KmsKeyProvider, KmsOptions,
};
use crate::metrics::Metrics;

struct State {
    limits: CacheLimits,
    /// One cache (over one instrumented KMS client) per key id; `None`: the key recorded in
    /// the volume (or the default key for new volumes).
    caches: HashMap<Option<String>, Arc<DataKeyCache>>,
    /// Hits and other counters of caches replaced by a reload, so the metrics stay monotonic.
    retired: Vec<CacheMetrics>,
}

/// The daemon's key providers. See the module docs.
pub struct KeySource {
    kms: KmsConfig,
    metrics: Arc<Metrics>,
    state: Mutex<State>,
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySource")
            .field("kms", &self.kms)
            .finish_non_exhaustive()
    }
}

impl KeySource {
    /// Key providers for `kms`, caching under `limits`.
    pub fn new(kms: KmsConfig, limits: CacheLimits, metrics: Arc<Metrics>) -> KeySource {
        KeySource {
            kms,
            metrics,
            state: Mutex::new(State {
                limits,
                caches: HashMap::new(),
                retired: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A map of shared handles: valid after any panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The configured default KMS key for new volumes, if any.
    pub fn default_key(&self) -> Option<&str> {
        self.kms.key.as_deref()
    }

    /// A key file's provider.
    pub fn file(&self, path: &Path) -> Result<Arc<dyn KeyProvider>, KeyError> {
        Ok(Arc::new(FileKeyProvider::load(path)?))
    }

    /// The cached KMS provider for `key_id` (`None`: the key the volume records).
    pub fn kms(&self, key_id: Option<&str>) -> Result<Arc<dyn KeyProvider>, KeyError> {
        let id = key_id.map(str::to_owned);
        let limits = {
            let s = self.lock();
            if let Some(c) = s.caches.get(&id) {
                return Ok(Arc::clone(c) as Arc<dyn KeyProvider>);
            }
            s.limits.clone()
        };
        // Built outside the lock: loading the SDK config may take a moment.
        let opts = KmsOptions {
            key_id: id.clone(),
            endpoint: self.kms.endpoint.clone(),
            region: self.kms.region.clone(),
            profile: self.kms.profile.clone(),
            ca_bundle: self.kms.ca_bundle.clone(),
            timeout: self.kms.timeout,
            ..KmsOptions::default()
        };
        let client = Arc::new(KmsKeyProvider::new(opts)?);
        let cache = Arc::new(DataKeyCache::new(self.metrics.instrument(client), limits));
        if let Some(w) = cache.mlock_warning() {
            tracing::warn!(warning = %w, "data-key cache");
        }
        let mut s = self.lock();
        let c = s.caches.entry(id).or_insert(cache);
        Ok(Arc::clone(c) as Arc<dyn KeyProvider>)
    }

    /// New cache limits: every cache is replaced (its keys dropped) and the next call builds
    /// a fresh one.
    pub fn reload(&self, limits: CacheLimits) {
        let mut s = self.lock();
        let old: Vec<_> = s.caches.drain().map(|(_, c)| c).collect();
        for c in old {
            let mut m = c.metrics();
            m.entries = 0;
            s.retired.push(m);
            c.clear();
        }
        s.limits = limits;
    }

    /// The caches' counters, summed (replaced caches included).
    pub fn cache_metrics(&self) -> Option<CacheMetrics> {
        let s = self.lock();
        let mut all = s
            .caches
            .values()
            .map(|c| c.metrics())
            .chain(s.retired.iter().cloned());
        let mut sum = all.next()?;
        for m in all {
            sum.hits += m.hits;
            sum.misses += m.misses;
            sum.coalesced += m.coalesced;
            sum.evictions += m.evictions;
            sum.expirations += m.expirations;
            sum.entries += m.entries;
        }
        Some(sum)
    }
}
