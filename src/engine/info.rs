//! `info`: what a volume's header says, without any key.
//!
//! Nothing here is authenticated (the MAC needs the key), and the report says so; use
//! `verify` for a checked answer.

use std::fmt;

use super::files;
use super::volume::{not_a_volume, open_devices};
use super::{EngineError, VolumeRef};
use crate::format::{Header, KeyKind, KeyslotState, LayoutKind, FORMAT_VERSION};
use crate::io;
use crate::keys::context_uuid;

/// One keyslot, as shown by `info`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyslotInfo {
    /// Key version.
    pub version: u32,
    /// Slot state.
    pub state: KeyslotState,
    /// Who wraps the key.
    pub kind: KeyKind,
    /// Key ARN or key-file fingerprint.
    pub key_id: String,
    /// Bytes of wrapped key.
    pub wrapped_len: usize,
}

/// One header slot's status.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SlotInfo {
    /// "A" or "B".
    pub slot: String,
    /// Its seqno, when it parsed.
    pub seqno: Option<u64>,
    /// "ok (CRC)" or the parse error.
    pub status: String,
}

/// The header of a volume as `info` reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InfoReport {
    /// Data path.
    pub path: String,
    /// Detached header path.
    pub header_path: Option<String>,
    /// Format version.
    pub format_version: u16,
    /// Volume UUID.
    pub uuid: String,
    /// Data state.
    pub state: String,
    /// Frozen operation.
    pub operation: String,
    /// Resilience of the frozen operation.
    pub resilience: String,
    /// "attached", "detached" or "tail".
    pub layout: String,
    /// For the tail layout: the bytes after the data area, whose end holds the metadata.
    pub reserved_tail: Option<u64>,
    /// For a block device: its logical block size (the smallest unit it addresses).
    pub logical_block: Option<u32>,
    /// For a block device: its physical block size.
    pub physical_block: Option<u32>,
    /// Plaintext bytes.
    pub data_len: u64,
    /// Chunk size in bytes.
    pub chunk_size: u64,
    /// Number of chunks.
    pub chunks: u64,
    /// Chunks in the target state.
    pub progress_chunks: u64,
    /// Progress in percent.
    pub progress_percent: f64,
    /// Key version of data at or above progress.
    pub cur_ver: u32,
    /// Key version of data below progress.
    pub tgt_ver: u32,
    /// Nonce high-water mark.
    pub nonce_hwm: u64,
    /// Seqno of the header shown.
    pub seqno: u64,
    /// Creation time (unix s).
    pub created: u64,
    /// Last header update (unix s).
    pub updated: u64,
    /// Keyslots in use.
    pub keyslots: Vec<KeyslotInfo>,
    /// Both header slots.
    pub header_slots: Vec<SlotInfo>,
    /// Always false: `info` has no key, so the MAC is not checked.
    pub authenticated: bool,
}

/// Reads the header of `vref` without a key.
pub fn info(vref: &VolumeRef) -> Result<InfoReport, EngineError> {
    let (data, meta) = open_devices(vref, false)?;
    let m = meta.as_ref().unwrap_or(&data);
    let probe = files::probe(&m.file, m.size)?;
    let Some(h) = probe.newest() else {
        return Err(not_a_volume(&m.path, &probe));
    };
    let mut slots: Vec<SlotInfo> = probe
        .found
        .iter()
        .map(|u| SlotInfo {
            slot: u.peek().slot.to_string(),
            seqno: Some(u.peek().seqno),
            status: "ok (CRC; MAC not checked)".into(),
        })
        .collect();
    slots.extend(probe.failures.iter().map(|(s, e)| SlotInfo {
        slot: s.to_string(),
        seqno: None,
        status: e.to_string(),
    }));
    slots.sort_by(|a, b| a.slot.cmp(&b.slot));
    let mut r = report(vref, h, slots);
    if data.block {
        let b = io::block_info(&data.file).map_err(EngineError::path(&data.path))?;
        r.logical_block = Some(b.logical_block);
        r.physical_block = Some(b.physical_block);
    }
    Ok(r)
}

fn report(vref: &VolumeRef, h: &Header, header_slots: Vec<SlotInfo>) -> InfoReport {
    let g = &h.geometry;
    let n = g.n_chunks();
    InfoReport {
        path: vref.path.display().to_string(),
        header_path: vref.header.as_ref().map(|p| p.display().to_string()),
        format_version: FORMAT_VERSION,
        uuid: context_uuid(&h.uuid),
        state: h.state.to_string(),
        operation: h.operation.to_string(),
        resilience: h.resilience.to_string(),
        layout: h.layout.kind.name().into(),
        reserved_tail: match h.layout.kind {
            LayoutKind::Tail { device_size } => Some(device_size.saturating_sub(g.data_len)),
            LayoutKind::Attached | LayoutKind::Detached => None,
        },
        logical_block: None,
        physical_block: None,
        data_len: g.data_len,
        chunk_size: g.chunk_size(),
        chunks: n,
        progress_chunks: h.progress,
        progress_percent: if n == 0 {
            100.0
        } else {
            h.progress as f64 * 100.0 / n as f64
        },
        cur_ver: h.cur_ver,
        tgt_ver: h.tgt_ver,
        nonce_hwm: h.nonce_hwm,
        seqno: h.seqno,
        created: h.created,
        updated: h.updated,
        keyslots: h
            .keyslots
            .iter()
            .filter(|k| !k.is_empty())
            .map(|k| KeyslotInfo {
                version: k.version,
                state: k.state,
                kind: k.kind,
                key_id: k.key_id.clone(),
                wrapped_len: k.blob.len(),
            })
            .collect(),
        header_slots,
        authenticated: false,
    }
}

impl fmt::Display for InfoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "volume:       {}", self.path)?;
        if let Some(h) = &self.header_path {
            writeln!(f, "header file:  {h}")?;
        }
        match self.reserved_tail {
            Some(n) => writeln!(
                f,
                "format:       volcrypt v{}, layout tail (metadata in the last {n} bytes)",
                self.format_version
            )?,
            None => writeln!(
                f,
                "format:       volcrypt v{} ({} metadata)",
                self.format_version, self.layout
            )?,
        }
        if let (Some(l), Some(p)) = (self.logical_block, self.physical_block) {
            writeln!(
                f,
                "device:       block device, logical block {l} bytes, physical block {p} bytes"
            )?;
        }
        writeln!(f, "uuid:         {}", self.uuid)?;
        writeln!(f, "state:        {}", self.state)?;
        if self.operation != "idle" {
            writeln!(
                f,
                "operation:    {} (resilience {}), {}/{} chunks ({:.1}%)",
                self.operation,
                self.resilience,
                self.progress_chunks,
                self.chunks,
                self.progress_percent
            )?;
        }
        writeln!(
            f,
            "data:         {} bytes in {} chunks of {} KiB",
            self.data_len,
            self.chunks,
            self.chunk_size / 1024
        )?;
        writeln!(
            f,
            "key version:  current {}, target {}",
            self.cur_ver, self.tgt_ver
        )?;
        for k in &self.keyslots {
            writeln!(
                f,
                "keyslot:      v{} {:?} {:?} {}",
                k.version, k.state, k.kind, k.key_id
            )?;
        }
        for s in &self.header_slots {
            match s.seqno {
                Some(n) => writeln!(f, "header {}:     seqno {n}, {}", s.slot, s.status)?,
                None => writeln!(f, "header {}:     {}", s.slot, s.status)?,
            }
        }
        write!(
            f,
            "note:         unauthenticated view (no key); `volcrypt verify` checks it"
        )
    }
}
