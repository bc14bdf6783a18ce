//! `volcrypt bench envelope`: what envelope encryption costs, against an in-process KMS on
//! 127.0.0.1.
//!
//! 1. One large volume (10 GiB by default): encrypt, then `rewrap` (one KMS ReEncrypt, only the
//!    header is written) beside a full `rekey` of the same volume, and their ratio.
//! 2. Many small volumes (10,000 by default) created through a [`DataKeyCache`] in reuse mode
//!    with `max_uses` M: GenerateDataKey calls (counted by the cache and, independently, in the
//!    server's audit log) against the bound N / M + 1; then every volume opened (verified)
//!    through one cache: Decrypt calls.
//!
//! With `--out DIR` it writes `result.json` and `summary.md`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;

use super::demo::start_kms;
use super::{human, options};
use crate::engine::{self, VolumeRef};
use crate::keys::{CacheLimits, DataKeyCache, KeyProvider};

/// `volcrypt bench envelope`.
#[derive(Debug, Args)]
pub struct EnvelopeBenchArgs {
    /// Size of the large volume (rewrap vs rekey).
    #[arg(long, value_name = "SIZE", default_value = "10G", value_parser = super::parse_size)]
    pub size: u64,
    /// Number of small volumes created with a shared cached data key.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub volumes: u64,
    /// Size of each small volume.
    #[arg(long, value_name = "SIZE", default_value = "64K", value_parser = super::parse_size)]
    pub volume_size: u64,
    /// The cache's max_uses: new volumes per GenerateDataKey.
    #[arg(long, value_name = "M", default_value_t = 100)]
    pub max_uses: u64,
    /// Scratch directory [default: the system temp dir].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Write result.json and summary.md into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub tune: super::args::TuneArgs,
}

/// Runs the benchmark.
pub fn run(a: &EnvelopeBenchArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    if a.max_uses == 0 || a.volumes == 0 {
        bail!("--volumes and --max-uses must be at least 1");
    }
    let base = a.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("volcrypt-bench-envelope-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let _scratch = super::demo::Scratch(dir.clone());
    let opts = options(&a.tune, "bench", true, &dir)?;
    let say = |s: String| {
        if !quiet {
            eprintln!("{s}");
        }
    };
    let kms = start_kms(&dir)?;
    kms.key("bench envelope A", "alias/bench-a")?;
    kms.key("bench envelope B", "alias/bench-b")?;
    let key_a = kms.provider("alias/bench-a")?;
    let key_b = kms.provider("alias/bench-b")?;

    // 1. Rewrap vs rekey on one large volume.
    let big = dir.join("big.vol");
    std::fs::File::create(&big)?.set_len(a.size)?;
    let v = VolumeRef::attached(&big);
    say(format!(
        "bench envelope: encrypting a {} volume",
        human(a.size as f64)
    ));
    let enc = engine::encrypt(&v, None, None, &key_a, &opts)?;
    let rw = engine::rewrap(&v, &kms.admin, &key_b)?;
    say(format!(
        "  rewrap  {:>9.3} ms",
        rw.elapsed.as_secs_f64() * 1e3
    ));
    let rk = engine::rekey(&v, None, &kms.admin, &key_b, &opts)?;
    say(format!(
        "  rekey   {:>9.3} s ({}/s)",
        rk.elapsed.as_secs_f64(),
        human(rk.bytes_per_sec())
    ));
    std::fs::remove_file(&big)?;

    // 2. Many small volumes sharing cached data keys.
    let limits = CacheLimits {
        max_uses: a.max_uses,
        reuse_data_keys: true,
        ..CacheLimits::default()
    };
    let inner: Arc<dyn KeyProvider> = Arc::new(kms.provider("alias/bench-a")?);
    let cache = DataKeyCache::new(Arc::clone(&inner), limits);
    let small = dir.join("small");
    std::fs::create_dir_all(&small)?;
    let block = vec![0x5au8; usize::try_from(a.volume_size)?];
    let t = Instant::now();
    for i in 0..a.volumes {
        let p = small.join(format!("{i}.vol"));
        std::fs::write(&p, &block)?;
        engine::encrypt(&VolumeRef::attached(&p), None, None, &cache, &opts)?;
    }
    let create_secs = t.elapsed().as_secs_f64();
    let created = cache.metrics();
    let opener = DataKeyCache::new(inner, CacheLimits::default());
    let t = Instant::now();
    for i in 0..a.volumes {
        let p = small.join(format!("{i}.vol"));
        if !engine::verify(&VolumeRef::attached(&p), &opener, &opts)?.ok() {
            bail!("small volume {i} failed verification");
        }
    }
    let open_secs = t.elapsed().as_secs_f64();
    let opened = opener.metrics();
    drop((cache, opener, key_a, key_b));
    let calls = kms.stop()?;
    let bound = a.volumes / a.max_uses + 1;
    let gdk = created.inner_calls.generate;
    // The large volume's encrypt and rekey made 2 of the server's GenerateDataKey calls.
    let server_gdk = calls
        .get("GenerateDataKey")
        .copied()
        .unwrap_or(0)
        .saturating_sub(2);
    let result = serde_json::json!({
        "size": a.size,
        "encrypt": enc,
        "rewrap": rw,
        "rekey": rk,
        "rekey_over_rewrap": rk.elapsed.as_secs_f64() / rw.elapsed.as_secs_f64().max(1e-9),
        "small_volumes": {
            "count": a.volumes,
            "volume_size": a.volume_size,
            "max_uses": a.max_uses,
            "generate_data_key_calls": gdk,
            "generate_data_key_calls_server": server_gdk,
            "bound": bound,
            "within_bound": gdk <= bound,
            "create_seconds": create_secs,
            "open_seconds": open_secs,
            "create_cache": created,
            "open_cache": opened,
        },
        "kms_calls_server": calls,
        "threads": opts.threads,
    });
    let summary = format!(
        "# volcrypt bench envelope\n\n\
         | what | value |\n|---|---|\n\
         | volume | {} |\n\
         | encrypt | {:.2} s ({}/s) |\n\
         | rewrap (1 ReEncrypt, header only) | {:.3} ms |\n\
         | rekey (full pass) | {:.2} s ({}/s) |\n\
         | rekey / rewrap | {:.0}x |\n\
         | small volumes created | {} of {} in {:.2} s |\n\
         | GenerateDataKey calls (cache / server audit) | {gdk} / {server_gdk} (bound N/max_uses+1 = {bound}: {}) |\n\
         | Decrypt calls opening all of them (cache) | {} ({} hits) |\n",
        human(a.size as f64),
        enc.elapsed.as_secs_f64(),
        human(enc.bytes_per_sec()),
        rw.elapsed.as_secs_f64() * 1e3,
        rk.elapsed.as_secs_f64(),
        human(rk.bytes_per_sec()),
        rk.elapsed.as_secs_f64() / rw.elapsed.as_secs_f64().max(1e-9),
        a.volumes,
        human(a.volume_size as f64),
        create_secs,
        if gdk <= bound { "PASS" } else { "FAIL" },
        opened.inner_calls.unwrap,
        opened.hits,
    );
    if let Some(out) = &a.out {
        std::fs::create_dir_all(out)?;
        std::fs::write(
            out.join("result.json"),
            serde_json::to_string_pretty(&result)?,
        )?;
        std::fs::write(out.join("summary.md"), &summary)?;
    }
    if a.tune.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else if !quiet {
        eprint!("{summary}");
    }
    if gdk > bound || server_gdk > bound {
        bail!("GenerateDataKey calls {gdk} exceed the bound {bound}");
    }
    Ok(ExitCode::SUCCESS)
}
