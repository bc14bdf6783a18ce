//! Unit tests of geometry and layout.

use super::*;

#[test]
fn chunk_size_validation() {
    assert!(Geometry::new(0, 4096).is_ok());
    assert!(Geometry::new(0, 1 << 20).is_ok());
    for bad in [0, 1, 2048, 3 << 12, 2 << 20, 65535] {
        assert!(Geometry::new(0, bad).is_err(), "{bad}");
    }
}

#[test]
fn chunks_and_windows() {
    let g = Geometry::new(3 * 65536 + 5, 65536).unwrap();
    assert_eq!(g.n_chunks(), 4);
    assert_eq!(g.chunk(3), (3 * 65536, 5));
    assert_eq!(g.chunk(0), (0, 65536));
    assert_eq!(g.window_chunks, 512);
    assert_eq!(g.n_windows(), 1);
    assert_eq!(g.window(0), 0..4);
    let big = Geometry::new(100 << 20, 65536).unwrap();
    assert_eq!(big.n_windows(), 4);
    assert_eq!(big.window(3), 1536..1600);
    assert_eq!(big.group(16383), 0);
    assert_eq!(big.group(16384), 1);
    assert_eq!(Geometry::new(0, 4096).unwrap().n_windows(), 0);
}

#[test]
fn layouts_are_aligned_and_end_with_headers() {
    for len in [0u64, 1, 4095, 4096, 1 << 20, (1 << 20) + 1, 5 << 30] {
        for kind in [LayoutKind::Attached, LayoutKind::Detached] {
            let g = Geometry::new(len, 65536).unwrap();
            let l = Layout::compute(&g, kind).unwrap();
            for off in [
                l.meta_off,
                l.journal_off,
                l.tag_off,
                l.hdr_a_off,
                l.hdr_b_off,
            ] {
                assert_eq!(off % 4096, 0);
            }
            if kind == LayoutKind::Attached {
                assert!(l.meta_off >= len);
                assert_eq!(l.meta_off % DATA_ALIGN, 0);
            }
            assert!(l.tag_len >= g.n_chunks() * 32);
            assert!(l.journal_slot_len >= 4096 + g.chunk_size().min(len.max(1)));
            assert_eq!(
                header_offsets(l.device_size),
                Some((l.hdr_a_off, l.hdr_b_off))
            );
        }
    }
    assert_eq!(header_offsets(4096), None);
}

#[test]
fn tail_layout_ends_at_the_device_end() {
    let dev = 160u64 << 20;
    let g = Geometry::new(dev - (72 << 20), 65536).unwrap();
    let need = Layout::metadata_len(&g).unwrap();
    assert!(need > 64 << 20 && need < 72 << 20, "{need}");
    let l = Layout::compute(&g, LayoutKind::Tail { device_size: dev }).unwrap();
    assert_eq!(l.device_size, dev);
    assert_eq!(l.hdr_b_off, dev - 4096);
    assert_eq!(l.meta_off, dev - need);
    assert!(l.meta_off >= g.data_len);
    assert_eq!(header_offsets(dev), Some((l.hdr_a_off, l.hdr_b_off)));
    // Same region sizes as the other layouts, shifted.
    let d = Layout::compute(&g, LayoutKind::Detached).unwrap();
    assert_eq!(
        (l.journal_slot_len, l.tag_len, l.tag_off - l.meta_off),
        (d.journal_slot_len, d.tag_len, d.tag_off)
    );
    // Exactly enough room fits (no gap); one page less does not.
    let exact = g.data_len + need;
    let e = Layout::compute(&g, LayoutKind::Tail { device_size: exact }).unwrap();
    assert_eq!(e.meta_off, g.data_len);
    let short = LayoutKind::Tail {
        device_size: exact - 4096,
    };
    let err = Layout::compute(&g, short).unwrap_err();
    assert!(err.to_string().contains("do not fit"), "{err}");
    // The device must be a whole number of 4 KiB pages.
    let odd = Layout::compute(
        &g,
        LayoutKind::Tail {
            device_size: dev + 512,
        },
    )
    .unwrap_err();
    assert!(odd.to_string().contains("multiple of 4 KiB"), "{odd}");
    // Data larger than the device.
    let huge = Geometry::new(dev + 1, 65536).unwrap();
    assert!(Layout::compute(&huge, LayoutKind::Tail { device_size: dev }).is_err());
}

#[test]
fn min_reserved_tail_is_the_smallest_mib_that_fits() {
    for (dev, chunk) in [
        (256u64 << 20, 65536u64),
        (96 << 20, 65536),
        (5 << 30, 4096),
        (40 << 20, 1 << 20),
    ] {
        let m = min_reserved_tail(dev, chunk).unwrap();
        assert_eq!(m % (1 << 20), 0);
        let g = Geometry::new(dev - m, chunk).unwrap();
        assert!(Layout::metadata_len(&g).unwrap() <= m, "{dev} {chunk}: {m}");
        let g = Geometry::new(dev - m + (1 << 20), chunk).unwrap();
        assert!(
            Layout::metadata_len(&g).unwrap() > m - (1 << 20),
            "{dev} {chunk}: {m} is not the smallest"
        );
    }
    // Two 32 MiB journal slots dominate for volumes of more than one window.
    let m = min_reserved_tail(1 << 30, 65536).unwrap();
    assert_eq!(m, 65 << 20);
    assert_eq!(min_reserved_tail(8192, 65536), None);
    assert_eq!(min_reserved_tail(1 << 30, 3000), None);
}

#[test]
fn layout_kind_bytes_and_names() {
    let t = LayoutKind::Tail {
        device_size: 1 << 30,
    };
    assert_eq!(
        [LayoutKind::Attached, LayoutKind::Detached, t].map(LayoutKind::to_byte),
        [0, 1, 2]
    );
    assert_eq!(t.name(), "tail");
    assert!(t.same_device() && LayoutKind::Attached.same_device());
    assert!(!LayoutKind::Detached.same_device());
}
