//! The `cipher` workload: AES-256-GCM in memory only, like `cryptsetup benchmark`. A buffer
//! (an engine window, 32 MiB, or the size if smaller) is allocated and pre-faulted once and
//! reused by every case; a repetition seals `size` bytes chunk by chunk over it, on a rayon
//! pool of `threads`, each chunk a separate AEAD message with its own nonce and the engine's
//! 42-byte AAD, as in the engine's cipher stage.
//!
//! Through the harness (`ring`, `aws-lc`), every chunk is timed into the `chunk` histogram
//! and every pass over the buffer into `cipher`. The `raw` variant calls `ring::aead`
//! directly in the same loop with no timing at all: the baseline the harness overhead is
//! measured against (one run, same buffer, same pool). It is the one place outside `crypto`
//! that names `ring::aead`, on purpose: the baseline must not go through our wrapper.

use std::time::Instant;

use rayon::prelude::*;

use super::error::BenchError;
use super::model::Rep;
use super::runner::observe::{micros, Recorder};
use super::spec::{Crypto, CIPHER_BUFFER};
use crate::crypto::{chunk_nonce, random_bytes, Backend, ChunkKey, CryptoError};
use crate::engine::{Observer, Stage};
use crate::format::chunk_aad;

/// One cipher case.
#[derive(Debug, Clone, Copy)]
pub struct CipherCase {
    /// Threads of the pool.
    pub threads: usize,
    /// Chunk size.
    pub chunk_size: u64,
    /// Who seals.
    pub crypto: Crypto,
    /// Bytes sealed per repetition.
    pub size: u64,
    /// Buffer size (`None`: min(size, 32 MiB)); rounded up to whole chunks.
    pub buffer: Option<u64>,
}

/// The buffer every cipher case reuses.
#[derive(Default)]
pub struct CipherBench {
    buf: Vec<u8>,
}

enum Sealer {
    Key(ChunkKey),
    // Boxed like ChunkKey's ring key (its tables are inline).
    Raw(Box<ring::aead::LessSafeKey>),
}

impl Sealer {
    fn seal(&self, ctr: u64, aad: &[u8], data: &mut [u8]) -> Result<(), CryptoError> {
        match self {
            Sealer::Key(k) => k.seal(chunk_nonce(ctr), aad, data).map(drop),
            Sealer::Raw(k) => k
                .seal_in_place_separate_tag(
                    ring::aead::Nonce::assume_unique_for_key(chunk_nonce(ctr)),
                    ring::aead::Aad::from(aad),
                    data,
                )
                .map(drop)
                .map_err(|_| CryptoError::Refused),
        }
    }
}

/// A case ready to run: buffer, pool and key.
pub struct Prepared<'b> {
    buf: &'b mut [u8],
    pool: rayon::ThreadPool,
    sealer: Sealer,
    timed: bool,
    case: CipherCase,
    uuid: [u8; 16],
    /// Next nonce counter (nonces never repeat within a case).
    ctr: u64,
}

impl CipherBench {
    /// An empty bench; the buffer grows on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sizes (and on growth pre-faults) the buffer and builds the pool and a fresh key.
    pub fn prepare(&mut self, case: CipherCase) -> Result<Prepared<'_>, BenchError> {
        let cs = case.chunk_size.max(1);
        let want = case.buffer.unwrap_or(case.size.min(CIPHER_BUFFER)).max(1);
        let len = usize::try_from(want.div_ceil(cs) * cs)
            .map_err(|_| BenchError::Spec(format!("buffer of {want} bytes is too large")))?;
        if self.buf.len() < len {
            // A non-zero fill touches every page now, not inside a measured repetition.
            self.buf = vec![0x5a; len];
        }
        let mut key = [0u8; 32];
        random_bytes(&mut key)?;
        let sealer = match case.crypto {
            Crypto::Backend(b) => Sealer::Key(ChunkKey::new(b, &key)?),
            Crypto::Raw => {
                let k = ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &key)
                    .map_err(|_| CryptoError::Refused)?;
                Sealer::Raw(Box::new(ring::aead::LessSafeKey::new(k)))
            }
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(case.threads.max(1))
            .thread_name(|i| format!("volcrypt-bench-cipher-{i}"))
            .build()
            .map_err(|e| BenchError::Measure(format!("starting the cipher pool: {e}")))?;
        let mut uuid = [0u8; 16];
        random_bytes(&mut uuid)?;
        Ok(Prepared {
            buf: &mut self.buf[..len],
            pool,
            sealer,
            timed: case.crypto != Crypto::Raw,
            case,
            uuid,
            ctr: 0,
        })
    }
}

