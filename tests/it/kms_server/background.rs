//! The background task, with KMS time sped up (a day lasts 50 ms): automatic rotation keeps
//! old ciphertexts decryptable, and keys are really deleted when their waiting period ends.

use std::time::Duration;

use serde_json::{json, Value};
use volcrypt::kms::server::start;

use super::client::{b64, config, eventually, unb64, Client};

fn fast(dir: &std::path::Path) -> volcrypt::kms::server::ServerConfig {
    let mut cfg = config(dir);
    cfg.day_seconds = 0.05;
    cfg.task_interval = Duration::from_millis(50);
    cfg
}

fn key_id(v: &Value) -> String {
    v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
}

#[test]
fn automatic_rotation_keeps_old_ciphertexts() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(fast(dir.path())).unwrap();
    let c = Client::new(&server, dir.path());
    let id = key_id(&c.ok("CreateKey", json!({})));
    let first =
        c.ok("DescribeKey", json!({"KeyId": id}))["KeyMetadata"]["CurrentKeyMaterialId"].clone();
    let old = c.ok(
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"old data")}),
    )["CiphertextBlob"]
        .clone();
    c.ok(
        "EnableKeyRotation",
        json!({"KeyId": id, "RotationPeriodInDays": 90}),
    );
    // 90 KMS days are 4.5 s here.
    let rotations = eventually(Duration::from_secs(10), || {
        let r = c.ok("ListKeyRotations", json!({"KeyId": id}));
        let list = r["Rotations"].as_array().unwrap().clone();
        (!list.is_empty()).then_some(list)
    });
    assert_eq!(rotations[0]["RotationType"], "AUTOMATIC");
    assert_eq!(rotations[0]["KeyId"], id.as_str());
    assert_ne!(rotations[0]["KeyMaterialId"], first);
    let back = c.ok("Decrypt", json!({"CiphertextBlob": old}));
    assert_eq!(unb64(&back["Plaintext"]), b"old data");
    if !first.is_null() {
        assert_eq!(back["KeyMaterialId"], first);
    }
    let new = c.ok(
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"new data")}),
    )["CiphertextBlob"]
        .clone();
    assert_ne!(unb64(&new)[..], unb64(&old)[..]);
    let back = c.ok("Decrypt", json!({"CiphertextBlob": new}));
    assert_eq!(unb64(&back["Plaintext"]), b"new data");
    if !first.is_null() {
        assert_ne!(back["KeyMaterialId"], first);
    }
    let all = c.ok(
        "ListKeyRotations",
        json!({"KeyId": id, "IncludeKeyMaterial": "ALL_KEY_MATERIAL"}),
    );
    let all = all["Rotations"].as_array().unwrap();
    assert!(all.len() >= 2);
    assert_eq!(all[all.len() - 1]["KeyMaterialState"], "CURRENT");
    assert_eq!(all[0]["KeyMaterialState"], "NON_CURRENT");
    let st = c.ok("GetKeyRotationStatus", json!({"KeyId": id}));
    assert_eq!(st["KeyRotationEnabled"], true);
    assert!(st["NextRotationDate"].as_f64().unwrap() > 0.0);
    server.stop().unwrap();
}

#[test]
fn keys_are_deleted_when_their_window_ends() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(fast(dir.path())).unwrap();
    let c = Client::new(&server, dir.path());
    let doomed = key_id(&c.ok("CreateKey", json!({})));
    let saved = key_id(&c.ok("CreateKey", json!({})));
    c.ok(
        "CreateAlias",
        json!({"AliasName": "alias/doomed", "TargetKeyId": doomed}),
    );
    c.ok(
        "CreateGrant",
        json!({"KeyId": doomed, "GranteePrincipal": "arn:aws:iam::111122223333:role/r",
               "Operations": ["Encrypt"]}),
    );
    let d = c.ok(
        "ScheduleKeyDeletion",
        json!({"KeyId": doomed, "PendingWindowInDays": 7}),
    );
    assert_eq!(d["KeyState"], "PendingDeletion");
    assert_eq!(d["PendingWindowInDays"], 7);
    c.ok(
        "ScheduleKeyDeletion",
        json!({"KeyId": saved, "PendingWindowInDays": 30}),
    );
    c.ok("CancelKeyDeletion", json!({"KeyId": saved}));
    // 7 KMS days are 0.35 s here.
    eventually(Duration::from_secs(5), || {
        c.call("DescribeKey", json!({"KeyId": doomed}))
            .err()
            .filter(|e| e.code == "NotFoundException")
    });
    let aliases = c.ok("ListAliases", json!({}));
    assert!(aliases["Aliases"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["AliasName"] != "alias/doomed"));
    let keys = c.ok("ListKeys", json!({}));
    assert!(keys["Keys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["KeyId"] != doomed.as_str()));
    c.fails("ListGrants", json!({"KeyId": doomed}), "NotFoundException");
    // The cancelled one survives (Disabled), past its original window too.
    std::thread::sleep(Duration::from_millis(1700));
    let s = c.ok("DescribeKey", json!({"KeyId": saved}));
    assert_eq!(s["KeyMetadata"]["KeyState"], "Disabled");
    server.stop().unwrap();
    // The deletion is on disk.
    let server = start(fast(dir.path())).unwrap();
    let c = Client::new(&server, dir.path());
    c.fails("DescribeKey", json!({"KeyId": doomed}), "NotFoundException");
    c.fails(
        "DescribeKey",
        json!({"KeyId": "alias/doomed"}),
        "NotFoundException",
    );
    c.ok("DescribeKey", json!({"KeyId": saved}));
    server.stop().unwrap();
}

#[test]
fn aws_managed_key_rotation_is_not_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path())).unwrap();
    let c = Client::new(&server, dir.path());
    c.ok(
        "Encrypt",
        json!({"KeyId": "alias/aws/volcrypt", "Plaintext": b64(b"x")}),
    );
    let d = c.ok("DescribeKey", json!({"KeyId": "alias/aws/volcrypt"}));
    assert_eq!(d["KeyMetadata"]["KeyManager"], "AWS");
    let id = key_id(&d);
    let st = c.ok("GetKeyRotationStatus", json!({"KeyId": id}));
    assert_eq!(st["KeyRotationEnabled"], true);
    assert_eq!(st["RotationPeriodInDays"], 365);
    for op in [
        "EnableKeyRotation",
        "DisableKeyRotation",
        "RotateKeyOnDemand",
    ] {
        c.fails(op, json!({"KeyId": id}), "AccessDeniedException");
    }
    let r = c.ok("ListKeyRotations", json!({"KeyId": id}));
    assert_eq!(r["Rotations"], json!([]));
    server.stop().unwrap();
}
