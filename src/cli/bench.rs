//! `volcrypt bench kms`: load-test a KMS endpoint (by default an in-process `volcrypt kms`
//! server on 127.0.0.1 in a temporary data dir) with SigV4-signed GenerateDataKey / Decrypt
//! over N keep-alive connections; print a fio-shaped summary or JSON, and with `--out` write
//! `summary.txt`, `result.json` and `latency.hgrm`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::bench::kms::{self as kbench, BenchResult, Target, Workload};
use crate::bench::report::hgrm;
use crate::kms::server::{self, ServerConfig};

/// `volcrypt bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Load-test a KMS endpoint with SigV4-signed GenerateDataKey / Decrypt requests
    /// (default: an in-process local KMS on 127.0.0.1 in a temporary data dir).
    Kms(KmsBenchArgs),
    /// Envelope encryption costs: rewrap vs rekey of a large volume, and GenerateDataKey
    /// calls for many small volumes sharing cached data keys (in-process KMS on 127.0.0.1).
    Envelope(super::bench_envelope::EnvelopeBenchArgs),
    /// fio-style benchmark runs from flags or a TOML job file, written to results/<run-id>/.
    Run(Box<super::bench_run::RunBenchArgs>),
}

/// `volcrypt bench kms`.
#[derive(Debug, Args)]
pub struct KmsBenchArgs {
    /// The KMS endpoint (`http://HOST:PORT`); default: start one in-process on 127.0.0.1:0.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Credential file, JSON with access_key_id and secret_access_key (the shape of a data
    /// dir's credentials.json); default: the in-process server's admin credential.
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// Region of the signing scope.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Key to use (id, ARN or alias); default: create a fresh symmetric key with CreateKey.
    #[arg(long, value_name = "K")]
    pub key_id: Option<String>,
    /// What to send: generate-data-key, decrypt (of one pre-generated blob) or mixed.
    #[arg(long, value_name = "OP", default_value = "generate-data-key")]
    pub op: Workload,
    /// Concurrent keep-alive connections.
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub connections: u32,
    /// Measured duration (`10s`, `500ms`, `2m`; a bare number is seconds).
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Unmeasured sending before the measured window.
    #[arg(long, value_name = "TIME", default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Worker threads of the load generator's runtime; on a shared machine the server gets
    /// the remaining cores (an in-process server runs its own runtime, one worker per core).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub client_threads: u16,
    /// Print the result as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write summary.txt, result.json and latency.hgrm (milliseconds) into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Parses `10s`, `500ms`, `2m`, `1.5s`, `10` (seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::bench::spec::parse_duration_text(s)
}

#[derive(serde::Deserialize)]
struct CredentialJson {
    access_key_id: String,
    secret_access_key: String,
}

fn read_credentials(path: &Path) -> anyhow::Result<CredentialJson> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&raw).with_context(|| {
        format!(
            "{}: expected {{access_key_id, secret_access_key}}",
            path.display()
        )
    })
}

/// Runs `volcrypt bench ...`.
pub fn run(cmd: &BenchCommand, quiet: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Kms(a) => kms(a, quiet),
        BenchCommand::Envelope(a) => super::bench_envelope::run(a, quiet),
        BenchCommand::Run(a) => super::bench_run::run(a, quiet),
    }
}

fn scratch_dir() -> anyhow::Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("volcrypt-bench-kms-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn kms(a: &KmsBenchArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let (result, in_process) = match &a.endpoint {
        Some(endpoint) => {
            let path = a
                .credentials
                .as_deref()
                .context("--credentials FILE is required with --endpoint")?;
            (bench(a, endpoint, &read_credentials(path)?)?, false)
        }
        None => {
            let dir = scratch_dir()?;
            let r = in_process(a, &dir);
            let _ = std::fs::remove_dir_all(&dir);
            (r?, true)
        }
    };
    report(a, &result, in_process, quiet)?;
    Ok(if result.error_count == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn in_process(a: &KmsBenchArgs, dir: &Path) -> anyhow::Result<BenchResult> {
    let mut cfg = ServerConfig::new(dir);
    cfg.addr = "127.0.0.1:0".parse()?;
    cfg.region = a.region.clone();
    let running = server::start(cfg).context("starting the in-process KMS server")?;
    let cred_path = a
        .credentials
        .clone()
        .unwrap_or_else(|| dir.join("credentials.json"));
    let r = bench(a, &running.endpoint, &read_credentials(&cred_path)?);
    running
        .stop()
        .context("stopping the in-process KMS server")?;
    r
}

fn bench(a: &KmsBenchArgs, endpoint: &str, c: &CredentialJson) -> anyhow::Result<BenchResult> {
    let target = Target::new(endpoint, &c.access_key_id, &c.secret_access_key, &a.region)?;
    let config = kbench::Config {
        target,
        key_id: a.key_id.clone(),
        workload: a.op,
        connections: a.connections as usize,
        duration: a.duration,
        warmup: a.warmup,
        client_threads: usize::from(a.client_threads),
    };
    Ok(kbench::run(config)?)
}

fn report(a: &KmsBenchArgs, r: &BenchResult, in_process: bool, quiet: bool) -> anyhow::Result<()> {
    let summary = kbench::summary_text(r);
    let mut json = serde_json::to_value(r)?;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("in_process_server".into(), in_process.into());
        let argv: Vec<String> = std::env::args().collect();
        obj.insert("command".into(), argv.join(" ").into());
    }
    let json_text = serde_json::to_string_pretty(&json)?;
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))
        };
        write("summary.txt", &summary)?;
        write("result.json", &(json_text.clone() + "\n"))?;
        write("latency.hgrm", &hgrm(&r.histogram, 1000.0, 5))?;
    }
    if a.json {
        println!("{json_text}");
    } else if !quiet {
        print!("{summary}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        for bad in ["", "s", "-1s", "ten", "1h", "25h", "1e9"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
