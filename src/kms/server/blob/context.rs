//! The canonical byte form of a KMS encryption context, used as AES-GCM AAD.
//!
//! ```text
//! canonical(ctx) = for each (k, v) sorted by k (bytewise):  be32 len(k) || k || be32 len(v) || v
//! ```
//! An empty context is the empty string. Every key and value is length-prefixed, so
//! `{"ab":"c"}` and `{"a":"bc"}` differ (moto, LocalStack and local-kms concatenate without
//! separators, so those two contexts are interchangeable there). Keys are unique in a map, and
//! the AAD's total length is authenticated by GCM, so the encoding is injective.

use std::collections::BTreeMap;

/// A KMS encryption context: non-secret string pairs bound to a ciphertext. A `BTreeMap` keeps
/// keys sorted bytewise (the order of UTF-8 `String`s), which is the canonical order.
pub type EncryptionContext = BTreeMap<String, String>;

/// The canonical encoding of `ctx` (see the module docs).
///
/// KMS limits a context to 8 KiB, far below `u32::MAX`; a longer string would still encode
/// unambiguously because its length saturates only past 4 GiB, which no request body reaches.
pub fn canonical_context(ctx: &EncryptionContext) -> Vec<u8> {
    let size: usize = ctx.iter().map(|(k, v)| 8 + k.len() + v.len()).sum();
    let mut out = Vec::with_capacity(size);
    for (k, v) in ctx {
        push_field(&mut out, k.as_bytes());
        push_field(&mut out, v.as_bytes());
    }
    out
}

fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layout_is_sorted_and_length_prefixed() {
        assert!(canonical_context(&EncryptionContext::new()).is_empty());
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
    }

    #[test]
    fn shifted_boundaries_differ() {
        let pairs = [
            ctx(&[("ab", "c")]),
            ctx(&[("a", "bc")]),
            ctx(&[("abc", "")]),
            ctx(&[("", "abc")]),
            ctx(&[("a", "b"), ("c", "")]),
            ctx(&[("a", ""), ("b", "c")]),
        ];
        for (i, x) in pairs.iter().enumerate() {
            for y in &pairs[i + 1..] {
                assert_ne!(canonical_context(x), canonical_context(y), "{x:?} vs {y:?}");
            }
        }
    }
}
