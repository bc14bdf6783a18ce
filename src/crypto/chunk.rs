//! One chunk's AES-256-GCM seal and open, in place, with the tag kept apart from the data.
//!
//! Ciphertext is exactly as long as plaintext, so a volume's data never moves on disk; the
//! 16-byte tag goes to the tag table. The key schedule of the underlying library lives inside
//! its own opaque type (neither ring nor aws-lc-rs zeroizes it on drop; the raw key bytes we
//! derive it from are zeroized, see `schedule.rs`).

use super::{Backend, CryptoError, NONCE_LEN, TAG_LEN};

/// An AES-256-GCM key bound to one backend. Not `Clone`: one key, one owner.
pub struct ChunkKey {
    inner: Inner,
}

enum Inner {
    // Boxed: ring keeps its AES and GHASH tables inline (~0.5 KiB); one pointer hop per
    // chunk is free next to a 64 KiB seal.
    Ring(Box<ring::aead::LessSafeKey>),
    AwsLc(aws_lc_rs::aead::LessSafeKey),
}

impl std::fmt::Debug for ChunkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChunkKey({}, [redacted])", self.backend())
    }
}

impl ChunkKey {
    /// Builds a key for `backend` from 32 raw bytes.
    pub fn new(backend: Backend, key: &[u8; 32]) -> Result<Self, CryptoError> {
        let inner = match backend {
            Backend::Ring => {
                let k = ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, key)
                    .map_err(|_| CryptoError::Refused)?;
                Inner::Ring(Box::new(ring::aead::LessSafeKey::new(k)))
            }
            Backend::AwsLc => {
                let k = aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, key)
                    .map_err(|_| CryptoError::Refused)?;
                Inner::AwsLc(aws_lc_rs::aead::LessSafeKey::new(k))
            }
        };
        Ok(ChunkKey { inner })
    }

    /// The backend this key runs on.
    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Ring(_) => Backend::Ring,
            Inner::AwsLc(_) => Backend::AwsLc,
        }
    }

    /// Encrypts `buf` in place and returns the tag.
    ///
    /// The caller guarantees that `nonce` is never used twice under this key (see
    /// [`super::NonceCounter`]).
    pub fn seal(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], CryptoError> {
        let mut out = [0u8; TAG_LEN];
        match &self.inner {
            Inner::Ring(k) => {
                let n = ring::aead::Nonce::assume_unique_for_key(nonce);
                let tag = k
                    .seal_in_place_separate_tag(n, ring::aead::Aad::from(aad), buf)
                    .map_err(|_| CryptoError::Refused)?;
                out.copy_from_slice(tag.as_ref());
            }
            Inner::AwsLc(k) => {
                let n = aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce);
                let tag = k
                    .seal_in_place_separate_tag(n, aws_lc_rs::aead::Aad::from(aad), buf)
                    .map_err(|_| CryptoError::Refused)?;
                out.copy_from_slice(tag.as_ref());
            }
        }
        Ok(out)
    }

    /// Authenticates and decrypts `buf` in place.
    ///
    /// On failure the contents of `buf` are unspecified and must not be used or written
    /// anywhere; the caller discards the whole buffer.
    pub fn open(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), CryptoError> {
        match &self.inner {
            Inner::Ring(k) => {
                let n = ring::aead::Nonce::assume_unique_for_key(nonce);
                let t = ring::aead::Tag::from(*tag);
                k.open_in_place_separate_tag(n, ring::aead::Aad::from(aad), t, buf, 0..)
                    .map(|_| ())
                    .map_err(|_| CryptoError::Authentication)
            }
            Inner::AwsLc(k) => {
                let n = aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce);
                k.open_in_place_separate_tag(n, aws_lc_rs::aead::Aad::from(aad), tag, buf)
                    .map(|_| ())
                    .map_err(|_| CryptoError::Authentication)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kat(backend: Backend, len: usize) -> (Vec<u8>, [u8; TAG_LEN]) {
        let key = ChunkKey::new(backend, &[7u8; 32]).unwrap();
        let mut buf: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let tag = key.seal([9u8; NONCE_LEN], b"aad", &mut buf).unwrap();
        (buf, tag)
    }

    #[test]
    fn backends_agree_on_ciphertext_and_tag() {
        for len in [0usize, 1, 15, 16, 17, 4096, 65536 + 3] {
            let (c1, t1) = kat(Backend::Ring, len);
            let (c2, t2) = kat(Backend::AwsLc, len);
            assert_eq!(c1, c2, "ciphertext differs at len {len}");
            assert_eq!(t1, t2, "tag differs at len {len}");
        }
    }

    /// NIST SP 800-38D / McGrew-Viega test case 16 (AES-256, 60-byte plaintext, 20-byte AAD).
    #[test]
    fn nist_known_answer_both_backends() {
        let key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
        let nonce = hex("cafebabefacedbaddecaf888");
        let pt = hex(concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ));
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let want_ct = hex(concat!(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa",
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        ));
        let want_tag = hex("76fc6ece0f4e1768cddf8853bb2d551b");
        for backend in Backend::ALL {
            let k = ChunkKey::new(backend, &key.clone().try_into().unwrap()).unwrap();
            let mut buf = pt.clone();
            let n: [u8; NONCE_LEN] = nonce.clone().try_into().unwrap();
            let tag = k.seal(n, &aad, &mut buf).unwrap();
            assert_eq!(buf, want_ct, "{backend}");
            assert_eq!(tag.to_vec(), want_tag, "{backend}");
            k.open(n, &aad, &mut buf, &tag).unwrap();
            assert_eq!(buf, pt);
        }
    }

    #[test]
    fn open_rejects_any_change() {
        for backend in Backend::ALL {
            let k = ChunkKey::new(backend, &[1u8; 32]).unwrap();
            let mut buf = vec![5u8; 1000];
            let tag = k.seal([2u8; NONCE_LEN], b"a", &mut buf).unwrap();
            let mut flipped = buf.clone();
            flipped[999] ^= 1;
            assert_eq!(
                k.open([2u8; NONCE_LEN], b"a", &mut flipped, &tag),
                Err(CryptoError::Authentication)
            );
            let mut c = buf.clone();
            assert!(k.open([3u8; NONCE_LEN], b"a", &mut c, &tag).is_err());
            let mut c = buf.clone();
            assert!(k.open([2u8; NONCE_LEN], b"b", &mut c, &tag).is_err());
            let mut bad_tag = tag;
            bad_tag[0] ^= 0x80;
            let mut c = buf.clone();
            assert!(k.open([2u8; NONCE_LEN], b"a", &mut c, &bad_tag).is_err());
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
