//! Secret byte containers: zeroized on drop, `[redacted]` in `Debug`, never `Clone`.
//!
//! Anything that holds key material in this crate holds it in one of these types, so a stray
//! `{:?}` or a forgotten copy cannot leak it.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{CryptoError, KEY_LEN};

/// A 256-bit data key in plaintext. Only ever lives in memory.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    /// Wraps raw key bytes. The caller's copy should be zeroized by the caller.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        DataKey(bytes)
    }

    /// Copies a key out of a slice, which must be exactly [`KEY_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::Refused)?;
        Ok(DataKey(arr))
    }

    /// A fresh random key from the system CSPRNG.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut k = DataKey([0u8; KEY_LEN]);
        super::random_bytes(&mut k.0)?;
        Ok(k)
    }

    /// The key bytes. Keep the borrow short and never copy them into an unmanaged buffer.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([redacted])")
    }
}

/// A variable-length secret (derived key material, decoded key files).
#[derive(Zeroize, ZeroizeOnDrop, Default)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }

    /// The secret bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([redacted; {}])", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let k = DataKey::from_bytes([0x41; KEY_LEN]);
        let s = format!("{k:?}");
        assert!(s.contains("redacted"));
        assert!(!s.contains("41") && !s.contains("65"));
        let b = SecretBytes::new(b"hunter2".to_vec());
        assert!(!format!("{b:?}").contains("hunter2"));
    }

    #[test]
    fn generated_keys_differ() {
        let a = DataKey::generate().unwrap();
        let b = DataKey::generate().unwrap();
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn from_slice_checks_length() {
        assert!(DataKey::from_slice(&[0u8; 31]).is_err());
        assert!(DataKey::from_slice(&[0u8; 32]).is_ok());
    }
}
