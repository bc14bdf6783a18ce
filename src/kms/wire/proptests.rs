//! Property tests of the request parsers: random and mutated bodies into every operation's
//! request type end in a clean `KmsError` (SerializationException or ValidationException),
//! never a panic; error bodies from any server parse into some `KmsError`.

use proptest::prelude::*;
use serde::de::DeserializeOwned;

use super::*;

fn decode_all(body: &[u8]) {
    fn one<T: DeserializeOwned>(body: &[u8]) {
        if let Err(e) = decode_request::<T>(body) {
            assert!(
                matches!(e.code, ErrorCode::Serialization | ErrorCode::Validation),
                "{e}"
            );
        }
    }
    one::<CreateKeyRequest>(body);
    one::<EncryptRequest>(body);
    one::<DecryptRequest>(body);
    one::<ReEncryptRequest>(body);
    one::<GenerateDataKeyRequest>(body);
    one::<GenerateDataKeyPairRequest>(body);
    one::<SignRequest>(body);
    one::<VerifyRequest>(body);
    one::<GenerateMacRequest>(body);
    one::<CreateGrantRequest>(body);
    one::<PutKeyPolicyRequest>(body);
    one::<CreateAliasRequest>(body);
    one::<TagResourceRequest>(body);
    one::<ListKeysRequest>(body);
    one::<EnableKeyRotationRequest>(body);
}

const SEEDS: &[&str] = &[
    r#"{"KeyId":"alias/x","Plaintext":"eA==","EncryptionContext":{"a":"b"},"GrantTokens":["t"]}"#,
    r#"{"CiphertextBlob":"AAEC","KeyId":"k","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}"#,
    r#"{"KeyId":"k","KeySpec":"AES_256","NumberOfBytes":32}"#,
    r#"{"KeyId":"k","Operations":["Decrypt"],"Constraints":{"EncryptionContextSubset":{"a":"b"}}}"#,
    r#"{"Description":"d","KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC","Tags":[{"TagKey":"a","TagValue":"b"}]}"#,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&body);
    }

    #[test]
    fn mutated_bodies_never_panic(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let mut body = SEEDS[seed].as_bytes().to_vec();
        for (at, b) in edits {
            let i = at % body.len();
            body[i] = b;
        }
        let keep = cut % (body.len() + 1);
        decode_all(&body);
        decode_all(&body[..keep]);
    }

    #[test]
    fn any_error_response_parses(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let e = KmsError::from_response(status, &body);
        prop_assert!(!e.code.name().is_empty());
    }
}
