//! Tests of the alias and tag operations through a real [`Kms`](crate::kms::server::Kms).

use serde_json::{json, Value};

use super::tests_keys::Harness;
use crate::kms::wire::{ErrorCode, Operation};

const ACCOUNT_ARN: &str = "arn:aws:kms:us-east-1:111122223333";

fn alias(name: &str, key: &str) -> Value {
    json!({"AliasName": name, "TargetKeyId": key})
}

fn names(listing: &Value) -> Vec<String> {
    listing["Aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AliasName"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn create_list_update_delete_alias() {
    let h = Harness::new();
    let a = h.key();
    let b = h.key();
    let arn_a = h.describe(&a)["Arn"].as_str().unwrap().to_owned();
    h.ok(Operation::CreateAlias, alias("alias/app", &a));
    h.ok(Operation::CreateAlias, alias("alias/by-arn", &arn_a));
    let all = h.ok(Operation::ListAliases, json!({}));
    assert_eq!(all["Truncated"], false);
    assert_eq!(
        names(&all),
        ["alias/app", "alias/aws/volcrypt", "alias/by-arn"]
    );
    let entry = &all["Aliases"][0];
    assert_eq!(entry["AliasArn"], format!("{ACCOUNT_ARN}:alias/app"));
    assert_eq!(entry["TargetKeyId"], a.as_str());
    assert!(entry["CreationDate"].as_f64().is_some());
    assert!(entry["LastUpdatedDate"].as_f64().is_some());
    let managed = &all["Aliases"][1];
    assert!(managed.get("TargetKeyId").is_none());

    let of_b = h.ok(Operation::ListAliases, json!({"KeyId": b}));
    assert_eq!(of_b["Aliases"], json!([]));
    h.ok(Operation::UpdateAlias, alias("alias/app", &b));
    assert_eq!(h.describe("alias/app")["KeyId"], b.as_str());
    assert_eq!(
        names(&h.ok(Operation::ListAliases, json!({"KeyId": b}))),
        ["alias/app"]
    );
    assert_eq!(
        names(&h.ok(Operation::ListAliases, json!({"KeyId": arn_a}))),
        ["alias/by-arn"]
    );

    h.ok(Operation::DeleteAlias, json!({"AliasName": "alias/app"}));
    assert_eq!(
        h.code(Operation::DescribeKey, json!({"KeyId": "alias/app"})),
        ErrorCode::NotFound
    );
    let e = h.err(Operation::DeleteAlias, json!({"AliasName": "alias/app"}));
    assert_eq!(e.code, ErrorCode::NotFound);
    assert_eq!(
        e.message,
        format!("Alias {ACCOUNT_ARN}:alias/app is not found.")
    );
    // The name is free again.
    h.ok(Operation::CreateAlias, alias("alias/app", &a));
}

#[test]
fn alias_name_and_target_errors() {
    let h = Harness::new();
    let k = h.key();
    h.ok(Operation::CreateAlias, alias("alias/taken", &k));
    let e = h.err(Operation::CreateAlias, alias("alias/taken", &k));
    assert_eq!(e.code, ErrorCode::AlreadyExists);
    assert_eq!(
        e.message,
        format!("An alias with the name {ACCOUNT_ARN}:alias/taken already exists")
    );
    let cases = [
        (alias("alias/aws/mine", &k), ErrorCode::InvalidAliasName),
        (alias("noprefix", &k), ErrorCode::InvalidAliasName),
        (alias("alias/", &k), ErrorCode::InvalidAliasName),
        (alias("alias/a:b", &k), ErrorCode::InvalidAliasName),
        (alias("alias/sp ace", &k), ErrorCode::Validation),
        (alias("", &k), ErrorCode::Validation),
        (
            alias(&format!("alias/{}", "x".repeat(251)), &k),
            ErrorCode::Validation,
        ),
        (alias("alias/ok", "alias/taken"), ErrorCode::Validation),
        (
            alias("alias/ok", &format!("{ACCOUNT_ARN}:alias/taken")),
            ErrorCode::Validation,
        ),
        (
            alias("alias/ok", "11111111-2222-3333-4444-555555555555"),
            ErrorCode::NotFound,
        ),
        (alias("alias/ok", ""), ErrorCode::Validation),
        (json!({"AliasName": "alias/ok"}), ErrorCode::Validation),
    ];
    for (body, code) in cases {
        assert_eq!(h.code(Operation::CreateAlias, body.clone()), code, "{body}");
    }
    h.ok(
        Operation::CreateAlias,
        alias(&format!("alias/{}", "x".repeat(250)), &k),
    );
    for body in [
        json!({"AliasName": "alias/aws/volcrypt"}),
        json!({"AliasName": "alias/none"}),
    ] {
        let code = h.code(Operation::DeleteAlias, body.clone());
        assert!(
            matches!(code, ErrorCode::InvalidAliasName | ErrorCode::NotFound),
            "{body}"
        );
    }
    let body = alias("alias/none", &k);
    assert_eq!(h.code(Operation::UpdateAlias, body), ErrorCode::NotFound);
}

#[test]
fn alias_targets_and_key_states() {
    let h = Harness::new();
    let k = h.key();
    h.ok(Operation::DisableKey, json!({"KeyId": k}));
    h.ok(Operation::CreateAlias, alias("alias/disabled-ok", &k));
    h.ok(
        Operation::ScheduleKeyDeletion,
        json!({"KeyId": k, "PendingWindowInDays": 7}),
    );
    let e = h.err(Operation::CreateAlias, alias("alias/pending", &k));
    assert_eq!(e.code, ErrorCode::KmsInvalidState);
    assert!(e.message.ends_with("is pending deletion."), "{}", e.message);
    // An alias of a key pending deletion can move away, and be deleted.
    let other = h.key();
    h.ok(Operation::UpdateAlias, alias("alias/disabled-ok", &other));
    h.ok(Operation::UpdateAlias, alias("alias/disabled-ok", &other));
    let body = alias("alias/disabled-ok", &k);
    assert_eq!(
        h.code(Operation::UpdateAlias, body),
        ErrorCode::KmsInvalidState
    );
    h.ok(Operation::CreateAlias, alias("alias/x", &other));
    h.ok(Operation::DeleteAlias, json!({"AliasName": "alias/x"}));
    // AWS managed keys take no customer aliases.
    let managed = h.describe("alias/aws/volcrypt")["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = h.ok(Operation::ListAliases, json!({"KeyId": managed}));
    assert_eq!(names(&listed), ["alias/aws/volcrypt"]);
    assert_eq!(listed["Aliases"][0]["TargetKeyId"], managed.as_str());
    let body = alias("alias/to-managed", &managed);
    assert_eq!(
        h.code(Operation::CreateAlias, body),
        ErrorCode::AccessDenied
    );
    let body = alias("alias/disabled-ok", &managed);
    assert_eq!(
        h.code(Operation::UpdateAlias, body),
        ErrorCode::AccessDenied
    );
}

#[test]
fn update_alias_keeps_type_and_usage() {
    let h = Harness::new();
    let sym = h.key();
    let sym2 = h.key();
    let hmac = h.create(json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}));
    let hmac = hmac["KeyId"].as_str().unwrap();
    let sign = h.create(json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}));
    let sign = sign["KeyId"].as_str().unwrap();
    let sign2 = h.create(json!({"KeySpec": "ECC_NIST_P384", "KeyUsage": "SIGN_VERIFY"}));
    let sign2 = sign2["KeyId"].as_str().unwrap();
    h.ok(Operation::CreateAlias, alias("alias/s", &sym));
    h.ok(Operation::CreateAlias, alias("alias/e", sign));
    for target in [hmac, sign] {
        let body = alias("alias/s", target);
        assert_eq!(
            h.code(Operation::UpdateAlias, body),
            ErrorCode::Validation,
            "{target}"
        );
    }
    h.ok(Operation::UpdateAlias, alias("alias/s", &sym2));
    h.ok(Operation::UpdateAlias, alias("alias/e", sign2));
    let listed = h.ok(Operation::ListAliases, json!({"KeyId": sign2}));
    let e = &listed["Aliases"][0];
    assert!(e["LastUpdatedDate"].as_f64() >= e["CreationDate"].as_f64());
}

