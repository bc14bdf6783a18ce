//! Pagination of the List operations: `Limit`, `Marker` → `NextMarker`, `Truncated`.
//!
//! A marker is opaque to clients: URL-safe base64 of `<listing>:<sort key of the last entry
//! returned>`. The next page starts strictly after that sort key, so entries added or removed
//! between calls never make a page repeat or skip what remained. A marker this server did not
//! issue for the same listing is `InvalidMarkerException`. The last page says
//! `"Truncated": false` and has no `NextMarker`, as AWS does.

use std::ops::RangeInclusive;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::meta::{check_i32, constraint};
use crate::kms::wire::{ErrorCode, KmsError};

/// One page of a listing.
#[derive(Debug)]
pub(crate) struct Page<T> {
    /// The entries of this page.
    pub items: Vec<T>,
    /// The marker of the next page, when truncated.
    pub next_marker: Option<String>,
    /// Whether more entries follow.
    pub truncated: bool,
}

/// The page size: `limit` within `range`, or `default`.
pub(crate) fn page_size(
    limit: Option<i32>,
    range: &RangeInclusive<u32>,
    default: u32,
) -> Result<usize, KmsError> {
    let n = match limit {
        Some(v) => check_i32("limit", v, range)?,
        None => default,
    };
    usize::try_from(n).map_err(|_| KmsError::internal("page size"))
}

fn invalid_marker() -> KmsError {
    KmsError::new(
        ErrorCode::InvalidMarker,
        "The request was rejected because the marker that specifies where pagination should \
         next begin is not valid.",
    )
}

/// The sort key a `marker` of `listing` resumes after (`None` without a marker).
pub(crate) fn resume_after(
    listing: &str,
    marker: Option<&str>,
) -> Result<Option<String>, KmsError> {
    let Some(marker) = marker else {
        return Ok(None);
    };
    if marker.is_empty() {
        return Err(constraint(
            marker,
            "marker",
            "have length greater than or equal to 1",
        ));
    }
    let raw = URL_SAFE_NO_PAD
        .decode(marker)
        .map_err(|_| invalid_marker())?;
    let text = String::from_utf8(raw).map_err(|_| invalid_marker())?;
    match text.split_once(':') {
        Some((l, key)) if l == listing => Ok(Some(key.to_owned())),
        _ => Err(invalid_marker()),
    }
}

/// The marker that resumes `listing` after sort key `key`.
pub(crate) fn marker(listing: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{listing}:{key}"))
}

/// Pages `entries` (sort key, entry) of `listing` by the request's `Limit` (within `range`,
/// default `default`) and `Marker`.
pub(crate) fn paginate<T>(
    listing: &str,
    mut entries: Vec<(String, T)>,
    limit: Option<i32>,
    range: &RangeInclusive<u32>,
    default: u32,
    marker_in: Option<&str>,
) -> Result<Page<T>, KmsError> {
    let size = page_size(limit, range, default)?;
    let after = resume_after(listing, marker_in)?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rest = entries
        .into_iter()
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
        .peekable();
    let mut items = Vec::with_capacity(size.min(1024));
    let mut last = None;
    while items.len() < size {
        match rest.next() {
            Some((k, v)) => {
                items.push(v);
                last = Some(k);
            }
            None => break,
        }
    }
    let truncated = rest.peek().is_some();
    Ok(Page {
        items,
        next_marker: last.filter(|_| truncated).map(|k| marker(listing, &k)),
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize) -> Vec<(String, usize)> {
        (0..n).rev().map(|i| (format!("{i:03}"), i)).collect()
    }

    #[test]
    fn pages_in_order_until_the_end() {
        let range = 1..=100;
        let p = paginate("t", entries(5), Some(2), &range, 50, None).unwrap();
        assert_eq!(p.items, vec![0, 1]);
        assert!(p.truncated);
        let m = p.next_marker.unwrap();
        let p = paginate("t", entries(5), Some(2), &range, 50, Some(&m)).unwrap();
        assert_eq!(p.items, vec![2, 3]);
        let m = p.next_marker.unwrap();
        let p = paginate("t", entries(5), Some(2), &range, 50, Some(&m)).unwrap();
        assert_eq!(p.items, vec![4]);
        assert!(!p.truncated);
        assert!(p.next_marker.is_none());
    }

    #[test]
    fn exact_fit_is_not_truncated() {
        let p = paginate("t", entries(2), Some(2), &(1..=100), 50, None).unwrap();
        assert_eq!(p.items.len(), 2);
        assert!(!p.truncated);
    }

    #[test]
    fn bad_markers_and_limits() {
        let range = 1..=100;
        let e = paginate("t", entries(1), None, &range, 50, Some("!!")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMarker);
        let other = marker("u", "000");
        let e = paginate("t", entries(1), None, &range, 50, Some(&other)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMarker);
        let e = paginate("t", entries(1), None, &range, 50, Some("")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation);
        for bad in [0, -1, 101] {
            let e = paginate("t", entries(1), Some(bad), &range, 50, None).unwrap_err();
            assert_eq!(e.code, ErrorCode::Validation, "{bad}");
        }
    }
}
