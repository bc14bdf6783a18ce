//! `volcrypt demo`: the README's first command. Creates a scratch volume of pseudo-random
//! data (1 GiB by default), encrypts it in place, verifies it, decrypts it, checks the
//! SHA-256 of the round trip and prints the throughput of each phase. The data key is a KMS
//! data key: the demo starts the local KMS server in-process on loopback (a temporary data
//! dir), creates a key and an alias through the AWS SDK, and keys the volume with
//! [`KmsKeyProvider`] (GenerateDataKey on encrypt, one Decrypt per open).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::args::DemoArgs;
use super::{human, options};
use crate::crypto::{random_bytes, Sha256};
use crate::engine::{self, Summary, VolumeRef};
use crate::keys::{KmsKeyProvider, KmsOptions};
use crate::kms::server::{start, CredentialFile, RunningServer, ServerConfig};

const BLOCK: usize = 4 << 20;

/// Removes the scratch directory however the demo ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `size` bytes of pseudo-random data to `path` and returns their SHA-256.
fn fill(path: &Path, size: u64) -> anyhow::Result<[u8; 32]> {
    let mut block = vec![0u8; BLOCK];
    random_bytes(&mut block)?;
    let mut out = BufWriter::with_capacity(BLOCK, File::create(path)?);
    let mut h = Sha256::default();
    let mut left = size;
    let mut i: u64 = 0;
    while left > 0 {
        // Make every block distinct so that chunk swaps would be visible.
        block[..8].copy_from_slice(&i.to_le_bytes());
        let n = usize::try_from(left.min(BLOCK as u64))?;
        out.write_all(&block[..n])?;
        h.update(&block[..n]);
        left -= n as u64;
        i += 1;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(h.finish())
}

fn hash_file(path: &Path) -> anyhow::Result<[u8; 32]> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; BLOCK];
    let mut h = Sha256::default();
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn line(s: &Summary) -> String {
    format!(
        "  {:<8} {:>11} in {:>6.3} s  {:>12}/s",
        s.op,
        human(s.bytes as f64),
        s.elapsed.as_secs_f64(),
        human(s.bytes_per_sec())
    )
}

/// The in-process KMS and a provider keyed to a fresh demo key.
struct DemoKms {
    server: RunningServer,
    keys: KmsKeyProvider,
    key_arn: String,
}

/// Starts the KMS server on 127.0.0.1:0 with its data in `dir`, creates a key and the alias
/// `alias/volcrypt-demo` through the SDK, and returns a provider using that alias.
fn start_kms(dir: &Path) -> anyhow::Result<DemoKms> {
    let data = dir.join("kms");
    let mut cfg = ServerConfig::new(&data);
    cfg.addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let region = cfg.region.clone();
    let server = start(cfg).context("starting the in-process KMS server")?;
    let raw = std::fs::read(data.join("credentials.json")).context("reading the KMS credential")?;
    let cred: CredentialFile =
        serde_json::from_slice(&raw).context("parsing the KMS credential")?;
    let admin = KmsKeyProvider::with_static_credentials(
        &server.endpoint,
        &region,
        &cred.access_key_id,
        &cred.secret_access_key,
        KmsOptions::default(),
    )?;
    let key_arn = admin.create_key("volcrypt demo volume key")?;
    admin.create_alias("alias/volcrypt-demo", &key_arn)?;
    Ok(DemoKms {
        server,
        keys: admin.with_key("alias/volcrypt-demo"),
        key_arn,
    })
}

/// Runs the demo.
pub fn run(a: &DemoArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let base = a.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("volcrypt-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let _scratch = Scratch(dir.clone());
    let path = dir.join("scratch.vol");
    let opts = options(&a.tune, "demo", true);
    let kms = start_kms(&dir)?;
    if !quiet && !a.tune.json {
        eprintln!(
            "demo: {} scratch volume at {} ({} KiB chunks, io {}, crypto {}, {} threads)",
            human(a.size as f64),
            path.display(),
            a.chunk_size / 1024,
            opts.io,
            opts.backend,
            opts.threads
        );
        eprintln!(
            "demo: in-process KMS at {}, key {} (alias/volcrypt-demo)",
            kms.server.endpoint, kms.key_arn
        );
    }
    let original = fill(&path, a.size).context("creating the scratch volume")?;
    let keys = &kms.keys;
    let vol = VolumeRef::attached(&path);
    let enc = engine::encrypt(&vol, None, Some(a.chunk_size), keys, &opts)?;
    let info = engine::info(&vol)?;
    let ver = engine::verify(&vol, keys, &opts)?;
    if !ver.ok() {
        bail!("verify failed right after encrypt: {:?}", ver.bad);
    }
    let dec = engine::decrypt(&vol, None, keys, &opts)?;
    let round_trip = hash_file(&path)?;
    let ok = round_trip == original;
    if a.tune.json {
        let j = serde_json::json!({
            "size": a.size,
            "volume_uuid": info.uuid,
            "kms_endpoint": kms.server.endpoint,
            "kms_key_arn": kms.key_arn,
            "phases": [enc, ver.summary, dec],
            "sha256": hex(&original),
            "round_trip_ok": ok,
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else if !quiet {
        eprintln!("{}", line(&enc));
        eprintln!("{}", line(&ver.summary));
        eprintln!("{}", line(&dec));
        eprintln!(
            "demo: volume {} round trip {} (SHA-256 {})",
            info.uuid,
            if ok { "OK" } else { "MISMATCH" },
            &hex(&original)[..16]
        );
    }
    let DemoKms { server, keys, .. } = kms;
    drop(keys);
    server
        .stop()
        .context("stopping the in-process KMS server")?;
    if !ok {
        bail!("round trip changed the data: SHA-256 differs");
    }
    Ok(ExitCode::SUCCESS)
}
