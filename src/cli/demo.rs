//! `volcrypt demo`: the README's first command. Creates a scratch volume of pseudo-random
//! data (1 GiB by default); encrypts it in place, verifies it, rewraps its data key under a
//! second KMS key, rekeys it (new data key, full pass), decrypts it, checks the SHA-256 of the
//! round trip and prints the throughput of each phase and the KMS calls made. The data keys
//! are KMS data keys: the demo starts the local KMS server in-process on loopback (a
//! temporary data dir), creates two keys and aliases through the AWS SDK, and keys the volume
//! with [`KmsKeyProvider`]; the calls are counted from the server's audit log.

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
pub(super) struct Scratch(pub PathBuf);

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

/// The in-process KMS server and an admin provider (no key named).
pub(super) struct LocalKms {
    pub server: RunningServer,
    pub admin: KmsKeyProvider,
    pub data_dir: PathBuf,
    pub region: String,
}

impl LocalKms {
    /// Creates a key and points `alias` at it; returns its ARN.
    pub fn key(&self, description: &str, alias: &str) -> anyhow::Result<String> {
        let arn = self.admin.create_key(description)?;
        self.admin.create_alias(alias, &arn)?;
        Ok(arn)
    }

    /// A provider for new volumes under `key`.
    pub fn provider(&self, key: &str) -> anyhow::Result<KmsKeyProvider> {
        let raw = std::fs::read(self.data_dir.join("credentials.json"))?;
        let cred: CredentialFile = serde_json::from_slice(&raw)?;
        Ok(KmsKeyProvider::with_static_credentials(
            &self.server.endpoint,
            &self.region,
            &cred.access_key_id,
            &cred.secret_access_key,
            KmsOptions::default(),
        )?
        .with_key(key))
    }

    /// Stops the server and counts the successful calls per operation in its audit log.
    pub fn stop(self) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
        let LocalKms {
            server,
            admin,
            data_dir,
            ..
        } = self;
        drop(admin);
        server
            .stop()
            .context("stopping the in-process KMS server")?;
        let mut calls = std::collections::BTreeMap::new();
        for e in crate::kms::server::audit_query(&data_dir, None, None)? {
            if e.outcome == "ok" {
                *calls.entry(e.operation).or_insert(0) += 1;
            }
        }
        Ok(calls)
    }
}

/// Starts the KMS server on 127.0.0.1:0 with its data in `dir`/kms.
pub(super) fn start_kms(dir: &Path) -> anyhow::Result<LocalKms> {
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
    Ok(LocalKms {
        server,
        admin,
        data_dir: data,
        region,
    })
}

/// Runs the demo.
pub fn run(a: &DemoArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let base = a.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("volcrypt-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let _scratch = Scratch(dir.clone());
    let path = dir.join("scratch.vol");
    let opts = options(&a.tune, "demo", true, &dir)?;
    let kms = start_kms(&dir)?;
    let key_arn = kms.key("volcrypt demo volume key", "alias/volcrypt-demo")?;
    let key2_arn = kms.key("volcrypt demo rewrap target", "alias/volcrypt-demo-2")?;
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
            "demo: in-process KMS at {}, keys alias/volcrypt-demo and alias/volcrypt-demo-2",
            kms.server.endpoint
        );
    }
    let original = fill(&path, a.size).context("creating the scratch volume")?;
    let key1 = kms.provider("alias/volcrypt-demo")?;
    let key2 = kms.provider("alias/volcrypt-demo-2")?;
    let vol = VolumeRef::attached(&path);
    let enc = engine::encrypt(&vol, None, Some(a.chunk_size), &key1, &opts)?;
    let info = engine::info(&vol)?;
    let ver = engine::verify(&vol, &kms.admin, &opts)?;
    if !ver.ok() {
        bail!("verify failed right after encrypt: {:?}", ver.bad);
    }
    let rw = engine::rewrap(&vol, &kms.admin, &key2)?;
    let rk = engine::rekey(&vol, None, &kms.admin, &key2, &opts)?;
    let dec = engine::decrypt(&vol, None, &kms.admin, &opts)?;
    let round_trip = hash_file(&path)?;
    let ok = round_trip == original;
    let endpoint = kms.server.endpoint.clone();
    drop((key1, key2));
    let calls = kms.stop()?;
    let n_calls: u64 = calls
        .iter()
        .filter(|(op, _)| !matches!(op.as_str(), "CreateKey" | "CreateAlias"))
        .map(|(_, n)| n)
        .sum();
    if a.tune.json {
        let j = serde_json::json!({
            "size": a.size,
            "volume_uuid": info.uuid,
            "kms_endpoint": endpoint,
            "kms_key_arns": [key_arn, key2_arn],
            "phases": [enc, ver.summary, rk, dec],
            "rewrap": rw,
            "kms_calls": calls,
            "sha256": hex(&original),
            "round_trip_ok": ok,
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else if !quiet {
        eprintln!("{}", line(&enc));
        eprintln!("{}", line(&ver.summary));
        eprintln!(
            "  {:<8} key version {} -> {} in {:.2} ms (KMS ReEncrypt; no data touched)",
            "rewrap",
            rw.version,
            key2_arn.rsplit('/').next().unwrap_or(&key2_arn),
            rw.elapsed.as_secs_f64() * 1e3
        );
        eprintln!("{}", line(&rk));
        eprintln!("{}", line(&dec));
        let list: Vec<String> = calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
        eprintln!(
            "demo: {n_calls} KMS calls for the volume ({}); none on the data path",
            list.join(", ")
        );
        eprintln!(
            "demo: volume {} round trip {} (SHA-256 {})",
            info.uuid,
            if ok { "OK" } else { "MISMATCH" },
            &hex(&original)[..16]
        );
    }
    if !ok {
        bail!("round trip changed the data: SHA-256 differs");
    }
    Ok(ExitCode::SUCCESS)
}
