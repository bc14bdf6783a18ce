//! Prometheus metrics of the daemon: one [`Metrics`] registry, rendered as OpenMetrics text.
//!
//! Families (durations in seconds, byte counts in bytes):
//!
//! | name | type | labels | fed by |
//! |------|------|--------|--------|
//! | `volcrypt_stage_duration_seconds` | histogram | `op`, `stage` | [`Metrics::observer`] |
//! | `volcrypt_bytes_processed_total` | counter | `op` | [`Metrics::observer`] |
//! | `volcrypt_jobs_started_total` | counter | `op` | [`Metrics::job_started`] |
//! | `volcrypt_jobs_finished_total` | counter | `op`, `state` | [`Metrics::job_finished`] |
//! | `volcrypt_jobs` | gauge | `state` | [`Metrics::set_jobs`] |
//! | `volcrypt_throughput_bytes_per_second` | gauge | `op` | [`Metrics::set_throughput`] |
//! | `volcrypt_kms_requests_total` | counter | `op` | [`Metrics::instrument`] |
//! | `volcrypt_kms_errors_total` | counter | `op`, `code` | [`Metrics::instrument`] |
//! | `volcrypt_kms_request_duration_seconds` | histogram | `op` | [`Metrics::instrument`] |
//! | `volcrypt_key_cache_{hits,misses,coalesced,evictions,expirations}_total` | counter | | [`Metrics::set_cache`] |
//! | `volcrypt_key_cache_entries` | gauge | | [`Metrics::set_cache`] |
//!
//! One histogram family covers every pipeline stage; the `stage` label is
//! [`Stage::name`]: `read` (a window read), `chunk` (sealing/opening one chunk: the chunk
//! latency), `cipher` (a whole window's cipher stage), `journal_commit` (writing and syncing
//! the journal record: the journal fsync latency), `apply` (writing the window),
//! `checkpoint` (tag entries, sync and header commit: the checkpoint fsync latency) and
//! `kms_call`. Buckets double from 1 µs to about 16.8 s (chunks take ~5-100 µs, fsyncs
//! milliseconds, KMS calls tens of milliseconds).
//!
//! No label or value is ever derived from key material: labels are the daemon's static
//! operation/state names and KMS error codes (sanitized to `[A-Za-z0-9_]`).

mod cache;
mod provider;
mod stages;

#[cfg(test)]
#[path = "exposition_tests.rs"]
mod exposition;
#[cfg(test)]
#[path = "tests.rs"]
mod tests;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::engine::{Observer, Stage};
use crate::keys::{CacheMetrics, KeyProvider};

/// Labels `{op}`.
type OpLabel = [(&'static str, &'static str); 1];
/// Labels `{op, stage}` or `{op, state}`.
type PairLabel = [(&'static str, &'static str); 2];
/// A histogram family with the duration buckets.
type Durations<L> = Family<L, Histogram, fn() -> Histogram>;

/// Number of duration buckets: 1 µs · 2^k for k in 0..25 (up to ~16.8 s), then +Inf.
const DURATION_BUCKETS: u32 = 25;

/// A histogram with the duration buckets (seconds).
fn duration_histogram() -> Histogram {
    // Dividing the exact power of two by the exact 1e6 gives the double nearest to the
    // decimal bound, so the `le` labels print as short decimals.
    Histogram::new((0..DURATION_BUCKETS).map(|k| f64::from(1u32 << k) / 1e6))
}

