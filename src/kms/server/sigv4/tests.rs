//! Unit tests of [`super::verify`] and [`super::sign`]: AWS's published vectors, a boto3-shaped
//! KMS request, `Date` and `x-amz-content-sha256` handling, the error mapping and redaction; also
//! the fixtures shared with `tests_reject` and `proptests`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::canonical::{
    canonical_request, payload_hash, signature, signing_key, string_to_sign, CanonicalInput,
};
use super::{sign, time, verify, Credential, Principal, SigV4Error, SignedRequest};
use crate::crypto::SecretBytes;

pub(super) const AKID: &str = "AKIDEXAMPLE";
pub(super) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub(super) const SESSION_AKID: &str = "ASIAEXAMPLE";
pub(super) const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKEN//////////wEaDA==";
pub(super) const NOW: &str = "20150830T123600Z";

pub(super) fn cred(akid: &str, secret: &str, token: Option<&str>) -> Credential {
    Credential {
        access_key_id: akid.to_owned(),
        secret: SecretBytes::new(secret.as_bytes().to_vec()),
        principal_arn: format!("arn:aws:iam::111122223333:user/{akid}"),
        account_id: "111122223333".to_owned(),
        session_token: token.map(str::to_owned),
    }
}

/// The server's credential store: one long-term key and one temporary key.
pub(super) fn store() -> [Credential; 2] {
    [
        cred(AKID, SECRET, None),
        cred(SESSION_AKID, SECRET, Some(TOKEN)),
    ]
}

pub(super) fn at(basic: &str) -> SystemTime {
    let secs = u64::try_from(time::parse_basic(basic).unwrap()).unwrap();
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub(super) fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

pub(super) const KMS_BODY: &[u8] =
    br#"{"KeyId": "alias/exp", "KeySpec": "AES_256", "EncryptionContext": {"volume": "vol-1"}}"#;

/// A request shaped like boto3's GenerateDataKey, signed by `signer` at `when`.
pub(super) fn kms_request(signer: &Credential, service: &str, when: &str) -> Vec<(String, String)> {
    let mut headers = owned(&[
        ("X-Amz-Target", "TrentService.GenerateDataKey"),
        ("Content-Type", "application/x-amz-json-1.1"),
        (
            "User-Agent",
            "Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux",
        ),
        (
            "amz-sdk-invocation-id",
            "2d1f8b4e-1c1e-4b8e-9a43-5b0f8e3c9d10",
        ),
        ("amz-sdk-request", "attempt=1; max=2"),
        ("Content-Length", "85"),
    ]);
    let added = sign(
        "POST",
        "localhost:8443",
        "/",
        &headers,
        KMS_BODY,
        signer,
        "eu-west-1",
        service,
        at(when),
    );
    headers.push(("Host".to_owned(), "localhost:8443".to_owned()));
    headers.extend(added);
    headers
}

pub(super) fn check(
    headers: &[(String, String)],
    body: &[u8],
    now: &str,
) -> Result<Principal, SigV4Error> {
    let creds = store();
    let req = SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body,
    };
    verify(
        &req,
        |id| creds.iter().find(|c| c.access_key_id == id),
        at(now),
        "kms",
    )
}

pub(super) fn header<'h>(headers: &'h [(String, String)], name: &str) -> &'h str {
    super::header_values(headers, name).next().unwrap()
}

pub(super) fn replace_header(headers: &mut [(String, String)], name: &str, value: &str) {
    for (n, v) in headers.iter_mut() {
        if n.eq_ignore_ascii_case(name) {
            *v = value.to_owned();
        }
    }
}

pub(super) fn rewrite_auth(headers: &mut [(String, String)], from: &str, to: &str) {
    let auth = header(headers, "authorization").replace(from, to);
    replace_header(headers, "authorization", &auth);
}

