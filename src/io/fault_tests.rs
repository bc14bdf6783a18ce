//! Unit tests of fault injection: exact call targeting, one-shot versus sticky faults, byte
//! ranges, fsyncgate poisoning after a failed sync, and pass-through when nothing fires.

use super::*;
use crate::io::MemIo;

fn mem(size: usize) -> (Arc<MemIo>, Arc<dyn BlockIo>) {
    let m = Arc::new(MemIo::new(size));
    let dynio: Arc<dyn BlockIo> = m.clone();
    (m, dynio)
}

/// Whether `r` is an injected read/write failure of `op` at `offset` carrying EIO.
fn is_eio(r: Result<(), IoError>, want_op: &str, want_off: u64) -> bool {
    match r {
        Err(IoError::Io {
            op, offset, source, ..
        }) => op == want_op && offset == want_off && source.raw_os_error() == Some(libc::EIO),
        _ => false,
    }
}

#[test]
fn passes_everything_through_when_no_fault_fires() {
    let (m, inner) = mem(8192);
    let io = FaultIo::new(inner).fail_nth(IoOp::Write, 100);
    assert_eq!(io.kind(), EngineKind::Mem);
    assert_eq!(io.len(), 8192);
    io.write_at(&[7; 16], 100).unwrap();
    let mut buf = [0u8; 16];
    io.read_at(&mut buf, 100).unwrap();
    assert_eq!(buf, [7; 16]);
    io.sync().unwrap();
    io.sync_range(0, 4096).unwrap();
    assert_eq!(m.crash_image()[100..116], [7; 16]);
    assert_eq!(m.syncs(), 2);
    // Errors of the inner engine come back unchanged.
    assert!(matches!(
        io.read_at(&mut buf, 8190),
        Err(IoError::OutOfRange { .. })
    ));
    assert!(io.map_window(0, 4096).unwrap().is_none());
    assert_eq!(
        (
            io.calls(IoOp::Read),
            io.calls(IoOp::Write),
            io.calls(IoOp::Sync)
        ),
        (2, 1, 2)
    );
    assert_eq!(io.injected(), 0);
    assert!(!io.is_poisoned());
}

#[test]
fn one_shot_nth_fails_exactly_that_call() {
    let (m, inner) = mem(4096);
    let io = FaultIo::new(inner).fail_nth(IoOp::Write, 3);
    for i in 1..=5u8 {
        let r = io.write_at(&[i; 8], u64::from(i) * 8);
        if i == 3 {
            assert!(is_eio(r, "write", 24), "write 3 should fail with EIO");
        } else {
            r.unwrap();
        }
    }
    let live = m.snapshot();
    assert_eq!(live[24..32], [0; 8], "the failed write reached the device");
    assert_eq!(live[32..40], [4; 8]);
    assert_eq!(io.calls(IoOp::Write), 5);
    assert_eq!(io.injected(), 1);
    // Reads are another kind and unaffected.
    io.read_at(&mut [0; 8], 0).unwrap();
}

#[test]
fn sticky_nth_fails_that_call_and_every_later_one() {
    let (_m, inner) = mem(4096);
    let io = FaultIo::new(inner).fail_from(IoOp::Read, 2);
    let mut buf = [0u8; 4];
    io.read_at(&mut buf, 0).unwrap();
    for _ in 0..3 {
        assert!(is_eio(io.read_at(&mut buf, 0), "read", 0));
    }
    io.write_at(&buf, 0).unwrap();
    assert_eq!(io.injected(), 3);
    io.disarm();
    io.read_at(&mut buf, 0).unwrap();
}

#[test]
fn range_faults_hit_only_overlapping_calls() {
    let (_m, inner) = mem(16384);
    let io = FaultIo::new(inner)
        .fail_range(IoOp::Read, 4096..8192)
        .fail_range_once(IoOp::Write, 0..1);
    let mut buf = [0u8; 100];
    io.read_at(&mut buf, 0).unwrap();
    io.read_at(&mut buf, 3996).unwrap(); // ends at 4096: no overlap
    io.read_at(&mut buf, 8192).unwrap();
    io.read_at(&mut [], 5000).unwrap(); // zero-length: touches nothing
    assert!(is_eio(io.read_at(&mut buf, 4000), "read", 4000));
    assert!(is_eio(io.read_at(&mut buf, 8100), "read", 8100));
    assert!(is_eio(io.read_at(&mut buf, 5000), "read", 5000)); // sticky
    assert!(is_eio(io.write_at(&buf, 0), "write", 0));
    io.write_at(&buf, 0).unwrap(); // one-shot: spent
    assert_eq!(io.injected(), 4);
}

#[test]
fn failed_sync_poisons_like_the_real_engines() {
    let (m, inner) = mem(4096);
    let io = FaultIo::new(inner).fail_nth(IoOp::Sync, 2);
    io.write_at(&[1; 8], 0).unwrap();
    io.sync().unwrap();
    io.write_at(&[2; 8], 8).unwrap();
    let err = io.sync().unwrap_err();
    assert!(matches!(&err, IoError::Sync(e) if e.raw_os_error() == Some(libc::EIO)));
    assert!(err.to_string().contains("os error 5"), "{err}");
    assert!(io.is_poisoned());
    // The failed sync made nothing durable.
    assert_eq!(m.crash_image()[..16], [[1u8; 8], [0; 8]].concat()[..]);
    assert!(matches!(io.read_at(&mut [0; 8], 0), Err(IoError::Poisoned)));
    assert!(matches!(io.write_at(&[3; 8], 0), Err(IoError::Poisoned)));
    assert!(matches!(io.sync(), Err(IoError::Poisoned)));
    assert!(matches!(io.sync_range(0, 8), Err(IoError::Poisoned)));
    assert!(matches!(io.map_window(0, 8), Err(IoError::Poisoned)));
    assert_eq!(m.snapshot()[..8], [1; 8], "a poisoned handle wrote");
    assert_eq!((io.calls(IoOp::Sync), io.injected()), (4, 1));
}

#[test]
fn sync_range_faults_match_by_range_and_full_sync_touches_all() {
    let (_m, inner) = mem(65536);
    let io = FaultIo::new(inner).fail_range_once(IoOp::Sync, 32768..36864);
    io.sync_range(0, 4096).unwrap();
    io.sync_range(36864, 4096).unwrap();
    assert!(matches!(io.sync(), Err(IoError::Sync(_))));
    assert!(io.is_poisoned());

    let (_m, inner) = mem(65536);
    let io = FaultIo::new(inner).fail_range(IoOp::Sync, 32768..36864);
    assert!(matches!(io.sync_range(30000, 4096), Err(IoError::Sync(_))));
}

#[test]
fn faults_can_be_armed_through_a_shared_handle() {
    let (m, inner) = mem(4096);
    let io = Arc::new(FaultIo::new(inner));
    let shared: Arc<dyn BlockIo> = io.clone();
    shared.write_at(&[1; 4], 0).unwrap();
    io.arm(Fault::nth(IoOp::Write, 2));
    assert!(is_eio(shared.write_at(&[2; 4], 0), "write", 0));
    io.arm(Fault::nth(IoOp::Write, 0).sticky()); // n == 0 never fires
    shared.write_at(&[3; 4], 0).unwrap();
    assert_eq!(m.snapshot()[..4], [3; 4]);
    assert!(format!("{io:?}").contains("injected: 1"));
}
