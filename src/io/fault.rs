//! Fault injection for tests: [`FaultIo`] wraps any [`BlockIo`] and fails chosen calls with
//! errors shaped like the OS's (`EIO`), by call number ("the 3rd write") or by byte range
//! ("every read touching 4096..8192"), once or from then on. An injected sync failure
//! poisons the handle exactly as the real engines do after a failed `fdatasync`/`msync`
//! (fsyncgate): every later call fails with [`IoError::Poisoned`].

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{BlockIo, EngineKind, IoError, MappedWindow};

/// The kinds of [`BlockIo`] call a fault can target and [`FaultIo`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IoOp {
    /// `read_at`.
    Read,
    /// `write_at`.
    Write,
    /// `sync` and `sync_range`.
    Sync,
}

impl IoOp {
    fn index(self) -> usize {
        match self {
            IoOp::Read => 0,
            IoOp::Write => 1,
            IoOp::Sync => 2,
        }
    }
}

/// When a fault fires.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Trigger {
    /// On call number n of the kind (1-based).
    Nth(u64),
    /// On calls whose byte range overlaps this one.
    Range(Range<u64>),
}

/// One fault: which calls fail, and whether it keeps firing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    op: IoOp,
    trigger: Trigger,
    sticky: bool,
}

impl Fault {
    /// Fails call number `n` (1-based, counted from the wrapper's creation) of kind `op`;
    /// [`Fault::sticky`] makes it fail that call and every later one. `n == 0` never fires.
    pub fn nth(op: IoOp, n: u64) -> Self {
        Fault {
            op,
            trigger: Trigger::Nth(n),
            sticky: false,
        }
    }

    /// Fails the first call of kind `op` whose bytes overlap `range`; [`Fault::sticky`] makes
    /// it fail every such call. A call touches `offset..offset+len`; `sync` touches every byte,
    /// and a zero-length call touches none.
    pub fn range(op: IoOp, range: Range<u64>) -> Self {
        Fault {
            op,
            trigger: Trigger::Range(range),
            sticky: false,
        }
    }

    /// Keeps the fault firing instead of firing once.
    pub fn sticky(mut self) -> Self {
        self.sticky = true;
        self
    }

    /// Whether call number `n` of kind `op` over `offset..offset+len` fires this fault.
    fn fires(&self, op: IoOp, n: u64, offset: u64, len: u64) -> bool {
        if op != self.op {
            return false;
        }
        match &self.trigger {
            Trigger::Nth(k) => *k != 0 && (n == *k || (self.sticky && n > *k)),
            Trigger::Range(r) => len > 0 && offset < r.end && r.start < offset.saturating_add(len),
        }
    }
}

/// A configured fault and whether a one-shot fault has fired.
#[derive(Debug)]
struct Armed {
    fault: Fault,
    spent: bool,
}

/// A [`BlockIo`] that forwards to an inner engine except where a configured [`Fault`] fires.
///
/// An injected failure does not reach the inner engine: a failed write writes nothing, and a
/// failed sync makes nothing durable (the pessimistic outcome). Read and write failures are
/// [`IoError::Io`] and sync failures [`IoError::Sync`], each carrying `EIO`. After a sync
/// failure (injected, or reported by the inner engine) the wrapper is poisoned. It never lends
/// mapped windows, so every byte goes through `read_at`/`write_at`, where faults apply.
///
/// ```
/// # use std::sync::Arc;
/// # use volcrypt::io::{BlockIo, FaultIo, IoOp, MemIo};
/// let io = FaultIo::new(Arc::new(MemIo::new(16384)))
///     .fail_nth(IoOp::Write, 3)
///     .fail_range(IoOp::Read, 4096..8192);
/// assert!(io.read_at(&mut [0; 16], 4100).is_err());
/// assert!(io.read_at(&mut [0; 16], 0).is_ok());
/// ```
pub struct FaultIo {
    inner: Arc<dyn BlockIo>,
    faults: Mutex<Vec<Armed>>,
    calls: [AtomicU64; 3],
    injected: AtomicU64,
    poisoned: AtomicBool,
}

/// The error the OS gives for a failed device access.
fn eio() -> std::io::Error {
    std::io::Error::from_raw_os_error(libc::EIO)
}

impl FaultIo {
    /// Wraps `inner` with no faults configured: a pure pass-through that counts calls.
    pub fn new(inner: Arc<dyn BlockIo>) -> Self {
        FaultIo {
            inner,
            faults: Mutex::new(Vec::new()),
            calls: Default::default(),
            injected: AtomicU64::new(0),
            poisoned: AtomicBool::new(false),
        }
    }

    /// Adds `fault`.
    pub fn with(self, fault: Fault) -> Self {
        self.arm(fault);
        self
    }

    /// Fails call number `n` (1-based) of kind `op`, once.
    pub fn fail_nth(self, op: IoOp, n: u64) -> Self {
        self.with(Fault::nth(op, n))
    }

