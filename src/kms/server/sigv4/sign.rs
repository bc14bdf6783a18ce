//! The client-side SigV4 signer: produces the headers botocore would add to a request, so the
//! load generator and the tests send requests indistinguishable from an AWS SDK's.
//!
//! Signed headers are every header given except the ones botocore leaves unsigned
//! (`user-agent`, `content-length`, `amz-sdk-*`, …), plus `host`, `x-amz-date` and, with
//! session credentials, `x-amz-security-token`. For a boto3-shaped KMS request that is
//! `content-type;host;x-amz-date;x-amz-target`.

use std::time::SystemTime;

use super::canonical::{
    canonical_request, payload_hash, signature, signing_key, string_to_sign, CanonicalInput,
    ALGORITHM, TERMINATOR,
};
use super::time::{format_basic, unix_secs};
use super::Credential;

/// Headers botocore never signs, and the ones this signer generates itself (a caller's copy of
/// those is ignored).
const NOT_SIGNED: &[&str] = &[
    "authorization",
    "user-agent",
    "expect",
    "transfer-encoding",
    "x-amzn-trace-id",
    "content-length",
    "connection",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "host",
    "x-amz-date",
    "x-amz-security-token",
];

/// Signs a request as botocore does and returns the headers to add to it, in this order:
/// `X-Amz-Date`, `X-Amz-Security-Token` (only with session credentials), `Authorization`.
///
/// `path` is the request target as sent, percent-encoded, optionally with `?query`. `headers`
/// are the request's other headers (`Content-Type`, `X-Amz-Target`, …); `host` is the `Host`
/// header value (`host:port` when the port is not the scheme's default).
#[allow(clippy::too_many_arguments)] // one argument per SigV4 input, as botocore's signer takes them
pub fn sign(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    credential: &Credential,
    region: &str,
    service: &str,
    now: SystemTime,
) -> Vec<(String, String)> {
    let amz_date = format_basic(unix_secs(now));
    let day = amz_date.get(..8).unwrap_or_default();
    let (path, query) = path.split_once('?').unwrap_or((path, ""));

    let mut to_sign: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .filter(|(n, _)| !NOT_SIGNED.contains(&n.as_str()))
        .collect();
    to_sign.push(("host".to_owned(), host.to_owned()));
    to_sign.push(("x-amz-date".to_owned(), amz_date.clone()));
    if let Some(token) = &credential.session_token {
        to_sign.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    let mut names: Vec<&str> = to_sign.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names.dedup();

    let body_hash = payload_hash(body);
    let canonical = canonical_request(&CanonicalInput {
        method,
        path,
        query,
        headers: &to_sign,
        signed_headers: &names,
        payload_hash: &body_hash,
    });
    let scope = format!("{day}/{region}/{service}/{TERMINATOR}");
    let key = signing_key(&credential.secret, day, region, service);
    let sig = signature(&key, &string_to_sign(&amz_date, &scope, &canonical));

    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
        credential.access_key_id,
        names.join(";")
    );
    let mut out = vec![("X-Amz-Date".to_owned(), amz_date)];
    if let Some(token) = &credential.session_token {
        out.push(("X-Amz-Security-Token".to_owned(), token.clone()));
    }
    out.push(("Authorization".to_owned(), authorization));
    out
}
