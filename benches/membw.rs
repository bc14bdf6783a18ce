//! Memory-bandwidth roof for in-place encryption: how fast can this machine read, modify and
//! write back a large buffer, and how close does a raw ring AES-256-GCM seal loop get to it?
//!
//! * `rmw_gbps`: `x ^= k` over the buffer as u64 words (read + write of every byte, the
//!   memory traffic of in-place encryption with no compute), 1 and 2 threads.
//! * `ring_seal_64k_gbps`: `ring::aead::LessSafeKey::seal_in_place_separate_tag` over 64 KiB
//!   chunks of the same buffer, 1 and 2 threads.
//!
//! The buffer (default 1 GiB, `MEMBW_MIB` to change) is allocated and pre-faulted once
//! before any timing: first-touch page faults are very slow on the VM this was written for.
//! Each figure is the median of 5 timed passes after 1 untimed warm-up pass. Threads come
//! from a dedicated rayon pool per thread count, work split with `par_chunks_mut`.
//! GB/s = 1e9 bytes of buffer processed per second.
//!
//! Prints one JSON object on stdout:
//! `{"rmw_gbps":{"1":..,"2":..},"ring_seal_64k_gbps":{"1":..,"2":..},"buffer_mib":..}`.
//! Run with `cargo bench --bench membw`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use rayon::prelude::*;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};

const PASSES: usize = 5;
const THREADS: [usize; 2] = [1, 2];
/// Work unit handed to rayon for the RMW pass (1 MiB): coarse enough that scheduling is
/// free, fine enough that two threads balance.
const RMW_SPLIT: usize = 1 << 20;
const SEAL_CHUNK: usize = 64 << 10;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `pass` once untimed, then `PASSES` times timed; returns the median GB/s.
fn measure(bytes: usize, mut pass: impl FnMut()) -> f64 {
    pass();
    let rates = (0..PASSES)
        .map(|_| {
            let t = Instant::now();
            pass();
            bytes as f64 / t.elapsed().as_secs_f64() / 1e9
        })
        .collect();
    median(rates)
}

/// `x ^= k` over every u64 word of `part`.
fn xor_words(part: &mut [u8], k: u64) {
    for w in part.chunks_exact_mut(8) {
        let x = u64::from_ne_bytes(w.try_into().unwrap()) ^ k;
        w.copy_from_slice(&x.to_ne_bytes());
    }
}

fn main() {
    let mib: usize = std::env::var("MEMBW_MIB")
        .ok()
        .map(|s| {
            s.trim()
                .parse()
                .expect("MEMBW_MIB must be a whole number of MiB")
        })
        .unwrap_or(1024);
    assert!(mib > 0, "MEMBW_MIB must be positive");
    let bytes = mib << 20;

    // Allocate and pre-fault with non-zero data (calloc'd pages would be lazily mapped).
    let t = Instant::now();
    let mut buf = vec![0u8; bytes];
    buf.par_chunks_mut(RMW_SPLIT)
        .enumerate()
        .for_each(|(i, c)| {
            c.iter_mut()
                .enumerate()
                .for_each(|(j, b)| *b = (i as u8) ^ (j as u8) ^ 0x5a);
        });
    eprintln!(
        "membw: {mib} MiB buffer pre-faulted in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[0x42; 32]).unwrap());
    let mut rmw = Vec::new();
    let mut seal = Vec::new();
    for threads in THREADS {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut k = 0x9e37_79b9_7f4a_7c15_u64;
        let r = measure(bytes, || {
            k = k.rotate_left(1);
            let k = k;
            pool.install(|| {
                buf.par_chunks_mut(RMW_SPLIT).for_each(|c| xor_words(c, k));
            });
            black_box(&mut buf);
        });
        eprintln!("membw: rmw {threads}T {r:.2} GB/s");
        rmw.push((threads, r));

        let s = measure(bytes, || {
            pool.install(|| {
                buf.par_chunks_mut(SEAL_CHUNK)
                    .enumerate()
                    .for_each(|(i, c)| {
                        // Chunk index as the nonce: unique within a pass; passes repeat nonces,
                        // which is acceptable only because this is a benchmark.
                        let mut n = [0u8; 12];
                        n[4..].copy_from_slice(&(i as u64).to_be_bytes());
                        let tag = key
                            .seal_in_place_separate_tag(
                                Nonce::assume_unique_for_key(n),
                                Aad::empty(),
                                c,
                            )
                            .unwrap();
                        let _ = black_box(tag);
                    });
            });
            black_box(&mut buf);
        });
        eprintln!("membw: ring seal 64K {threads}T {s:.2} GB/s");
        seal.push((threads, s));
    }

    let obj = |v: &[(usize, f64)]| {
        let items: Vec<String> = v.iter().map(|(t, g)| format!("\"{t}\":{g:.3}")).collect();
        format!("{{{}}}", items.join(","))
    };
    println!(
        "{{\"rmw_gbps\":{},\"ring_seal_64k_gbps\":{},\"buffer_mib\":{mib}}}",
        obj(&rmw),
        obj(&seal)
    );
}
