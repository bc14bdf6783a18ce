//! The local KMS server end to end, in process over HTTP: everything persists across a restart
//! (issue 3 §13c), no key material or plaintext ever reaches the data dir (§13d), the audit log
//! records every request without secrets, background rotation and deletion, and TLS.
//!
//! Requests are SigV4-signed by `volcrypt::kms::server::sigv4::sign` and sent with hyper (see
//! `client.rs`).

mod background;
mod client;
mod tls;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{json, Value};
use volcrypt::kms::server::{audit_query, start};

use client::{b64, config, unb64, Client};

const ACCOUNT: &str = "111122223333";

/// Every regular file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Fails if any file under `dir` contains one of `secrets`.
fn assert_nowhere_on_disk(dir: &Path, secrets: &[(&str, &[u8])]) {
    let all = files(dir);
    assert!(all.iter().any(|p| p.ends_with("keystore.db")), "{all:?}");
    for p in &all {
        let data = std::fs::read(p).unwrap();
        for (what, s) in secrets {
            assert!(s.len() >= 16, "{what} is too short to search for");
            assert!(
                !data.windows(s.len()).any(|w| w == *s),
                "{what} found in {}",
                p.display()
            );
        }
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn everything_persists_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path())).unwrap();
    assert!(server.fresh_credentials);
    let c = Client::new(&server, dir.path());

    let sym = c.ok(
        "CreateKey",
        json!({"Description": "persisted", "Tags": [{"TagKey": "team", "TagValue": "storage"}]}),
    );
    let sym = sym["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let hmac = c.ok(
        "CreateKey",
        json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    )["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let rsa = c.ok(
        "CreateKey",
        json!({"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}),
    )["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    c.ok(
        "CreateAlias",
        json!({"AliasName": "alias/persist", "TargetKeyId": sym}),
    );
    c.ok(
        "TagResource",
        json!({"KeyId": hmac, "Tags": [{"TagKey": "kind", "TagValue": "mac"}]}),
    );
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "only-root",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string();
    c.ok(
        "PutKeyPolicy",
        json!({"KeyId": rsa, "PolicyName": "default", "Policy": policy}),
    );

    let ctx = json!({"purpose": "restart"});
    let old = c.ok(
        "Encrypt",
        json!({"KeyId": "alias/persist", "Plaintext": b64(b"before rotation"), "EncryptionContext": ctx}),
    )["CiphertextBlob"]
        .clone();
    c.ok(
        "EnableKeyRotation",
        json!({"KeyId": sym, "RotationPeriodInDays": 180}),
    );
    c.ok("RotateKeyOnDemand", json!({"KeyId": sym}));
    let new = c.ok(
        "Encrypt",
        json!({"KeyId": sym, "Plaintext": b64(b"after rotation"), "EncryptionContext": ctx}),
    )["CiphertextBlob"]
        .clone();
    let grant = c.ok(
        "CreateGrant",
        json!({
            "KeyId": sym,
            "GranteePrincipal": format!("arn:aws:iam::{ACCOUNT}:role/reader"),
            "Operations": ["Decrypt"],
            "Constraints": {"EncryptionContextSubset": {"purpose": "restart"}}
        }),
    );
    let grant_id = grant["GrantId"].as_str().unwrap().to_owned();
    let mac = c.ok(
        "GenerateMac",
        json!({"KeyId": hmac, "MacAlgorithm": "HMAC_SHA_256", "Message": b64(b"mac me")}),
    )["Mac"]
        .clone();
    let sig = c.ok(
        "Sign",
        json!({"KeyId": rsa, "SigningAlgorithm": "RSASSA_PSS_SHA_256", "Message": b64(b"sign me")}),
    )["Signature"]
        .clone();
    let public = c.ok("GetPublicKey", json!({"KeyId": rsa}))["PublicKey"].clone();
    c.ok("DisableKey", json!({"KeyId": hmac}));
    let doomed = c.ok("CreateKey", json!({}))["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let deletion = c.ok(
        "ScheduleKeyDeletion",
        json!({"KeyId": doomed, "PendingWindowInDays": 7}),
    )["DeletionDate"]
        .clone();
    let describe_before = c.ok("DescribeKey", json!({"KeyId": sym}));
    server.stop().unwrap();

    let server = start(config(dir.path())).unwrap();
    assert!(!server.fresh_credentials);
    let c = Client::new(&server, dir.path());
    assert_eq!(c.ok("DescribeKey", json!({"KeyId": sym})), describe_before);
    let d = c.ok("DescribeKey", json!({"KeyId": "alias/persist"}));
    assert_eq!(d["KeyMetadata"]["Description"], "persisted");
    let tags = c.ok("ListResourceTags", json!({"KeyId": sym}));
    assert_eq!(
        tags["Tags"],
        json!([{"TagKey": "team", "TagValue": "storage"}])
    );
    let tags = c.ok("ListResourceTags", json!({"KeyId": hmac}));
    assert_eq!(tags["Tags"], json!([{"TagKey": "kind", "TagValue": "mac"}]));
    let aliases = c.ok("ListAliases", json!({"KeyId": sym}));
    assert_eq!(aliases["Aliases"][0]["AliasName"], "alias/persist");
    let got = c.ok(
        "GetKeyPolicy",
        json!({"KeyId": rsa, "PolicyName": "default"}),
    );
    assert_eq!(got["Policy"], policy.as_str());

    let st = c.ok("GetKeyRotationStatus", json!({"KeyId": sym}));
    assert_eq!(st["KeyRotationEnabled"], true);
    assert_eq!(st["RotationPeriodInDays"], 180);
    let rot = c.ok("ListKeyRotations", json!({"KeyId": sym}));
    assert_eq!(rot["Rotations"].as_array().unwrap().len(), 1);
    assert_eq!(rot["Rotations"][0]["RotationType"], "ON_DEMAND");

    for (blob, text) in [
        (&old, &b"before rotation"[..]),
        (&new, &b"after rotation"[..]),
    ] {
        let p = c.ok(
            "Decrypt",
            json!({"CiphertextBlob": blob, "EncryptionContext": ctx}),
        );
        assert_eq!(unb64(&p["Plaintext"]), text);
    }
    let grants = c.ok("ListGrants", json!({"KeyId": sym}));
    let g = &grants["Grants"][0];
    assert_eq!(g["GrantId"], grant_id.as_str());
    assert_eq!(g["Operations"], json!(["Decrypt"]));
    assert_eq!(
        g["Constraints"]["EncryptionContextSubset"],
        json!({"purpose": "restart"})
    );
    c.fails(
        "GenerateMac",
        json!({"KeyId": hmac, "MacAlgorithm": "HMAC_SHA_256", "Message": b64(b"mac me")}),
        "DisabledException",
    );
    c.ok("EnableKey", json!({"KeyId": hmac}));
    let v = c.ok(
        "VerifyMac",
        json!({"KeyId": hmac, "MacAlgorithm": "HMAC_SHA_256", "Message": b64(b"mac me"), "Mac": mac}),
    );
    assert_eq!(v["MacValid"], true);
    let v = c.ok(
        "Verify",
        json!({"KeyId": rsa, "SigningAlgorithm": "RSASSA_PSS_SHA_256",
               "Message": b64(b"sign me"), "Signature": sig}),
    );
    assert_eq!(v["SignatureValid"], true);
    assert_eq!(
        c.ok("GetPublicKey", json!({"KeyId": rsa}))["PublicKey"],
        public
    );
    let d = c.ok("DescribeKey", json!({"KeyId": doomed}));
    assert_eq!(d["KeyMetadata"]["KeyState"], "PendingDeletion");
    assert_eq!(d["KeyMetadata"]["DeletionDate"], deletion);
    server.stop().unwrap();
}

#[test]
fn no_key_material_or_plaintext_on_disk_and_an_audit_of_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path())).unwrap();
    let c = Client::new(&server, dir.path());
    let key = c.ok("CreateKey", json!({}))["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let hmac = c.ok(
        "CreateKey",
        json!({"KeySpec": "HMAC_384", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    )["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let ctx = json!({"volume": "vol-1"});
    let dk = c.ok(
        "GenerateDataKey",
        json!({"KeyId": key, "KeySpec": "AES_256", "EncryptionContext": ctx}),
    );
    let data_key = unb64(&dk["Plaintext"]);
    assert_eq!(data_key.len(), 32);
    let plaintext = b"THE-PLAINTEXT-THAT-MUST-NEVER-BE-STORED-0123456789";
    let ct = c.ok(
        "Encrypt",
        json!({"KeyId": key, "Plaintext": b64(plaintext), "EncryptionContext": ctx}),
    )["CiphertextBlob"]
        .clone();
    let pair = c.ok(
        "GenerateDataKeyPair",
        json!({"KeyId": key, "KeyPairSpec": "ECC_NIST_P256"}),
    );
    let pair_private = unb64(&pair["PrivateKeyPlaintext"]);
    let back = c.ok(
        "Decrypt",
        json!({"CiphertextBlob": ct, "EncryptionContext": ctx}),
    );
    assert_eq!(unb64(&back["Plaintext"]), plaintext);
    c.fails(
        "DescribeKey",
        json!({"KeyId": "alias/none"}),
        "NotFoundException",
    );
    // The keys' own material, as the server holds it.
    let materials: Vec<Vec<u8>> = server.kms.registry.read(|s| {
        s.keys
            .values()
            .flat_map(|k| {
                k.materials
                    .iter()
                    .map(|m| m.export_secret().expose().to_vec())
            })
            .collect()
    });
    assert_eq!(materials.len(), 2);
    let plain_b64 = b64(plaintext);
    let dk_b64 = b64(&data_key);
    let mut secrets: Vec<(&str, &[u8])> = vec![
        ("data key", &data_key),
        ("data key (base64)", dk_b64.as_bytes()),
        ("plaintext", plaintext),
        ("plaintext (base64)", plain_b64.as_bytes()),
        ("data key pair private key", &pair_private),
    ];
    for m in &materials {
        secrets.push(("key material", m));
    }
    // While serving (the WAL holds the latest writes) and after a clean stop.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_nowhere_on_disk(dir.path(), &secrets);
    let admin = client::admin_credential(dir.path()).principal_arn;
    // A request signed with a wrong secret is refused and audited too.
    let mut wrong = client::admin_credential(dir.path());
    wrong.secret = volcrypt::crypto::SecretBytes::new(b"not-the-secret".to_vec());
    let intruder = Client::with(server.addr, None, wrong);
    let e = intruder.call("ListKeys", json!({})).unwrap_err();
    assert_eq!(e.code, "InvalidSignatureException");
    drop(server);
    assert_nowhere_on_disk(dir.path(), &secrets);
    assert_eq!(mode(&dir.path().join("root.key")), 0o600);
    assert_eq!(mode(&dir.path().join("credentials.json")), 0o600);

    let events = audit_query(dir.path(), None, None).unwrap();
    let ops: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.operation.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("CreateKey", "ok"),
            ("CreateKey", "ok"),
            ("GenerateDataKey", "ok"),
            ("Encrypt", "ok"),
            ("GenerateDataKeyPair", "ok"),
            ("Decrypt", "ok"),
            ("DescribeKey", "NotFoundException"),
            ("ListKeys", "InvalidSignatureException"),
        ]
    );
    for e in &events[..7] {
        assert_eq!(e.principal, admin);
        assert_eq!(e.source, "127.0.0.1");
        assert_eq!(e.request_id.len(), 36);
    }
    assert_eq!(events[7].principal, "");
    for e in &events[2..6] {
        assert_eq!(e.key_arn.as_deref(), Some(key.as_str()), "{}", e.operation);
    }
    if let Some(arn) = events[1].key_arn.as_deref() {
        assert!(arn.ends_with(&hmac));
    }
    for e in [&events[2], &events[3], &events[5]] {
        let ctx: Value = serde_json::from_str(e.context.as_deref().unwrap()).unwrap();
        assert_eq!(ctx, json!({"volume": "vol-1"}), "{}", e.operation);
    }
    let dump = serde_json::to_string(&events).unwrap();
    for text in [&plain_b64, &dk_b64, std::str::from_utf8(plaintext).unwrap()] {
        assert!(!dump.contains(text), "{text} in the audit log");
    }
    let only_key = audit_query(dir.path(), Some(&key), None).unwrap();
    assert!(only_key.len() >= 4);
    assert!(only_key
        .iter()
        .all(|e| e.key_arn.as_deref() == Some(key.as_str())));
}

/// Every error is JSON with a request id, even one raised before authentication or parsing:
/// an oversized body, an unsigned request, an unknown operation.
#[test]
fn transport_errors_are_json_with_a_request_id() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path())).unwrap();
    let ask = |body: &[u8], target: &str| -> (u16, String, Value) {
        let mut s = std::net::TcpStream::connect(server.addr).unwrap();
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\n\
             X-Amz-Target: {target}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            server.addr,
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        // The server may answer before reading the whole body; ignore a reset mid-write.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        let rid = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("x-amzn-requestid: ")
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        (
            status,
            rid,
            serde_json::from_str(body).unwrap_or(Value::Null),
        )
    };
    let (status, rid, body) = ask(&vec![b'x'; 2 << 20], "TrentService.ListKeys");
    assert_eq!(status, 413);
    assert!(!rid.is_empty());
    assert_eq!(body["__type"], "SerializationException");
    let (status, rid, body) = ask(b"{}", "TrentService.ListKeys");
    assert!(status == 400 || status == 403, "{status}");
    assert!(!rid.is_empty());
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    drop(server);
}
