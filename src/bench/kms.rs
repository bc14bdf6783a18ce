//! The KMS load generator (`volcrypt bench kms`): N concurrent keep-alive HTTP/1.1
//! connections, one tokio task each, sending SigV4-signed `GenerateDataKey` and/or `Decrypt`
//! requests back to back, each signed afresh exactly as botocore signs it.
//!
//! A run: create a symmetric key with CreateKey unless one is given; for Decrypt, make one
//! ciphertext with GenerateDataKey; open every connection; then send for `warmup + duration`.
//! A request counts in the measurement when it completes inside the `duration` window after
//! the warm-up; its latency (send to last body byte, µs) goes into a per-task
//! `Histogram<u64>` and the histograms are merged at the end. Any answer other than a 200
//! carrying the operation's result is an error, counted by its `__type` (transport failures
//! and timeouts too) and reported, never dropped; such a connection is reopened.
//!
//! The generator runs on its own multi-thread runtime with `client_threads` workers (1 by
//! default), so on a small machine the server keeps the other cores.

mod client;
mod summary;
#[cfg(test)]
mod tests;
mod worker;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use hyper::body::Bytes;
use serde::Serialize;

use super::report::LatencyStats;
pub use client::{Connection, Reply, Target};
pub use summary::summary_text;
use worker::{worker, Shared, TaskStats};

/// Longest wait for one answer before it counts as a `Timeout` error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Highest latency the histograms track (an hour, in µs); larger values saturate.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Why a bench could not run (errors of individual requests are counted, not raised).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The endpoint cannot be used.
    #[error("bad endpoint {0:?}: {1}")]
    Endpoint(String, String),
    /// A connection could not be opened.
    #[error("connecting to {0}: {1}")]
    Connect(SocketAddr, String),
    /// A setup request (CreateKey, the Decrypt ciphertext) failed.
    #[error("{0} failed during setup: {1}")]
    Setup(&'static str, String),
    /// A request could not be built or a histogram created.
    #[error("{0}")]
    Http(String),
    /// The runtime could not start.
    #[error("starting the client runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// What the connections send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// `GenerateDataKey` with `KeySpec: AES_256`.
    GenerateDataKey,
    /// `Decrypt` of one pre-generated data key ciphertext.
    Decrypt,
    /// The two alternately on every connection.
    Mixed,
}

impl std::str::FromStr for Workload {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "generate-data-key" => Ok(Workload::GenerateDataKey),
            "decrypt" => Ok(Workload::Decrypt),
            "mixed" => Ok(Workload::Mixed),
            _ => Err(format!(
                "unknown op {s:?} (expected generate-data-key, decrypt or mixed)"
            )),
        }
    }
}

impl Workload {
    /// The name in reports: the KMS operation, or `mixed`.
    pub fn name(self) -> &'static str {
        match self {
            Workload::GenerateDataKey => "GenerateDataKey",
            Workload::Decrypt => "Decrypt",
            Workload::Mixed => "mixed",
        }
    }
}

/// The two request kinds; index into per-kind histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    GenerateDataKey = 0,
    Decrypt = 1,
}

impl Kind {
    const ALL: [Kind; 2] = [Kind::GenerateDataKey, Kind::Decrypt];
    fn action(self) -> &'static str {
        match self {
            Kind::GenerateDataKey => "GenerateDataKey",
            Kind::Decrypt => "Decrypt",
        }
    }
    /// A member every successful answer carries.
    fn success_member(self) -> &'static str {
        match self {
            Kind::GenerateDataKey => "CiphertextBlob",
            Kind::Decrypt => "Plaintext",
        }
    }
}

/// The bench parameters.
#[derive(Debug)]
pub struct Config {
    /// The server and the credential.
    pub target: Target,
    /// The key to use; `None` creates a fresh symmetric key.
    pub key_id: Option<String>,
    /// What to send.
    pub workload: Workload,
    /// Concurrent connections (one task each).
    pub connections: usize,
    /// The measured window.
    pub duration: Duration,
    /// Sending before the window opens (not measured).
    pub warmup: Duration,
    /// Worker threads of the generator's runtime.
    pub client_threads: usize,
}

