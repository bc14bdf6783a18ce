//! Tests of the model's errors, wire names and tables, key creation and key material: AWS
//! codes and statuses, enum names, spec tables against the crypto layer, CreateKey validation,
//! export/import of material.

use super::test_util::*;
use super::*;

#[test]
fn every_error_has_its_aws_code_and_status() {
    let m = || "m".to_owned();
    let table = [
        (ModelError::Disabled(m()), "DisabledException", 400),
        (
            ModelError::InvalidState(m()),
            "KMSInvalidStateException",
            400,
        ),
        (
            ModelError::InvalidKeyUsage(m()),
            "InvalidKeyUsageException",
            400,
        ),
        (ModelError::IncorrectKey(m()), "IncorrectKeyException", 400),
        (
            ModelError::InvalidCiphertext,
            "InvalidCiphertextException",
            400,
        ),
        (
            ModelError::InvalidSignature,
            "KMSInvalidSignatureException",
            400,
        ),
        (ModelError::InvalidMac, "KMSInvalidMacException", 400),
        (
            ModelError::InvalidAliasName(m()),
            "InvalidAliasNameException",
            400,
        ),
        (
            ModelError::LimitExceeded(m()),
            "LimitExceededException",
            400,
        ),
        (
            ModelError::UnsupportedOperation(m()),
            "UnsupportedOperationException",
            400,
        ),
        (ModelError::Validation(m()), "ValidationException", 400),
        (ModelError::AccessDenied(m()), "AccessDeniedException", 400),
        (ModelError::Internal(m()), "KMSInternalException", 500),
    ];
    for (e, code, status) in table {
        assert_eq!(e.aws_code(), code);
        assert_eq!(e.http_status(), status);
        assert!(e.to_string().starts_with(code));
    }
    assert_eq!(ModelError::InvalidCiphertext.message(), "");
    assert_eq!(
        ModelError::InvalidCiphertext.to_string(),
        "InvalidCiphertextException"
    );
    assert_eq!(
        ModelError::from(crate::kms::server::blob::BlobError::InvalidCiphertext),
        ModelError::InvalidCiphertext
    );
}

#[test]
fn spec_tables_agree_with_the_crypto_layer() {
    for spec in KeySpec::ALL.iter().copied() {
        match spec.kind() {
            SpecKind::Asymmetric(a) => {
                assert!(!spec.signing_algorithms().is_empty());
                for alg in spec.signing_algorithms() {
                    assert!(alg.to_crypto().unwrap().supports(a), "{spec} {alg}");
                }
                for alg in spec.encryption_algorithms() {
                    assert!(a.is_rsa() && alg.oaep_hash().is_some());
                }
            }
            SpecKind::Hmac(m) => {
                assert_eq!(spec.mac_algorithms().len(), 1);
                assert_eq!(spec.mac_algorithms()[0].to_crypto(), m);
                assert_eq!(spec.allowed_usages(), [KeyUsage::GenerateVerifyMac]);
            }
            SpecKind::Symmetric => {
                assert_eq!(
                    spec.encryption_algorithms(),
                    [EncryptionAlgorithm::SymmetricDefault]
                );
            }
            SpecKind::Unsupported => {}
        }
    }
}

#[test]
fn create_key_validation() {
    assert_eq!(
        validate_new_key(KeySpec::SymmetricDefault, None, "").unwrap(),
        KeyUsage::EncryptDecrypt
    );
    assert_eq!(
        validate_new_key(KeySpec::Hmac512, Some(KeyUsage::GenerateVerifyMac), "").unwrap(),
        KeyUsage::GenerateVerifyMac
    );
    assert_eq!(
        validate_new_key(KeySpec::Rsa4096, Some(KeyUsage::EncryptDecrypt), "").unwrap(),
        KeyUsage::EncryptDecrypt
    );
    assert_err(
        validate_new_key(KeySpec::Hmac256, None, ""),
        "ValidationException",
        "KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec HMAC_256.",
    );
    assert_code(
        validate_new_key(KeySpec::EccNistP256, Some(KeyUsage::EncryptDecrypt), ""),
        "ValidationException",
    );
    assert_code(
        validate_new_key(KeySpec::EccNistP256, Some(KeyUsage::KeyAgreement), ""),
        "UnsupportedOperationException",
    );
    assert_err(
        validate_new_key(KeySpec::Sm2, Some(KeyUsage::SignVerify), ""),
        "UnsupportedOperationException",
        "KeySpec SM2 is not supported by this server.",
    );
    assert_code(
        validate_new_key(KeySpec::SymmetricDefault, None, &"d".repeat(8193)),
        "ValidationException",
    );
    validate_new_key(KeySpec::SymmetricDefault, None, &"d".repeat(8192)).unwrap();
}

