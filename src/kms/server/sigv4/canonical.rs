//! The SigV4 canonical request, string to sign, signing key and signature, shared by the
//! verifier and the signer so the two can never disagree.
//!
//! Rules are those of AWS's non-S3 services as botocore implements them: the path has its dot
//! segments and empty segments removed and is then URI-encoded (so an already percent-encoded
//! path is encoded a second time); query parameters are decoded, re-encoded with the SigV4
//! unreserved set, and sorted by name then value; header names are lowercased, values trimmed
//! with inner whitespace runs collapsed, and repeated headers joined with `,`. Secrets only pass
//! through [`SecretBytes`] and [`MetaKey`].

use crate::crypto::{sha256, MetaKey, SecretBytes};

/// The only signing algorithm supported.
pub(super) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last element of every credential scope.
pub(super) const TERMINATOR: &str = "aws4_request";

/// Lowercase hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// Hex SHA-256 of the payload, as it appears on the last line of the canonical request.
pub(super) fn payload_hash(body: &[u8]) -> String {
    hex(&sha256(body))
}

/// The values of header `name` (any case) in the order received.
pub(super) fn header_values<'h, 'n>(
    headers: &'h [(String, String)],
    name: &'n str,
) -> impl Iterator<Item = &'h str> + use<'h, 'n> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// SigV4 "Trimall": strip the ends and collapse every inner whitespace run to one space.
fn trim_all(value: &str) -> String {
    value.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical value of header `name`: each value trimmed, repeated headers joined by `,`.
/// A signed header that is absent canonicalises to the empty string.
fn canonical_header_value(headers: &[(String, String)], name: &str) -> String {
    header_values(headers, name)
        .map(trim_all)
        .collect::<Vec<_>>()
        .join(",")
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// SigV4 URI encoding: every byte outside `A-Za-z0-9-_.~` becomes `%XX` (uppercase); `/` is
/// kept as is unless `encode_slash`.
pub(super) fn uri_encode(bytes: &[u8], encode_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if is_unreserved(b) || (b == b'/' && !encode_slash) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept literally. `+` is not
/// special (SigV4 signers encode a space as `%20`).
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escape = (b == b'%')
            .then(|| {
                Some((
                    hex_value(*bytes.get(i + 1)?)?,
                    hex_value(*bytes.get(i + 2)?)?,
                ))
            })
            .flatten();
        match escape {
            Some((hi, lo)) => {
                out.push((hi << 4) | lo);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// RFC 3986 remove-dot-segments plus removal of empty segments, as botocore does for non-S3
/// services. A leading and a trailing `/` are kept; an empty path becomes `/`.
fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    let first = if path.starts_with('/') { "/" } else { "" };
    let last = if path.ends_with('/') && !kept.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{first}{}{last}", kept.join("/"))
}

/// The canonical URI of a request path as received (still percent-encoded).
pub(super) fn canonical_uri(path: &str) -> String {
    uri_encode(normalize_path(path).as_bytes(), false)
}

/// The canonical query string: `name=value` pairs decoded, re-encoded, sorted by name and
/// then value, joined by `&`. Empty pairs (`a&&b`) are dropped; `name` alone means `name=`.
pub(super) fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), true),
                uri_encode(&percent_decode(v), true),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The parts of a request that the signature covers, borrowed from the request.
pub(super) struct CanonicalInput<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a [(String, String)],
    /// Signed header names in the order they appear in `SignedHeaders` (lowercase).
    pub signed_headers: &'a [&'a str],
    pub payload_hash: &'a str,
}

/// The canonical request text.
pub(super) fn canonical_request(input: &CanonicalInput<'_>) -> String {
    let mut out = String::with_capacity(256);
    for line in [
        input.method,
        &canonical_uri(input.path),
        &canonical_query(input.query),
    ] {
        out.push_str(line);
        out.push('\n');
    }
    for name in input.signed_headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&canonical_header_value(input.headers, name));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&input.signed_headers.join(";"));
    out.push('\n');
    out.push_str(input.payload_hash);
    out
}

/// The string to sign: algorithm, request date, scope and the hash of the canonical request.
pub(super) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        payload_hash(canonical_request.as_bytes())
    )
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub(super) fn signing_key(
    secret: &SecretBytes,
    date: &str,
    region: &str,
    service: &str,
) -> MetaKey {
    let mut seed = SecretBytes::new([b"AWS4".as_slice(), secret.expose()].concat());
    for part in [date, region, service] {
        seed = SecretBytes::new(
            MetaKey::from_bytes(seed.expose())
                .sign(part.as_bytes())
                .to_vec(),
        );
    }
    let k_signing = MetaKey::from_bytes(seed.expose()).sign(TERMINATOR.as_bytes());
    MetaKey::from_bytes(&k_signing)
}

/// Lowercase hex HMAC of the string to sign under the signing key.
pub(super) fn signature(key: &MetaKey, string_to_sign: &str) -> String {
    hex(&key.sign(string_to_sign.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_normalisation_follows_the_aws_suite() {
        // Inputs and outputs from the AWS SigV4 test suite (get-slash*, get-relative*, get-space).
        for (raw, canonical) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("//example//", "/example/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("/example/.", "/example"),
            ("/example space/", "/example%20space/"),
            (
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            ),
            ("/%20", "/%2520"),
        ] {
            assert_eq!(canonical_uri(raw), canonical, "{raw:?}");
        }
    }

    #[test]
    fn query_canonicalisation_follows_the_aws_suite() {
        for (raw, canonical) in [
            ("", ""),
            ("Param2=value2&Param1=value1", "Param1=value1&Param2=value2"),
            ("Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2"),
            ("Param1=value2&Param1=value1", "Param1=value1&Param1=value2"),
            ("a=b&a&&", "a=&a=b"),
            ("%E1%88%B4=bar", "%E1%88%B4=bar"),
            ("%e1%88%b4=b%2fc", "%E1%88%B4=b%2Fc"),
            ("p=a b/c%", "p=a%20b%2Fc%25"),
            ("-._~=-._~", "-._~=-._~"),
        ] {
            assert_eq!(canonical_query(raw), canonical, "{raw:?}");
        }
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let headers = vec![
            ("My-Header1".to_owned(), "  value1  ".to_owned()),
            ("my-header2".to_owned(), "\"a   b \t c\"".to_owned()),
            ("MY-HEADER1".to_owned(), "value2".to_owned()),
        ];
        assert_eq!(
            canonical_header_value(&headers, "my-header1"),
            "value1,value2"
        );
        assert_eq!(canonical_header_value(&headers, "my-header2"), "\"a b c\"");
        assert_eq!(canonical_header_value(&headers, "absent"), "");
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(
            payload_hash(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
