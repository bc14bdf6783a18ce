//! GenerateMac / VerifyMac, Sign / Verify and GetPublicKey through a real `Kms`.

use serde_json::{json, Value};

use super::tests_crypto_util::{assert_code, b64, test_key, unb64, Fx, ME};
use crate::crypto::{self, AsymKeySpec, MessageKind, SignatureAlgorithm};
use crate::kms::server::model::{KeySpec, KeyUsage};
use crate::kms::wire::{ErrorCode, Operation};

#[test]
fn mac_round_trip_for_every_hmac_spec() {
    let fx = Fx::new();
    for (spec, alg, len) in [
        (KeySpec::Hmac224, "HMAC_SHA_224", 28),
        (KeySpec::Hmac256, "HMAC_SHA_256", 32),
        (KeySpec::Hmac384, "HMAC_SHA_384", 48),
        (KeySpec::Hmac512, "HMAC_SHA_512", 64),
    ] {
        let id = fx.key(spec, KeyUsage::GenerateVerifyMac);
        let arn = fx.arn(&id);
        let msg = b64(b"message");
        let r = fx
            .call(
                Operation::GenerateMac,
                json!({"KeyId": id, "Message": msg, "MacAlgorithm": alg}),
            )
            .unwrap();
        assert_eq!(r["KeyId"], arn.as_str());
        assert_eq!(r["MacAlgorithm"], alg);
        let mac = unb64(&r, "Mac");
        assert_eq!(mac.len(), len);
        let v = fx
            .call(
                Operation::VerifyMac,
                json!({"KeyId": id, "Message": msg, "MacAlgorithm": alg, "Mac": b64(&mac)}),
            )
            .unwrap();
        assert_eq!(v["MacValid"], true);
        assert_eq!(v["KeyId"], arn.as_str());
        assert_eq!(v["MacAlgorithm"], alg);
        let mut bad = mac.clone();
        bad[0] ^= 1;
        let r = fx.call(
            Operation::VerifyMac,
            json!({"KeyId": id, "Message": msg, "MacAlgorithm": alg, "Mac": b64(&bad)}),
        );
        assert_code(r, ErrorCode::KmsInvalidMac);
        let r = fx.call(
            Operation::VerifyMac,
            json!({"KeyId": id, "Message": b64(b"other"), "MacAlgorithm": alg, "Mac": b64(&mac)}),
        );
        assert_code(r, ErrorCode::KmsInvalidMac);
    }
}