fn vanilla(sig: &str) -> (Vec<(String, String)>, String) {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature={sig}"
    );
    let headers = owned(&[
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", NOW),
        ("Authorization", &auth),
    ]);
    (headers, auth)
}

#[test]
fn aws_suite_get_and_post_vanilla() {
    let creds = store();
    for (method, sig) in [
        (
            "GET",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "POST",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        ),
    ] {
        let (headers, auth) = vanilla(sig);
        let req = SignedRequest {
            method,
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        let lookup = |id: &str| creds.iter().find(|c| c.access_key_id == id);
        let p = verify(&req, lookup, at(NOW), "service").unwrap();
        assert_eq!(p.access_key_id, AKID);
        assert_eq!(p.region, "us-east-1");
        assert_eq!(p.arn, "arn:aws:iam::111122223333:user/AKIDEXAMPLE");
        let e = verify(&req, lookup, at(NOW), "kms").unwrap_err();
        assert!(matches!(e, SigV4Error::BadScope(_)), "{e:?}");
        let signed = sign(
            method,
            "example.amazonaws.com",
            "/",
            &[],
            b"",
            &creds[0],
            "us-east-1",
            "service",
            at(NOW),
        );
        assert_eq!(
            signed,
            owned(&[("X-Amz-Date", NOW), ("Authorization", &auth)])
        );
    }
}

#[test]
fn aws_docs_iam_list_users_with_query_and_content_type() {
    // docs.aws.amazon.com "Examples of the complete Signature Version 4 signing process".
    let creds = store();
    let headers = owned(&[
        (
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        ("Host", "iam.amazonaws.com"),
        ("X-Amz-Date", NOW),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        ),
    ]);
    let req = SignedRequest {
        method: "GET",
        path: "/",
        query: "Version=2010-05-08&Action=ListUsers",
        headers: &headers,
        body: b"",
    };
    let lookup = |id: &str| creds.iter().find(|c| c.access_key_id == id);
    verify(&req, lookup, at(NOW), "iam").unwrap();
}

#[test]
fn boto3_shaped_kms_request_verifies() {
    let creds = store();
    let headers = kms_request(&creds[0], "kms", NOW);
    let auth = header(&headers, "authorization");
    assert!(auth.starts_with(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/kms/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
    ));
    assert_eq!(header(&headers, "x-amz-date"), NOW);
    let p = check(&headers, KMS_BODY, NOW).unwrap();
    assert_eq!(
        p,
        Principal {
            arn: "arn:aws:iam::111122223333:user/AKIDEXAMPLE".to_owned(),
            account_id: "111122223333".to_owned(),
            access_key_id: AKID.to_owned(),
            region: "eu-west-1".to_owned(),
        }
    );
    // Headers the SDK does not sign may change in transit.
    let mut h = headers.clone();
    replace_header(&mut h, "user-agent", "curl/8");
    replace_header(&mut h, "amz-sdk-request", "attempt=2; max=2");
    check(&h, KMS_BODY, NOW).unwrap();
    // Header names are case-insensitive; the order of headers does not matter.
    let mut h: Vec<_> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_uppercase(), v.clone()))
        .collect();
    h.reverse();
    check(&h, KMS_BODY, NOW).unwrap();
}

pub(super) fn assert_rejected(result: Result<Principal, SigV4Error>, code: &str, message: &str) {
    let e = result.unwrap_err();
    assert_eq!(e.aws_code(), code, "{e:?}");
    assert_eq!(e.to_string(), message, "{e:?}");
    let status = if code == "MissingAuthenticationTokenException" {
        403
    } else {
        400
    };
    assert_eq!(e.http_status(), status);
}

pub(super) const MISMATCH: &str = super::SIGNATURE_MISMATCH_MESSAGE;
pub(super) const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
pub(super) const BAD_SIG: &str = "InvalidSignatureException";
pub(super) const UNRECOGNIZED: &str = "UnrecognizedClientException";

