//! An open volume: its devices, its authenticated header, and its unlocked key versions.
//!
//! Opening reads both header slots, then tries them newest first: unwrap the data key of the
//! slot's newest key version through the provider, check the key check value (a wrong key is
//! reported as such, before any data is read), derive the metadata key and verify the HMAC.
//! The first slot that authenticates wins; a forged or replayed header never does.
//! [`Volume::commit`] writes the next header to the other slot with `seqno + 1` and syncs it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::files::{self, Opened, Probe};
use super::{EngineError, VolumeRef};
use crate::crypto::{ct_eq, MetaKey, VolumeKeys};
use crate::format::{Header, Keyslot, LayoutKind, Slot};
use crate::io::{self, BlockIo, EngineKind};
use crate::keys::{KeyContext, KeyProvider, WrappedKey};

/// An open, locked, authenticated volume.
pub(crate) struct Volume {
    pub data: Arc<dyn BlockIo>,
    pub meta: Arc<dyn BlockIo>,
    pub header: Header,
    pub vref: VolumeRef,
    /// Header slots that failed to parse or authenticate (reported by `verify`).
    pub bad_slots: Vec<(Slot, String)>,
    keys: Arc<Vec<VolumeKeys>>,
    /// The open, locked files behind the engines (empty for raw devices).
    pub files: Vec<Opened>,
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Unwraps keyslot `slot` of volume `uuid` and checks its KCV.
pub(crate) fn unlock(
    provider: &dyn KeyProvider,
    slot: &Keyslot,
    uuid: &[u8; 16],
) -> Result<VolumeKeys, EngineError> {
    let ctx = slot_context(slot, uuid);
    if ctx.hash() != slot.ctx_hash {
        // Checked before asking the provider: a copied volume whose UUID was edited (or a
        // keyslot moved from another volume) is named as such, without a KMS call.
        return Err(EngineError::ContextMismatch {
            version: slot.version,
        });
    }
    let wrapped = WrappedKey {
        kind: slot.kind,
        key_id: slot.key_id.clone(),
        blob: slot.blob.clone(),
    };
    let dk = provider.unwrap(&wrapped, &ctx)?;
    let keys = VolumeKeys::derive(&dk, uuid, slot.version);
    if !ct_eq(&keys.kcv()?, &slot.kcv) {
        return Err(crate::keys::KeyError::WrongKey(format!(
            "{} does not match key version {} of this volume (key check value mismatch)",
            provider.describe(),
            slot.version
        ))
        .into());
    }
    Ok(keys)
}

/// Both headers describe the same idle volume (fully encrypted, no operation) under the same
/// key version and data key, differing at most in seqno and in the key's wrapping.
pub(crate) fn same_idle_key(a: &Header, b: &Header) -> bool {
    use crate::format::{Operation, VolumeState};
    let idle = |h: &Header| h.state == VolumeState::Encrypted && h.operation == Operation::Idle;
    idle(a)
        && idle(b)
        && a.cur_ver == b.cur_ver
        && a.uuid == b.uuid
        && a.progress == b.progress
        && match (a.keyslot(a.cur_ver), b.keyslot(b.cur_ver)) {
            (Some(x), Some(y)) => x.kcv == y.kcv && x.ctx_hash == y.ctx_hash && x != y,
            _ => false,
        }
}

/// The encryption context keyslot `slot` of volume `uuid` was wrapped under.
pub(crate) fn slot_context(slot: &Keyslot, uuid: &[u8; 16]) -> KeyContext {
    if slot.shared_ctx {
        KeyContext::shared(*uuid, slot.version)
    } else {
        KeyContext::volume(*uuid, slot.version)
    }
}

/// Opens the devices of `vref`: (data, metadata) handles, the same file when attached.
pub(crate) fn open_devices(
    vref: &VolumeRef,
    write: bool,
) -> Result<(Opened, Option<Opened>), EngineError> {
    let data = files::open_existing(&vref.path, write)?;
    let meta = match &vref.header {
        Some(h) if data.block && !h.exists() => {
            return Err(super::placement::missing_header(&data, h))
        }
        Some(h) => Some(files::open_existing(h, write)?),
        None => None,
    };
    Ok((data, meta))
}

/// The error for a device whose metadata cannot be used, saying why.
pub(crate) fn not_a_volume(path: &std::path::Path, probe: &Probe) -> EngineError {
    let path = path.to_owned();
    let reason = if let (Some(original), true) = (probe.intent, probe.found.is_empty()) {
        format!(
            "an in-place encrypt stopped before writing its first header; the data is intact: \
             run the same `volcrypt encrypt` again (it restores the original length of \
             {original} bytes and starts over)"
        )
    } else if probe.is_plain() {
        "no volcrypt header at its end; if it was one, it may be truncated".to_owned()
    } else {
        format!("its metadata is damaged: {}", probe.failure_text())
    };
    EngineError::NotAVolume { path, reason }
}

/// Data and metadata engine handles (the same handle when attached).
pub(crate) type Devices = (Arc<dyn BlockIo>, Arc<dyn BlockIo>);

/// Builds engine handles over opened files.
pub(crate) fn engines(
    data: &Opened,
    meta: Option<&Opened>,
    kind: EngineKind,
    write: bool,
) -> Result<Devices, EngineError> {
    let d = io::from_file(data.try_clone()?, &data.path, kind, write)?;
    let m = match meta {
        // Metadata is small and written in 4 KiB pieces: positioned I/O is the right tool.
        Some(m) => io::from_file(m.try_clone()?, &m.path, EngineKind::Pread, write)?,
        None => d.clone(),
    };
    Ok((d, m))
}

impl Volume {
    /// Opens an existing volume and authenticates its header under `provider`'s key.
    pub fn open(
        vref: &VolumeRef,
        write: bool,
        kind: EngineKind,
        provider: &dyn KeyProvider,
    ) -> Result<Volume, EngineError> {
        let (data, meta) = open_devices(vref, write)?;
        let (d, m) = engines(&data, meta.as_ref(), kind, write)?;
        let label = vref.header.clone().unwrap_or_else(|| vref.path.clone());
        let mut vol = Self::open_on(d, m, provider, vref.clone(), &label)?;
        check_sizes(vref, &vol.header, &data)?;
        vol.files.push(data);
        vol.files.extend(meta);
        if write {
            super::journal::recover(&mut vol)?;
        } else if super::journal::needs_recovery(&vol)? {
            // A journaled window was interrupted between its journal commit and its
            // checkpoint: replay it (under the exclusive lock) before reading anything.
            drop(vol);
            drop(Self::open(vref, true, kind, provider)?);
            return Self::open(vref, false, kind, provider);
        }
        Ok(vol)
    }

