//! An in-memory device for tests, with a crash simulator in the style of redb's
//! `CrashBackend`: it keeps a *live* image (what reads see) and a *durable* image (what
//! survives a crash). `sync` copies live to durable, until [`MemIo::freeze_after`] syncs,
//! after which syncs still succeed but stop making anything durable: the state a machine is in
//! when the power goes out right after sync n. [`MemIo::crash_image`] is what a reboot sees.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{check_range, BlockIo, EngineKind, IoError};

/// An in-memory, crash-simulating block device.
#[derive(Debug)]
pub struct MemIo {
    live: Mutex<Vec<u8>>,
    durable: Mutex<Vec<u8>>,
    syncs: AtomicU64,
    freeze_after: AtomicU64,
}

fn lock(m: &Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    // Byte copies cannot leave the image half-updated in a way a test cares about.
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

    /// What would survive a crash now.
    pub fn crash_image(&self) -> Vec<u8> {
        lock(&self.durable).clone()
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
        Ok(())
    }

    fn sync(&self) -> Result<(), IoError> {
        let n = self.syncs.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= self.freeze_after.load(Ordering::SeqCst) {
            let live = lock(&self.live).clone();
            *lock(&self.durable) = live;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freeze_keeps_last_durable_state() {
        let m = MemIo::new(8);
        m.write_at(&[1], 0).unwrap();
        m.sync().unwrap();
        m.freeze_after(1);
        m.write_at(&[2], 1).unwrap();
        m.sync().unwrap();
        assert_eq!(m.snapshot()[..2], [1, 2]);
        assert_eq!(m.crash_image()[..2], [1, 0]);
        assert!(m.write_at(&[0; 2], 7).is_err());
    }
}
