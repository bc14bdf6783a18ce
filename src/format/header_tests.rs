//! Unit tests of the 4 KiB header codec: field round trips in both slots, single-byte
//! corruption, truncation, forged fields with a recomputed CRC, and encode-time validation.

use super::*;
use crate::crypto::{sha256, DataKey, MetaKey, VolumeKeys};
use crate::format::{KeyKind, KeyslotState, MAX_BLOB_LEN, MAX_KEY_ID_LEN};

const UUID: [u8; 16] = [
    0x5a, 0x1f, 0x3c, 0x77, 0x90, 0x0b, 0x4e, 0xd2, 0x8a, 0x61, 0x13, 0xfe, 0x27, 0xc4, 0x09, 0xb8,
];
const CHUNK: u64 = 65536;
/// 101 chunks, the last one partial.
const DATA_LEN: u64 = 100 * CHUNK + 1234;
/// A device with room for `DATA_LEN` bytes of data and a reserved tail of metadata.
const TAIL_DEVICE: u64 = 32 << 20;

fn tail() -> LayoutKind {
    LayoutKind::Tail {
        device_size: TAIL_DEVICE,
    }
}
const KMS_ARN: &str = "arn:aws:kms:ap-southeast-2:111122223333:key/\
                       mrk-1234abcd12ab34cd56ef1234567890ab-with-an-unusually-long-suffix-\
                       for-testing-0123456789";

fn volume_keys(ver: u32) -> VolumeKeys {
    let seed = 0x40 + u8::try_from(ver).unwrap();
    VolumeKeys::derive(&DataKey::from_bytes([seed; 32]), &UUID, ver)
}

fn meta_key(ver: u32) -> MetaKey {
    volume_keys(ver).meta_key().unwrap()
}

/// The key that signs `h`: the metadata key of its newest keyslot.
fn signing_key(h: &Header) -> MetaKey {
    meta_key(h.mac_version().unwrap())
}

fn blob(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i % 251).unwrap() ^ seed)
        .collect()
}

fn keyfile_slot(ver: u32, state: KeyslotState) -> Keyslot {
    Keyslot {
        version: ver,
        state,
        kind: KeyKind::KeyFile,
        shared_ctx: true,
        kcv: volume_keys(ver).kcv().unwrap(),
        ctx_hash: sha256(format!("{{\"volume\":\"test\",\"version\":{ver}}}").as_bytes()),
        key_id: format!("keyfile:3f9a0c71e2b84d56a1c09e7f{ver:08x}"),
        blob: blob(60, 0xa5),
    }
}

fn kms_slot(ver: u32, state: KeyslotState) -> Keyslot {
    Keyslot {
        version: ver,
        state,
        kind: KeyKind::Kms,
        shared_ctx: false,
        kcv: volume_keys(ver).kcv().unwrap(),
        ctx_hash: sha256(b"{\"aws:ebs:id\":\"vol-0123456789abcdef0\"}"),
        key_id: KMS_ARN.to_owned(),
        blob: blob(184, 0x3c),
    }
}

/// A key-file volume half way through encryption.
fn header(kind: LayoutKind, slot: Slot) -> Header {
    let geometry = Geometry::new(DATA_LEN, CHUNK).unwrap();
    let layout = Layout::compute(&geometry, kind).unwrap();
    let mut keyslots: [Keyslot; KEYSLOTS] = std::array::from_fn(|_| Keyslot::empty());
    keyslots[0] = keyfile_slot(1, KeyslotState::Active);
    Header {
        slot,
        seqno: 42,
        uuid: UUID,
        geometry,
        layout,
        state: VolumeState::Encrypting,
        resilience: Resilience::None,
        operation: Operation::Encrypt,
        cur_ver: 0,
        tgt_ver: 1,
        progress: 37,
        journal_seq_applied: 5,
        nonce_hwm: 1 << 24,
        created: 1_700_000_000,
        updated: 1_700_000_321,
        out_of_place: false,
        source_id: [0; 32],
        keyslots,
    }
}

/// A KMS volume with a long ARN and a KMS-sized ciphertext blob, journaled.
fn kms_header(kind: LayoutKind, slot: Slot) -> Header {
    let mut h = header(kind, slot);
    h.keyslots[0] = kms_slot(1, KeyslotState::Active);
    h.resilience = Resilience::Journal;
    h.journal_seq_applied = 0xdead_beef_0000_0001;
    h.seqno = u64::MAX - 1;
    h
}

