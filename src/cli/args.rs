//! Command-line arguments: clap derive structs holding plain data, plus value parsers that
//! reject bad sizes and names at parse time (exit code 2). Validation into engine requests
//! happens in `mod.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::crypto::Backend;
use crate::format::{Resilience, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
use crate::io::EngineKind;

/// EBS-style encryption of volumes at rest: parallel AES-256-GCM chunks, per-volume data
/// keys stored only wrapped, crash-safe in-place operations.
#[derive(Debug, Parser)]
#[command(name = "volcrypt", version, about, max_term_width = 100)]
pub struct Cli {
    /// Print nothing but errors (no progress bar, no summary).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// The operation.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Encrypt a volume in place, or into a new volume with --output.
    Encrypt(EncryptArgs),
    /// Decrypt a volume in place, or into a new file with --output.
    Decrypt(DecryptArgs),
    /// Authenticate every chunk and both header copies; list the bad chunks.
    Verify(ReadArgs),
    /// Show a volume's header (no key needed; not authenticated).
    Info(InfoArgs),
    /// Write a volume's plaintext to stdout.
    Cat(ReadArgs),
    /// Put the data key under another wrapping key (KMS ReEncrypt); no data is touched.
    Rewrap(RewrapArgs),
    /// New data key and a full data pass (key version v to v+1), in place or with --output.
    Rekey(RekeyArgs),
    /// Finish an interrupted in-place encrypt, rekey or decrypt (after a crash or a signal).
    Resume(ResumeArgs),
    /// Demo: create a scratch volume, encrypt, verify and decrypt it, print throughput.
    Demo(DemoArgs),
    /// The local KMS server (AWS KMS JSON protocol) and its audit log.
    #[command(subcommand)]
    Kms(super::kms::KmsCommand),
    /// Benchmarks: `bench kms` load-tests a KMS endpoint (req/s, latency percentiles).
    #[command(subcommand)]
    Bench(super::bench::BenchCommand),
    /// Benchmark reports: `report compare A B` sets two runs side by side (exit 1: regression).
    #[command(subcommand)]
    Report(super::report::ReportCommand),
    /// Capacity plan for a fleet: hosts, cores, hours, KMS requests/s against the quota, cost.
    Plan(super::report::PlanArgs),
    /// Run the job daemon: control API on a Unix socket, job store, metrics, systemd notify.
    Daemon(super::daemon::DaemonArgs),
    /// Submit a job to the daemon (the operation's CLI options; prints the job id).
    Submit(super::daemon::SubmitArgs),
    /// List the daemon's jobs.
    Jobs(super::daemon::JobsArgs),
    /// Show a daemon job: state, progress, throughput, ETA, error (--watch follows it).
    Status(super::daemon::StatusArgs),
    /// Cancel a daemon job (it stops at a window checkpoint; the volume stays resumable).
    Cancel(super::daemon::JobIdArgs),
    /// Pause a daemon job at its next window checkpoint.
    Pause(super::daemon::JobIdArgs),
    /// Continue a paused daemon job.
    Unpause(super::daemon::JobIdArgs),
}

/// Where the volume is.
#[derive(Debug, Args)]
pub struct VolumeArgs {
    /// The volume: a regular file or a block device.
    pub volume: PathBuf,
    /// Detached header file (the metadata lives there instead of at the volume's end).
    /// A detached header is the default for block devices, which cannot grow: without
    /// --header, a block device's header is at its own end if it was encrypted with
    /// --reserved-tail, else in $VOLCRYPT_HEADER_DIR/<name>.vchdr (directory
    /// /var/lib/volcrypt/headers unless set), where <name> is the kernel's device name (sdb,
    /// nvme0n1p2). Pass --header explicitly if device names are not stable on this system.
    #[arg(long, value_name = "FILE")]
    pub header: Option<PathBuf>,
}

/// How the data pass runs.
#[derive(Debug, Args, Clone)]
pub struct TuneArgs {
    /// Cipher threads [default: all cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// I/O engine: `uring` (io_uring + O_DIRECT), `mmap`, `pread`, or `auto`: uring for
    /// block devices and files of 256 MiB or more on disk-backed file systems (pread when the
    /// kernel refuses io_uring, with the reason printed), mmap otherwise.
    #[arg(long = "io", value_name = "ENGINE", default_value = "auto", value_parser = parse_engine)]
    pub io: IoChoice,
    /// Requests in flight per I/O call for the uring engine.
    #[arg(long, value_name = "N", default_value_t = crate::io::DEFAULT_QUEUE_DEPTH,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub queue_depth: u32,
    /// AES-GCM implementation.
    #[arg(long = "crypto", value_name = "BACKEND", default_value = "ring", value_parser = parse_backend)]
    pub crypto: Backend,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The key: exactly one of a key file or KMS.
#[derive(Debug, Args)]
#[group(id = "key", required = true, multiple = true)]
pub struct KeyArgs {
    /// Customer-provided key: a file of 32 raw bytes or 64 hex digits (like S3 SSE-C).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["kms_key", "kms", "kms_endpoint", "kms_ca_bundle"])]
    pub key_file: Option<PathBuf>,
    /// KMS key (id, ARN, alias or alias ARN) that wraps the volume's data key.
    #[arg(long, value_name = "ID")]
    pub kms_key: Option<String>,
    /// Use KMS with the default key: for encrypt the managed alias/aws/volcrypt, otherwise
    /// the key ARN recorded in the volume.
    #[arg(long, conflicts_with = "kms_key")]
    pub kms: bool,
    /// KMS endpoint URL [default: AWS_ENDPOINT_URL_KMS, the AWS config, or AWS's regional
    /// endpoint]. Credentials and region come from the standard AWS chain.
    #[arg(long, value_name = "URL")]
    pub kms_endpoint: Option<String>,
    /// PEM file of the CA certificates to trust for an HTTPS KMS endpoint (e.g. the ca.pem of
    /// `kms serve --tls-self-signed`), instead of the system roots [default: AWS_CA_BUNDLE].
    #[arg(long, value_name = "FILE")]
    pub kms_ca_bundle: Option<PathBuf>,
}

/// `encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub volume: VolumeArgs,
    /// Write the encrypted volume here instead of in place (--header then applies to it).
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Chunk size: a power of two from 4K to 1M [default: 64K].
    #[arg(long, value_name = "SIZE", value_parser = parse_chunk_size)]
    pub chunk_size: Option<u64>,
    /// Keep the metadata on the volume itself, in its last SIZE bytes (e.g. 72M), which must
    /// be free (the file system was made SIZE smaller): the data is the first (size - SIZE)
    /// bytes and nothing grows. SIZE is a multiple of 4 KiB and of the logical block size,
    /// and holds the metadata: two journal windows (up to 32 MiB each) and the tag table (32
    /// bytes per chunk); a smaller SIZE is refused with the minimum. A later decrypt
    /// zeroes the headers and journal slots, leaving the size unchanged.
    #[arg(long, value_name = "SIZE", value_parser = parse_size,
          conflicts_with_all = ["header", "output"])]
    pub reserved_tail: Option<u64>,
    /// Crash protection for in place work. `journal`: every window is journaled and synced
    /// before it is written in place, so a SIGKILL or power loss at any moment loses nothing
    /// (`volcrypt resume` continues). `none`: about twice as fast, safe against SIGINT/SIGTERM
    /// (the current window is finished) but NOT against SIGKILL or power loss.
    #[arg(long, value_name = "MODE", default_value = "journal", value_parser = parse_resilience)]
    pub resilience: Resilience,
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub tune: TuneArgs,
}

