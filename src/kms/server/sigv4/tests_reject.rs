//! Unit tests of every way [`super::verify`] refuses a request, each checked for the exact
//! `__type`, message and HTTP status AWS would answer with.

use super::tests::{
    assert_rejected, check, cred, header, kms_request, replace_header, rewrite_auth, store, AKID,
    BAD_SIG, INVALID_TOKEN, KMS_BODY, MISMATCH, NOW, SECRET, SESSION_AKID, TOKEN, UNRECOGNIZED,
};

#[test]
fn unsigned_request_is_missing_a_token() {
    let creds = store();
    let mut h = kms_request(&creds[0], "kms", NOW);
    h.retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
    assert_rejected(
        check(&h, KMS_BODY, NOW),
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    );
}

#[test]
fn wrong_secret_unknown_key_and_tampering() {
    let creds = store();
    let wrong = cred(AKID, "not-the-secret", None);
    assert_rejected(
        check(&kms_request(&wrong, "kms", NOW), KMS_BODY, NOW),
        BAD_SIG,
        MISMATCH,
    );

    let stranger = cred("AKIDUNKNOWN", SECRET, None);
    let h = kms_request(&stranger, "kms", NOW);
    assert_rejected(check(&h, KMS_BODY, NOW), UNRECOGNIZED, INVALID_TOKEN);

    let h = kms_request(&creds[0], "kms", NOW);
    let tampered = br#"{"KeyId": "alias/exp", "KeySpec": "AES_128", "EncryptionContext": {"volume": "vol-1"}}"#;
    assert_rejected(check(&h, tampered, NOW), BAD_SIG, MISMATCH);

    let mut t = h.clone();
    replace_header(&mut t, "x-amz-target", "TrentService.Decrypt");
    assert_rejected(check(&t, KMS_BODY, NOW), BAD_SIG, MISMATCH);

    let mut t = h.clone();
    replace_header(&mut t, "host", "evil.example:8443");
    assert_rejected(check(&t, KMS_BODY, NOW), BAD_SIG, MISMATCH);

    let mut t = h.clone();
    let sig = header(&h, "authorization")
        .rsplit('=')
        .next()
        .unwrap()
        .to_owned();
    rewrite_auth(&mut t, &sig, &sig.to_ascii_uppercase());
    assert_rejected(check(&t, KMS_BODY, NOW), BAD_SIG, MISMATCH);

    let mut t = h.clone();
    t.push((
        "Authorization".to_owned(),
        header(&h, "authorization").to_owned(),
    ));
    let e = check(&t, KMS_BODY, NOW).unwrap_err();
    assert_eq!(e.aws_code(), "IncompleteSignatureException");
}

#[test]
fn host_and_date_must_be_signed() {
    let creds = store();
    let h = kms_request(&creds[0], "kms", NOW);
    let mut t = h.clone();
    rewrite_auth(&mut t, "content-type;host;", "content-type;");
    assert_rejected(
        check(&t, KMS_BODY, NOW),
        BAD_SIG,
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
    let mut t = h.clone();
    rewrite_auth(&mut t, ";x-amz-date;", ";");
    assert_rejected(
        check(&t, KMS_BODY, NOW),
        BAD_SIG,
        "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
    );
}

#[test]
fn clock_skew_is_five_minutes_each_way() {
    let creds = store();
    for (signed_at, ok) in [
        ("20150830T123100Z", true),
        ("20150830T124100Z", true),
        ("20150830T123059Z", false),
        ("20150830T124101Z", false),
    ] {
        let r = check(&kms_request(&creds[0], "kms", signed_at), KMS_BODY, NOW);
        assert_eq!(r.is_ok(), ok, "{signed_at}: {r:?}");
    }
    assert_rejected(
        check(
            &kms_request(&creds[0], "kms", "20150830T123000Z"),
            KMS_BODY,
            NOW,
        ),
        BAD_SIG,
        "Signature expired: 20150830T123000Z is now earlier than 20150830T123100Z \
         (20150830T123600Z - 5 min.)",
    );
    assert_rejected(
        check(
            &kms_request(&creds[0], "kms", "20150830T124200Z"),
            KMS_BODY,
            NOW,
        ),
        BAD_SIG,
        "Signature not yet current: 20150830T124200Z is still later than 20150830T124100Z \
         (20150830T123600Z + 5 min.)",
    );
}

#[test]
fn scope_date_and_service_must_match() {
    let creds = store();
    let mut t = kms_request(&creds[0], "kms", NOW);
    rewrite_auth(&mut t, "/20150830/", "/20150829/");
    assert_rejected(
        check(&t, KMS_BODY, NOW),
        BAD_SIG,
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20150829' != '20150830', from '20150830T123600Z'.",
    );
    let t = kms_request(&creds[0], "s3", NOW);
    assert_rejected(
        check(&t, KMS_BODY, NOW),
        BAD_SIG,
        "Credential should be scoped to correct service: 'kms'.",
    );
    let mut t = kms_request(&creds[0], "kms", NOW);
    rewrite_auth(&mut t, "/aws4_request", "/aws4_request/extra");
    let e = check(&t, KMS_BODY, NOW).unwrap_err();
    assert_eq!(e.aws_code(), "IncompleteSignatureException");
    assert!(e
        .to_string()
        .starts_with("Credential must have exactly 5 slash-delimited"));
}

#[test]
fn malformed_dates_are_incomplete() {
    let creds = store();
    let mut t = kms_request(&creds[0], "kms", NOW);
    replace_header(&mut t, "x-amz-date", "2015-08-30T12:36:00Z");
    assert_rejected(
        check(&t, KMS_BODY, NOW),
        "IncompleteSignatureException",
        "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See \
         http://en.wikipedia.org/wiki/ISO_8601",
    );
    t.retain(|(n, _)| !n.eq_ignore_ascii_case("x-amz-date"));
    let e = check(&t, KMS_BODY, NOW).unwrap_err();
    assert!(e.to_string().starts_with(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=AWS4-HMAC-SHA256 "
    ));
}

#[test]
fn session_tokens() {
    let creds = store();
    let ok = kms_request(&creds[1], "kms", NOW);
    assert!(ok
        .iter()
        .any(|(n, v)| n == "X-Amz-Security-Token" && v == TOKEN));
    assert!(header(&ok, "authorization").contains("x-amz-date;x-amz-security-token;x-amz-target"));
    check(&ok, KMS_BODY, NOW).unwrap();

    let forgot = cred(SESSION_AKID, SECRET, None);
    let h = kms_request(&forgot, "kms", NOW);
    assert_rejected(check(&h, KMS_BODY, NOW), UNRECOGNIZED, INVALID_TOKEN);

    let wrong = cred(SESSION_AKID, SECRET, Some("another-token"));
    let h = kms_request(&wrong, "kms", NOW);
    assert_rejected(check(&h, KMS_BODY, NOW), UNRECOGNIZED, INVALID_TOKEN);

    let extra = cred(AKID, SECRET, Some(TOKEN));
    let h = kms_request(&extra, "kms", NOW);
    assert_rejected(check(&h, KMS_BODY, NOW), UNRECOGNIZED, INVALID_TOKEN);

    let mut h = kms_request(&forgot, "kms", NOW);
    h.push(("X-Amz-Security-Token".to_owned(), TOKEN.to_owned()));
    assert_rejected(
        check(&h, KMS_BODY, NOW),
        BAD_SIG,
        "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.",
    );
}
