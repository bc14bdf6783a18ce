//! HMAC with SHA-224, SHA-256, SHA-384 and SHA-512: the MAC algorithms of KMS HMAC keys
//! (`HMAC_224/256/384/512`, `HMAC_SHA_224/256/384/512`).
//!
//! Uses `aws-lc-rs` because `ring` has no HMAC-SHA224. Verification compares in constant time
//! and fails with the opaque [`CryptoError::Authentication`].
//!
//! Key lengths: KMS documents its HMAC key specs by key size, 224, 256, 384 and 512 bits, the
//! digest's output length (not its block length). [`MacAlgorithm::key_len`] returns those sizes
//! (28, 32, 48, 64 bytes) and [`generate_mac_key`] draws a key of that length. [`mac`] itself
//! accepts keys of any length, as HMAC does.

use aws_lc_rs::hmac;

use super::{CryptoError, SecretBytes};

/// An HMAC algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacAlgorithm {
    /// HMAC-SHA-224 (28-byte tag).
    HmacSha224,
    /// HMAC-SHA-256 (32-byte tag).
    HmacSha256,
    /// HMAC-SHA-384 (48-byte tag).
    HmacSha384,
    /// HMAC-SHA-512 (64-byte tag).
    HmacSha512,
}

impl MacAlgorithm {
    /// Every algorithm, shortest tag first.
    pub const ALL: [MacAlgorithm; 4] = [
        MacAlgorithm::HmacSha224,
        MacAlgorithm::HmacSha256,
        MacAlgorithm::HmacSha384,
        MacAlgorithm::HmacSha512,
    ];

    fn lc(self) -> hmac::Algorithm {
        match self {
            MacAlgorithm::HmacSha224 => hmac::HMAC_SHA224,
            MacAlgorithm::HmacSha256 => hmac::HMAC_SHA256,
            MacAlgorithm::HmacSha384 => hmac::HMAC_SHA384,
            MacAlgorithm::HmacSha512 => hmac::HMAC_SHA512,
        }
    }

    /// Length of a tag in bytes (the digest's output length).
    pub fn tag_len(self) -> usize {
        self.lc().tag_len()
    }

    /// Length in bytes of a key generated for this algorithm (KMS key spec size: 28, 32, 48
    /// or 64 bytes).
    pub fn key_len(self) -> usize {
        self.tag_len()
    }
}

/// The HMAC of `msg` under `key`.
pub fn mac(alg: MacAlgorithm, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let k = hmac::Key::new(alg.lc(), key);
    hmac::sign(&k, msg).as_ref().to_vec()
}

/// Checks `tag` against the HMAC of `msg` under `key`, in constant time.
///
/// A tag of the wrong length fails like a wrong tag.
pub fn verify_mac(
    alg: MacAlgorithm,
    key: &[u8],
    msg: &[u8],
    tag: &[u8],
) -> Result<(), CryptoError> {
    let k = hmac::Key::new(alg.lc(), key);
    hmac::verify(&k, msg, tag).map_err(|_| CryptoError::Authentication)
}

/// A fresh random key of [`MacAlgorithm::key_len`] bytes.
pub fn generate_mac_key(alg: MacAlgorithm) -> Result<SecretBytes, CryptoError> {
    let mut key = vec![0u8; alg.key_len()];
    super::random_bytes(&mut key)?;
    Ok(SecretBytes::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    const RFC4231_TC2: [(MacAlgorithm, &str); 4] = [
        (
            MacAlgorithm::HmacSha224,
            "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
        ),
        (
            MacAlgorithm::HmacSha256,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            MacAlgorithm::HmacSha384,
            concat!(
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47",
                "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"
            ),
        ),
        (
            MacAlgorithm::HmacSha512,
            concat!(
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554",
                "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
            ),
        ),
    ];

    #[test]
    fn rfc4231_test_case_2() {
        for (alg, want) in RFC4231_TC2 {
            let tag = mac(alg, b"Jefe", b"what do ya want for nothing?");
            assert_eq!(tag, hex(want), "{alg:?}");
            assert_eq!(tag.len(), alg.tag_len());
            verify_mac(alg, b"Jefe", b"what do ya want for nothing?", &tag).unwrap();
        }
    }

    #[test]
    fn verify_rejects_changes() {
        for alg in MacAlgorithm::ALL {
            let key = generate_mac_key(alg).unwrap();
            let tag = mac(alg, key.expose(), b"msg");
            assert_eq!(
                verify_mac(alg, key.expose(), b"msG", &tag),
                Err(CryptoError::Authentication)
            );
            let mut bad = tag.clone();
            bad[0] ^= 1;
            assert!(verify_mac(alg, key.expose(), b"msg", &bad).is_err());
            assert!(verify_mac(alg, key.expose(), b"msg", &tag[..tag.len() - 1]).is_err());
            assert!(verify_mac(alg, b"other key", b"msg", &tag).is_err());
            let other = MacAlgorithm::ALL.iter().find(|a| **a != alg).unwrap();
            assert!(verify_mac(*other, key.expose(), b"msg", &tag).is_err());
        }
    }

    #[test]
    fn generated_key_lengths_follow_kms_key_specs() {
        let lens: Vec<usize> = MacAlgorithm::ALL
            .iter()
            .map(|a| generate_mac_key(*a).unwrap().len())
            .collect();
        assert_eq!(lens, [28, 32, 48, 64]);
        let a = generate_mac_key(MacAlgorithm::HmacSha256).unwrap();
        let b = generate_mac_key(MacAlgorithm::HmacSha256).unwrap();
        assert_ne!(a.expose(), b.expose());
    }
}
