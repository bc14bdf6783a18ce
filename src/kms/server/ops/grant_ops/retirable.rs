//! ListRetirableGrants: the grants, on every key, whose retiring principal is the given one.
//!
//! `Limit` 1-100 (default 50) and `Marker` as ListGrants; the response has ListGrants' shape,
//! grants in creation order.
//!
//! AWS authorizes it by an IAM policy on the account (`kms:ListRetirableGrants`), not by key
//! policies, and there are no IAM policies here: it is allowed. As in AWS, `RetiringPrincipal`
//! must be a principal of the caller's account (`AccessDeniedException` for another account's
//! principal); the grants listed may be on any key.

use super::super::page::{page_size, paginate};
use super::super::Ctx;
use super::{check_principal, list_entry, LIST_DEFAULT, LIST_LIMIT};
use crate::kms::wire::{
    decode_request, encode_response, ErrorCode, KmsError, ListRetirableGrantsRequest,
    ListRetirableGrantsResponse,
};

/// `ListRetirableGrants`.
pub(crate) fn list_retirable_grants(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: ListRetirableGrantsRequest = decode_request(cx.body)?;
    check_principal("retiringPrincipal", &req.retiring_principal)?;
    page_size(req.limit, &LIST_LIMIT, LIST_DEFAULT)?;
    let p = &cx.caller.principal;
    let account = req.retiring_principal.split(':').nth(4).unwrap_or("");
    if account != p.account_id && req.retiring_principal != p.account_id {
        return Err(KmsError::new(
            ErrorCode::AccessDenied,
            format!(
                "User: {} is not authorized to perform: kms:ListRetirableGrants for principal {}",
                p.arn, req.retiring_principal
            ),
        ));
    }
    let entries = cx.kms.registry.read(|s| {
        s.grants
            .values()
            .filter(|g| g.retiring.as_deref() == Some(req.retiring_principal.as_str()))
            .filter_map(|g| {
                let key = s.keys.get(&g.key_id)?;
                Some((
                    format!("{:020}/{}", g.created, g.id),
                    list_entry(g, &key.arn),
                ))
            })
            .collect::<Vec<_>>()
    });
    let page = paginate(
        "retirable",
        entries,
        req.limit,
        &LIST_LIMIT,
        LIST_DEFAULT,
        req.marker.as_deref(),
    )?;
    encode_response(&ListRetirableGrantsResponse {
        grants: Some(page.items),
        next_marker: page.next_marker,
        truncated: Some(page.truncated),
    })
}
