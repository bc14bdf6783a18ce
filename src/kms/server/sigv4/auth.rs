//! Parsing `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` and
//! its credential scope `AKID/yyyymmdd/region/service/aws4_request`.
//!
//! Parsing is strict where leniency would let a changed header still verify: parameters are
//! separated by `,` with optional spaces, an empty parameter or one without `=` is rejected, a
//! repeated parameter is rejected. Unknown parameters are ignored (as AWS does). Error texts are
//! the ones AWS's JSON front end returns (captured by dynalite from DynamoDB, which runs on the
//! same front end as KMS); they echo the header, which holds nothing secret.

use super::canonical::{ALGORITHM, TERMINATOR};
use super::SigV4Error;

/// The three parameters of a SigV4 `Authorization` header.
#[derive(Debug)]
pub(super) struct AuthHeader<'a> {
    pub credential: &'a str,
    pub signed_headers: Vec<&'a str>,
    pub signature: &'a str,
}

/// Parses the `Authorization` value. `has_date` says whether the request carries an
/// `X-Amz-Date` or `Date` header: AWS reports its absence together with missing parameters.
pub(super) fn parse_authorization(
    value: &str,
    has_date: bool,
) -> Result<AuthHeader<'_>, SigV4Error> {
    let value = value.trim();
    if !value.starts_with("AWS4-") {
        return Err(SigV4Error::MissingAuthenticationToken);
    }
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    if !rest.trim().is_empty() {
        for part in rest.split(',') {
            let part = part.trim_matches(' ');
            let Some((key, val)) = part.split_once('=') else {
                return Err(SigV4Error::Incomplete(format!(
                    "'{part}' not a valid key=value pair (missing equal-sign) in Authorization \
                     header: '{value}'."
                )));
            };
            let slot = match key {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => continue,
            };
            if slot.replace(val).is_some() {
                return Err(SigV4Error::Incomplete(format!(
                    "Authorization header has a duplicate '{key}' parameter: '{value}'."
                )));
            }
        }
    }
    let mut missing = String::new();
    for (name, got) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if got.is_none_or(str::is_empty) {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if !has_date {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    match (credential, signed_headers, signature) {
        (Some(credential), Some(signed), Some(signature)) if missing.is_empty() => {
            if algorithm != ALGORITHM {
                return Err(SigV4Error::Incomplete(format!(
                    "Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now)."
                )));
            }
            Ok(AuthHeader {
                credential,
                signed_headers: signed.split(';').collect(),
                signature,
            })
        }
        _ => Err(SigV4Error::Incomplete(format!(
            "{missing}Authorization={value}"
        ))),
    }
}

/// A parsed credential: the access key id and the four scope elements.
#[derive(Debug)]
pub(super) struct Scope<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub terminator: &'a str,
}

