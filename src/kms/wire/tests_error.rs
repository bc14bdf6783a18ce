//! Tests of the error table, the error body, and client-side error parsing.

use super::{ErrorCode, KmsError};

/// Every code with the `__type` and status it must have, written out independently of the
/// macro table (Cosmian's XKS errors drifted from their documented statuses; this pins ours).
const EXPECTED: &[(ErrorCode, &str, u16)] = &[
    (ErrorCode::NotFound, "NotFoundException", 400),
    (ErrorCode::InvalidArn, "InvalidArnException", 400),
    (ErrorCode::Disabled, "DisabledException", 400),
    (ErrorCode::KmsInvalidState, "KMSInvalidStateException", 400),
    (
        ErrorCode::InvalidCiphertext,
        "InvalidCiphertextException",
        400,
    ),
    (ErrorCode::IncorrectKey, "IncorrectKeyException", 400),
    (ErrorCode::InvalidKeyUsage, "InvalidKeyUsageException", 400),
    (
        ErrorCode::KmsInvalidSignature,
        "KMSInvalidSignatureException",
        400,
    ),
    (ErrorCode::KmsInvalidMac, "KMSInvalidMacException", 400),
    (
        ErrorCode::UnsupportedOperation,
        "UnsupportedOperationException",
        400,
    ),
    (ErrorCode::LimitExceeded, "LimitExceededException", 400),
    (ErrorCode::Conflict, "ConflictException", 400),
    (ErrorCode::AlreadyExists, "AlreadyExistsException", 400),
    (
        ErrorCode::InvalidAliasName,
        "InvalidAliasNameException",
        400,
    ),
    (ErrorCode::DryRunOperation, "DryRunOperationException", 400),
    (ErrorCode::InvalidMarker, "InvalidMarkerException", 400),
    (ErrorCode::InvalidGrantId, "InvalidGrantIdException", 400),
    (
        ErrorCode::InvalidGrantToken,
        "InvalidGrantTokenException",
        400,
    ),
    (
        ErrorCode::MalformedPolicyDocument,
        "MalformedPolicyDocumentException",
        400,
    ),
    (ErrorCode::Tag, "TagException", 400),
    (ErrorCode::KmsInternal, "KMSInternalException", 500),
    (
        ErrorCode::DependencyTimeout,
        "DependencyTimeoutException",
        503,
    ),
    (ErrorCode::KeyUnavailable, "KeyUnavailableException", 500),
    (ErrorCode::Validation, "ValidationException", 400),
    (ErrorCode::AccessDenied, "AccessDeniedException", 400),
    (ErrorCode::Throttling, "ThrottlingException", 400),
    (
        ErrorCode::UnrecognizedClient,
        "UnrecognizedClientException",
        400,
    ),
    (
        ErrorCode::InvalidSignature,
        "InvalidSignatureException",
        400,
    ),
    (
        ErrorCode::IncompleteSignature,
        "IncompleteSignatureException",
        400,
    ),
    (
        ErrorCode::MissingAuthenticationToken,
        "MissingAuthenticationTokenException",
        400,
    ),
    (ErrorCode::ExpiredToken, "ExpiredTokenException", 400),
    (
        ErrorCode::UnknownOperation,
        "UnknownOperationException",
        400,
    ),
    (ErrorCode::Serialization, "SerializationException", 400),
];

#[test]
fn every_code_has_its_name_and_status() {
    assert_eq!(EXPECTED.len(), ErrorCode::ALL.len());
    for &(code, name, status) in EXPECTED {
        assert_eq!(code.name(), name);
        assert_eq!(code.http_status(), status, "{name}");
        assert_eq!(code.to_string(), name);
        assert_eq!(name.parse::<ErrorCode>(), Ok(code));
    }
    for code in ErrorCode::ALL {
        assert!(
            EXPECTED.iter().any(|(c, _, _)| c == code),
            "{code} untested"
        );
    }
}

#[test]
fn from_str_strips_like_botocore() {
    let cases = [
        "com.amazonaws.kms#NotFoundException",
        "NotFoundException:http://internal.amazon.com/coral/com.amazon.coral.service/",
        "com.amazon.coral.service#NotFoundException:extra#junk",
        "a#b#NotFoundException",
    ];
    for raw in cases {
        assert_eq!(raw.parse::<ErrorCode>(), Ok(ErrorCode::NotFound), "{raw}");
    }
    assert_eq!(
        "com.amazon.coral.service#InternalFailure".parse::<ErrorCode>(),
        Err("InternalFailure".to_string())
    );
    assert!("notfoundexception".parse::<ErrorCode>().is_err());
}

#[test]
fn retryable_codes() {
    let retryable: Vec<_> = ErrorCode::ALL
        .iter()
        .filter(|c| c.is_retryable())
        .map(|c| c.name())
        .collect();
    assert_eq!(
        retryable,
        [
            "LimitExceededException",
            "KMSInternalException",
            "DependencyTimeoutException",
            "KeyUnavailableException",
            "ThrottlingException"
        ]
    );
}

