//! `volcrypt bench run`: runs every point of a [`Spec`]'s sweep (warm-ups, then measured
//! repetitions), measures it, and writes `<out>/<run-id>/` through
//! [`crate::bench::output::write_all`].
//!
//! Per case: one [`Recorder`](observe::Recorder) (the engine's observer) collects the stage
//! latencies of the measured repetitions (warm-ups get a throwaway one), a
//! [`Sampler`](observe::Sampler) turns its byte counter into a one-second throughput series,
//! and the repetitions are reduced to median / min / max bandwidth and median IOPS. The
//! in-process KMS server (for `key = "kms"`, `rewrap` and `kms` without an endpoint) starts
//! once per run. Nothing here prints: the caller gets [`Event`]s.

#[path = "runner_kms.rs"]
mod kms;
#[path = "runner_meta.rs"]
mod meta;
#[path = "runner_observe.rs"]
pub mod observe;
#[path = "runner_volume.rs"]
mod volume;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hdrhistogram::Histogram;

use super::cipher::{CipherBench, CipherCase, Prepared};
use super::error::BenchError;
use super::model::{BenchReport, Case, CaseResult, Rep, Sample, REPORT_VERSION};
use super::report::LatencyStats;
use super::spec::{Crypto, KeySource, Point, Spec, Workload};
use crate::crypto::{Backend, DataKey};
use crate::engine::Stage;
use crate::io::EngineKind;
use crate::keys::{FileKeyProvider, KmsKeyProvider};
use kms::LocalKms;
use observe::{Recorder, Sampler};
use volume::{KeyRing, Scratch, VolumeCase};

/// What the runner reports while it runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// Case `index` of `total` starts.
    Start {
        /// Position in the sweep, from 0.
        index: usize,
        /// Cases in the sweep.
        total: usize,
        /// The case.
        case: &'a Case,
    },
    /// A case finished.
    Done {
        /// Position in the sweep, from 0.
        index: usize,
        /// Cases in the sweep.
        total: usize,
        /// Its results.
        result: &'a CaseResult,
    },
    /// A case cannot run on this machine and was left out.
    Skipped {
        /// The case.
        case: &'a Case,
        /// Why.
        reason: &'a str,
    },
}

/// The outcome of a run.
#[derive(Debug)]
pub struct Outcome {
    /// What was measured.
    pub report: BenchReport,
    /// `<out>/<run-id>`.
    pub dir: PathBuf,
    /// The files written there.
    pub files: Vec<PathBuf>,
    /// Labels of skipped cases, with the reason.
    pub skipped: Vec<(String, String)>,
    /// True when stopped by the cancel flag (the report holds the cases finished before).
    pub cancelled: bool,
}

/// Shared by the cases of a run.
struct Ctx {
    file_keys: [FileKeyProvider; 2],
    kms: Option<LocalKms>,
    kms_keys: Vec<KmsKeyProvider>,
    cipher: CipherBench,
    block: Vec<u8>,
    cancel: Option<Arc<AtomicBool>>,
}

impl Ctx {
    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }
}

fn key_source(spec: &Spec, p: &Point) -> KeySource {
    spec.jobs[p.job]
        .key
        .unwrap_or(if p.workload == Workload::Rewrap {
            KeySource::Kms
        } else {
            KeySource::File
        })
}

fn needs_local_kms(spec: &Spec, p: &Point) -> bool {
    match p.workload {
        Workload::Kms => spec.jobs[p.job].kms.endpoint.is_none(),
        Workload::Cipher => false,
        _ => key_source(spec, p) == KeySource::Kms,
    }
}

/// Why `p` cannot run here, if it cannot.
fn unsupported(p: &Point) -> Option<String> {
    match p.io {
        Some(EngineKind::Uring) => crate::io::uring_probe()
            .err()
            .map(|why| format!("io_uring is unavailable: {why}")),
        _ => None,
    }
}