    /// Authenticates the volume on already open devices. `label` names it in errors.
    pub fn open_on(
        d: Arc<dyn BlockIo>,
        m: Arc<dyn BlockIo>,
        provider: &dyn KeyProvider,
        vref: VolumeRef,
        label: &std::path::Path,
    ) -> Result<Volume, EngineError> {
        let probe = files::probe_dev(m.as_ref())?;
        if probe.found.is_empty() {
            return Err(not_a_volume(label, &probe));
        }
        let mut bad_slots: Vec<(Slot, String)> = probe
            .failures
            .iter()
            .map(|(s, e)| (*s, e.to_string()))
            .collect();
        let mut chosen = None;
        let mut unlock_error: Option<(Header, EngineError)> = None;
        let mut cache: Vec<(Keyslot, VolumeKeys)> = Vec::new();
        let mut found = probe.found;
        // Newest first. An older slot may hold another wrapping of the same key (a rewrap
        // that stopped between its two slot writes): failing to unwrap it is not an error
        // once a newer slot opened, and when the newer one failed to unwrap, the older one is
        // tried only if it describes the same idle state (never a rollback of progress).
        found.sort_by_key(|u| std::cmp::Reverse(u.peek().seqno));
        for cand in found {
            let h = cand.peek().clone();
            if let Some((failed, _)) = &unlock_error {
                if chosen.is_none() && !same_idle_key(failed, &h) {
                    break;
                }
            }
            let ver = h
                .mac_version()
                .ok_or(EngineError::Internal("header without keyslot"))?;
            let ks = h
                .keyslot(ver)
                .ok_or(EngineError::Internal("mac keyslot missing"))?;
            if !cache.iter().any(|(k, _)| k == ks) {
                match unlock(provider, ks, &h.uuid) {
                    Ok(keys) => cache.push((ks.clone(), keys)),
                    Err(e) => {
                        if chosen.is_none() && unlock_error.is_none() {
                            unlock_error = Some((h, e));
                        }
                        continue;
                    }
                }
            }
            let meta_key = cache
                .iter()
                .find(|(k, _)| k == ks)
                .map(|(_, v)| v.meta_key())
                .ok_or(EngineError::Internal("key cache"))??;
            match cand.verify(&meta_key) {
                Ok(h) if chosen.is_none() => chosen = Some(h),
                Ok(_) => {}
                Err(e) => bad_slots.push((h.slot, e.to_string())),
            }
        }
        let header: Header = match (chosen, unlock_error) {
            (Some(h), _) => h,
            (None, Some((_, e))) => return Err(e),
            (None, None) => return Err(EngineError::HeaderAuth(label.to_owned())),
        };
        if d.len() < header.geometry.data_len {
            return Err(EngineError::Truncated {
                path: vref.path.clone(),
                expected: header.geometry.data_len,
                actual: d.len(),
            });
        }
        // Unlock every key version the data may be under.
        let mut keys = Vec::new();
        for ver in [header.cur_ver, header.tgt_ver] {
            if ver == 0 || keys.iter().any(|k: &VolumeKeys| k.version() == ver) {
                continue;
            }
            let ks = header
                .keyslot(ver)
                .ok_or(EngineError::Internal("validated keyslot missing"))?;
            match cache.iter().position(|(k, _)| k == ks) {
                Some(i) => keys.push(cache.swap_remove(i).1),
                None => keys.push(unlock(provider, ks, &header.uuid)?),
            }
        }
        Ok(Volume {
            data: d,
            meta: m,
            header,
            vref,
            bad_slots,
            keys: Arc::new(keys),
            files: Vec::new(),
        })
    }

