//! Parsing a bench spec: TOML tables (or command-line values turned into one) into
//! [`Spec`] and [`Job`]s, with errors that name the key at fault.

use std::path::PathBuf;
use std::time::Duration;

use toml::{Table, Value};

use super::value::{duration, list, parse_size, string, uint};
use super::{bad, Crypto, Job, KeySource, KmsSettings, Spec, Workload, DEFAULT_SIZE};
use crate::bench::error::BenchError;
use crate::format::{Resilience, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
use crate::io::EngineKind;

/// Keys only `[global]` may set.
const GLOBAL_ONLY: [&str; 4] = ["name", "out", "warmup", "reps"];
/// Keys of a job (also allowed in `[global]` as defaults).
const JOB_KEYS: [&str; 19] = [
    "workload",
    "size",
    "dir",
    "threads",
    "chunk_size",
    "io",
    "crypto",
    "resilience",
    "key",
    "buffer",
    "count",
    "op",
    "duration",
    "kms_warmup",
    "endpoint",
    "credentials",
    "region",
    "key_id",
    "client_threads",
];
/// Keys given as comma-separated lists on the command line.
pub const LIST_KEYS: [&str; 7] = [
    "workload",
    "size",
    "threads",
    "chunk_size",
    "io",
    "crypto",
    "resilience",
];
/// Keys whose command-line value is an integer.
const INT_KEYS: [&str; 5] = ["threads", "warmup", "reps", "count", "client_threads"];

pub(super) fn flag_value(key: &str, v: &str) -> Result<Value, BenchError> {
    let one = |s: &str| -> Result<Value, BenchError> {
        let s = s.trim();
        if INT_KEYS.contains(&key) {
            s.parse::<i64>()
                .map(Value::Integer)
                .map_err(|_| bad(format!("{key}: '{s}' is not a whole number")))
        } else {
            Ok(Value::String(s.to_owned()))
        }
    };
    if LIST_KEYS.contains(&key) {
        let items: Result<Vec<Value>, BenchError> = v.split(',').map(one).collect();
        Ok(Value::Array(items?))
    } else {
        one(v)
    }
}

fn table<'a>(v: &'a Value, what: &str) -> Result<&'a Table, BenchError> {
    v.as_table()
        .ok_or_else(|| bad(format!("{what} must be a table")))
}

pub(super) fn parse(root: &Table, stem: &str) -> Result<Spec, BenchError> {
    let empty = Table::new();
    for k in root.keys() {
        if k != "global" && k != "job" {
            return Err(bad(format!(
                "unknown key `{k}` at the top level (expected [global] and [[job]] tables)"
            )));
        }
    }
    let global = match root.get("global") {
        Some(v) => table(v, "`global`")?,
        None => &empty,
    };
    for k in global.keys() {
        if !GLOBAL_ONLY.contains(&k.as_str()) && !JOB_KEYS.contains(&k.as_str()) {
            return Err(bad(format!("unknown key `{k}` in [global]")));
        }
    }
    let job_tables: Vec<&Table> = match root.get("job") {
        None => vec![&empty],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| table(v, "every [[job]]"))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("`job` must be an array of tables ([[job]])")),
    };
    let implicit = root.get("job").is_none();
    let mut jobs = Vec::new();
    for (i, t) in job_tables.into_iter().enumerate() {
        jobs.push(job(global, t, i, implicit)?);
    }
    let name = match global.get("name") {
        Some(v) => string(v, "name")?,
        None if !stem.is_empty() => stem.to_owned(),
        None => {
            let mut w: Vec<&str> = jobs
                .iter()
                .flat_map(|j| j.workloads.iter().map(|w| w.name()))
                .collect();
            w.dedup();
            w.join("-")
        }
    };
    let get_u32 = |k: &str, default: u32| -> Result<u32, BenchError> {
        global.get(k).map_or(Ok(default), |v| {
            u32::try_from(uint(v, k)?).map_err(|_| bad(format!("{k} is too large")))
        })
    };
    let reps = get_u32("reps", 3)?;
    if reps == 0 {
        return Err(bad("reps must be at least 1"));
    }
    Ok(Spec {
        name,
        out: match global.get("out") {
            Some(v) => PathBuf::from(string(v, "out")?),
            None => PathBuf::from("results"),
        },
        warmup: get_u32("warmup", 1)?,
        reps,
        jobs,
        text: String::new(),
    })
}

