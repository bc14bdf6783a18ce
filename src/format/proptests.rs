//! Property tests of the format codecs: arbitrary bytes never panic, corrupted or forged
//! headers are never accepted, and the geometry and layout arithmetic holds for any input.

use proptest::prelude::*;

use super::header::mac_input;
use super::keyslot::KEYSLOT_LEN;
use super::{
    header_offsets, FormatError, Geometry, Header, KeyKind, Keyslot, KeyslotState, Layout,
    LayoutKind, Operation, Resilience, Slot, TagEntry, TagKind, VolumeState, DATA_ALIGN,
    HEADER_LEN, KEYSLOTS, MAX_BLOB_LEN, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, TAG_ENTRY_LEN,
    WINDOW_BYTES,
};
use crate::crypto::MetaKey;

const CRC_OFF: usize = 4056;
const MAC_OFF: usize = 4064;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Never write regression files into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn key() -> MetaKey {
    MetaKey::from_bytes(b"volcrypt proptest metadata key")
}

fn keyslot(version: u32, state: KeyslotState) -> Keyslot {
    Keyslot {
        version,
        state,
        kind: KeyKind::Kms,
        shared_ctx: false,
        kcv: [0x11; 16],
        ctx_hash: [0x22; 32],
        key_id: "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
            .to_owned(),
        blob: (0..184u8).collect(),
    }
}

/// A valid, realistic header in `slot`.
fn sample_header(slot: Slot) -> Header {
    let geometry = Geometry::new(100 * 65536 + 1234, 65536).unwrap();
    let layout = Layout::compute(&geometry, LayoutKind::Attached).unwrap();
    let mut keyslots: [Keyslot; KEYSLOTS] = std::array::from_fn(|_| Keyslot::empty());
    keyslots[0] = keyslot(1, KeyslotState::Active);
    keyslots[1] = keyslot(2, KeyslotState::Pending);
    Header {
        slot,
        seqno: 7,
        uuid: [0xab; 16],
        geometry,
        layout,
        state: VolumeState::Rekeying,
        resilience: Resilience::Journal,
        operation: Operation::Rekey,
        cur_ver: 1,
        tgt_ver: 2,
        progress: 50,
        journal_seq_applied: 3,
        nonce_hwm: 1 << 24,
        created: 1_700_000_000,
        updated: 1_700_000_100,
        out_of_place: false,
        source_id: [0; 32],
        keyslots,
    }
}

fn fix_crc(buf: &mut [u8]) {
    let crc = crc32c::crc32c(&buf[..CRC_OFF]);
    buf[CRC_OFF..CRC_OFF + 4].copy_from_slice(&crc.to_le_bytes());
}

fn decode_and_verify(buf: &[u8], slot: Slot) -> Result<Header, FormatError> {
    Header::decode(buf, slot)?.verify(&key())
}

fn slot_strategy() -> impl Strategy<Value = Slot> {
    prop_oneof![Just(Slot::A), Just(Slot::B)]
}

/// Geometry fields from the whole input space, biased so that a fair share are valid.
fn any_geometry() -> impl Strategy<Value = Geometry> {
    let data_len = prop_oneof![
        0..=(1u64 << 60),
        0..=(1u64 << 56),
        0..(1u64 << 36),
        0..(1u64 << 24)
    ];
    let chunk_log2 = prop_oneof![0u8..64, 12u8..=20];
    let group_log2 = prop_oneof![0u8..64, 0u8..=40];
    let window_chunks = prop_oneof![any::<u32>(), 0u32..=600_000, 1u32..=1024];
    (data_len, chunk_log2, group_log2, window_chunks).prop_map(
        |(data_len, chunk_log2, group_log2, window_chunks)| Geometry {
            data_len,
            chunk_log2,
            group_log2,
            window_chunks,
        },
    )
}

/// Only geometries that `validate` must accept.
fn valid_geometry() -> impl Strategy<Value = Geometry> {
    let data_len = prop_oneof![0..=(1u64 << 56), 0..(1u64 << 32), 0..(1u64 << 22)];
    (data_len, 12u8..=20, 0u8..=40)
        .prop_flat_map(|(data_len, chunk_log2, group_log2)| {
            let max_window = u32::try_from((WINDOW_BYTES >> chunk_log2) * 64).unwrap();
            (Just((data_len, chunk_log2, group_log2)), 1..=max_window)
        })
        .prop_map(
            |((data_len, chunk_log2, group_log2), window_chunks)| Geometry {
                data_len,
                chunk_log2,
                group_log2,
                window_chunks,
            },
        )
}

