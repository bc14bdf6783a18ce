//! The HKDF-SHA256 key schedule of one key version of one volume.
//!
//! ```text
//! PRK_v       = HKDF-Extract(salt = "VOLCRYPT" || volume_uuid, IKM = data key v)
//! K_data(v,g) = HKDF-Expand(PRK_v, "data" || be32 v || be64 g)    g = chunk >> group_log2
//! K_meta(v)   = HKDF-Expand(PRK_v, "meta" || be32 v)               HMAC key: header, journal
//! KCV_v       = HMAC(HKDF-Expand(PRK_v, "kcv" || be32 v), "VOLCRYPT kcv")[..16]
//! ```
//! The volume UUID in the salt makes every volume's keys unique even when one data key is
//! reused across volumes (clones, a cached data key). Per-group subkeys keep each GCM key far
//! below its usage bound on very large volumes. Derived bytes are zeroized after use.

use ring::{hkdf, hmac};
use zeroize::Zeroizing;

use super::{Backend, ChunkKey, CryptoError, DataKey, KCV_LEN, MAC_LEN};

/// The derived keys of one key version of one volume.
pub struct VolumeKeys {
    prk: hkdf::Prk,
    version: u32,
}

impl std::fmt::Debug for VolumeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VolumeKeys(v{}, [redacted])", self.version)
    }
}

impl VolumeKeys {
    /// Runs HKDF-Extract for key version `version` of volume `uuid`.
    pub fn derive(data_key: &DataKey, uuid: &[u8; 16], version: u32) -> Self {
        let mut salt = [0u8; 24];
        salt[..8].copy_from_slice(b"VOLCRYPT");
        salt[8..].copy_from_slice(uuid);
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(data_key.expose());
        VolumeKeys { prk, version }
    }

    /// The key version these keys belong to.
    pub fn version(&self) -> u32 {
        self.version
    }

    fn expand(&self, label: &[u8], group: Option<u64>) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let v = self.version.to_be_bytes();
        let g = group.map(u64::to_be_bytes);
        let info: Vec<&[u8]> = match &g {
            Some(g) => vec![label, &v, g],
            None => vec![label, &v],
        };
        let mut out = Zeroizing::new([0u8; 32]);
        self.prk
            .expand(&info, hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(out.as_mut()))
            .map_err(|_| CryptoError::Refused)?;
        Ok(out)
    }

    /// The AES-256-GCM key of chunk group `group`.
    pub fn data_key(&self, group: u64, backend: Backend) -> Result<ChunkKey, CryptoError> {
        let k = self.expand(b"data", Some(group))?;
        ChunkKey::new(backend, &k)
    }

    /// The HMAC key that authenticates headers and journal records.
    pub fn meta_key(&self) -> Result<MetaKey, CryptoError> {
        let k = self.expand(b"meta", None)?;
        Ok(MetaKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, k.as_ref()),
        })
    }

    /// The key check value: proves a candidate data key is the right one without revealing it.
    pub fn kcv(&self) -> Result<[u8; KCV_LEN], CryptoError> {
        let k = self.expand(b"kcv", None)?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, k.as_ref());
        let tag = hmac::sign(&key, b"VOLCRYPT kcv");
        let mut out = [0u8; KCV_LEN];
        out.copy_from_slice(&tag.as_ref()[..KCV_LEN]);
        Ok(out)
    }
}

/// HMAC-SHA256 key for metadata (headers, journal records).
pub struct MetaKey {
    key: hmac::Key,
}

impl std::fmt::Debug for MetaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetaKey([redacted])")
    }
}

impl MetaKey {
    /// A MAC key from raw bytes (used for key-file fingerprints and tests).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        MetaKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes),
        }
    }

    /// HMAC-SHA256 of `data`.
    pub fn sign(&self, data: &[u8]) -> [u8; MAC_LEN] {
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(hmac::sign(&self.key, data).as_ref());
        out
    }

    /// Checks `mac` over `data` in constant time.
    pub fn verify(&self, data: &[u8], mac: &[u8]) -> Result<(), CryptoError> {
        hmac::verify(&self.key, data, mac).map_err(|_| CryptoError::Authentication)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(uuid: u8, ver: u32) -> VolumeKeys {
        VolumeKeys::derive(&DataKey::from_bytes([3u8; 32]), &[uuid; 16], ver)
    }

    #[test]
    fn kcv_depends_on_key_uuid_and_version() {
        let a = keys(1, 1).kcv().unwrap();
        assert_eq!(a, keys(1, 1).kcv().unwrap());
        assert_ne!(a, keys(2, 1).kcv().unwrap());
        assert_ne!(a, keys(1, 2).kcv().unwrap());
        let other = VolumeKeys::derive(&DataKey::from_bytes([4u8; 32]), &[1; 16], 1);
        assert_ne!(a, other.kcv().unwrap());
    }

    #[test]
    fn group_keys_differ() {
        let k = keys(1, 1);
        let mut a = vec![0u8; 64];
        let mut b = a.clone();
        let n = [0u8; 12];
        k.data_key(0, Backend::Ring)
            .unwrap()
            .seal(n, b"", &mut a)
            .unwrap();
        k.data_key(1, Backend::Ring)
            .unwrap()
            .seal(n, b"", &mut b)
            .unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn meta_mac_round_trip() {
        let m = keys(1, 1).meta_key().unwrap();
        let mac = m.sign(b"header");
        m.verify(b"header", &mac).unwrap();
        assert!(m.verify(b"headeR", &mac).is_err());
        assert!(keys(1, 2)
            .meta_key()
            .unwrap()
            .verify(b"header", &mac)
            .is_err());
    }
}
