//! `rewrap` and `rekey`: choosing the source and target key providers from the arguments and
//! the volume's keyslot, then running the engine operation.
//!
//! Defaults keep the volume under the key it has: `rewrap` with no target re-encrypts under
//! the same KMS key's current material (after a rotation); `rekey` with no target makes the
//! new data key under the volume's current KMS key or key file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::args::{RekeyArgs, ResumeArgs, RewrapArgs, TargetArgs};
use super::{cancel_on_signals, options, print_summary, vref};
use crate::engine::{self, VolumeRef};
use crate::format::KeyKind;
use crate::keys::{FileKeyProvider, KeyProvider, KmsKeyProvider, KmsOptions};

/// The current key version's wrapping as the (unauthenticated) header records it.
fn current_wrapping(v: &VolumeRef) -> anyhow::Result<(KeyKind, String)> {
    let info = engine::info(v)?;
    info.keyslots
        .iter()
        .find(|k| k.version == info.cur_ver)
        .map(|k| (k.kind, k.key_id.clone()))
        .with_context(|| {
            format!(
                "{} has no current key version (state {}); finish the running operation first",
                v.path.display(),
                info.state
            )
        })
}

/// How to reach KMS: `--kms-endpoint` and `--kms-ca-bundle`.
struct Conn<'a> {
    endpoint: Option<&'a String>,
    ca_bundle: Option<&'a PathBuf>,
}

impl<'a> Conn<'a> {
    fn of(k: &'a super::args::KeyArgs) -> Self {
        Conn {
            endpoint: k.kms_endpoint.as_ref(),
            ca_bundle: k.kms_ca_bundle.as_ref(),
        }
    }
}

fn kms(c: &Conn<'_>, key: Option<String>) -> anyhow::Result<Box<dyn KeyProvider>> {
    let opts = KmsOptions {
        key_id: key,
        endpoint: c.endpoint.cloned(),
        ca_bundle: c.ca_bundle.cloned(),
        ..KmsOptions::default()
    };
    Ok(super::cached(KmsKeyProvider::new(opts)?))
}

/// The target named by `--to-kms-key` / `--to-key-file`, if any.
fn target(t: &TargetArgs, c: &Conn<'_>) -> anyhow::Result<Option<Box<dyn KeyProvider>>> {
    if let Some(f) = &t.to_key_file {
        return Ok(Some(Box::new(FileKeyProvider::load(f)?)));
    }
    match &t.to_kms_key {
        Some(k) => Ok(Some(kms(c, Some(k.clone()))?)),
        None => Ok(None),
    }
}

pub(super) fn rewrap(a: &RewrapArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let v = vref(&a.volume);
    let (kind, key_id) = current_wrapping(&v)?;
    let c = Conn {
        endpoint: a.kms_endpoint.as_ref(),
        ca_bundle: a.kms_ca_bundle.as_ref(),
    };
    let from: Box<dyn KeyProvider> = match (&a.from_key_file, kind) {
        (Some(f), _) => Box::new(FileKeyProvider::load(f)?),
        (None, KeyKind::Kms) => kms(&c, None)?,
        (None, KeyKind::KeyFile) => bail!(
            "{}'s data key is wrapped by a key file: give it with --from-key-file FILE",
            v.path.display()
        ),
    };
    let to = match (target(&a.to, &c)?, kind) {
        (Some(t), _) => t,
        (None, KeyKind::Kms) => kms(&c, None)?,
        (None, KeyKind::KeyFile) => {
            bail!("name the new wrapping key with --to-kms-key ID or --to-key-file FILE")
        }
    };
    let r = engine::rewrap(&v, from.as_ref(), to.as_ref())?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else if !quiet {
        let how = match r.method {
            "reencrypt" => "KMS ReEncrypt, the data key never left KMS",
            "repair" => "a damaged header slot was rewritten too",
            _ => "unwrapped and wrapped again",
        };
        eprintln!(
            "rewrap: key version {} of {}: {} -> {} in {:.1} ms ({how}; no data touched)",
            r.version,
            v.path.display(),
            key_id,
            r.to_key,
            r.elapsed.as_secs_f64() * 1e3
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn rekey(a: &RekeyArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let v = vref(&a.volume);
    let from = super::provider(&a.key)?;
    let c = Conn::of(&a.key);
    let named = target(&a.to, &c)?;
    // No target named: the new data key goes under the key the volume is under now.
    let same_kms = match (&named, a.key.key_file.is_some()) {
        (None, false) if a.key.kms_key.is_none() => {
            let (_, arn) = current_wrapping(&v)?;
            Some(kms(&c, Some(arn))?)
        }
        _ => None,
    };
    let to: &dyn KeyProvider = match (&named, &same_kms) {
        (Some(t), _) | (None, Some(t)) => t.as_ref(),
        (None, None) => from.as_ref(),
    };
    let mut opts = options(&a.tune, "rekey", quiet, &a.volume.volume)?;
    opts.resilience = a.resilience;
    opts.cancel = Some(cancel_on_signals()?);
    let out = a.output.as_ref().map(VolumeRef::attached);
    let s = engine::rekey(&v, out.as_ref(), from.as_ref(), to, &opts)?;
    print_summary("rekey", &s, &a.tune, quiet)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn resume(a: &ResumeArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let v = vref(&a.volume);
    let from = super::provider(&a.key)?;
    let c = Conn::of(&a.key);
    let named = target(&a.to, &c)?;
    let to: &dyn KeyProvider = named.as_deref().unwrap_or(from.as_ref());
    let mut opts = options(&a.tune, "resume", quiet, &a.volume.volume)?;
    opts.cancel = Some(cancel_on_signals()?);
    let s = engine::resume(&v, from.as_ref(), to, &opts)?;
    print_summary(s.op, &s, &a.tune, quiet)?;
    Ok(ExitCode::SUCCESS)
}
