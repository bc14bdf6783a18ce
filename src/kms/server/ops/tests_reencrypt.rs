//! RSA-OAEP Encrypt/Decrypt and ReEncrypt through a real `Kms`: round trips, moving a blob
//! to another key, context and material, and the errors of each side.

use serde_json::{json, Value};

use super::tests_crypto_util::{assert_code, b64, decrypt, encrypt, unb64, Fx, ME};
use crate::kms::server::model::{KeySpec, KeyUsage};
use crate::kms::wire::{ErrorCode, Operation};

#[test]
fn rsa_oaep_encrypt_decrypt() {
    let fx = Fx::new();
    let id = fx.key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let arn = fx.arn(&id);
    for alg in ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] {
        let r = fx
            .call(
                Operation::Encrypt,
                json!({"KeyId": id, "Plaintext": b64(b"rsa secret"), "EncryptionAlgorithm": alg}),
            )
            .unwrap();
        assert_eq!(r["EncryptionAlgorithm"], alg);
        assert_eq!(r["KeyId"], arn.as_str());
        let ct = unb64(&r, "CiphertextBlob");
        assert_eq!(ct.len(), 256);
        let d = fx
            .call(
                Operation::Decrypt,
                json!({"CiphertextBlob": b64(&ct), "KeyId": id, "EncryptionAlgorithm": alg}),
            )
            .unwrap();
        assert_eq!(unb64(&d, "Plaintext"), b"rsa secret");
        assert_eq!(d["KeyId"], arn.as_str());
        assert!(d.get("KeyMaterialId").is_none());
        let r = fx.call(
            Operation::Decrypt,
            json!({"CiphertextBlob": b64(&ct), "EncryptionAlgorithm": alg}),
        );
        assert_code(r, ErrorCode::Validation);
        let mut bad = ct.clone();
        bad[10] ^= 1;
        let r = fx.call(
            Operation::Decrypt,
            json!({"CiphertextBlob": b64(&bad), "KeyId": id, "EncryptionAlgorithm": alg}),
        );
        assert_code(r, ErrorCode::InvalidCiphertext);
    }
    // SYMMETRIC_DEFAULT does not fit an RSA key; RSA takes no context; OAEP has a size limit.
    let r = fx.call(
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    );
    assert_code(r, ErrorCode::InvalidKeyUsage);
    let r = fx.call(
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"x"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256",
               "EncryptionContext": {"a": "b"}}),
    );
    assert_code(r, ErrorCode::Validation);
    let r = fx.call(
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": b64(&[1u8; 191]), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
    );
    assert_code(r, ErrorCode::Validation);
}

#[test]
fn re_encrypt_moves_a_blob_to_another_key_and_context() {
    let fx = Fx::new();
    let (a, b) = (fx.sym(), fx.sym());
    let blob = encrypt(&fx, &a, b"volume key", json!({"vol": "1"}));
    let r = fx
        .call(
            Operation::ReEncrypt,
            json!({"CiphertextBlob": b64(&blob), "SourceEncryptionContext": {"vol": "1"},
                   "DestinationKeyId": b, "DestinationEncryptionContext": {"vol": "2"}}),
        )
        .unwrap();
    assert_eq!(r["SourceKeyId"], fx.arn(&a).as_str());
    assert_eq!(r["KeyId"], fx.arn(&b).as_str());
    assert_eq!(r["SourceEncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    assert_eq!(r["DestinationEncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    assert_eq!(r["SourceKeyMaterialId"], fx.material(&a).as_str());
    assert_eq!(r["DestinationKeyMaterialId"], fx.material(&b).as_str());
    assert!(r.get("Plaintext").is_none());
    let new = unb64(&r, "CiphertextBlob");
    let d = decrypt(&fx, &new, json!({"vol": "2"})).unwrap();
    assert_eq!(unb64(&d, "Plaintext"), b"volume key");
    assert_eq!(d["KeyId"], fx.arn(&b).as_str());
    assert_code(
        decrypt(&fx, &new, json!({"vol": "1"})),
        ErrorCode::InvalidCiphertext,
    );

    // Rotation then rewrap onto the same key's new material.
    fx.update(&a, |r| r.rotate_on_demand(ME, 5).map(|_| ()).unwrap());
    let r = fx
        .call(
            Operation::ReEncrypt,
            json!({"CiphertextBlob": b64(&blob), "SourceEncryptionContext": {"vol": "1"},
                   "SourceKeyId": a, "DestinationKeyId": a, "DestinationEncryptionContext": {"vol": "1"}}),
        )
        .unwrap();
    assert_ne!(r["SourceKeyMaterialId"], r["DestinationKeyMaterialId"]);
    assert_eq!(r["DestinationKeyMaterialId"], fx.material(&a).as_str());

    let base = json!({"CiphertextBlob": b64(&blob), "SourceEncryptionContext": {"vol": "1"}, "DestinationKeyId": b});
    let with = |extra: Value| {
        let mut body = base.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        fx.call(Operation::ReEncrypt, body)
    };
    assert_code(with(json!({"SourceKeyId": b})), ErrorCode::IncorrectKey);
    assert_code(
        with(json!({"SourceEncryptionContext": {}})),
        ErrorCode::InvalidCiphertext,
    );
    assert_code(
        with(json!({"DestinationKeyId": "alias/none"})),
        ErrorCode::NotFound,
    );
    let rsa = fx.key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let r = with(
        json!({"DestinationKeyId": rsa, "DestinationEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
    )
    .unwrap();
    assert!(r.get("DestinationKeyMaterialId").is_none());
    let d = fx
        .call(
            Operation::Decrypt,
            json!({"CiphertextBlob": r["CiphertextBlob"], "KeyId": rsa,
                   "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
        )
        .unwrap();
    assert_eq!(unb64(&d, "Plaintext"), b"volume key");
    fx.update(&b, |r| r.disable(ME).unwrap());
    assert_code(with(json!({})), ErrorCode::Disabled);
}
