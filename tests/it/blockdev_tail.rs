//! `encrypt --reserved-tail SIZE`: the metadata in the volume's own last SIZE bytes, which
//! do not move or grow. On a regular file (no root needed) and on a loop device: encrypt,
//! `info` (layout tail), verify, decrypt; the data area comes back bit-identical, the bytes
//! between the data and the metadata are never touched, and after the decrypt the headers
//! and journal are zeroes (no volume any more) at an unchanged size. Too small or misaligned
//! tails are refused with the minimum, before anything is written. On a loop device an
//! encrypt, a rekey and a decrypt are each SIGKILLed in the middle and finished by
//! `volcrypt resume`, which finds the volume at the device's end without `--header`.
//! Loop-device tests need root and `losetup`, else `SKIP ...: <reason>`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

use volcrypt::format::{
    header_offsets, min_reserved_tail, Geometry, Header, Layout, LayoutKind, Operation, Slot,
    HEADER_LEN, WINDOW_BYTES,
};

use crate::blockdev::{attach, info_json, volcrypt_in};
use crate::kill::{args, run_and_kill, try_info, End};
use crate::util::*;

/// The newest header at the end of `path` (a file or the backing file of a loop device).
fn tail_header(path: &Path, size: u64) -> Option<Header> {
    let f = File::open(path).unwrap();
    let (a, b) = header_offsets(size).unwrap();
    [(Slot::A, a), (Slot::B, b)]
        .into_iter()
        .filter_map(|(slot, off)| {
            let mut buf = vec![0u8; HEADER_LEN];
            f.read_exact_at(&mut buf, off).unwrap();
            Header::decode(&buf, slot).ok().map(|u| u.peek().clone())
        })
        .max_by_key(|h| h.seqno)
}

/// Asserts that the headers and journal slots of `l` on `path` are all zeros.
fn assert_metadata_wiped(path: &Path, l: &Layout) {
    let f = File::open(path).unwrap();
    for (what, off, len) in [
        ("journal", l.journal_off, 2 * l.journal_slot_len),
        ("headers", l.hdr_a_off, 2 * HEADER_LEN as u64),
    ] {
        let mut buf = vec![0u8; usize::try_from(len).unwrap()];
        f.read_exact_at(&mut buf, off).unwrap();
        assert!(buf.iter().all(|&b| b == 0), "{what} not wiped");
    }
}

/// Encrypt, inspect, verify and decrypt `vol` (of `size` bytes, the test stream of `seed`)
/// with its last `reserved` bytes for the metadata; `hdrs` is the default header directory.
fn tail_round_trip(vol: &Path, backing: &Path, size: u64, reserved: u64, seed: u64, hdrs: &Path) {
    let dir = hdrs.parent().unwrap();
    let key = key_file(dir, "key", 31);
    let data_len = size - reserved;
    let chunk = 64 * KIB;
    let g = Geometry::new(data_len, chunk).unwrap();
    let l = Layout::compute(&g, LayoutKind::Tail { device_size: size }).unwrap();
    let gap = (data_len, l.meta_off - data_len);
    let gap_sha = sha_range(backing, gap.0, gap.1);
    let size_arg = format!("{}K", reserved >> 10);

    // Too small, misaligned, or with --header: refused before anything is written.
    let min = min_reserved_tail(size, chunk).unwrap();
    let small = format!("{}M", (min >> 20) - 1);
    let r = volcrypt_in(
        hdrs,
        &[
            &"encrypt",
            &vol,
            &"--reserved-tail",
            &small,
            &"--key-file",
            &key,
        ],
    );
    r.fails(
        1,
        &["too small", &format!("reserve at least {}M", min >> 20)],
    );
    let r = volcrypt_in(
        hdrs,
        &[
            &"encrypt",
            &vol,
            &"--reserved-tail",
            &"65537K",
            &"--key-file",
            &key,
        ],
    );
    r.fails(1, &["multiple of 4096"]);
    let r = volcrypt_in(
        hdrs,
        &[
            &"encrypt",
            &vol,
            &"--reserved-tail",
            &size_arg,
            &"--header",
            &dir.join("h"),
            &"--key-file",
            &key,
        ],
    );
    r.fails(2, &["--header"]);
    assert_eq!(sha_range(backing, 0, data_len), pattern_sha(data_len, seed));
    assert!(
        tail_header(backing, size).is_none(),
        "a refused encrypt wrote a header"
    );

    volcrypt_in(
        hdrs,
        &[
            &"encrypt",
            &vol,
            &"--reserved-tail",
            &size_arg,
            &"--key-file",
            &key,
            &"-q",
        ],
    )
    .ok();
    assert_eq!(file_len(backing), size, "the volume grew");
    let h = tail_header(backing, size).expect("a header at the end");
    assert_eq!(h.layout, l);
    assert_eq!(h.geometry.data_len, data_len);
    assert_sealed(vol, data_len, chunk, seed, "tail volume");
    assert_eq!(
        sha_range(backing, gap.0, gap.1),
        gap_sha,
        "the gap was written"
    );
    let j = info_json(hdrs, vol);
    assert_eq!(j["layout"], "tail");
    assert_eq!(j["reserved_tail"], reserved);
    assert_eq!(j["data_len"], data_len);
    assert!(j["header_path"].is_null(), "{j}");
    let r = volcrypt_in(hdrs, &[&"info", &vol]);
    let text = String::from_utf8_lossy(&r.ok().stdout).into_owned();
    assert!(
        text.contains(&format!("tail (metadata in the last {reserved} bytes)")),
        "{text}"
    );
    // The same command again finds the finished volume.
    volcrypt_in(
        hdrs,
        &[
            &"encrypt",
            &vol,
            &"--reserved-tail",
            &size_arg,
            &"--key-file",
            &key,
        ],
    )
    .fails(1, &["already a volcrypt volume"]);
    // An explicit header is refused: the header is on the device.
    volcrypt_in(
        hdrs,
        &[
            &"verify",
            &vol,
            &"--header",
            &dir.join("nope"),
            &"--key-file",
            &key,
        ],
    )
    .fails(1, &["nope"]);
    let n = g.n_chunks();
    volcrypt_in(hdrs, &[&"verify", &vol, &"--key-file", &key])
        .ok()
        .fails(0, &[&format!("verify: OK, {n} chunks authenticated")]);
    let r = volcrypt_in(hdrs, &[&"cat", &vol, &"--key-file", &key]);
    assert_eq!(
        volcrypt::crypto::sha256(&r.ok().stdout),
        pattern_sha(data_len, seed)
    );
    drop(r);

    volcrypt_in(hdrs, &[&"decrypt", &vol, &"--key-file", &key, &"-q"]).ok();
    assert_eq!(file_len(backing), size, "the size changed");
    assert_eq!(sha_range(backing, 0, data_len), pattern_sha(data_len, seed));
    assert_eq!(
        sha_range(backing, gap.0, gap.1),
        gap_sha,
        "the gap was written"
    );
    assert_metadata_wiped(backing, &l);
    assert!(tail_header(backing, size).is_none());
    assert!(!hdrs.exists(), "a default header directory was created");
}

