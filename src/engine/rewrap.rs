//! `rewrap`: put a volume's data key under another wrapping key (another KMS key, the same KMS
//! key's current material, a key file), without touching the data. O(1): one keyslot changes.
//!
//! The keyslot's wrapping (kind, key id, blob) is outside the header MAC, and the MAC-covered
//! key check value authenticates whatever wrapping is present once it is unwrapped (see
//! `format::keyslot`). So between two KMS keys the new wrapping comes from one `ReEncrypt`
//! call: the plaintext data key never leaves KMS and this process never holds it. The new
//! wrapping is written into both header slots in place, the older slot first, each synced:
//! a crash leaves at least one slot whole (the CRC tells), and the newest whole slot opens
//! with either the old or the new wrapping, both of which hold the same data key.
//!
//! A key file on either side needs the plaintext (unwrap with the source, KCV check, wrap
//! with the target). A volume with a damaged header slot cannot be rewritten slot by slot
//! (a slot's MAC covers its own slot byte and seqno), so it is opened with the source key
//! and committed to both slots through the normal A/B protocol, which also repairs it.

use std::time::{Duration, Instant};

use super::files::{self, Probe};
use super::volume::{engines, open_devices, same_idle_key, slot_context, Volume};
use super::{EngineError, VolumeRef};
use crate::crypto::{ct_eq, VolumeKeys};
use crate::format::{Header, Keyslot, Operation, UnverifiedHeader, VolumeState};
use crate::io::{BlockIo, EngineKind};
use crate::keys::{KeyError, KeyProvider, WrappedKey};

/// What `rewrap` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RewrapReport {
    /// The key version whose wrapping changed.
    pub version: u32,
    /// The wrapping key before.
    pub from_key: String,
    /// The wrapping key after (the ARN KMS returned, or a key-file fingerprint).
    pub to_key: String,
    /// `reencrypt` (inside KMS, no plaintext here), `unwrap+wrap` (a key file on one side),
    /// or `repair` (a damaged header slot: the volume was opened and both slots rewritten).
    pub method: &'static str,
    /// Wall time, KMS calls included.
    #[serde(serialize_with = "secs")]
    pub elapsed: Duration,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Re-wraps the data key of `vref` from `from` (used only when the plaintext is needed) to
/// `to`. The volume must be idle (fully encrypted, no operation running).
pub fn rewrap(
    vref: &VolumeRef,
    from: &dyn KeyProvider,
    to: &dyn KeyProvider,
) -> Result<RewrapReport, EngineError> {
    let t0 = Instant::now();
    let (data, meta) = open_devices(vref, true)?;
    let (_, m) = engines(&data, meta.as_ref(), EngineKind::Pread, true)?;
    let label = vref.header.clone().unwrap_or_else(|| vref.path.clone());
    let probe = files::probe_dev(m.as_ref())?;
    let mut found = probe.found.clone();
    found.sort_by_key(|u| u.peek().seqno);
    let Some(newest) = found.last() else {
        return Err(EngineError::NotAVolume {
            path: label,
            reason: probe_reason(&probe),
        });
    };
    check_idle(vref, newest.peek())?;
    let h = newest.peek().clone();
    let ver = h.cur_ver;
    let ks = h
        .keyslot(ver)
        .ok_or(EngineError::Internal("validated keyslot missing"))?
        .clone();
    let intact = found.len() == 2
        && found
            .iter()
            .all(|u| u.peek().keyslot(ver) == Some(&ks) || same_idle_key(u.peek(), &h));
    if !intact {
        // Release our locks for the open below (a second exclusive flock on another
        // descriptor of the same file would conflict with our own).
        drop((m, data, meta));
        let vol = Volume::open(vref, true, EngineKind::Pread, from)?;
        return repair(vol, from, to, t0);
    }
    let ctx = slot_context(&ks, &h.uuid);
    if ctx.hash() != ks.ctx_hash {
        return Err(EngineError::ContextMismatch { version: ver });
    }
    let wrapped = wrapped_of(&ks);
    let (new, method) = match to.rewrap(&wrapped, &ctx)? {
        Some(w) => (w, "reencrypt"),
        None => {
            let dk = from.unwrap(&wrapped, &ctx)?;
            let keys = VolumeKeys::derive(&dk, &h.uuid, ver);
            if !ct_eq(&keys.kcv()?, &ks.kcv) {
                return Err(wrong_key(from, ver));
            }
            (to.wrap(&dk, &ctx)?, "unwrap+wrap")
        }
    };
    let slot = wrapping(&new);
    // Older slot first: until the newest is rewritten, it still opens with the old wrapping.
    for u in &found {
        write_slot(m.as_ref(), u, ver, &slot)?;
    }
    check_written(m.as_ref(), ver, &slot, &label)?;
    drop((m, data, meta));
    Ok(RewrapReport {
        version: ver,
        from_key: ks.key_id,
        to_key: new.key_id,
        method,
        elapsed: t0.elapsed(),
    })
}