/// Runs `spec`; `cancel` (set by SIGINT/SIGTERM) stops after the current window or
/// repetition, keeping the finished cases.
pub fn run(
    spec: &Spec,
    cancel: Option<Arc<AtomicBool>>,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<Outcome, BenchError> {
    let points = spec.points()?;
    let meta = meta::collect(&spec.name, &spec.text);
    let dir = spec.out.join(&meta.run_id);
    std::fs::create_dir_all(&dir).map_err(BenchError::io(&dir))?;
    let key = |label: &str| -> Result<FileKeyProvider, BenchError> {
        Ok(FileKeyProvider::from_key(&DataKey::generate()?, label))
    };
    let mut ctx = Ctx {
        file_keys: [key("bench key A")?, key("bench key B")?],
        kms: None,
        kms_keys: Vec::new(),
        cipher: CipherBench::new(),
        block: Vec::new(),
        cancel,
    };
    let kms_dir = if points.iter().any(|p| needs_local_kms(spec, p)) {
        let d = Scratch::new(&std::env::temp_dir(), "kms")?;
        let local = LocalKms::start(&d.0.join("kms"))?;
        ctx.kms_keys = vec![local.provider(0)?, local.provider(1)?];
        ctx.kms = Some(local);
        Some(d)
    } else {
        None
    };
    let result = run_points(spec, &points, &mut ctx, on);
    ctx.kms_keys.clear();
    let stopped = ctx.kms.take().map_or(Ok(()), LocalKms::stop);
    drop(kms_dir);
    let (cases, skipped, cancelled) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir(&dir);
            return Err(e);
        }
    };
    stopped?;
    let report = BenchReport {
        report_version: REPORT_VERSION,
        meta,
        warmup: spec.warmup,
        reps: spec.reps,
        cases,
    };
    let files = super::output::write_all(&report, &dir)?;
    Ok(Outcome {
        report,
        dir,
        files,
        skipped,
        cancelled,
    })
}

type Points = (Vec<CaseResult>, Vec<(String, String)>, bool);

fn run_points(
    spec: &Spec,
    points: &[Point],
    ctx: &mut Ctx,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<Points, BenchError> {
    let (mut cases, mut skipped) = (Vec::new(), Vec::new());
    let total = points.len();
    for (index, p) in points.iter().enumerate() {
        if ctx.cancelled() {
            return Ok((cases, skipped, true));
        }
        if let Some(reason) = unsupported(p) {
            on(Event::Skipped {
                case: &p.case,
                reason: &reason,
            });
            skipped.push((p.case.label(), reason));
            continue;
        }
        on(Event::Start {
            index,
            total,
            case: &p.case,
        });
        match run_case(spec, p, ctx)? {
            Some(result) => {
                on(Event::Done {
                    index,
                    total,
                    result: &result,
                });
                cases.push(result);
            }
            None => return Ok((cases, skipped, true)),
        }
    }
    Ok((cases, skipped, false))
}

/// What a case runs each repetition.
enum Work<'a> {
    Cipher(Box<Prepared<'a>>),
    Volume(Box<VolumeCase>, KeyRing<'a>),
    Kms(&'a Point, Option<&'a LocalKms>),
}

/// One repetition: the rep (`None`: cancelled) and latencies it measured itself.
type RepOut = Option<(Rep, Option<Histogram<u64>>)>;

impl Work<'_> {
    /// Untimed work before a repetition (resetting a scratch volume).
    fn prepare(&mut self) -> Result<(), BenchError> {
        match self {
            Work::Volume(v, keys) => v.prepare(keys),
            _ => Ok(()),
        }
    }

    fn rep(&mut self, spec: &Spec, rec: &Arc<Recorder>) -> Result<RepOut, BenchError> {
        match self {
            Work::Cipher(p) => Ok(Some((p.rep(rec)?, None))),
            Work::Volume(v, keys) => Ok(v.rep(keys, rec)?.map(|r| (r, None))),
            Work::Kms(p, local) => {
                let (rep, h) = kms::kms_rep(&spec.jobs[p.job].kms, p.threads, *local)?;
                Ok(Some((rep, Some(h))))
            }
        }
    }
}

/// The key providers of a volume case.
fn key_ring<'a>(
    spec: &Spec,
    p: &Point,
    file_keys: &'a [FileKeyProvider; 2],
    kms: Option<&'a LocalKms>,
    kms_keys: &'a [KmsKeyProvider],
) -> Result<KeyRing<'a>, BenchError> {
    match (key_source(spec, p), kms, kms_keys) {
        (KeySource::Kms, Some(local), [a, b]) => Ok(KeyRing {
            new: [a, b],
            open: [&local.admin, &local.admin],
            kms: true,
        }),
        (KeySource::Kms, _, _) => Err(BenchError::Kms("the in-process KMS is not running".into())),
        (KeySource::File, _, _) => {
            let [a, b] = file_keys;
            Ok(KeyRing {
                new: [a, b],
                open: [a, b],
                kms: false,
            })
        }
    }
}

