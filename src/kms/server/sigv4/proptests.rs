//! Property tests of [`super::verify`]: arbitrary and mutated `Authorization` headers and header
//! lists never panic and never verify; any single-byte change to the body, a signed header's
//! value or a signed header's name is rejected; honest sign/verify round trips always pass.

use proptest::prelude::*;

use super::tests::{at, check, cred, kms_request, owned, store, AKID, KMS_BODY, NOW, SECRET};
use super::{sign, SignedRequest};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Never write regression files into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A valid boto3-shaped request, signed with the long-term or the session credential.
fn valid(session: bool) -> Vec<(String, String)> {
    let creds = store();
    kms_request(&creds[usize::from(session)], "kms", NOW)
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Authorization".to_owned()),
        Just("X-Amz-Date".to_owned()),
        Just("Date".to_owned()),
        Just("Host".to_owned()),
        Just("X-Amz-Security-Token".to_owned()),
        Just("X-Amz-Content-Sha256".to_owned()),
        "[A-Za-z-]{1,20}",
    ]
}

fn authorization_like() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,200}",
        "AWS4-HMAC-SHA256 .{0,200}",
        "AWS4-HMAC-SHA256 Credential=[A-Z]{0,12}(/[0-9a-z_-]{0,12}){0,6}, \
         SignedHeaders=[a-z;-]{0,40}, Signature=[0-9a-f]{0,70}",
    ]
}

/// Printable ASCII, the alphabet a mutated header value stays in.
fn printable() -> impl Strategy<Value = u8> {
    0x20u8..=0x7e
}

/// The indices of the headers the request's signature covers.
fn signed_indices(headers: &[(String, String)]) -> Vec<usize> {
    let auth = super::header_values(headers, "authorization")
        .next()
        .unwrap_or_default();
    let list = auth
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or_default();
    let names: Vec<&str> = list.split(';').collect();
    (0..headers.len())
        .filter(|&i| names.contains(&headers[i].0.to_ascii_lowercase().as_str()))
        .collect()
}