/// Opened under the source key, the new wrapping is committed to both slots.
fn repair(
    mut vol: Volume,
    from: &dyn KeyProvider,
    to: &dyn KeyProvider,
    t0: Instant,
) -> Result<RewrapReport, EngineError> {
    check_idle(&vol.vref, &vol.header)?;
    let ver = vol.header.cur_ver;
    let ks = vol
        .header
        .keyslot(ver)
        .ok_or(EngineError::Internal("validated keyslot missing"))?
        .clone();
    let ctx = slot_context(&ks, &vol.header.uuid);
    let wrapped = wrapped_of(&ks);
    let new = match to.rewrap(&wrapped, &ctx)? {
        Some(w) => w,
        // The engine keeps only derived keys, so the data key is unwrapped once more.
        None => to.wrap(&from.unwrap(&wrapped, &ctx)?, &ctx)?,
    };
    let slot = wrapping(&new);
    vol.commit_both(|h| {
        if let Some(k) = h
            .keyslots
            .iter_mut()
            .find(|k| !k.is_empty() && k.version == ver)
        {
            k.kind = slot.kind;
            k.key_id.clone_from(&slot.key_id);
            k.blob.clone_from(&slot.blob);
        }
    })?;
    Ok(RewrapReport {
        version: ver,
        from_key: ks.key_id,
        to_key: new.key_id,
        method: "repair",
        elapsed: t0.elapsed(),
    })
}

fn check_idle(vref: &VolumeRef, h: &Header) -> Result<(), EngineError> {
    if h.state == VolumeState::Encrypted && h.operation == Operation::Idle {
        return Ok(());
    }
    Err(EngineError::BadState {
        op: "rewrap",
        path: vref.path.clone(),
        reason: format!(
            "it is {} (operation {} running); finish that operation first by running it again",
            h.state, h.operation
        ),
    })
}

fn wrapped_of(ks: &Keyslot) -> WrappedKey {
    WrappedKey {
        kind: ks.kind,
        key_id: ks.key_id.clone(),
        blob: ks.blob.clone(),
    }
}

fn wrapping(w: &WrappedKey) -> Keyslot {
    Keyslot {
        kind: w.kind,
        key_id: w.key_id.clone(),
        blob: w.blob.clone(),
        ..Keyslot::empty()
    }
}

fn wrong_key(from: &dyn KeyProvider, ver: u32) -> EngineError {
    KeyError::WrongKey(format!(
        "{} does not match key version {ver} of this volume (key check value mismatch)",
        from.describe()
    ))
    .into()
}

fn write_slot(
    m: &dyn BlockIo,
    u: &UnverifiedHeader,
    ver: u32,
    slot: &Keyslot,
) -> Result<(), EngineError> {
    let bytes = u.rewrapped(ver, slot)?;
    let off = u.peek().offset();
    m.write_at(&bytes, off)?;
    m.sync_range(off, bytes.len() as u64)?;
    Ok(())
}

/// Reads both slots back: each must parse and hold the new wrapping.
fn check_written(
    m: &dyn BlockIo,
    ver: u32,
    slot: &Keyslot,
    label: &std::path::Path,
) -> Result<(), EngineError> {
    let probe = files::probe_dev(m)?;
    let ok = probe.found.len() == 2
        && probe.found.iter().all(|u| {
            u.peek().keyslot(ver).is_some_and(|k| {
                k.kind == slot.kind && k.key_id == slot.key_id && k.blob == slot.blob
            })
        });
    if ok {
        Ok(())
    } else {
        Err(EngineError::NotAVolume {
            path: label.to_owned(),
            reason: format!(
                "the rewritten header did not read back intact ({})",
                probe_reason(&probe)
            ),
        })
    }
}

fn probe_reason(probe: &Probe) -> String {
    if probe.is_plain() {
        "no volcrypt header at its end".to_owned()
    } else {
        format!("its metadata is damaged: {}", probe.failure_text())
    }
}
