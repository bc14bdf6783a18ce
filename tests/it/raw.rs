//! Whole-engine round trips on the in-memory (`mem`) and `null` engines, through
//! `engine::raw`: the same pipeline as on files, with no file system underneath.

use std::sync::Arc;

use volcrypt::crypto::{Backend, DataKey};
use volcrypt::engine::raw::{self, Devices};
use volcrypt::engine::RunOptions;
use volcrypt::format::WINDOW_BYTES;
use volcrypt::io::{BlockIo, EngineKind, MemIo, NullIo};
use volcrypt::keys::FileKeyProvider;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
        .collect()
}

fn opts(backend: Backend) -> RunOptions {
    RunOptions {
        threads: 2,
        io: EngineKind::Mem,
        backend,
        ..RunOptions::default()
    }
}

fn round_trip(len: u64, chunk: u64, backend: Backend, detached: bool) {
    let plain = pattern(len as usize, 7);
    let keys = FileKeyProvider::from_key(&DataKey::from_bytes([9; 32]), "test key");
    let (data, meta) = if detached {
        let meta = MemIo::new(raw::detached_size(len, chunk).unwrap() as usize);
        (MemIo::from_vec(plain.clone()), Some(Arc::new(meta)))
    } else {
        let mut img = plain.clone();
        img.resize(raw::attached_size(len, chunk).unwrap() as usize, 0);
        (MemIo::from_vec(img), None)
    };
    let data = Arc::new(data);
    let dev = Devices {
        data: data.clone(),
        meta: meta.clone().map(|m| m as Arc<dyn BlockIo>),
    };
    let o = opts(backend);
    let s = raw::encrypt(&dev, len, chunk, &keys, &o).unwrap();
    assert_eq!(s.bytes, len);
    let sealed = data.snapshot();
    if len > 0 {
        assert_ne!(
            &sealed[..len as usize],
            &plain[..],
            "data was not encrypted"
        );
    }
    let r = raw::verify(&dev, &keys, &o).unwrap();
    assert!(r.ok(), "{:?}", r.bad);
    assert_eq!(r.checked, len.div_ceil(chunk));
    // Decrypt with the other backend: the format does not depend on it.
    let other = if backend == Backend::Ring {
        Backend::AwsLc
    } else {
        Backend::Ring
    };
    raw::decrypt(&dev, &keys, &opts(other)).unwrap();
    assert_eq!(&data.snapshot()[..len as usize], &plain[..]);
}

#[test]
fn mem_engine_round_trips_edge_sizes() {
    let chunk = 4096;
    for backend in Backend::ALL {
        for detached in [false, true] {
            for len in [0, 1, chunk - 1, chunk, chunk + 1, 5 * chunk + 17] {
                round_trip(len, chunk, backend, detached);
            }
        }
    }
}

#[test]
fn mem_engine_round_trips_several_windows() {
    let len = 2 * WINDOW_BYTES + 3 * 65536 + 5;
    round_trip(len, 65536, Backend::Ring, false);
    round_trip(len, 1 << 20, Backend::AwsLc, true);
}

#[test]
fn mem_engine_tamper_is_named() {
    let len: u64 = 10 * 4096;
    let keys = FileKeyProvider::from_key(&DataKey::from_bytes([3; 32]), "k");
    let mut img = pattern(len as usize, 1);
    img.resize(raw::attached_size(len, 4096).unwrap() as usize, 0);
    let data = Arc::new(MemIo::from_vec(img));
    let dev = Devices {
        data: data.clone(),
        meta: None,
    };
    raw::encrypt(&dev, len, 4096, &keys, &opts(Backend::Ring)).unwrap();
    data.write_at(&[0x55], 6 * 4096 + 100).unwrap();
    let r = raw::verify(&dev, &keys, &opts(Backend::Ring)).unwrap();
    assert_eq!(r.bad, vec![6]);
    let before = data.snapshot();
    let e = raw::decrypt(&dev, &keys, &opts(Backend::Ring)).unwrap_err();
    assert!(e.to_string().contains("failed authentication: 6"), "{e}");
    // Nothing of the failing window was written.
    assert_eq!(&data.snapshot()[..len as usize], &before[..len as usize]);
}

#[test]
fn null_engine_runs_the_pipeline() {
    // The null engine stores nothing: it measures harness and cipher cost. Encrypt must still
    // process every byte, and a later open must find no volume (the header went nowhere).
    let len = 3 * WINDOW_BYTES;
    let keys = FileKeyProvider::from_key(&DataKey::from_bytes([1; 32]), "k");
    let dev = Devices {
        data: Arc::new(NullIo::new(raw::attached_size(len, 65536).unwrap())),
        meta: None,
    };
    let s = raw::encrypt(&dev, len, 65536, &keys, &opts(Backend::AwsLc)).unwrap();
    assert_eq!(s.bytes, len);
    assert_eq!(s.chunks, len / 65536);
    assert!(raw::verify(&dev, &keys, &opts(Backend::Ring)).is_err());
}
