//! Tests of the cryptographic operations on key records: symmetric and RSA Encrypt/Decrypt,
//! IncorrectKey, data keys, Sign/Verify, GenerateMac/VerifyMac, GetPublicKey, GenerateRandom.

use super::test_util::*;
use super::*;
use crate::kms::server::blob::EncryptionContext;

const SYM: EncryptionAlgorithm = EncryptionAlgorithm::SymmetricDefault;

fn no_ctx() -> EncryptionContext {
    EncryptionContext::new()
}

#[test]
fn symmetric_round_trip_with_context() {
    let rec = symmetric();
    let c = ctx(&[("volcrypt:volume-uuid", "v1"), ("ab", "c")]);
    let blob = encrypt(&rec, SYM, &c, b"plaintext").unwrap();
    let d = decrypt(|id| (*id == rec.id).then_some(&rec), None, SYM, &blob, &c).unwrap();
    assert_eq!(d.plaintext.expose(), b"plaintext");
    assert_eq!(d.key.arn, rec.arn);
    assert_eq!(d.material_id, Some(rec.current_material().unwrap().id));
    // With the right KeyId supplied.
    let d = decrypt(|_| None, Some(&rec), SYM, &blob, &c).unwrap();
    assert_eq!(d.plaintext.expose(), b"plaintext");
    // Wrong, missing or re-split context.
    for wrong in [
        no_ctx(),
        ctx(&[("volcrypt:volume-uuid", "v1"), ("a", "bc")]),
    ] {
        let r = decrypt(|_| Some(&rec), None, SYM, &blob, &wrong);
        assert_err(r, "InvalidCiphertextException", "");
    }
}

