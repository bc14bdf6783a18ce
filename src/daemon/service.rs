//! The job service: submission, the scheduler, workers, and the control verbs (cancel,
//! pause, resume, drain, reload). The API layer ([`super::api`]) only translates HTTP to
//! calls here.
//!
//! - **Admission.** A spec is checked ([`super::spec::check`]); every path it writes
//!   (volume, header, output) must be free of other active jobs, and the job store's unique
//!   index enforces the volume rule again on disk, so two jobs never run on one volume, even
//!   across restarts.
//! - **Scheduling.** Queued jobs start in submission order while fewer than
//!   `jobs.max_concurrent` run. Each runs on its own thread (the engine's reader and writer
//!   threads under it), and all of them seal and open chunks on one shared rayon pool, whose
//!   FIFO injector interleaves their windows.
//! - **Restart.** Active jobs in the store are taken up again on start: queued and
//!   interrupted running jobs are queued, paused ones stay paused.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use super::config::Config;
use super::control::{JobControl, StopReason};
use super::keys::KeySource;
use super::model::{JobRecord, JobSpec, JobState, Op};
use super::spec;
use super::store::{JobStore, StoreError};
use super::throttle::Bucket;
use super::view::JobView;
use super::DaemonError;
use crate::metrics::Metrics;

#[path = "worker.rs"]
mod worker;

/// Why the service refused a request (mapped to an HTTP status by the API).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The spec is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// No such job (404).
    #[error("no job {0}")]
    NotFound(u64),
    /// The volume or a path is taken, or the job is in the wrong state (409).
    #[error("{0}")]
    Conflict(String),
    /// The daemon is shutting down (503).
    #[error("the daemon is shutting down; submit again after it restarts")]
    Draining,
    /// The job store failed (500).
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(id) => Refusal::NotFound(id),
            e @ StoreError::VolumeBusy { .. } => Refusal::Conflict(e.to_string()),
            e => Refusal::Store(e),
        }
    }
}

#[derive(Default)]
struct Sched {
    /// Queued jobs and their operations, in submission order.
    queue: VecDeque<(u64, Op)>,
    running: HashMap<u64, Arc<JobControl>>,
    /// Path -> the active job that writes it.
    claims: HashMap<String, u64>,
    draining: bool,
}

/// The job service. See the module docs.
pub struct Service {
    config: Config,
    store: JobStore,
    keys: KeySource,
    metrics: Arc<Metrics>,
    pool: Arc<rayon::ThreadPool>,
    global: Arc<Bucket>,
    job_rate: std::sync::atomic::AtomicU64,
    sched: Mutex<Sched>,
    changed: Condvar,
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        src = s.source();
    }
    text
}

