//! Tests of the asymmetric keys: round trips and tamper rejection for every spec and algorithm,
//! OAEP limits, DER round trips. RSA keys are generated once per test run (RSA-4096 is slow).

use std::sync::OnceLock;

use aws_lc_rs::digest;

use super::*;

static KEYS: [OnceLock<AsymPrivateKey>; 6] = [const { OnceLock::new() }; 6];

/// One key per spec for the whole test run (shared with other modules' tests).
pub(crate) fn cached_test_key(spec: AsymKeySpec) -> &'static AsymPrivateKey {
    let i = AsymKeySpec::ALL.iter().position(|s| *s == spec).unwrap();
    KEYS[i].get_or_init(|| AsymPrivateKey::generate(spec).unwrap())
}

fn sha(alg: SignatureAlgorithm, msg: &[u8]) -> Vec<u8> {
    digest::digest(alg.digest(), msg).as_ref().to_vec()
}

#[test]
fn sign_verify_round_trip_and_tamper_every_spec_and_algorithm() {
    let mut pairs = 0;
    for spec in AsymKeySpec::ALL {
        let key = cached_test_key(spec);
        for alg in SignatureAlgorithm::ALL
            .into_iter()
            .filter(|a| a.supports(spec))
        {
            pairs += 1;
            let msg = b"message to sign";
            let sig = key.sign(alg, MessageKind::Raw, msg).unwrap();
            key.verify(alg, MessageKind::Raw, msg, &sig).unwrap();
            // A raw signature is a signature over the digest, and the other way round.
            let d = sha(alg, msg);
            key.verify(alg, MessageKind::Digest, &d, &sig).unwrap();
            let dsig = key.sign(alg, MessageKind::Digest, &d).unwrap();
            key.verify(alg, MessageKind::Raw, msg, &dsig).unwrap();
            if let Some(bits) = spec.rsa_bits() {
                assert_eq!(sig.len(), bits / 8);
            } else {
                assert_eq!(sig[0], 0x30, "ECDSA signatures are DER sequences");
            }
            // Tampering: message, signature, digest.
            assert_eq!(
                key.verify(alg, MessageKind::Raw, b"message to sigN", &sig),
                Err(CryptoError::Authentication),
                "{spec:?} {alg:?}"
            );
            let mut bad = sig.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(key.verify(alg, MessageKind::Raw, msg, &bad).is_err());
            let mut bad_d = d.clone();
            bad_d[0] ^= 0x80;
            assert!(key.verify(alg, MessageKind::Digest, &bad_d, &sig).is_err());
            assert!(key.verify(alg, MessageKind::Raw, msg, &[]).is_err());
        }
    }
    assert_eq!(pairs, 3 + 3 * 6);
}

#[test]
fn algorithm_must_suit_the_key() {
    let p256 = cached_test_key(AsymKeySpec::EccNistP256);
    let rsa = cached_test_key(AsymKeySpec::Rsa2048);
    for (key, alg) in [
        (p256, SignatureAlgorithm::EcdsaSha384),
        (p256, SignatureAlgorithm::RsaPssSha256),
        (rsa, SignatureAlgorithm::EcdsaSha256),
    ] {
        assert_eq!(
            key.sign(alg, MessageKind::Raw, b"m").unwrap_err(),
            CryptoError::Refused
        );
        assert_eq!(
            key.verify(alg, MessageKind::Raw, b"m", b"sig").unwrap_err(),
            CryptoError::Refused
        );
    }
    let p384 = cached_test_key(AsymKeySpec::EccNistP384);
    let sig = p384
        .sign(SignatureAlgorithm::EcdsaSha384, MessageKind::Raw, b"m")
        .unwrap();
    // The P-384 key's SPKI is not a P-256 key.
    assert!(verify_signature(
        AsymKeySpec::EccNistP256,
        p384.public_key_der(),
        SignatureAlgorithm::EcdsaSha256,
        MessageKind::Raw,
        b"m",
        &sig
    )
    .is_err());
}

#[test]
fn digest_messages_must_have_the_digest_length() {
    for (spec, alg) in [
        (AsymKeySpec::EccNistP256, SignatureAlgorithm::EcdsaSha256),
        (AsymKeySpec::EccNistP384, SignatureAlgorithm::EcdsaSha384),
        (AsymKeySpec::Rsa2048, SignatureAlgorithm::RsaPssSha512),
        (AsymKeySpec::Rsa2048, SignatureAlgorithm::RsaPkcs1Sha256),
    ] {
        let key = cached_test_key(spec);
        let n = alg.digest_len();
        for len in [0, n - 1, n + 1, 4096] {
            assert_eq!(
                key.sign(alg, MessageKind::Digest, &vec![7u8; len])
                    .unwrap_err(),
                CryptoError::Refused
            );
        }
        assert!(key.sign(alg, MessageKind::Digest, &vec![7u8; n]).is_ok());
    }
    assert_eq!(SignatureAlgorithm::EcdsaSha256.digest_len(), 32);
    assert_eq!(SignatureAlgorithm::RsaPssSha384.digest_len(), 48);
    assert_eq!(SignatureAlgorithm::RsaPkcs1Sha512.digest_len(), 64);
}

