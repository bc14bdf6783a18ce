//! Measurement during a case: a [`Recorder`] (the engine's [`Observer`]) keeping per-stage
//! latency histograms in microseconds and a byte counter, and a [`Sampler`] thread turning
//! the counter into a throughput sample every second.
//!
//! Recording must cost next to nothing next to sealing a chunk, from many threads at once:
//! each thread writes to its own shard (a thread-local index into a fixed set of
//! cache-line-aligned shards, so two cipher threads never share a lock or a counter line),
//! and the shards are merged only when the case ends.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::BenchError;
use crate::bench::model::Sample;
use crate::engine::{Observer, Stage};

/// Highest latency tracked (an hour in µs); larger values saturate.
const MAX_US: u64 = 3_600_000_000;
/// Shards (threads beyond this many share, which is only slower, never wrong).
const SHARDS: usize = 16;
/// A sample shorter than this at the end of a repetition is dropped unless it is the only one.
const MIN_TAIL: f64 = 0.1;

/// A new latency histogram (1 µs to an hour, 3 significant digits).
pub fn histogram() -> Result<Histogram<u64>, BenchError> {
    Histogram::new_with_bounds(1, MAX_US, 3).map_err(|e| BenchError::Measure(e.to_string()))
}

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: usize = NEXT_THREAD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One thread's share, alone on its cache lines.
#[repr(align(128))]
#[derive(Default)]
struct Shard {
    bytes: AtomicU64,
    hist: Mutex<[Option<Histogram<u64>>; Stage::ALL.len()]>,
}

/// Collects stage latencies and counts the bytes of one stage.
pub struct Recorder {
    shards: Box<[Shard]>,
    /// The stage whose bytes make the throughput series.
    counted: Stage,
}

fn index(s: Stage) -> usize {
    Stage::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

impl Recorder {
    /// A recorder counting the bytes of `counted`.
    pub fn new(counted: Stage) -> Arc<Self> {
        Arc::new(Recorder {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            counted,
        })
    }

    /// Bytes recorded for the counted stage so far.
    pub fn bytes(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.bytes.load(Ordering::Relaxed))
            .sum()
    }

    /// Adds bytes to the counter without a latency (workloads that time themselves).
    pub fn count(&self, bytes: u64) {
        SHARD.with(|&i| self.shards[i].bytes.fetch_add(bytes, Ordering::Relaxed));
    }

    /// Merges every stage's histogram into `into` (keyed by stage name).
    pub fn drain_into(
        &self,
        into: &mut BTreeMap<String, Histogram<u64>>,
    ) -> Result<(), BenchError> {
        for shard in self.shards.iter() {
            let h = lock(&shard.hist);
            for (i, stage) in Stage::ALL.iter().enumerate() {
                let Some(src) = &h[i] else { continue };
                if src.is_empty() {
                    continue;
                }
                let name = stage.name().to_owned();
                let dst = match into.get_mut(&name) {
                    Some(d) => d,
                    None => into.entry(name).or_insert(histogram()?),
                };
                dst.add(src)
                    .map_err(|e| BenchError::Measure(format!("merging histograms: {e:?}")))?;
            }
        }
        Ok(())
    }
}

/// `d` to the nearest microsecond (a 4 KiB seal, under 1 µs, is not always 0).
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_nanos())
        .unwrap_or(u64::MAX)
        .saturating_add(500)
        / 1000
}