#[test]
fn decrypt_failures() {
    let rec = symmetric();
    let other = symmetric();
    let blob = encrypt(&rec, SYM, &no_ctx(), b"pt").unwrap();
    assert_err(
        decrypt(|_| Some(&rec), Some(&other), SYM, &blob, &no_ctx()),
        "IncorrectKeyException",
        "The key ID in the request does not identify a KMS key that can perform this operation.",
    );
    // The blob's key does not exist (any more), or does not have the blob's material.
    assert_code(
        decrypt(|_| None, None, SYM, &blob, &no_ctx()),
        "InvalidCiphertextException",
    );
    assert_code(
        decrypt(|_| Some(&other), None, SYM, &blob, &no_ctx()),
        "InvalidCiphertextException",
    );
    for garbage in [&b"x"[..], &[1u8; 200][..], &blob[..blob.len() - 1]] {
        assert_code(
            decrypt(|_| Some(&rec), None, SYM, garbage, &no_ctx()),
            "InvalidCiphertextException",
        );
    }
    assert_code(
        decrypt(|_| Some(&rec), None, SYM, &[], &no_ctx()),
        "ValidationException",
    );
    assert_code(
        decrypt(|_| Some(&rec), None, SYM, &[1u8; 6145], &no_ctx()),
        "ValidationException",
    );
    // A record that claims the blob's material id but holds another secret still fails.
    let mut impostor = symmetric();
    impostor.id = rec.id;
    let mut m = material(KeySpec::SymmetricDefault);
    m.id = rec.current_material().unwrap().id;
    impostor.materials = vec![m];
    assert_code(
        decrypt(|_| Some(&impostor), None, SYM, &blob, &no_ctx()),
        "InvalidCiphertextException",
    );
    // Supplying an RSA key for a symmetric blob.
    let rsa = record(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    assert_code(
        decrypt(|_| Some(&rec), Some(&rsa), SYM, &blob, &no_ctx()),
        "InvalidKeyUsageException",
    );
}

#[test]
fn encrypt_checks() {
    let rec = symmetric();
    encrypt(&rec, SYM, &no_ctx(), &[0u8; 4096]).unwrap();
    assert_code(
        encrypt(&rec, SYM, &no_ctx(), &[0u8; 4097]),
        "ValidationException",
    );
    assert_code(encrypt(&rec, SYM, &no_ctx(), &[]), "ValidationException");
    assert_err(
        encrypt(&rec, EncryptionAlgorithm::RsaesOaepSha1, &no_ctx(), b"x"),
        "InvalidKeyUsageException",
        "Algorithm RSAES_OAEP_SHA_1 is incompatible with key spec SYMMETRIC_DEFAULT.",
    );
    let hmac = record(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    assert_err(
        encrypt(&hmac, SYM, &no_ctx(), b"x"),
        "InvalidKeyUsageException",
        &format!(
            "{} key usage is GENERATE_VERIFY_MAC which is not valid for Encrypt.",
            hmac.arn
        ),
    );
    let rsa = record(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    assert_err(
        encrypt(&rsa, SYM, &no_ctx(), b"x"),
        "InvalidKeyUsageException",
        "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.",
    );
}

#[test]
fn rsa_encrypt_decrypt() {
    let rec = record(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    for (alg, max) in [
        (EncryptionAlgorithm::RsaesOaepSha1, 214),
        (EncryptionAlgorithm::RsaesOaepSha256, 190),
    ] {
        let pt = vec![9u8; max];
        let ct = encrypt(&rec, alg, &no_ctx(), &pt).unwrap();
        assert_eq!(ct.len(), 256);
        let d = decrypt(|_| None, Some(&rec), alg, &ct, &no_ctx()).unwrap();
        assert_eq!(d.plaintext.expose(), &pt[..]);
        assert_eq!(d.material_id, None);
        assert_code(
            encrypt(&rec, alg, &no_ctx(), &vec![9u8; max + 1]),
            "ValidationException",
        );
        assert_code(
            decrypt(|_| None, None, alg, &ct, &no_ctx()),
            "ValidationException",
        );
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert_code(
            decrypt(|_| None, Some(&rec), alg, &bad, &no_ctx()),
            "InvalidCiphertextException",
        );
        assert_code(
            encrypt(&rec, alg, &ctx(&[("a", "b")]), b"x"),
            "ValidationException",
        );
    }
    let signing = record(KeySpec::Rsa2048, KeyUsage::SignVerify);
    assert_err(
        encrypt(
            &signing,
            EncryptionAlgorithm::RsaesOaepSha256,
            &no_ctx(),
            b"x",
        ),
        "InvalidKeyUsageException",
        &format!(
            "{} key usage is SIGN_VERIFY which is not valid for Encrypt.",
            signing.arn
        ),
    );
}

#[test]
fn data_keys() {
    let rec = symmetric();
    let c = ctx(&[("purpose", "dk")]);
    let (pt, blob) = generate_data_key(&rec, &c, Some(DataKeySpec::Aes256), None).unwrap();
    assert_eq!(pt.len(), 32);
    let d = decrypt(|_| Some(&rec), None, SYM, &blob, &c).unwrap();
    assert_eq!(d.plaintext.expose(), pt.expose());
    let (pt, _) = generate_data_key(&rec, &c, None, Some(1024)).unwrap();
    assert_eq!(pt.len(), 1024);
    assert_code(
        generate_data_key(&rec, &c, None, None),
        "ValidationException",
    );
    let rsa = record(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    assert_code(
        generate_data_key(&rsa, &c, Some(DataKeySpec::Aes128), None),
        "InvalidKeyUsageException",
    );
    let pair = generate_data_key_pair(&rec, &c, DataKeyPairSpec::EccNistP256).unwrap();
    let d = decrypt(|_| Some(&rec), None, SYM, &pair.private_key_ciphertext, &c).unwrap();
    assert_eq!(d.plaintext.expose(), pair.private_key.expose());
    let back = crate::crypto::AsymPrivateKey::from_pkcs8(
        crate::crypto::AsymKeySpec::EccNistP256,
        pair.private_key.expose(),
    )
    .unwrap();
    assert_eq!(back.public_key_der(), &pair.public_key[..]);
    assert_code(
        generate_data_key_pair(&rec, &c, DataKeyPairSpec::Sm2),
        "UnsupportedOperationException",
    );
}

#[test]
fn sign_and_verify() {
    use MessageType::{Digest, Raw};
    let cases = [
        (KeySpec::EccNistP256, SigningAlgorithm::EcdsaSha256, 32),
        (KeySpec::EccNistP384, SigningAlgorithm::EcdsaSha384, 48),
        (KeySpec::Rsa2048, SigningAlgorithm::RsassaPssSha256, 32),
        (KeySpec::Rsa2048, SigningAlgorithm::RsassaPkcs1V15Sha512, 64),
    ];
    for (spec, alg, digest_len) in cases {
        let rec = record(spec, KeyUsage::SignVerify);
        let sig = sign(&rec, alg, Raw, b"message").unwrap();
        verify(&rec, alg, Raw, b"message", &sig).unwrap();
        assert_err(
            verify(&rec, alg, Raw, b"messagE", &sig),
            "KMSInvalidSignatureException",
            "",
        );
        let dsig = sign(&rec, alg, Digest, &vec![3u8; digest_len]).unwrap();
        verify(&rec, alg, Digest, &vec![3u8; digest_len], &dsig).unwrap();
        assert_err(
            sign(&rec, alg, Digest, &vec![3u8; digest_len + 1]),
            "ValidationException",
            &format!("Digest is invalid length for algorithm {alg}."),
        );
        assert_code(
            sign(&rec, alg, MessageType::ExternalMu, b"m"),
            "ValidationException",
        );
        assert_code(sign(&rec, alg, Raw, &[0u8; 4097]), "ValidationException");
        assert_code(sign(&rec, alg, Raw, &[]), "ValidationException");
        assert_code(verify(&rec, alg, Raw, b"m", &[]), "ValidationException");
    }
    let p256 = record(KeySpec::EccNistP256, KeyUsage::SignVerify);
    assert_err(
        sign(&p256, SigningAlgorithm::EcdsaSha384, Raw, b"m"),
        "InvalidKeyUsageException",
        "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.",
    );
    let rsa_enc = record(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    assert_err(
        sign(&rsa_enc, SigningAlgorithm::RsassaPssSha256, Raw, b"m"),
        "InvalidKeyUsageException",
        &format!(
            "{} key usage is ENCRYPT_DECRYPT which is not valid for Sign.",
            rsa_enc.arn
        ),
    );
    assert_code(
        sign(&symmetric(), SigningAlgorithm::EcdsaSha256, Raw, b"m"),
        "InvalidKeyUsageException",
    );
    let mut disabled = record(KeySpec::EccNistP256, KeyUsage::SignVerify);
    disabled.disable(ME).unwrap();
    assert_code(
        sign(&disabled, SigningAlgorithm::EcdsaSha256, Raw, b"m"),
        "DisabledException",
    );
}

#[test]
fn macs() {
    for (spec, alg, len) in [
        (KeySpec::Hmac224, MacAlgorithm::HmacSha224, 28),
        (KeySpec::Hmac256, MacAlgorithm::HmacSha256, 32),
        (KeySpec::Hmac384, MacAlgorithm::HmacSha384, 48),
        (KeySpec::Hmac512, MacAlgorithm::HmacSha512, 64),
    ] {
        let rec = record(spec, KeyUsage::GenerateVerifyMac);
        let mac = generate_mac(&rec, alg, b"message").unwrap();
        assert_eq!(mac.len(), len);
        verify_mac(&rec, alg, b"message", &mac).unwrap();
        assert_err(
            verify_mac(&rec, alg, b"Message", &mac),
            "KMSInvalidMacException",
            "",
        );
        assert_code(
            verify_mac(&rec, alg, b"message", &mac[1..]),
            "KMSInvalidMacException",
        );
        assert_code(generate_mac(&rec, alg, &[0u8; 4097]), "ValidationException");
        let wrong = MacAlgorithm::ALL
            .iter()
            .copied()
            .find(|a| *a != alg)
            .unwrap();
        assert_code(generate_mac(&rec, wrong, b"m"), "InvalidKeyUsageException");
    }
    assert_code(
        generate_mac(&symmetric(), MacAlgorithm::HmacSha256, b"m"),
        "InvalidKeyUsageException",
    );
}

#[test]
fn public_keys_and_random() {
    for (spec, usage) in [
        (KeySpec::EccNistP521, KeyUsage::SignVerify),
        (KeySpec::Rsa4096, KeyUsage::EncryptDecrypt),
    ] {
        let rec = record(spec, usage);
        let der = public_key(&rec).unwrap();
        assert_eq!(der[0], 0x30);
    }
    let rec = symmetric();
    assert_code(public_key(&rec), "UnsupportedOperationException");
    assert_eq!(generate_random(Some(1024)).unwrap().len(), 1024);
    assert_eq!(generate_random(Some(1)).unwrap().len(), 1);
    assert_err(
        generate_random(None),
        "ValidationException",
        "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy \
         constraint: Member must not be null",
    );
    for bad in [Some(0), Some(1025)] {
        assert_code(generate_random(bad), "ValidationException");
    }
}