/// `s` with its byte at `pos % len` replaced by `with`, or `None` if that changes nothing.
fn substitute(s: &str, pos: usize, with: u8) -> Option<String> {
    let mut bytes = s.as_bytes().to_vec();
    let i = pos % bytes.len();
    if bytes[i] == with {
        return None;
    }
    bytes[i] = with;
    String::from_utf8(bytes).ok()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_authorization_never_verifies(auth in authorization_like(), date_ok in any::<bool>()) {
        let mut h = valid(false);
        h.retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
        h.push(("Authorization".to_owned(), auth));
        if !date_ok {
            h.retain(|(n, _)| !n.eq_ignore_ascii_case("x-amz-date"));
        }
        prop_assert!(check(&h, KMS_BODY, NOW).is_err());
    }

    #[test]
    fn arbitrary_header_lists_never_verify(
        headers in proptest::collection::vec((header_name(), ".{0,60}"), 0..12),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        prop_assert!(check(&headers, &body, NOW).is_err());
    }

    #[test]
    fn authorization_byte_substitution_is_rejected(
        session in any::<bool>(), pos in any::<usize>(), with in printable(),
    ) {
        let mut h = valid(session);
        let i = h.iter().position(|(n, _)| n == "Authorization").unwrap();
        let Some(mutated) = substitute(&h[i].1, pos, with) else { return Ok(()) };
        h[i].1 = mutated;
        prop_assert!(check(&h, KMS_BODY, NOW).is_err(), "{}", h[i].1);
    }

    #[test]
    fn authorization_truncation_is_rejected(session in any::<bool>(), keep in any::<usize>()) {
        let mut h = valid(session);
        let i = h.iter().position(|(n, _)| n == "Authorization").unwrap();
        let len = h[i].1.len();
        h[i].1.truncate(keep % len);
        prop_assert!(check(&h, KMS_BODY, NOW).is_err());
    }

    #[test]
    fn signed_header_value_substitution_is_rejected(
        session in any::<bool>(), which in any::<usize>(), pos in any::<usize>(), with in printable(),
    ) {
        let mut h = valid(session);
        let signed = signed_indices(&h);
        prop_assert!(signed.len() >= 4);
        let i = signed[which % signed.len()];
        let Some(mutated) = substitute(&h[i].1, pos, with) else { return Ok(()) };
        h[i].1 = mutated;
        prop_assert!(check(&h, KMS_BODY, NOW).is_err(), "{:?}", h[i]);
    }

    #[test]
    fn signed_header_name_substitution_is_rejected(
        session in any::<bool>(), which in any::<usize>(), pos in any::<usize>(), with in printable(),
    ) {
        let mut h = valid(session);
        let signed = signed_indices(&h);
        let i = signed[which % signed.len()];
        let Some(mutated) = substitute(&h[i].0, pos, with) else { return Ok(()) };
        // A change of case only is not a change: header names are case-insensitive.
        prop_assume!(!mutated.eq_ignore_ascii_case(&h[i].0));
        h[i].0 = mutated;
        prop_assert!(check(&h, KMS_BODY, NOW).is_err(), "{:?}", h[i]);
    }

    #[test]
    fn body_mutation_is_rejected(
        session in any::<bool>(), pos in any::<usize>(), flip in 1u8..=255, grow in any::<bool>(),
    ) {
        let h = valid(session);
        let mut body = KMS_BODY.to_vec();
        let i = pos % body.len();
        body[i] ^= flip;
        prop_assert!(check(&h, &body, NOW).is_err());
        let mut resized = KMS_BODY.to_vec();
        if grow { resized.push(flip) } else { resized.truncate(i) }
        prop_assert!(check(&h, &resized, NOW).is_err());
    }

    #[test]
    fn honest_requests_round_trip(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        target in "TrentService\\.[A-Za-z]{1,30}",
        region in "[a-z]{2}-[a-z]{4,9}-[1-9]",
        path in "(/[A-Za-z0-9 %._~-]{0,12}){1,4}",
        query in "([A-Za-z0-9%]{1,6}=[A-Za-z0-9 %/+]{0,8}&?){0,3}",
        extra in "[ -~]{0,40}",
        skew in -300i64..=300,
    ) {
        let creds = store();
        let mut headers = owned(&[
            ("X-Amz-Target", &target),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Custom", &extra),
        ]);
        let now = at(NOW);
        let signed_at = if skew >= 0 {
            now + std::time::Duration::from_secs(skew.unsigned_abs())
        } else {
            now - std::time::Duration::from_secs(skew.unsigned_abs())
        };
        let target_path = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
        let added = sign("POST", "kms.local", &target_path, &headers, &body, &creds[0], &region, "kms", signed_at);
        headers.push(("Host".to_owned(), "kms.local".to_owned()));
        headers.extend(added);
        let req = SignedRequest { method: "POST", path: &path, query: &query, headers: &headers, body: &body };
        let lookup = |id: &str| creds.iter().find(|c| c.access_key_id == id);
        let p = super::verify(&req, lookup, now, "kms");
        prop_assert!(p.is_ok(), "{:?}", p);
        prop_assert_eq!(p.map(|p| p.region).unwrap_or_default(), region.clone());
        // The same request from someone holding the wrong secret never verifies.
        let forged = cred(AKID, &format!("{SECRET}x"), None);
        let mut f = headers.clone();
        f.truncate(3);
        f.push(("Host".to_owned(), "kms.local".to_owned()));
        let forged_headers = sign("POST", "kms.local", &target_path, &f[..3], &body, &forged, &region, "kms", signed_at);
        f.extend(forged_headers);
        let req = SignedRequest { headers: &f, ..req };
        prop_assert!(super::verify(&req, lookup, now, "kms").is_err());
    }
}