/// A volume being rekeyed from v1 to v2, both keyslots active.
fn rekeying_header(kind: LayoutKind, slot: Slot) -> Header {
    let mut h = header(kind, slot);
    h.keyslots[0] = keyfile_slot(1, KeyslotState::Active);
    h.keyslots[2] = kms_slot(2, KeyslotState::Active);
    h.state = VolumeState::Rekeying;
    h.operation = Operation::Rekey;
    h.cur_ver = 1;
    h.tgt_ver = 2;
    h.progress = h.geometry.n_chunks();
    h.nonce_hwm = (1 << 24) * 3;
    h
}

/// Every sample header, in all three layouts and both slots.
fn samples() -> Vec<(&'static str, Header)> {
    let mut out = Vec::new();
    for kind in [LayoutKind::Attached, LayoutKind::Detached, tail()] {
        for slot in [Slot::A, Slot::B] {
            out.push(("keyfile", header(kind, slot)));
            out.push(("kms", kms_header(kind, slot)));
            out.push(("rekeying", rekeying_header(kind, slot)));
            let mut pending = rekeying_header(kind, slot);
            pending.keyslots[2].state = KeyslotState::Pending;
            out.push(("rekeying-pending", pending));
        }
    }
    out
}

fn encoded(h: &Header) -> Vec<u8> {
    h.encode(&signing_key(h)).unwrap()
}

/// Recomputes the CRC32C at 4056 after a deliberate edit, as a forger would.
fn fix_crc(buf: &mut [u8]) {
    let crc = crc32c::crc32c(&buf[..CRC_OFF]);
    buf[CRC_OFF..CRC_OFF + 4].copy_from_slice(&crc.to_le_bytes());
}

fn decode_and_verify(buf: &[u8], slot: Slot, key: &MetaKey) -> Result<Header, FormatError> {
    Header::decode(buf, slot)?.verify(key)
}

#[test]
fn every_field_round_trips_in_both_slots() {
    for (name, h) in samples() {
        let key = signing_key(&h);
        let buf = h.encode(&key).unwrap();
        assert_eq!(buf.len(), HEADER_LEN, "{name}");
        assert_eq!(&buf[..8], MAGIC, "{name}");
        assert_eq!(buf[10], u8::from(h.slot == Slot::B), "{name}");
        let unverified = Header::decode(&buf, h.slot).unwrap();
        assert_eq!(unverified.peek(), &h, "{name}");
        let back = unverified.verify(&key).unwrap();
        assert_eq!(back, h, "{name} {:?}", h.slot);
        assert_eq!(
            back.offset(),
            match h.slot {
                Slot::A => h.layout.hdr_a_off,
                Slot::B => h.layout.hdr_b_off,
            }
        );
        // Re-encoding the decoded header is byte-identical.
        assert_eq!(back.encode(&key).unwrap(), buf, "{name}");
    }
}

#[test]
fn boundary_lengths_round_trip() {
    let mut h = header(LayoutKind::Attached, Slot::A);
    h.keyslots[0].key_id = "k".repeat(MAX_KEY_ID_LEN);
    h.keyslots[0].blob = blob(MAX_BLOB_LEN, 0xff);
    h.keyslots[3] = keyfile_slot(7, KeyslotState::Pending);
    h.keyslots[3].key_id = String::new();
    h.keyslots[3].blob = Vec::new();
    h.progress = 0;
    let key = signing_key(&h);
    assert_eq!(h.mac_version(), Some(7));
    let buf = h.encode(&key).unwrap();
    assert_eq!(decode_and_verify(&buf, Slot::A, &key).unwrap(), h);
}

#[test]
fn non_ascii_key_id_round_trips() {
    let mut h = header(LayoutKind::Detached, Slot::B);
    h.keyslots[0].key_id = "keyfile:schlüssel-🔑".to_owned();
    let key = signing_key(&h);
    let buf = h.encode(&key).unwrap();
    assert_eq!(decode_and_verify(&buf, Slot::B, &key).unwrap(), h);
}

