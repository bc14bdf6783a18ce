//! Latency reports from an `hdrhistogram::Histogram<u64>` of microseconds: summary statistics
//! with percentiles at fio's default list, fio-shaped percentile lines, and HdrHistogram's
//! `.hgrm` percentile distribution text (what Java's `outputPercentileDistribution` and
//! `HistogramLogProcessor` print, and what the HdrHistogram plotter reads).

use hdrhistogram::Histogram;
use serde::Serialize;

/// fio's default `percentile_list`.
pub const FIO_PERCENTILES: [f64; 17] = [
    1.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95,
    99.99,
];

/// One percentile of a latency distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Percentile {
    /// The percentile, 0-100 (`99.9`).
    pub percentile: f64,
    /// The latency at or below which that share of requests completed, in microseconds (the
    /// highest value equivalent to the recorded one at the histogram's precision).
    pub value_us: u64,
}

/// Summary statistics of a latency histogram (microseconds).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LatencyStats {
    /// Number of recorded latencies.
    pub count: u64,
    /// Smallest latency (0 when nothing was recorded).
    pub min_us: u64,
    /// Largest latency (at the histogram's precision).
    pub max_us: u64,
    /// Mean latency.
    pub mean_us: f64,
    /// Standard deviation.
    pub stdev_us: f64,
    /// Latencies at [`FIO_PERCENTILES`].
    pub percentiles: Vec<Percentile>,
}

impl LatencyStats {
    /// Computes the statistics of `h` (values in microseconds).
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        let empty = h.is_empty();
        let percentiles = FIO_PERCENTILES
            .iter()
            .map(|&p| Percentile {
                percentile: p,
                value_us: if empty {
                    0
                } else {
                    h.value_at_quantile(p / 100.0)
                },
            })
            .collect();
        LatencyStats {
            count: h.len(),
            min_us: if empty { 0 } else { h.min() },
            max_us: if empty { 0 } else { h.max() },
            mean_us: if empty { 0.0 } else { h.mean() },
            stdev_us: if empty { 0.0 } else { h.stdev() },
            percentiles,
        }
    }

    /// The latency at percentile `p` if it is one of [`FIO_PERCENTILES`].
    pub fn at(&self, p: f64) -> Option<u64> {
        self.percentiles
            .iter()
            .find(|x| (x.percentile - p).abs() < 1e-9)
            .map(|x| x.value_us)
    }
}

/// fio's `clat percentiles (usec):` block: four percentiles a line, `|`-prefixed, each line
/// ending in `,` but the last.
pub fn fio_percentile_lines(stats: &LatencyStats) -> String {
    let width = stats
        .percentiles
        .iter()
        .map(|p| p.value_us.to_string().len())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut out = String::from("    clat percentiles (usec):\n");
    let n = stats.percentiles.len();
    for (j, p) in stats.percentiles.iter().enumerate() {
        if j % 4 == 0 {
            out.push_str("     |");
        }
        let last = j + 1 == n;
        out.push_str(&format!(
            " {:5.2}th=[{:>width$}]{}",
            p.percentile,
            p.value_us,
            if last { "" } else { "," }
        ));
        if last || j % 4 == 3 {
            out.push('\n');
        }
    }
    out
}

/// Number of sub-buckets HdrHistogram uses for `sigfig` significant digits.
fn sub_bucket_count(sigfig: u8) -> u64 {
    let largest = 2.0 * 10f64.powi(i32::from(sigfig));
    1u64 << (largest.log2().ceil() as u32)
}

