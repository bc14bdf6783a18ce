//! KMS error names (`__type`), their HTTP statuses, and the JSON error body.
//!
//! Every error leaves the server as `{"__type":"<name>","message":"<text>"}` with the status
//! given on its [`ErrorCode`] variant; auth and throttling errors included (AWS JSON services
//! do the same). The client parses `__type` the way botocore does (`BaseJSONParser`): anything
//! after a `:` and anything up to the last `#` are dropped, and the message is `message` or
//! `Message`. Statuses: 400 for every client error, 5xx only for server faults (which SDKs
//! retry as transient). AWS's generic CommonErrors page lists 403 for a missing or unknown
//! access key, but JSON-protocol services (KMS, DynamoDB) answer those with 400, so we do too.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Defines [`ErrorCode`] from a table of `Variant = ("__type", status)`.
macro_rules! error_codes {
    ( $( $(#[$doc:meta])* $variant:ident = ($name:literal, $status:literal), )+ ) => {
        /// A KMS error name, as sent in `__type`. Each variant's doc starts with its HTTP status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The exact `__type` string.
            pub fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)+
                }
            }

            /// The HTTP status the server answers with.
            pub fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)+
                }
            }

            fn from_exact(name: &str) -> Option<ErrorCode> {
                match name {
                    $($name => Some(ErrorCode::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    /// 400. The key, alias or grant does not exist.
    NotFound = ("NotFoundException", 400),
    /// 400. A malformed ARN.
    InvalidArn = ("InvalidArnException", 400),
    /// 400. The key is disabled.
    Disabled = ("DisabledException", 400),
    /// 400. The key's state does not allow the operation (pending deletion, pending import, ...).
    KmsInvalidState = ("KMSInvalidStateException", 400),
    /// 400. The ciphertext, or its encryption context, did not authenticate. Never says why.
    InvalidCiphertext = ("InvalidCiphertextException", 400),
    /// 400. The `KeyId` given is not the key that produced the ciphertext.
    IncorrectKey = ("IncorrectKeyException", 400),
    /// 400. The key's usage or spec does not support the operation or algorithm.
    InvalidKeyUsage = ("InvalidKeyUsageException", 400),
    /// 400. `Verify` found the signature invalid (KMS does not answer `SignatureValid: false`).
    KmsInvalidSignature = ("KMSInvalidSignatureException", 400),
    /// 400. `VerifyMac` found the MAC invalid.
    KmsInvalidMac = ("KMSInvalidMacException", 400),
    /// 400. The operation is not supported for this key (rotation of asymmetric keys, ...).
    UnsupportedOperation = ("UnsupportedOperationException", 400),
    /// 400. A resource quota was exceeded. botocore retries it as throttling.
    LimitExceeded = ("LimitExceededException", 400),
    /// 400. A conflicting operation is in progress (for example a concurrent rotation).
    Conflict = ("ConflictException", 400),
    /// 400. The alias (or other resource) already exists.
    AlreadyExists = ("AlreadyExistsException", 400),
    /// 400. The alias name is malformed or reserved (`alias/aws/`).
    InvalidAliasName = ("InvalidAliasNameException", 400),
    /// 400. `DryRun` was set and the request would have succeeded.
    DryRunOperation = ("DryRunOperationException", 400),
    /// 400. The pagination `Marker` is not one the server issued.
    InvalidMarker = ("InvalidMarkerException", 400),
    /// 400. A malformed or unknown grant id.
    InvalidGrantId = ("InvalidGrantIdException", 400),
    /// 400. A malformed or unknown grant token.
    InvalidGrantToken = ("InvalidGrantTokenException", 400),
    /// 400. The key policy is not valid JSON or not a policy this server understands.
    MalformedPolicyDocument = ("MalformedPolicyDocumentException", 400),
    /// 400. A tag key or value is invalid, or the tag limit was exceeded.
    Tag = ("TagException", 400),
    /// 500. An internal server fault (SDKs retry it).
    KmsInternal = ("KMSInternalException", 500),
    /// 503. A dependency (keystore) timed out; the request can be retried.
    DependencyTimeout = ("DependencyTimeoutException", 503),
    /// 500. The key material is temporarily unavailable (AWS documents 500).
    KeyUnavailable = ("KeyUnavailableException", 500),
    /// 400. A member violates its shape constraints (length, range, enum, missing).
    Validation = ("ValidationException", 400),
    /// 400. The caller is not authorized (AWS JSON services answer 400, not 403).
    AccessDenied = ("AccessDeniedException", 400),
    /// 400. The request rate quota was exceeded; SDKs back off and retry.
    Throttling = ("ThrottlingException", 400),
    /// 400. Unknown access key id or security token.
    UnrecognizedClient = ("UnrecognizedClientException", 400),
    /// 400. The SigV4 signature does not match, or the request time is too skewed.
    InvalidSignature = ("InvalidSignatureException", 400),
    /// 400. The `Authorization` header is present but incomplete or malformed.
    IncompleteSignature = ("IncompleteSignatureException", 400),
    /// 400. No `Authorization` header (JSON services send 400; CommonErrors lists 403).
    MissingAuthenticationToken = ("MissingAuthenticationTokenException", 400),
    /// 400. The session token has expired.
    ExpiredToken = ("ExpiredTokenException", 400),
    /// 400. `X-Amz-Target` is missing or names no `TrentService` operation.
    UnknownOperation = ("UnknownOperationException", 400),
    /// 400. The body is not JSON, or a member has the wrong JSON type.
    Serialization = ("SerializationException", 400),
}

impl ErrorCode {
    /// Whether SDKs retry this error: throttling codes (botocore's standard retry mode
    /// includes `LimitExceededException`) and every 5xx.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorCode::Throttling | ErrorCode::LimitExceeded)
            || self.http_status() >= 500
    }

    /// The code a client assumes when an error response carries no usable `__type` (a non-JSON
    /// body from a proxy, moto's XML auth errors, local-kms's text errors): 5xx →
    /// `KMSInternalException`, 429 → `ThrottlingException`, 401/403 → `AccessDeniedException`,
    /// 404/405/501 (an endpoint that is not KMS, or an unimplemented operation) →
    /// `UnknownOperationException`, any other status → `ValidationException`.
    pub fn for_status(status: u16) -> ErrorCode {
        match status {
            429 => ErrorCode::Throttling,
            401 | 403 => ErrorCode::AccessDenied,
            404 | 405 | 501 => ErrorCode::UnknownOperation,
            500..=599 => ErrorCode::KmsInternal,
            _ => ErrorCode::Validation,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ErrorCode {
    type Err = String;

    /// Parses a `__type` as botocore does: `com.amazonaws.kms#NotFoundException` and
    /// `NotFoundException:http://internal.amazon.com/...` both give `NotFound`. The error is
    /// the stripped name when it is not one of ours.
    fn from_str(s: &str) -> Result<Self, String> {
        let name = botocore_code(s);
        ErrorCode::from_exact(name).ok_or_else(|| name.to_string())
    }
}

/// botocore's `__type` normalization: drop everything from the first `:`, then everything up
/// to and including the last `#`.
fn botocore_code(raw: &str) -> &str {
    let before_colon = raw.split(':').next().unwrap_or(raw);
    before_colon.rsplit('#').next().unwrap_or(before_colon)
}

/// A KMS error: what the server sends and what the client gets back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct KmsError {
    /// The `__type`.
    pub code: ErrorCode,
    /// The human-readable `message` (may be empty, as for `InvalidCiphertextException`).
    pub message: String,
}

/// The error body, members in AWS's order.
#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "__type")]
    kind: &'a str,
    message: &'a str,
}

/// Most of an error body we keep when it is not JSON.
const MAX_FOREIGN_BODY: usize = 512;

impl KmsError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        KmsError {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status to answer with (`self.code.http_status()`).
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// The response body: exactly `{"__type":"<name>","message":"<text>"}`.
    pub fn to_body(&self) -> Vec<u8> {
        let body = ErrorBody {
            kind: self.code.name(),
            message: &self.message,
        };
        // Serializing two strings cannot fail; fall back to a bare code just in case.
        serde_json::to_vec(&body)
            .unwrap_or_else(|_| format!(r#"{{"__type":"{}"}}"#, self.code.name()).into_bytes())
    }

    /// Reads an error response (client side). A JSON body with a known `__type` gives that
    /// code; an unknown `__type` keeps its name at the front of the message and takes its code
    /// from the status ([`ErrorCode::for_status`]); a body that is not a JSON object gives the
    /// status-derived code with `HTTP <status>: <body text>` (truncated) as the message.
    pub fn from_response(status: u16, body: &[u8]) -> KmsError {
        let fallback = ErrorCode::for_status(status);
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
        else {
            return KmsError::new(fallback, foreign_body_message(status, body));
        };
        let message = ["message", "Message"]
            .iter()
            .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
            .unwrap_or_default()
            .to_string();
        match map.get("__type").and_then(|v| v.as_str()) {
            None => KmsError::new(fallback, message),
            Some(raw) => match raw.parse::<ErrorCode>() {
                Ok(code) => KmsError::new(code, message),
                Err(name) if message.is_empty() => KmsError::new(fallback, name),
                Err(name) => KmsError::new(fallback, format!("{name}: {message}")),
            },
        }
    }
}

fn foreign_body_message(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let cut = text
        .char_indices()
        .nth(MAX_FOREIGN_BODY)
        .map_or(text.len(), |(i, _)| i);
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {}", &text[..cut])
    }
}

/// Constructors for the errors the server sends most, with AWS's wording.
impl KmsError {
    /// `ValidationException`: `1 validation error detected: Value at '<field>' failed to
    /// satisfy constraint: <constraint>` (the value is omitted, as AWS does for sensitive
    /// members). `field` is the member in lowerCamel case as AWS prints it (`plaintext`,
    /// `keyId`, `numberOfBytes`).
    pub fn validation(field: &str, constraint: &str) -> Self {
        KmsError::new(
            ErrorCode::Validation,
            format!("1 validation error detected: Value at '{field}' failed to satisfy constraint: {constraint}"),
        )
    }

    /// `ValidationException` naming the offending value: `... Value '<value>' at '<field>' ...`.
    pub fn validation_value(value: &str, field: &str, constraint: &str) -> Self {
        KmsError::new(
            ErrorCode::Validation,
            format!("1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"),
        )
    }

    /// `ValidationException` for a missing required member: `Value null at '<field>' failed to
    /// satisfy constraint: Member must not be null`.
    pub fn missing_member(field: &str) -> Self {
        KmsError::new(
            ErrorCode::Validation,
            format!("1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"),
        )
    }

    /// `NotFoundException` for a key: `Key '<arn>' does not exist`.
    pub fn not_found_key(arn: &str) -> Self {
        KmsError::new(ErrorCode::NotFound, format!("Key '{arn}' does not exist"))
    }

    /// `NotFoundException` for an alias: `Alias <alias arn> is not found.`
    pub fn not_found_alias(alias_arn: &str) -> Self {
        KmsError::new(
            ErrorCode::NotFound,
            format!("Alias {alias_arn} is not found."),
        )
    }

    /// `DisabledException`: `<arn> is disabled.`
    pub fn disabled(arn: &str) -> Self {
        KmsError::new(ErrorCode::Disabled, format!("{arn} is disabled."))
    }

    /// `KMSInvalidStateException`: `<arn> is pending deletion.`
    pub fn pending_deletion(arn: &str) -> Self {
        KmsError::new(
            ErrorCode::KmsInvalidState,
            format!("{arn} is pending deletion."),
        )
    }

    /// `InvalidCiphertextException` with no detail (AWS never says why).
    pub fn invalid_ciphertext() -> Self {
        KmsError::new(ErrorCode::InvalidCiphertext, "")
    }

    /// `ThrottlingException` with AWS's text.
    pub fn throttled() -> Self {
        KmsError::new(
            ErrorCode::Throttling,
            "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.",
        )
    }

    /// `UnrecognizedClientException` with AWS's text.
    pub fn unrecognized_client() -> Self {
        KmsError::new(
            ErrorCode::UnrecognizedClient,
            "The security token included in the request is invalid.",
        )
    }

    /// `UnknownOperationException` (for a missing or foreign `X-Amz-Target`).
    pub fn unknown_operation(target: Option<&str>) -> Self {
        let message = match target {
            Some(t) => format!("Unknown operation {t}"),
            None => "Missing X-Amz-Target header".to_string(),
        };
        KmsError::new(ErrorCode::UnknownOperation, message)
    }

    /// `KMSInternalException` (500).
    pub fn internal(message: impl Into<String>) -> Self {
        KmsError::new(ErrorCode::KmsInternal, message)
    }
}
