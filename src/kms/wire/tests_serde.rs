//! Serde tests against JSON exactly as boto3 sends it and AWS/moto answer it.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::*;

/// Decodes `json` as `T`, re-encodes it, and checks nothing was lost or added.
fn round_trip<T: Serialize + DeserializeOwned>(json: &str) -> T {
    let value: T = serde_json::from_str(json).unwrap();
    let again = serde_json::to_value(&value).unwrap();
    assert_eq!(
        again,
        serde_json::from_str::<Value>(json).unwrap(),
        "{json}"
    );
    value
}

fn enum_round_trips<T>(all: &[T], as_str: fn(T) -> &'static str)
where
    T: Copy + Debug + PartialEq + Serialize + DeserializeOwned + std::str::FromStr,
{
    for &v in all {
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, format!("\"{}\"", as_str(v)));
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
        assert!(as_str(v).parse::<T>().is_ok_and(|p| p == v));
    }
}

#[test]
fn encrypt_request_exact() {
    let json = r#"{"KeyId":"alias/x","Plaintext":"eA==","EncryptionContext":{"a":"b"}}"#;
    let req: EncryptRequest = serde_json::from_str(json).unwrap();
    assert_eq!(req.key_id, "alias/x");
    assert_eq!(req.plaintext.as_bytes(), b"x");
    assert_eq!(req.encryption_context.as_ref().unwrap()["a"], "b");
    assert_eq!(serde_json::to_string(&req).unwrap(), json);
}

