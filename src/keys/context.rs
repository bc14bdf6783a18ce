//! The encryption context bound to every data key, and its canonical encoding.
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
}

impl KeyContext {
    /// The context as sorted key/value pairs, as sent to a KMS.
    pub fn pairs(&self) -> Vec<(String, String)> {
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
        let c = KeyContext {
            volume_uuid: [0xab; 16],
            key_version: 3,
        };
        let p = c.pairs();
        assert!(p.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(p[1].1, "abababab-abab-abab-abab-abababababab");
        let d = KeyContext {
            key_version: 4,
            ..c
        };
        assert_ne!(c.hash(), d.hash());
        assert!(c.canonical().starts_with(&20u32.to_be_bytes()));
    }
}
