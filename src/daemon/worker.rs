//! The job service's threads: the scheduler, which starts queued jobs while slots are free,
//! and one worker per running job, which runs it on the engine and records how it ended
//! (succeeded, failed, cancelled, or left active for the next start after a drain).

use std::sync::Arc;

use super::super::control::{JobControl, StopReason};
use super::super::exec::{self, Env, Outcome};
use super::super::model::JobState;
use super::super::spec;
use super::super::DaemonError;
use super::{error_text, now, Service};

impl Service {
    /// Starts the scheduler thread.
    pub fn spawn_scheduler(self: &Arc<Self>) -> Result<(), DaemonError> {
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("volcrypt-sched".into())
            .spawn(move || me.schedule())
            .map(|_| ())
            .map_err(|e| DaemonError::Start(format!("starting the scheduler: {e}")))
    }

    fn schedule(self: Arc<Self>) {
        let mut s = self.lock();
        loop {
            while !s.draining
                && s.running.len() < self.config.jobs.max_concurrent
                && !s.queue.is_empty()
            {
                let Some((id, op)) = s.queue.pop_front() else {
                    break;
                };
                let ctl = Arc::new(JobControl::new(
                    op,
                    self.job_rate.load(std::sync::atomic::Ordering::Relaxed),
                    Arc::clone(&self.global),
                ));
                s.running.insert(id, Arc::clone(&ctl));
                let me = Arc::clone(&self);
                let spawned = std::thread::Builder::new()
                    .name(format!("volcrypt-job-{id}"))
                    .spawn(move || me.work(id, ctl));
                if let Err(e) = spawned {
                    s.running.remove(&id);
                    let _ = self
                        .store
                        .set_state(id, JobState::Failed, Some(&e.to_string()), now());
                }
            }
            s = match self.changed.wait(s) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
        }
    }

    /// One job's thread: run it, record how it ended, free its slot and paths.
    fn work(self: Arc<Self>, id: u64, ctl: Arc<JobControl>) {
        // A panic in a job must not leak its slot (or hang a drain): it fails the job.
        let run = std::panic::AssertUnwindSafe(|| self.run_job(id, &ctl));
        let ended = std::panic::catch_unwind(run).unwrap_or_else(|_| {
            tracing::error!(job = id, "job panicked; recorded as failed");
            let msg = "internal error: the job's thread panicked (see the daemon log)";
            let _ = self.store.set_state(id, JobState::Failed, Some(msg), now());
            Some(JobState::Failed)
        });
        let mut s = self.lock();
        s.running.remove(&id);
        let stays_active = matches!(ended, Some(JobState::Queued | JobState::Paused));
        if !stays_active {
            s.claims.retain(|_, j| *j != id);
        }
        self.changed.notify_all();
    }

    /// Runs job `id`; returns the state it was left in.
    fn run_job(&self, id: u64, ctl: &Arc<JobControl>) -> Option<JobState> {
        let rec = match self.store.get(id) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(job = id, error = %error_text(&e), "job store");
                return None;
            }
        };
        let op = rec.spec.op;
        if let Some(rate) = rec.spec.bandwidth.filter(|r| *r > 0) {
            ctl.set_own_rate(rate);
        }
        let before = spec::check(&rec.spec, &self.config.engine)
            .map(|c| exec::before(&rec, &c))
            .unwrap_or_default();
        if let Err(e) =
            self.store
                .mark_started(id, now(), before.bytes, before.chunk_size, before.version)
        {
            tracing::error!(job = id, error = %error_text(&e), "job store");
            return None;
        }
        let rec = self.store.get(id).unwrap_or(rec);
        tracing::info!(job = id, op = %op, volume = %rec.spec.volume.display(), attempt = rec.attempts, "job started");
        self.metrics.job_started(op.name());
        let env = Env {
            keys: &self.keys,
            engine: &self.config.engine,
            pool: Arc::clone(&self.pool),
            metrics: &self.metrics,
        };
        let t0 = std::time::Instant::now();
        let result = exec::run(&rec, ctl, &env);
        let snap = ctl.snapshot();
        let _ = self.store.set_progress(id, snap.done, snap.total);
        if let Ok(Outcome::Done(summary)) = &result {
            let _ = self.store.set_result(id, summary);
        }
        let (state, error) = match (&result, ctl.stopped()) {
            (Ok(Outcome::Done(_)), _) => (JobState::Succeeded, None),
            (Ok(Outcome::Stopped), Some(StopReason::Cancel)) => (
                JobState::Cancelled,
                Some("cancelled at a window checkpoint; the volume is consistent, and `volcrypt resume` (or the same job again) continues it".to_owned()),
            ),
            (Ok(Outcome::Stopped), _) if ctl.is_paused() => (JobState::Paused, None),
            (Ok(Outcome::Stopped), _) => (JobState::Queued, None),
            (Err(e), _) => (JobState::Failed, Some(error_text(e))),
        };
        match (&result, &error) {
            (Ok(Outcome::Done(_)), _) => tracing::info!(
                job = id, op = %op, bytes = snap.done, secs = t0.elapsed().as_secs_f64(),
                mb_per_s = snap.bytes_per_sec / 1e6, "job succeeded"
            ),
            (_, Some(err)) => {
                tracing::warn!(job = id, op = %op, state = %state, error = %err, "job stopped")
            }
            _ => tracing::info!(job = id, op = %op, state = %state, "job left for the next start"),
        }
        self.metrics.job_finished(op.name(), state.name());
        if let Err(e) = self.store.set_state(id, state, error.as_deref(), now()) {
            tracing::error!(job = id, error = %error_text(&e), "job store");
        }
        Some(state)
    }
}