#[test]
fn boto3_requests_decode() {
    let gdk: GenerateDataKeyRequest = round_trip(
        r#"{"KeyId": "alias/exp", "KeySpec": "AES_256", "EncryptionContext": {"volume": "vol-1"}}"#,
    );
    assert_eq!(gdk.key_spec, Some(DataKeySpec::Aes256));
    assert_eq!(gdk.number_of_bytes, None);
    let ck: CreateKeyRequest = round_trip(
        r#"{"Description": "exp", "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"}"#,
    );
    assert_eq!(ck.key_usage, Some(KeyUsage::EncryptDecrypt));
    let dec: DecryptRequest = round_trip(
        r#"{"CiphertextBlob": "AQID", "EncryptionContext": {"volume": "vol-1"}, "KeyId": "k"}"#,
    );
    assert_eq!(dec.ciphertext_blob.as_bytes(), &[1, 2, 3]);
    let sign: SignRequest = round_trip(
        r#"{"KeyId":"k","Message":"AA==","MessageType":"DIGEST","SigningAlgorithm":"ECDSA_SHA_256"}"#,
    );
    assert_eq!(sign.message_type, Some(MessageType::Digest));
    let grant: CreateGrantRequest = round_trip(
        r#"{"KeyId":"k","GranteePrincipal":"arn:aws:iam::1:role/r","Operations":["Decrypt","ReEncryptFrom"],
            "Constraints":{"EncryptionContextSubset":{"volume":"v"}}}"#,
    );
    assert_eq!(grant.operations[1], GrantOperation::ReEncryptFrom);
    let _: ReEncryptRequest = round_trip(
        r#"{"CiphertextBlob":"AQ==","DestinationKeyId":"alias/new","DestinationEncryptionContext":{}}"#,
    );
    let _: TagResourceRequest =
        round_trip(r#"{"KeyId":"k","Tags":[{"TagKey":"env","TagValue":""}]}"#);
    let _: ListKeysRequest = round_trip(r#"{"Limit":1000,"Marker":"m"}"#);
    let _: EnableKeyRotationRequest = round_trip(r#"{"KeyId":"k","RotationPeriodInDays":90}"#);
    let _: VerifyMacRequest =
        round_trip(r#"{"Message":"AA==","KeyId":"k","MacAlgorithm":"HMAC_SHA_256","Mac":"AQ=="}"#);
    let _: GenerateDataKeyPairRequest =
        round_trip(r#"{"KeyId":"k","KeyPairSpec":"ECC_NIST_P256"}"#);
    let _: GenerateRandomRequest = round_trip(r#"{"NumberOfBytes":32}"#);
    let _: ListKeyRotationsRequest =
        round_trip(r#"{"KeyId":"k","IncludeKeyMaterial":"ROTATIONS_ONLY"}"#);
    let _: RetireGrantRequest = round_trip(r#"{"GrantToken":"t"}"#);
    let _: PutKeyPolicyRequest =
        round_trip(r#"{"KeyId":"k","PolicyName":"default","Policy":"{}"}"#);
}

#[test]
fn unknown_request_members_are_ignored() {
    let json = r#"{"KeyId":"k","Plaintext":"eA==","FutureMember":{"x":[1,null]},"DryRun":false}"#;
    let req: EncryptRequest = decode_request(json.as_bytes()).unwrap();
    assert_eq!(req.dry_run, Some(false));
    let _: KeyIdRequest = decode_request(br#"{"KeyId":"k","GrantTokens":["t"]}"#).unwrap();
}

#[test]
fn missing_required_members_fail() {
    type Decoder = fn(&[u8]) -> Result<(), KmsError>;
    let missing: &[(&str, Decoder)] = &[
        (r#"{"EncryptionContext":{}}"#, |b| {
            decode_request::<DecryptRequest>(b).map(drop)
        }),
        (r#"{"KeyId":"k"}"#, |b| {
            decode_request::<TagResourceRequest>(b).map(drop)
        }),
        (r#"{"KeyId":"k","Tags":[{"TagKey":"a"}]}"#, |b| {
            decode_request::<TagResourceRequest>(b).map(drop)
        }),
        (
            r#"{"Message":"AA==","KeyId":"k","MacAlgorithm":"HMAC_SHA_256"}"#,
            |b| decode_request::<VerifyMacRequest>(b).map(drop),
        ),
        (r#"{"CiphertextBlob":"AA=="}"#, |b| {
            decode_request::<ReEncryptRequest>(b).map(drop)
        }),
        (r#"{"KeyId":"k"}"#, |b| {
            decode_request::<UpdateKeyDescriptionRequest>(b).map(drop)
        }),
        (r#"{"AliasName":"alias/a"}"#, |b| {
            decode_request::<CreateAliasRequest>(b).map(drop)
        }),
        (r#"{"KeyMetadata":{"Arn":"a"}}"#, |b| {
            decode_response::<KeyMetadataResponse>(b).map(drop)
        }),
    ];
    for (json, decode) in missing {
        assert!(decode(json.as_bytes()).is_err(), "{json} decoded");
    }
}

#[test]
fn moto_create_key_response_decodes() {
    let json = r#"{"KeyMetadata": {"AWSAccountId": "123456789012",
        "Arn": "arn:aws:kms:us-east-1:123456789012:key/5e05", "CreationDate": 1795934509.884458,
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
        "Description": "exp", "Enabled": true, "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "KeyId": "5e05", "KeyManager": "CUSTOMER", "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": "Enabled", "MultiRegion": null, "Origin": "AWS_KMS", "SigningAlgorithms": null}}"#;
    let resp: CreateKeyResponse = decode_response(json.as_bytes()).unwrap();
    let md = resp.key_metadata.unwrap();
    assert_eq!(md.aws_account_id.as_deref(), Some("123456789012"));
    assert_eq!(md.creation_date, Some(1795934509.884458));
    assert_eq!(md.key_state, Some(KeyState::Enabled));
    assert_eq!(md.key_manager, Some(KeyManager::Customer));
    assert_eq!(md.multi_region, None);
    assert_eq!(md.signing_algorithms, None);
    let out = serde_json::to_value(&md).unwrap();
    assert_eq!(out["AWSAccountId"], "123456789012");
    assert!(out.get("AwsAccountId").is_none() && out.get("MultiRegion").is_none());
}

#[test]
fn key_metadata_round_trip_and_timestamps() {
    let md: KeyMetadata = round_trip(
        r#"{"AWSAccountId":"111122223333","KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab",
            "Arn":"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "CreationDate":1499988169.234,"Enabled":false,"Description":"",
            "KeyUsage":"GENERATE_VERIFY_MAC","KeyState":"PendingDeletion","DeletionDate":1500000000.5,
            "Origin":"AWS_KMS","KeyManager":"CUSTOMER","KeySpec":"HMAC_256",
            "MacAlgorithms":["HMAC_SHA_256"],"MultiRegion":true,
            "MultiRegionConfiguration":{"MultiRegionKeyType":"PRIMARY",
              "PrimaryKey":{"Arn":"arn:p","Region":"us-west-2"},"ReplicaKeys":[]},
            "PendingDeletionWindowInDays":7,"CurrentKeyMaterialId":"m1"}"#,
    );
    assert_eq!(md.mac_algorithms, Some(vec![MacAlgorithm::HmacSha256]));
    let ints: KeyMetadata = serde_json::from_str(
        r#"{"KeyId":"k","CreationDate":1556582400,"DeletionDate":1.5565824E9}"#,
    )
    .unwrap();
    assert_eq!(ints.creation_date, Some(1556582400.0));
    assert_eq!(ints.deletion_date, Some(1556582400.0));
}

#[test]
fn responses_round_trip() {
    let _: EncryptResponse = round_trip(
        r#"{"CiphertextBlob":"AQIDBA==","KeyId":"arn:aws:kms:us-east-1:1:key/k","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}"#,
    );
    let _: GenerateDataKeyResponse = round_trip(
        r#"{"CiphertextBlob":"AQ==","Plaintext":"AAAA","KeyId":"arn","KeyMaterialId":"m"}"#,
    );
    let _: ListAliasesResponse = round_trip(
        r#"{"Aliases":[{"AliasName":"alias/a","AliasArn":"arn:aws:kms:us-east-1:1:alias/a",
            "TargetKeyId":"k","CreationDate":1.5,"LastUpdatedDate":2.5}],"NextMarker":"n","Truncated":true}"#,
    );
    let _: ListGrantsResponse = round_trip(
        r#"{"Grants":[{"KeyId":"arn","GrantId":"g","Name":"n","CreationDate":1.5,"GranteePrincipal":"p",
            "IssuingAccount":"arn:aws:iam::1:root","Operations":["Encrypt","GenerateDataKey"],
            "Constraints":{"EncryptionContextEquals":{"a":"b"}}}],"Truncated":false}"#,
    );
    let _: ListKeysResponse =
        round_trip(r#"{"Keys":[{"KeyId":"k","KeyArn":"arn"}],"Truncated":false}"#);
    let _: ListKeyRotationsResponse = round_trip(
        r#"{"Rotations":[{"KeyId":"k","KeyMaterialId":"m2","KeyMaterialState":"CURRENT",
            "RotationDate":1700000000.5,"RotationType":"ON_DEMAND"}],"Truncated":false}"#,
    );
    let _: GetKeyRotationStatusResponse = round_trip(
        r#"{"KeyRotationEnabled":true,"KeyId":"arn","RotationPeriodInDays":365,"NextRotationDate":1.0}"#,
    );
    let _: ScheduleKeyDeletionResponse = round_trip(
        r#"{"KeyId":"arn","DeletionDate":1700000000.25,"KeyState":"PendingDeletion","PendingWindowInDays":30}"#,
    );
    let _: GetPublicKeyResponse = round_trip(
        r#"{"KeyId":"arn","PublicKey":"MA==","KeySpec":"RSA_2048","KeyUsage":"SIGN_VERIFY",
            "SigningAlgorithms":["RSASSA_PSS_SHA_256","RSASSA_PKCS1_V1_5_SHA_256"]}"#,
    );
    let _: VerifyResponse =
        round_trip(r#"{"KeyId":"arn","SignatureValid":true,"SigningAlgorithm":"ED25519_SHA_512"}"#);
    let _: CreateGrantResponse = round_trip(r#"{"GrantToken":"t","GrantId":"g"}"#);
    let _: GetKeyPolicyResponse = round_trip(r#"{"Policy":"{}","PolicyName":"default"}"#);
    let _: ListResourceTagsResponse =
        round_trip(r#"{"Tags":[{"TagKey":"a","TagValue":"b"}],"Truncated":false}"#);
    let empty: EmptyResponse = round_trip("{}");
    assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
}

#[test]
fn none_members_are_omitted() {
    let resp = DecryptResponse {
        key_id: Some("arn".into()),
        ..DecryptResponse::default()
    };
    assert_eq!(serde_json::to_string(&resp).unwrap(), r#"{"KeyId":"arn"}"#);
    assert_eq!(
        serde_json::to_string(&ListKeysRequest::default()).unwrap(),
        "{}"
    );
}

#[test]
fn debug_of_messages_hides_plaintext() {
    let resp: GenerateDataKeyResponse =
        serde_json::from_str(r#"{"Plaintext":"c2VjcmV0c2VjcmV0","CiphertextBlob":"AQ=="}"#)
            .unwrap();
    let shown = format!("{resp:?}");
    assert!(shown.contains("Blob(12 bytes)"), "{shown}");
    assert!(
        !shown.contains("c2VjcmV0") && !shown.contains("115, 101"),
        "{shown}"
    );
}

#[test]
fn every_enum_value_round_trips() {
    enum_round_trips(KeySpec::ALL, KeySpec::as_str);
    enum_round_trips(KeyUsage::ALL, KeyUsage::as_str);
    enum_round_trips(KeyState::ALL, KeyState::as_str);
    enum_round_trips(EncryptionAlgorithm::ALL, EncryptionAlgorithm::as_str);
    enum_round_trips(SigningAlgorithm::ALL, SigningAlgorithm::as_str);
    enum_round_trips(MacAlgorithm::ALL, MacAlgorithm::as_str);
    enum_round_trips(DataKeySpec::ALL, DataKeySpec::as_str);
    enum_round_trips(DataKeyPairSpec::ALL, DataKeyPairSpec::as_str);
    enum_round_trips(GrantOperation::ALL, GrantOperation::as_str);
    enum_round_trips(MessageType::ALL, MessageType::as_str);
    enum_round_trips(Origin::ALL, Origin::as_str);
    enum_round_trips(KeyManager::ALL, KeyManager::as_str);
    enum_round_trips(ExpirationModel::ALL, ExpirationModel::as_str);
    enum_round_trips(RotationType::ALL, RotationType::as_str);
    enum_round_trips(IncludeKeyMaterial::ALL, IncludeKeyMaterial::as_str);
    enum_round_trips(MultiRegionKeyType::ALL, MultiRegionKeyType::as_str);
    enum_round_trips(KeyEncryptionAlgorithm::ALL, KeyEncryptionAlgorithm::as_str);
    assert_eq!(KeySpec::ALL.len(), 20);
    assert_eq!(SigningAlgorithm::ALL.len(), 13);
    assert_eq!(GrantOperation::ALL.len(), 19);
    assert_eq!(
        SigningAlgorithm::RsassaPkcs1V15Sha384.as_str(),
        "RSASSA_PKCS1_V1_5_SHA_384"
    );
    assert_eq!(KeySpec::EccSecgP256k1.to_string(), "ECC_SECG_P256K1");
    assert!("symmetric_default".parse::<KeySpec>().is_err());
}
