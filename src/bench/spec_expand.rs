//! Expanding a job into sweep points: the cross product of its list-valued keys, over the
//! keys that apply to each workload, each point labelled uniquely.

use super::value::size_label;
use super::{Crypto, Job, Point, Workload};
use crate::bench::model::Case;
use crate::format::Resilience;
use crate::io::EngineKind;

pub(super) fn expand(j: usize, job: &Job, out: &mut Vec<Point>) {
    let multi = |n: usize| n > 1;
    for &w in &job.workloads {
        let k = w.keys();
        let uses = |key: &str| k.contains(&key);
        let sizes: &[u64] = if w == Workload::Kms { &[0] } else { &job.sizes };
        let threads: &[usize] = if uses("threads") { &job.threads } else { &[1] };
        let chunks: &[u64] = if uses("chunk_size") {
            &job.chunk_sizes
        } else {
            &[0]
        };
        let io: Vec<Option<EngineKind>> = if uses("io") {
            let ok = job.io.iter().copied().filter(|&e| super::io_runs(w, e));
            ok.map(Some).collect()
        } else {
            vec![None]
        };
        let crypto: Vec<Option<Crypto>> = if uses("crypto") {
            let ok = job
                .crypto
                .iter()
                .copied()
                .filter(|&c| super::crypto_runs(w, c));
            ok.map(Some).collect()
        } else {
            vec![None]
        };
        let res: &[Resilience] = if uses("resilience") {
            &job.resilience
        } else {
            &[Resilience::None]
        };
        for &size in sizes {
            for &t in threads {
                for &c in chunks {
                    for &e in &io {
                        for &cr in &crypto {
                            for &r in res {
                                let mut name = match (job.name.as_str(), multi(job.workloads.len()))
                                {
                                    ("", _) => w.name().to_owned(),
                                    (n, true) => format!("{n}-{}", w.name()),
                                    (n, false) => n.to_owned(),
                                };
                                if multi(sizes.len()) {
                                    name.push_str(&format!("-s{}", size_label(size)));
                                }
                                if multi(res.len()) {
                                    name.push_str(&format!("-{}", r.name()));
                                }
                                let case = Case {
                                    workload: w.name().into(),
                                    job: name,
                                    size,
                                    threads: t,
                                    chunk_size: c,
                                    io: e.map_or("none", EngineKind::name).into(),
                                    backend: cr.map_or("none", Crypto::name).into(),
                                    resilience: r.name().into(),
                                };
                                out.push(Point {
                                    case,
                                    job: j,
                                    workload: w,
                                    size,
                                    threads: t,
                                    chunk_size: c,
                                    io: e,
                                    crypto: cr,
                                    resilience: r,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
}