/// One operation's share of a run.
#[derive(Debug, Clone, Serialize)]
pub struct OpResult {
    /// `GenerateDataKey` or `Decrypt`.
    pub operation: &'static str,
    /// Successful requests completed in the window.
    pub requests: u64,
    /// `requests` per second of the window.
    pub req_per_sec: f64,
    /// Their latency.
    pub latency: LatencyStats,
}

/// The outcome of a run.
#[derive(Debug, Serialize)]
pub struct BenchResult {
    /// The endpoint.
    pub endpoint: String,
    /// What was sent (`GenerateDataKey`, `Decrypt` or `mixed`).
    pub workload: &'static str,
    /// The key used.
    pub key_id: String,
    /// Whether the bench created the key.
    pub key_created: bool,
    /// Connections.
    pub connections: usize,
    /// Generator runtime threads.
    pub client_threads: usize,
    /// Measured window, seconds.
    pub duration_s: f64,
    /// Warm-up, seconds.
    pub warmup_s: f64,
    /// Successful requests completed in the window.
    pub requests: u64,
    /// `requests` per second of the window.
    pub req_per_sec: f64,
    /// Failed requests after the warm-up, by error code.
    pub errors: BTreeMap<String, u64>,
    /// Total of `errors`.
    pub error_count: u64,
    /// Failed requests during the warm-up, by error code.
    pub warmup_errors: BTreeMap<String, u64>,
    /// Connections reopened after the server closed one or a request failed.
    pub reconnects: u64,
    /// Latency of the successful requests in the window (all operations).
    pub latency: LatencyStats,
    /// Per operation (one entry, or two for `mixed`).
    pub operations: Vec<OpResult>,
    /// The merged latency histogram (µs), for `.hgrm` output.
    #[serde(skip)]
    pub histogram: Histogram<u64>,
}

fn new_histogram() -> Result<Histogram<u64>, BenchError> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).map_err(|e| BenchError::Http(e.to_string()))
}

/// Runs the bench on a new runtime with `config.client_threads` workers.
pub fn run(config: Config) -> Result<BenchResult, BenchError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.client_threads.max(1))
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    rt.block_on(run_async(config))
}

/// Sends one setup request and returns the 200 body, or the error it got.
async fn setup_call(
    target: &Target,
    conn: &mut Connection,
    action: &'static str,
    body: serde_json::Value,
) -> Result<Bytes, BenchError> {
    let req = target.request(action, &Bytes::from(body.to_string()))?;
    let reply = conn
        .send(req)
        .await
        .map_err(|e| BenchError::Setup(action, e.to_string()))?;
    if reply.status == 200 {
        Ok(reply.body)
    } else {
        let msg = client::json_field(&reply.body, &["message"]).unwrap_or_default();
        Err(BenchError::Setup(
            action,
            format!("{}: {msg}", client::error_code(reply.status, &reply.body)),
        ))
    }
}

/// The request bodies, fixed for the whole run.
struct Plan {
    workload: Workload,
    bodies: [Bytes; 2],
}

impl Plan {
    fn kind(&self, n: u64) -> Kind {
        match self.workload {
            Workload::GenerateDataKey => Kind::GenerateDataKey,
            Workload::Decrypt => Kind::Decrypt,
            Workload::Mixed if n.is_multiple_of(2) => Kind::GenerateDataKey,
            Workload::Mixed => Kind::Decrypt,
        }
    }
}