/// All daemon metrics, one registry. Share it as `Arc<Metrics>`; recording is lock-free
/// apart from the histogram's own per-series lock.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    stage_seconds: Durations<PairLabel>,
    bytes: Family<OpLabel, Counter>,
    jobs_started: Family<OpLabel, Counter>,
    jobs_finished: Family<PairLabel, Counter>,
    jobs: Family<OpLabel, Gauge>,
    throughput: Family<OpLabel, Gauge<f64, AtomicU64>>,
    kms: provider::KmsFamilies,
    cache: Arc<cache::CacheState>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Content-Type to serve [`Metrics::render`] with (OpenMetrics 1.0 text, which
    /// Prometheus scrapes natively).
    pub const CONTENT_TYPE: &'static str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// An empty registry with every family registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let ctor: fn() -> Histogram = duration_histogram;
        let stage_seconds = Durations::<PairLabel>::new_with_constructor(ctor);
        registry.register_with_unit(
            "volcrypt_stage_duration",
            "Latency of one pipeline stage of a job, by operation and stage (chunk: one chunk's seal/open; journal_commit: journal write+fsync; checkpoint: tag entries, fsync and header commit)",
            Unit::Seconds,
            stage_seconds.clone(),
        );
        let bytes = Family::<OpLabel, Counter>::default();
        registry.register(
            "volcrypt_bytes_processed",
            "Data bytes processed by jobs (written for writing operations, read for verify)",
            bytes.clone(),
        );
        let jobs_started = Family::<OpLabel, Counter>::default();
        registry.register(
            "volcrypt_jobs_started",
            "Jobs started, by operation",
            jobs_started.clone(),
        );
        let jobs_finished = Family::<PairLabel, Counter>::default();
        registry.register(
            "volcrypt_jobs_finished",
            "Jobs finished, by operation and final state",
            jobs_finished.clone(),
        );
        let jobs = Family::<OpLabel, Gauge>::default();
        registry.register("volcrypt_jobs", "Jobs now in each state", jobs.clone());
        let throughput = Family::<OpLabel, Gauge<f64, AtomicU64>>::default();
        registry.register_with_unit(
            "volcrypt_throughput",
            "Recent data throughput of running jobs, by operation",
            Unit::Other("bytes_per_second".to_owned()),
            throughput.clone(),
        );
        let kms = provider::KmsFamilies::register(&mut registry, ctor);
        let cache = Arc::new(cache::CacheState::default());
        registry.register_collector(Box::new(cache::CacheCollector(Arc::clone(&cache))));
        Metrics {
            registry,
            stage_seconds,
            bytes,
            jobs_started,
            jobs_finished,
            jobs,
            throughput,
            kms,
            cache,
        }
    }

    /// An engine [`Observer`] for one job of operation `op` (`"encrypt"`, ...): records
    /// stage latencies into `volcrypt_stage_duration_seconds{op, stage}` and counts the
    /// bytes of `count_stage` ([`Stage::Apply`] for writing operations, [`Stage::Read`] for
    /// verify) into `volcrypt_bytes_processed_total{op}`. The series handles are resolved
    /// once per stage, so recording does no map lookup.
    pub fn observer(self: &Arc<Self>, op: &'static str, count_stage: Stage) -> Arc<dyn Observer> {
        let bytes = Counter::clone(&self.bytes.get_or_create(&[("op", op)]));
        Arc::new(stages::StageObserver::new(
            op,
            self.stage_seconds.clone(),
            count_stage,
            bytes,
        ))
    }

    /// Wraps a key provider so every call (`generate`, `generate_sized`, `unwrap`, `wrap`,
    /// `rewrap`, each its own `op` label) is counted in `volcrypt_kms_requests_total{op}`,
    /// timed in `volcrypt_kms_request_duration_seconds{op}`, and, when it fails, counted in
    /// `volcrypt_kms_errors_total{op, code}` (`code`: the KMS error code, or `Unreachable`,
    /// `Config`, `WrongKey`, `KeyFile`, `ProviderMismatch`, `Crypto`). `describe()` and
    /// `shares_data_keys()` pass through uncounted.
    pub fn instrument(self: &Arc<Self>, inner: Arc<dyn KeyProvider>) -> Arc<dyn KeyProvider> {
        Arc::new(provider::Instrumented::new(inner, &self.kms))
    }

    /// Sets `volcrypt_jobs{state}` for each `(state, count)`. States not listed keep their
    /// last value, so pass every state, zeros included.
    pub fn set_jobs(&self, counts: &[(&'static str, u64)]) {
        for &(state, n) in counts {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            self.jobs.get_or_create(&[("state", state)]).set(n);
        }
    }

    /// Sets `volcrypt_throughput_bytes_per_second{op}`.
    pub fn set_throughput(&self, op: &'static str, bytes_per_sec: f64) {
        self.throughput
            .get_or_create(&[("op", op)])
            .set(bytes_per_sec);
    }

    /// Mirrors a data-key cache snapshot into the `volcrypt_key_cache_*` families. The
    /// counters are rendered as the cache's own monotonic values (a new cache restarting
    /// from zero reads as an ordinary counter reset); nothing is rendered before the first
    /// call, so a daemon without a cache shows no cache families.
    pub fn set_cache(&self, m: &CacheMetrics) {
        self.cache.set(m);
    }

    /// Counts a job of operation `op` as started (`volcrypt_jobs_started_total{op}`).
    pub fn job_started(&self, op: &'static str) {
        self.jobs_started.get_or_create(&[("op", op)]).inc();
    }

    /// Counts a job of operation `op` as finished in `state`
    /// (`volcrypt_jobs_finished_total{op, state}`).
    pub fn job_finished(&self, op: &'static str, state: &'static str) {
        self.jobs_finished
            .get_or_create(&[("op", op), ("state", state)])
            .inc();
    }

    /// Renders every family as OpenMetrics text, ending with `# EOF`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail, and no metric here has a value the encoder
        // refuses (the one refusal is a u64 gauge at u64::MAX; our gauges are i64/f64).
        // Were it to fail, the text written so far is still the best answer.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
