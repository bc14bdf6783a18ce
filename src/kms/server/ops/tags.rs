//! Tags: TagResource, UntagResource, ListResourceTags.
//!
//! AWS's rules: tag keys 1–128 and values 0–256 characters (`ValidationException`); keys
//! beginning with `aws:` are reserved, a key given twice in one request is refused, and a key
//! carries at most 50 tags (`TagException`). Tagging a key that already has the tag key
//! replaces its value; untagging a tag key the key lacks does nothing. Tag and untag refuse a
//! key pending deletion (`KMSInvalidStateException`) and AWS managed keys
//! (`AccessDeniedException`); ListResourceTags works on every key in every state.

use super::keys::{target, update_key};
use super::meta::{check_tag_count, check_tag_key, check_tags};
use super::{page, Ctx};
use crate::kms::server::model::{self, AdminAction, KeyRecord, KeyState};
use crate::kms::wire::{self, decode_request, encode_response, KmsError};

/// ListResourceTags `Limit`.
const LIST_TAGS_LIMIT: std::ops::RangeInclusive<u32> = 1..=50;

/// Customer managed and not pending deletion.
fn check_taggable(rec: &KeyRecord, action: AdminAction, principal: &str) -> Result<(), KmsError> {
    model::check_customer_managed(rec, action, principal)?;
    match rec.state {
        KeyState::Enabled | KeyState::Disabled => Ok(()),
        state => Err(model::ModelError::key_state(&rec.arn, state).into()),
    }
}

/// `TagResource`.
pub(crate) fn tag_resource(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::TagResourceRequest = decode_request(cx.body)?;
    let tags = check_tags(&req.tags)?;
    let id = target(&mut cx, &req.key_id, "kms:TagResource", &[])?;
    let principal = cx.caller.principal.arn.clone();
    update_key(&cx, &id, |rec| {
        check_taggable(rec, AdminAction::TagResource, &principal)?;
        let added = tags.keys().filter(|k| !rec.tags.contains_key(*k)).count();
        check_tag_count(rec.tags.len() + added)?;
        rec.tags.extend(tags);
        Ok(())
    })?;
    encode_response(&wire::TagResourceResponse {})
}

/// `UntagResource`.
pub(crate) fn untag_resource(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::UntagResourceRequest = decode_request(cx.body)?;
    for (i, key) in req.tag_keys.iter().enumerate() {
        check_tag_key(&format!("tagKeys.{}.member", i + 1), key)?;
    }
    let id = target(&mut cx, &req.key_id, "kms:UntagResource", &[])?;
    let principal = cx.caller.principal.arn.clone();
    update_key(&cx, &id, |rec| {
        check_taggable(rec, AdminAction::UntagResource, &principal)?;
        for key in &req.tag_keys {
            rec.tags.remove(key);
        }
        Ok(())
    })?;
    encode_response(&wire::UntagResourceResponse {})
}

/// `ListResourceTags`: sorted by tag key, `Limit` 1–50 (default 50).
pub(crate) fn list_resource_tags(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::ListResourceTagsRequest = decode_request(cx.body)?;
    let id = target(&mut cx, &req.key_id, "kms:ListResourceTags", &[])?;
    let entries = cx.kms.registry.read(|s| {
        s.key(&id).map(|rec| {
            rec.tags
                .iter()
                .map(|(k, v)| {
                    let tag = wire::Tag {
                        tag_key: k.clone(),
                        tag_value: v.clone(),
                    };
                    (k.clone(), tag)
                })
                .collect::<Vec<_>>()
        })
    })?;
    let page = page::paginate(
        "tags",
        entries,
        req.limit,
        &LIST_TAGS_LIMIT,
        50,
        req.marker.as_deref(),
    )?;
    encode_response(&wire::ListResourceTagsResponse {
        tags: Some(page.items),
        next_marker: page.next_marker,
        truncated: Some(page.truncated),
    })
}