#[test]
fn list_aliases_pages() {
    let h = Harness::new();
    let k = h.key();
    for i in 0..7 {
        h.ok(Operation::CreateAlias, alias(&format!("alias/a{i}"), &k));
    }
    let mut got = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"Limit": 3});
        if let Some(m) = &marker {
            body["Marker"] = json!(m);
        }
        let page = h.ok(Operation::ListAliases, body);
        got.extend(names(&page));
        pages += 1;
        if page["Truncated"] == false {
            assert!(page.get("NextMarker").is_none());
            break;
        }
        marker = Some(page["NextMarker"].as_str().unwrap().to_owned());
    }
    assert_eq!(pages, 3);
    assert_eq!(got.len(), 8);
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted);
    for (body, code) in [
        (json!({"Limit": 0}), ErrorCode::Validation),
        (json!({"Limit": 101}), ErrorCode::Validation),
        (json!({"Marker": "x"}), ErrorCode::InvalidMarker),
        (json!({"KeyId": "alias/none"}), ErrorCode::NotFound),
    ] {
        assert_eq!(h.code(Operation::ListAliases, body.clone()), code, "{body}");
    }
    // A ListKeys marker is not a ListAliases marker.
    h.key();
    let keys = h.ok(Operation::ListKeys, json!({"Limit": 1}));
    let m = keys["NextMarker"].as_str().unwrap();
    let body = json!({"Marker": m});
    assert_eq!(
        h.code(Operation::ListAliases, body),
        ErrorCode::InvalidMarker
    );
}

