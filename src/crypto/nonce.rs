//! Nonce construction and the per-volume nonce counter with durable reservation.
//!
//! `nonce = be32 1 || be64 ctr`, where `ctr` comes from one counter per volume. Before any
//! counter at or above the persisted high-water mark is used, the caller must persist a header
//! whose `nonce_hwm` covers it ([`NonceCounter::reservation_needed`] says when and to what).
//! On open the counter restarts at the persisted mark, so no nonce is ever used twice: not
//! across crashes, retries, rewrites or key versions. This module does no I/O; persisting the
//! reservation is the engine's job.

use super::NONCE_LEN;

/// How many counter values one durable reservation covers (2^24).
pub const NONCE_RESERVATION: u64 = 1 << 24;

/// The 96-bit GCM nonce for counter value `ctr`.
pub fn chunk_nonce(ctr: u64) -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    n[..4].copy_from_slice(&1u32.to_be_bytes());
    n[4..].copy_from_slice(&ctr.to_be_bytes());
    n
}

/// Hands out counter values, never past what has been durably reserved.
#[derive(Debug)]
pub struct NonceCounter {
    next: u64,
    reserved_until: u64,
}

impl NonceCounter {
    /// A counter resuming after a persisted high-water mark `hwm`: nothing is reserved yet,
    /// because any value below `hwm` may already have been used before a crash.
    pub fn resume(hwm: u64) -> Self {
        NonceCounter {
            next: hwm,
            reserved_until: hwm,
        }
    }

    /// The next value that would be handed out.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// `Some(new_hwm)` when taking `n` more values needs a reservation first. The caller
    /// persists a header with `nonce_hwm = new_hwm`, then calls [`Self::reserved`].
    pub fn reservation_needed(&self, n: u64) -> Option<u64> {
        let end = self.next.checked_add(n)?;
        if end <= self.reserved_until {
            return None;
        }
        // Round up to whole reservations so headers are rewritten rarely.
        let blocks = end.div_ceil(NONCE_RESERVATION).saturating_add(1);
        Some(blocks.saturating_mul(NONCE_RESERVATION))
    }

    /// Records that `hwm` has been durably persisted.
    pub fn reserved(&mut self, hwm: u64) {
        if hwm > self.reserved_until {
            self.reserved_until = hwm;
        }
    }

    /// Takes `n` consecutive values and returns the first, or `None` when they are not all
    /// durably reserved (or the 64-bit counter would overflow, which at one value per chunk
    /// cannot happen in practice).
    pub fn take(&mut self, n: u64) -> Option<u64> {
        let end = self.next.checked_add(n)?;
        if end > self.reserved_until {
            return None;
        }
        let start = self.next;
        self.next = end;
        Some(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_layout() {
        let n = chunk_nonce(0x0102030405060708);
        assert_eq!(n, [0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn take_requires_reservation() {
        let mut c = NonceCounter::resume(NONCE_RESERVATION);
        assert_eq!(c.take(1), None);
        let hwm = c.reservation_needed(10).unwrap();
        assert!(hwm >= NONCE_RESERVATION + 10);
        c.reserved(hwm);
        assert_eq!(c.take(10), Some(NONCE_RESERVATION));
        assert_eq!(c.take(5), Some(NONCE_RESERVATION + 10));
        assert_eq!(c.reservation_needed(5), None);
        // Resuming from the persisted mark never hands out a used value.
        let mut r = NonceCounter::resume(hwm);
        r.reserved(r.reservation_needed(1).unwrap());
        assert!(r.take(1).unwrap() >= hwm);
    }
}
