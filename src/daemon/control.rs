//! The live side of a running job: its progress counters, its bandwidth limits, and the
//! switches that stop it (cancel, drain) or hold it (pause).
//!
//! [`JobControl`] is the engine's [`Progress`] receiver. The engine calls
//! [`Progress::advance`] on its writer thread after each window is written and checkpointed,
//! so everything that holds a job back happens there, at a point where the volume is
//! consistent: the bandwidth wait (per-job and global buckets), and pause, which blocks until
//! resume. Cancel and drain set the engine's cancel flag, which stops the pass after the
//! current window; they also wake a paused or throttled job so it stops promptly.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::model::Op;
use super::throttle::Bucket;
use crate::engine::Progress;

/// Why a job stopped before finishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `cancel`: the job ends as cancelled.
    Cancel,
    /// The daemon is shutting down (SIGTERM): the job stays active and resumes on the next
    /// start.
    Drain,
}

#[derive(Debug, Default)]
struct Switches {
    paused: bool,
    stop: Option<StopReason>,
}

/// A point in a job's progress, for status and metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// Bytes the operation covers.
    pub total: u64,
    /// Bytes done, including work done before this run (checkpoints).
    pub done: u64,
    /// Throughput of this run, bytes per second.
    pub bytes_per_sec: f64,
    /// True while held by pause.
    pub paused: bool,
}

/// The live state of one running job. See the module docs.
#[derive(Debug)]
pub struct JobControl {
    op: Op,
    cancel: Arc<AtomicBool>,
    switches: Mutex<Switches>,
    wake: Condvar,
    total: AtomicU64,
    done: AtomicU64,
    /// Bytes done when this run began (resumed work does not count toward its throughput).
    base: AtomicU64,
    /// Time this run spent paused, in microseconds (not counted toward throughput).
    paused_us: AtomicU64,
    started: Instant,
    job: Bucket,
    /// Bumped when a limit changes, so a throttle wait computed under the old limit ends.
    generation: AtomicU64,
    /// The job has its own limit (`bandwidth` in its spec): reloads leave it alone.
    own_rate: AtomicBool,
    global: Arc<Bucket>,
}

fn lock(m: &Mutex<Switches>) -> MutexGuard<'_, Switches> {
    // Two flags, valid after any panic.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Longest single sleep while throttled, so cancel and drain are seen promptly.
const SLICE: Duration = Duration::from_millis(50);

impl JobControl {
    /// A job of operation `op` limited to `job_rate` bytes/s (0: unlimited) and sharing `global`.
    pub fn new(op: Op, job_rate: u64, global: Arc<Bucket>) -> JobControl {
        JobControl {
            op,
            cancel: Arc::new(AtomicBool::new(false)),
            switches: Mutex::new(Switches::default()),
            wake: Condvar::new(),
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            base: AtomicU64::new(0),
            paused_us: AtomicU64::new(0),
            started: Instant::now(),
            job: Bucket::new(job_rate),
            own_rate: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            global,
        }
    }

    /// The job's operation.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The flag to hand the engine ([`RunOptions::cancel`](crate::engine::RunOptions)).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// Stops the job after the current window. The first reason given wins.
    pub fn stop(&self, why: StopReason) {
        let mut s = lock(&self.switches);
        s.stop.get_or_insert(why);
        self.cancel.store(true, Ordering::SeqCst);
        self.wake.notify_all();
    }

    /// Why the job was stopped, if it was.
    pub fn stopped(&self) -> Option<StopReason> {
        lock(&self.switches).stop
    }

    /// Holds (`true`) or releases the job at its next window boundary.
    pub fn set_paused(&self, paused: bool) {
        lock(&self.switches).paused = paused;
        self.wake.notify_all();
    }

    /// True while pause is set.
    pub fn is_paused(&self) -> bool {
        lock(&self.switches).paused
    }

    /// Sets this job's own limit (bytes/s), which reloads of the default leave alone.
    pub fn set_own_rate(&self, rate: u64) {
        self.own_rate.store(true, Ordering::Relaxed);
        self.job.set_rate(rate);
        self.limits_changed();
    }

    /// Changes the default per-job limit (bytes/s, 0: unlimited) unless the job has its own.
    pub fn set_default_rate(&self, rate: u64) {
        if !self.own_rate.load(Ordering::Relaxed) {
            self.job.set_rate(rate);
        }
        self.limits_changed();
    }

