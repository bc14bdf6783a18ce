//! The optional request quota (`volcrypt kms serve --request-quota N`), modelled on AWS KMS's
//! shared quota for cryptographic operations: `N` requests per second per account, a token
//! bucket holding one second's worth (so a burst of up to `N` requests passes at once), refilled
//! continuously. A request over the quota is answered `ThrottlingException` (HTTP 400) with
//! AWS's message, like real KMS; SDKs retry it with backoff.
//!
//! Only cryptographic operations count and they share one bucket ([`is_cryptographic`]):
//! management calls (CreateKey, DescribeKey, policies, grants, ...) are never throttled, so an
//! operator can still administer keys while clients are held back. `N = 0` throttles every
//! cryptographic operation (for tests of what clients do when KMS never lets them through).
//! The quota is per account (of the calling principal), like AWS's per-account quotas, and uses
//! real time, not the server's (possibly sped-up) KMS clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::kms::wire::Operation;

/// Whether `op` counts against the cryptographic-operations quota (AWS's shared quota:
/// Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, GenerateMac, VerifyMac, GenerateRandom; here
/// also Sign and Verify, which AWS counts under its asymmetric quotas).
pub fn is_cryptographic(op: Operation) -> bool {
    matches!(
        op,
        Operation::Encrypt
            | Operation::Decrypt
            | Operation::ReEncrypt
            | Operation::GenerateDataKey
            | Operation::GenerateDataKeyWithoutPlaintext
            | Operation::GenerateDataKeyPair
            | Operation::GenerateDataKeyPairWithoutPlaintext
            | Operation::GenerateMac
            | Operation::VerifyMac
            | Operation::GenerateRandom
            | Operation::Sign
            | Operation::Verify
    )
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets, one per account.
#[derive(Debug)]
pub struct RequestQuota {
    per_second: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RequestQuota {
    /// A quota of `per_second` cryptographic requests per second per account (0: none pass).
    pub fn new(per_second: u32) -> Self {
        RequestQuota {
            per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for a request of `account` doing `op`; `false`: throttle it.
    pub fn admit(&self, account: &str, op: Operation) -> bool {
        self.admit_at(account, op, Instant::now())
    }

    fn admit_at(&self, account: &str, op: Operation, now: Instant) -> bool {
        if !is_cryptographic(op) {
            return true;
        }
        if self.per_second == 0 {
            return false;
        }
        let cap = f64::from(self.per_second);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(account.to_owned()).or_insert(Bucket {
            tokens: cap,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * cap).min(cap);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn burst_of_one_second_then_refill_at_the_rate() {
        let q = RequestQuota::new(5);
        let t0 = Instant::now();
        let passed = (0..20)
            .filter(|_| q.admit_at("a", Operation::Decrypt, t0))
            .count();
        assert_eq!(passed, 5);
        // 200 ms refill one token at 5/s.
        let t1 = t0 + Duration::from_millis(200);
        assert!(q.admit_at("a", Operation::Encrypt, t1));
        assert!(!q.admit_at("a", Operation::GenerateDataKey, t1));
        // Idle for a long time: back to one second's burst, not more.
        let t2 = t1 + Duration::from_secs(60);
        let passed = (0..20)
            .filter(|_| q.admit_at("a", Operation::Decrypt, t2))
            .count();
        assert_eq!(passed, 5);
    }

    #[test]
    fn accounts_have_their_own_buckets_and_management_is_not_counted() {
        let q = RequestQuota::new(1);
        let t = Instant::now();
        assert!(q.admit_at("a", Operation::Decrypt, t));
        assert!(!q.admit_at("a", Operation::Decrypt, t));
        assert!(q.admit_at("b", Operation::Decrypt, t));
        for _ in 0..10 {
            assert!(q.admit_at("a", Operation::DescribeKey, t));
            assert!(q.admit_at("a", Operation::CreateKey, t));
        }
    }

    #[test]
    fn zero_throttles_every_cryptographic_operation() {
        let q = RequestQuota::new(0);
        let t = Instant::now() + Duration::from_secs(3600);
        for op in Operation::ALL {
            assert_eq!(q.admit_at("a", *op, t), !is_cryptographic(*op), "{op:?}");
        }
    }
}