impl Prepared<'_> {
    /// The backend name as reported (`raw` for the baseline).
    pub fn backend(&self) -> &'static str {
        match self.case.crypto {
            Crypto::Backend(Backend::Ring) => "ring",
            Crypto::Backend(Backend::AwsLc) => "aws-lc",
            Crypto::Raw => "raw",
        }
    }

    /// One repetition: seals `size` bytes, recording into `rec`.
    ///
    /// Each pass splits the buffer into a few runs of whole chunks per thread; a run seals
    /// its chunks in order and, through the harness, reads the clock once per chunk (the
    /// end of one chunk is the start of the next) and hands the latencies to `rec` in
    /// batches, so a 4 KiB chunk pays one clock read and a store, not a lock.
    pub fn rep(&mut self, rec: &Recorder) -> Result<Rep, BenchError> {
        let cs = usize::try_from(self.case.chunk_size.max(1))
            .map_err(|_| BenchError::Spec("chunk size too large".into()))?;
        let log2 = u8::try_from(cs.trailing_zeros()).unwrap_or(0);
        let runs = self.case.threads.max(1) * RUNS_PER_THREAD;
        let mut left = self.case.size;
        let mut ops = 0u64;
        let start = Instant::now();
        while left > 0 {
            let n = usize::try_from(left.min(self.buf.len() as u64)).unwrap_or(self.buf.len());
            let chunks = n.div_ceil(cs);
            let per_run = chunks.div_ceil(runs).max(1);
            let data = &mut self.buf[..n];
            let (sealer, uuid, base, timed) = (&self.sealer, &self.uuid, self.ctr, self.timed);
            let pass = Instant::now();
            self.pool.install(|| {
                data.par_chunks_mut(per_run * cs)
                    .enumerate()
                    .try_for_each(|(r, run)| {
                        let first = base + (r * per_run) as u64;
                        seal_run(sealer, uuid, log2, first, run, cs, timed.then_some(rec))
                    })
            })?;
            if timed {
                rec.record(Stage::Cipher, pass.elapsed(), n as u64);
            } else {
                rec.count(n as u64);
            }
            self.ctr += chunks as u64;
            ops += chunks as u64;
            left -= n as u64;
        }
        Ok(Rep {
            bytes: self.case.size,
            ops,
            secs: start.elapsed().as_secs_f64(),
        })
    }
}

/// Runs of chunks per thread and pass (a few, so a slow thread does not hold up the pass).
const RUNS_PER_THREAD: usize = 4;
/// Chunk latencies handed to the recorder at once.
const BATCH: usize = 64;

/// Chunks smaller than this are timed in groups of this many bytes, each chunk of a group
/// recorded at the group's mean: a clock read costs ~37 ns here, 6-8 % of a ~600 ns 4 KiB
/// seal when read per chunk, and with 16 KiB groups the harness still measured 4.4 % slower
/// than the raw loop at 4 KiB; with 64 KiB groups, 2.2-2.3 %. Microsecond histograms cannot
/// resolve a 4 KiB seal anyway.
const TIMED_BYTES: usize = 64 << 10;