#[test]
fn tag_untag_list() {
    let h = Harness::new();
    let k = h.key();
    let tags = json!([{"TagKey": "b", "TagValue": "1"}, {"TagKey": "a", "TagValue": ""}]);
    h.ok(Operation::TagResource, json!({"KeyId": k, "Tags": tags}));
    let listed = h.ok(Operation::ListResourceTags, json!({"KeyId": k}));
    assert_eq!(
        listed["Tags"],
        json!([{"TagKey": "a", "TagValue": ""}, {"TagKey": "b", "TagValue": "1"}])
    );
    assert_eq!(listed["Truncated"], false);
    let over = json!([{"TagKey": "b", "TagValue": "2"}]);
    h.ok(Operation::TagResource, json!({"KeyId": k, "Tags": over}));
    h.ok(
        Operation::UntagResource,
        json!({"KeyId": k, "TagKeys": ["a", "missing"]}),
    );
    let listed = h.ok(Operation::ListResourceTags, json!({"KeyId": k}));
    assert_eq!(listed["Tags"], json!([{"TagKey": "b", "TagValue": "2"}]));

    let many: Vec<Value> = (0..49)
        .map(|i| json!({"TagKey": format!("k{i:02}"), "TagValue": "v"}))
        .collect();
    h.ok(Operation::TagResource, json!({"KeyId": k, "Tags": many}));
    let one_more = json!([{"TagKey": "z", "TagValue": "v"}]);
    let e = h.err(
        Operation::TagResource,
        json!({"KeyId": k, "Tags": one_more}),
    );
    assert_eq!(e.code, ErrorCode::Tag);
    // Replacing a value at the limit is fine.
    let replace = json!([{"TagKey": "k00", "TagValue": "w"}]);
    h.ok(Operation::TagResource, json!({"KeyId": k, "Tags": replace}));

    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut body = json!({"KeyId": k, "Limit": 20});
        if let Some(m) = &marker {
            body["Marker"] = json!(m);
        }
        let page = h.ok(Operation::ListResourceTags, body);
        seen.extend(page["Tags"].as_array().unwrap().iter().cloned());
        if page["Truncated"] == false {
            break;
        }
        marker = Some(page["NextMarker"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), 50);
    let body = json!({"KeyId": k, "Limit": 51});
    assert_eq!(
        h.code(Operation::ListResourceTags, body),
        ErrorCode::Validation
    );
}

