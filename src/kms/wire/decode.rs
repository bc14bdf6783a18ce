//! Body (de)serialization with AWS's error mapping.
//!
//! The server decodes every request with [`decode_request`], which maps serde failures the way
//! AWS's JSON front end reports them:
//! - not JSON, truncated JSON, or a member of the wrong JSON type (`"Limit":"5"`, a blob that
//!   is not base64) → `SerializationException`;
//! - a required member missing → `ValidationException`, `Value null at '<member>' failed to
//!   satisfy constraint: Member must not be null` (member in lowerCamel case, as AWS prints);
//! - an enum value outside the model's set → `ValidationException`, `... Member must satisfy
//!   enum value set: [...]`.
//!
//! Messages never echo blob contents (the blob decoder does not include its input).

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{ErrorCode, KmsError};

/// Decodes a request body. An empty body reads as `{}` (boto3 always sends `{}`; curl users
/// may send nothing).
pub fn decode_request<T: DeserializeOwned>(body: &[u8]) -> Result<T, KmsError> {
    serde_json::from_slice(or_empty_object(body, false)).map_err(|e| request_error(&e))
}

/// Decodes a success response (client side). An empty body or `null` (moto's answer to
/// operations without output) reads as `{}`. Failure is `KMSInternalException`: the server
/// sent something that is not the expected shape.
pub fn decode_response<T: DeserializeOwned>(body: &[u8]) -> Result<T, KmsError> {
    serde_json::from_slice(or_empty_object(body, true))
        .map_err(|e| KmsError::internal(format!("unreadable KMS response: {e}")))
}

/// Encodes a response body. Failure (not possible for this module's types) is
/// `KMSInternalException`.
pub fn encode_response<T: Serialize>(value: &T) -> Result<Vec<u8>, KmsError> {
    serde_json::to_vec(value).map_err(|e| KmsError::internal(format!("encoding response: {e}")))
}

fn or_empty_object(body: &[u8], null_too: bool) -> &[u8] {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() || (null_too && trimmed == b"null") {
        b"{}"
    } else {
        body
    }
}

/// Maps a request decoding failure to the error AWS would send.
fn request_error(err: &serde_json::Error) -> KmsError {
    let text = err.to_string();
    // serde_json appends " at line L column C"; AWS messages have no position.
    let bare = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    if err.classify() == serde_json::error::Category::Data {
        if let Some(rest) = bare.strip_prefix("missing field `") {
            let member = rest.split('`').next().unwrap_or_default();
            return KmsError::missing_member(&lower_camel(member));
        }
        if bare.starts_with("unknown variant `") {
            return enum_error(bare);
        }
    }
    KmsError::new(ErrorCode::Serialization, bare)
}

/// `unknown variant `X`, expected one of `A`, `B`` → AWS's enum-set validation message.
fn enum_error(serde_text: &str) -> KmsError {
    let mut quoted = serde_text.split('`').skip(1).step_by(2);
    let value = quoted.next().unwrap_or_default();
    let allowed: Vec<&str> = quoted.collect();
    KmsError::new(
        ErrorCode::Validation,
        format!(
            "1 validation error detected: Value '{value}' failed to satisfy constraint: \
             Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ),
    )
}

/// `KeyId` → `keyId`, the member spelling of AWS validation messages.
fn lower_camel(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        EmptyResponse, EncryptRequest, GenerateDataKeyRequest, KeyIdRequest, ListKeysRequest,
    };
    use super::*;

    #[test]
    fn missing_required_member_is_aws_validation_wording() {
        let err = decode_request::<EncryptRequest>(br#"{"Plaintext":"eA=="}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        assert_eq!(
            err.message,
            "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: \
             Member must not be null"
        );
    }

    #[test]
    fn unknown_enum_value_is_validation_naming_the_set() {
        let body = br#"{"KeyId":"k","KeySpec":"AES_512"}"#;
        let err = decode_request::<GenerateDataKeyRequest>(body).unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        assert_eq!(
            err.message,
            "1 validation error detected: Value 'AES_512' failed to satisfy constraint: \
             Member must satisfy enum value set: [AES_256, AES_128]"
        );
    }

    #[test]
    fn malformed_bodies_are_serialization_errors() {
        for body in [
            &b"{"[..],
            b"not json",
            br#"{"KeyId":5}"#,
            br#"{"KeyId":null}"#,
            br#"[]"#,
            br#"{"KeyId":"k","Plaintext":"%%%"}"#,
        ] {
            let err = decode_request::<EncryptRequest>(body).unwrap_err();
            assert_eq!(err.code, ErrorCode::Serialization, "{body:?}");
            assert!(!err.message.contains(" at line "), "{}", err.message);
        }
        let err = decode_request::<ListKeysRequest>(br#"{"Limit":"5"}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::Serialization);
    }

    #[test]
    fn empty_bodies() {
        let req: ListKeysRequest = decode_request(b"").unwrap();
        assert_eq!(req, ListKeysRequest::default());
        let err = decode_request::<KeyIdRequest>(b"  ").unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        assert!(decode_request::<ListKeysRequest>(b"null").is_err());
        let _: EmptyResponse = decode_response(b"").unwrap();
        let _: EmptyResponse = decode_response(b"null").unwrap();
        let _: EmptyResponse = decode_response(br#"{"Extra":1}"#).unwrap();
        let err = decode_response::<EmptyResponse>(b"<html>").unwrap_err();
        assert_eq!(err.code, ErrorCode::KmsInternal);
    }

    #[test]
    fn encode_response_is_compact_json() {
        let body = encode_response(&EmptyResponse {}).unwrap();
        assert_eq!(body, b"{}");
    }
}