#[test]
fn content_sha256_header_must_match_the_body() {
    let creds = store();
    let mut base = owned(&[("Content-Type", "application/x-amz-json-1.1")]);
    base.push(("X-Amz-Content-Sha256".to_owned(), payload_hash(KMS_BODY)));
    let sign_with = |extra: &[(String, String)]| {
        let mut h = extra.to_vec();
        h.extend(sign(
            "POST",
            "h",
            "/",
            extra,
            KMS_BODY,
            &creds[0],
            "us-east-1",
            "kms",
            at(NOW),
        ));
        h.push(("Host".to_owned(), "h".to_owned()));
        h
    };
    let h = sign_with(&base);
    assert!(header(&h, "authorization").contains("x-amz-content-sha256"));
    check(&h, KMS_BODY, NOW).unwrap();
    base[1].1 = payload_hash(b"something else");
    assert_rejected(
        check(&sign_with(&base), KMS_BODY, NOW),
        BAD_SIG,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
    base[1].1 = "UNSIGNED-PAYLOAD".to_owned();
    assert!(check(&sign_with(&base), KMS_BODY, NOW).is_err());
}

#[test]
fn date_header_may_replace_x_amz_date() {
    let creds = store();
    let headers = owned(&[("Host", "h"), ("Date", "Sun, 30 Aug 2015 12:36:00 GMT")]);
    let signed = ["date", "host"];
    let canonical = canonical_request(&CanonicalInput {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        signed_headers: &signed,
        payload_hash: &payload_hash(b"{}"),
    });
    let scope = "20150830/us-east-1/kms/aws4_request";
    let key = signing_key(&creds[0].secret, "20150830", "us-east-1", "kms");
    let sig = signature(&key, &string_to_sign(NOW, scope, &canonical));
    let mut headers = headers;
    headers.push((
        "Authorization".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{scope}, SignedHeaders=date;host, Signature={sig}"
        ),
    ));
    check(&headers, b"{}", NOW).unwrap();
}

#[test]
fn error_codes_and_statuses() {
    let s = String::new;
    for (e, code, status) in [
        (
            SigV4Error::MissingAuthenticationToken,
            "MissingAuthenticationTokenException",
            403,
        ),
        (
            SigV4Error::Incomplete(s()),
            "IncompleteSignatureException",
            400,
        ),
        (SigV4Error::BadScope(s()), BAD_SIG, 400),
        (SigV4Error::UnsignedHeader(s()), BAD_SIG, 400),
        (
            SigV4Error::Expired {
                request: s(),
                earliest: s(),
                now: s(),
            },
            BAD_SIG,
            400,
        ),
        (
            SigV4Error::NotYetCurrent {
                request: s(),
                latest: s(),
                now: s(),
            },
            BAD_SIG,
            400,
        ),
        (SigV4Error::UnknownAccessKey, UNRECOGNIZED, 400),
        (SigV4Error::BadSessionToken, UNRECOGNIZED, 400),
        (SigV4Error::ContentSha256Mismatch, BAD_SIG, 400),
        (SigV4Error::SignatureMismatch, BAD_SIG, 400),
    ] {
        assert_eq!((e.aws_code(), e.http_status()), (code, status), "{e:?}");
    }
}

#[test]
fn debug_output_redacts_secrets() {
    let c = cred(SESSION_AKID, SECRET, Some(TOKEN));
    let shown = format!("{c:?}");
    assert!(shown.contains(SESSION_AKID) && !shown.contains(SECRET) && !shown.contains(TOKEN));
    let headers = kms_request(&c, "kms", NOW);
    let req = SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: KMS_BODY,
    };
    let shown = format!("{req:?}");
    let sig = header(&headers, "authorization")
        .rsplit('=')
        .next()
        .unwrap();
    assert!(shown.contains("TrentService.GenerateDataKey"));
    assert!(!shown.contains(sig) && !shown.contains(TOKEN) && !shown.contains("vol-1"));
}