#[test]
fn wire_names_round_trip() {
    fn all<E: WireEnum + PartialEq + std::fmt::Debug>() {
        for v in E::ALL {
            assert_eq!(E::parse(v.as_str()), Some(*v));
        }
    }
    all::<KeySpec>();
    all::<KeyUsage>();
    all::<KeyState>();
    all::<KeyManager>();
    all::<Origin>();
    all::<EncryptionAlgorithm>();
    all::<SigningAlgorithm>();
    all::<MacAlgorithm>();
    all::<MessageType>();
    all::<DataKeySpec>();
    all::<DataKeyPairSpec>();
    all::<RotationType>();
    assert_eq!(KeySpec::ALL.len(), 20);
    assert_eq!(SigningAlgorithm::ALL.len(), 13);
    assert_eq!(
        parse_enum::<KeySpec>("SYMMETRIC_DEFAULT", "keySpec").unwrap(),
        KeySpec::SymmetricDefault
    );
    assert_err(
        parse_enum::<DataKeySpec>("AES_512", "keySpec"),
        "ValidationException",
        "1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy \
         constraint: Member must satisfy enum value set: [AES_256, AES_128]",
    );
    assert!(parse_enum::<KeyUsage>("encrypt_decrypt", "keyUsage").is_err());
}

#[test]
fn created_keys_have_aws_shaped_ids_and_metadata() {
    let rec = KeyRecord::create(new_key(KeySpec::SymmetricDefault, None), 1_700_000_000).unwrap();
    let id = rec.key_id();
    assert_eq!(id.len(), 36);
    assert_eq!(
        rec.arn,
        format!("arn:aws:kms:us-east-1:111122223333:key/{id}")
    );
    assert_eq!(rec.state, KeyState::Enabled);
    assert!(rec.enabled());
    assert_eq!(rec.origin, Origin::AwsKms);
    assert_eq!(rec.created, 1_700_000_000);
    assert_eq!(rec.materials.len(), 1);
    assert_eq!(rec.materials[0].rotation, None);
    assert_eq!(rec.current_material().unwrap().id.to_hex().len(), 64);
    assert!(!rec.rotation.enabled);
    assert_eq!(
        rec.encryption_algorithms(),
        [EncryptionAlgorithm::SymmetricDefault]
    );
    assert!(rec.signing_algorithms().is_empty() && rec.mac_algorithms().is_empty());
    let debug = format!("{rec:?}");
    assert!(debug.contains("redacted"));
    let other = KeyRecord::create(new_key(KeySpec::SymmetricDefault, None), 0).unwrap();
    assert_ne!(other.id, rec.id);
    let hmac = KeyRecord::create(
        new_key(KeySpec::Hmac224, Some(KeyUsage::GenerateVerifyMac)),
        0,
    )
    .unwrap();
    assert_eq!(
        hmac.current_material().unwrap().mac_key().unwrap().len(),
        28
    );
    assert_eq!(hmac.mac_algorithms(), [MacAlgorithm::HmacSha224]);
    assert_code(
        KeyRecord::create(new_key(KeySpec::MlDsa44, Some(KeyUsage::SignVerify)), 0),
        "UnsupportedOperationException",
    );
}

#[test]
fn material_export_import_round_trip() {
    for spec in [
        KeySpec::SymmetricDefault,
        KeySpec::Hmac256,
        KeySpec::EccNistP384,
        KeySpec::Rsa2048,
    ] {
        let m = material(spec);
        let secret = m.export_secret();
        let back = KeyMaterial::import(spec, m.id, m.created, m.rotation, secret.expose()).unwrap();
        assert_eq!(back.export_secret().expose(), secret.expose());
        assert_eq!(back.id, m.id);
        assert_code(
            KeyMaterial::import(spec, m.id, 0, None, b"short"),
            "KMSInternalException",
        );
    }
}
