//! Encrypt, Decrypt and ReEncrypt through a real `Kms`: success paths, encryption context
//! binding, tampered blobs, wrong keys, old materials after rotation, key states, usages,
//! limits, DryRun, RSA-OAEP, AWS managed keys and the audit record.

use serde_json::{json, Value};

use super::tests_crypto_util::{assert_code, b64, decrypt, encrypt, unb64, Fx, ME};
use crate::kms::server::model::{KeySpec, KeyUsage};
use crate::kms::wire::{ErrorCode, Operation};

#[test]
fn encrypt_decrypt_round_trip_by_id_arn_and_alias() {
    let fx = Fx::new();
    let id = fx.sym();
    let arn = fx.arn(&id);
    fx.alias("alias/app", &id);
    for name in [id.clone(), arn.clone(), "alias/app".to_owned()] {
        let r = fx
            .call(
                Operation::Encrypt,
                json!({"KeyId": name, "Plaintext": b64(b"hello"), "EncryptionContext": {"v": "1"}}),
            )
            .unwrap();
        assert_eq!(r["KeyId"], arn.as_str());
        assert_eq!(r["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
        let blob = unb64(&r, "CiphertextBlob");
        let d = decrypt(&fx, &blob, json!({"v": "1"})).unwrap();
        assert_eq!(unb64(&d, "Plaintext"), b"hello");
        assert_eq!(d["KeyId"], arn.as_str());
        assert_eq!(d["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
        assert_eq!(d["KeyMaterialId"], fx.material(&id).as_str());
        // KeyId given (any form) and right.
        let d = fx
            .call(
                Operation::Decrypt,
                json!({"CiphertextBlob": b64(&blob), "EncryptionContext": {"v": "1"}, "KeyId": name}),
            )
            .unwrap();
        assert_eq!(unb64(&d, "Plaintext"), b"hello");
    }
}

#[test]
fn plaintext_limits_and_request_shape() {
    let fx = Fx::new();
    let id = fx.sym();
    let max = vec![7u8; 4096];
    let blob = encrypt(&fx, &id, &max, json!({}));
    assert_eq!(
        unb64(&decrypt(&fx, &blob, json!({})).unwrap(), "Plaintext"),
        max
    );
    for pt in [vec![0u8; 4097], vec![]] {
        let r = fx.call(
            Operation::Encrypt,
            json!({"KeyId": id, "Plaintext": b64(&pt)}),
        );
        let e = assert_code(r, ErrorCode::Validation);
        assert!(e.message.contains("'plaintext'"), "{}", e.message);
    }
    let tokens: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let r = fx.call(
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"x"), "GrantTokens": tokens}),
    );
    assert_code(r, ErrorCode::Validation);
    let r = fx.call(Operation::Encrypt, json!({"Plaintext": b64(b"x")}));
    assert_code(r, ErrorCode::Validation);
    let r = fx.call(
        Operation::Encrypt,
        json!({"KeyId": "alias/nope", "Plaintext": b64(b"x")}),
    );
    assert_code(r, ErrorCode::NotFound);
    let r = fx.call(Operation::Decrypt, json!({"CiphertextBlob": ""}));
    assert_code(r, ErrorCode::Validation);
    let r = fx.call(
        Operation::Decrypt,
        json!({"CiphertextBlob": b64(&vec![1u8; 6145])}),
    );
    assert_code(r, ErrorCode::Validation);
}

#[test]
fn encryption_context_must_match_exactly() {
    let fx = Fx::new();
    let id = fx.sym();
    let blob = encrypt(&fx, &id, b"secret", json!({"a": "bc"}));
    for wrong in [
        json!({"ab": "c"}),
        json!({}),
        json!({"a": "bc", "x": "y"}),
        json!({"A": "bc"}),
        json!({"a": "BC"}),
    ] {
        let e = assert_code(decrypt(&fx, &blob, wrong), ErrorCode::InvalidCiphertext);
        assert_eq!(e.message, "");
    }
    decrypt(&fx, &blob, json!({"a": "bc"})).unwrap();
    // Order of pairs is irrelevant; no context and {} are the same context.
    let blob = encrypt(&fx, &id, b"s", json!({"x": "1", "y": "2"}));
    let body = format!(
        r#"{{"CiphertextBlob":{},"EncryptionContext":{{"y":"2","x":"1"}}}}"#,
        b64(&blob)
    );
    fx.kms
        .handle(&fx.caller, Operation::Decrypt, body.as_bytes())
        .unwrap();
    let blob = encrypt(&fx, &id, b"s", json!({}));
    fx.call(Operation::Decrypt, json!({"CiphertextBlob": b64(&blob)}))
        .unwrap();
}

#[test]
fn tampered_truncated_and_foreign_blobs_are_invalid_ciphertext() {
    let fx = Fx::new();
    let id = fx.sym();
    let blob = encrypt(&fx, &id, b"payload", json!({}));
    for i in [0, 1, 20, 50, 66, 77, blob.len() - 1] {
        let mut bad = blob.clone();
        bad[i] ^= 1;
        let e = assert_code(decrypt(&fx, &bad, json!({})), ErrorCode::InvalidCiphertext);
        assert_eq!(e.message, "", "byte {i}");
    }
    for bad in [&blob[..blob.len() - 1], &blob[..40], b"garbage".as_slice()] {
        assert_code(decrypt(&fx, bad, json!({})), ErrorCode::InvalidCiphertext);
    }
    // A blob of another server's key (unknown key uuid).
    let mut other = blob.clone();
    other[1..17].copy_from_slice(&[9u8; 16]);
    assert_code(
        decrypt(&fx, &other, json!({})),
        ErrorCode::InvalidCiphertext,
    );
}

#[test]
fn wrong_key_id_is_incorrect_key() {
    let fx = Fx::new();
    let (a, b) = (fx.sym(), fx.sym());
    let blob = encrypt(&fx, &a, b"x", json!({}));
    let r = fx.call(
        Operation::Decrypt,
        json!({"CiphertextBlob": b64(&blob), "KeyId": b}),
    );
    assert_code(r, ErrorCode::IncorrectKey);
    let r = fx.call(
        Operation::Decrypt,
        json!({"CiphertextBlob": b64(&blob), "KeyId": "alias/missing"}),
    );
    assert_code(r, ErrorCode::NotFound);
    // An HMAC key named for a symmetric blob does not fit SYMMETRIC_DEFAULT.
    let mac = fx.key(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    let r = fx.call(
        Operation::Decrypt,
        json!({"CiphertextBlob": b64(&blob), "KeyId": mac}),
    );
    assert_code(r, ErrorCode::InvalidKeyUsage);
}

#[test]
fn every_material_decrypts_after_rotation() {
    let fx = Fx::new();
    let id = fx.sym();
    let m1 = fx.material(&id);
    let old = encrypt(&fx, &id, b"before", json!({"k": "v"}));
    fx.update(&id, |r| r.rotate_on_demand(ME, 10).map(|_| ()).unwrap());
    let m2 = fx.material(&id);
    assert_ne!(m1, m2);
    let new = encrypt(&fx, &id, b"after", json!({"k": "v"}));
    let d = decrypt(&fx, &old, json!({"k": "v"})).unwrap();
    assert_eq!(unb64(&d, "Plaintext"), b"before");
    assert_eq!(d["KeyMaterialId"], m1.as_str());
    let d = decrypt(&fx, &new, json!({"k": "v"})).unwrap();
    assert_eq!(unb64(&d, "Plaintext"), b"after");
    assert_eq!(d["KeyMaterialId"], m2.as_str());
}

#[test]
fn key_states_and_usages_are_enforced() {
    let fx = Fx::new();
    let id = fx.sym();
    let arn = fx.arn(&id);
    let blob = encrypt(&fx, &id, b"x", json!({}));
    fx.update(&id, |r| r.disable(ME).unwrap());
    let enc = json!({"KeyId": id, "Plaintext": b64(b"x")});
    let e = assert_code(
        fx.call(Operation::Encrypt, enc.clone()),
        ErrorCode::Disabled,
    );
    assert_eq!(e.message, format!("{arn} is disabled."));
    assert_code(decrypt(&fx, &blob, json!({})), ErrorCode::Disabled);
    fx.update(&id, |r| r.schedule_deletion(ME, Some(7), 0).unwrap());
    let e = assert_code(fx.call(Operation::Encrypt, enc), ErrorCode::KmsInvalidState);
    assert_eq!(e.message, format!("{arn} is pending deletion."));
    assert_code(decrypt(&fx, &blob, json!({})), ErrorCode::KmsInvalidState);

    for (spec, usage) in [
        (KeySpec::Hmac256, KeyUsage::GenerateVerifyMac),
        (KeySpec::EccNistP256, KeyUsage::SignVerify),
        (KeySpec::Rsa2048, KeyUsage::SignVerify),
    ] {
        let k = fx.key(spec, usage);
        let r = fx.call(
            Operation::Encrypt,
            json!({"KeyId": k, "Plaintext": b64(b"x")}),
        );
        assert_code(r, ErrorCode::InvalidKeyUsage);
    }
    // OAEP on a symmetric key.
    let k = fx.sym();
    let r = fx.call(
        Operation::Encrypt,
        json!({"KeyId": k, "Plaintext": b64(b"x"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}),
    );
    assert_code(r, ErrorCode::InvalidKeyUsage);
    let r = fx.call(
        Operation::Encrypt,
        json!({"KeyId": k, "Plaintext": b64(b"x"), "EncryptionAlgorithm": "AES"}),
    );
    assert_code(r, ErrorCode::Validation);
}

#[test]
fn dry_run_checks_everything_then_refuses() {
    let fx = Fx::new();
    let id = fx.sym();
    let blob = encrypt(&fx, &id, b"x", json!({"c": "1"}));
    let r = fx.call(
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"x"), "DryRun": true}),
    );
    let e = assert_code(r, ErrorCode::DryRunOperation);
    assert!(e.message.contains("DryRun"), "{}", e.message);
    let dry = |extra: Value| {
        let mut body =
            json!({"CiphertextBlob": b64(&blob), "EncryptionContext": {"c": "1"}, "DryRun": true});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        fx.call(Operation::Decrypt, body)
    };
    assert_code(dry(json!({})), ErrorCode::DryRunOperation);
    assert_code(
        dry(json!({"EncryptionContext": {"c": "2"}})),
        ErrorCode::InvalidCiphertext,
    );
    let r = dry(
        json!({"CiphertextBlob": b64(b"junk"), "KeyId": id, "DryRunModifiers": ["IGNORE_CIPHERTEXT"]}),
    );
    assert_code(r, ErrorCode::DryRunOperation);
    let r = dry(json!({"CiphertextBlob": b64(b"junk"), "DryRunModifiers": ["IGNORE_CIPHERTEXT"]}));
    assert_code(r, ErrorCode::Validation);
    assert_code(
        dry(json!({"DryRunModifiers": ["NOPE"]})),
        ErrorCode::Validation,
    );
    let r = fx.call(
        Operation::ReEncrypt,
        json!({"CiphertextBlob": b64(&blob), "SourceEncryptionContext": {"c": "1"},
               "DestinationKeyId": id, "DryRun": true}),
    );
    assert_code(r, ErrorCode::DryRunOperation);
    // A failing check wins over DryRun.
    fx.update(&id, |r| r.disable(ME).unwrap());
    let r = fx.call(
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"x"), "DryRun": true}),
    );
    assert_code(r, ErrorCode::Disabled);
    let r = dry(
        json!({"CiphertextBlob": b64(b"junk"), "KeyId": id, "DryRunModifiers": ["IGNORE_CIPHERTEXT"]}),
    );
    assert_code(r, ErrorCode::Disabled);
}

