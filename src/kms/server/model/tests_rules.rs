//! Tests of the model's pure checks: key-state and key-usage errors, algorithm-for-spec
//! compatibility, message types, request limits, alias names, AWS managed keys.

use super::test_util::*;
use super::*;

#[test]
fn unusable_states_give_the_aws_errors() {
    let mut rec = symmetric();
    check_usable(&rec).unwrap();
    let arn = rec.arn.clone();
    rec.state = KeyState::Disabled;
    assert_err(
        check_usable(&rec),
        "DisabledException",
        &format!("{arn} is disabled."),
    );
    rec.state = KeyState::PendingDeletion;
    assert_err(
        check_usable(&rec),
        "KMSInvalidStateException",
        &format!("{arn} is pending deletion."),
    );
    rec.state = KeyState::PendingImport;
    assert_err(
        check_usable(&rec),
        "KMSInvalidStateException",
        &format!("{arn} is pending import."),
    );
    for state in [
        KeyState::Unavailable,
        KeyState::Creating,
        KeyState::Updating,
    ] {
        rec.state = state;
        assert_code(check_usable(&rec), "KMSInvalidStateException");
    }
}

#[test]
fn usage_must_fit_the_operation() {
    let sign_key = record(KeySpec::EccNistP256, KeyUsage::SignVerify);
    assert_err(
        check_usage(&sign_key, Operation::Encrypt),
        "InvalidKeyUsageException",
        &format!(
            "{} key usage is SIGN_VERIFY which is not valid for Encrypt.",
            sign_key.arn
        ),
    );
    check_usage(&sign_key, Operation::Sign).unwrap();
    check_usage(&sign_key, Operation::Verify).unwrap();
    let hmac = record(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    assert_code(
        check_usage(&hmac, Operation::Sign),
        "InvalidKeyUsageException",
    );
    assert_code(
        check_usage(&hmac, Operation::Decrypt),
        "InvalidKeyUsageException",
    );
    check_usage(&hmac, Operation::VerifyMac).unwrap();
    let sym = symmetric();
    assert_err(
        check_usage(&sym, Operation::GenerateMac),
        "InvalidKeyUsageException",
        &format!(
            "{} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.",
            sym.arn
        ),
    );
    for op in [
        Operation::Encrypt,
        Operation::GenerateDataKey,
        Operation::GenerateDataKeyPair,
    ] {
        check_usage(&sym, op).unwrap();
    }
    // RSA ENCRYPT_DECRYPT keys encrypt but make no data keys.
    let rsa = record(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    check_usage(&rsa, Operation::Encrypt).unwrap();
    assert_err(
        check_usage(&rsa, Operation::GenerateDataKeyWithoutPlaintext),
        "InvalidKeyUsageException",
        &format!(
            "{} key spec is RSA_2048 which is not valid for GenerateDataKeyWithoutPlaintext.",
            rsa.arn
        ),
    );
}

#[test]
fn algorithms_must_fit_the_key_spec() {
    let p256 = record(KeySpec::EccNistP256, KeyUsage::SignVerify);
    check_signing_algorithm(&p256, SigningAlgorithm::EcdsaSha256).unwrap();
    assert_err(
        check_signing_algorithm(&p256, SigningAlgorithm::EcdsaSha384),
        "InvalidKeyUsageException",
        "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.",
    );
    assert_code(
        check_signing_algorithm(&p256, SigningAlgorithm::RsassaPssSha256),
        "InvalidKeyUsageException",
    );
    let p384 = record(KeySpec::EccNistP384, KeyUsage::SignVerify);
    check_signing_algorithm(&p384, SigningAlgorithm::EcdsaSha384).unwrap();
    assert_code(
        check_signing_algorithm(&p384, SigningAlgorithm::EcdsaSha256),
        "InvalidKeyUsageException",
    );
    let rsa = record(KeySpec::Rsa3072, KeyUsage::SignVerify);
    for alg in KeySpec::Rsa3072.signing_algorithms() {
        check_signing_algorithm(&rsa, *alg).unwrap();
    }
    for alg in [
        SigningAlgorithm::EcdsaSha256,
        SigningAlgorithm::Ed25519Sha512,
    ] {
        assert_code(
            check_signing_algorithm(&rsa, alg),
            "InvalidKeyUsageException",
        );
    }
    let rsa_enc = record(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    check_encryption_algorithm(&rsa_enc, EncryptionAlgorithm::RsaesOaepSha1).unwrap();
    check_encryption_algorithm(&rsa_enc, EncryptionAlgorithm::RsaesOaepSha256).unwrap();
    assert_err(
        check_encryption_algorithm(&rsa_enc, EncryptionAlgorithm::SymmetricDefault),
        "InvalidKeyUsageException",
        "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.",
    );
    let sym = symmetric();
    assert_code(
        check_encryption_algorithm(&sym, EncryptionAlgorithm::RsaesOaepSha256),
        "InvalidKeyUsageException",
    );
    let hmac = record(KeySpec::Hmac384, KeyUsage::GenerateVerifyMac);
    check_mac_algorithm(&hmac, MacAlgorithm::HmacSha384).unwrap();
    assert_err(
        check_mac_algorithm(&hmac, MacAlgorithm::HmacSha256),
        "InvalidKeyUsageException",
        "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_384.",
    );
}

#[test]
fn message_type_and_digest_length() {
    let p256 = record(KeySpec::EccNistP256, KeyUsage::SignVerify);
    let c = check_signing_algorithm(&p256, SigningAlgorithm::EcdsaSha256).unwrap();
    let alg = SigningAlgorithm::EcdsaSha256;
    check_message_type(&p256, c, alg, MessageType::Raw, 4096).unwrap();
    check_message_type(&p256, c, alg, MessageType::Digest, 32).unwrap();
    assert_err(
        check_message_type(&p256, c, alg, MessageType::Digest, 31),
        "ValidationException",
        "Digest is invalid length for algorithm ECDSA_SHA_256.",
    );
    assert_err(
        check_message_type(&p256, c, alg, MessageType::ExternalMu, 64),
        "ValidationException",
        "Message type EXTERNAL_MU is incompatible with key spec ECC_NIST_P256.",
    );
}

#[test]
fn request_limits() {
    check_blob_len("plaintext", 1, MAX_PLAINTEXT).unwrap();
    check_blob_len("plaintext", 4096, MAX_PLAINTEXT).unwrap();
    assert_err(
        check_blob_len("plaintext", 0, MAX_PLAINTEXT),
        "ValidationException",
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: \
         Member must have length greater than or equal to 1",
    );
    assert_err(
        check_blob_len("plaintext", 4097, MAX_PLAINTEXT),
        "ValidationException",
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: \
         Member must have length less than or equal to 4096",
    );
    assert_eq!(data_key_len(Some(DataKeySpec::Aes256), None).unwrap(), 32);
    assert_eq!(data_key_len(Some(DataKeySpec::Aes128), None).unwrap(), 16);
    assert_eq!(data_key_len(None, Some(1)).unwrap(), 1);
    assert_eq!(data_key_len(None, Some(1024)).unwrap(), 1024);
    assert_err(
        data_key_len(None, Some(1025)),
        "ValidationException",
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy \
         constraint: Member must have value less than or equal to 1024",
    );
    assert_code(data_key_len(None, Some(0)), "ValidationException");
    for (spec, n) in [(None, None), (Some(DataKeySpec::Aes256), Some(32))] {
        assert_err(
            data_key_len(spec, n),
            "ValidationException",
            "Please specify either number of bytes or key spec.",
        );
    }
    check_grant_tokens(0).unwrap();
    check_grant_tokens(10).unwrap();
    assert_code(check_grant_tokens(11), "ValidationException");
    assert_eq!(pending_window(None).unwrap(), 30);
    assert_eq!(pending_window(Some(7)).unwrap(), 7);
    assert_eq!(pending_window(Some(30)).unwrap(), 30);
    for bad in [0, 6, 31, 365] {
        assert_code(pending_window(Some(bad)), "ValidationException");
    }
    check_range("rotationPeriodInDays", 90, &ROTATION_PERIOD_DAYS).unwrap();
    check_range("rotationPeriodInDays", 2560, &ROTATION_PERIOD_DAYS).unwrap();
    assert_err(
        check_range("rotationPeriodInDays", 89, &ROTATION_PERIOD_DAYS),
        "ValidationException",
        "1 validation error detected: Value '89' at 'rotationPeriodInDays' failed to satisfy \
         constraint: Member must have value greater than or equal to 90",
    );
    assert_code(
        check_range("rotationPeriodInDays", 2561, &ROTATION_PERIOD_DAYS),
        "ValidationException",
    );
}

#[test]
fn alias_name_rules() {
    let long_ok = format!("alias/{}", "a".repeat(250));
    for good in [
        "alias/my-key",
        "alias/a",
        "alias/app/prod_key-1",
        "alias/aws",
        long_ok.as_str(),
    ] {
        check_alias_name(good).unwrap();
    }
    let too_long = format!("alias/{}", "a".repeat(251));
    for bad in [
        "my-key",
        "alias/",
        "alias",
        "Alias/x",
        "alias/a:b",
        "alias/a b",
        "alias/ключ",
        "alias/a.b",
        too_long.as_str(),
    ] {
        assert_code(check_alias_name(bad), "InvalidAliasNameException");
    }
    for reserved in ["alias/aws/ebs", "alias/aws/x/y"] {
        let e = check_alias_name(reserved).unwrap_err();
        assert_eq!(e.aws_code(), "InvalidAliasNameException");
        assert!(e.message().contains("reserved"));
    }
}

#[test]
fn aws_managed_keys_refuse_admin_actions_with_access_denied() {
    let mut rec = symmetric();
    check_customer_managed(&rec, AdminAction::DisableKey, ME).unwrap();
    rec.manager = KeyManager::Aws;
    assert_err(
        check_customer_managed(&rec, AdminAction::DisableKey, ME),
        "AccessDeniedException",
        &format!(
            "User: {ME} is not authorized to perform: kms:DisableKey on resource: {} because \
             no resource-based policy allows the kms:DisableKey action",
            rec.arn
        ),
    );
}
