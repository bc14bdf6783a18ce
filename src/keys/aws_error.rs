//! Turns `aws-sdk-kms` errors into [`KeyError`]s worded for the person running the command.
//!
//! Every message names the operation, the key and the endpoint, and what to check next. None
//! contains key material: requests carry only blobs and contexts, and responses' error
//! messages never echo plaintext.

use std::time::Duration;

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};

use super::KeyError;

/// What was being attempted, for messages.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call<'a> {
    /// The KMS operation ("Decrypt").
    pub op: &'static str,
    /// The key as named in the request.
    pub key: &'a str,
    /// The endpoint, as configured or resolved.
    pub endpoint: &'a str,
    /// The operation timeout.
    pub timeout: Duration,
    /// Attempts per call.
    pub max_attempts: u32,
}

/// A response that parsed but lacks what the protocol promises.
pub(super) fn malformed(call: &Call<'_>, what: &str) -> KeyError {
    KeyError::Kms {
        code: "InvalidResponse".into(),
        message: format!(
            "{} for KMS key {} at {}: unexpected response: {what}",
            call.op, call.key, call.endpoint
        ),
    }
}

fn unreachable(call: &Call<'_>, why: &str) -> KeyError {
    KeyError::KmsUnreachable(format!(
        "{} for KMS key {}: KMS endpoint {} is unreachable ({why}; {} attempt(s) within a \
         {:.1} s timeout); check the endpoint URL, the network and that KMS is running",
        call.op,
        call.key,
        call.endpoint,
        call.max_attempts,
        call.timeout.as_secs_f64()
    ))
}

/// The error and its sources, joined with ": " (repeats dropped), without Debug dumps.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// Maps one failed SDK call.
pub(super) fn map<E>(err: SdkError<E, HttpResponse>, call: &Call<'_>) -> KeyError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (op, key, endpoint) = (call.op, call.key, call.endpoint);
    match &err {
        SdkError::TimeoutError(_) => unreachable(call, "timed out"),
        SdkError::DispatchFailure(d) if d.is_timeout() => unreachable(call, "timed out"),
        SdkError::DispatchFailure(_) if chain(&err).contains("TLS handshake failed") => {
            KeyError::KmsConfig(format!(
                "{op} for KMS key {key}: the TLS certificate of KMS endpoint {endpoint} is not \
                 trusted ({}); for a private CA pass --kms-ca-bundle FILE or set AWS_CA_BUNDLE",
                chain(&err)
            ))
        }
        SdkError::DispatchFailure(d) if d.is_io() => {
            let detail = chain(&err);
            unreachable(call, &detail)
        }
        SdkError::ServiceError(_) => service(&err, call),
        SdkError::ResponseError(_) => KeyError::Kms {
            code: "InvalidResponse".into(),
            message: format!(
                "{op} for KMS key {key} at {endpoint}: the response could not be understood \
                 (is this a KMS endpoint?): {}",
                chain(&err)
            ),
        },
        _ => KeyError::KmsConfig(format!(
            "{op} for KMS key {key} at {endpoint} could not be sent (check the AWS \
             credentials and configuration): {}",
            chain(&err)
        )),
    }
}

/// A KMS error response, by its error code.
fn service<E>(err: &SdkError<E, HttpResponse>, call: &Call<'_>) -> KeyError
where
    E: ProvideErrorMetadata,
{
    let (op, key, endpoint) = (call.op, call.key, call.endpoint);
    let code = err.code().unwrap_or("UnknownError").to_owned();
    let detail = err.message().unwrap_or_default().to_owned();
    let what = match code.as_str() {
        "AccessDeniedException" => format!(
            "{op} on KMS key {key} at {endpoint}: access denied to the credentials in use; \
             check that the key policy or a grant allows this principal kms:{op}, and that \
             these are the credentials (profile, AWS_ACCESS_KEY_ID) you meant"
        ),
        "NotFoundException" => format!(
            "KMS key {key} was not found at {endpoint}; check the key id, alias or ARN, and \
             that the region and account (credentials) are the ones the key lives in"
        ),
        "DisabledException" => format!(
            "KMS key {key} at {endpoint} is disabled; enable it (kms enable-key) to use this \
             volume"
        ),
        "KMSInvalidStateException" if detail.contains("pending deletion") => format!(
            "KMS key {key} at {endpoint} is pending deletion, so it cannot be used; to keep \
             the data under it, cancel the deletion before it takes effect (CancelKeyDeletion, \
             then EnableKey); once deleted, volumes under it can never be opened"
        ),
        "KMSInvalidStateException" => format!(
            "KMS key {key} at {endpoint} is not usable in its current state; check it with \
             DescribeKey (KeyState): a key pending deletion needs CancelKeyDeletion and \
             EnableKey, a key pending import needs its key material"
        ),
        "InvalidCiphertextException" => format!(
            "KMS at {endpoint} rejected this volume's wrapped data key under key {key}: the \
             ciphertext or its encryption context (volume UUID, key version) does not match \
             the one it was made with, e.g. a volume header that was edited or copied; \
             restore the original header (or the volume from a backup)"
        ),
        "IncorrectKeyException" => format!(
            "this volume's data key was not wrapped by KMS key {key} (at {endpoint}); name \
             the right key, or use --kms to use the key recorded in the volume"
        ),
        "ThrottlingException" => format!(
            "KMS at {endpoint} throttled {op} on key {key}: the request rate is over the \
             account's KMS quota, and {} attempt(s) with backoff did not get through; try again \
             later, lower the request rate (other users of the account count too), or ask for \
             a higher KMS request quota",
            call.max_attempts
        ),
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException"
        | "InvalidClientTokenId" => format!(
            "KMS at {endpoint} rejected the AWS credentials for key {key}; check \
             AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile in use"
        ),
        "KeyUnavailableException" | "DependencyTimeoutException" | "KMSInternalException" => {
            format!(
                "KMS at {endpoint} could not serve {op} for key {key} after {} attempt(s); \
                 try again later",
                call.max_attempts
            )
        }
        _ => format!("{op} for KMS key {key} at {endpoint} failed"),
    };
    // KMS gives no detail for some errors (InvalidCiphertextException): just the code then.
    let message = if detail.trim().is_empty() {
        format!("{what} ({code})")
    } else {
        format!("{what} ({code}: {detail})")
    };
    KeyError::Kms { message, code }
}