#[test]
fn slots_differ_only_in_slot_byte_crc_and_mac() {
    let a = encoded(&header(LayoutKind::Attached, Slot::A));
    let b = encoded(&header(LayoutKind::Attached, Slot::B));
    let diff: Vec<usize> = (0..HEADER_LEN).filter(|&i| a[i] != b[i]).collect();
    assert!(diff.contains(&10));
    for i in diff {
        assert!(
            i == 10 || (CRC_OFF..CRC_OFF + 4).contains(&i) || i >= MAC_OFF,
            "{i}"
        );
    }
}

#[test]
fn wrong_slot_is_rejected() {
    for (name, h) in samples() {
        let buf = encoded(&h);
        match Header::decode(&buf, h.slot.other()) {
            Err(FormatError::BadField { field, .. }) => assert_eq!(field, "slot", "{name}"),
            other => panic!("{name}: decoded in the wrong slot: {other:?}"),
        }
    }
}

#[test]
fn slot_byte_out_of_range_is_rejected() {
    let h = header(LayoutKind::Attached, Slot::B);
    let mut buf = encoded(&h);
    buf[10] = 2;
    fix_crc(&mut buf);
    for slot in [Slot::A, Slot::B] {
        assert!(matches!(
            Header::decode(&buf, slot),
            Err(FormatError::BadField { field: "slot", .. })
        ));
    }
}

#[test]
fn peek_works_without_a_key() {
    let h = kms_header(LayoutKind::Detached, Slot::A);
    let buf = encoded(&h);
    let u = Header::decode(&buf, Slot::A).unwrap();
    assert_eq!(u.peek().seqno, h.seqno);
    assert_eq!(u.peek().keyslots[0].key_id, KMS_ARN);
    assert_eq!(u.peek().mac_version(), Some(1));
    assert_eq!(u.peek(), &h);
    // Peeking does not consume: the same value still verifies afterwards.
    assert_eq!(u.verify(&signing_key(&h)).unwrap(), h);
}

#[test]
fn every_single_byte_flip_is_rejected() {
    let samples = [
        rekeying_header(LayoutKind::Attached, Slot::A),
        kms_header(LayoutKind::Detached, Slot::B),
    ];
    for h in samples {
        let key = signing_key(&h);
        let good = encoded(&h);
        for off in 0..HEADER_LEN {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut buf = good.clone();
                buf[off] ^= mask;
                let err = match Header::decode(&buf, h.slot) {
                    Ok(u) => match u.verify(&key) {
                        Ok(accepted) => panic!("flip {mask:#x} at {off} accepted: {accepted:?}"),
                        Err(e) => e,
                    },
                    Err(e) => e,
                };
                // Which check must catch it: magic, version, CRC, reserved bytes, MAC.
                let caught_by_the_right_check = match off {
                    0..=7 => err == FormatError::BadMagic,
                    8..=9 => {
                        matches!(err, FormatError::UnsupportedVersion(v) if v != FORMAT_VERSION)
                    }
                    _ if off < CRC_OFF + 4 => err == FormatError::BadChecksum(h.slot),
                    _ if off < MAC_OFF => {
                        matches!(
                            err,
                            FormatError::BadField {
                                field: "header",
                                ..
                            }
                        )
                    }
                    _ => err == FormatError::BadMac(h.slot),
                };
                assert!(
                    caught_by_the_right_check,
                    "flip {mask:#x} at {off}: {err:?}"
                );
            }
        }
    }
}

#[test]
fn mac_region_flip_passes_crc_but_fails_verify() {
    for (name, h) in samples() {
        let key = signing_key(&h);
        let good = encoded(&h);
        for off in [MAC_OFF, MAC_OFF + 13, HEADER_LEN - 1] {
            let mut buf = good.clone();
            buf[off] ^= 0x40;
            let u = Header::decode(&buf, h.slot).unwrap();
            assert_eq!(u.peek(), &h, "{name}");
            assert_eq!(
                u.verify(&key),
                Err(FormatError::BadMac(h.slot)),
                "{name} at {off}"
            );
        }
    }
}

