//! AWS Signature Version 4 for the local KMS server: [`verify`] checks an incoming request the
//! way AWS's JSON front end does, [`sign`] signs one the way botocore does.
//!
//! Owns: header-based SigV4 (`Authorization: AWS4-HMAC-SHA256 …`) with `X-Amz-Date` or `Date`,
//! credential scopes, clock skew, session tokens and the auth error answers ([`SigV4Error`]).
//! Does not own: HTTP parsing (it works on plain data, [`SignedRequest`], so it is testable and
//! fuzzable), credential storage (the caller passes a lookup), presigned URLs (query-string
//! auth is not supported: such a request has no `Authorization` header and is refused as
//! unsigned), or IAM policy (a verified request yields a [`Principal`], nothing more).
//!
//! Invariants: hashing and HMAC go through `crate::crypto`; the signature is compared in
//! constant time; the signature check runs before the session-token check, so a client without
//! the secret learns nothing about the token; nothing here logs, and `Debug` on [`Credential`]
//! and [`SignedRequest`] redacts the secret, the session token, the signature and the body.
//!
//! Checks run in the order AWS runs them (as captured by dynalite against DynamoDB, which shares
//! KMS's front end): `Authorization` present → its parameters and a date header present →
//! algorithm → date syntax → clock skew (±[`MAX_CLOCK_SKEW_SECS`]) → `host` and the date header
//! signed → credential shape → scope (region, service, terminator, date) → access key known →
//! `x-amz-content-sha256` (if sent) matches the body → signature → session token.

mod auth;
mod canonical;
mod error;
mod sign;
mod time;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_reject;

use std::fmt;
use std::time::SystemTime;

use crate::crypto::{ct_eq, SecretBytes};

use auth::{parse_authorization, AuthHeader, Scope};
use canonical::{
    canonical_request, header_values, payload_hash, signature, signing_key, string_to_sign,
    CanonicalInput,
};

pub use error::{SigV4Error, INVALID_TOKEN_MESSAGE, SIGNATURE_MISMATCH_MESSAGE};
pub use sign::sign;

/// Largest accepted difference between the request date and the server clock, in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// An access key known to the server, and who it belongs to.
pub struct Credential {
    /// The access key id (`AKIA…` long-term, `ASIA…` temporary).
    pub access_key_id: String,
    /// The secret access key, as the SDK is configured with it (UTF-8 text, as bytes).
    pub secret: SecretBytes,
    /// The ARN of the principal the key belongs to (`arn:aws:iam::111122223333:user/alice`).
    pub principal_arn: String,
    /// The 12-digit account id of the principal.
    pub account_id: String,
    /// For temporary credentials, the session token that must accompany every request.
    pub session_token: Option<String>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"[redacted]")
            .field("principal_arn", &self.principal_arn)
            .field("account_id", &self.account_id)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// An HTTP request as received, reduced to what SigV4 covers.
#[derive(Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The method, as sent (`POST`).
    pub method: &'a str,
    /// The path of the request target, still percent-encoded, without the query (`/`).
    pub path: &'a str,
    /// The query string without `?`, still percent-encoded (empty for KMS).
    pub query: &'a str,
    /// The headers as received: names in any case, possibly repeated, in arrival order.
    pub headers: &'a [(String, String)],
    /// The body bytes.
    pub body: &'a [u8],
}