/// `decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub volume: VolumeArgs,
    /// Write the plaintext here instead of in place.
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Crash protection for in place work (see `encrypt --help`).
    #[arg(long, value_name = "MODE", default_value = "journal", value_parser = parse_resilience)]
    pub resilience: Resilience,
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub tune: TuneArgs,
}

/// `verify` and `cat`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub volume: VolumeArgs,
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub tune: TuneArgs,
}

/// The new wrapping key of `rewrap` and `rekey`.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Wrap the data key under this KMS key (id, ARN, alias or alias ARN) [default: the
    /// volume's current wrapping key; for a KMS key, its current key material].
    #[arg(long, value_name = "ID", conflicts_with = "to_key_file")]
    pub to_kms_key: Option<String>,
    /// Wrap the data key under this key file instead.
    #[arg(long, value_name = "FILE")]
    pub to_key_file: Option<PathBuf>,
}

/// `rewrap`.
#[derive(Debug, Args)]
pub struct RewrapArgs {
    #[command(flatten)]
    pub volume: VolumeArgs,
    /// The key file the data key is wrapped with now (key-file volumes; KMS volumes need no
    /// source key: KMS re-encrypts the wrapped key itself).
    #[arg(long, value_name = "FILE")]
    pub from_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub to: TargetArgs,
    /// KMS endpoint URL [default: AWS_ENDPOINT_URL_KMS, the AWS config, or AWS's regional
    /// endpoint].
    #[arg(long, value_name = "URL")]
    pub kms_endpoint: Option<String>,
    /// PEM file of the CA certificates to trust for an HTTPS KMS endpoint [default:
    /// AWS_CA_BUNDLE].
    #[arg(long, value_name = "FILE")]
    pub kms_ca_bundle: Option<PathBuf>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rekey`.
#[derive(Debug, Args)]
pub struct RekeyArgs {
    #[command(flatten)]
    pub volume: VolumeArgs,
    /// Write the re-encrypted volume here (a new volume with a new UUID) instead of in place.
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Crash protection for in place work (see `encrypt --help`).
    #[arg(long, value_name = "MODE", default_value = "journal", value_parser = parse_resilience)]
    pub resilience: Resilience,
    /// The volume's current key.
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub to: TargetArgs,
    #[command(flatten)]
    pub tune: TuneArgs,
}

/// `resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    pub volume: VolumeArgs,
    /// The volume's key.
    #[command(flatten)]
    pub key: KeyArgs,
    /// For an interrupted rekey to another key: that key.
    #[command(flatten)]
    pub to: TargetArgs,
    #[command(flatten)]
    pub tune: TuneArgs,
}