#[test]
fn truncated_input_is_rejected_without_panic() {
    let good = encoded(&kms_header(LayoutKind::Attached, Slot::A));
    for len in 0..HEADER_LEN {
        for slot in [Slot::A, Slot::B] {
            match Header::decode(&good[..len], slot) {
                Err(FormatError::Truncated { what, need, have }) => {
                    assert_eq!(what, "header");
                    assert_eq!(need, HEADER_LEN as u64);
                    assert_eq!(have, len as u64);
                }
                other => panic!("{len} bytes: {other:?}"),
            }
        }
    }
}

#[test]
fn forged_fields_with_fixed_crc_fail_the_mac() {
    let h = header(LayoutKind::Attached, Slot::A);
    let key = signing_key(&h);
    let good = encoded(&h);
    let n = h.geometry.n_chunks();
    // (what, offset, new bytes): each edit is in range, so only the MAC can catch it.
    let forgeries: Vec<(&str, usize, Vec<u8>)> = vec![
        (
            "state -> encrypted",
            58,
            vec![VolumeState::Encrypted.to_byte()],
        ),
        ("state -> plain", 58, vec![VolumeState::Plain.to_byte()]),
        ("progress -> 0", 72, 0u64.to_le_bytes().to_vec()),
        ("progress -> n_chunks", 72, n.to_le_bytes().to_vec()),
        ("nonce_hwm rollback", 88, 0u64.to_le_bytes().to_vec()),
        ("seqno bump", 16, (h.seqno + 1).to_le_bytes().to_vec()),
        (
            "operation -> decrypt",
            96,
            vec![Operation::Decrypt.to_byte()],
        ),
        (
            "resilience -> journal",
            59,
            vec![Resilience::Journal.to_byte()],
        ),
        ("cur_ver -> 1", 64, 1u32.to_le_bytes().to_vec()),
        ("kcv", KEYSLOTS_OFF + 16, vec![0u8; 16]),
    ];
    for (what, off, bytes) in forgeries {
        let mut buf = good.clone();
        buf[off..off + bytes.len()].copy_from_slice(&bytes);
        assert_ne!(buf, good, "{what} is a no-op");
        fix_crc(&mut buf);
        let u = Header::decode(&buf, Slot::A)
            .unwrap_or_else(|e| panic!("{what}: forged header should pass the CRC: {e}"));
        assert_ne!(u.peek(), &h, "{what}");
        assert_eq!(u.verify(&key), Err(FormatError::BadMac(Slot::A)), "{what}");
    }
}

#[test]
fn header_signed_by_another_key_fails_verify() {
    let h = rekeying_header(LayoutKind::Detached, Slot::B);
    let real = signing_key(&h);
    let attackers = [
        // A different data key for the same version and volume.
        VolumeKeys::derive(&DataKey::from_bytes([0xee; 32]), &UUID, 2)
            .meta_key()
            .unwrap(),
        // The right data key, but the older version's metadata key.
        meta_key(1),
        // The right data key of another volume.
        VolumeKeys::derive(&DataKey::from_bytes([0x42; 32]), &[9; 16], 2)
            .meta_key()
            .unwrap(),
        MetaKey::from_bytes(b""),
    ];
    for (i, other) in attackers.iter().enumerate() {
        let buf = h.encode(other).unwrap();
        let u = Header::decode(&buf, Slot::B).unwrap();
        assert_eq!(u.peek(), &h);
        assert_eq!(
            u.verify(&real),
            Err(FormatError::BadMac(Slot::B)),
            "key {i}"
        );
    }
    // And the honest header does not verify under the attackers' keys.
    let buf = h.encode(&real).unwrap();
    for other in &attackers {
        assert!(decode_and_verify(&buf, Slot::B, other).is_err());
    }
}

#[test]
fn bad_magic_is_rejected() {
    let good = encoded(&header(LayoutKind::Attached, Slot::A));
    let mut buf = good.clone();
    buf[..8].copy_from_slice(b"LUKS\xba\xbe\x00\x02");
    fix_crc(&mut buf);
    assert_eq!(
        Header::decode(&buf, Slot::A).err(),
        Some(FormatError::BadMagic)
    );
    assert_eq!(
        Header::decode(&[0u8; HEADER_LEN], Slot::A).err(),
        Some(FormatError::BadMagic)
    );
    assert_eq!(
        Header::decode(&[0xffu8; HEADER_LEN], Slot::B).err(),
        Some(FormatError::BadMagic)
    );
}

