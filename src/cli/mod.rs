//! The command-line interface: parse (clap), turn arguments into engine requests, run, print
//! one summary, map the outcome to an exit code (0 ok, 1 operation failed, 2 usage error).
//!
//! This is the only module that prints and the only one that uses `anyhow`. Errors are
//! printed once, at the top, with their cause chain.

mod args;
mod bench;
mod bench_envelope;
mod bench_run;
mod daemon;
mod daemon_watch;
mod demo;
mod kms;
mod progress;
mod rekey;
mod report;

pub use args::{parse_chunk_size, parse_size, Cli, Command};

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use crate::engine::{self, RunOptions, Summary, VolumeRef};
use crate::io::EngineKind;
use crate::keys::{
    CacheLimits, DataKeyCache, FileKeyProvider, KeyProvider, KmsKeyProvider, KmsOptions,
};
use args::{DecryptArgs, EncryptArgs, InfoArgs, KeyArgs, ReadArgs, TuneArgs, VolumeArgs};

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if err
                .chain()
                .filter_map(|c| c.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("volcrypt: error: {}", error_text(&err));
            ExitCode::from(1)
        }
    }
}

/// The key provider the arguments name: a key file, or KMS (standard AWS credential chain
/// and region; the endpoint from --kms-endpoint or the standard resolution).
fn provider(k: &KeyArgs) -> anyhow::Result<Box<dyn KeyProvider>> {
    if let Some(path) = &k.key_file {
        return Ok(Box::new(FileKeyProvider::load(path)?));
    }
    let opts = KmsOptions {
        key_id: k.kms_key.clone(),
        endpoint: k.kms_endpoint.clone(),
        ca_bundle: k.kms_ca_bundle.clone(),
        ..KmsOptions::default()
    };
    Ok(cached(KmsKeyProvider::new(opts)?))
}

/// Puts a KMS provider behind a [`DataKeyCache`], which keeps unwrapped keys in locked
/// memory (a warning says so when the system refuses) and shares concurrent identical calls.
fn cached(p: KmsKeyProvider) -> Box<dyn KeyProvider> {
    let cache = DataKeyCache::new(Arc::new(p), CacheLimits::default());
    if let Some(w) = cache.mlock_warning() {
        eprintln!("volcrypt: warning: {w}");
    }
    Box::new(cache)
}

/// The volume `v` names, its header found as every command finds it
/// ([`VolumeRef::resolve`]): `--header` if given; for a block device without it, the
/// device's own end (a reserved tail) or its default detached header file.
fn vref(v: &VolumeArgs) -> VolumeRef {
    VolumeRef::resolve(&v.volume, v.header.as_deref())
}

/// Creates the directory of a default detached header (0700: headers hold wrapped keys).
fn create_header_dir(header: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match header.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating the header directory {}", dir.display())),
        _ => Ok(()),
    }
}

/// Run options from the tuning flags. `--io auto` picks the engine for `path` (see
/// [`crate::io::choose_auto`]) and says so when io_uring had to be replaced by pread; an
/// explicit `--io uring` fails with the reason instead.
fn options(
    tune: &TuneArgs,
    op: &str,
    quiet: bool,
    path: &std::path::Path,
) -> anyhow::Result<RunOptions> {
    crate::io::set_queue_depth(tune.queue_depth);
    let io = match tune.io {
        args::IoChoice::Fixed(EngineKind::Uring) => {
            if let Err(why) = crate::io::uring_probe() {
                anyhow::bail!("--io uring: io_uring is unavailable: {why}; use --io pread or auto");
            }
            EngineKind::Uring
        }
        args::IoChoice::Fixed(k) => k,
        args::IoChoice::Auto => {
            let c = crate::io::choose_auto(path, crate::io::uring_probe());
            if let Some(why) = &c.fallback {
                eprintln!("volcrypt: io_uring unavailable ({why}); using the pread engine");
            }
            c.kind
        }
    };
    let mut o = RunOptions {
        io,
        backend: tune.crypto,
        progress: progress::bar(op, quiet || tune.json),
        ..RunOptions::default()
    };
    if let Some(t) = tune.threads {
        o.threads = usize::from(t);
    }
    Ok(o)
}

/// Registers SIGINT/SIGTERM to set a flag that stops the data pass after the current window.
fn cancel_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&flag))
            .context("installing signal handlers")?;
    }
    Ok(flag)
}

/// The error and its causes, `: `-separated, skipping a cause whose text the message before
/// it already includes (typed errors often print their source in their own message).
fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let c = cause.to_string();
        if !text.contains(&c) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&c);
        }
    }
    text
}

fn human(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.2} {}", UNITS[i])
}

