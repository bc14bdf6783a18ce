//! Tests of the ciphertext blob: round trip, binding to context and material, tamper and
//! truncation rejection, and a proptest that no input panics.

use proptest::prelude::*;

use super::*;

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

struct Fixture {
    material: DataKey,
    id: MaterialId,
    key: KeyUuid,
}

fn fixture() -> Fixture {
    Fixture {
        material: DataKey::generate().unwrap(),
        id: MaterialId::generate().unwrap(),
        key: KeyUuid::generate().unwrap(),
    }
}

impl Fixture {
    fn seal(&self, c: &EncryptionContext, pt: &[u8]) -> Vec<u8> {
        seal(&self.material, &self.id, &self.key, c, pt).unwrap()
    }

    fn open(&self, blob: &[u8], c: &EncryptionContext) -> Result<SecretBytes, BlobError> {
        open(&self.material, &self.id, blob, c)
    }
}

#[test]
fn round_trip_and_layout() {
    let f = fixture();
    let c = ctx(&[("volcrypt:volume-uuid", "v-1"), ("purpose", "test")]);
    for len in [0usize, 1, 32, 4096] {
        let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let blob = f.seal(&c, &pt);
        assert_eq!(blob.len(), len + BLOB_OVERHEAD);
        assert_eq!(f.open(&blob, &c).unwrap().expose(), &pt[..]);
        let h = parse_header(&blob).unwrap();
        assert_eq!(h.version, BLOB_VERSION);
        assert_eq!(h.key, f.key);
        assert_eq!(h.material, f.id);
        assert_eq!(blob[0], 1);
        assert_eq!(&blob[1..17], &f.key.0);
        assert_eq!(&blob[17..49], &f.id.0);
        if len >= 16 {
            assert_ne!(&blob[HEADER_LEN..HEADER_LEN + 16], &pt[..16]);
        }
    }
    assert_eq!(HEADER_LEN, 77);
    assert_eq!(BLOB_OVERHEAD, 93);
}

#[test]
fn two_seals_differ() {
    let f = fixture();
    let c = EncryptionContext::new();
    let a = f.seal(&c, b"same plaintext");
    let b = f.seal(&c, b"same plaintext");
    assert_ne!(a, b);
    let (ha, hb) = (parse_header(&a).unwrap(), parse_header(&b).unwrap());
    assert_ne!(ha.salt, hb.salt);
    assert_ne!(ha.nonce, hb.nonce);
}

#[test]
fn context_must_match_exactly() {
    let f = fixture();
    let blob = f.seal(&ctx(&[("ab", "c")]), b"secret");
    f.open(&blob, &ctx(&[("ab", "c")])).unwrap();
    for wrong in [
        ctx(&[("a", "bc")]),
        ctx(&[]),
        ctx(&[("ab", "C")]),
        ctx(&[("AB", "c")]),
        ctx(&[("ab", "c"), ("x", "y")]),
        ctx(&[("abc", "")]),
    ] {
        assert_eq!(
            f.open(&blob, &wrong).unwrap_err(),
            BlobError::InvalidCiphertext,
            "{wrong:?}"
        );
    }
    let empty = f.seal(&ctx(&[]), b"secret");
    assert!(f.open(&empty, &ctx(&[("a", "")])).is_err());
}

#[test]
fn any_single_bit_flip_is_rejected() {
    let f = fixture();
    let c = ctx(&[("k", "v")]);
    let blob = f.seal(&c, b"0123456789abcdef0123");
    for i in 0..blob.len() {
        for bit in 0..8 {
            let mut bad = blob.clone();
            bad[i] ^= 1 << bit;
            assert_eq!(
                f.open(&bad, &c).unwrap_err(),
                BlobError::InvalidCiphertext,
                "byte {i} bit {bit}"
            );
        }
    }
}

#[test]
fn truncation_and_extension_are_rejected() {
    let f = fixture();
    let c = EncryptionContext::new();
    let blob = f.seal(&c, b"some plaintext");
    for n in 0..blob.len() {
        assert!(f.open(&blob[..n], &c).is_err(), "truncated to {n}");
    }
    for n in 0..BLOB_OVERHEAD {
        assert_eq!(
            parse_header(&blob[..n]).unwrap_err(),
            BlobError::InvalidCiphertext
        );
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert!(f.open(&longer, &c).is_err());
    assert!(parse_header(&[]).is_err());
}

#[test]
fn wrong_material_or_version_is_rejected() {
    let f = fixture();
    let c = EncryptionContext::new();
    let blob = f.seal(&c, b"pt");
    // Another material under the same id, and the right material under another id.
    let other = DataKey::generate().unwrap();
    assert_eq!(
        open(&other, &f.id, &blob, &c).unwrap_err(),
        BlobError::InvalidCiphertext
    );
    let other_id = MaterialId::generate().unwrap();
    assert_eq!(
        open(&f.material, &other_id, &blob, &c).unwrap_err(),
        BlobError::InvalidCiphertext
    );
    let mut v2 = blob.clone();
    v2[0] = 2;
    assert!(parse_header(&v2).is_err());
    // The key uuid is authenticated too (a blob re-labelled for another key fails).
    let mut relabelled = blob.clone();
    relabelled[1..17].copy_from_slice(&KeyUuid::generate().unwrap().0);
    assert!(parse_header(&relabelled).is_ok());
    assert!(f.open(&relabelled, &c).is_err());
}

#[test]
fn errors_name_their_aws_type() {
    assert_eq!(
        BlobError::InvalidCiphertext.aws_code(),
        "InvalidCiphertextException"
    );
    assert_eq!(BlobError::Internal.aws_code(), "KMSInternalException");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let f = fixture();
        let _ = parse_header(&bytes);
        prop_assert!(f.open(&bytes, &EncryptionContext::new()).is_err());
    }

    #[test]
    fn mutations_never_open_and_never_panic(
        pt in proptest::collection::vec(any::<u8>(), 0..64),
        at in any::<usize>(),
        xor in 1u8..,
        cut in any::<usize>(),
        insert in any::<u8>(),
    ) {
        let f = fixture();
        let c = ctx(&[("a", "b")]);
        let blob = f.seal(&c, &pt);
        let i = at % blob.len();
        let mut flipped = blob.clone();
        flipped[i] ^= xor;
        prop_assert!(f.open(&flipped, &c).is_err());
        let truncated = &blob[..cut % blob.len()];
        prop_assert!(f.open(truncated, &c).is_err());
        let mut grown = blob.clone();
        grown.insert(i, insert);
        prop_assert!(f.open(&grown, &c).is_err());
        let opened = f.open(&blob, &c).unwrap();
        prop_assert_eq!(opened.expose(), &pt[..]);
    }
}
