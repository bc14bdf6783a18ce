//! `volcrypt report compare A B` (two benchmark runs side by side; exit 1 on a regression)
//! and `volcrypt plan` (a fleet capacity plan from measured results and KMS quota and price
//! data): argument parsing and printing; the work is in `bench::compare` and `bench::plan`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::args::parse_size;
use crate::bench::compare::{self, DEFAULT_THRESHOLD_PCT};
use crate::bench::output::{read_report, ReportFile};
use crate::bench::plan::{self, Filters, Fleet, Operation, Pricing};

/// `volcrypt report ...`.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Compare two benchmark runs (results directories, or their report.json) case by case:
    /// a Markdown table of throughput, ratio B/A, p99 latency and a verdict per case.
    ///
    /// Cases are matched when every parameter is equal. A case is a REGRESSION when B's
    /// median throughput is more than the threshold below A's, or B's p99 latency (per
    /// chunk; per request for kms) more than the threshold above A's.
    ///
    /// Exit status: 0 when no case regressed, 1 when one did (or on an error), 2 on a usage
    /// error.
    Compare(CompareArgs),
}

/// `volcrypt report compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline run: a results directory (results/<run-id>) or its report.json.
    #[arg(value_name = "A")]
    pub a: PathBuf,
    /// The run compared with it.
    #[arg(value_name = "B")]
    pub b: PathBuf,
    /// Regression threshold in percent (throughput drop or p99 latency rise).
    #[arg(long, value_name = "PCT", default_value_t = DEFAULT_THRESHOLD_PCT,
          value_parser = parse_threshold)]
    pub threshold: f64,
    /// Print the comparison as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
}

/// `volcrypt plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Measured results: a results directory (results/<run-id>) or its report.json. The
    /// fastest case of the operation is used (see --io, --resilience).
    #[arg(long, value_name = "DIR")]
    pub results: PathBuf,
    /// Number of volumes in the fleet.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub fleet_volumes: u64,
    /// Average volume size (100G, 1T; binary units).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub avg_size: u64,
    /// Hours the whole fleet must be done in.
    #[arg(long, value_name = "HOURS", value_parser = parse_hours)]
    pub window: f64,
    /// The KMS request quota tier, requests/s (one of the pricing data's tiers: 10000,
    /// 20000, 100000) [default: the tier of --region, else the lowest (default) tier].
    #[arg(long, value_name = "RPS", conflicts_with = "region")]
    pub kms_quota: Option<u64>,
    /// AWS Region whose quota tier applies (us-east-1 -> 100000).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// KMS quotas and prices (TOML, the shape of data/kms-pricing.toml) [default: the
    /// embedded data/kms-pricing.toml].
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    /// Cores per host [default: the CPUs of the measured host].
    #[arg(long, value_name = "C", value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub cores_per_host: Option<u32>,
    /// The operation: encrypt, rekey, rewrap, decrypt or verify.
    #[arg(long, value_name = "OP", default_value = "encrypt")]
    pub operation: Operation,
    /// Use only cases of this io engine (also allows the null engine).
    #[arg(long, value_name = "ENGINE")]
    pub io: Option<String>,
    /// Use only cases of this resilience (journal or none).
    #[arg(long, value_name = "MODE")]
    pub resilience: Option<String>,
    /// Volumes one GenerateDataKey may serve (the key cache's data-key reuse; 1: off).
    #[arg(long, value_name = "U", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub volumes_per_data_key: u64,
    /// Customer-managed KMS keys billed per month.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub kms_keys: u64,
    /// Passes over the fleet per month (a weekly verify: 4.35).
    #[arg(long, value_name = "R", default_value_t = 1.0, value_parser = parse_runs)]
    pub runs_per_month: f64,
    /// Print the plan as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
}

fn parse_positive(s: &str, what: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a positive {what}")),
    }
}

fn parse_threshold(s: &str) -> Result<f64, String> {
    parse_positive(s, "percentage")
}

fn parse_hours(s: &str) -> Result<f64, String> {
    parse_positive(s.trim_end_matches('h'), "number of hours")
}

fn parse_runs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number of runs (0 or more)")),
    }
}

/// Runs `volcrypt report ...`.
pub fn run(c: &ReportCommand) -> anyhow::Result<ExitCode> {
    match c {
        ReportCommand::Compare(a) => compare_cmd(a),
    }
}

fn load(path: &Path) -> anyhow::Result<ReportFile> {
    Ok(read_report(path)?)
}

fn compare_cmd(a: &CompareArgs) -> anyhow::Result<ExitCode> {
    let ra = load(&a.a)?;
    let rb = load(&a.b)?;
    let c = compare::compare(&ra, &rb, a.threshold);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&c)?);
    } else {
        print!("{}", compare::markdown(&c));
    }
    Ok(if c.has_regression() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs `volcrypt plan`.
pub fn plan_cmd(a: &PlanArgs) -> anyhow::Result<ExitCode> {
    let pricing = match &a.pricing {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Pricing::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => Pricing::builtin()?,
    };
    let view = load(&a.results)?;
    let filters = Filters {
        io: a.io.clone(),
        resilience: a.resilience.clone(),
    };
    let measured = plan::select(&view, a.operation, &filters)?;
    let cores = match a.cores_per_host {
        Some(c) => c as usize,
        None if measured.cpus > 0 => measured.cpus,
        None => measured.case.threads,
    };
    let tier = match (a.kms_quota, &a.region) {
        (Some(q), _) => pricing.tier(q)?,
        (None, Some(r)) => pricing.tier_for_region(r),
        (None, None) => pricing.default_tier(),
    };
    let fleet = Fleet {
        operation: a.operation,
        volumes: a.fleet_volumes,
        avg_size: a.avg_size,
        window_hours: a.window,
        cores_per_host: cores,
        volumes_per_data_key: a.volumes_per_data_key,
        kms_keys: a.kms_keys,
        runs_per_month: a.runs_per_month,
    };
    let p = plan::plan(&measured, &fleet, tier, &pricing)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print!("{}", plan::markdown(&p));
    }
    Ok(ExitCode::SUCCESS)
}
