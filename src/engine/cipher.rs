//! The cipher stage: seal or open every chunk of one window in parallel on a rayon pool.
//!
//! A window's chunks are independent AEAD messages, so they split across threads with no
//! coordination; per-group keys are derived once per window. A chunk that fails to open is
//! reported by index and its buffer contents are garbage that the caller must not write.

use std::ops::Range;

use rayon::prelude::*;

use super::observe::{timed, Observer, Stage};
use super::EngineError;
use crate::crypto::{chunk_nonce, Backend, ChunkKey, VolumeKeys};
use crate::format::{chunk_aad, Geometry, TagEntry, TagKind};

/// How to transform the chunks of a window.
pub(crate) struct WindowCipher<'k> {
    pub geometry: Geometry,
    /// The UUID bound into the AAD of the chunks being opened.
    pub uuid: [u8; 16],
    /// The UUID bound into the AAD of the chunks being sealed (differs from `uuid` only when
    /// rekeying into a new volume).
    pub dst_uuid: [u8; 16],
    pub backend: Backend,
    /// Chunks below this index are in the "below" source state, the rest in "above".
    pub split: u64,
    /// Source keys for chunks below `split` (`None`: plaintext).
    pub src_below: Option<&'k VolumeKeys>,
    /// Source keys for chunks at or above `split` (`None`: plaintext).
    pub src_above: Option<&'k VolumeKeys>,
    /// Keys to seal with (`None`: leave plaintext).
    pub dst: Option<&'k VolumeKeys>,
}

/// The result of one window.
pub(crate) struct WindowOut {
    /// New tag entries, one per chunk (empty when the output is plaintext).
    pub tags: Vec<TagEntry>,
    /// Chunks that failed authentication.
    pub bad: Vec<u64>,
}

struct GroupKeys {
    keys: Vec<(u64, ChunkKey)>,
}

impl GroupKeys {
    fn new(
        k: Option<&VolumeKeys>,
        g: &Geometry,
        chunks: &Range<u64>,
        b: Backend,
    ) -> Result<Self, EngineError> {
        let mut keys = Vec::new();
        if let (Some(k), false) = (k, chunks.is_empty()) {
            for group in g.group(chunks.start)..=g.group(chunks.end - 1) {
                keys.push((group, k.data_key(group, b)?));
            }
        }
        Ok(GroupKeys { keys })
    }

    fn get(&self, group: u64) -> Option<&ChunkKey> {
        self.keys.iter().find(|(g, _)| *g == group).map(|(_, k)| k)
    }
}

impl WindowCipher<'_> {
    /// Transforms `buf`, which holds the data of `chunks`, in place. `src_tags` are the
    /// stored entries of those chunks (ignored for plaintext sources); sealing uses nonce
    /// counters `ctr_start..`.
    pub fn run(
        &self,
        pool: &rayon::ThreadPool,
        chunks: Range<u64>,
        buf: &mut [u8],
        src_tags: &[Option<TagEntry>],
        ctr_start: u64,
        observer: Option<&dyn Observer>,
    ) -> Result<WindowOut, EngineError> {
        let g = &self.geometry;
        let src = if chunks.start < self.split {
            self.src_below
        } else {
            self.src_above
        };
        if chunks.start < self.split && chunks.end > self.split {
            return Err(EngineError::Internal("window straddles the progress mark"));
        }
        let open_keys = GroupKeys::new(src, g, &chunks, self.backend)?;
        let seal_keys = GroupKeys::new(self.dst, g, &chunks, self.backend)?;
        let cs =
            usize::try_from(g.chunk_size()).map_err(|_| EngineError::Internal("chunk size"))?;
        let results: Vec<Result<Option<TagEntry>, u64>> = pool.install(|| {
            let every = (16 << 10) / cs.max(1);
            let every = every.max(1);
            buf.par_chunks_mut(cs)
                .enumerate()
                .map(|(j, data)| {
                    let bytes = data.len() as u64;
                    // Chunks under 16 KiB are sampled (one in `every`): two clock reads per
                    // 4 KiB seal would cost several percent of it.
                    let obs = observer.filter(|_| j % every == 0);
                    timed(obs, Stage::Chunk, bytes, || {
                        let i = chunks.start + j as u64;
                        let (_, len) = g.chunk(i);
                        let group = g.group(i);
                        if let Some(k) = src {
                            let key = open_keys.get(group).ok_or(i)?;
                            let entry = src_tags.get(j).copied().flatten().ok_or(i)?;
                            if entry.kind != TagKind::Sealed || entry.key_ver != k.version() {
                                return Err(i);
                            }
                            let aad = chunk_aad(&self.uuid, k.version(), i, len, g.chunk_log2);
                            key.open(chunk_nonce(entry.nonce_ctr), &aad, data, &entry.tag)
                                .map_err(|_| i)?;
                        }
                        let Some(k) = self.dst else { return Ok(None) };
                        let key = seal_keys.get(group).ok_or(i)?;
                        let ctr = ctr_start + j as u64;
                        let aad = chunk_aad(&self.dst_uuid, k.version(), i, len, g.chunk_log2);
                        let tag = key.seal(chunk_nonce(ctr), &aad, data).map_err(|_| i)?;
                        Ok(Some(TagEntry {
                            tag,
                            nonce_ctr: ctr,
                            key_ver: k.version(),
                            kind: TagKind::Sealed,
                        }))
                    })
                })
                .collect()
        });
        let mut out = WindowOut {
            tags: Vec::new(),
            bad: Vec::new(),
        };
        #[cfg(test)]
        if let Some(k) = self.dst {
            let kcv = k.kcv()?;
            for r in results.iter().flatten().flatten() {
                nonce_audit::record(kcv, r.nonce_ctr);
            }
        }
        for r in results {
            match r {
                Ok(Some(t)) => out.tags.push(t),
                Ok(None) => {}
                Err(i) => out.bad.push(i),
            }
        }
        Ok(out)
    }
}

/// Test builds record every (data key, nonce) pair sealed, across all tests of the binary;
/// the crash tests assert that no pair is ever used twice. The data key is identified by its
/// key check value (unique per data key, volume and version); per-group keys derive from it
/// and the nonce counter is volume-wide, so the counter alone identifies the nonce.
#[cfg(test)]
pub(crate) mod nonce_audit {
    use std::collections::HashSet;
    use std::sync::Mutex;

    /// A sealing: the data key's check value and the nonce counter.
    pub type Seal = ([u8; 16], u64);

    static SEEN: Mutex<Option<HashSet<Seal>>> = Mutex::new(None);
    static REUSED: Mutex<Vec<Seal>> = Mutex::new(Vec::new());

    pub fn record(kcv: [u8; 16], ctr: u64) {
        let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.get_or_insert_with(HashSet::new).insert((kcv, ctr)) {
            REUSED
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((kcv, ctr));
        }
    }

    /// Pairs sealed more than once so far, and every pair recorded.
    pub fn report() -> (Vec<Seal>, Vec<Seal>) {
        let seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
        let all = seen
            .as_ref()
            .map_or(Vec::new(), |s| s.iter().copied().collect());
        (
            REUSED.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            all,
        )
    }
}