#[test]
fn body_is_exact() {
    let err = KmsError::not_found_alias("arn:aws:kms:us-east-1:111122223333:alias/nope");
    assert_eq!(
        String::from_utf8(err.to_body()).unwrap(),
        r#"{"__type":"NotFoundException","message":"Alias arn:aws:kms:us-east-1:111122223333:alias/nope is not found."}"#
    );
    let quoted = KmsError::new(ErrorCode::Validation, "say \"hi\"\n");
    assert_eq!(
        quoted.to_body(),
        br#"{"__type":"ValidationException","message":"say \"hi\"\n"}"#
    );
    assert_eq!(
        KmsError::invalid_ciphertext().to_body(),
        br#"{"__type":"InvalidCiphertextException","message":""}"#
    );
}

#[test]
fn display_is_code_colon_message() {
    let err = KmsError::disabled("arn:aws:kms:eu-west-2:111122223333:key/k");
    assert_eq!(
        err.to_string(),
        "DisabledException: arn:aws:kms:eu-west-2:111122223333:key/k is disabled."
    );
    assert_eq!(err.http_status(), 400);
}

#[test]
fn constructors_use_aws_wording() {
    assert_eq!(
        KmsError::validation(
            "plaintext",
            "Member must have length less than or equal to 4096"
        )
        .message,
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: \
         Member must have length less than or equal to 4096"
    );
    assert_eq!(
        KmsError::validation_value(
            "0",
            "numberOfBytes",
            "Member must have value greater than or equal to 1"
        )
        .message,
        "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: \
         Member must have value greater than or equal to 1"
    );
    let nf = KmsError::not_found_key("arn:aws:kms:us-east-1:1:key/x");
    assert_eq!(
        (nf.code, nf.message.as_str()),
        (
            ErrorCode::NotFound,
            "Key 'arn:aws:kms:us-east-1:1:key/x' does not exist"
        )
    );
    assert_eq!(
        KmsError::pending_deletion("k").code,
        ErrorCode::KmsInvalidState
    );
    assert_eq!(KmsError::throttled().code.http_status(), 400);
    assert_eq!(
        KmsError::unrecognized_client().code,
        ErrorCode::UnrecognizedClient
    );
    assert_eq!(KmsError::internal("x").http_status(), 500);
}

#[test]
fn from_response_reads_our_bodies_back() {
    for &(code, _, status) in EXPECTED {
        let sent = KmsError::new(code, "m");
        assert_eq!(KmsError::from_response(status, &sent.to_body()), sent);
    }
}

#[test]
fn from_response_accepts_aws_variants() {
    let body = br#"{"__type":"com.amazonaws.kms#KMSInvalidStateException","Message":"pending"}"#;
    assert_eq!(
        KmsError::from_response(400, body),
        KmsError::new(ErrorCode::KmsInvalidState, "pending")
    );
    // moto: no message at all.
    let moto = KmsError::from_response(400, br#"{"__type":"InvalidCiphertextException"}"#);
    assert_eq!(moto, KmsError::new(ErrorCode::InvalidCiphertext, ""));
    // A null message reads as empty.
    let null = KmsError::from_response(400, br#"{"__type":"NotFoundException","message":null}"#);
    assert_eq!(null, KmsError::new(ErrorCode::NotFound, ""));
}

#[test]
fn from_response_unknown_type_keeps_its_name() {
    let body = br#"{"__type":"com.amazon.coral.service#InternalFailure","message":"oops"}"#;
    assert_eq!(
        KmsError::from_response(500, body),
        KmsError::new(ErrorCode::KmsInternal, "InternalFailure: oops")
    );
    let bare = KmsError::from_response(400, br#"{"__type":"CustomKeyStoreNotFoundException"}"#);
    assert_eq!(
        bare,
        KmsError::new(ErrorCode::Validation, "CustomKeyStoreNotFoundException")
    );
    let untyped = KmsError::from_response(403, br#"{"message":"no"}"#);
    assert_eq!(untyped, KmsError::new(ErrorCode::AccessDenied, "no"));
}

#[test]
fn from_response_non_json_derives_code_from_status() {
    let html = KmsError::from_response(502, b"<html>Bad Gateway</html>");
    assert_eq!(html.code, ErrorCode::KmsInternal);
    assert_eq!(html.message, "HTTP 502: <html>Bad Gateway</html>");
    let xml = b"<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>";
    assert_eq!(
        KmsError::from_response(403, xml).code,
        ErrorCode::AccessDenied
    );
    let text = KmsError::from_response(501, b"Passed X-Amz-Target (x) is not implemented");
    assert_eq!(text.code, ErrorCode::UnknownOperation);
    assert_eq!(KmsError::from_response(429, b"").message, "HTTP 429");
    assert_eq!(
        KmsError::from_response(429, b"").code,
        ErrorCode::Throttling
    );
    assert_eq!(
        KmsError::from_response(400, b"[1]").code,
        ErrorCode::Validation
    );
    let long = vec![b'x'; 5000];
    assert!(KmsError::from_response(500, &long).message.len() < 600);
}
