//! GenerateDataKey(WithoutPlaintext), GenerateDataKeyPair(WithoutPlaintext) and
//! GenerateRandom through a real `Kms`.

use serde_json::json;

use super::tests_crypto_util::{assert_code, unb64, Fx, ME};
use crate::crypto::{AsymKeySpec, AsymPrivateKey};
use crate::kms::server::model::{KeySpec, KeyUsage};
use crate::kms::wire::{ErrorCode, Operation};

#[test]
fn generate_data_key_lengths_and_round_trip() {
    let fx = Fx::new();
    let id = fx.sym();
    let arn = fx.arn(&id);
    for (spec, len) in [
        (json!({"KeySpec": "AES_256"}), 32),
        (json!({"KeySpec": "AES_128"}), 16),
        (json!({"NumberOfBytes": 1}), 1),
        (json!({"NumberOfBytes": 1024}), 1024),
    ] {
        let mut body = json!({"KeyId": id, "EncryptionContext": {"vol": "x"}});
        body.as_object_mut()
            .unwrap()
            .extend(spec.as_object().unwrap().clone());
        let r = fx.call(Operation::GenerateDataKey, body).unwrap();
        let pt = unb64(&r, "Plaintext");
        assert_eq!(pt.len(), len);
        assert_eq!(r["KeyId"], arn.as_str());
        assert_eq!(r["KeyMaterialId"], fx.material(&id).as_str());
        let d = fx
            .call(
                Operation::Decrypt,
                json!({"CiphertextBlob": r["CiphertextBlob"], "EncryptionContext": {"vol": "x"}}),
            )
            .unwrap();
        assert_eq!(unb64(&d, "Plaintext"), pt);
    }
    let r = fx
        .call(
            Operation::GenerateDataKeyWithoutPlaintext,
            json!({"KeyId": id, "KeySpec": "AES_256"}),
        )
        .unwrap();
    assert!(r.get("Plaintext").is_none());
    assert_eq!(r["KeyId"], arn.as_str());
    assert_eq!(r["KeyMaterialId"], fx.material(&id).as_str());
    let d = fx
        .call(
            Operation::Decrypt,
            json!({"CiphertextBlob": r["CiphertextBlob"]}),
        )
        .unwrap();
    assert_eq!(unb64(&d, "Plaintext").len(), 32);
}

#[test]
fn generate_data_key_validation() {
    let fx = Fx::new();
    let id = fx.sym();
    for op in [
        Operation::GenerateDataKey,
        Operation::GenerateDataKeyWithoutPlaintext,
    ] {
        for bad in [
            json!({"KeyId": id}),
            json!({"KeyId": id, "KeySpec": "AES_256", "NumberOfBytes": 32}),
            json!({"KeyId": id, "NumberOfBytes": 0}),
            json!({"KeyId": id, "NumberOfBytes": 1025}),
            json!({"KeyId": id, "NumberOfBytes": -1}),
            json!({"KeyId": id, "KeySpec": "AES_512"}),
            json!({"KeyId": id, "KeySpec": "AES_256", "GrantTokens": vec!["t"; 11]}),
            json!({"KeySpec": "AES_256"}),
        ] {
            assert_code(fx.call(op, bad), ErrorCode::Validation);
        }
        // Validation comes before the key lookup.
        let r = fx.call(op, json!({"KeyId": "alias/nope", "NumberOfBytes": 0}));
        assert_code(r, ErrorCode::Validation);
        let r = fx.call(op, json!({"KeyId": "alias/nope", "KeySpec": "AES_256"}));
        assert_code(r, ErrorCode::NotFound);
        let r = fx.call(
            op,
            json!({"KeyId": id, "KeySpec": "AES_256", "DryRun": true}),
        );
        assert_code(r, ErrorCode::DryRunOperation);
    }
}