#[test]
fn managed_alias_is_created_on_first_use() {
    let fx = Fx::new();
    let r = fx
        .call(
            Operation::Encrypt,
            json!({"KeyId": "alias/aws/volcrypt", "Plaintext": b64(b"x")}),
        )
        .unwrap();
    let arn = r["KeyId"].as_str().unwrap().to_owned();
    let r = fx
        .call(
            Operation::GenerateDataKey,
            json!({"KeyId": "alias/aws/volcrypt", "KeySpec": "AES_256"}),
        )
        .unwrap();
    assert_eq!(r["KeyId"], arn.as_str());
    let r = fx.call(
        Operation::Encrypt,
        json!({"KeyId": "alias/aws/other", "Plaintext": b64(b"x")}),
    );
    assert_code(r, ErrorCode::NotFound);
}

#[test]
fn audit_records_key_and_context_but_no_plaintext() {
    let fx = Fx::new();
    let id = fx.sym();
    let (r, ev) = fx.call_audited(
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"TOPSECRET"), "EncryptionContext": {"vol": "v-1"}}),
    );
    let out: Value = serde_json::from_slice(&r.unwrap()).unwrap();
    assert_eq!(ev.key_arn.as_deref(), Some(fx.arn(&id).as_str()));
    assert_eq!(ev.context.as_deref(), Some(r#"{"vol":"v-1"}"#));
    let shown = format!("{ev:?}");
    assert!(!shown.contains("TOPSECRET") && !shown.contains("VE9QU0VDUkVU"));
    let (r, ev) = fx.call_audited(
        Operation::Decrypt,
        json!({"CiphertextBlob": out["CiphertextBlob"], "EncryptionContext": {"vol": "v-2"}}),
    );
    assert_eq!(r.unwrap_err().code, ErrorCode::InvalidCiphertext);
    assert_eq!(ev.key_arn.as_deref(), Some(fx.arn(&id).as_str()));
    let (_, ev) = fx.call_audited(
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    );
    assert_eq!(ev.context, None);
}