#[test]
fn other_versions_are_unsupported() {
    let good = encoded(&header(LayoutKind::Attached, Slot::A));
    for v in [0u16, 2, 0x0100, u16::MAX] {
        let mut buf = good.clone();
        buf[8..10].copy_from_slice(&v.to_le_bytes());
        fix_crc(&mut buf);
        assert_eq!(
            Header::decode(&buf, Slot::A).err(),
            Some(FormatError::UnsupportedVersion(v))
        );
    }
}

#[test]
fn decode_rejects_inconsistent_fields_even_with_a_good_crc() {
    let h = kms_header(LayoutKind::Attached, Slot::A);
    let good = encoded(&h);
    let n = h.geometry.n_chunks();
    let cases: Vec<(&str, usize, Vec<u8>)> = vec![
        ("layout", 11, vec![3]),
        ("header length", 12, 4095u32.to_le_bytes().to_vec()),
        ("header flags", 97, vec![2]),
        ("header", 98, vec![1]),
        ("header", 208, vec![1]),
        ("header", 3776, vec![1]),
        ("header", CRC_OFF - 1, vec![1]),
        ("VolumeState", 58, vec![5]),
        ("Resilience", 59, vec![2]),
        ("Operation", 96, vec![4]),
        ("progress", 72, (n + 1).to_le_bytes().to_vec()),
        ("key version", 68, 9u32.to_le_bytes().to_vec()),
        // Region offsets are recomputed from the geometry.
        (
            "layout",
            144,
            (h.layout.hdr_a_off + 4096).to_le_bytes().to_vec(),
        ),
        (
            "layout",
            40,
            (h.layout.device_size - 4096).to_le_bytes().to_vec(),
        ),
        ("layout", 11, vec![1]),
        // Geometry.
        ("chunk size", 56, vec![11]),
        ("chunk size", 56, vec![21]),
        ("group_log2", 57, vec![41]),
        ("window_chunks", 60, 0u32.to_le_bytes().to_vec()),
        ("data_len", 48, ((1u64 << 56) + 1).to_le_bytes().to_vec()),
        // Keyslots.
        ("keyslot state", KEYSLOTS_OFF + 4, vec![3]),
        ("keyslot kind", KEYSLOTS_OFF + 5, vec![0]),
        ("keyslot", KEYSLOTS_OFF + 6, 257u16.to_le_bytes().to_vec()),
        ("keyslot", KEYSLOTS_OFF + 8, 561u16.to_le_bytes().to_vec()),
        ("keyslot flags", KEYSLOTS_OFF + 10, vec![2]),
        ("keyslot", KEYSLOTS_OFF + 11, vec![1]),
        (
            "keyslot key id padding",
            KEYSLOTS_OFF + 64 + 255,
            vec![b'x'],
        ),
        ("keyslot blob padding", KEYSLOTS_OFF + 320 + 559, vec![1]),
        ("keyslot key id", KEYSLOTS_OFF + 64, vec![0xff]),
        ("keyslot", KEYSLOTS_OFF, 0u32.to_le_bytes().to_vec()),
        ("empty keyslot", KEYSLOTS_OFF + 880 + 100, vec![1]),
    ];
    for (field, off, bytes) in cases {
        let mut buf = good.clone();
        buf[off..off + bytes.len()].copy_from_slice(&bytes);
        fix_crc(&mut buf);
        match Header::decode(&buf, Slot::A) {
            Err(FormatError::BadField { field: f, .. }) => assert_eq!(f, field, "at {off}"),
            other => panic!("{field} at {off}: {other:?}"),
        }
    }
}

