//! The counters of a [`DataKeyCache`]: [`CacheMetrics`] (hits, misses, coalesced waits,
//! evictions, expirations), [`InnerCalls`] per operation, an HDR histogram of inner-call
//! latency in microseconds ([`LatencySummary`]), and failed calls by error code
//! ([`error_code`]). Every inner call goes through [`DataKeyCache::timed`].

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use hdrhistogram::Histogram;

use super::{lock, DataKeyCache};
use crate::keys::KeyError;

/// Inner-provider calls per operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct InnerCalls {
    /// `generate` (KMS `GenerateDataKey`).
    pub generate: u64,
    /// `unwrap` (KMS `Decrypt`).
    pub unwrap: u64,
    /// `wrap` (KMS `Encrypt`).
    pub wrap: u64,
    /// `rewrap` (KMS `ReEncrypt`).
    pub rewrap: u64,
}

impl InnerCalls {
    /// All inner calls.
    pub fn total(&self) -> u64 {
        self.generate + self.unwrap + self.wrap + self.rewrap
    }
}

/// Latency percentiles of inner calls, in microseconds (0 when there were none).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct LatencySummary {
    /// Calls recorded.
    pub count: u64,
    /// Median.
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Slowest.
    pub max_us: u64,
    /// Mean.
    pub mean_us: f64,
}

/// A snapshot of a cache's counters.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CacheMetrics {
    /// Requests served from the cache (unwrap hits, and data keys reused for new volumes).
    pub hits: u64,
    /// Requests that made the inner call themselves (generate pass-through not included).
    pub misses: u64,
    /// Requests that waited for an identical in-flight inner call and took its result.
    pub coalesced: u64,
    /// Entries pushed out by capacity.
    pub evictions: u64,
    /// Entries dropped for age.
    pub expirations: u64,
    /// Entries now cached.
    pub entries: usize,
    /// Inner calls per operation, failed ones included.
    pub inner_calls: InnerCalls,
    /// Failed inner calls by code: the KMS error code (`DisabledException`,
    /// `InvalidResponse`, ...), `Unreachable`, `Config`, `WrongKey`, `KeyFile`,
    /// `ProviderMismatch`, `Crypto`.
    pub errors: BTreeMap<String, u64>,
    /// Inner-call latency summary.
    pub latency: LatencySummary,
    /// Inner-call latency histogram, microseconds.
    #[serde(skip)]
    pub latency_us: Histogram<u64>,
}

impl CacheMetrics {
    /// All inner calls.
    pub fn calls_total(&self) -> u64 {
        self.inner_calls.total()
    }

    /// Median inner-call latency (µs).
    pub fn p50_us(&self) -> u64 {
        self.latency.p50_us
    }

    /// 99th-percentile inner-call latency (µs).
    pub fn p99_us(&self) -> u64 {
        self.latency.p99_us
    }

    /// Slowest inner call (µs).
    pub fn max_us(&self) -> u64 {
        self.latency.max_us
    }
}

/// The highest latency the histogram resolves (one hour); slower calls count as this.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// An inner-provider operation, for [`InnerCalls`].
#[derive(Clone, Copy)]
pub(super) enum Op {
    Generate,
    Unwrap,
    Wrap,
    Rewrap,
}

/// The counters behind [`CacheMetrics`] that need a lock.
pub(super) struct CallStats {
    calls: InnerCalls,
    errors: BTreeMap<String, u64>,
    latency: Histogram<u64>,
}

impl CallStats {
    /// No calls yet.
    pub(super) fn new() -> Self {
        #[allow(clippy::expect_used)]
        let latency = Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
            .expect("constant histogram bounds are valid (1 <= low, 2 * low <= high, 3 digits)");
        CallStats {
            calls: InnerCalls::default(),
            errors: BTreeMap::new(),
            latency,
        }
    }
}

/// The code under which an error is counted in [`CacheMetrics::errors`] ([`KeyError::code`]).
pub(super) fn error_code(e: &KeyError) -> String {
    e.code().to_owned()
}

impl DataKeyCache {
    /// A snapshot of the counters.
    pub fn metrics(&self) -> CacheMetrics {
        let entries = self.len();
        let s = lock(&self.stats);
        let h = &s.latency;
        let latency = if h.is_empty() {
            LatencySummary::default()
        } else {
            LatencySummary {
                count: h.len(),
                p50_us: h.value_at_quantile(0.50),
                p99_us: h.value_at_quantile(0.99),
                max_us: h.max(),
                mean_us: h.mean(),
            }
        };
        CacheMetrics {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            coalesced: self.coalesced.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            expirations: self.expirations.load(Ordering::Relaxed),
            entries,
            inner_calls: s.calls,
            errors: s.errors.clone(),
            latency,
            latency_us: s.latency.clone(),
        }
    }

    /// Runs one inner call, counting it and timing it.
    pub(super) fn timed<T>(
        &self,
        op: Op,
        f: impl FnOnce() -> Result<T, KeyError>,
    ) -> Result<T, KeyError> {
        let t = Instant::now();
        let r = f();
        let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
        let mut s = lock(&self.stats);
        let c = &mut s.calls;
        match op {
            Op::Generate => c.generate += 1,
            Op::Unwrap => c.unwrap += 1,
            Op::Wrap => c.wrap += 1,
            Op::Rewrap => c.rewrap += 1,
        }
        s.latency.saturating_record(us.clamp(1, MAX_LATENCY_US));
        if let Err(e) = &r {
            *s.errors.entry(error_code(e)).or_insert(0) += 1;
        }
        r
    }
}
