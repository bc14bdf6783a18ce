//! One connection's task: send the plan's requests back to back until the end of the run,
//! timing each one, and count what failed (reconnecting when the server closed the
//! connection or a request failed in transport).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::client::{self, Connection, Target};
use super::{Plan, REQUEST_TIMEOUT};

/// What one connection's task saw.
pub(super) struct TaskStats {
    pub(super) hist: [Histogram<u64>; 2],
    pub(super) errors: BTreeMap<String, u64>,
    pub(super) warmup_errors: BTreeMap<String, u64>,
    pub(super) reconnects: u64,
}

/// What every connection task reads: where to send, what, and the measured window.
pub(super) struct Shared {
    pub(super) target: Target,
    pub(super) plan: Plan,
    pub(super) measure_from: Instant,
    pub(super) end: Instant,
}

pub(super) async fn worker(
    shared: Arc<Shared>,
    first: Connection,
    mut stats: TaskStats,
    index: u64,
) -> TaskStats {
    let mut conn = Some(first);
    let mut n = index;
    while Instant::now() < shared.end {
        let c = match conn.as_mut() {
            Some(c) if !c.is_closed() => c,
            _ => match Connection::open(shared.target.addr).await {
                Ok(c) => {
                    stats.reconnects += 1;
                    conn.insert(c)
                }
                Err(e) => {
                    count_error(&shared, &mut stats, Instant::now(), short(&e.to_string()));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let kind = shared.plan.kind(n);
        n += 1;
        let body = &shared.plan.bodies[kind as usize];
        let req = match shared.target.request(kind.action(), body) {
            Ok(r) => r,
            Err(e) => {
                count_error(&shared, &mut stats, Instant::now(), e.to_string());
                continue;
            }
        };
        let t0 = Instant::now();
        let res = tokio::time::timeout(REQUEST_TIMEOUT, c.send(req)).await;
        let t1 = Instant::now();
        let outcome = match res {
            Err(_) => Err("Timeout".to_owned()),
            Ok(Err(e)) => Err(short(&format!("transport: {e}"))),
            Ok(Ok(reply)) => {
                let r = client::classify(&reply, kind.success_member());
                if reply.close {
                    conn = None;
                }
                r
            }
        };
        match outcome {
            Ok(()) => {
                if t1 >= shared.measure_from && t1 <= shared.end {
                    let us = u64::try_from((t1 - t0).as_micros()).unwrap_or(u64::MAX);
                    stats.hist[kind as usize].saturating_record(us.max(1));
                }
            }
            Err(code) => {
                if code.starts_with("transport") || code == "Timeout" {
                    conn = None;
                }
                count_error(&shared, &mut stats, t1, code);
            }
        }
    }
    stats
}

fn short(s: &str) -> String {
    s.chars().take(120).collect()
}

fn count_error(shared: &Shared, stats: &mut TaskStats, at: Instant, code: String) {
    let map = if at < shared.measure_from {
        &mut stats.warmup_errors
    } else {
        &mut stats.errors
    };
    *map.entry(code).or_insert(0) += 1;
}