impl fmt::Debug for SignedRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let secret = ["authorization", "x-amz-security-token"]
                    .iter()
                    .any(|s| n.eq_ignore_ascii_case(s));
                (n.as_str(), if secret { "[redacted]" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Who signed a verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The principal's ARN, from the credential.
    pub arn: String,
    /// The principal's account id, from the credential.
    pub account_id: String,
    /// The access key id that signed the request.
    pub access_key_id: String,
    /// The region named in the credential scope (any syntactically valid region is accepted;
    /// the server decides what to do with it).
    pub region: String,
}

/// Verifies the SigV4 signature of `req` at time `now` for `expected_service` (`"kms"`; the
/// AWS test-suite vectors use `"service"`), looking the access key up with `lookup`.
///
/// Returns who signed it, or the error AWS would answer with (see [`SigV4Error`]).
pub fn verify<'c>(
    req: &SignedRequest<'_>,
    lookup: impl Fn(&str) -> Option<&'c Credential>,
    now: SystemTime,
    expected_service: &str,
) -> Result<Principal, SigV4Error> {
    let mut auth_values = header_values(req.headers, "authorization");
    let auth_value = auth_values
        .next()
        .ok_or(SigV4Error::MissingAuthenticationToken)?;
    if auth_values.next().is_some() {
        return Err(SigV4Error::Incomplete(
            "The request contains more than one Authorization header.".to_owned(),
        ));
    }
    let date = date_header(req.headers);
    let auth = parse_authorization(auth_value, date.is_some())?;
    let (date_name, raw_date) = date.unwrap_or(("x-amz-date", String::new()));
    let request_secs = parse_date(date_name, &raw_date)?;
    let amz_date = time::format_basic(request_secs);
    check_skew(request_secs, time::unix_secs(now), &amz_date)?;
    require_signed(&auth, "host")?;
    require_signed(&auth, date_name)?;
    let scope = Scope::parse(auth.credential)?;
    scope.check(expected_service, &amz_date)?;
    let credential = lookup(scope.access_key_id).ok_or(SigV4Error::UnknownAccessKey)?;

    let body_hash = payload_hash(req.body);
    for declared in header_values(req.headers, "x-amz-content-sha256") {
        if !declared.trim().eq_ignore_ascii_case(&body_hash) {
            return Err(SigV4Error::ContentSha256Mismatch);
        }
    }
    let canonical = canonical_request(&CanonicalInput {
        method: req.method,
        path: req.path,
        query: req.query,
        headers: req.headers,
        signed_headers: &auth.signed_headers,
        payload_hash: &body_hash,
    });
    let string_to_sign = string_to_sign(&amz_date, &scope.scope_string(), &canonical);
    let key = signing_key(&credential.secret, scope.date, scope.region, scope.service);
    let expected = signature(&key, &string_to_sign);
    if !ct_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(SigV4Error::SignatureMismatch);
    }
    check_session_token(req.headers, &auth, credential)?;
    Ok(Principal {
        arn: credential.principal_arn.clone(),
        account_id: credential.account_id.clone(),
        access_key_id: credential.access_key_id.clone(),
        region: scope.region.to_owned(),
    })
}

/// The header that dates the request: `X-Amz-Date` if present, else `Date`. Repeated headers
/// are joined with `,` (which then fails to parse).
fn date_header(headers: &[(String, String)]) -> Option<(&'static str, String)> {
    ["x-amz-date", "date"].into_iter().find_map(|name| {
        let values: Vec<&str> = header_values(headers, name).map(str::trim).collect();
        (!values.is_empty()).then(|| (name, values.join(",")))
    })
}

/// Unix seconds of the request date. `X-Amz-Date` must be ISO 8601 basic; `Date` may also be
/// an IMF-fixdate, as HTTP clients send it.
fn parse_date(name: &str, raw: &str) -> Result<i64, SigV4Error> {
    let parsed = match name {
        "date" => time::parse_basic(raw).or_else(|| time::parse_imf_fixdate(raw)),
        _ => time::parse_basic(raw),
    };
    parsed.ok_or_else(|| {
        SigV4Error::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{raw}'. See \
             http://en.wikipedia.org/wiki/ISO_8601"
        ))
    })
}

fn check_skew(request: i64, now: i64, amz_date: &str) -> Result<(), SigV4Error> {
    let earliest = now.saturating_sub(MAX_CLOCK_SKEW_SECS);
    let latest = now.saturating_add(MAX_CLOCK_SKEW_SECS);
    if request < earliest {
        return Err(SigV4Error::Expired {
            request: amz_date.to_owned(),
            earliest: time::format_basic(earliest),
            now: time::format_basic(now),
        });
    }
    if request > latest {
        return Err(SigV4Error::NotYetCurrent {
            request: amz_date.to_owned(),
            latest: time::format_basic(latest),
            now: time::format_basic(now),
        });
    }
    Ok(())
}

/// `name` (lowercase) must be listed in `SignedHeaders` (compared without regard to case).
fn require_signed(auth: &AuthHeader<'_>, name: &str) -> Result<(), SigV4Error> {
    if auth
        .signed_headers
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
    {
        return Ok(());
    }
    let shown = match name {
        "host" => "Host' or ':authority",
        "x-amz-date" => "X-Amz-Date",
        "date" => "Date",
        _ => "X-Amz-Security-Token",
    };
    Err(SigV4Error::UnsignedHeader(format!(
        "'{shown}' must be a 'SignedHeader' in the AWS Authorization."
    )))
}

/// With session credentials the token must be sent, signed and equal; without, none may be
/// sent. Every failure is `UnrecognizedClientException`, as AWS answers for a token it cannot
/// validate, except a token sent unsigned.
fn check_session_token(
    headers: &[(String, String)],
    auth: &AuthHeader<'_>,
    credential: &Credential,
) -> Result<(), SigV4Error> {
    let sent: Vec<&str> = header_values(headers, "x-amz-security-token")
        .map(str::trim)
        .collect();
    match (&credential.session_token, sent.as_slice()) {
        (None, []) => Ok(()),
        (Some(expected), [got]) => {
            require_signed(auth, "x-amz-security-token")?;
            if ct_eq(expected.as_bytes(), got.as_bytes()) {
                Ok(())
            } else {
                Err(SigV4Error::BadSessionToken)
            }
        }
        _ => Err(SigV4Error::BadSessionToken),
    }
}