fn run_case(spec: &Spec, p: &Point, ctx: &mut Ctx) -> Result<Option<CaseResult>, BenchError> {
    let job = &spec.jobs[p.job];
    let cancel = ctx.cancel.clone();
    let mut work = match p.workload {
        Workload::Cipher => Work::Cipher(Box::new(ctx.cipher.prepare(CipherCase {
            threads: p.threads,
            chunk_size: p.chunk_size,
            crypto: p.crypto.unwrap_or(Crypto::Backend(Backend::Ring)),
            size: p.size,
            buffer: job.buffer,
        })?)),
        Workload::Kms => Work::Kms(p, ctx.kms.as_ref()),
        _ => {
            let ring = key_ring(spec, p, &ctx.file_keys, ctx.kms.as_ref(), &ctx.kms_keys)?;
            let v = VolumeCase::setup(
                p,
                job.count,
                &job.dir,
                &ring,
                cancel.clone(),
                &mut ctx.block,
            )?;
            Work::Volume(Box::new(v), ring)
        }
    };
    let counted = Stage::Chunk;
    let rec = Recorder::new(counted);
    let mut hist: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
    let (mut reps, mut series, mut t0) = (Vec::new(), Vec::new(), 0.0);
    for i in 0..spec.warmup + spec.reps {
        if cancel.as_ref().is_some_and(|c| c.load(Ordering::SeqCst)) {
            return Ok(None);
        }
        let measured = i >= spec.warmup;
        let r = if measured {
            Arc::clone(&rec)
        } else {
            Recorder::new(counted)
        };
        work.prepare()?;
        let sampler = match (&work, measured) {
            (Work::Kms(..), _) | (_, false) => None,
            _ => Some(Sampler::start(Arc::clone(&r), t0)?),
        };
        let out = work.rep(spec, &r);
        let samples = sampler.map(Sampler::stop).unwrap_or_default();
        let Some((rep, own)) = out? else {
            return Ok(None);
        };
        if !measured {
            continue;
        }
        if let Some(h) = own {
            let dst = match hist.get_mut("request") {
                Some(d) => d,
                None => hist
                    .entry("request".into())
                    .or_insert(observe::histogram()?),
            };
            dst.add(&h)
                .map_err(|e| BenchError::Measure(format!("merging histograms: {e:?}")))?;
            series.push(Sample {
                t: t0 + rep.secs,
                rate: per_sec(rep.ops, rep.secs),
            });
        }
        series.extend(samples);
        t0 += rep.secs;
        reps.push(rep);
    }
    rec.drain_into(&mut hist)?;
    Ok(Some(aggregate(p.case.clone(), reps, hist, series)))
}

fn per_sec(n: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}

/// The median of `v` (the mean of the middle two for an even count; 0 when empty).
pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Reduces a case's repetitions: bandwidth is bytes/s (requests/s for `kms`).
fn aggregate(
    case: Case,
    reps: Vec<Rep>,
    histograms: BTreeMap<String, Histogram<u64>>,
    series: Vec<Sample>,
) -> CaseResult {
    let kms = case.workload == Workload::Kms.name();
    let bw: Vec<f64> = reps
        .iter()
        .map(|r| per_sec(if kms { r.ops } else { r.bytes }, r.secs))
        .collect();
    let iops: Vec<f64> = reps.iter().map(|r| per_sec(r.ops, r.secs)).collect();
    CaseResult {
        case,
        bw_median: median(&bw),
        bw_min: bw.iter().copied().reduce(f64::min).unwrap_or(0.0),
        bw_max: bw.iter().copied().reduce(f64::max).unwrap_or(0.0),
        iops_median: median(&iops),
        latency: histograms
            .iter()
            .map(|(k, h)| (k.clone(), LatencyStats::from_histogram(h)))
            .collect(),
        series,
        histograms,
        reps,
    }
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
