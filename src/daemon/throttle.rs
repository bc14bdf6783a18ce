//! Bandwidth limits: a token bucket in its virtual-time form (GCRA).
//!
//! A [`Bucket`] hands out *reservations*: a job that has just written a window of `n` bytes
//! asks for `n` bytes and is told how long to wait before going on. The bucket keeps one
//! number, the theoretical arrival time `tat` of the next byte; each reservation pushes it
//! `n / rate` further, and the caller waits until `tat`. An idle bucket banks at most the
//! burst allowance (`tat` never falls further behind now than that). Reservations are taken in arrival order, so jobs sharing the global bucket
//! queue behind each other window by window, which keeps their progress fair (equal bytes
//! per round) whatever their speed alone would be.
//!
//! Limits apply after the fact (a window is processed, then paid for), which throttles the
//! writer thread and, through the pipeline's bounded channels, the reader and the cipher.
//! The rate can change at any time (SIGHUP); 0 means unlimited.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The burst a bucket allows, as time at its rate: a job that was idle may go this far
/// ahead before it is held back.
const BURST: Duration = Duration::from_millis(250);

#[derive(Debug)]
struct State {
    /// Bytes per second; 0: unlimited.
    rate: u64,
    /// Theoretical arrival time of the next byte.
    tat: Instant,
}

/// A token bucket of `rate` bytes per second (0: unlimited). See the module docs.
#[derive(Debug)]
pub struct Bucket {
    state: Mutex<State>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // The state is two plain numbers, valid after any panic.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Bucket {
    /// A bucket of `rate` bytes per second (0: unlimited).
    pub fn new(rate: u64) -> Bucket {
        Bucket {
            state: Mutex::new(State {
                rate,
                tat: Instant::now(),
            }),
        }
    }

    /// The current rate (0: unlimited).
    pub fn rate(&self) -> u64 {
        lock(&self.state).rate
    }

    /// Changes the rate and forgets the debt run up under the old one.
    pub fn set_rate(&self, rate: u64) {
        let mut s = lock(&self.state);
        s.rate = rate;
        s.tat = Instant::now();
    }

    /// Reserves `bytes` at time `now` and returns how long to wait before going on.
    pub fn reserve_at(&self, bytes: u64, now: Instant) -> Duration {
        let mut s = lock(&self.state);
        if s.rate == 0 {
            s.tat = now;
            return Duration::ZERO;
        }
        let cost = Duration::from_secs_f64(bytes as f64 / s.rate as f64);
        // An idle bucket does not bank more than the burst allowance.
        let floor = now.checked_sub(BURST).unwrap_or(now);
        let start = s.tat.max(floor);
        s.tat = start + cost;
        s.tat.saturating_duration_since(now)
    }

    /// Reserves `bytes` now; see [`Self::reserve_at`].
    pub fn reserve(&self, bytes: u64) -> Duration {
        self.reserve_at(bytes, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn unlimited_never_waits() {
        let b = Bucket::new(0);
        let t = Instant::now();
        for _ in 0..100 {
            assert_eq!(b.reserve_at(1 << 30, t), Duration::ZERO);
        }
    }

    #[test]
    fn waits_converge_to_the_rate() {
        // 100 MiB/s, 32 MiB windows arriving back to back (instant work) from a fresh
        // bucket: every window costs 0.32 s, so 10 windows take 3.2 s.
        let b = Bucket::new(100 * MIB);
        let t0 = Instant::now();
        let mut now = t0;
        for _ in 0..10 {
            now += b.reserve_at(32 * MIB, now);
        }
        let secs = (now - t0).as_secs_f64();
        let expect = 3.2;
        assert!(
            (secs - expect).abs() < 0.01,
            "10 x 32 MiB at 100 MiB/s took {secs} s, expected {expect}"
        );
    }

    #[test]
    fn idle_time_banks_only_the_burst() {
        let b = Bucket::new(10 * MIB);
        let t0 = Instant::now();
        // Idle for a minute, then 5 MiB: 0.5 s of cost against 0.25 s of burst.
        let wait = b.reserve_at(5 * MIB, t0 + Duration::from_secs(60));
        assert!(
            (wait.as_secs_f64() - 0.25).abs() < 0.001,
            "waited {wait:?} after idling"
        );
    }

    #[test]
    fn two_jobs_sharing_a_bucket_get_equal_shares() {
        // A fast job (windows every 10 ms alone) and a slow one (every 200 ms) behind a
        // 64 MiB/s bucket: simulated over 60 s, each gets about half.
        let b = Bucket::new(64 * MIB);
        let t0 = Instant::now();
        let end = t0 + Duration::from_secs(60);
        let mut next = [t0, t0];
        let work = [Duration::from_millis(10), Duration::from_millis(200)];
        let mut bytes = [0u64; 2];
        loop {
            let i = if next[0] <= next[1] { 0 } else { 1 };
            if next[i] >= end {
                break;
            }
            let done = next[i] + work[i];
            bytes[i] += 16 * MIB;
            next[i] = done + b.reserve_at(16 * MIB, done);
        }
        let total = (bytes[0] + bytes[1]) as f64;
        let share = bytes[1] as f64 / total;
        assert!(
            (0.4..=0.6).contains(&share),
            "slow job share {share:.2} of {total} bytes"
        );
        let rate = total / 60.0 / MIB as f64;
        assert!((rate - 64.0).abs() < 2.0, "aggregate {rate:.1} MiB/s");
    }

    #[test]
    fn rate_changes_take_effect() {
        let b = Bucket::new(MIB);
        assert_eq!(b.rate(), MIB);
        b.set_rate(0);
        assert_eq!(b.reserve(1 << 30), Duration::ZERO);
        b.set_rate(MIB);
        assert!(b.reserve(10 * MIB) > Duration::from_secs(9));
    }
}
