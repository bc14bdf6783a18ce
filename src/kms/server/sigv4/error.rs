//! [`SigV4Error`]: why a request failed authentication, with the exact `__type`, message and
//! HTTP status AWS's JSON-protocol front end answers with.
//!
//! The `Display` text of every variant *is* the AWS `message`, so the server can answer
//! `{"__type": e.aws_code(), "message": e.to_string()}`. Several variants share one code and one
//! message on purpose (an unknown access key and a wrong session token both read "The security
//! token included in the request is invalid."): the variant is for our logs, the wire answer
//! tells an attacker no more than AWS does. No variant carries secret material.
//!
//! | variant | `__type` | HTTP |
//! |---|---|---|
//! | `MissingAuthenticationToken` | `MissingAuthenticationTokenException` | 403 |
//! | `Incomplete` | `IncompleteSignatureException` | 400 |
//! | `BadScope`, `UnsignedHeader`, `Expired`, `NotYetCurrent`, `ContentSha256Mismatch`, `SignatureMismatch` | `InvalidSignatureException` | 400 |
//! | `UnknownAccessKey`, `BadSessionToken` | `UnrecognizedClientException` | 400 |

use super::MAX_CLOCK_SKEW_SECS;

/// The `message` AWS sends with a signature that does not match.
pub const SIGNATURE_MISMATCH_MESSAGE: &str = "The request signature we calculated does not match \
    the signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
    service documentation for details.";

/// The `message` AWS sends for an unknown access key id or an invalid session token.
pub const INVALID_TOKEN_MESSAGE: &str = "The security token included in the request is invalid.";

/// Why a request failed SigV4 authentication. `Display` is the AWS `message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigV4Error {
    /// No `Authorization` header, or one that is not an `AWS4-*` signature.
    /// `MissingAuthenticationTokenException`, HTTP 403.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// The `Authorization` header is malformed, lacks a part, names an unsupported algorithm,
    /// or the request date cannot be parsed. `IncompleteSignatureException`, HTTP 400.
    #[error("{0}")]
    Incomplete(String),
    /// The credential scope names an invalid region, the wrong service, the wrong terminator or
    /// a date other than the request's. `InvalidSignatureException`, HTTP 400.
    #[error("{0}")]
    BadScope(String),
    /// A header that must be signed (`host`, the date header, `x-amz-security-token`) is not in
    /// `SignedHeaders`. `InvalidSignatureException`, HTTP 400.
    #[error("{0}")]
    UnsignedHeader(String),
    /// The request date is more than [`MAX_CLOCK_SKEW_SECS`] before the server clock.
    /// `InvalidSignatureException`, HTTP 400.
    #[error(
        "Signature expired: {request} is now earlier than {earliest} ({now} - {} min.)",
        MAX_CLOCK_SKEW_SECS / 60
    )]
    Expired {
        /// The request's date, `YYYYMMDDTHHMMSSZ`.
        request: String,
        /// The earliest date accepted now.
        earliest: String,
        /// The server clock.
        now: String,
    },
    /// The request date is more than [`MAX_CLOCK_SKEW_SECS`] after the server clock.
    /// `InvalidSignatureException`, HTTP 400.
    #[error(
        "Signature not yet current: {request} is still later than {latest} ({now} + {} min.)",
        MAX_CLOCK_SKEW_SECS / 60
    )]
    NotYetCurrent {
        /// The request's date, `YYYYMMDDTHHMMSSZ`.
        request: String,
        /// The latest date accepted now.
        latest: String,
        /// The server clock.
        now: String,
    },
    /// The access key id is not known. `UnrecognizedClientException`, HTTP 400.
    #[error("{}", INVALID_TOKEN_MESSAGE)]
    UnknownAccessKey,
    /// The session token is missing, unexpected or wrong. `UnrecognizedClientException`,
    /// HTTP 400 (what AWS answers for a token it cannot validate; `ExpiredTokenException` is
    /// kept for tokens that were valid once, which this server has no notion of yet).
    #[error("{}", INVALID_TOKEN_MESSAGE)]
    BadSessionToken,
    /// `x-amz-content-sha256` is present but is not the SHA-256 of the body.
    /// `InvalidSignatureException`, HTTP 400.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,
    /// The signature does not match (wrong secret, tampered body or signed header).
    /// `InvalidSignatureException`, HTTP 400.
    #[error("{}", SIGNATURE_MISMATCH_MESSAGE)]
    SignatureMismatch,
}

impl SigV4Error {
    /// The AWS error name sent as `__type`.
    pub fn aws_code(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            SigV4Error::Incomplete(_) => "IncompleteSignatureException",
            SigV4Error::BadScope(_)
            | SigV4Error::UnsignedHeader(_)
            | SigV4Error::Expired { .. }
            | SigV4Error::NotYetCurrent { .. }
            | SigV4Error::ContentSha256Mismatch
            | SigV4Error::SignatureMismatch => "InvalidSignatureException",
            SigV4Error::UnknownAccessKey | SigV4Error::BadSessionToken => {
                "UnrecognizedClientException"
            }
        }
    }

    /// The HTTP status to answer with: 403 for a missing token (AWS's common-errors table),
    /// 400 for everything else (what AWS's JSON-protocol services send for auth failures).
    pub fn http_status(&self) -> u16 {
        match self {
            SigV4Error::MissingAuthenticationToken => 403,
            _ => 400,
        }
    }
}
