//! Key wrapping for customer-provided key files: a random data key sealed under a key
//! derived from the file, bound to the volume's encryption context.
//!
//! ```text
//! KEK         = HKDF-Expand(HKDF-Extract("VOLCRYPT keyfile v1", file key), "wrap")
//! fingerprint = HMAC(HKDF-Expand(same PRK, "fingerprint"), volume_uuid)[..16]
//! blob        = nonce[12] || AES-256-GCM(KEK, nonce, data key, AAD = context)[32] || tag[16]
//! ```
//! The fingerprint is salted with the volume UUID, so it identifies the key for one volume
//! without linking volumes that share a key file.

use ring::hkdf;
use zeroize::Zeroizing;

use super::{Backend, ChunkKey, CryptoError, DataKey, MetaKey, KEY_LEN, NONCE_LEN, TAG_LEN};

/// Length of a wrapped key blob.
pub const WRAPPED_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;

/// A key-encryption key derived from a customer key file.
pub struct KeyWrapper {
    prk: hkdf::Prk,
}

impl std::fmt::Debug for KeyWrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyWrapper([redacted])")
    }
}

impl KeyWrapper {
    /// Derives the wrapper from the raw 32-byte customer key.
    pub fn new(file_key: &DataKey) -> Self {
        let prk =
            hkdf::Salt::new(hkdf::HKDF_SHA256, b"VOLCRYPT keyfile v1").extract(file_key.expose());
        KeyWrapper { prk }
    }

    fn expand(&self, label: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let mut out = Zeroizing::new([0u8; 32]);
        self.prk
            .expand(&[label], hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(out.as_mut()))
            .map_err(|_| CryptoError::Refused)?;
        Ok(out)
    }

    /// The salted fingerprint of the customer key for volume `uuid`.
    pub fn fingerprint(&self, uuid: &[u8; 16]) -> Result<[u8; 16], CryptoError> {
        let k = self.expand(b"fingerprint")?;
        let mac = MetaKey::from_bytes(k.as_ref()).sign(uuid);
        let mut out = [0u8; 16];
        out.copy_from_slice(&mac[..16]);
        Ok(out)
    }

    /// Seals `key` under the wrapping key with `aad` (the canonical encryption context).
    pub fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let kek = ChunkKey::new(Backend::Ring, &*self.expand(b"wrap")?)?;
        let mut nonce = [0u8; NONCE_LEN];
        super::random_bytes(&mut nonce)?;
        let mut body = Zeroizing::new(*key.expose());
        let tag = kek.seal(nonce, aad, body.as_mut())?;
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(body.as_ref());
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens a blob made by [`Self::wrap`] with the same `aad`.
    pub fn unwrap(&self, blob: &[u8], aad: &[u8]) -> Result<DataKey, CryptoError> {
        if blob.len() != WRAPPED_LEN {
            return Err(CryptoError::Authentication);
        }
        let kek = ChunkKey::new(Backend::Ring, &*self.expand(b"wrap")?)?;
        let nonce: [u8; NONCE_LEN] = blob[..NONCE_LEN]
            .try_into()
            .map_err(|_| CryptoError::Authentication)?;
        let tag: [u8; TAG_LEN] = blob[NONCE_LEN + KEY_LEN..]
            .try_into()
            .map_err(|_| CryptoError::Authentication)?;
        let mut body = Zeroizing::new([0u8; KEY_LEN]);
        body.copy_from_slice(&blob[NONCE_LEN..NONCE_LEN + KEY_LEN]);
        kek.open(nonce, aad, body.as_mut(), &tag)?;
        Ok(DataKey::from_bytes(*body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_round_trip_and_binding() {
        let w = KeyWrapper::new(&DataKey::from_bytes([1; 32]));
        let dk = DataKey::generate().unwrap();
        let blob = w.wrap(&dk, b"ctx").unwrap();
        assert_eq!(blob.len(), WRAPPED_LEN);
        assert_eq!(w.unwrap(&blob, b"ctx").unwrap().expose(), dk.expose());
        assert!(w.unwrap(&blob, b"ctX").is_err());
        let other = KeyWrapper::new(&DataKey::from_bytes([2; 32]));
        assert!(other.unwrap(&blob, b"ctx").is_err());
        assert_ne!(
            w.fingerprint(&[1; 16]).unwrap(),
            w.fingerprint(&[2; 16]).unwrap()
        );
        assert_ne!(
            w.fingerprint(&[1; 16]).unwrap(),
            other.fingerprint(&[1; 16]).unwrap()
        );
    }
}