/// Seals the chunks of `run` (chunk indexes from `first`) in order; with `rec`, times each
/// (or each group of chunks below [`TIMED_BYTES`]).
fn seal_run(
    sealer: &Sealer,
    uuid: &[u8; 16],
    log2: u8,
    first: u64,
    run: &mut [u8],
    cs: usize,
    rec: Option<&Recorder>,
) -> Result<(), CryptoError> {
    let mut lat = [0u64; BATCH];
    let (mut k, mut bytes) = (0usize, 0u64);
    let group = TIMED_BYTES.div_ceil(cs).clamp(1, BATCH);
    let (mut in_group, mut group_bytes, total) = (0usize, 0u64, run.len());
    let mut t0 = rec.map(|_| Instant::now());
    for (j, chunk) in run.chunks_mut(cs).enumerate() {
        let idx = first + j as u64;
        let len = chunk.len();
        let aad = chunk_aad(uuid, 1, idx, u32::try_from(len).unwrap_or(u32::MAX), log2);
        sealer.seal(idx, &aad, chunk)?;
        let Some(r) = rec else { continue };
        in_group += 1;
        group_bytes += len as u64;
        let last = (j + 1) * cs >= total;
        if in_group < group && !last {
            continue;
        }
        if let Some(t) = t0.as_mut() {
            let now = Instant::now();
            let each = now.duration_since(*t) / u32::try_from(in_group).unwrap_or(1);
            *t = now;
            if k + in_group > BATCH {
                r.record_us(Stage::Chunk, &lat[..k], bytes);
                (k, bytes) = (0, 0);
            }
            lat[k..k + in_group].fill(micros(each));
            k += in_group;
            bytes += group_bytes;
            (in_group, group_bytes) = (0, 0);
        }
    }
    if let (Some(r), true) = (rec, k > 0) {
        r.record_us(Stage::Chunk, &lat[..k], bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn case(crypto: Crypto) -> CipherCase {
        CipherCase {
            threads: 2,
            chunk_size: 4096,
            crypto,
            size: 1 << 20,
            buffer: Some(256 << 10),
        }
    }

    #[test]
    fn seals_every_byte_and_times_every_chunk() {
        let mut bench = CipherBench::new();
        let mut p = bench.prepare(case(Crypto::Backend(Backend::Ring))).unwrap();
        let rec = Recorder::new(Stage::Chunk);
        let before = p.buf.to_vec();
        let rep = p.rep(&rec).unwrap();
        assert_eq!((rep.bytes, rep.ops), (1 << 20, 256));
        assert_ne!(p.buf.to_vec(), before, "the buffer was sealed in place");
        assert_eq!(rec.bytes(), 1 << 20);
        let mut h = BTreeMap::new();
        rec.drain_into(&mut h).unwrap();
        assert_eq!(h["chunk"].len(), 256);
        assert_eq!(h["cipher"].len(), 4, "one pass per 256 KiB buffer");
        // Nonces continue across repetitions.
        p.rep(&rec).unwrap();
        assert_eq!(p.ctr, 512);
    }

    #[test]
    fn raw_baseline_is_not_timed_and_matches_ring() {
        let mut bench = CipherBench::new();
        let mut p = bench.prepare(case(Crypto::Raw)).unwrap();
        assert_eq!(p.backend(), "raw");
        let rec = Recorder::new(Stage::Chunk);
        let rep = p.rep(&rec).unwrap();
        assert_eq!(rep.ops, 256);
        assert_eq!(rec.bytes(), 1 << 20, "counted for the time series");
        let mut h = BTreeMap::new();
        rec.drain_into(&mut h).unwrap();
        assert!(h.is_empty(), "no latencies recorded: {:?}", h.keys());
        // Same key, nonce and AAD: raw ring and ChunkKey seal identically.
        let key = [7u8; 32];
        let raw = Sealer::Raw(Box::new(ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &key).unwrap(),
        )));
        let ours = Sealer::Key(ChunkKey::new(Backend::Ring, &key).unwrap());
        let (mut a, mut b) = (vec![1u8; 100], vec![1u8; 100]);
        raw.seal(9, b"aad", &mut a).unwrap();
        ours.seal(9, b"aad", &mut b).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn partial_last_chunk_and_pass() {
        let mut bench = CipherBench::new();
        let mut c = case(Crypto::Backend(Backend::AwsLc));
        c.size = 10_000;
        c.buffer = None;
        let mut p = bench.prepare(c).unwrap();
        assert_eq!(p.buf.len(), 12_288, "rounded up to whole chunks");
        let rep = p.rep(&Recorder::new(Stage::Chunk)).unwrap();
        assert_eq!((rep.bytes, rep.ops), (10_000, 3));
    }
}