#[test]
fn tail_layout_is_recomputed_from_the_recorded_device_size() {
    let h = kms_header(tail(), Slot::B);
    let good = encoded(&h);
    assert_eq!(good[11], 2, "layout byte");
    assert_eq!(good[40..48], TAIL_DEVICE.to_le_bytes());
    let back = decode_and_verify(&good, Slot::B, &signing_key(&h)).unwrap();
    assert_eq!(back.layout.kind, tail());
    assert_eq!(back.layout.hdr_b_off, TAIL_DEVICE - 4096);
    assert!(back.layout.meta_off >= DATA_LEN);
    let l = h.layout;
    let cases: Vec<(&str, usize, u64)> = vec![
        // Another device size moves every region: the stored offsets no longer agree.
        ("device size + 4 KiB", 40, TAIL_DEVICE + 4096),
        ("device size - 4 KiB", 40, TAIL_DEVICE - 4096),
        ("meta_off", 104, l.meta_off - 4096),
        ("journal_off", 112, l.journal_off + 4096),
        ("tag_off", 128, l.tag_off + 4096),
        ("hdr_a_off", 144, l.hdr_a_off - 4096),
        ("hdr_b_off", 152, l.hdr_b_off - 4096),
        // More data than fits before the metadata region.
        ("data_len", 48, l.meta_off + 1),
    ];
    for (what, off, v) in cases {
        let mut buf = good.clone();
        buf[off..off + 8].copy_from_slice(&v.to_le_bytes());
        fix_crc(&mut buf);
        match Header::decode(&buf, Slot::B) {
            Err(FormatError::BadField { field, .. }) => {
                assert!(
                    field == "layout" || field == "tail layout",
                    "{what}: {field}"
                )
            }
            other => panic!("{what}: accepted or wrong error: {:?}", other.map(|_| ())),
        }
    }
    // The same offsets under another layout byte are rejected: detached starts at 0, and
    // attached at the data length rounded up to 1 MiB.
    for byte in [0u8, 1] {
        let mut buf = good.clone();
        buf[11] = byte;
        fix_crc(&mut buf);
        assert!(
            matches!(
                Header::decode(&buf, Slot::B),
                Err(FormatError::BadField {
                    field: "layout",
                    ..
                })
            ),
            "layout byte {byte}"
        );
    }
    // A device size that is not a whole number of pages.
    let mut buf = good.clone();
    buf[40..48].copy_from_slice(&(TAIL_DEVICE + 512).to_le_bytes());
    fix_crc(&mut buf);
    assert!(Header::decode(&buf, Slot::B).is_err());
}

#[test]
fn encode_rejects_invalid_headers() {
    let key = meta_key(1);
    let base = header(LayoutKind::Attached, Slot::A);
    let field_of = |h: &Header| match h.encode(&key) {
        Err(FormatError::BadField { field, .. }) => field,
        other => panic!("encoded an invalid header: {:?}", other.map(|b| b.len())),
    };

    let mut h = base.clone();
    h.progress = h.geometry.n_chunks();
    assert!(
        h.encode(&key).is_ok(),
        "progress == n_chunks is complete, not invalid"
    );
    h.progress += 1;
    assert_eq!(field_of(&h), "progress");
    h.progress = u64::MAX;
    assert_eq!(field_of(&h), "progress");

    let mut h = base.clone();
    h.cur_ver = 3;
    assert_eq!(field_of(&h), "key version");
    let mut h = base.clone();
    h.tgt_ver = 2;
    assert_eq!(field_of(&h), "key version");

    let mut h = base.clone();
    h.keyslots[0].key_id = "k".repeat(MAX_KEY_ID_LEN + 1);
    assert_eq!(field_of(&h), "key id");

    let mut h = base.clone();
    h.keyslots[1] = kms_slot(2, KeyslotState::Pending);
    h.keyslots[1].blob = vec![7; MAX_BLOB_LEN + 1];
    assert_eq!(field_of(&h), "wrapped key");

    let mut h = base.clone();
    h.keyslots[1].version = 5; // still Empty
    assert_eq!(field_of(&h), "keyslot");
    let mut h = base.clone();
    h.keyslots[0].version = 0; // still Active
    assert_eq!(field_of(&h), "keyslot");

    let mut h = base.clone();
    h.layout.tag_off += 4096;
    assert_eq!(field_of(&h), "layout");
    let mut h = base.clone();
    h.layout.kind = LayoutKind::Detached;
    assert_eq!(field_of(&h), "layout");
    // A tail kind whose device size disagrees with the layout's.
    let mut h = header(tail(), Slot::A);
    h.layout.kind = LayoutKind::Tail {
        device_size: TAIL_DEVICE + 4096,
    };
    assert_eq!(field_of(&h), "layout");
    // A tail too small for the data and its metadata.
    let mut h = header(tail(), Slot::A);
    h.layout.kind = LayoutKind::Tail {
        device_size: 8 << 20,
    };
    assert_eq!(field_of(&h), "tail layout");

    let mut h = base.clone();
    h.geometry.window_chunks = 0;
    assert_eq!(field_of(&h), "window_chunks");
    let mut h = base;
    h.geometry.chunk_log2 = 40;
    assert_eq!(field_of(&h), "chunk size");
}