    /// Ends a throttle wait computed under the old limits (the global one changed too).
    pub fn limits_changed(&self) {
        let _s = lock(&self.switches);
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_all();
    }

    /// Progress now.
    pub fn snapshot(&self) -> Snapshot {
        let done = self.done.load(Ordering::Relaxed);
        let paused = Duration::from_micros(self.paused_us.load(Ordering::Relaxed));
        let secs = self.started.elapsed().saturating_sub(paused).as_secs_f64();
        let run = done.saturating_sub(self.base.load(Ordering::Relaxed));
        Snapshot {
            total: self.total.load(Ordering::Relaxed),
            done,
            bytes_per_sec: if secs > 0.0 { run as f64 / secs } else { 0.0 },
            paused: self.is_paused(),
        }
    }

    /// Sleeps `d` in slices, returning early once the job is stopped or its limits change.
    fn sleep(&self, d: Duration) {
        let until = Instant::now() + d;
        let gen = self.generation.load(Ordering::SeqCst);
        let mut s = lock(&self.switches);
        while s.stop.is_none() && self.generation.load(Ordering::SeqCst) == gen {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            s = match self.wake.wait_timeout(s, left.min(SLICE)) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Blocks while paused (and not stopped).
    fn hold(&self) {
        let t = Instant::now();
        let mut s = lock(&self.switches);
        while s.paused && s.stop.is_none() {
            s = match self.wake.wait(s) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
        }
        let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.paused_us.fetch_add(us, Ordering::Relaxed);
    }
}

impl Progress for JobControl {
    fn begin(&self, total: u64, done: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
        self.base.store(done, Ordering::Relaxed);
        // A job paused while it was opening holds before its first window.
        self.hold();
    }

    fn advance(&self, bytes: u64) {
        self.done.fetch_add(bytes, Ordering::Relaxed);
        let wait = self.job.reserve(bytes).max(self.global.reserve(bytes));
        if !wait.is_zero() {
            self.sleep(wait);
        }
        self.hold();
    }

    fn finish(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_resumed_work_but_not_in_throughput() {
        let c = JobControl::new(Op::Encrypt, 0, Arc::new(Bucket::new(0)));
        c.begin(100, 40);
        c.advance(10);
        let s = c.snapshot();
        assert_eq!((s.total, s.done), (100, 50));
        assert!(!s.paused);
    }

    #[test]
    fn pause_holds_the_writer_until_resumed_or_stopped() {
        let c = Arc::new(JobControl::new(Op::Encrypt, 0, Arc::new(Bucket::new(0))));
        c.begin(100, 0);
        c.set_paused(true);
        let (tx, rx) = std::sync::mpsc::channel();
        let c2 = Arc::clone(&c);
        let t = std::thread::spawn(move || {
            c2.advance(10);
            tx.send(()).ok();
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "advance returned while paused"
        );
        assert!(c.snapshot().paused);
        c.set_paused(false);
        assert!(rx.recv_timeout(Duration::from_secs(10)).is_ok());
        t.join().ok();

        // Stop wakes a paused job, and sets the engine's flag.
        c.set_paused(true);
        let c3 = Arc::clone(&c);
        let t = std::thread::spawn(move || c3.advance(10));
        c.stop(StopReason::Drain);
        t.join().ok();
        assert!(c.cancel_flag().load(Ordering::SeqCst));
        c.stop(StopReason::Cancel);
        assert_eq!(c.stopped(), Some(StopReason::Drain), "first reason wins");
    }

    #[test]
    fn stop_cuts_a_throttle_wait_short() {
        // 1 byte/s: a 1 MiB window would wait 12 days.
        let c = Arc::new(JobControl::new(Op::Encrypt, 1, Arc::new(Bucket::new(0))));
        c.begin(1 << 20, 0);
        let c2 = Arc::clone(&c);
        let t = std::thread::spawn(move || c2.advance(1 << 20));
        std::thread::sleep(Duration::from_millis(100));
        c.stop(StopReason::Cancel);
        assert!(t.join().is_ok(), "the throttled writer returned after stop");
        assert_eq!(c.stopped(), Some(StopReason::Cancel));
    }
}
