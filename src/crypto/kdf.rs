//! HKDF-SHA256 (RFC 5869) as a plain function, for callers outside `crypto/` that need a derived
//! key but may not import `ring` (the KMS server's ciphertext blob, for one).
//!
//! Extract and expand run in one call; the output goes straight into a zeroizing container.
//! No I/O, no state.

use ring::hkdf;

use super::{CryptoError, DataKey, SecretBytes, KEY_LEN};

/// The largest output HKDF-SHA256 can produce (255 blocks of 32 bytes).
pub const HKDF_SHA256_MAX_LEN: usize = 255 * 32;

/// An output length for ring's HKDF (`hkdf::KeyType` is how ring is told how much to expand).
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// `HKDF-Expand(HKDF-Extract(salt, ikm), info, len)` with SHA-256.
///
/// Fails with [`CryptoError::Refused`] when `len` is 0 or over [`HKDF_SHA256_MAX_LEN`].
pub fn hkdf_sha256(
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
    len: usize,
) -> Result<SecretBytes, CryptoError> {
    if len == 0 || len > HKDF_SHA256_MAX_LEN {
        return Err(CryptoError::Refused);
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    // Moved, not copied, into the zeroizing container; on failure it still holds only zeros.
    let mut out = vec![0u8; len];
    prk.expand(&[info], Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| CryptoError::Refused)?;
    Ok(SecretBytes::new(out))
}

/// A 256-bit key derived with [`hkdf_sha256`] (for example a per-request AES-256-GCM key).
pub fn derive_key(ikm: &[u8], salt: &[u8], info: &[u8]) -> Result<DataKey, CryptoError> {
    let okm = hkdf_sha256(ikm, salt, info, KEY_LEN)?;
    DataKey::from_slice(okm.expose())
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

    /// RFC 5869 appendix A.1 (test case 1) and A.3 (test case 3: empty salt and info).
    #[test]
    fn rfc5869_known_answers() {
        let okm = hkdf_sha256(
            &[0x0b; 22],
            &hex("000102030405060708090a0b0c"),
            &hex("f0f1f2f3f4f5f6f7f8f9"),
            42,
        )
        .unwrap();
        assert_eq!(
            okm.expose(),
            hex(concat!(
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf",
                "34007208d5b887185865"
            ))
        );
        let okm = hkdf_sha256(&[0x0b; 22], b"", b"", 42).unwrap();
        assert_eq!(
            okm.expose(),
            hex(concat!(
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d",
                "9d201395faa4b61a96c8"
            ))
        );
    }

    #[test]
    fn derive_key_depends_on_every_input_and_checks_length() {
        let k = derive_key(b"ikm", b"salt", b"info").unwrap();
        assert_eq!(
            k.expose().as_slice(),
            hkdf_sha256(b"ikm", b"salt", b"info", 32).unwrap().expose()
        );
        assert_ne!(
            k.expose(),
            derive_key(b"ikM", b"salt", b"info").unwrap().expose()
        );
        assert_ne!(
            k.expose(),
            derive_key(b"ikm", b"salT", b"info").unwrap().expose()
        );
        assert_ne!(
            k.expose(),
            derive_key(b"ikm", b"salt", b"infO").unwrap().expose()
        );
        assert_eq!(
            hkdf_sha256(b"k", b"", b"", 0).unwrap_err(),
            CryptoError::Refused
        );
        assert!(hkdf_sha256(b"k", b"", b"", HKDF_SHA256_MAX_LEN).is_ok());
        assert!(hkdf_sha256(b"k", b"", b"", HKDF_SHA256_MAX_LEN + 1).is_err());
    }
}