fn print_summary(what: &str, s: &Summary, tune: &TuneArgs, quiet: bool) -> anyhow::Result<()> {
    if tune.json {
        println!("{}", serde_json::to_string_pretty(s)?);
        return Ok(());
    }
    if quiet {
        return Ok(());
    }
    if s.interrupted {
        eprintln!(
            "{what}: interrupted after {} this run; progress is checkpointed, run the same \
             command again to resume",
            human(s.bytes as f64)
        );
        return Ok(());
    }
    let resumed = s
        .resumed_from
        .map(|c| format!(", resumed at chunk {c}"))
        .unwrap_or_default();
    eprintln!(
        "{what}: {} in {:.2} s ({}/s; io {}, crypto {}, {} threads{resumed})",
        human(s.bytes as f64),
        s.elapsed.as_secs_f64(),
        human(s.bytes_per_sec()),
        s.io,
        s.backend,
        s.threads
    );
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Encrypt(a) => encrypt(&a, quiet),
        Command::Decrypt(a) => decrypt(&a, quiet),
        Command::Verify(a) => verify(&a, quiet),
        Command::Cat(a) => cat(&a, quiet),
        Command::Info(a) => info(&a),
        Command::Rewrap(a) => rekey::rewrap(&a, quiet),
        Command::Rekey(a) => rekey::rekey(&a, quiet),
        Command::Resume(a) => rekey::resume(&a, quiet),
        Command::Demo(a) => demo::run(&a, quiet),
        Command::Kms(c) => kms::run(&c),
        Command::Bench(c) => bench::run(&c, quiet),
        Command::Report(c) => report::run(&c),
        Command::Plan(a) => report::plan_cmd(&a),
        Command::Daemon(a) => daemon::daemon(&a),
        Command::Submit(a) => daemon::submit(&a, quiet),
        Command::Jobs(a) => daemon::jobs(&a),
        Command::Status(a) => daemon::status(&a, quiet),
        Command::Cancel(a) => daemon::act(&a, "cancel", quiet),
        Command::Pause(a) => daemon::act(&a, "pause", quiet),
        Command::Unpause(a) => daemon::act(&a, "resume", quiet),
    }
}

fn encrypt(a: &EncryptArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let keys = provider(&a.key)?;
    let mut opts = options(&a.tune, "encrypt", quiet, &a.volume.volume)?;
    opts.resilience = a.resilience;
    opts.cancel = Some(cancel_on_signals()?);
    let (src, out) = match (&a.output, a.reserved_tail) {
        (Some(o), _) => (
            VolumeRef::attached(&a.volume.volume),
            Some(VolumeRef {
                path: o.clone(),
                header: a.volume.header.clone(),
            }),
        ),
        (None, Some(_)) => (VolumeRef::attached(&a.volume.volume), None),
        (None, None) => (vref(&a.volume), None),
    };
    // A block device's default detached header, about to be created: its directory first,
    // and afterwards one line saying where it is (even with -q: losing it loses the data).
    let new_default = match (&out, &a.volume.header, &src.header) {
        (None, None, Some(h)) if !h.exists() => Some(h.clone()),
        _ => None,
    };
    if let Some(h) = &new_default {
        create_header_dir(h)?;
    }
    let r = match a.reserved_tail {
        Some(t) => engine::encrypt_reserved_tail(&src, t, a.chunk_size, keys.as_ref(), &opts),
        None => engine::encrypt(&src, out.as_ref(), a.chunk_size, keys.as_ref(), &opts),
    };
    if let Some(h) = new_default.filter(|h| h.exists()) {
        eprintln!(
            "volcrypt: the header of {} was written to {}: keep it (and back it up), the \
             volume cannot be read without it",
            src.path.display(),
            h.display()
        );
    }
    let s = r?;
    print_summary("encrypt", &s, &a.tune, quiet)?;
    Ok(ExitCode::SUCCESS)
}

fn decrypt(a: &DecryptArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let keys = provider(&a.key)?;
    let mut opts = options(&a.tune, "decrypt", quiet, &a.volume.volume)?;
    opts.resilience = a.resilience;
    opts.cancel = Some(cancel_on_signals()?);
    let s = engine::decrypt(&vref(&a.volume), a.output.as_deref(), keys.as_ref(), &opts)?;
    if s.interrupted && a.output.is_some() && !quiet {
        eprintln!("decrypt: interrupted; the partial output was removed");
        return Ok(ExitCode::SUCCESS);
    }
    print_summary("decrypt", &s, &a.tune, quiet)?;
    Ok(ExitCode::SUCCESS)
}

fn verify(a: &ReadArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let keys = provider(&a.key)?;
    let opts = options(&a.tune, "verify", quiet, &a.volume.volume)?;
    let r = engine::verify(&vref(&a.volume), keys.as_ref(), &opts)?;
    if a.tune.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        for p in &r.header_problems {
            eprintln!("verify: {p}");
        }
        if !r.bad.is_empty() {
            let list: Vec<String> = r.bad.iter().map(u64::to_string).collect();
            eprintln!(
                "verify: {} chunk(s) failed authentication: {}",
                r.bad.len(),
                list.join(", ")
            );
        }
        if r.ok() && !quiet {
            let plain = if r.plaintext > 0 {
                format!(
                    ", {} chunks still plaintext (interrupted operation)",
                    r.plaintext
                )
            } else {
                String::new()
            };
            eprintln!("verify: OK, {} chunks authenticated{plain}", r.checked);
            print_summary("verify", &r.summary, &a.tune, quiet)?;
        }
    }
    Ok(if r.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn cat(a: &ReadArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let keys = provider(&a.key)?;
    let opts = options(&a.tune, "cat", true, &a.volume.volume)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
    let r = engine::cat(&vref(&a.volume), keys.as_ref(), &opts, &mut out);
    out.flush().ok();
    let _ = quiet;
    r?;
    Ok(ExitCode::SUCCESS)
}

fn info(a: &InfoArgs) -> anyhow::Result<ExitCode> {
    let r = engine::info(&vref(&a.volume))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!("{r}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::error_text;

    #[derive(Debug, thiserror::Error)]
    #[error("report.json: {source}")]
    struct Repeats {
        source: std::io::Error,
    }

    #[test]
    fn error_text_keeps_every_cause_once() {
        let io = std::io::Error::other("disk on fire");
        let e = anyhow::Error::new(Repeats { source: io }).context("reading results");
        assert_eq!(
            error_text(&e),
            "reading results: report.json: disk on fire",
            "the repeated cause is printed once"
        );
        let e = anyhow::Error::new(std::io::Error::other("inner")).context("outer");
        assert_eq!(error_text(&e), "outer: inner");
    }
}