fn job(global: &Table, own: &Table, index: usize, implicit: bool) -> Result<Job, BenchError> {
    let what = if implicit {
        "[global]".to_owned()
    } else {
        format!("[[job]] #{}", index + 1)
    };
    for k in own.keys() {
        if k != "name" && !JOB_KEYS.contains(&k.as_str()) {
            let hint = if GLOBAL_ONLY.contains(&k.as_str()) {
                " (it belongs in [global])"
            } else {
                ""
            };
            return Err(bad(format!("unknown key `{k}` in {what}{hint}")));
        }
    }
    let get = |k: &str| own.get(k).or_else(|| global.get(k));
    let name = match own.get("name") {
        Some(v) => string(v, "name")?,
        None => String::new(),
    };
    let what = if name.is_empty() {
        what
    } else {
        format!("job '{name}'")
    };
    let workloads: Vec<Workload> = match get("workload") {
        Some(v) => list(v, "workload", |x| {
            string(x, "workload")?.parse().map_err(bad)
        })?,
        None => return Err(bad(format!("{what} has no workload"))),
    };
    for k in own.keys() {
        if k != "name"
            && k != "workload"
            && !workloads.iter().any(|w| w.keys().contains(&k.as_str()))
        {
            let names: Vec<&str> = workloads.iter().map(|w| w.name()).collect();
            return Err(bad(format!(
                "key `{k}` in {what} does not apply to workload {}",
                names.join(", ")
            )));
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = |x: &Value| -> Result<u64, BenchError> {
        let c = parse_size(x, "chunk_size")?;
        if !c.is_power_of_two() || !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&c) {
            return Err(bad(format!(
                "chunk_size {c} must be a power of two from 4K to 1M"
            )));
        }
        Ok(c)
    };
    let engine = |x: &Value| -> Result<EngineKind, BenchError> {
        match string(x, "io")?.parse().map_err(bad)? {
            EngineKind::Mem => Err(bad(
                "io 'mem' is a test engine; use null to measure the harness",
            )),
            k => Ok(k),
        }
    };
    let crypto = |x: &Value| -> Result<Crypto, BenchError> {
        match string(x, "crypto")?.as_str() {
            "raw" => Ok(Crypto::Raw),
            s => s.parse().map(Crypto::Backend).map_err(bad),
        }
    };
    let resilience = |x: &Value| match string(x, "resilience")?.as_str() {
        "none" => Ok(Resilience::None),
        "journal" => Ok(Resilience::Journal),
        o => Err(bad(format!("unknown resilience '{o}' (none or journal)"))),
    };
    let default = |k: &str, v: Value| get(k).cloned().unwrap_or(v);
    let threads = list(
        &default("threads", Value::Integer(cores as i64)),
        "threads",
        |x| match uint(x, "threads")? {
            0 => Err(bad("threads must be at least 1")),
            n => usize::try_from(n).map_err(|_| bad("threads is too large")),
        },
    )?;
    let sizes = list(
        &default("size", Value::Integer(DEFAULT_SIZE as i64)),
        "size",
        |x| match parse_size(x, "size")? {
            0 => Err(bad("size must be more than 0")),
            n => Ok(n),
        },
    )?;
    let opt_string = |k: &str| get(k).map(|v| string(v, k)).transpose();
    let key = match opt_string("key")?.as_deref() {
        None => None,
        Some("file") => Some(KeySource::File),
        Some("kms") => Some(KeySource::Kms),
        Some(o) => return Err(bad(format!("unknown key source '{o}' (file or kms)"))),
    };
    let count = match get("count") {
        Some(v) => u32::try_from(uint(v, "count")?).map_err(|_| bad("count is too large"))?,
        None => 10,
    };
    let kms = KmsSettings {
        op: match opt_string("op")? {
            Some(s) => s.parse().map_err(bad)?,
            None => crate::bench::kms::Workload::GenerateDataKey,
        },
        duration: get("duration")
            .map_or(Ok(Duration::from_secs(5)), |v| duration(v, "duration"))?,
        warmup: get("kms_warmup")
            .map_or(Ok(Duration::from_secs(1)), |v| duration(v, "kms_warmup"))?,
        endpoint: opt_string("endpoint")?,
        credentials: opt_string("credentials")?.map(PathBuf::from),
        region: opt_string("region")?.unwrap_or_else(|| "us-east-1".into()),
        key_id: opt_string("key_id")?,
        client_threads: match get("client_threads") {
            Some(v) => usize::try_from(uint(v, "client_threads")?.max(1)).unwrap_or(1),
            None => 1,
        },
    };
    let job = Job {
        name,
        workloads,
        sizes,
        threads,
        chunk_sizes: list(
            &default("chunk_size", Value::String("64K".into())),
            "chunk_size",
            chunk,
        )?,
        io: list(&default("io", Value::String("mmap".into())), "io", engine)?,
        crypto: list(
            &default("crypto", Value::String("ring".into())),
            "crypto",
            crypto,
        )?,
        resilience: list(
            &default("resilience", Value::String("journal".into())),
            "resilience",
            resilience,
        )?,
        dir: opt_string("dir")?.map_or_else(std::env::temp_dir, PathBuf::from),
        key,
        buffer: get("buffer").map(|v| parse_size(v, "buffer")).transpose()?,
        count: count.max(1),
        kms,
    };
    check(&job, &what)?;
    Ok(job)
}

/// Combinations that cannot run: a workload left with no engine or backend it can use.
/// (Sweep points that pair `null` with a workload other than `encrypt`, or `raw` with one
/// other than `cipher`, are left out of the expansion.)
fn check(job: &Job, what: &str) -> Result<(), BenchError> {
    for &w in &job.workloads {
        let uses = |k: &str| w.keys().contains(&k);
        if uses("io") && !job.io.iter().any(|&e| super::io_runs(w, e)) {
            return Err(bad(format!(
                "{what}: io 'null' reads zeros and keeps nothing, so only encrypt runs on it \
                 (the harness-overhead measurement); give {} a real engine too",
                w.name()
            )));
        }
        if uses("crypto") && !job.crypto.iter().any(|&c| super::crypto_runs(w, c)) {
            return Err(bad(format!(
                "{what}: crypto 'raw' (ring with no harness) is for the cipher workload only; \
                 give {} ring or aws-lc too",
                w.name()
            )));
        }
    }
    if job.buffer == Some(0) {
        return Err(bad(format!("{what}: buffer must be more than 0")));
    }
    Ok(())
}
