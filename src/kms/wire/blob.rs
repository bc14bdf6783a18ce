//! [`Blob`], the base64 byte-string member type, and [`canonical_context`], the unambiguous
//! byte encoding of an encryption context used as AAD.
//!
//! Blobs carry plaintext data keys and private keys, so a `Blob` is zeroized on drop, its
//! `Debug` prints only the length, and the base64 text made while serializing is zeroized too.

use std::collections::BTreeMap;
use std::fmt;

use base64::alphabet::STANDARD as STANDARD_ALPHABET;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Decodes standard-alphabet base64 with or without padding (botocore always pads).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD_ALPHABET,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A `blob` member: raw bytes, standard padded base64 on the wire (`b"x"` is `"eA=="`).
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Blob(Vec<u8>);

impl Blob {
    /// Takes ownership of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Blob(bytes)
    }

    /// Copies `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Blob(bytes.to_vec())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the blob holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Moves the bytes out. The returned `Vec` is no longer zeroized on drop: the caller takes
    /// over that duty (for example by wrapping it in a `crypto::SecretBytes`).
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Self {
        Blob(bytes)
    }
}

impl From<&[u8]> for Blob {
    fn from(bytes: &[u8]) -> Self {
        Blob(bytes.to_vec())
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(STANDARD.encode(&self.0));
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(BlobVisitor)
    }
}

struct BlobVisitor;

impl Visitor<'_> for BlobVisitor {
    type Value = Blob;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64-encoded string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Blob, E> {
        // The error deliberately does not echo the text: it may be a plaintext.
        LENIENT
            .decode(text)
            .map(Blob)
            .map_err(|_| E::custom("invalid base64 in a blob member"))
    }
}

/// The canonical bytes of an encryption context, for use as AAD: pairs in key order (bytewise
/// UTF-8 order, as `BTreeMap` iterates), each as `be32(len) || key || be32(len) || value`.
///
/// Length prefixes make the encoding injective, so `{"ab":"c"}` and `{"a":"bc"}` differ (they
/// collide in moto, LocalStack and local-kms, which concatenate). An empty context encodes to
/// no bytes, so "no context" and `{}` are the same context, as in AWS. A string of 4 GiB or
/// more would saturate its prefix; none can arrive, as request bodies are far smaller.
pub fn canonical_context(ctx: &BTreeMap<String, String>) -> Vec<u8> {
    let size = ctx.iter().map(|(k, v)| 8 + k.len() + v.len()).sum();
    let mut out = Vec::with_capacity(size);
    for (key, value) in ctx {
        for part in [key, value] {
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn blob_is_padded_standard_base64() {
        let json = serde_json::to_string(&Blob::from_slice(b"x")).unwrap();
        assert_eq!(json, r#""eA==""#);
        let json = serde_json::to_string(&Blob::from_slice(&[0xfb, 0xff])).unwrap();
        assert_eq!(json, r#""+/8=""#);
        let back: Blob = serde_json::from_str(r#""+/8=""#).unwrap();
        assert_eq!(back.as_bytes(), &[0xfb, 0xff]);
        let unpadded: Blob = serde_json::from_str(r#""eA""#).unwrap();
        assert_eq!(unpadded.as_bytes(), b"x");
    }

    #[test]
    fn blob_rejects_bad_base64_without_echoing_it() {
        let err = serde_json::from_str::<Blob>(r#""c2VjcmV0-_""#).unwrap_err();
        assert!(!err.to_string().contains("c2VjcmV0"), "{err}");
        assert!(serde_json::from_str::<Blob>("5").is_err());
    }

    #[test]
    fn blob_debug_hides_bytes() {
        let blob = Blob::new(b"top secret key material".to_vec());
        let shown = format!("{blob:?}");
        assert_eq!(shown, "Blob(23 bytes)");
        assert!(!shown.contains("secret"));
        assert_eq!(blob.into_vec(), b"top secret key material");
    }

    #[test]
    fn canonical_context_is_length_prefixed_and_sorted() {
        let c = canonical_context(&ctx(&[("b", "2"), ("a", "1")]));
        assert_eq!(
            c,
            [
                &[0, 0, 0, 1][..],
                b"a",
                &[0, 0, 0, 1],
                b"1",
                &[0, 0, 0, 1],
                b"b",
                &[0, 0, 0, 1],
                b"2"
            ]
            .concat()
        );
        assert!(canonical_context(&BTreeMap::new()).is_empty());
    }

    #[test]
    fn canonical_context_distinguishes_split_points() {
        let ab_c = canonical_context(&ctx(&[("ab", "c")]));
        let a_bc = canonical_context(&ctx(&[("a", "bc")]));
        assert_ne!(ab_c, a_bc);
        // Two pairs vs one pair whose value swallows the second.
        let two = canonical_context(&ctx(&[("a", "b"), ("c", "d")]));
        let one = canonical_context(&ctx(&[("a", "b\0\0\0\u{1}c\0\0\0\u{1}d")]));
        assert_ne!(two, one);
    }
}
