//! `volcrypt daemon` and its clients: `submit`, `jobs`, `status [--watch]`, `cancel`,
//! `pause`, `unpause`. Logging for the daemon (tracing; text or JSON lines on stderr) is set
//! up here, in the binary's layer.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::Value;

use crate::daemon::client::Client;
use crate::daemon::{JobSpec, Op, DEFAULT_SOCKET};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (journald, log shippers).
    Json,
}

/// `daemon`.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Configuration file (TOML; see scripts/volcrypt.toml) [default: built-in defaults].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// Lowest level logged: error, warn, info, debug or trace.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: tracing::Level,
}

/// Where the daemon listens.
#[derive(Debug, Args, Clone)]
pub struct SocketArg {
    /// The daemon's control socket [default: $VOLCRYPT_SOCKET, else /run/volcrypt/volcrypt.sock].
    #[arg(long, value_name = "PATH", env = "VOLCRYPT_SOCKET", default_value = DEFAULT_SOCKET)]
    pub socket: PathBuf,
}

/// `submit`: the CLI's options for the operation, run by the daemon.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// encrypt, rekey, rewrap, decrypt or verify.
    pub op: Op,
    /// The volume (made absolute here).
    pub volume: PathBuf,
    /// Detached header file.
    #[arg(long, value_name = "FILE")]
    pub header: Option<PathBuf>,
    /// Out-of-place output (encrypt, rekey, decrypt).
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Customer key file.
    #[arg(long, value_name = "FILE", conflicts_with = "kms_key")]
    pub key_file: Option<PathBuf>,
    /// KMS key [default: the daemon's configured key, else the volume's own].
    #[arg(long, value_name = "ID")]
    pub kms_key: Option<String>,
    /// rewrap: the key file the data key is wrapped with now.
    #[arg(long, value_name = "FILE")]
    pub from_key_file: Option<PathBuf>,
    /// rekey/rewrap: new KMS wrapping key.
    #[arg(long, value_name = "ID", conflicts_with = "to_key_file")]
    pub to_kms_key: Option<String>,
    /// rekey/rewrap: new wrapping key file.
    #[arg(long, value_name = "FILE")]
    pub to_key_file: Option<PathBuf>,
    /// encrypt: chunk size [default: the daemon's].
    #[arg(long, value_name = "SIZE", value_parser = super::parse_chunk_size)]
    pub chunk_size: Option<u64>,
    /// encrypt: keep the metadata in the volume's last SIZE bytes.
    #[arg(long, value_name = "SIZE", value_parser = super::parse_size)]
    pub reserved_tail: Option<u64>,
    /// journal or none [default: the daemon's].
    #[arg(long, value_name = "MODE")]
    pub resilience: Option<String>,
    /// auto, uring, mmap or pread [default: the daemon's].
    #[arg(long = "io", value_name = "ENGINE")]
    pub io: Option<String>,
    /// ring or aws-lc [default: the daemon's].
    #[arg(long = "crypto", value_name = "BACKEND")]
    pub crypto: Option<String>,
    /// This job's bandwidth limit per second (e.g. 200M) [default: the daemon's].
    #[arg(long, value_name = "SIZE", value_parser = super::parse_size)]
    pub bandwidth: Option<u64>,
    /// Then follow the job until it ends (like `status --watch`).
    #[arg(long)]
    pub wait: bool,
    /// Print the job as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub socket: SocketArg,
}

/// `jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub socket: SocketArg,
}

/// `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Job id.
    pub id: u64,
    /// Follow the job until it ends (a progress bar on a terminal, a line a second otherwise).
    #[arg(long)]
    pub watch: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub socket: SocketArg,
}

/// `cancel`, `pause`, `unpause`.
#[derive(Debug, Args)]
pub struct JobIdArgs {
    /// Job id.
    pub id: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub socket: SocketArg,
}

/// Sets up logging and runs the daemon until SIGTERM.
pub fn daemon(a: &DaemonArgs) -> anyhow::Result<ExitCode> {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(a.log_level)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match a.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("setting up logging: {e}"))?;
    crate::daemon::run(a.config.clone())?;
    Ok(ExitCode::SUCCESS)
}

fn absolute(p: &std::path::Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("{}", p.display()))
}

fn opt_abs(p: &Option<PathBuf>) -> anyhow::Result<Option<PathBuf>> {
    p.as_deref().map(absolute).transpose()
}

/// `submit`.
pub fn submit(a: &SubmitArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let spec = JobSpec {
        op: a.op,
        volume: absolute(&a.volume)?,
        header: opt_abs(&a.header)?,
        output: opt_abs(&a.output)?,
        key_file: opt_abs(&a.key_file)?,
        kms_key: a.kms_key.clone(),
        from_key_file: opt_abs(&a.from_key_file)?,
        to_kms_key: a.to_kms_key.clone(),
        to_key_file: opt_abs(&a.to_key_file)?,
        chunk_size: a.chunk_size,
        reserved_tail: a.reserved_tail,
        resilience: a.resilience.clone(),
        io: a.io.clone(),
        crypto: a.crypto.clone(),
        bandwidth: a.bandwidth,
        threads: None,
        queue_depth: None,
    };
    let client = Client::new(&a.socket.socket);
    let job = client.submit(&spec)?;
    let id = job["id"]
        .as_u64()
        .context("the daemon's answer has no job id")?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&job)?);
    } else if !quiet {
        println!("{id}");
        eprintln!("submitted job {id}: {} {}", a.op, spec.volume.display());
    }
    if a.wait {
        return super::daemon_watch::watch(&client, id, quiet || a.json);
    }
    Ok(ExitCode::SUCCESS)
}

/// `jobs`.
pub fn jobs(a: &JobsArgs) -> anyhow::Result<ExitCode> {
    let jobs = Client::new(&a.socket.socket).jobs()?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&Value::Array(jobs))?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>5}  {:<8}  {:<10}  {:>6}  {:>10}  VOLUME",
        "ID", "OP", "STATE", "DONE", "MB/s"
    );
    for j in &jobs {
        println!(
            "{:>5}  {:<8}  {:<10}  {:>5.1}%  {:>10.1}  {}",
            j["id"].as_u64().unwrap_or(0),
            j["spec"]["op"].as_str().unwrap_or("?"),
            j["state"].as_str().unwrap_or("?"),
            j["percent"].as_f64().unwrap_or(0.0),
            j["bytes_per_sec"].as_f64().unwrap_or(0.0) / 1e6,
            j["spec"]["volume"].as_str().unwrap_or("?"),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `status`.
pub fn status(a: &StatusArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.socket.socket);
    if a.watch {
        return super::daemon_watch::watch(&client, a.id, quiet || a.json);
    }
    let j = client.status(a.id)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        println!("{}", super::daemon_watch::describe(&j));
    }
    Ok(ExitCode::SUCCESS)
}

/// `cancel`, `pause`, `unpause` (`verb`: the API's cancel, pause, resume).
pub fn act(a: &JobIdArgs, verb: &str, quiet: bool) -> anyhow::Result<ExitCode> {
    let j = Client::new(&a.socket.socket).act(a.id, verb)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else if !quiet {
        println!("{}", super::daemon_watch::describe(&j));
    }
    Ok(ExitCode::SUCCESS)
}

/// Polling interval of `--watch`.
pub(super) const POLL: Duration = Duration::from_millis(500);