impl Recorder {
    /// Records latencies already in microseconds, covering `bytes` in all, under one lock.
    pub fn record_us(&self, stage: Stage, us: &[u64], bytes: u64) {
        let shard = &self.shards[SHARD.with(|&i| i)];
        if stage == self.counted {
            shard.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
        let mut h = lock(&shard.hist);
        let slot = &mut h[index(stage)];
        if slot.is_none() {
            *slot = histogram().ok();
        }
        if let Some(h) = slot {
            for &v in us {
                h.saturating_record(v);
            }
        }
    }
}

impl Observer for Recorder {
    fn record(&self, stage: Stage, elapsed: Duration, bytes: u64) {
        self.record_us(stage, &[micros(elapsed)], bytes);
    }
}

/// Samples a recorder's byte counter every second on its own thread.
pub struct Sampler {
    stop: mpsc::Sender<Instant>,
    thread: JoinHandle<Vec<Sample>>,
}

impl Sampler {
    /// Starts sampling `rec`; sample times are offset by `t0` seconds (the measured time of
    /// the repetitions before this one, so a case's series runs back to back).
    pub fn start(rec: Arc<Recorder>, t0: f64) -> Result<Sampler, BenchError> {
        let (stop, rx) = mpsc::channel::<Instant>();
        // Taken here, not on the new thread: the repetition starts as soon as this returns.
        let (start, base) = (Instant::now(), rec.bytes());
        let thread = std::thread::Builder::new()
            .name("volcrypt-bench-sampler".into())
            .spawn(move || sample(&rec, t0, start, base, &rx))
            .map_err(|e| BenchError::Measure(format!("starting the sampler: {e}")))?;
        Ok(Sampler { stop, thread })
    }

    /// Stops sampling and returns the samples, the last one covering the partial second.
    pub fn stop(self) -> Vec<Sample> {
        let _ = self.stop.send(Instant::now());
        self.thread.join().unwrap_or_default()
    }
}

fn sample(
    rec: &Recorder,
    t0: f64,
    start: Instant,
    base: u64,
    rx: &mpsc::Receiver<Instant>,
) -> Vec<Sample> {
    let mut out = Vec::new();
    let (mut last_t, mut last_b) = (0.0f64, base);
    let mut next = Duration::from_secs(1);
    loop {
        let wait = next.saturating_sub(start.elapsed());
        let (t, stopped) = match rx.recv_timeout(wait) {
            Err(mpsc::RecvTimeoutError::Timeout) => (start.elapsed(), false),
            // The end of the repetition, as the caller saw it.
            Ok(end) => (end.saturating_duration_since(start), true),
            Err(mpsc::RecvTimeoutError::Disconnected) => (start.elapsed(), true),
        };
        let t = t.as_secs_f64();
        let b = rec.bytes();
        let dt = t - last_t;
        if dt > 0.0 && (!stopped || dt >= MIN_TAIL || out.is_empty()) {
            out.push(Sample {
                t: t0 + t,
                rate: b.saturating_sub(last_b) as f64 / dt,
            });
        }
        if stopped {
            return out;
        }
        (last_t, last_b) = (t, b);
        next += Duration::from_secs(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_per_stage_from_many_threads() {
        let rec = Recorder::new(Stage::Chunk);
        std::thread::scope(|s| {
            for _ in 0..4 {
                let r = Arc::clone(&rec);
                s.spawn(move || {
                    for i in 0..1000u64 {
                        r.record(Stage::Chunk, Duration::from_micros(i % 100 + 1), 10);
                    }
                    r.record(Stage::Read, Duration::from_millis(2), 4000);
                });
            }
        });
        assert_eq!(rec.bytes(), 4 * 1000 * 10, "only the counted stage's bytes");
        let mut h = BTreeMap::new();
        rec.drain_into(&mut h).unwrap();
        assert_eq!(h["chunk"].len(), 4000);
        assert_eq!(h["read"].len(), 4);
        assert!(h["read"].value_at_quantile(0.5).abs_diff(2000) <= 2);
        assert!(!h.contains_key("apply"), "unrecorded stages are absent");
    }

    #[test]
    fn sampler_covers_the_run_with_offset() {
        let rec = Recorder::new(Stage::Chunk);
        let s = Sampler::start(Arc::clone(&rec), 5.0).unwrap();
        rec.count(1 << 20);
        std::thread::sleep(Duration::from_millis(150));
        let samples = s.stop();
        let last = samples.last().expect("at least the partial second");
        assert!(last.t >= 5.15, "{samples:?}");
        assert!(samples.windows(2).all(|w| w[0].t < w[1].t), "{samples:?}");
        assert!(samples.iter().any(|x| x.rate > 0.0), "{samples:?}");
    }
}
