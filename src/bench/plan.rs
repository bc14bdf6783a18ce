//! `volcrypt plan`: a capacity plan for running one operation over a fleet of volumes, from
//! measured throughput (a results directory) and the KMS quotas and prices
//! ([`pricing`], data, not code). Pure arithmetic; the CLI reads the files and prints.
//!
//! ## Rules
//!
//! **Measured rate** ([`select`]). Candidates are the cases of the results whose workload is
//! the operation, with a positive rate, leaving out the `null` and `mem` io engines (no real
//! I/O) unless `--io` names one; `--io` and `--resilience` filter further. The case with the
//! highest per-host throughput (`bw_median`; `iops_median` for `rewrap`, which touches no
//! data) is chosen, ties going to fewer threads. Its rate per core is that figure divided by
//! its threads.
//!
//! **Capacity** ([`plan`]). A host has `C` cores (default: the measured host's CPUs) and runs
//! one volume at a time with all of them, at `per-core rate x C` (linear scaling: the plan
//! says so when `C` differs from the measured threads). With `N` volumes of `S` bytes:
//! one volume takes `t_v = S / host rate` (rewrap: `1 / host volumes-per-second`);
//! host-hours `= N x t_v / 3600`; hosts `= ceil(host-hours / window)`; cores `= hosts x C`;
//! the fleet takes `host-hours / hosts` hours (work spread evenly; a note warns when one
//! volume alone outlasts the window).
//!
//! **KMS calls per volume** (DESIGN §5): encrypt 1 GenerateDataKey; rekey 1 Decrypt + 1
//! GenerateDataKey; rewrap 1 ReEncrypt; decrypt and verify 1 Decrypt.
//! **Data-key reuse** (`--volumes-per-data-key U`, the `DataKeyCache` reuse mode; default 1 =
//! off) affects only GenerateDataKey, with one cache per host: a key serves at most
//! `U_eff = min(U, floor(max_bytes / S), floor(max_age x host volumes/s) + 1)` volumes (the
//! cache's default `max_bytes` and `max_age`), and every host needs its own first key. Decrypt
//! and ReEncrypt stay one per volume (conservative: shared blobs could hit the unwrap cache).
//! Requests per pass `= N x (Decrypt + ReEncrypt) + GenerateDataKey x max(ceil(N / U_eff),
//! min(hosts, N))`.
//! **Peak requests/s**: in the first second every host starts `m = max(1, host volumes/s)`
//! volumes at once, `starts = min(N, hosts x m)`; peak `= starts x (Decrypt + ReEncrypt) +
//! GenerateDataKey x max(min(hosts, N), starts / U_eff)`. Steady requests/s `= hosts x host
//! volumes/s x (Decrypt + ReEncrypt + GenerateDataKey / U_eff)`. The peak is checked against
//! the quota tier (`--kms-quota`, `--region`, or the default tier): OK when at or below it;
//! headroom `= quota - peak`. The time the requests alone need at the quota is reported too.
//!
//! **Monthly cost**: requests `= per pass x runs per month` (default 1), less the free tier,
//! times the price per 10,000; plus `keys x price per key-month`.

mod operation;
pub mod pricing;
mod render;
mod select;

pub use operation::{KmsCalls, Operation};
pub use pricing::{Pricing, QuotaTier};
pub use render::markdown;
pub use select::{select, Filters, Measured};

use serde::Serialize;

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The pricing data is malformed.
    #[error("pricing data: {0}")]
    Pricing(String),
    /// `--kms-quota` is not a tier of the pricing data.
    #[error("no KMS quota tier of {quota} requests/s in the pricing data (tiers: {tiers})")]
    UnknownTier {
        /// The requested quota.
        quota: u64,
        /// The tiers there are.
        tiers: String,
    },
    /// The results have no case to plan from.
    #[error("the results have no usable {operation} case{filters} (cases there: {available})")]
    NoCase {
        /// The operation.
        operation: String,
        /// The filters applied, as text.
        filters: String,
        /// The cases the results have.
        available: String,
    },
    /// A fleet parameter is out of range.
    #[error("{0}")]
    Invalid(String),
}

/// The fleet to plan for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fleet {
    /// The operation.
    pub operation: Operation,
    /// Number of volumes.
    pub volumes: u64,
    /// Average volume size, bytes.
    pub avg_size: u64,
    /// The window the fleet must finish in, hours.
    pub window_hours: f64,
    /// Cores per host.
    pub cores_per_host: usize,
    /// Volumes one GenerateDataKey may serve (data-key reuse; 1 = off).
    pub volumes_per_data_key: u64,
    /// Customer-managed KMS keys billed per month.
    pub kms_keys: u64,
    /// Passes over the fleet per month.
    pub runs_per_month: f64,
}

