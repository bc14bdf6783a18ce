//! The SVG plots of a run (plotters, SVG backend):
//!
//! | file | x | y | one line per |
//! |---|---|---|---|
//! | `throughput-vs-threads.svg` | threads | MB/s (median rep) | job x chunk x io x backend (x size, resilience) |
//! | `throughput-vs-chunk.svg` | chunk size (log 2) | MB/s | job x threads x io x backend |
//! | `latency-percentiles.svg` | percentile, "nines" scale | µs (log) | case (its primary stage) |
//! | `throughput-over-time.svg` | seconds | MB/s | case (its 1 s time series) |
//! | `kms-vs-connections.svg`, `kms-over-time.svg` | connections / seconds | requests/s | `kms` job |
//!
//! A plot is made when it has at least one point; data and `kms` cases never share a
//! throughput axis. On the percentile plot, x = -log10(1 - p/100) (0 = 0 %, 1 = 90 %,
//! 2 = 99 %, 3 = 99.9 %…), HdrHistogram's plotter's scale; the last point is the maximum.

use std::collections::BTreeMap;

use super::svg_chart::{draw, Axis, Chart, Line, Scale};
use super::{primary_stage, Direction};
use crate::bench::error::BenchError;
use crate::bench::model::{BenchReport, Case, CaseResult};