async fn prepare(config: &Config) -> Result<(String, bool, Plan), BenchError> {
    let target = &config.target;
    let mut conn = Connection::open(target.addr).await?;
    let (key_id, created) = match &config.key_id {
        Some(k) => (k.clone(), false),
        None => {
            let body = serde_json::json!({ "Description": "volcrypt bench kms" });
            let reply = setup_call(target, &mut conn, "CreateKey", body).await?;
            let id = client::json_field(&reply, &["KeyMetadata", "KeyId"]).ok_or_else(|| {
                BenchError::Setup("CreateKey", "no KeyMetadata.KeyId in the answer".into())
            })?;
            (id, true)
        }
    };
    let gdk = serde_json::json!({ "KeyId": key_id, "KeySpec": "AES_256" });
    let decrypt = if config.workload == Workload::GenerateDataKey {
        String::new()
    } else {
        let reply = setup_call(target, &mut conn, "GenerateDataKey", gdk.clone()).await?;
        let blob = client::json_field(&reply, &["CiphertextBlob"]).ok_or_else(|| {
            BenchError::Setup("GenerateDataKey", "no CiphertextBlob in the answer".into())
        })?;
        serde_json::json!({ "CiphertextBlob": blob }).to_string()
    };
    let plan = Plan {
        workload: config.workload,
        bodies: [Bytes::from(gdk.to_string()), Bytes::from(decrypt)],
    };
    Ok((key_id, created, plan))
}

async fn run_async(config: Config) -> Result<BenchResult, BenchError> {
    let (key_id, key_created, plan) = prepare(&config).await?;
    let connections = config.connections.max(1);
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        let stats = TaskStats {
            hist: [new_histogram()?, new_histogram()?],
            errors: BTreeMap::new(),
            warmup_errors: BTreeMap::new(),
            reconnects: 0,
        };
        conns.push((Connection::open(config.target.addr).await?, stats));
    }
    let start = Instant::now();
    let shared = Arc::new(Shared {
        target: config.target,
        plan,
        measure_from: start + config.warmup,
        end: start + config.warmup + config.duration,
    });
    let handles: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, (c, s))| tokio::spawn(worker(Arc::clone(&shared), c, s, i as u64)))
        .collect();
    let mut hist = [new_histogram()?, new_histogram()?];
    let mut errors = BTreeMap::new();
    let mut warmup_errors = BTreeMap::new();
    let mut reconnects = 0;
    for h in handles {
        let s = h
            .await
            .map_err(|e| BenchError::Http(format!("a connection task failed: {e}")))?;
        for (total, part) in hist.iter_mut().zip(&s.hist) {
            total
                .add(part)
                .map_err(|e| BenchError::Http(format!("merging histograms: {e:?}")))?;
        }
        merge_counts(&mut errors, s.errors);
        merge_counts(&mut warmup_errors, s.warmup_errors);
        reconnects += s.reconnects;
    }
    let secs = config.duration.as_secs_f64().max(f64::MIN_POSITIVE);
    let mut all = new_histogram()?;
    let mut operations = Vec::new();
    for kind in Kind::ALL {
        let h = &hist[kind as usize];
        all.add(h)
            .map_err(|e| BenchError::Http(format!("merging histograms: {e:?}")))?;
        if !h.is_empty() || shared.plan.kind(0) == kind || shared.plan.kind(1) == kind {
            operations.push(OpResult {
                operation: kind.action(),
                requests: h.len(),
                req_per_sec: h.len() as f64 / secs,
                latency: LatencyStats::from_histogram(h),
            });
        }
    }
    Ok(BenchResult {
        endpoint: shared.target.endpoint.clone(),
        workload: config.workload.name(),
        key_id,
        key_created,
        connections,
        client_threads: config.client_threads.max(1),
        duration_s: config.duration.as_secs_f64(),
        warmup_s: config.warmup.as_secs_f64(),
        requests: all.len(),
        req_per_sec: all.len() as f64 / secs,
        error_count: errors.values().sum(),
        errors,
        warmup_errors,
        reconnects,
        latency: LatencyStats::from_histogram(&all),
        operations,
        histogram: all,
    })
}

fn merge_counts(into: &mut BTreeMap<String, u64>, from: BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k).or_insert(0) += v;
    }
}