/// The capacity figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capacity {
    /// Data bytes the operation reads and writes (0 for rewrap).
    pub total_bytes: u64,
    /// One host's rate: bytes/s, or volumes/s for rewrap.
    pub host_rate: f64,
    /// Volumes one host finishes per second.
    pub host_volumes_per_sec: f64,
    /// One average volume on one host, seconds.
    pub volume_secs: f64,
    /// Host-hours of work.
    pub host_hours: f64,
    /// Hosts needed to finish in the window.
    pub hosts: u64,
    /// `hosts x cores_per_host`.
    pub cores: u64,
    /// Hours the fleet takes with `hosts`.
    pub fleet_hours: f64,
    /// The per-core rate was scaled to a different number of cores than measured.
    pub extrapolated: bool,
}

/// The KMS figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KmsLoad {
    /// Calls per volume.
    pub calls_per_volume: KmsCalls,
    /// Volumes one GenerateDataKey serves, after the cache's limits.
    pub volumes_per_data_key: u64,
    /// GenerateDataKey requests per pass.
    pub generate_data_key_requests: u64,
    /// All requests per pass.
    pub requests_per_pass: u64,
    /// Requests/s while every host is busy.
    pub steady_rps: f64,
    /// Requests/s in the first second, when every host starts at once.
    pub peak_rps: f64,
    /// The quota tier, requests/s.
    pub quota_rps: u64,
    /// `peak_rps <= quota_rps`.
    pub within_quota: bool,
    /// `quota_rps - peak_rps` (negative when over).
    pub headroom_rps: f64,
    /// `peak_rps / quota_rps`, percent.
    pub quota_used_pct: f64,
    /// Hours the pass's requests need at the full quota (a lower bound on the fleet time).
    pub min_hours_at_quota: f64,
}

/// The monthly KMS cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cost {
    /// Currency.
    pub currency: String,
    /// Requests per month.
    pub requests_per_month: f64,
    /// Free requests per month.
    pub free_requests: u64,
    /// Requests billed.
    pub billable_requests: f64,
    /// Price per 10,000 requests.
    pub price_per_10k: f64,
    /// Cost of the requests.
    pub request_cost: f64,
    /// Keys billed.
    pub kms_keys: u64,
    /// Price per key-month.
    pub price_per_key_month: f64,
    /// Cost of the keys.
    pub key_cost: f64,
    /// `request_cost + key_cost`.
    pub total: f64,
}

/// A capacity plan (`--json` prints this).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The fleet.
    pub fleet: Fleet,
    /// What it is based on.
    pub measured: Measured,
    /// Hosts, cores, hours.
    pub capacity: Capacity,
    /// KMS requests and the quota.
    pub kms: KmsLoad,
    /// The quota tier used.
    pub quota_tier: QuotaTier,
    /// Monthly KMS cost.
    pub cost: Cost,
    /// Source and date of the pricing data.
    pub pricing_source: String,
    /// When the pricing data was read.
    pub pricing_as_of: String,
    /// Caveats.
    pub notes: Vec<String>,
}

/// The cache's default reuse limits: (max_bytes, max_age seconds).
fn reuse_limits() -> (u64, f64) {
    let l = crate::keys::CacheLimits::default();
    (l.max_bytes, l.max_age.as_secs_f64())
}