#[test]
fn tag_errors_and_states() {
    let h = Harness::new();
    let k = h.key();
    let cases = [
        (
            json!({"KeyId": k, "Tags": [{"TagKey": "aws:x", "TagValue": ""}]}),
            ErrorCode::Tag,
        ),
        (
            json!({"KeyId": k, "Tags": [{"TagKey": "", "TagValue": ""}]}),
            ErrorCode::Validation,
        ),
        (json!({"KeyId": k}), ErrorCode::Validation),
        (
            json!({"KeyId": "11111111-2222-3333-4444-555555555555", "Tags": []}),
            ErrorCode::NotFound,
        ),
    ];
    for (body, code) in cases {
        assert_eq!(h.code(Operation::TagResource, body.clone()), code, "{body}");
    }
    let body = json!({"KeyId": k, "TagKeys": ["aws:x"]});
    assert_eq!(h.code(Operation::UntagResource, body), ErrorCode::Tag);
    let body = json!({"KeyId": k, "TagKeys": ["k".repeat(129)]});
    assert_eq!(
        h.code(Operation::UntagResource, body),
        ErrorCode::Validation
    );

    let tag = json!([{"TagKey": "t", "TagValue": "v"}]);
    h.ok(Operation::DisableKey, json!({"KeyId": k}));
    h.ok(Operation::TagResource, json!({"KeyId": k, "Tags": tag}));
    h.ok(Operation::ScheduleKeyDeletion, json!({"KeyId": k}));
    let body = json!({"KeyId": k, "Tags": tag});
    assert_eq!(
        h.code(Operation::TagResource, body),
        ErrorCode::KmsInvalidState
    );
    let body = json!({"KeyId": k, "TagKeys": ["t"]});
    assert_eq!(
        h.code(Operation::UntagResource, body),
        ErrorCode::KmsInvalidState
    );
    let listed = h.ok(Operation::ListResourceTags, json!({"KeyId": k}));
    assert_eq!(listed["Tags"], tag);

    let managed = h.describe("alias/aws/volcrypt")["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"KeyId": managed, "Tags": tag});
    assert_eq!(
        h.code(Operation::TagResource, body),
        ErrorCode::AccessDenied
    );
    let body = json!({"KeyId": managed, "TagKeys": ["t"]});
    assert_eq!(
        h.code(Operation::UntagResource, body),
        ErrorCode::AccessDenied
    );
}

#[test]
fn aliases_and_tags_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::kms::server::ServerConfig::new(dir.path());
    let id;
    {
        let h = Harness::with_config(config.clone());
        id = h.key();
        h.ok(Operation::CreateAlias, alias("alias/p", &id));
        let tags = json!([{"TagKey": "t", "TagValue": "v"}]);
        h.ok(Operation::TagResource, json!({"KeyId": id, "Tags": tags}));
        h.ok(
            Operation::UpdateKeyDescription,
            json!({"KeyId": id, "Description": "d"}),
        );
        h.ok(Operation::DisableKey, json!({"KeyId": id}));
    }
    let h = Harness::with_config(config);
    let m = h.describe("alias/p");
    assert_eq!(m["KeyId"], id.as_str());
    assert_eq!(m["Description"], "d");
    assert_eq!(m["KeyState"], "Disabled");
    let listed = h.ok(Operation::ListResourceTags, json!({"KeyId": id}));
    assert_eq!(listed["Tags"], json!([{"TagKey": "t", "TagValue": "v"}]));
}
