//! Unit tests of device sizes, block sizes and the mount / holder checks.

use super::*;

/// A device number as `st_rdev` encodes it.
fn rdev(major: u32, minor: u32) -> u64 {
    libc::makedev(major, minor)
}

const MOUNTINFO: &[u8] = b"22 27 0:21 / /proc rw,relatime - proc proc rw\n\
    42 27 7:0 / /mnt/with\\040space rw,relatime shared:1 - ext4 /dev/loop0 rw\n\
    43 27 259:3 / /srv rw,relatime - xfs /dev/nvme0n1p3 rw\n\
    44 27 0:45 / /data rw,relatime master:2 - btrfs /dev/sdb rw\n";

fn no_sources(_: &Path) -> Option<DevNum> {
    None
}

#[test]
fn unescape_decodes_octal_only() {
    assert_eq!(unescape(b"/mnt/a\\040b\\011c\\134d"), b"/mnt/a b\tc\\d");
    assert_eq!(unescape(b"plain"), b"plain");
    // Not an escape: too short, not octal, or out of byte range.
    assert_eq!(unescape(b"a\\04"), b"a\\04");
    assert_eq!(unescape(b"a\\089"), b"a\\089");
    assert_eq!(unescape(b"a\\400"), b"a\\400");
}

#[test]
fn mountinfo_matches_device_numbers_and_names_the_mount_point() {
    let empty = Path::new("/nonexistent-sysfs");
    let got = device_use_in(rdev(7, 0), MOUNTINFO, empty, &no_sources);
    assert_eq!(
        got,
        Some(DeviceUse::Mounted {
            partition: None,
            mount_point: PathBuf::from("/mnt/with space"),
        })
    );
    assert_eq!(
        device_use_in(rdev(7, 1), MOUNTINFO, empty, &no_sources),
        None
    );
    // A file system with an anonymous device number is found by its source.
    let sdb = |p: &Path| (p == Path::new("/dev/sdb")).then_some((8, 16));
    match device_use_in(rdev(8, 16), MOUNTINFO, empty, &sdb) {
        Some(DeviceUse::Mounted { mount_point, .. }) => {
            assert_eq!(mount_point, Path::new("/data"))
        }
        other => panic!("btrfs mount not found: {other:?}"),
    }
    // Malformed lines are skipped, not fatal.
    assert_eq!(
        device_use_in(rdev(7, 0), b"garbage\n\n1 2\n", empty, &no_sources),
        None
    );
}

/// A fake `/sys/dev/block` with a device 259:0 whose partition 259:3 is mounted (per
/// MOUNTINFO), and a device 7:5 whose partition 259:9 is held by dm-0.
fn fake_sysfs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mk = |p: &str| std::fs::create_dir_all(dir.path().join(p)).unwrap();
    let put = |p: &str, s: &str| std::fs::write(dir.path().join(p), s).unwrap();
    mk("259:0/nvme0n1p3");
    mk("259:0/holders");
    mk("259:0/queue");
    put("259:0/nvme0n1p3/partition", "3\n");
    put("259:0/nvme0n1p3/dev", "259:3\n");
    put("259:0/queue/dev", "1:1\n");
    mk("7:5/loop5p1");
    mk("7:5/holders");
    put("7:5/loop5p1/partition", "1\n");
    put("7:5/loop5p1/dev", "259:9\n");
    mk("259:9/holders/dm-0");
    mk("8:0/holders/md127");
    mk("8:0/holders/dm-3");
    dir
}

#[test]
fn partitions_and_holders_count() {
    let sys = fake_sysfs();
    assert_eq!(
        device_use_in(rdev(259, 0), MOUNTINFO, sys.path(), &no_sources),
        Some(DeviceUse::Mounted {
            partition: Some("nvme0n1p3".into()),
            mount_point: PathBuf::from("/srv"),
        })
    );
    assert_eq!(
        device_use_in(rdev(7, 5), MOUNTINFO, sys.path(), &no_sources),
        Some(DeviceUse::Held {
            partition: Some("loop5p1".into()),
            holders: vec!["dm-0".into()],
        })
    );
    assert_eq!(
        device_use_in(rdev(8, 0), b"", sys.path(), &no_sources),
        Some(DeviceUse::Held {
            partition: None,
            holders: vec!["dm-3".into(), "md127".into()],
        })
    );
    // `queue/` has a `dev` file but no `partition` file: not a partition.
    assert_eq!(partitions(sys.path(), (259, 0)).len(), 1);
    assert_eq!(
        device_use_in(rdev(7, 7), MOUNTINFO, sys.path(), &no_sources),
        None
    );
}

#[test]
fn regular_files_report_their_length_and_default_block_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    std::fs::write(&p, vec![0u8; 12345]).unwrap();
    let f = File::open(&p).unwrap();
    assert_eq!(
        block_info(&f).unwrap(),
        BlockInfo {
            size: 12345,
            logical_block: 512,
            physical_block: 4096
        }
    );
}
