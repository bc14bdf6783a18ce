//! `volcrypt bench run`: fio-style benchmark runs from flags or a TOML job file (see
//! `scripts/bench-jobs/`), writing `results/<run-id>/` (fio-shaped summary and JSON, CSV,
//! `.hgrm` histograms, a Markdown report, SVG plots).
//!
//! Progress goes to stderr, one line per case; the results directory is the last line on
//! stderr and the only line on stdout (for scripts). SIGINT/SIGTERM stop after the current
//! window and write the cases finished so far.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::bench::model::CaseResult;
use crate::bench::runner::{self, Event};
use crate::bench::spec::Spec;

/// `volcrypt bench run`.
#[derive(Debug, Args)]
pub struct RunBenchArgs {
    /// TOML job file: a [global] table and [[job]] tables (keys as the flags below, with
    /// underscores). Flags given with it replace its [global] values.
    #[arg(long, value_name = "FILE")]
    pub job: Option<PathBuf>,
    /// Workloads: cipher, encrypt, rekey, rewrap, decrypt, verify, kms (comma-separated).
    #[arg(long, value_name = "W[,W...]")]
    pub workload: Option<String>,
    /// Volume sizes (for cipher: bytes sealed per repetition) [default: 256M].
    #[arg(long, value_name = "SIZE[,...]")]
    pub size: Option<String>,
    /// Directory for scratch volumes [default: the system temp dir].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<String>,
    /// Cipher threads; for kms, connections [default: all cores].
    #[arg(long, value_name = "N[,N...]")]
    pub threads: Option<String>,
    /// Chunk sizes, powers of two from 4K to 1M [default: 64K].
    #[arg(long, value_name = "SIZE[,...]")]
    pub chunk_size: Option<String>,
    /// I/O engines: uring, mmap, pread, or null (encrypt only: zero reads, discarded writes,
    /// metadata in memory: measures the harness) [default: mmap].
    #[arg(long, value_name = "ENGINE[,...]")]
    pub io: Option<String>,
    /// Crypto backends: ring, aws-lc; for cipher also raw (ring with no harness: the
    /// baseline of the harness overhead) [default: ring].
    #[arg(long, value_name = "BACKEND[,...]")]
    pub crypto: Option<String>,
    /// In-place crash protection: none, journal [default: journal].
    #[arg(long, value_name = "MODE[,...]")]
    pub resilience: Option<String>,
    /// Scratch volume keys: file (in memory) or kms (in-process KMS on 127.0.0.1, calls
    /// timed) [default: file; kms for rewrap].
    #[arg(long, value_name = "SOURCE")]
    pub key: Option<String>,
    /// cipher: the reused buffer [default: min(size, 32M)].
    #[arg(long, value_name = "SIZE")]
    pub buffer: Option<String>,
    /// rewrap: rewraps per repetition [default: 10].
    #[arg(long, value_name = "N")]
    pub count: Option<String>,
    /// kms: generate-data-key, decrypt or mixed [default: generate-data-key].
    #[arg(long, value_name = "OP")]
    pub op: Option<String>,
    /// kms: measured time per repetition [default: 5s].
    #[arg(long, value_name = "TIME")]
    pub duration: Option<String>,
    /// kms: unmeasured sending before each repetition [default: 1s].
    #[arg(long, value_name = "TIME")]
    pub kms_warmup: Option<String>,
    /// kms: endpoint (`http://HOST:PORT`) [default: an in-process server].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// kms: credential file (JSON: access_key_id, secret_access_key) for --endpoint.
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<String>,
    /// kms: signing region [default: us-east-1].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// kms: key id [default: a fresh key per repetition].
    #[arg(long, value_name = "K")]
    pub key_id: Option<String>,
    /// kms: load-generator threads [default: 1].
    #[arg(long, value_name = "N")]
    pub client_threads: Option<String>,
    /// Unmeasured repetitions per case [default: 1].
    #[arg(long, value_name = "N")]
    pub warmup: Option<String>,
    /// Measured repetitions per case [default: 3].
    #[arg(long, value_name = "N")]
    pub reps: Option<String>,
    /// Results root: the run writes OUT/<run-id>/ [default: results].
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
    /// Run name (the run id is <UTC time>-<name>) [default: the job file's name, or the
    /// workloads].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

impl RunBenchArgs {
    /// The flags given, as (spec key, value) pairs.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let all = [
            ("workload", &self.workload),
            ("size", &self.size),
            ("dir", &self.dir),
            ("threads", &self.threads),
            ("chunk_size", &self.chunk_size),
            ("io", &self.io),
            ("crypto", &self.crypto),
            ("resilience", &self.resilience),
            ("key", &self.key),
            ("buffer", &self.buffer),
            ("count", &self.count),
            ("op", &self.op),
            ("duration", &self.duration),
            ("kms_warmup", &self.kms_warmup),
            ("endpoint", &self.endpoint),
            ("credentials", &self.credentials),
            ("region", &self.region),
            ("key_id", &self.key_id),
            ("client_threads", &self.client_threads),
            ("warmup", &self.warmup),
            ("reps", &self.reps),
            ("out", &self.out),
            ("name", &self.name),
        ];
        all.into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .collect()
    }
}

/// One progress line: throughput in fio's units (MiB/s and MB/s), or operations per second.
fn line(r: &CaseResult) -> String {
    match r.case.workload.as_str() {
        "kms" => format!("{:.0} req/s", r.bw_median),
        "rewrap" => format!("{:.1} rewraps/s", r.iops_median),
        _ => format!(
            "{:.1} MiB/s ({:.1} MB/s), IOPS={:.0}",
            r.bw_median / 1048576.0,
            r.bw_median / 1e6,
            r.iops_median
        ),
    }
}

/// Runs `volcrypt bench run`.
pub fn run(a: &RunBenchArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let pairs = a.pairs();
    let spec = match &a.job {
        Some(path) => Spec::from_file(path, &pairs)?,
        None => Spec::from_flags(&pairs)?,
    };
    let cancel = super::cancel_on_signals()?;
    let mut on = |e: Event<'_>| {
        if quiet {
            return;
        }
        match e {
            Event::Start { .. } => {}
            Event::Done {
                index,
                total,
                result,
            } => eprintln!(
                "[{}/{total}] {}: {}",
                index + 1,
                result.case.label(),
                line(result)
            ),
            Event::Skipped { case, reason } => eprintln!("SKIP {}: {reason}", case.label()),
        }
    };
    let out = runner::run(&spec, Some(cancel), &mut on)?;
    if !quiet {
        if out.cancelled {
            eprintln!(
                "bench: interrupted; {} finished case(s) written",
                out.report.cases.len()
            );
        }
        eprintln!("bench: results in {}", out.dir.display());
    }
    println!("{}", out.dir.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: RunBenchArgs,
    }

    #[test]
    fn flags_become_spec_pairs() {
        let t = T::parse_from([
            "t",
            "--workload",
            "encrypt,verify",
            "--chunk-size",
            "64K,1M",
            "--reps",
            "2",
        ]);
        let pairs = t.a.pairs();
        assert_eq!(
            pairs,
            vec![
                ("workload", "encrypt,verify".to_owned()),
                ("chunk_size", "64K,1M".to_owned()),
                ("reps", "2".to_owned()),
            ]
        );
        let spec = Spec::from_flags(&pairs).unwrap();
        assert_eq!(spec.points().unwrap().len(), 4);
        assert_eq!(spec.reps, 2);
    }
}