impl Service {
    /// Opens the store, builds the shared pool, and takes up the jobs a previous run left
    /// active. Call [`Self::spawn_scheduler`] next.
    pub fn open(config: Config, metrics: Arc<Metrics>) -> Result<Arc<Service>, DaemonError> {
        let store = JobStore::open(&config.daemon.data_dir)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.engine.threads.max(1))
            .thread_name(|i| format!("volcrypt-cipher-{i}"))
            .build()
            .map_err(|e| DaemonError::Start(format!("starting the cipher pool: {e}")))?;
        crate::io::set_queue_depth(config.engine.queue_depth);
        let keys = KeySource::new(
            config.kms.clone(),
            config.cache.clone(),
            Arc::clone(&metrics),
        );
        let svc = Service {
            global: Arc::new(Bucket::new(config.jobs.bandwidth)),
            job_rate: config.jobs.job_bandwidth.into(),
            config,
            store,
            keys,
            metrics,
            pool: Arc::new(pool),
            sched: Mutex::new(Sched::default()),
            changed: Condvar::new(),
        };
        {
            let mut s = svc.lock();
            for rec in svc.store.active()? {
                if let Ok(c) = spec::check(&rec.spec, &svc.config.engine) {
                    for p in c.claims {
                        s.claims.insert(p, rec.id);
                    }
                } else {
                    s.claims.insert(rec.volume_key.clone(), rec.id);
                }
                if rec.state != JobState::Paused {
                    svc.store.set_state(rec.id, JobState::Queued, None, now())?;
                    s.queue.push_back((rec.id, rec.spec.op));
                }
                tracing::info!(job = rec.id, op = %rec.spec.op, state = %rec.state, "taken up after restart");
            }
        }
        Ok(Arc::new(svc))
    }

    fn lock(&self) -> MutexGuard<'_, Sched> {
        // Queue and maps of ids: valid after any panic.
        self.sched.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The metrics this service records into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Accepts a new job.
    pub fn submit(&self, spec: JobSpec) -> Result<JobView, Refusal> {
        let c = spec::check(&spec, &self.config.engine)
            .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let mut s = self.lock();
        if s.draining {
            return Err(Refusal::Draining);
        }
        if let Some((p, j)) = c
            .claims
            .iter()
            .find_map(|p| s.claims.get(p).map(|j| (p, *j)))
        {
            return Err(Refusal::Conflict(format!(
                "{p} is in use by job {j}; wait for it or cancel it"
            )));
        }
        let rec = self.store.insert(&spec, &c.volume_key, now())?;
        for p in c.claims {
            s.claims.insert(p, rec.id);
        }
        s.queue.push_back((rec.id, rec.spec.op));
        self.changed.notify_all();
        tracing::info!(job = rec.id, op = %spec.op, volume = %spec.volume.display(), "job submitted");
        Ok(JobView::of(rec, None))
    }

    fn view(&self, rec: JobRecord, s: &Sched) -> JobView {
        let live = s.running.get(&rec.id).map(|c| c.snapshot());
        JobView::of(rec, live)
    }

    /// One job, with live progress when it runs.
    pub fn status(&self, id: u64) -> Result<JobView, Refusal> {
        let rec = self.store.get(id)?;
        Ok(self.view(rec, &self.lock()))
    }

    /// Every job, newest first.
    pub fn list(&self) -> Result<Vec<JobView>, Refusal> {
        let recs = self.store.list(None)?;
        let s = self.lock();
        Ok(recs.into_iter().map(|r| self.view(r, &s)).collect())
    }

    /// Cancels a job: a running one stops at its next window checkpoint.
    pub fn cancel(&self, id: u64) -> Result<JobView, Refusal> {
        let rec = self.store.get(id)?;
        let mut s = self.lock();
        if let Some(ctl) = s.running.get(&id) {
            ctl.stop(StopReason::Cancel);
        } else if rec.state.is_active() {
            s.queue.retain(|(j, _)| *j != id);
            s.claims.retain(|_, j| *j != id);
            self.store.set_state(
                id,
                JobState::Cancelled,
                Some("cancelled before it ran"),
                now(),
            )?;
        } else {
            return Err(Refusal::Conflict(format!(
                "job {id} is already {}",
                rec.state
            )));
        }
        drop(s);
        self.status(id)
    }

    /// Pauses a job at its next window checkpoint (a queued job is held back).
    pub fn pause(&self, id: u64) -> Result<JobView, Refusal> {
        let rec = self.store.get(id)?;
        let mut s = self.lock();
        match rec.state {
            JobState::Running | JobState::Queued => {
                if let Some(ctl) = s.running.get(&id) {
                    ctl.set_paused(true);
                }
                s.queue.retain(|(j, _)| *j != id);
                self.store.set_state(id, JobState::Paused, None, now())?;
            }
            JobState::Paused => {}
            st => {
                return Err(Refusal::Conflict(format!(
                    "job {id} is {st}; only queued or running jobs pause"
                )))
            }
        }
        drop(s);
        self.status(id)
    }

    /// Resumes a paused job.
    pub fn resume(&self, id: u64) -> Result<JobView, Refusal> {
        let rec = self.store.get(id)?;
        if rec.state != JobState::Paused {
            return Err(Refusal::Conflict(format!(
                "job {id} is {}, not paused",
                rec.state
            )));
        }
        let mut s = self.lock();
        if let Some(ctl) = s.running.get(&id) {
            self.store.set_state(id, JobState::Running, None, now())?;
            ctl.set_paused(false);
        } else {
            self.store.set_state(id, JobState::Queued, None, now())?;
            s.queue.push_back((id, rec.spec.op));
            self.changed.notify_all();
        }
        drop(s);
        self.status(id)
    }

    /// Writes the running jobs' progress to the store and their throughput to the metrics
    /// (called about once a second).
    pub fn tick(&self) {
        let running: Vec<(u64, Arc<JobControl>)> = self
            .lock()
            .running
            .iter()
            .map(|(i, c)| (*i, Arc::clone(c)))
            .collect();
        let mut by_op: HashMap<Op, f64> = HashMap::new();
        for (id, ctl) in running {
            let snap = ctl.snapshot();
            let _ = self.store.set_progress(id, snap.done, snap.total);
            *by_op.entry(ctl.op()).or_default() += snap.bytes_per_sec;
        }
        for op in Op::ALL {
            self.metrics
                .set_throughput(op.name(), by_op.get(&op).copied().unwrap_or(0.0));
        }
    }

    /// Refreshes the gauges computed at scrape time.
    pub fn refresh_metrics(&self) {
        if let Ok(counts) = self.store.counts() {
            let c: Vec<(&'static str, u64)> =
                counts.into_iter().map(|(s, n)| (s.name(), n)).collect();
            self.metrics.set_jobs(&c);
        }
        if let Some(m) = self.keys.cache_metrics() {
            self.metrics.set_cache(&m);
        }
    }

    /// The settings `new` changes that only a restart applies.
    pub fn restart_only_changes(&self, new: &Config) -> Vec<&'static str> {
        self.config.reload_diff(new)
    }

    /// Applies the reloadable settings of `new` (SIGHUP): cache limits and bandwidths.
    pub fn reload(&self, new: &Config) {
        self.keys.reload(new.cache.clone());
        self.global.set_rate(new.jobs.bandwidth);
        self.job_rate
            .store(new.jobs.job_bandwidth, std::sync::atomic::Ordering::Relaxed);
        for ctl in self.lock().running.values() {
            ctl.set_default_rate(new.jobs.job_bandwidth);
        }
    }

    /// Stops taking jobs, stops every running job at its next checkpoint, and waits for
    /// them (SIGTERM). The jobs stay active in the store and resume on the next start.
    pub fn drain(&self) {
        let mut s = self.lock();
        s.draining = true;
        for ctl in s.running.values() {
            ctl.stop(StopReason::Drain);
        }
        while !s.running.is_empty() {
            s = match self.changed.wait(s) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
        }
    }
}