#[test]
fn oaep_round_trip_limits_and_tamper() {
    let limits = [
        (AsymKeySpec::Rsa2048, 214, 190),
        (AsymKeySpec::Rsa3072, 342, 318),
        (AsymKeySpec::Rsa4096, 470, 446),
    ];
    for (spec, sha1_max, sha256_max) in limits {
        assert_eq!(max_oaep_plaintext_len(spec, OaepHash::Sha1), Some(sha1_max));
        assert_eq!(
            max_oaep_plaintext_len(spec, OaepHash::Sha256),
            Some(sha256_max)
        );
        let key = cached_test_key(spec);
        for hash in OaepHash::ALL {
            let max = max_oaep_plaintext_len(spec, hash).unwrap();
            for len in [1, max] {
                let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let ct = key.encrypt(hash, &pt).unwrap();
                assert_eq!(ct.len(), spec.rsa_bits().unwrap() / 8);
                assert_eq!(key.decrypt(hash, &ct).unwrap().expose(), &pt[..]);
                // OAEP is randomised.
                assert_ne!(key.encrypt(hash, &pt).unwrap(), ct);
            }
            assert_eq!(
                key.encrypt(hash, &vec![0u8; max + 1]).unwrap_err(),
                CryptoError::Refused
            );
            let mut ct = key.encrypt(hash, b"secret").unwrap();
            let other = if hash == OaepHash::Sha1 {
                OaepHash::Sha256
            } else {
                OaepHash::Sha1
            };
            assert_eq!(
                key.decrypt(other, &ct).unwrap_err(),
                CryptoError::Authentication
            );
            ct[10] ^= 4;
            assert_eq!(
                key.decrypt(hash, &ct).unwrap_err(),
                CryptoError::Authentication
            );
            assert!(key.decrypt(hash, &ct[1..]).is_err());
        }
    }
    let ec = cached_test_key(AsymKeySpec::EccNistP256);
    assert_eq!(
        max_oaep_plaintext_len(AsymKeySpec::EccNistP256, OaepHash::Sha1),
        None
    );
    assert_eq!(
        ec.encrypt(OaepHash::Sha1, b"x").unwrap_err(),
        CryptoError::Refused
    );
    assert_eq!(
        ec.decrypt(OaepHash::Sha1, b"x").unwrap_err(),
        CryptoError::Refused
    );
    // A 2048-bit public key is not a 3072-bit one.
    let rsa2048 = cached_test_key(AsymKeySpec::Rsa2048);
    assert!(oaep_encrypt(
        AsymKeySpec::Rsa3072,
        rsa2048.public_key_der(),
        OaepHash::Sha256,
        b"x"
    )
    .is_err());
}

#[test]
fn der_round_trips_and_spec_checks() {
    for spec in AsymKeySpec::ALL {
        let key = cached_test_key(spec);
        let spki = key.public_key_der();
        assert_eq!(spki[0], 0x30);
        // The SPKI parses back with aws-lc's own X.509 parsers.
        if spec.is_rsa() {
            let p = aws_lc_rs::rsa::PublicEncryptingKey::from_der(spki).unwrap();
            assert_eq!(Some(p.key_size_bits()), spec.rsa_bits());
        } else {
            let alg = SignatureAlgorithm::ALL
                .into_iter()
                .find(|a| a.supports(spec))
                .unwrap();
            let sig = key.sign(alg, MessageKind::Raw, b"m").unwrap();
            verify_signature(spec, spki, alg, MessageKind::Raw, b"m", &sig).unwrap();
        }
        // PKCS#8 parses back into the same key.
        let again = AsymPrivateKey::from_pkcs8(spec, key.pkcs8_der()).unwrap();
        assert_eq!(again.public_key_der(), spki);
        assert_eq!(again.spec(), spec);
        // ... but not as another spec.
        for other in AsymKeySpec::ALL.into_iter().filter(|o| *o != spec) {
            assert_eq!(
                AsymPrivateKey::from_pkcs8(other, key.pkcs8_der()).unwrap_err(),
                CryptoError::Refused,
                "{spec:?} as {other:?}"
            );
        }
    }
    assert!(AsymPrivateKey::from_pkcs8(AsymKeySpec::Rsa2048, b"not der").is_err());
    assert!(AsymPrivateKey::from_pkcs8(AsymKeySpec::EccNistP256, &[]).is_err());
}

#[test]
fn generated_keys_differ_and_debug_is_redacted() {
    let a = AsymPrivateKey::generate(AsymKeySpec::EccNistP256).unwrap();
    let b = AsymPrivateKey::generate(AsymKeySpec::EccNistP256).unwrap();
    assert_ne!(a.public_key_der(), b.public_key_der());
    let s = format!("{a:?}");
    assert!(s.contains("redacted") && s.contains("EccNistP256"));
    assert!(s.len() < 64);
    fn send_sync<T: Send + Sync>() {}
    send_sync::<AsymPrivateKey>();
}
