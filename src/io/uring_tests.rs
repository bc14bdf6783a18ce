//! Tests of the io_uring engine against the pread engine on real files: aligned, unaligned
//! and bounced requests, registered buffers, linked write + sync, more requests than the
//! queue depth, read-only handles, and a handle's reopening with O_DIRECT. Skipped (with the
//! reason printed) where the kernel refuses io_uring.

use std::fs::OpenOptions;
use std::path::Path;

use super::{uring_probe, AlignedBuf, BlockIo, DioAlign, EngineKind, IoError, PreadIo, UringIo};

fn usable() -> bool {
    match uring_probe() {
        Ok(()) => true,
        Err(why) => {
            eprintln!("SKIP io::uring tests: {why}");
            false
        }
    }
}

fn open(path: &Path, writable: bool) -> (UringIo, PreadIo) {
    let f = OpenOptions::new()
        .read(true)
        .write(writable)
        .open(path)
        .unwrap();
    let size = f.metadata().unwrap().len();
    let u = UringIo::open(f.try_clone().unwrap(), path, size, writable).unwrap();
    (u, PreadIo::new(f, size, writable))
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn reads_and_writes_match_pread_at_every_alignment() {
    if !usable() {
        return;
    }
    let dir = tempfile::tempdir_in("/var/tmp").unwrap();
    let path = dir.path().join("dev");
    let len = (5 << 20) + 777;
    std::fs::write(&path, pattern(len, 1)).unwrap();
    let (u, p) = open(&path, true);
    assert_eq!(u.kind(), EngineKind::Uring);
    assert_eq!(u.len(), len as u64);
    assert!(u.detail().starts_with("uring ("), "{}", u.detail());
    // Aligned window in an aligned (registered) buffer, spanning several 1 MiB requests.
    let mut win = AlignedBuf::zeroed(3 << 20);
    u.register_buffers(&[&win]);
    u.read_at(&mut win, 1 << 20).unwrap();
    assert_eq!(&win[..], &pattern(len, 1)[1 << 20..4 << 20]);
    win.iter_mut().for_each(|b| *b ^= 0xa5);
    u.write_at(&win, 1 << 20).unwrap();
    let mut back = vec![0u8; 3 << 20];
    p.read_at(&mut back, 1 << 20).unwrap();
    assert_eq!(&back[..], &win[..]);
    // Unaligned offset and length, unaligned memory (Vec), the file's partial last block.
    for (off, n) in [
        (3u64, 10usize),
        (4095, 8194),
        (4096, 4096),
        ((5 << 20) - 100, 877),
    ] {
        let data = pattern(n, off as u8);
        u.write_at(&data, off).unwrap();
        let mut a = vec![0u8; n];
        let mut b = vec![0u8; n];
        u.read_at(&mut a, off).unwrap();
        p.read_at(&mut b, off).unwrap();
        assert_eq!(a, data, "uring read at {off}+{n}");
        assert_eq!(b, data, "pread read at {off}+{n}");
    }
    // Linked write + sync (a header checkpoint's path), bounced from a Vec.
    let hdr = pattern(4096, 9);
    u.write_sync_at(&hdr, 8192, 8192..12288).unwrap();
    let mut b = vec![0u8; 4096];
    p.read_at(&mut b, 8192).unwrap();
    assert_eq!(b, hdr);
    // And from an aligned buffer, several MiB.
    let mut big = AlignedBuf::zeroed(2 << 20);
    big.copy_from_slice(&pattern(2 << 20, 3));
    u.write_sync_at(&big, 2 << 20, (2 << 20)..(4 << 20))
        .unwrap();
    let mut b = vec![0u8; 2 << 20];
    p.read_at(&mut b, 2 << 20).unwrap();
    assert_eq!(&b[..], &big[..]);
    // Empty requests (a decrypt's zero-length tag write) are no-ops, aligned or not.
    for off in [0u64, 4096, 7] {
        u.read_at(&mut [], off).unwrap();
        u.write_at(&[], off).unwrap();
        u.write_sync_at(&[], off, off..off).unwrap();
    }
    u.sync().unwrap();
    assert!(matches!(
        u.read_at(&mut [0u8; 10], len as u64 - 5),
        Err(IoError::OutOfRange { .. })
    ));
}

#[test]
fn more_requests_than_the_queue_depth() {
    if !usable() {
        return;
    }
    let dir = tempfile::tempdir_in("/var/tmp").unwrap();
    let path = dir.path().join("dev");
    // 40 MiB = 40 requests of 1 MiB, at the default queue depth of 32.
    let len = 40 << 20;
    let data = pattern(len, 5);
    std::fs::write(&path, &data).unwrap();
    let (u, _) = open(&path, false);
    let mut buf = AlignedBuf::zeroed(len);
    u.read_at(&mut buf, 0).unwrap();
    assert!(buf[..] == data[..]);
    assert!(matches!(
        u.write_at(&buf[..4096], 0),
        Err(IoError::ReadOnly)
    ));
}

#[test]
fn o_direct_is_used_where_the_file_system_supports_it() {
    if !usable() {
        return;
    }
    let dir = tempfile::tempdir_in("/var/tmp").unwrap();
    let path = dir.path().join("dev");
    std::fs::write(&path, [0u8; 8192]).unwrap();
    let f = std::fs::File::open(&path).unwrap();
    let expect = matches!(super::dio_align(&f), DioAlign::Direct { .. });
    let (u, _) = open(&path, false);
    // The reopen may still refuse O_DIRECT (EINVAL), which the engine then reports.
    if expect {
        assert_eq!(u.is_direct(), u.detail().contains("O_DIRECT"));
    } else {
        assert!(!u.is_direct());
    }
}