/// A layout choice: attached, detached, or tail with a gap of this many 4 KiB pages between
/// the data area and the metadata region (turned into a kind by [`kind_for`]).
fn layout_kind() -> impl Strategy<Value = (u8, u64)> {
    (0u8..3, prop_oneof![Just(0u64), 0u64..4, 0u64..(1 << 20)])
}

/// The layout kind of `choice` for geometry `g`: a tail device just large enough for the
/// data (rounded up to 4 KiB), the gap and the metadata.
fn kind_for(g: &Geometry, (sel, gap): (u8, u64)) -> LayoutKind {
    match sel {
        0 => LayoutKind::Attached,
        1 => LayoutKind::Detached,
        _ => LayoutKind::Tail {
            device_size: g
                .data_len
                .div_ceil(4096)
                .saturating_add(gap)
                .saturating_mul(4096)
                .saturating_add(Layout::metadata_len(g).unwrap_or(0)),
        },
    }
}

/// Checks every layout invariant the engine relies on.
fn check_layout(g: &Geometry, l: &Layout) -> Result<(), TestCaseError> {
    for off in [
        l.meta_off,
        l.journal_off,
        l.journal_slot_len,
        l.tag_off,
        l.tag_len,
        l.hdr_a_off,
        l.hdr_b_off,
        l.device_size,
    ] {
        prop_assert_eq!(off % 4096, 0, "{:?}", l);
    }
    match l.kind {
        LayoutKind::Attached => {
            prop_assert!(l.meta_off >= g.data_len);
            prop_assert_eq!(l.meta_off % DATA_ALIGN, 0);
        }
        LayoutKind::Detached => prop_assert_eq!(l.meta_off, 0),
        LayoutKind::Tail { device_size } => {
            prop_assert!(l.meta_off >= g.data_len);
            prop_assert_eq!(l.device_size, device_size);
            prop_assert_eq!(l.device_size - l.meta_off, Layout::metadata_len(g).unwrap());
        }
    }
    prop_assert_eq!(l.journal_off, l.meta_off);
    prop_assert!(l.journal_slot(1) >= l.journal_slot(0) + l.journal_slot_len);
    prop_assert_eq!(l.tag_off, l.journal_slot(1) + l.journal_slot_len);
    prop_assert!(l.tag_len >= g.n_chunks() * TAG_ENTRY_LEN as u64);
    if let Some(last) = g.n_chunks().checked_sub(1) {
        prop_assert!(l.tag_entry(last) + TAG_ENTRY_LEN as u64 <= l.hdr_a_off);
    }
    prop_assert_eq!(l.hdr_a_off, l.tag_off + l.tag_len);
    prop_assert_eq!(l.hdr_b_off, l.hdr_a_off + HEADER_LEN as u64);
    prop_assert_eq!(l.device_size, l.hdr_b_off + HEADER_LEN as u64);
    prop_assert_eq!(
        header_offsets(l.device_size),
        Some((l.hdr_a_off, l.hdr_b_off))
    );
    Ok(())
}

fn tag_entry() -> impl Strategy<Value = TagEntry> {
    (any::<[u8; 16]>(), any::<u64>(), any::<u32>(), any::<bool>()).prop_map(
        |(tag, nonce_ctr, key_ver, sealed)| TagEntry {
            tag,
            nonce_ctr,
            key_ver,
            kind: if sealed {
                TagKind::Sealed
            } else {
                TagKind::Empty
            },
        },
    )
}

fn non_empty_keyslot() -> impl Strategy<Value = Keyslot> {
    (
        1u32..,
        prop_oneof![Just(KeyslotState::Active), Just(KeyslotState::Pending)],
        prop_oneof![Just(KeyKind::KeyFile), Just(KeyKind::Kms)],
        any::<[u8; 16]>(),
        any::<[u8; 32]>(),
        // Up to 64 chars of up to 4 bytes each: never more than 256 bytes.
        "\\PC{0,64}",
        proptest::collection::vec(any::<u8>(), 0..=MAX_BLOB_LEN),
        any::<bool>(),
    )
        .prop_map(
            |(version, state, kind, kcv, ctx_hash, key_id, blob, shared_ctx)| Keyslot {
                version,
                state,
                kind,
                shared_ctx,
                kcv,
                ctx_hash,
                key_id,
                blob,
            },
        )
}