#[test]
fn generate_data_key_states_and_usages() {
    let fx = Fx::new();
    let rsa = fx.key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let mac = fx.key(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    for (k, needle) in [(rsa, "key spec is RSA_2048"), (mac, "GENERATE_VERIFY_MAC")] {
        for op in [
            Operation::GenerateDataKey,
            Operation::GenerateDataKeyWithoutPlaintext,
        ] {
            let e = assert_code(
                fx.call(op, json!({"KeyId": k, "KeySpec": "AES_256"})),
                ErrorCode::InvalidKeyUsage,
            );
            assert!(e.message.contains(needle), "{}", e.message);
            assert!(
                e.message.ends_with(&format!("{}.", op.name())),
                "{}",
                e.message
            );
        }
    }
    let id = fx.sym();
    fx.update(&id, |r| r.disable(ME).unwrap());
    let body = json!({"KeyId": id, "KeySpec": "AES_256"});
    assert_code(
        fx.call(Operation::GenerateDataKey, body.clone()),
        ErrorCode::Disabled,
    );
    let r = fx.call(
        Operation::GenerateDataKey,
        json!({"KeyId": id, "KeySpec": "AES_256", "DryRun": true}),
    );
    assert_code(r, ErrorCode::Disabled);
    fx.update(&id, |r| r.schedule_deletion(ME, None, 0).unwrap());
    assert_code(
        fx.call(Operation::GenerateDataKey, body),
        ErrorCode::KmsInvalidState,
    );
}

#[test]
fn data_key_pairs_of_every_supported_spec() {
    let fx = Fx::new();
    let id = fx.sym();
    let arn = fx.arn(&id);
    for (spec, asym) in [
        ("ECC_NIST_P256", AsymKeySpec::EccNistP256),
        ("ECC_NIST_P384", AsymKeySpec::EccNistP384),
        ("ECC_NIST_P521", AsymKeySpec::EccNistP521),
        ("RSA_2048", AsymKeySpec::Rsa2048),
    ] {
        let r = fx
            .call(
                Operation::GenerateDataKeyPair,
                json!({"KeyId": id, "KeyPairSpec": spec, "EncryptionContext": {"p": spec}}),
            )
            .unwrap();
        assert_eq!(r["KeyId"], arn.as_str());
        assert_eq!(r["KeyPairSpec"], spec);
        assert_eq!(r["KeyMaterialId"], fx.material(&id).as_str());
        let private = unb64(&r, "PrivateKeyPlaintext");
        let public = unb64(&r, "PublicKey");
        let parsed = AsymPrivateKey::from_pkcs8(asym, &private).unwrap();
        assert_eq!(parsed.public_key_der(), public.as_slice());
        let d = fx
            .call(
                Operation::Decrypt,
                json!({"CiphertextBlob": r["PrivateKeyCiphertextBlob"], "EncryptionContext": {"p": spec}}),
            )
            .unwrap();
        assert_eq!(unb64(&d, "Plaintext"), private);
    }
    let r = fx
        .call(
            Operation::GenerateDataKeyPairWithoutPlaintext,
            json!({"KeyId": id, "KeyPairSpec": "ECC_NIST_P256"}),
        )
        .unwrap();
    assert!(r.get("PrivateKeyPlaintext").is_none());
    let public = unb64(&r, "PublicKey");
    let d = fx
        .call(
            Operation::Decrypt,
            json!({"CiphertextBlob": r["PrivateKeyCiphertextBlob"]}),
        )
        .unwrap();
    let parsed =
        AsymPrivateKey::from_pkcs8(AsymKeySpec::EccNistP256, &unb64(&d, "Plaintext")).unwrap();
    assert_eq!(parsed.public_key_der(), public.as_slice());
}

#[test]
fn data_key_pair_errors() {
    let fx = Fx::new();
    let id = fx.sym();
    for op in [
        Operation::GenerateDataKeyPair,
        Operation::GenerateDataKeyPairWithoutPlaintext,
    ] {
        let r = fx.call(op, json!({"KeyId": id, "KeyPairSpec": "ECC_SECG_P256K1"}));
        assert_code(r, ErrorCode::UnsupportedOperation);
        let r = fx.call(op, json!({"KeyId": id, "KeyPairSpec": "RSA_1024"}));
        assert_code(r, ErrorCode::Validation);
        let r = fx.call(op, json!({"KeyId": id}));
        assert_code(r, ErrorCode::Validation);
        let r = fx.call(
            op,
            json!({"KeyId": "alias/none", "KeyPairSpec": "ECC_NIST_P256"}),
        );
        assert_code(r, ErrorCode::NotFound);
        let r = fx.call(
            op,
            json!({"KeyId": id, "KeyPairSpec": "RSA_4096", "DryRun": true}),
        );
        assert_code(r, ErrorCode::DryRunOperation);
        let rsa = fx.key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
        let r = fx.call(op, json!({"KeyId": rsa, "KeyPairSpec": "ECC_NIST_P256"}));
        assert_code(r, ErrorCode::InvalidKeyUsage);
    }
    fx.update(&id, |r| r.disable(ME).unwrap());
    let r = fx.call(
        Operation::GenerateDataKeyPair,
        json!({"KeyId": id, "KeyPairSpec": "ECC_NIST_P256"}),
    );
    assert_code(r, ErrorCode::Disabled);
}

#[test]
fn generate_random() {
    let fx = Fx::new();
    for n in [1usize, 32, 1024] {
        let r = fx
            .call(Operation::GenerateRandom, json!({"NumberOfBytes": n}))
            .unwrap();
        assert_eq!(unb64(&r, "Plaintext").len(), n);
    }
    let a = fx.call(Operation::GenerateRandom, json!({"NumberOfBytes": 32}));
    let b = fx.call(Operation::GenerateRandom, json!({"NumberOfBytes": 32}));
    assert_ne!(a.unwrap()["Plaintext"], b.unwrap()["Plaintext"]);
    for bad in [
        json!({}),
        json!({"NumberOfBytes": 0}),
        json!({"NumberOfBytes": 1025}),
        json!({"NumberOfBytes": -5}),
    ] {
        assert_code(
            fx.call(Operation::GenerateRandom, bad),
            ErrorCode::Validation,
        );
    }
    let r = fx.call(
        Operation::GenerateRandom,
        json!({"NumberOfBytes": 8, "CustomKeyStoreId": "cks-1"}),
    );
    assert_code(r, ErrorCode::UnsupportedOperation);
}