    /// Fails call number `n` (1-based) of kind `op` and every later one.
    pub fn fail_from(self, op: IoOp, n: u64) -> Self {
        self.with(Fault::nth(op, n).sticky())
    }

    /// Fails every call of kind `op` that touches `range`.
    pub fn fail_range(self, op: IoOp, range: Range<u64>) -> Self {
        self.with(Fault::range(op, range).sticky())
    }

    /// Fails the first call of kind `op` that touches `range`, once.
    pub fn fail_range_once(self, op: IoOp, range: Range<u64>) -> Self {
        self.with(Fault::range(op, range))
    }

    /// Adds `fault` to a wrapper already in use (e.g. shared behind an `Arc`).
    pub fn arm(&self, fault: Fault) {
        self.faults().push(Armed {
            fault,
            spent: false,
        });
    }

    /// Removes every configured fault (poisoning, if any, stays).
    pub fn disarm(&self) {
        self.faults().clear();
    }

    /// Calls of kind `op` so far, failed ones included.
    pub fn calls(&self, op: IoOp) -> u64 {
        self.calls[op.index()].load(Ordering::SeqCst)
    }

    /// Failures injected so far (not counting refusals of a poisoned handle).
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    /// Whether a failed sync has poisoned this handle.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    /// The wrapped engine.
    pub fn inner(&self) -> &Arc<dyn BlockIo> {
        &self.inner
    }

    fn faults(&self) -> MutexGuard<'_, Vec<Armed>> {
        // Push, clear and flag updates only: a panic cannot leave the list inconsistent.
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn live(&self) -> Result<(), IoError> {
        if self.poisoned.load(Ordering::Acquire) {
            Err(IoError::Poisoned)
        } else {
            Ok(())
        }
    }

    /// Counts a call of kind `op` over `offset..offset+len`, then says whether it is to fail:
    /// refused if poisoned, `true` if a fault fires (a one-shot fault is spent).
    fn enter(&self, op: IoOp, offset: u64, len: u64) -> Result<bool, IoError> {
        let n = self.calls[op.index()].fetch_add(1, Ordering::SeqCst) + 1;
        self.live()?;
        let mut faults = self.faults();
        let hit = faults
            .iter_mut()
            .find(|a| !a.spent && a.fault.fires(op, n, offset, len));
        let Some(armed) = hit else {
            return Ok(false);
        };
        armed.spent = !armed.fault.sticky;
        self.injected.fetch_add(1, Ordering::SeqCst);
        Ok(true)
    }

    fn sync_with(
        &self,
        offset: u64,
        len: u64,
        sync: impl FnOnce(&dyn BlockIo) -> Result<(), IoError>,
    ) -> Result<(), IoError> {
        if self.enter(IoOp::Sync, offset, len)? {
            self.poisoned.store(true, Ordering::Release);
            return Err(IoError::Sync(eio()));
        }
        sync(self.inner.as_ref()).inspect_err(|e| {
            if matches!(e, IoError::Sync(_) | IoError::Poisoned) {
                self.poisoned.store(true, Ordering::Release);
            }
        })
    }
}

impl fmt::Debug for FaultIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultIo")
            .field("inner", &self.inner.kind())
            .field("faults", &*self.faults())
            .field("reads", &self.calls(IoOp::Read))
            .field("writes", &self.calls(IoOp::Write))
            .field("syncs", &self.calls(IoOp::Sync))
            .field("injected", &self.injected())
            .field("poisoned", &self.is_poisoned())
            .finish()
    }
}

impl BlockIo for FaultIo {
    fn kind(&self) -> EngineKind {
        self.inner.kind()
    }

    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), IoError> {
        if self.enter(IoOp::Read, offset, buf.len() as u64)? {
            return Err(IoError::Io {
                op: "read",
                offset,
                len: buf.len(),
                source: eio(),
            });
        }
        self.inner.read_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<(), IoError> {
        if self.enter(IoOp::Write, offset, buf.len() as u64)? {
            return Err(IoError::Io {
                op: "write",
                offset,
                len: buf.len(),
                source: eio(),
            });
        }
        self.inner.write_at(buf, offset)
    }

    fn sync(&self) -> Result<(), IoError> {
        self.sync_with(0, u64::MAX, |io| io.sync())
    }

    fn sync_range(&self, offset: u64, len: u64) -> Result<(), IoError> {
        self.sync_with(offset, len, |io| io.sync_range(offset, len))
    }

    fn map_window(&self, _offset: u64, _len: usize) -> Result<Option<MappedWindow<'_>>, IoError> {
        self.live()?;
        Ok(None)
    }

    fn prefetch(&self, offset: u64, len: u64) {
        self.inner.prefetch(offset, len);
    }
}

#[cfg(test)]
#[path = "fault_tests.rs"]
mod tests;
