//! Key metadata as AWS returns it (`KeyMetadata` of CreateKey and DescribeKey), and the
//! request checks shared by the key, alias and tag operations: `KeyId` length, tag rules.

use std::collections::BTreeMap;

use crate::kms::server::model::{KeyRecord, KeySpec, KeyState, ModelError};
use crate::kms::wire::{self, ErrorCode, KmsError};

/// `KeyId` members: 1–2048 characters.
const MAX_KEY_ID: usize = 2048;
/// Tag keys: 1–128 characters.
const MAX_TAG_KEY: usize = 128;
/// Tag values: 0–256 characters.
const MAX_TAG_VALUE: usize = 256;
/// Tags on one key.
pub(crate) const MAX_TAGS: usize = 50;

/// A list of enum values, or `None` when empty (AWS omits the member).
pub(crate) fn non_empty<T: Copy>(values: &[T]) -> Option<Vec<T>> {
    (!values.is_empty()).then(|| values.to_vec())
}

/// `KeyMetadata` of `rec`, with every member AWS returns for a single-Region key with
/// `AWS_KMS` origin.
///
/// - `EncryptionAlgorithms`, `SigningAlgorithms`, `MacAlgorithms`: only the ones of the key's
///   usage (AWS omits the others);
/// - `DeletionDate` and `PendingDeletionWindowInDays`: only while the key is pending deletion;
/// - `CurrentKeyMaterialId`: symmetric encryption keys only, as AWS does.
pub(crate) fn key_metadata(rec: &KeyRecord) -> wire::KeyMetadata {
    let pending = rec.state == KeyState::PendingDeletion;
    wire::KeyMetadata {
        aws_account_id: Some(rec.account.clone()),
        key_id: rec.key_id(),
        arn: Some(rec.arn.clone()),
        creation_date: Some(rec.created as f64),
        enabled: Some(rec.enabled()),
        description: Some(rec.description.clone()),
        key_usage: Some(rec.usage),
        key_state: Some(rec.state),
        deletion_date: rec.deletion_date.filter(|_| pending).map(|d| d as f64),
        origin: Some(rec.origin),
        key_manager: Some(rec.manager),
        customer_master_key_spec: Some(rec.spec),
        key_spec: Some(rec.spec),
        encryption_algorithms: non_empty(rec.encryption_algorithms()),
        signing_algorithms: non_empty(rec.signing_algorithms()),
        mac_algorithms: non_empty(rec.mac_algorithms()),
        multi_region: Some(false),
        pending_deletion_window_in_days: rec
            .pending_window_days
            .filter(|_| pending)
            .and_then(|d| i32::try_from(d).ok()),
        current_key_material_id: (rec.spec == KeySpec::SymmetricDefault)
            .then(|| rec.current_material().ok().map(|m| m.id.to_hex()))
            .flatten(),
        ..wire::KeyMetadata::default()
    }
}

/// A `KeyId`-like member is 1–2048 characters (AWS's shape constraint).
pub(crate) fn check_key_id(member: &str, value: &str) -> Result<(), KmsError> {
    let len = value.chars().count();
    if len == 0 {
        return Err(constraint(
            value,
            member,
            "have length greater than or equal to 1",
        ));
    }
    if len > MAX_KEY_ID {
        let rule = format!("have length less than or equal to {MAX_KEY_ID}");
        return Err(constraint(value, member, &rule));
    }
    Ok(())
}

/// AWS's shape-constraint `ValidationException` naming `value`.
pub(crate) fn constraint(value: &str, member: &str, rule: &str) -> KmsError {
    ModelError::constraint(Some(value), member, rule).into()
}

/// A numeric request member within `range`, or AWS's range `ValidationException`.
pub(crate) fn check_i32(
    member: &str,
    value: i32,
    range: &std::ops::RangeInclusive<u32>,
) -> Result<u32, KmsError> {
    match u32::try_from(value) {
        Ok(v) => {
            crate::kms::server::model::check_range(member, v, range)?;
            Ok(v)
        }
        Err(_) => {
            let rule = format!("have value greater than or equal to {}", range.start());
            Err(constraint(&value.to_string(), member, &rule))
        }
    }
}

fn tag_error(message: &str) -> KmsError {
    KmsError::new(ErrorCode::Tag, message)
}

/// A tag key: 1–128 characters (`ValidationException`), not starting with `aws:` in any case
/// (`TagException`). `member` is its path in the request (`tags.1.member.tagKey`).
pub(crate) fn check_tag_key(member: &str, key: &str) -> Result<(), KmsError> {
    let len = key.chars().count();
    if len == 0 {
        return Err(constraint(
            key,
            member,
            "have length greater than or equal to 1",
        ));
    }
    if len > MAX_TAG_KEY {
        let rule = format!("have length less than or equal to {MAX_TAG_KEY}");
        return Err(constraint(key, member, &rule));
    }
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(tag_error("Tags beginning with aws: are reserved"));
    }
    Ok(())
}

/// The `Tags` of CreateKey / TagResource: at most 50, no key twice, each key and value valid.
/// Returns them as a map.
pub(crate) fn check_tags(tags: &[wire::Tag]) -> Result<BTreeMap<String, String>, KmsError> {
    let mut out = BTreeMap::new();
    for (i, tag) in tags.iter().enumerate() {
        if out.contains_key(&tag.tag_key) {
            return Err(tag_error("Duplicate tag keys"));
        }
        let n = i + 1;
        check_tag_key(&format!("tags.{n}.member.tagKey"), &tag.tag_key)?;
        if tag.tag_value.chars().count() > MAX_TAG_VALUE {
            let rule = format!("have length less than or equal to {MAX_TAG_VALUE}");
            return Err(constraint(
                &tag.tag_value,
                &format!("tags.{n}.member.tagValue"),
                &rule,
            ));
        }
        out.insert(tag.tag_key.clone(), tag.tag_value.clone());
    }
    check_tag_count(out.len())?;
    Ok(out)
}

/// A key carries at most [`MAX_TAGS`] tags (`TagException`).
pub(crate) fn check_tag_count(count: usize) -> Result<(), KmsError> {
    if count > MAX_TAGS {
        return Err(tag_error("Too many tags"));
    }
    Ok(())
}