impl<'a> Scope<'a> {
    /// Splits `Credential=` into its five `/`-separated elements (trailing `/`s ignored).
    pub fn parse(credential: &'a str) -> Result<Self, SigV4Error> {
        let parts: Vec<&str> = credential.trim_end_matches('/').split('/').collect();
        match parts.as_slice() {
            [access_key_id, date, region, service, terminator] => Ok(Scope {
                access_key_id,
                date,
                region,
                service,
                terminator,
            }),
            _ => Err(SigV4Error::Incomplete(format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. \
                 keyid/date/region/service/term, got '{credential}'"
            ))),
        }
    }

    /// Checks region syntax, service, terminator and that the scope date is the request's day
    /// (`amz_date` is the request date as `YYYYMMDDTHHMMSSZ`). Every failure is reported at
    /// once, as AWS does.
    pub fn check(&self, expected_service: &str, amz_date: &str) -> Result<(), SigV4Error> {
        let mut msg = String::new();
        let region_ok = !self.region.is_empty()
            && self
                .region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !region_ok {
            msg.push_str(&format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                self.region
            ));
        }
        if self.service != expected_service {
            msg.push_str(&format!(
                "Credential should be scoped to correct service: '{expected_service}'. "
            ));
        }
        if self.terminator != TERMINATOR {
            msg.push_str(&format!(
                "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'. ",
                self.terminator
            ));
        }
        let day = amz_date.get(..8).unwrap_or(amz_date);
        if self.date != day {
            msg.push_str(&format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '{}' != '{day}', from '{amz_date}'.",
                self.date
            ));
        }
        if msg.is_empty() {
            Ok(())
        } else {
            Err(SigV4Error::BadScope(msg.trim_end().to_owned()))
        }
    }

    /// `yyyymmdd/region/service/aws4_request`, as it appears in the string to sign.
    pub fn scope_string(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.date, self.region, self.service, self.terminator
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/kms/aws4_request, \
                        SignedHeaders=host;x-amz-date, Signature=abc";

    #[test]
    fn parses_botocore_and_compact_forms() {
        for v in [GOOD, &GOOD.replace(", ", ","), &format!("  {GOOD}  ")] {
            let a = parse_authorization(v, true).unwrap();
            assert_eq!(a.credential, "AKID/20150830/us-east-1/kms/aws4_request");
            assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
            assert_eq!(a.signature, "abc");
        }
        let extra = GOOD.replace("Signature=", "Foo=bar, Signature=");
        assert!(parse_authorization(&extra, true).is_ok());
    }

    #[test]
    fn reports_what_is_missing_like_aws() {
        let v = "AWS4-HMAC-SHA256 Credential=a/b/c/d/e";
        let e = parse_authorization(v, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Authorization header requires 'Signature' parameter. Authorization header requires \
             'SignedHeaders' parameter. Authorization header requires existence of either a \
             'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=a/b/c/d/e"
        );
        assert_eq!(e.aws_code(), "IncompleteSignatureException");
        let e = parse_authorization("AWS4-HMAC-SHA256", true).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("Authorization header requires 'Credential'"));
    }

    #[test]
    fn rejects_malformed_parameters() {
        for (v, start) in [
            (
                GOOD.replace(", Sig", ", , Sig"),
                "'' not a valid key=value pair",
            ),
            (
                GOOD.replace("Signature=", "Signature"),
                "'Signatureabc' not a valid",
            ),
            (
                format!("{GOOD}, Signature=def"),
                "Authorization header has a duplicate",
            ),
            (
                GOOD.replace("SHA256", "SHA25"),
                "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25'",
            ),
        ] {
            let e = parse_authorization(&v, true).unwrap_err();
            assert!(e.to_string().starts_with(start), "{v}: {e}");
            assert_eq!(e.aws_code(), "IncompleteSignatureException");
        }
        for v in [
            "",
            "Bearer x",
            "AWS AKID:sig",
            "aws4-hmac-sha256 Credential=x",
        ] {
            assert_eq!(
                parse_authorization(v, true).unwrap_err(),
                SigV4Error::MissingAuthenticationToken
            );
        }
    }

    #[test]
    fn scope_parsing_and_checks() {
        let s = Scope::parse("AKID/20150830/us-east-1/kms/aws4_request//").unwrap();
        assert_eq!(s.access_key_id, "AKID");
        assert_eq!(s.scope_string(), "20150830/us-east-1/kms/aws4_request");
        s.check("kms", "20150830T123600Z").unwrap();
        let e = Scope::parse("a/b/c/d").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got 'a/b/c/d'"
        );
        let e = Scope::parse("a/b/C/d/e")
            .unwrap()
            .check("kms", "20150830T123600Z");
        assert_eq!(
            e.unwrap_err().to_string(),
            "Credential should be scoped to a valid region, not 'C'. Credential should be scoped \
             to correct service: 'kms'. Credential should be scoped with a valid terminator: \
             'aws4_request', not 'e'. Date in Credential scope does not match YYYYMMDD from \
             ISO-8601 version of date from HTTP: 'b' != '20150830', from '20150830T123600Z'."
        );
    }
}