/// Plans `fleet` from `m` against `tier` and `pricing` (see the module docs).
pub fn plan(
    m: &Measured,
    fleet: &Fleet,
    tier: &QuotaTier,
    pricing: &Pricing,
) -> Result<Plan, PlanError> {
    let rewrap = fleet.operation == Operation::Rewrap;
    check(fleet, rewrap)?;
    if !(m.per_core_rate.is_finite() && m.per_core_rate > 0.0) {
        return Err(PlanError::Invalid(
            "the measured rate is not positive".into(),
        ));
    }
    let n = fleet.volumes as f64;
    let cores = fleet.cores_per_host as f64;
    let host_rate = m.per_core_rate * cores;
    let host_vps = if rewrap {
        host_rate
    } else {
        host_rate / fleet.avg_size as f64
    };
    let volume_secs = 1.0 / host_vps;
    let host_hours = n * volume_secs / 3600.0;
    let hosts = ((host_hours / fleet.window_hours).ceil() as u64).max(1);
    let h = hosts as f64;
    let capacity = Capacity {
        total_bytes: if rewrap {
            0
        } else {
            fleet.volumes.saturating_mul(fleet.avg_size)
        },
        host_rate,
        host_volumes_per_sec: host_vps,
        volume_secs,
        host_hours,
        hosts,
        cores: hosts.saturating_mul(fleet.cores_per_host as u64),
        fleet_hours: host_hours / h,
        extrapolated: fleet.cores_per_host != m.case.threads,
    };

    let calls = fleet.operation.kms_calls();
    let (max_bytes, max_age) = reuse_limits();
    let u = if fleet.volumes_per_data_key <= 1 || calls.generate_data_key == 0 {
        1
    } else {
        let by_bytes = (max_bytes / fleet.avg_size.max(1)).max(1);
        let by_age = (max_age * host_vps).floor() as u64 + 1;
        fleet.volumes_per_data_key.min(by_bytes).min(by_age)
    };
    let other = (calls.decrypt + calls.re_encrypt) as f64;
    let g = calls.generate_data_key;
    let busy_hosts = hosts.min(fleet.volumes);
    let gdk_requests = g.saturating_mul(fleet.volumes.div_ceil(u).max(busy_hosts));
    let requests_per_pass = fleet
        .volumes
        .saturating_mul(calls.decrypt + calls.re_encrypt)
        .saturating_add(gdk_requests);
    let starts = n.min(h * host_vps.max(1.0));
    let peak_rps = starts * other + g as f64 * (busy_hosts as f64).max(starts / u as f64);
    let steady_rps = h * host_vps * (other + g as f64 / u as f64);
    let quota = tier.requests_per_second as f64;
    let kms = KmsLoad {
        calls_per_volume: calls,
        volumes_per_data_key: u,
        generate_data_key_requests: gdk_requests,
        requests_per_pass,
        steady_rps,
        peak_rps,
        quota_rps: tier.requests_per_second,
        within_quota: peak_rps <= quota,
        headroom_rps: quota - peak_rps,
        quota_used_pct: peak_rps / quota * 100.0,
        min_hours_at_quota: requests_per_pass as f64 / quota / 3600.0,
    };

    let requests_per_month = requests_per_pass as f64 * fleet.runs_per_month;
    let billable = (requests_per_month - pricing.requests.free_per_month as f64).max(0.0);
    let request_cost = billable / 10_000.0 * pricing.requests.price_per_10k;
    let key_cost = fleet.kms_keys as f64 * pricing.keys.price_per_key_month;
    let cost = Cost {
        currency: pricing.currency.clone(),
        requests_per_month,
        free_requests: pricing.requests.free_per_month,
        billable_requests: billable,
        price_per_10k: pricing.requests.price_per_10k,
        request_cost,
        kms_keys: fleet.kms_keys,
        price_per_key_month: pricing.keys.price_per_key_month,
        key_cost,
        total: request_cost + key_cost,
    };

    let notes = notes(m, fleet, &capacity, &kms, pricing);
    Ok(Plan {
        fleet: fleet.clone(),
        measured: m.clone(),
        capacity,
        kms,
        quota_tier: tier.clone(),
        cost,
        pricing_source: pricing.source.clone(),
        pricing_as_of: pricing.as_of.clone(),
        notes,
    })
}

fn check(f: &Fleet, rewrap: bool) -> Result<(), PlanError> {
    let bad = |s: &str| Err(PlanError::Invalid(s.to_string()));
    if f.volumes == 0 {
        return bad("--fleet-volumes must be at least 1");
    }
    if f.avg_size == 0 && !rewrap {
        return bad("--avg-size must be more than 0");
    }
    if !(f.window_hours.is_finite() && f.window_hours > 0.0) {
        return bad("--window must be a positive number of hours");
    }
    if f.cores_per_host == 0 {
        return bad("--cores-per-host must be at least 1");
    }
    if !(f.runs_per_month.is_finite() && f.runs_per_month >= 0.0) {
        return bad("--runs-per-month must not be negative");
    }
    Ok(())
}

fn notes(m: &Measured, f: &Fleet, c: &Capacity, k: &KmsLoad, p: &Pricing) -> Vec<String> {
    let mut v = Vec::new();
    if c.extrapolated {
        v.push(format!(
            "throughput per host assumes linear scaling from {} measured thread(s) to {} cores",
            m.case.threads, f.cores_per_host
        ));
    }
    if c.volume_secs / 3600.0 > f.window_hours {
        v.push(format!(
            "one volume alone takes {:.2} h on one host, longer than the {} h window: volumes \
             are not split across hosts, so no number of hosts meets the window",
            c.volume_secs / 3600.0,
            f.window_hours
        ));
    }
    if f.volumes_per_data_key > 1 && k.volumes_per_data_key < f.volumes_per_data_key {
        v.push(format!(
            "data-key reuse is capped at {} volumes per key by the cache's max_bytes / max_age",
            k.volumes_per_data_key
        ));
    }
    if !k.within_quota {
        v.push(format!(
            "peak KMS requests/s exceed the {} req/s quota: stagger host starts, raise the \
             quota, or expect ThrottlingException retries",
            k.quota_rps
        ));
    }
    if !p.keys.note.is_empty() {
        v.push(format!("key price: {}", p.keys.note));
    }
    v
}

#[cfg(test)]
mod tests;
