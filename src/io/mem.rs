//! An in-memory device for tests, with a crash simulator in the style of redb's
//! `CrashBackend`: it keeps a *live* image (what reads see) and a *durable* image (what
//! survives a crash). `sync` copies live to durable, until [`MemIo::freeze_after`] syncs,
//! after which syncs still succeed but stop making anything durable: the state a machine is in
//! when the power goes out right after sync n. [`MemIo::crash_image`] is what a reboot sees.
//!
//! Writes issued since the last *effective* sync (one that made data durable) are kept as
//! *pending* writes: they were in flight when the power went out. [`MemIo::crash_image_torn`]
//! models torn writes: the durable image with each pending write landed only in part, unit by
//! unit (a sector, a page), chosen by a seeded PRNG.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::{check_range, BlockIo, EngineKind, IoError};

/// An in-memory, crash-simulating block device.
///
/// Locks are always taken in the order live, durable, pending.
#[derive(Debug)]
pub struct MemIo {
    live: Mutex<Vec<u8>>,
    durable: Mutex<Vec<u8>>,
    /// Writes since the last effective sync, in issue order: (byte offset, bytes).
    pending: Mutex<Vec<(usize, Vec<u8>)>>,
    syncs: AtomicU64,
    freeze_after: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Byte copies and pushes cannot leave the state half-updated in a way a test cares about.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemIo {
    /// A zero-filled device of `size` bytes.
    pub fn new(size: usize) -> Self {
        Self::from_vec(vec![0u8; size])
    }

    /// A device holding `data` (already durable).
    pub fn from_vec(data: Vec<u8>) -> Self {
        MemIo {
            durable: Mutex::new(data.clone()),
            live: Mutex::new(data),
            pending: Mutex::new(Vec::new()),
            syncs: AtomicU64::new(0),
            freeze_after: AtomicU64::new(u64::MAX),
        }
    }

    /// From now on, only the first `n` syncs (counted from creation) make data durable.
    pub fn freeze_after(&self, n: u64) {
        self.freeze_after.store(n, Ordering::SeqCst);
    }

    /// Number of syncs so far.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::SeqCst)
    }

    /// What reads currently return.
    pub fn snapshot(&self) -> Vec<u8> {
        lock(&self.live).clone()
    }

    /// What would survive a crash now, if no write in flight reached the medium.
    pub fn crash_image(&self) -> Vec<u8> {
        lock(&self.durable).clone()
    }

    /// Number of writes in flight at the crash: issued after the last sync that made data
    /// durable and before the first sync that did not (the one the power went out in).
    pub fn pending_writes(&self) -> usize {
        lock(&self.pending).len()
    }

    /// What would survive a crash now if the pending writes were torn: the durable image with
    /// every pending write applied in issue order, each `granularity`-byte unit of it
    /// (aligned to device offsets, as sectors are; 0 counts as 1) landing or not independently,
    /// by a splitmix64 stream seeded with `seed`. Every unit thus holds either the write's new
    /// bytes or what was there before it. The same seed gives the same image.
    pub fn crash_image_torn(&self, granularity: usize, seed: u64) -> Vec<u8> {
        let unit = granularity.max(1);
        let durable = lock(&self.durable);
        let pending = lock(&self.pending);
        let mut image = durable.clone();
        drop(durable);
        let mut coin = Coin::new(seed);
        for (off, data) in pending.iter() {
            let end = off + data.len();
            let mut at = *off;
            while at < end {
                let next = (at - at % unit).saturating_add(unit).min(end);
                if coin.flip() {
                    image[at..next].copy_from_slice(&data[at - off..next - off]);
                }
                at = next;
            }
        }
        image
    }
}

/// Fair coin flips from a splitmix64 stream, 64 per draw.
struct Coin {
    state: u64,
    bits: u64,
    left: u32,
}

impl Coin {
    fn new(seed: u64) -> Self {
        Coin {
            state: seed,
            bits: 0,
            left: 0,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn flip(&mut self) -> bool {
        if self.left == 0 {
            self.bits = self.next_u64();
            self.left = 64;
        }
        let b = self.bits & 1 == 1;
        self.bits >>= 1;
        self.left -= 1;
        b
    }
}

impl BlockIo for MemIo {
    fn kind(&self) -> EngineKind {
        EngineKind::Mem
    }

    fn len(&self) -> u64 {
        lock(&self.live).len() as u64
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), IoError> {
        let live = lock(&self.live);
        check_range("read", offset, buf.len(), live.len() as u64)?;
        let off = usize::try_from(offset).map_err(|_| IoError::OutOfRange {
            op: "read",
            offset,
            len: buf.len(),
            size: live.len() as u64,
        })?;
        buf.copy_from_slice(&live[off..off + buf.len()]);
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<(), IoError> {
        let mut live = lock(&self.live);
        check_range("write", offset, buf.len(), live.len() as u64)?;
        let off = usize::try_from(offset).map_err(|_| IoError::OutOfRange {
            op: "write",
            offset,
            len: buf.len(),
            size: live.len() as u64,
        })?;
        live[off..off + buf.len()].copy_from_slice(buf);
        // Only writes issued before the first sync that no longer takes effect can be in
        // flight at the crash: the power went out during that sync, so a caller waiting on
        // it never issued anything after it.
        let in_flight =
            self.syncs.load(Ordering::SeqCst) <= self.freeze_after.load(Ordering::SeqCst);
        if !buf.is_empty() && in_flight {
            lock(&self.pending).push((off, buf.to_vec()));
        }
        Ok(())
    }

    fn sync(&self) -> Result<(), IoError> {
        let n = self.syncs.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= self.freeze_after.load(Ordering::SeqCst) {
            let live = lock(&self.live);
            lock(&self.durable).clone_from(&live);
            // Drop the list's storage too: it may have held hundreds of MiB.
            *lock(&self.pending) = Vec::new();
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "mem_tests.rs"]
mod tests;
