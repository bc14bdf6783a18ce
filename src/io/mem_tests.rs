//! Unit tests of the in-memory crash simulator: freezing the durable image, the pending-write
//! list and torn crash images at sector and page granularity.

use super::*;

/// Byte `i` of the "old" pattern; never equal to [`new_byte`] at the same index.
fn old_byte(i: usize) -> u8 {
    (i % 251) as u8
}

fn new_byte(i: usize) -> u8 {
    old_byte(i) ^ 0x5A
}

/// A device of `size` bytes holding the old pattern durably, frozen so that no later sync
/// takes effect, with one pending write of the new pattern over `off..off+len`.
fn frozen_with_write(size: usize, off: usize, len: usize) -> MemIo {
    let m = MemIo::from_vec((0..size).map(old_byte).collect());
    m.freeze_after(0);
    let data: Vec<u8> = (off..off + len).map(new_byte).collect();
    m.write_at(&data, off as u64).unwrap();
    m.sync().unwrap();
    m
}

#[test]
fn freeze_keeps_last_durable_state() {
    let m = MemIo::new(8);
    m.write_at(&[1], 0).unwrap();
    m.sync().unwrap();
    m.freeze_after(1);
    m.write_at(&[2], 1).unwrap();
    m.sync().unwrap();
    assert_eq!(m.snapshot()[..2], [1, 2]);
    assert_eq!(m.crash_image()[..2], [1, 0]);
    assert!(m.write_at(&[0; 2], 7).is_err());
}

#[test]
fn effective_sync_clears_pending_and_frozen_sync_does_not() {
    let m = MemIo::new(64);
    assert_eq!(m.pending_writes(), 0);
    m.write_at(&[1; 4], 0).unwrap();
    m.write_at(&[2; 4], 8).unwrap();
    assert_eq!(m.pending_writes(), 2);
    m.sync().unwrap();
    assert_eq!(m.pending_writes(), 0);
    m.freeze_after(1);
    m.write_at(&[3; 4], 16).unwrap();
    m.sync().unwrap();
    assert_eq!(m.pending_writes(), 1);
    // Writes after the sync the power went out in were never issued in reality.
    m.write_at(&[4; 4], 16).unwrap();
    m.sync_range(16, 4).unwrap();
    assert_eq!(m.pending_writes(), 1);
    // Failed (out of range) and empty writes are not pending either.
    let n = MemIo::new(64);
    assert!(n.write_at(&[5; 4], 62).is_err());
    n.write_at(&[], 3).unwrap();
    assert_eq!(n.pending_writes(), 0);
}

#[test]
fn torn_image_without_pending_writes_is_the_durable_image() {
    let m = MemIo::from_vec((0..4096).map(old_byte).collect());
    m.write_at(&[9; 100], 10).unwrap();
    m.sync().unwrap();
    assert_eq!(m.crash_image_torn(512, 7), m.crash_image());
    assert_eq!(m.crash_image_torn(1, 7)[10..110], [9; 100]);
}

#[test]
fn torn_units_hold_only_old_or_new_bytes() {
    for unit in [1usize, 512, 4096] {
        // Unaligned at both ends, so the first and last units are partial.
        let (size, off, len) = (256 * 1024, 1000, 200_000);
        let m = frozen_with_write(size, off, len);
        assert_eq!(m.pending_writes(), 1);
        let img = m.crash_image_torn(unit, 42);
        assert_eq!(img.len(), size);
        let (mut old_units, mut new_units) = (0, 0);
        let mut start = 0;
        while start < size {
            let end = (start + unit).min(size);
            let in_write = |i: usize| i >= off && i < off + len;
            let old = (start..end).all(|i| img[i] == old_byte(i));
            let new = (start..end).all(|i| {
                img[i]
                    == if in_write(i) {
                        new_byte(i)
                    } else {
                        old_byte(i)
                    }
            });
            assert!(
                old || new,
                "unit {start}..{end} at granularity {unit} is mixed"
            );
            if (start..end).any(in_write) {
                old_units += usize::from(old && !new);
                new_units += usize::from(new && !old);
            } else {
                assert!(old, "unit {start}..{end} outside the write changed");
            }
            start = end;
        }
        assert!(
            old_units > 0 && new_units > 0,
            "granularity {unit}: {old_units} old, {new_units} new"
        );
    }
}

#[test]
fn torn_image_is_deterministic_per_seed_and_varies_across_seeds() {
    let m = frozen_with_write(128 * 1024, 512, 100 * 1024);
    for unit in [1usize, 512, 4096] {
        let a = m.crash_image_torn(unit, 1);
        assert_eq!(a, m.crash_image_torn(unit, 1), "granularity {unit}");
        assert_ne!(a, m.crash_image_torn(unit, 2), "granularity {unit}");
        assert_ne!(a, m.crash_image(), "granularity {unit}");
        assert_ne!(a, m.snapshot(), "granularity {unit}");
    }
    // 0 behaves as 1.
    assert_eq!(m.crash_image_torn(0, 9), m.crash_image_torn(1, 9));
}

#[test]
fn overlapping_pending_writes_leave_old_or_one_of_the_writes() {
    let m = MemIo::new(8192);
    m.freeze_after(0);
    m.write_at(&[1; 8192], 0).unwrap();
    m.write_at(&[2; 4096], 2048).unwrap();
    assert_eq!(m.pending_writes(), 2);
    let mut seen = [false; 3];
    for seed in 0..16 {
        let img = m.crash_image_torn(512, seed);
        for unit in img.chunks(512) {
            assert!(unit.iter().all(|&b| b == unit[0]), "mixed unit");
            assert!(unit[0] <= 2);
            seen[usize::from(unit[0])] = true;
        }
        // Outside the second write only the first one can have landed.
        assert!(img[..2048].iter().chain(&img[6144..]).all(|&b| b < 2));
    }
    assert_eq!(seen, [true; 3]);
}
