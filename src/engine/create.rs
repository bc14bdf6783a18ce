//! Formatting a new volume: fresh UUID, a new data key from the provider, keyslot, frozen
//! parameters and both header slots, all durable before any data is written.

use std::sync::Arc;

use super::files::Opened;
use super::volume::{now, Volume};
use super::{EngineError, VolumeRef};
use crate::crypto::{random_bytes, NonceCounter, VolumeKeys};
use crate::format::{
    Geometry, Header, Keyslot, KeyslotState, Layout, LayoutKind, Operation, Resilience, Slot,
    VolumeState,
};
use crate::io::BlockIo;
use crate::keys::{KeyContext, KeyProvider};

/// What to create.
pub(crate) struct NewVolume {
    pub geometry: Geometry,
    pub kind: LayoutKind,
    pub resilience: Resilience,
    /// Set for the output of an out-of-place encrypt: identifies its source.
    pub source_id: Option<[u8; 32]>,
}

impl NewVolume {
    /// The layout the new volume will have (to size files before they are mapped).
    pub fn layout(&self) -> Result<Layout, EngineError> {
        Ok(Layout::compute(&self.geometry, self.kind)?)
    }
}

/// Writes the initial headers of a volume about to be encrypted (state `encrypting`,
/// progress 0) and returns it open.
pub(crate) fn create(
    spec: &NewVolume,
    data: Arc<dyn BlockIo>,
    meta: Arc<dyn BlockIo>,
    provider: &dyn KeyProvider,
    vref: VolumeRef,
    files: Vec<Opened>,
) -> Result<Volume, EngineError> {
    let layout = spec.layout()?;
    if meta.len() != layout.device_size {
        return Err(EngineError::Internal(
            "metadata device not sized for the layout",
        ));
    }
    let mut uuid = [0u8; 16];
    random_bytes(&mut uuid)?;
    // RFC 9562 version 4 / variant bits, so the UUID prints like any other.
    uuid[6] = (uuid[6] & 0x0f) | 0x40;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;
    let ctx = if provider.shares_data_keys() {
        KeyContext::shared(uuid, 1)
    } else {
        KeyContext::volume(uuid, 1)
    };
    let (dk, wrapped) = provider.generate_sized(&ctx, spec.geometry.data_len)?;
    let keys = VolumeKeys::derive(&dk, &uuid, 1);
    drop(dk);
    let mut keyslots: [Keyslot; 4] = std::array::from_fn(|_| Keyslot::empty());
    keyslots[0] = Keyslot {
        version: 1,
        state: KeyslotState::Active,
        kind: wrapped.kind,
        shared_ctx: ctx.shared,
        kcv: keys.kcv()?,
        ctx_hash: ctx.hash(),
        key_id: wrapped.key_id,
        blob: wrapped.blob,
    };
    let t = now();
    let header = Header {
        // The first commit goes to the other slot, A.
        slot: Slot::B,
        seqno: 0,
        uuid,
        geometry: spec.geometry,
        layout,
        state: VolumeState::Encrypting,
        resilience: spec.resilience,
        operation: Operation::Encrypt,
        cur_ver: 0,
        tgt_ver: 1,
        progress: 0,
        journal_seq_applied: 0,
        nonce_hwm: 0,
        created: t,
        updated: t,
        out_of_place: spec.source_id.is_some(),
        source_id: spec.source_id.unwrap_or([0; 32]),
        keyslots,
    };
    let mut vol = Volume::from_parts(data, meta, header, vec![keys], vref, files);
    vol.commit_both(|_| {})?;
    Ok(vol)
}

/// Durably reserves nonce counters for `chunks` more chunks and returns the counter.
pub(crate) fn reserve_nonces(vol: &mut Volume, chunks: u64) -> Result<NonceCounter, EngineError> {
    let mut counter = NonceCounter::resume(vol.header.nonce_hwm);
    if let Some(hwm) = counter.reservation_needed(chunks) {
        vol.commit_both(|h| h.nonce_hwm = hwm)?;
        counter.reserved(hwm);
    }
    Ok(counter)
}
