//! The journal of in-place operations (`--resilience journal`, DESIGN.md §5) and recovery.
//!
//! Per window: the transformed window (payload and new tag entries) is written to journal
//! slot `seq mod 2` with a MAC-protected record header and synced (**journal commit**); only
//! then is it written in place with its tag entries and synced (**apply**); then the header
//! records `progress = hi` and `journal_seq_applied = seq` (**checkpoint**). The in-place
//! write never starts before the record is durable, so after a crash either the record is
//! valid (replay it: the bytes are known) or nothing of the window was touched (redo it).
//!
//! [`recover`] runs on open, under the exclusive lock: it replays the record with the next
//! sequence number if it authenticates, starts at the progress mark and its CRCs match.
//! Replay writes the same bytes again, so recovery may itself be killed and rerun.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::pipeline::Done;
use super::volume::Volume;
use super::EngineError;
use crate::crypto::MetaKey;
use crate::format::{
    encode_tags, JournalRecord, Layout, Operation, Resilience, TagEntry, VolumeState, HEADER_LEN,
    TAG_ENTRY_LEN,
};
use crate::io::BlockIo;

/// Writes journal records for one data pass.
pub(crate) struct Journal {
    meta: Arc<dyn BlockIo>,
    layout: Layout,
    key: MetaKey,
    uuid: [u8; 16],
    operation: Operation,
    src_ver: u32,
    dst_ver: u32,
    slot_chunks: u64,
    next_seq: AtomicU64,
}

/// Chunks one journal slot holds (a full window, or the whole volume if smaller).
fn slot_chunks(vol: &Volume) -> u64 {
    let g = &vol.header.geometry;
    u64::from(g.window_chunks).min(g.n_chunks().max(1))
}

impl Journal {
    /// The journal of `vol`'s running operation, when it runs with `--resilience journal`
    /// in place.
    pub fn for_volume(vol: &Volume) -> Result<Option<Journal>, EngineError> {
        let h = &vol.header;
        if h.resilience != Resilience::Journal || h.out_of_place {
            return Ok(None);
        }
        let (src_ver, dst_ver) = match h.state {
            VolumeState::Encrypting => (0, h.tgt_ver),
            VolumeState::Decrypting => (h.cur_ver, 0),
            VolumeState::Rekeying => (h.cur_ver, h.tgt_ver),
            _ => return Ok(None),
        };
        Ok(Some(Journal {
            meta: vol.meta.clone(),
            layout: h.layout,
            key: vol.header_key()?,
            uuid: h.uuid,
            operation: h.operation,
            src_ver,
            dst_ver,
            slot_chunks: slot_chunks(vol),
            next_seq: AtomicU64::new(h.journal_seq_applied + 1),
        }))
    }

    /// Journal commit of a transformed window: payload, tag entries and record header
    /// written to the slot and synced. Called before the window is written in place.
    pub fn commit(&self, done: &Done, payload: &[u8]) -> Result<(), EngineError> {
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let tags = encode_tags(&done.tags);
        let rec = JournalRecord {
            seq,
            first_chunk: done.chunks.start,
            chunks: done.chunks.end - done.chunks.start,
            operation: self.operation,
            has_tags: !tags.is_empty(),
            src_ver: self.src_ver,
            dst_ver: self.dst_ver,
            payload_len: payload.len() as u64,
            tags_crc: crc32c::crc32c(&tags),
            payload_crc: crc32c::crc32c(payload),
            uuid: self.uuid,
        };
        let slot = self.layout.journal_slot(seq);
        let payload_off = slot + JournalRecord::payload_offset(self.slot_chunks);
        if payload_off + payload.len() as u64 > slot + self.layout.journal_slot_len {
            return Err(EngineError::Internal("window larger than a journal slot"));
        }
        self.meta
            .write_at(&tags, slot + JournalRecord::tags_offset())?;
        self.meta.write_at(&rec.encode(&self.key), slot)?;
        // The payload last, linked to the sync (io_uring): one submission makes the record
        // durable. Its CRCs make the order of the three writes irrelevant to recovery.
        let slot_range = slot..slot + self.layout.journal_slot_len;
        self.meta.write_sync_at(payload, payload_off, slot_range)?;
        Ok(())
    }
}

