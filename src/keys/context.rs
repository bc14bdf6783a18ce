//! The encryption context bound to every data key, and its canonical encoding.
//!
//! A per-volume context is `{"volcrypt:key-version": v, "volcrypt:volume-uuid": uuid}` (EBS
//! binds `aws:ebs:id`). A data key shared by many new volumes (the data-key cache's reuse
//! mode, like the AWS Encryption SDK's caching CMM) cannot be bound to one volume, so it uses
//! the shared context `{"volcrypt:key-pool": "shared", "volcrypt:key-version": v}`; the
//! keyslot records which form was used. Each volume's keys still differ, because the key
//! schedule salts them with the volume UUID.
//!
//! Canonical form: entries sorted by key, each as `be32 len || key || be32 len || value`.
//! Length prefixes make `{"ab":"c"}` and `{"a":"bc"}` differ, unlike a plain concatenation.

use crate::crypto::sha256;

/// Identifies which volume and key version a data key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyContext {
    /// The volume's UUID.
    pub volume_uuid: [u8; 16],
    /// The key version (1 for a fresh volume, +1 per rekey).
    pub key_version: u32,
    /// The data key may be shared by many volumes: the context does not name the volume.
    pub shared: bool,
}

impl KeyContext {
    /// The per-volume context of key version `key_version` of volume `volume_uuid`.
    pub fn volume(volume_uuid: [u8; 16], key_version: u32) -> Self {
        KeyContext {
            volume_uuid,
            key_version,
            shared: false,
        }
    }

    /// The shared (pooled) context, for a data key that many volumes may use.
    pub fn shared(volume_uuid: [u8; 16], key_version: u32) -> Self {
        KeyContext {
            volume_uuid,
            key_version,
            shared: true,
        }
    }

    /// The salt of a key file's fingerprint: the volume UUID, or zeros for shared keys
    /// (their wrapping must not depend on which volume asked first).
    pub fn fingerprint_salt(&self) -> [u8; 16] {
        if self.shared {
            [0; 16]
        } else {
            self.volume_uuid
        }
    }

    /// The context as sorted key/value pairs, as sent to a KMS.
    pub fn pairs(&self) -> Vec<(String, String)> {
        if self.shared {
            return vec![
                ("volcrypt:key-pool".into(), "shared".into()),
                ("volcrypt:key-version".into(), self.key_version.to_string()),
            ];
        }
        // Already sorted by key.
        vec![
            ("volcrypt:key-version".into(), self.key_version.to_string()),
            (
                "volcrypt:volume-uuid".into(),
                format_uuid(&self.volume_uuid),
            ),
        ]
    }

    /// The unambiguous byte encoding of [`Self::pairs`].
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in self.pairs() {
            for s in [k, v] {
                let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
        out
    }

    /// SHA-256 of the canonical encoding (stored in the keyslot).
    pub fn hash(&self) -> [u8; 32] {
        sha256(&self.canonical())
    }
}

/// Formats a UUID as 8-4-4-4-12 lowercase hex.
pub fn format_uuid(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_is_unambiguous_and_sorted() {
        let c = KeyContext::volume([0xab; 16], 3);
        let p = c.pairs();
        assert!(p.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(p[1].1, "abababab-abab-abab-abab-abababababab");
        let d = KeyContext {
            key_version: 4,
            ..c
        };
        assert_ne!(c.hash(), d.hash());
        assert!(c.canonical().starts_with(&20u32.to_be_bytes()));
        let s = KeyContext::shared([0xab; 16], 3);
        assert!(s.pairs().windows(2).all(|w| w[0].0 < w[1].0));
        assert!(s.pairs().iter().all(|(_, v)| !v.contains("abab")));
        assert_ne!(s.hash(), c.hash());
        assert_eq!(s.hash(), KeyContext::shared([0xcd; 16], 3).hash());
        assert_eq!(s.fingerprint_salt(), [0; 16]);
    }
}