#[test]
fn mac_errors() {
    let fx = Fx::new();
    let id = fx.key(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    let gen = |body: Value| fx.call(Operation::GenerateMac, body);
    let e = assert_code(
        gen(json!({"KeyId": id, "Message": b64(b"m"), "MacAlgorithm": "HMAC_SHA_384"})),
        ErrorCode::InvalidKeyUsage,
    );
    assert!(e.message.contains("HMAC_SHA_384"), "{}", e.message);
    let r = gen(json!({"KeyId": id, "Message": b64(&[0u8; 4097]), "MacAlgorithm": "HMAC_SHA_256"}));
    assert_code(r, ErrorCode::Validation);
    let r = gen(json!({"KeyId": id, "Message": "", "MacAlgorithm": "HMAC_SHA_256"}));
    assert_code(r, ErrorCode::Validation);
    let r = gen(json!({"KeyId": id, "Message": b64(b"m")}));
    assert_code(r, ErrorCode::Validation);
    let sym = fx.sym();
    let r = gen(json!({"KeyId": sym, "Message": b64(b"m"), "MacAlgorithm": "HMAC_SHA_256"}));
    assert_code(r, ErrorCode::InvalidKeyUsage);
    let r = gen(
        json!({"KeyId": id, "Message": b64(b"m"), "MacAlgorithm": "HMAC_SHA_256", "DryRun": true}),
    );
    assert_code(r, ErrorCode::DryRunOperation);
    fx.update(&id, |r| r.disable(ME).unwrap());
    let r = gen(json!({"KeyId": id, "Message": b64(b"m"), "MacAlgorithm": "HMAC_SHA_256"}));
    assert_code(r, ErrorCode::Disabled);
    let r = fx.call(
        Operation::VerifyMac,
        json!({"KeyId": id, "Message": b64(b"m"), "MacAlgorithm": "HMAC_SHA_256", "Mac": b64(&[0u8; 32])}),
    );
    assert_code(r, ErrorCode::Disabled);
}

/// The digest a DIGEST message of `alg` must be.
fn digest_of(alg: &str, msg: &[u8]) -> Vec<u8> {
    let d = match &alg[alg.len() - 3..] {
        "256" => &ring::digest::SHA256,
        "384" => &ring::digest::SHA384,
        _ => &ring::digest::SHA512,
    };
    ring::digest::digest(d, msg).as_ref().to_vec()
}

fn sign(
    fx: &Fx,
    id: &str,
    alg: &str,
    msg: &[u8],
    digest: bool,
) -> Result<Value, crate::kms::wire::KmsError> {
    let mt = if digest { "DIGEST" } else { "RAW" };
    fx.call(
        Operation::Sign,
        json!({"KeyId": id, "Message": b64(msg), "SigningAlgorithm": alg, "MessageType": mt}),
    )
}

fn verify(
    fx: &Fx,
    id: &str,
    alg: &str,
    msg: &[u8],
    sig: &[u8],
) -> Result<Value, crate::kms::wire::KmsError> {
    fx.call(
        Operation::Verify,
        json!({"KeyId": id, "Message": b64(msg), "SigningAlgorithm": alg, "Signature": b64(sig)}),
    )
}

#[test]
fn sign_and_verify_ecdsa_and_rsa() {
    let fx = Fx::new();
    for (spec, asym, alg, calg) in [
        (
            KeySpec::EccNistP256,
            AsymKeySpec::EccNistP256,
            "ECDSA_SHA_256",
            SignatureAlgorithm::EcdsaSha256,
        ),
        (
            KeySpec::EccNistP384,
            AsymKeySpec::EccNistP384,
            "ECDSA_SHA_384",
            SignatureAlgorithm::EcdsaSha384,
        ),
        (
            KeySpec::Rsa2048,
            AsymKeySpec::Rsa2048,
            "RSASSA_PSS_SHA_256",
            SignatureAlgorithm::RsaPssSha256,
        ),
        (
            KeySpec::Rsa2048,
            AsymKeySpec::Rsa2048,
            "RSASSA_PKCS1_V1_5_SHA_512",
            SignatureAlgorithm::RsaPkcs1Sha512,
        ),
    ] {
        let id = fx.key(spec, KeyUsage::SignVerify);
        let arn = fx.arn(&id);
        // No message type means RAW.
        let r = fx
            .call(
                Operation::Sign,
                json!({"KeyId": id, "Message": b64(b"msg"), "SigningAlgorithm": alg}),
            )
            .unwrap();
        assert_eq!(r["KeyId"], arn.as_str());
        assert_eq!(r["SigningAlgorithm"], alg);
        let sig = unb64(&r, "Signature");
        let public = test_key(asym).public_key_der();
        crypto::verify_signature(asym, public, calg, MessageKind::Raw, b"msg", &sig).unwrap();
        let v = verify(&fx, &id, alg, b"msg", &sig).unwrap();
        assert_eq!(v["SignatureValid"], true);
        assert_eq!(v["KeyId"], arn.as_str());
        assert_eq!(v["SigningAlgorithm"], alg);
        assert_code(
            verify(&fx, &id, alg, b"msh", &sig),
            ErrorCode::KmsInvalidSignature,
        );
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_code(
            verify(&fx, &id, alg, b"msg", &bad),
            ErrorCode::KmsInvalidSignature,
        );
        // DIGEST: the digest of the message, of the algorithm's length.
        let digest = digest_of(alg, b"msg");
        let r = sign(&fx, &id, alg, &digest, true).unwrap();
        let sig = unb64(&r, "Signature");
        crypto::verify_signature(asym, public, calg, MessageKind::Raw, b"msg", &sig).unwrap();
        assert_code(
            sign(&fx, &id, alg, &digest[1..], true),
            ErrorCode::Validation,
        );
    }
}

#[test]
fn sign_errors() {
    let fx = Fx::new();
    let id = fx.key(KeySpec::EccNistP256, KeyUsage::SignVerify);
    assert_code(
        sign(&fx, &id, "ECDSA_SHA_384", b"m", false),
        ErrorCode::InvalidKeyUsage,
    );
    assert_code(
        sign(&fx, &id, "RSASSA_PSS_SHA_256", b"m", false),
        ErrorCode::InvalidKeyUsage,
    );
    assert_code(
        sign(&fx, &id, "ECDSA_SHA_256", &[0u8; 4097], false),
        ErrorCode::Validation,
    );
    assert_code(
        sign(&fx, &id, "NOT_AN_ALG", b"m", false),
        ErrorCode::Validation,
    );
    let enc = fx.key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    assert_code(
        sign(&fx, &enc, "RSASSA_PSS_SHA_256", b"m", false),
        ErrorCode::InvalidKeyUsage,
    );
    let sym = fx.sym();
    assert_code(
        sign(&fx, &sym, "ECDSA_SHA_256", b"m", false),
        ErrorCode::InvalidKeyUsage,
    );
    assert_code(
        sign(&fx, "alias/none", "ECDSA_SHA_256", b"m", false),
        ErrorCode::NotFound,
    );
    let r = fx.call(
        Operation::Sign,
        json!({"KeyId": id, "Message": b64(b"m"), "SigningAlgorithm": "ECDSA_SHA_256", "DryRun": true}),
    );
    assert_code(r, ErrorCode::DryRunOperation);
    let sig = unb64(
        &sign(&fx, &id, "ECDSA_SHA_256", b"m", false).unwrap(),
        "Signature",
    );
    fx.update(&id, |r| r.disable(ME).unwrap());
    assert_code(
        sign(&fx, &id, "ECDSA_SHA_256", b"m", false),
        ErrorCode::Disabled,
    );
    assert_code(
        verify(&fx, &id, "ECDSA_SHA_256", b"m", &sig),
        ErrorCode::Disabled,
    );
    fx.update(&id, |r| r.schedule_deletion(ME, Some(7), 0).unwrap());
    assert_code(
        sign(&fx, &id, "ECDSA_SHA_256", b"m", false),
        ErrorCode::KmsInvalidState,
    );
}

#[test]
fn get_public_key() {
    let fx = Fx::new();
    let sv = fx.key(KeySpec::EccNistP256, KeyUsage::SignVerify);
    let r = fx
        .call(Operation::GetPublicKey, json!({"KeyId": sv}))
        .unwrap();
    assert_eq!(r["KeyId"], fx.arn(&sv).as_str());
    assert_eq!(
        unb64(&r, "PublicKey"),
        test_key(AsymKeySpec::EccNistP256).public_key_der()
    );
    assert_eq!(r["KeySpec"], "ECC_NIST_P256");
    assert_eq!(r["CustomerMasterKeySpec"], "ECC_NIST_P256");
    assert_eq!(r["KeyUsage"], "SIGN_VERIFY");
    assert_eq!(r["SigningAlgorithms"], json!(["ECDSA_SHA_256"]));
    assert!(r.get("EncryptionAlgorithms").is_none());

    let ed = fx.key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let r = fx
        .call(Operation::GetPublicKey, json!({"KeyId": ed}))
        .unwrap();
    assert_eq!(r["KeyUsage"], "ENCRYPT_DECRYPT");
    assert_eq!(
        r["EncryptionAlgorithms"],
        json!(["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
    );
    assert!(r.get("SigningAlgorithms").is_none());
    // The public key encrypts for Decrypt.
    let public = unb64(&r, "PublicKey");
    let ct = crypto::oaep_encrypt(
        AsymKeySpec::Rsa2048,
        &public,
        crypto::OaepHash::Sha256,
        b"hi",
    )
    .unwrap();
    let d = fx
        .call(
            Operation::Decrypt,
            json!({"KeyId": ed, "CiphertextBlob": b64(&ct), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
        )
        .unwrap();
    assert_eq!(unb64(&d, "Plaintext"), b"hi");

    let sym = fx.sym();
    let r = fx.call(Operation::GetPublicKey, json!({"KeyId": sym}));
    assert_code(r, ErrorCode::UnsupportedOperation);
    let mac = fx.key(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    let r = fx.call(Operation::GetPublicKey, json!({"KeyId": mac}));
    assert_code(r, ErrorCode::UnsupportedOperation);
    let r = fx.call(Operation::GetPublicKey, json!({"KeyId": "alias/none"}));
    assert_code(r, ErrorCode::NotFound);
    fx.update(&sv, |r| r.disable(ME).unwrap());
    let r = fx.call(Operation::GetPublicKey, json!({"KeyId": sv}));
    assert_code(r, ErrorCode::Disabled);
}