/// Replays the journal record of the window at the progress mark if it is valid and not yet
/// applied. Returns the chunk range replayed.
pub(crate) fn recover(vol: &mut Volume) -> Result<Option<std::ops::Range<u64>>, EngineError> {
    let Some(j) = Journal::for_volume(vol)? else {
        return Ok(None);
    };
    let Some((rec, tags, payload)) = pending(vol, &j)? else {
        return Ok(None);
    };
    let chunks = rec.first_chunk..rec.first_chunk + rec.chunks;
    let bytes = vol.header.geometry.byte_range(&chunks);
    vol.data.write_at(&payload, bytes.start)?;
    if rec.has_tags {
        vol.meta.write_at(
            &encode_tags(&tags),
            vol.header.layout.tag_entry(chunks.start),
        )?;
    }
    vol.sync_window(bytes, rec.has_tags, chunks.clone())?;
    vol.commit(|h| {
        h.progress = chunks.end;
        h.journal_seq_applied = rec.seq;
    })?;
    Ok(Some(chunks))
}

/// True when a valid, unapplied journal record is waiting (a read-only open must not read
/// that window before recovery replays it).
pub(crate) fn needs_recovery(vol: &Volume) -> Result<bool, EngineError> {
    match Journal::for_volume(vol)? {
        Some(j) => Ok(pending(vol, &j)?.is_some()),
        None => Ok(false),
    }
}

type Pending = (JournalRecord, Vec<TagEntry>, Vec<u8>);

/// The record that would be replayed: next sequence number, the window at the progress mark,
/// this volume and operation, intact tag entries and payload.
fn pending(vol: &Volume, j: &Journal) -> Result<Option<Pending>, EngineError> {
    let h = &vol.header;
    let g = &h.geometry;
    let seq = h.journal_seq_applied + 1;
    let slot = h.layout.journal_slot(seq);
    let mut head = vec![0u8; HEADER_LEN];
    vol.meta.read_at(&mut head, slot)?;
    let Some(rec) = JournalRecord::decode(&head, &j.key)? else {
        return Ok(None);
    };
    let window = g.window(h.progress / u64::from(g.window_chunks));
    let bytes = g.byte_range(&window);
    let expected = rec.seq == seq
        && rec.first_chunk == h.progress
        && window.start == h.progress
        && rec.chunks == window.end - window.start
        && rec.uuid == h.uuid
        && rec.operation == h.operation
        && (rec.src_ver, rec.dst_ver) == (j.src_ver, j.dst_ver)
        && rec.has_tags == (j.dst_ver != 0)
        && rec.payload_len == bytes.end - bytes.start
        && rec.chunks <= j.slot_chunks;
    if !expected {
        return Ok(None);
    }
    let n = usize::try_from(rec.chunks).map_err(|_| EngineError::Internal("journal size"))?;
    let mut raw_tags = vec![0u8; if rec.has_tags { n * TAG_ENTRY_LEN } else { 0 }];
    vol.meta
        .read_at(&mut raw_tags, slot + JournalRecord::tags_offset())?;
    let len = usize::try_from(rec.payload_len).map_err(|_| EngineError::Internal("journal"))?;
    let mut payload = vec![0u8; len];
    vol.meta.read_at(
        &mut payload,
        slot + JournalRecord::payload_offset(j.slot_chunks),
    )?;
    if crc32c::crc32c(&raw_tags) != rec.tags_crc || crc32c::crc32c(&payload) != rec.payload_crc {
        return Ok(None);
    }
    let mut tags = Vec::with_capacity(n);
    for e in raw_tags.chunks_exact(TAG_ENTRY_LEN) {
        match TagEntry::decode(e) {
            Ok(t) => tags.push(t),
            Err(_) => return Ok(None),
        }
    }
    Ok(Some((rec, tags, payload)))
}

/// Overwrites both journal slots with zeros (after a decrypt: they held plaintext).
pub(crate) fn wipe(vol: &Volume) -> Result<(), EngineError> {
    let l = &vol.header.layout;
    let zeros = vec![0u8; 1 << 20];
    let mut off = l.journal_off;
    let end = l.journal_off + 2 * l.journal_slot_len;
    while off < end {
        let n = (end - off).min(zeros.len() as u64);
        vol.meta.write_at(&zeros[..n as usize], off)?;
        off += n;
    }
    vol.meta.sync_range(l.journal_off, end - l.journal_off)?;
    Ok(())
}
