//! Chunk cipher micro-benchmark: AES-256-GCM seal and open of one chunk, in place, tag kept
//! apart, at 4 KiB, 64 KiB and 1 MiB.
//!
//! Three implementations are measured in the same run so their ratios are comparable:
//!
//! * `ring`     — [`volcrypt::crypto::ChunkKey`] with [`Backend::Ring`] (the default path),
//! * `aws-lc`   — [`volcrypt::crypto::ChunkKey`] with [`Backend::AwsLc`],
//! * `raw-ring` — `ring::aead::LessSafeKey::{seal,open}_in_place_separate_tag` called
//!   directly, the baseline for "sealing through `crypto/` costs < 5 % over raw ring".
//!
//! Buffers are small enough to stay in cache (1 MiB < 4 MiB L2), so this is the compute
//! ceiling, not memory bandwidth (see `benches/membw.rs` for that). Run with
//! `cargo bench --bench chunk_cipher`; `scripts/bench-core.sh` parses the criterion
//! estimates into throughput ratios.
//!
//! Nonces: every iteration uses the same fixed nonce. That is only acceptable because this
//! is a benchmark on throwaway data under a throwaway key; real code takes nonces from
//! `NonceCounter` and never repeats one.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM};
use volcrypt::crypto::{Backend, ChunkKey, NONCE_LEN, TAG_LEN};

const SIZES: [usize; 3] = [4 << 10, 64 << 10, 1 << 20];
const KEY: [u8; 32] = [0x42; 32];
/// Fixed nonce, reused on purpose (benchmark only, see the module docs).
const NONCE: [u8; NONCE_LEN] = [7; NONCE_LEN];
/// Empty AAD would be unrealistic: the volume's AAD is a few dozen bytes.
const AAD: &[u8] = b"volcrypt-bench-aad-0123456789abcdef";

fn buffer(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i.wrapping_mul(31) % 251) as u8 + 1)
        .collect()
}

fn raw_ring_key() -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &KEY).unwrap())
}

fn configure<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    g
}

fn seal(c: &mut Criterion) {
    let ring_key = ChunkKey::new(Backend::Ring, &KEY).unwrap();
    let awslc_key = ChunkKey::new(Backend::AwsLc, &KEY).unwrap();
    let raw = raw_ring_key();
    let mut g = configure(c, "seal");
    for n in SIZES {
        g.throughput(Throughput::Bytes(n as u64));
        // Sealing the same buffer again and again with one nonce just toggles it between two
        // states (GCM is CTR mode), which is fine for timing.
        let mut buf = buffer(n);
        g.bench_with_input(BenchmarkId::new("raw-ring", n), &n, |b, _| {
            b.iter(|| {
                let tag = raw
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(NONCE),
                        Aad::from(AAD),
                        black_box(&mut buf[..]),
                    )
                    .unwrap();
                black_box(tag)
            });
        });
        for (id, key) in [("ring", &ring_key), ("aws-lc", &awslc_key)] {
            g.bench_with_input(BenchmarkId::new(id, n), &n, |b, _| {
                b.iter(|| black_box(key.seal(NONCE, AAD, black_box(&mut buf[..])).unwrap()));
            });
        }
    }
    g.finish();
}

/// A buffer and the two tags that let it be opened forever in place with one nonce.
///
/// With keystream `K`: sealing `X` gives `Y = X ^ K` and tag `t_y` (over `Y`); sealing `Y`
/// gives back `X` and tag `t_x` (over `X`). So `open(Y, t_y)` yields `X` and `open(X, t_x)`
/// yields `Y`: alternating the tags, every open authenticates and no copy is needed.
struct OpenFixture {
    buf: Vec<u8>,
    tags: [[u8; TAG_LEN]; 2],
    next: usize,
}

impl OpenFixture {
    fn new(n: usize) -> Self {
        let key = ChunkKey::new(Backend::Ring, &KEY).unwrap();
        let mut buf = buffer(n);
        let t_y = key.seal(NONCE, AAD, &mut buf).unwrap(); // buf = Y
        let t_x = key.seal(NONCE, AAD, &mut buf).unwrap(); // buf = X
        let t_y2 = key.seal(NONCE, AAD, &mut buf).unwrap(); // buf = Y again
        assert_eq!(t_y, t_y2);
        OpenFixture {
            buf,
            tags: [t_y, t_x],
            next: 0,
        }
    }

    /// The buffer and the tag that opens it now; flips the state for next time.
    fn step(&mut self) -> (&mut [u8], [u8; TAG_LEN]) {
        let tag = self.tags[self.next];
        self.next ^= 1;
        (&mut self.buf, tag)
    }
}

fn open(c: &mut Criterion) {
    let ring_key = ChunkKey::new(Backend::Ring, &KEY).unwrap();
    let awslc_key = ChunkKey::new(Backend::AwsLc, &KEY).unwrap();
    let raw = raw_ring_key();
    let mut g = configure(c, "open");
    for n in SIZES {
        g.throughput(Throughput::Bytes(n as u64));
        let mut fx = OpenFixture::new(n);
        g.bench_with_input(BenchmarkId::new("raw-ring", n), &n, |b, _| {
            b.iter(|| {
                let (buf, tag) = fx.step();
                raw.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(NONCE),
                    Aad::from(AAD),
                    Tag::from(tag),
                    black_box(buf),
                    0..,
                )
                .unwrap();
            });
        });
        // The fixture's state stays consistent whatever the number of iterations (every
        // open succeeds and flips it), so all three implementations share it.
        for (id, key) in [("ring", &ring_key), ("aws-lc", &awslc_key)] {
            g.bench_with_input(BenchmarkId::new(id, n), &n, |b, _| {
                b.iter(|| {
                    let (buf, tag) = fx.step();
                    key.open(NONCE, AAD, black_box(buf), &tag).unwrap();
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, seal, open);
criterion_main!(benches);