/// A valid header with arbitrary field values.
fn any_header() -> impl Strategy<Value = Header> {
    let fields = (
        slot_strategy(),
        any::<u64>(),
        any::<[u8; 16]>(),
        0u64..(1 << 40),
        12u32..=20,
        layout_kind(),
        0u8..5,
        0u8..2,
        0u8..4,
        any::<(u64, u64, u64, u64)>(),
    );
    let slots = proptest::collection::vec(proptest::option::of(non_empty_keyslot()), KEYSLOTS);
    (fields, slots, any::<u64>(), any::<(bool, bool)>()).prop_map(
        |((slot, seqno, uuid, data_len, log2, kind, st, res, op, times), slots, p, vers)| {
            let geometry = Geometry::new(data_len, 1 << log2).unwrap();
            let layout = Layout::compute(&geometry, kind_for(&geometry, kind)).unwrap();
            let mut keyslots: [Keyslot; KEYSLOTS] = std::array::from_fn(|_| Keyslot::empty());
            for (dst, src) in keyslots.iter_mut().zip(slots) {
                if let Some(k) = src {
                    *dst = k;
                }
            }
            let present: Vec<u32> = keyslots
                .iter()
                .filter(|k| !k.is_empty())
                .map(|k| k.version)
                .collect();
            let pick = |use_it: bool, i: usize| match (use_it, present.is_empty()) {
                (true, false) => present[i % present.len()],
                _ => 0,
            };
            Header {
                slot,
                seqno,
                uuid,
                geometry,
                layout,
                state: [
                    VolumeState::Plain,
                    VolumeState::Encrypting,
                    VolumeState::Encrypted,
                    VolumeState::Rekeying,
                    VolumeState::Decrypting,
                ][usize::from(st)],
                resilience: [Resilience::None, Resilience::Journal][usize::from(res)],
                operation: [
                    Operation::Idle,
                    Operation::Encrypt,
                    Operation::Decrypt,
                    Operation::Rekey,
                ][usize::from(op)],
                cur_ver: pick(vers.0, 0),
                tgt_ver: pick(vers.1, 1),
                progress: p % (geometry.n_chunks() + 1),
                journal_seq_applied: times.0,
                nonce_hwm: times.1,
                created: times.2,
                updated: times.3,
                out_of_place: false,
                source_id: [0; 32],
                keyslots,
            }
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..5000)) {
        for slot in [Slot::A, Slot::B] {
            if let Ok(u) = Header::decode(&bytes, slot) {
                prop_assert!(u.verify(&key()).is_err());
            }
        }
        let _ = TagEntry::decode(&bytes);
        let _ = Keyslot::decode(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_magic_and_crc_never_panic(
        mut bytes in proptest::collection::vec(any::<u8>(), HEADER_LEN..=HEADER_LEN + 8),
        slot in slot_strategy(),
        slot_byte in 0u8..3,
        zero_reserved in any::<bool>(),
    ) {
        bytes[..8].copy_from_slice(super::MAGIC);
        bytes[8..10].copy_from_slice(&1u16.to_le_bytes());
        bytes[10] = slot_byte;
        bytes[11] &= 1;
        bytes[12..16].copy_from_slice(&4096u32.to_le_bytes());
        if zero_reserved {
            // Get past the reserved-bytes checks so geometry and keyslot parsing is reached.
            bytes[97..104].fill(0);
            bytes[176..256].fill(0);
            bytes[3776..CRC_OFF].fill(0);
            bytes[CRC_OFF + 4..MAC_OFF].fill(0);
        }
        fix_crc(&mut bytes);
        if let Ok(u) = Header::decode(&bytes, slot) {
            prop_assert!(u.verify(&key()).is_err());
        }
    }

    #[test]
    fn keyslot_bytes_never_panic_and_decode_canonically(
        mut bytes in proptest::collection::vec(any::<u8>(), KEYSLOT_LEN),
        // Biased towards bytes that decode, so that the canonical check has work to do.
        state in prop_oneof![3 => 1u8..=2, 1 => 0u8..4],
        kind in prop_oneof![3 => 1u8..=2, 1 => 0u8..3],
        id_len in prop_oneof![3 => 0u16..=256, 1 => any::<u16>()],
        blob_len in prop_oneof![3 => 0u16..=560, 1 => any::<u16>()],
        zero_mask in 0u8..8,
        ascii_id in prop::bool::weighted(0.8),
    ) {
        bytes[4] = state;
        bytes[5] = kind;
        bytes[6..8].copy_from_slice(&id_len.to_le_bytes());
        bytes[8..10].copy_from_slice(&blob_len.to_le_bytes());
        let id_end = 64 + usize::from(id_len).min(256);
        if ascii_id {
            // A valid UTF-8 key id, so that decoding can get past it.
            for b in &mut bytes[64..id_end] {
                *b = b' ' + *b % 95;
            }
        }
        // Zero some of the reserved and padding regions so that each check is reached and
        // each is also tested alone.
        if zero_mask & 1 != 0 {
            bytes[10..16].fill(0);
        }
        if zero_mask & 2 != 0 {
            bytes[id_end..320].fill(0);
        }
        if zero_mask & 4 != 0 {
            let blob_end = 320 + usize::from(blob_len).min(MAX_BLOB_LEN);
            bytes[blob_end..].fill(0);
        }
        if let Ok(k) = Keyslot::decode(&bytes) {
            // Whatever decodes re-encodes to the same bytes: the encoding is canonical.
            let mut again = vec![0u8; KEYSLOT_LEN];
            k.encode_into(&mut again);
            prop_assert_eq!(again, bytes);
        }
    }

    #[test]
    fn keyslot_round_trips(k in non_empty_keyslot()) {
        prop_assert!(k.validate().is_ok());
        let mut buf = vec![0u8; KEYSLOT_LEN];
        k.encode_into(&mut buf);
        prop_assert_eq!(Keyslot::decode(&buf).unwrap(), k);
    }

    #[test]
    fn mutated_header_is_never_accepted(
        slot in slot_strategy(),
        edits in proptest::collection::vec((0usize..HEADER_LEN, any::<u8>()), 1..=8),
    ) {
        let h = sample_header(slot);
        let good = h.encode(&key()).unwrap();
        let mut buf = good.clone();
        for (off, v) in edits {
            buf[off] = v;
        }
        let result = decode_and_verify(&buf, slot);
        if buf == good {
            prop_assert_eq!(result.unwrap(), h);
        } else {
            prop_assert!(result.is_err(), "mutation accepted");
        }
    }

    #[test]
    fn mutated_header_with_fixed_crc_fails_the_mac(
        slot in slot_strategy(),
        edits in proptest::collection::vec((0usize..MAC_OFF, any::<u8>()), 1..=8),
    ) {
        let h = sample_header(slot);
        let good = h.encode(&key()).unwrap();
        let mut buf = good.clone();
        for (off, v) in edits {
            // Leave the CRC itself to fix_crc.
            if !(CRC_OFF..CRC_OFF + 4).contains(&off) {
                buf[off] = v;
            }
        }
        fix_crc(&mut buf);
        let changed = buf != good;
        // Keyslot wrappings are outside the MAC (the KCV authenticates them after unwrapping).
        let signed_changed = mac_input(&buf) != mac_input(&good);
        match Header::decode(&buf, slot) {
            Ok(u) => {
                let result = u.verify(&key());
                if signed_changed {
                    prop_assert_eq!(result, Err(FormatError::BadMac(slot)));
                } else {
                    let got = result.unwrap();
                    let mut want = h.clone();
                    for (w, g) in want.keyslots.iter_mut().zip(&got.keyslots) {
                        w.kind = g.kind;
                        w.key_id.clone_from(&g.key_id);
                        w.blob.clone_from(&g.blob);
                    }
                    prop_assert_eq!(got, want);
                }
            }
            Err(e) => prop_assert!(changed, "unchanged header rejected: {}", e),
        }
    }

    #[test]
    fn header_round_trips(h in any_header()) {
        let buf = h.encode(&key()).unwrap();
        prop_assert_eq!(buf.len(), HEADER_LEN);
        prop_assert_eq!(decode_and_verify(&buf, h.slot).unwrap(), h.clone());
        prop_assert!(Header::decode(&buf, h.slot.other()).is_err());
    }

    #[test]
    fn arbitrary_geometry_never_panics(g in any_geometry(), kind in layout_kind()) {
        if g.validate().is_ok() {
            let l = Layout::compute(&g, kind_for(&g, kind));
            prop_assert!(l.is_ok(), "valid geometry without a layout: {:?}", g);
            check_layout(&g, &l.unwrap())?;
        }
    }

    #[test]
    fn valid_geometry_has_an_aligned_layout(g in valid_geometry(), kind in layout_kind()) {
        prop_assert_eq!(g.validate(), Ok(()));
        let l = Layout::compute(&g, kind_for(&g, kind)).unwrap();
        check_layout(&g, &l)?;
        // Chunk and window arithmetic at the extremes stays in range.
        let n = g.n_chunks();
        if let Some(last) = n.checked_sub(1) {
            let (off, len) = g.chunk(last);
            prop_assert_eq!(off + u64::from(len), g.data_len);
            prop_assert!(len > 0 && u64::from(len) <= g.chunk_size());
            let w = g.n_windows() - 1;
            prop_assert_eq!(g.window(w).end, n);
            prop_assert_eq!(g.byte_range(&g.window(w)).end, g.data_len);
        }
        prop_assert!(g.window(g.n_windows()).is_empty());
    }

    #[test]
    fn tail_header_with_another_device_size_is_rejected(
        h in any_header(),
        pages in 1u64..(1 << 20),
        grow in any::<bool>(),
        gap in 0u64..64,
    ) {
        // The same header on a tail layout (with some gap), then its recorded device size
        // moved by whole pages, the CRC fixed as a forger would: the offsets no longer agree.
        let mut h = h;
        let kind = kind_for(&h.geometry, (2, gap));
        h.layout = Layout::compute(&h.geometry, kind).unwrap();
        let buf = h.encode(&key()).unwrap();
        prop_assert_eq!(buf[11], 2);
        prop_assert_eq!(decode_and_verify(&buf, h.slot).unwrap(), h.clone());
        let size = h.layout.device_size;
        let moved = if grow {
            size.checked_add(pages * 4096)
        } else {
            size.checked_sub(pages * 4096)
        };
        if let Some(moved) = moved {
            let mut forged = buf.clone();
            forged[40..48].copy_from_slice(&moved.to_le_bytes());
            fix_crc(&mut forged);
            let r = Header::decode(&forged, h.slot);
            prop_assert!(
                matches!(r, Err(FormatError::BadField { .. })),
                "device size {} -> {} accepted", size, moved
            );
        }
    }

    #[test]
    fn tag_entry_round_trips(e in tag_entry()) {
        let buf = e.encode();
        prop_assert_eq!(TagEntry::decode(&buf).unwrap(), e);
        prop_assert!(TagEntry::decode(&buf[..TAG_ENTRY_LEN - 1]).is_err());
    }

    #[test]
    fn tag_entry_decoding_is_canonical(
        bytes in any::<[u8; TAG_ENTRY_LEN]>(),
        kind in 0u8..3,
        zero_reserved in any::<bool>(),
    ) {
        let mut bytes = bytes;
        bytes[28] = kind;
        if zero_reserved {
            bytes[29..].fill(0);
        }
        // Whatever decodes re-encodes to the same bytes; anything else is rejected.
        match TagEntry::decode(&bytes) {
            Ok(e) => prop_assert_eq!(e.encode(), bytes),
            Err(_) => prop_assert!(kind > 1 || bytes[29..] != [0, 0, 0]),
        }
    }

    #[test]
    fn geometry_new_accepts_exactly_valid_chunk_sizes(
        len in prop_oneof![0u64..=(10 << 20), Just(0u64), 1u64..=4096],
        chunk in prop_oneof![
            any::<u64>(),
            (0u32..64).prop_map(|s| 1u64 << s),
            (12u32..=20).prop_map(|s| 1u64 << s),
            (0u32..64).prop_map(|s| (1u64 << s).wrapping_add(1)),
            (12u32..=21).prop_map(|s| (1u64 << s) - 1),
        ],
    ) {
        let valid = chunk.is_power_of_two() && (MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk);
        let g = match Geometry::new(len, chunk) {
            Ok(g) => g,
            Err(e) => {
                prop_assert!(!valid, "{} rejected: {}", chunk, e);
                return Ok(());
            }
        };
        prop_assert!(valid, "{} accepted", chunk);
        prop_assert_eq!(g.validate(), Ok(()));
        prop_assert_eq!(g.chunk_size(), chunk);
        prop_assert_eq!(g.data_len, len);
        prop_assert_eq!(g.chunk_size() << g.group_log2, 1u64 << 30);
        prop_assert_eq!(u64::from(g.window_chunks) * chunk, WINDOW_BYTES);

        // Chunks tile the data exactly, and only the last may be short.
        let n = g.n_chunks();
        let mut next = 0u64;
        for i in 0..n {
            let (off, clen) = g.chunk(i);
            prop_assert_eq!(off, next);
            prop_assert!(clen > 0);
            if i + 1 < n {
                prop_assert_eq!(u64::from(clen), chunk);
            }
            next += u64::from(clen);
        }
        prop_assert_eq!(next, len);
        prop_assert_eq!(g.chunk(n).1, 0);

        // Windows tile 0..n_chunks contiguously, none empty.
        let mut next = 0u64;
        for w in 0..g.n_windows() {
            let r = g.window(w);
            prop_assert_eq!(r.start, next);
            prop_assert!(r.end > r.start);
            prop_assert!(r.end - r.start <= u64::from(g.window_chunks));
            next = r.end;
        }
        prop_assert_eq!(next, n);
        prop_assert!(g.window(g.n_windows()).is_empty());
        prop_assert_eq!(g.byte_range(&(0..n)), 0..len);
    }
}