#[test]
fn regular_file_with_a_reserved_tail() {
    let dir = scratch();
    let size = 96 * MIB;
    let vol = dir.path().join("vol.img");
    write_pattern(&vol, size, 85);
    tail_round_trip(&vol, &vol, size, 66 * MIB, 85, &dir.path().join("headers"));
}

#[test]
fn loop_device_with_a_reserved_tail() {
    let dir = scratch();
    let size = 160 * MIB;
    let backing = dir.path().join("backing.img");
    write_pattern(&backing, size, 86);
    let dev = match attach(&backing) {
        Ok(d) => d,
        Err(reason) => {
            eprintln!("SKIP blockdev reserved tail: {reason}");
            return;
        }
    };
    tail_round_trip(
        &dev.0,
        &backing,
        size,
        72 * MIB,
        86,
        &dir.path().join("headers"),
    );
}

/// Encrypt, rekey and decrypt of a loop device with a reserved tail, each SIGKILLed once in
/// the middle (after the first window's checkpoint) and finished by `volcrypt resume`
/// without `--header`.
#[test]
fn loop_device_with_a_reserved_tail_sigkill_and_resume() {
    let dir = scratch();
    let size = 256 * MIB;
    let reserved = 72 * MIB;
    let data_len = size - reserved;
    let backing = dir.path().join("backing.img");
    write_pattern(&backing, size, 87);
    let dev = match attach(&backing) {
        Ok(d) => d,
        Err(reason) => {
            eprintln!("SKIP blockdev reserved tail (sigkill and resume): {reason}");
            return;
        }
    };
    let d = &dev.0;
    let key = key_file(dir.path(), "key", 32);
    let hdrs = dir.path().join("headers");
    let window = WINDOW_BYTES / (64 * KIB);
    for op in [Operation::Encrypt, Operation::Rekey, Operation::Decrypt] {
        let mut a = args(&[&op.name(), d, &"--key-file", &key]);
        if op == Operation::Encrypt {
            a.extend(args(&[&"--reserved-tail", &"72M"]));
        }
        // The header is read from the backing file, whose size the loop device has.
        let forever = Duration::from_secs(120);
        let end = run_and_kill(&a, op, &backing, forever, window, Duration::from_millis(20));
        let End::Limit(at) = end else {
            panic!("{op} was not killed in the middle: {end:?}")
        };
        let j = try_info(d, None).unwrap_or_else(|e| panic!("{op}: no volume after the kill: {e}"));
        assert_eq!(j["operation"], op.name(), "{op}: killed at chunk {at}: {j}");
        assert_eq!(j["layout"], "tail");
        let done = j["progress_chunks"].as_u64().unwrap();
        assert!(
            done < j["chunks"].as_u64().unwrap(),
            "{op}: complete after the kill: {j}"
        );
        eprintln!("blockdev tail: {op} killed with {at} chunks done");
        volcrypt_in(&hdrs, &[&"resume", d, &"--key-file", &key, &"-q"]).ok();
        if op != Operation::Decrypt {
            let j = info_json(&hdrs, d);
            assert_eq!(
                (j["state"].as_str(), j["operation"].as_str()),
                (Some("encrypted"), Some("idle")),
                "{op}: {j}"
            );
            volcrypt_in(&hdrs, &[&"verify", d, &"--key-file", &key]).ok();
        }
    }
    assert!(
        tail_header(&backing, size).is_none(),
        "headers left after the decrypt"
    );
    assert_eq!(
        sha_range(d, 0, data_len),
        pattern_sha(data_len, 87),
        "data differs after encrypt, rekey and decrypt"
    );
    assert!(!hdrs.exists(), "a default header directory was created");
}