    /// Assembles a volume from parts (a freshly created one).
    pub fn from_parts(
        data: Arc<dyn BlockIo>,
        meta: Arc<dyn BlockIo>,
        header: Header,
        keys: Vec<VolumeKeys>,
        vref: VolumeRef,
        files: Vec<Opened>,
    ) -> Self {
        Volume {
            data,
            meta,
            header,
            vref,
            bad_slots: Vec::new(),
            keys: Arc::new(keys),
            files,
        }
    }

    /// The unlocked keys of version `ver`.
    pub fn keys(&self, ver: u32) -> Option<&VolumeKeys> {
        self.keys.iter().find(|k| k.version() == ver)
    }

    /// Adds the keys of a new key version (a rekey's target), before the ring is shared.
    pub fn add_keys(&mut self, keys: VolumeKeys) -> Result<(), EngineError> {
        Arc::get_mut(&mut self.keys)
            .ok_or(EngineError::Internal("key ring shared while adding a key"))?
            .push(keys);
        Ok(())
    }

    /// A shared handle on the unlocked keys, for the cipher stage while the writer commits.
    pub fn key_ring(&self) -> Arc<Vec<VolumeKeys>> {
        Arc::clone(&self.keys)
    }

    /// Drops the engines (unmapping) and returns the open, still locked files.
    pub fn into_files(self) -> Vec<Opened> {
        self.files
    }

    /// The metadata key that signs the current header (and the journal records).
    pub fn header_key(&self) -> Result<MetaKey, EngineError> {
        self.meta_key(&self.header)
    }

    fn meta_key(&self, h: &Header) -> Result<MetaKey, EngineError> {
        let ver = h.mac_version().ok_or(EngineError::Internal("no keyslot"))?;
        let keys = self
            .keys(ver)
            .ok_or(EngineError::Internal("signing key locked"))?;
        Ok(keys.meta_key()?)
    }

    /// Writes the next header (changed by `f`) to the other slot and makes it durable.
    pub fn commit(&mut self, f: impl FnOnce(&mut Header)) -> Result<(), EngineError> {
        let mut h = self.header.clone();
        f(&mut h);
        h.seqno += 1;
        h.slot = self.header.slot.other();
        h.updated = now();
        let bytes = h.encode(&self.meta_key(&h)?)?;
        let at = h.offset();
        self.meta
            .write_sync_at(&bytes, at, at..at + bytes.len() as u64)?;
        self.header = h;
        Ok(())
    }

    /// Commits to both slots, so that either one alone describes the new state.
    pub fn commit_both(&mut self, f: impl FnOnce(&mut Header)) -> Result<(), EngineError> {
        self.commit(f)?;
        self.commit(|_| {})
    }

    /// True when data and metadata share one device.
    pub fn attached(&self) -> bool {
        self.header.layout.kind.same_device()
    }

    /// Makes data bytes `lo..hi` and tag entries of `chunks` durable, with as few syncs as
    /// the engines allow.
    pub fn sync_window(
        &self,
        bytes: std::ops::Range<u64>,
        tags: bool,
        chunks: std::ops::Range<u64>,
    ) -> Result<(), EngineError> {
        let l = &self.header.layout;
        let tag_lo = l.tag_entry(chunks.start);
        let tag_len = l.tag_entry(chunks.end) - tag_lo;
        if self.attached() && self.data.kind() != EngineKind::Mmap {
            return Ok(self.data.sync()?);
        }
        self.data.sync_range(bytes.start, bytes.end - bytes.start)?;
        if tags {
            self.meta.sync_range(tag_lo, tag_len)?;
        }
        Ok(())
    }
}

fn check_sizes(vref: &VolumeRef, h: &Header, data: &Opened) -> Result<(), EngineError> {
    let need = match h.layout.kind {
        LayoutKind::Attached | LayoutKind::Tail { .. } => h.layout.device_size,
        LayoutKind::Detached => h.geometry.data_len,
    };
    let ok = if data.block {
        data.size >= need
    } else {
        data.size == need
    };
    if (h.layout.kind == LayoutKind::Detached) != vref.header.is_some() {
        return Err(EngineError::Invalid(match h.layout.kind {
            LayoutKind::Detached => "this volume has a detached header: pass --header FILE".into(),
            LayoutKind::Attached => "this volume's header is attached; drop --header".into(),
            LayoutKind::Tail { .. } => format!(
                "{} keeps its header in its own last bytes (a reserved tail); drop --header",
                vref.path.display()
            ),
        }));
    }
    if ok {
        Ok(())
    } else {
        Err(EngineError::Truncated {
            path: vref.path.clone(),
            expected: need,
            actual: data.size,
        })
    }
}