/// `info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub volume: VolumeArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Scratch volume size.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub size: u64,
    /// Directory for the scratch volume [default: the system temp dir].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Chunk size.
    #[arg(long, value_name = "SIZE", default_value = "64K", value_parser = parse_chunk_size)]
    pub chunk_size: u64,
    #[command(flatten)]
    pub tune: TuneArgs,
}

/// Parses `4096`, `64K`, `64KiB`, `1M`, `1G` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64, String> {
    crate::bench::spec::parse_size_text(s)
}

/// Parses a chunk size and checks it is a power of two in range.
pub fn parse_chunk_size(s: &str) -> Result<u64, String> {
    let n = parse_size(s)?;
    if !n.is_power_of_two() {
        return Err(format!("{n} is not a power of two"));
    }
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&n) {
        return Err(format!("{n} is out of range (4K to 1M)"));
    }
    Ok(n)
}

/// The `--io` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoChoice {
    /// By device and size: see [`crate::io::choose_auto`].
    Auto,
    /// This engine.
    Fixed(EngineKind),
}

fn parse_engine(s: &str) -> Result<IoChoice, String> {
    if s == "auto" {
        return Ok(IoChoice::Auto);
    }
    match s.parse()? {
        EngineKind::Mem => Err("'mem' is a test engine; use auto, uring, mmap or pread".into()),
        k => Ok(IoChoice::Fixed(k)),
    }
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse()
}

fn parse_resilience(s: &str) -> Result<Resilience, String> {
    match s {
        "none" => Ok(Resilience::None),
        "journal" => Ok(Resilience::Journal),
        other => Err(format!(
            "unknown resilience '{other}' (expected none or journal)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("").is_err());
        assert_eq!(parse_chunk_size("1M"), Ok(1 << 20));
        assert!(parse_chunk_size("3000")
            .unwrap_err()
            .contains("power of two"));
        assert!(parse_chunk_size("2K").unwrap_err().contains("out of range"));
        assert!(parse_chunk_size("2M").unwrap_err().contains("out of range"));
    }

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn reserved_tail_parses_sizes_and_excludes_header_and_output() {
        let parse = |extra: &[&str]| {
            let mut a = vec!["volcrypt", "encrypt", "/dev/null", "--key-file", "k"];
            a.extend_from_slice(extra);
            Cli::try_parse_from(a)
        };
        match parse(&["--reserved-tail", "72M"]).unwrap().command {
            Command::Encrypt(e) => assert_eq!(e.reserved_tail, Some(72 << 20)),
            other => panic!("{other:?}"),
        }
        assert!(parse(&["--reserved-tail", "72M", "--header", "h"]).is_err());
        assert!(parse(&["--reserved-tail", "72M", "-o", "out"]).is_err());
        assert!(parse(&["--reserved-tail", "lots"]).is_err());
    }
}