#[test]
fn mac_version_is_the_newest_non_empty_keyslot() {
    let mut h = header(LayoutKind::Attached, Slot::A);
    assert_eq!(h.mac_version(), Some(1));
    assert_eq!(
        rekeying_header(LayoutKind::Attached, Slot::A).mac_version(),
        Some(2)
    );

    // Order in the array does not matter, only the version.
    h.keyslots[0] = keyfile_slot(9, KeyslotState::Active);
    h.keyslots[3] = keyfile_slot(4, KeyslotState::Pending);
    h.keyslots[1] = keyfile_slot(6, KeyslotState::Active);
    assert_eq!(h.mac_version(), Some(9));
    assert_eq!(h.keyslot(4).map(|k| k.state), Some(KeyslotState::Pending));
    assert!(h.keyslot(1).is_none());
    assert!(h.keyslot(0).is_none(), "empty slots are never found");

    h.keyslots = std::array::from_fn(|_| Keyslot::empty());
    assert_eq!(h.mac_version(), None);
    // A plaintext volume with no keyslot still encodes (it just has no MAC key of its own).
    h.tgt_ver = 0;
    h.state = VolumeState::Plain;
    h.operation = Operation::Idle;
    let key = MetaKey::from_bytes(b"no key yet");
    let buf = h.encode(&key).unwrap();
    assert_eq!(decode_and_verify(&buf, Slot::A, &key).unwrap(), h);
}

#[test]
fn signing_key_follows_mac_version() {
    // The rekeying header is signed by v2's key; v1's key must not verify it.
    let h = rekeying_header(LayoutKind::Attached, Slot::A);
    let buf = encoded(&h);
    assert!(decode_and_verify(&buf, Slot::A, &meta_key(2)).is_ok());
    assert_eq!(
        decode_and_verify(&buf, Slot::A, &meta_key(1)),
        Err(FormatError::BadMac(Slot::A))
    );
}

#[test]
fn rewrapping_keeps_the_mac_and_the_kcv_still_counts() {
    let h = kms_header(LayoutKind::Attached, Slot::B);
    let key = signing_key(&h);
    let good = encoded(&h);
    let u = Header::decode(&good, Slot::B).unwrap();
    let ver = h.mac_version().unwrap();
    let new = Keyslot {
        kind: KeyKind::KeyFile,
        key_id: "arn:aws:kms:us-east-1:111122223333:key/other".into(),
        blob: blob(200, 0x77),
        ..Keyslot::empty()
    };
    let bytes = u.rewrapped(ver, &new).unwrap();
    assert_ne!(bytes, good);
    let got = decode_and_verify(&bytes, Slot::B, &key).unwrap();
    let ks = got.keyslot(ver).unwrap();
    assert_eq!(
        (ks.kind, &ks.key_id, &ks.blob),
        (new.kind, &new.key_id, &new.blob)
    );
    assert_eq!(ks.kcv, h.keyslot(ver).unwrap().kcv);
    assert_eq!(
        (got.seqno, got.state, got.progress),
        (h.seqno, h.state, h.progress)
    );
    // The KCV, version and state stay under the MAC.
    let at = KEYSLOTS_OFF + h.keyslots.iter().position(|k| k.version == ver).unwrap() * 880;
    for (what, off) in [
        ("kcv", at + 16),
        ("ctx hash", at + 32),
        ("version", at),
        ("flags", at + 10),
    ] {
        let mut forged = bytes.clone();
        forged[off] ^= 1;
        fix_crc(&mut forged);
        // A decode error is fine too: the edit was rejected even earlier (out of range).
        if let Ok(u) = Header::decode(&forged, Slot::B) {
            assert_eq!(u.verify(&key), Err(FormatError::BadMac(Slot::B)), "{what}");
        }
    }
    assert!(u.rewrapped(99, &new).is_err());
}