/// One plot file.
#[derive(Debug, Clone)]
pub struct Plot {
    /// File name (`throughput-vs-threads.svg`).
    pub file: String,
    /// Its caption (also the Markdown alt text).
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// A size in bytes as `512`, `4K`, `64K`, `1M`, `1.5M`.
pub fn fmt_size(bytes: f64) -> String {
    let units = [(1u64 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")];
    for (u, s) in units {
        let u = u as f64;
        if bytes >= u {
            let v = bytes / u;
            return if (v - v.round()).abs() < 1e-9 {
                format!("{v:.0}{s}")
            } else {
                format!("{v:.1}{s}")
            };
        }
    }
    format!("{bytes:.0}")
}

/// Tick label of a log2 chunk-size axis: the size at whole powers of two, else nothing.
fn fmt_log2_size(x: f64) -> String {
    if (x - x.round()).abs() < 1e-6 && (0.0..63.0).contains(&x) {
        fmt_size(2f64.powi(x.round() as i32))
    } else {
        String::new()
    }
}

/// Tick label of a whole-number axis (threads): the number, or nothing between numbers.
fn fmt_whole(x: f64) -> String {
    if (x - x.round()).abs() < 1e-6 && x >= 0.0 {
        format!("{x:.0}")
    } else {
        String::new()
    }
}

/// Tick label of a plain number.
fn fmt_num(x: f64) -> String {
    if x.abs() >= 100.0 || (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// Tick label of a "nines" axis at whole x (x = -log10(1 - p/100)) as the percentile `p`
/// (`0%`, `90%`, `99%`, `99.9%`…); nothing between.
pub fn fmt_nines(x: f64) -> String {
    if x < 0.0 || (x - x.round()).abs() > 1e-6 {
        return String::new();
    }
    let x = x.round();
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let s = format!("{p:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// The "nines" coordinate of percentile `p` (0-100): -log10(1 - p/100).
pub fn nines(p: f64) -> f64 {
    -(1.0 - p / 100.0).max(1e-12).log10()
}

/// A line's name: the case with the swept field (`threads` or `chunk`) left out.
fn series_name(c: &Case, without_threads: bool) -> String {
    let mut name = c.job.clone();
    if without_threads && c.chunk_size > 0 {
        name.push_str(&format!(" c{}", fmt_size(c.chunk_size as f64)));
    }
    if !without_threads {
        name.push_str(&format!(" t{}", c.threads));
    }
    for part in [&c.io, &c.backend, &c.resilience] {
        if part != "none" {
            name.push(' ');
            name.push_str(part);
        }
    }
    name
}

/// Lines of `y(case)` against `x(case)`, one per group of cases that differ only in the swept
/// field, points sorted by x.
fn sweep_lines(
    cases: &[&CaseResult],
    without_threads: bool,
    x: impl Fn(&Case) -> f64,
    y: impl Fn(&CaseResult) -> f64,
) -> Vec<Line> {
    let mut groups: BTreeMap<(String, u64), Vec<(f64, f64)>> = BTreeMap::new();
    for r in cases {
        let c = &r.case;
        let key = (series_name(c, without_threads), c.size);
        groups.entry(key).or_default().push((x(c), y(r)));
    }
    // Sizes are named only where one name has several.
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    for (name, _) in groups.keys() {
        *sizes.entry(name.clone()).or_default() += 1;
    }
    groups
        .into_iter()
        .map(|((name, size), mut points)| {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let name = if sizes.get(&name).copied().unwrap_or(0) > 1 {
                format!("{name} {}", fmt_size(size as f64))
            } else {
                name
            };
            Line { name, points }
        })
        .collect()
}

/// Every plot of `report` that has data; `names` are the cases' unique names.
pub fn render_all(report: &BenchReport, names: &[String]) -> Result<Vec<Plot>, BenchError> {
    let m = &report.meta;
    let footer = format!(
        "volcrypt {} ({}) · {} · {} ({} CPUs) · {} · {}",
        m.volcrypt_version, m.git_commit, m.host, m.cpu_model, m.cpus, m.kernel, m.run_id
    );
    let desc = format!(
        "volcrypt {}\ncommit: {}\nrun: {}\nhost: {}\ncpu: {} ({} CPUs)\ncpu flags: {}\nkernel: {}\nstarted: {}\nwarmup: {}, reps: {}\nspec:\n{}",
        m.volcrypt_version, m.git_commit, m.run_id, m.host, m.cpu_model, m.cpus,
        m.cpu_flags.join(" "), m.kernel, m.started, report.warmup, report.reps, m.spec
    );
    let data: Vec<&CaseResult> = report
        .cases
        .iter()
        .filter(|r| Direction::of(&r.case) != Direction::Requests)
        .collect();
    let kms: Vec<&CaseResult> = report
        .cases
        .iter()
        .filter(|r| Direction::of(&r.case) == Direction::Requests)
        .collect();
    let mbs = |r: &CaseResult| r.bw_median / 1e6;
    let threads = |c: &Case| c.threads as f64;
    let mb_axis = Axis {
        desc: "MB/s (median of repetitions)",
        scale: Scale::FromZero,
        fmt: fmt_num,
    };
    let rps_axis = Axis {
        desc: "requests/s",
        scale: Scale::FromZero,
        fmt: fmt_num,
    };
    let seconds = Axis {
        desc: "seconds",
        scale: Scale::Linear,
        fmt: fmt_num,
    };
    let chunked: Vec<&CaseResult> = data
        .iter()
        .copied()
        .filter(|r| r.case.chunk_size > 0)
        .collect();
    let time_lines = |want_kms: bool, scale: f64| -> Vec<Line> {
        report
            .cases
            .iter()
            .zip(names)
            .filter(|(r, _)| {
                (Direction::of(&r.case) == Direction::Requests) == want_kms && !r.series.is_empty()
            })
            .map(|(r, name)| Line {
                name: name.clone(),
                points: r.series.iter().map(|s| (s.t, s.rate / scale)).collect(),
            })
            .collect()
    };
    let latency: Vec<Line> = report
        .cases
        .iter()
        .zip(names)
        .filter_map(|(r, name)| {
            let stage = primary_stage(&r.case.workload, &r.latency)?;
            let s = r.latency.get(stage)?;
            if s.count == 0 {
                return None;
            }
            let mut points: Vec<(f64, f64)> = s
                .percentiles
                .iter()
                .map(|p| (nines(p.percentile), p.value_us as f64))
                .collect();
            let last = points.last().map_or(0.0, |p| p.0);
            let max_x = (s.count as f64).log10();
            if max_x > last {
                points.push((max_x, s.max_us as f64));
            }
            Some(Line {
                name: format!("{name} {stage}"),
                points,
            })
        })
        .collect();

    let specs: Vec<(&str, &str, Axis, Axis, Vec<Line>)> = vec![
        (
            "throughput-vs-threads.svg",
            "Throughput vs threads",
            Axis {
                desc: "threads",
                scale: Scale::Linear,
                fmt: fmt_whole,
            },
            mb_axis,
            sweep_lines(&data, true, threads, mbs),
        ),
        (
            "throughput-vs-chunk.svg",
            "Throughput vs chunk size",
            Axis {
                desc: "chunk size (bytes, log 2)",
                scale: Scale::Linear,
                fmt: fmt_log2_size,
            },
            mb_axis,
            sweep_lines(&chunked, false, |c| (c.chunk_size as f64).log2(), mbs),
        ),
        (
            "latency-percentiles.svg",
            "Latency by percentile (primary stage)",
            Axis {
                desc: "percentile",
                scale: Scale::Linear,
                fmt: fmt_nines,
            },
            Axis {
                desc: "latency (µs)",
                scale: Scale::Log,
                fmt: fmt_num,
            },
            latency,
        ),
        (
            "throughput-over-time.svg",
            "Throughput over time (1 s samples)",
            seconds,
            Axis {
                desc: "MB/s",
                ..mb_axis
            },
            time_lines(false, 1e6),
        ),
        (
            "kms-vs-connections.svg",
            "KMS requests/s vs connections",
            Axis {
                desc: "connections",
                scale: Scale::Linear,
                fmt: fmt_whole,
            },
            rps_axis,
            sweep_lines(&kms, true, threads, |r| r.bw_median),
        ),
        (
            "kms-over-time.svg",
            "KMS requests/s over time (1 s samples)",
            seconds,
            rps_axis,
            time_lines(true, 1.0),
        ),
    ];
    let mut plots = Vec::new();
    for (file, title, x, y, lines) in specs {
        if lines.iter().all(|l| l.points.is_empty()) {
            continue;
        }
        let chart = Chart {
            title,
            footer: &footer,
            desc: &desc,
            x,
            y,
            lines: &lines,
        };
        let svg = draw(&chart).map_err(|message| BenchError::Plot {
            name: file.to_string(),
            message,
        })?;
        plots.push(Plot {
            file: file.into(),
            title: title.into(),
            svg,
        });
    }
    Ok(plots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels() {
        assert_eq!(fmt_size(4096.0), "4K");
        assert_eq!(fmt_size(1536.0 * 1024.0), "1.5M");
        assert_eq!(fmt_size(512.0), "512");
        assert_eq!(fmt_log2_size(16.0), "64K");
        assert_eq!(fmt_log2_size(16.5), "");
        assert_eq!(fmt_whole(4.0), "4");
        assert_eq!(fmt_whole(4.5), "");
        assert_eq!(fmt_nines(0.0), "0%");
        assert_eq!(fmt_nines(1.0), "90%");
        assert_eq!(fmt_nines(3.0), "99.9%");
        assert!((nines(99.0) - 2.0).abs() < 1e-9);
        assert!((nines(50.0) - std::f64::consts::LOG10_2).abs() < 1e-9);
    }
}