/// HdrHistogram's percentile distribution text (`.hgrm`) of `h`, values divided by
/// `unit_ratio` (1000.0 turns recorded microseconds into milliseconds), with
/// `ticks_per_half_distance` rows per halving of the distance to 100% (Java's default is 5).
///
/// Columns: Value, Percentile, TotalCount, 1/(1-Percentile); the last row (percentile 1.0)
/// has no fourth column; then the `#[Mean …]`, `#[Max …]` and `#[Buckets …]` footer.
pub fn hgrm(h: &Histogram<u64>, unit_ratio: f64, ticks_per_half_distance: u32) -> String {
    let digits = usize::from(h.sigfig());
    let mut out = format!(
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    if !h.is_empty() {
        for v in h.iter_quantiles(ticks_per_half_distance.max(1)) {
            total += v.count_since_last_iteration();
            let value = v.value_iterated_to() as f64 / unit_ratio;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                out.push_str(&format!(
                    "{value:12.digits$} {q:2.12} {total:10} {:14.2}\n",
                    1.0 / (1.0 - q)
                ));
            } else {
                out.push_str(&format!("{value:12.digits$} {q:2.12} {total:10}\n"));
            }
        }
    }
    let (mean, stdev, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            h.mean() / unit_ratio,
            h.stdev() / unit_ratio,
            h.max() as f64 / unit_ratio,
        )
    };
    out.push_str(&format!(
        "#[Mean    = {mean:12.digits$}, StdDeviation   = {stdev:12.digits$}]\n"
    ));
    out.push_str(&format!(
        "#[Max     = {max:12.digits$}, Total count    = {:12}]\n",
        h.len()
    ));
    out.push_str(&format!(
        "#[Buckets = {:12}, SubBuckets     = {:12}]\n",
        h.buckets(),
        sub_bucket_count(h.sigfig())
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform(n: u64) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in 1..=n {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn stats_follow_the_distribution() {
        let s = LatencyStats::from_histogram(&uniform(10_000));
        assert_eq!(s.count, 10_000);
        assert_eq!(s.min_us, 1);
        assert!((s.max_us as i64 - 10_000).abs() <= 10, "{}", s.max_us);
        assert!((s.mean_us - 5000.5).abs() < 5.0, "{}", s.mean_us);
        assert_eq!(s.percentiles.len(), FIO_PERCENTILES.len());
        let p50 = s.at(50.0).unwrap();
        assert!((p50 as i64 - 5000).abs() <= 5, "{p50}");
        let p99 = s.at(99.0).unwrap();
        assert!((p99 as i64 - 9900).abs() <= 10, "{p99}");
        assert!(s.at(42.0).is_none());
        let values: Vec<u64> = s.percentiles.iter().map(|p| p.value_us).collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        let h = Histogram::<u64>::new(3).unwrap();
        let s = LatencyStats::from_histogram(&h);
        assert_eq!((s.count, s.min_us, s.max_us), (0, 0, 0));
        assert!(s.percentiles.iter().all(|p| p.value_us == 0));
        let text = hgrm(&h, 1.0, 5);
        assert!(text.contains("Total count    =            0]"), "{text}");
    }

    #[test]
    fn fio_lines_have_fios_shape() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in [100, 200, 300, 400, 1_234_567] {
            h.record(v).unwrap();
        }
        let s = LatencyStats::from_histogram(&h);
        let text = fio_percentile_lines(&s);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "    clat percentiles (usec):");
        assert_eq!(lines.len(), 1 + 5, "{text}");
        assert!(
            lines[1].starts_with("     |  1.00th=[    100],  5.00th=[    100],"),
            "{text}"
        );
        assert!(lines[1].ends_with("20.00th=[    100],"), "{text}");
        assert_eq!(lines[5], "     | 99.99th=[1234943]", "{text}");
    }

    #[test]
    fn hgrm_matches_hdrhistograms_format() {
        let h = uniform(10_000);
        let text = hgrm(&h, 1000.0, 5);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        // First row: the minimum, percentile 0, one count, 1/(1-0) = 1.
        assert_eq!(
            lines[2],
            "       0.001 0.000000000000          1           1.00"
        );
        let rows: Vec<Vec<&str>> = lines[2..]
            .iter()
            .take_while(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect())
            .collect();
        let last = rows.last().unwrap();
        assert_eq!(last.len(), 3, "last row has no 1/(1-p) column");
        assert_eq!(last[1], "1.000000000000");
        assert_eq!(last[2], "10000");
        // Percentiles and counts never decrease; 1/(1-p) matches p.
        let mut prev = (0.0f64, 0u64);
        for r in &rows {
            let p: f64 = r[1].parse().unwrap();
            let c: u64 = r[2].parse().unwrap();
            assert!(p >= prev.0 && c >= prev.1, "{r:?}");
            if r.len() == 4 {
                let inv: f64 = r[3].parse().unwrap();
                assert!((inv - 1.0 / (1.0 - p)).abs() <= 0.0051, "{r:?}");
            }
            prev = (p, c);
        }
        // Median row exists at 0.5 and is ~5 ms.
        let median = rows.iter().find(|r| r[1] == "0.500000000000").unwrap();
        let v: f64 = median[0].parse().unwrap();
        assert!((v - 5.0).abs() < 0.01, "{v}");
        assert!(text.contains("#[Mean    =        5.001, StdDeviation   =        2.887]"));
        assert!(text.contains("#[Max     =       10.007, Total count    =        10000]"));
        assert!(text.contains("#[Buckets =            4, SubBuckets     =         2048]"));
    }
}
