//! Tests of the grant lifecycle: CreateGrant checks, ListGrants, RetireGrant, RevokeGrant.

use serde_json::json;

use super::tests_access::Ax;
use crate::kms::wire::{ErrorCode, Operation};

const ADMIN: &str = "arn:aws:iam::111122223333:user/admin";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const CAROL: &str = "arn:aws:iam::111122223333:user/carol";

#[test]
fn list_grants_entries_filters_and_pages() {
    let ax = Ax::new();
    let (id, arn) = ax.key();
    let (g1, _) = ax
        .grant(
            ADMIN,
            json!({
                "KeyId": arn, "GranteePrincipal": BOB, "RetiringPrincipal": ADMIN,
                "Operations": ["Decrypt", "Encrypt", "Decrypt"], "Name": "first",
                "Constraints": {"EncryptionContextSubset": {"a": "b"}}
            }),
        )
        .unwrap();
    let mut ids = vec![g1.clone()];
    for _ in 0..4 {
        let body = json!({"KeyId": id, "GranteePrincipal": CAROL, "Operations": ["DescribeKey"]});
        ids.push(ax.grant(ADMIN, body).unwrap().0);
    }
    let all = ax.ok(ADMIN, Operation::ListGrants, json!({"KeyId": id}));
    assert_eq!(all["Truncated"], false);
    let list = all["Grants"].as_array().unwrap();
    assert_eq!(list.len(), 5);
    let first = list.iter().find(|g| g["GrantId"] == g1.as_str()).unwrap();
    assert_eq!(first["KeyId"], arn);
    assert_eq!(first["Name"], "first");
    assert_eq!(first["GranteePrincipal"], BOB);
    assert_eq!(first["RetiringPrincipal"], ADMIN);
    assert_eq!(first["IssuingAccount"], "arn:aws:iam::111122223333:root");
    assert_eq!(first["Operations"], json!(["Decrypt", "Encrypt"]));
    assert_eq!(
        first["Constraints"],
        json!({"EncryptionContextSubset": {"a": "b"}})
    );
    assert!(first["CreationDate"].as_f64().unwrap() > 1.0e9);

    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut body = json!({"KeyId": id, "Limit": 2});
        if let Some(m) = &marker {
            body["Marker"] = json!(m);
        }
        let page = ax.ok(ADMIN, Operation::ListGrants, body);
        for g in page["Grants"].as_array().unwrap() {
            seen.push(g["GrantId"].as_str().unwrap().to_owned());
        }
        if page["Truncated"] == false {
            assert!(page.get("NextMarker").is_none());
            break;
        }
        marker = Some(page["NextMarker"].as_str().unwrap().to_owned());
    }
    let mut want = ids.clone();
    want.sort();
    seen.sort();
    assert_eq!(seen, want);

    let by_id = ax.ok(
        ADMIN,
        Operation::ListGrants,
        json!({"KeyId": id, "GrantId": g1}),
    );
    assert_eq!(by_id["Grants"].as_array().unwrap().len(), 1);
    let by_grantee = ax.ok(
        ADMIN,
        Operation::ListGrants,
        json!({"KeyId": id, "GranteePrincipal": CAROL}),
    );
    assert_eq!(by_grantee["Grants"].as_array().unwrap().len(), 4);
    let (other, _) = ax.key();
    let none = ax.ok(ADMIN, Operation::ListGrants, json!({"KeyId": other}));
    assert_eq!(none["Grants"], json!([]));
    for (body, code) in [
        (json!({"KeyId": id, "Limit": 0}), ErrorCode::Validation),
        (json!({"KeyId": id, "Limit": 101}), ErrorCode::Validation),
        (
            json!({"KeyId": id, "Marker": "bogus"}),
            ErrorCode::InvalidMarker,
        ),
        (
            json!({"KeyId": id, "GrantId": "nope"}),
            ErrorCode::InvalidGrantId,
        ),
        (json!({"KeyId": "alias/none"}), ErrorCode::NotFound),
    ] {
        ax.err(ADMIN, Operation::ListGrants, body, code);
    }
}

#[test]
fn create_grant_validation() {
    let ax = Ax::new();
    let (id, _) = ax.key();
    let base = || json!({"KeyId": id, "GranteePrincipal": BOB, "Operations": ["Decrypt"]});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base();
        b[k] = v;
        b
    };
    let cases = [
        (
            json!({"KeyId": id, "Operations": ["Decrypt"]}),
            ErrorCode::Validation,
        ),
        (with("Operations", json!([])), ErrorCode::Validation),
        (with("Operations", json!(["Fly"])), ErrorCode::Validation),
        (with("Operations", json!(["Sign"])), ErrorCode::Validation),
        (
            with("GranteePrincipal", json!("bad principal!")),
            ErrorCode::Validation,
        ),
        (with("Name", json!("bad name!")), ErrorCode::Validation),
        (
            with(
                "Constraints",
                json!({"EncryptionContextSubset": {"a": "b"}, "EncryptionContextEquals": {"a": "b"}}),
            ),
            ErrorCode::Validation,
        ),
        (
            with("Constraints", json!({"SourceArn": "arn:aws:s3:::b"})),
            ErrorCode::UnsupportedOperation,
        ),
        (
            with("GrantTokens", json!(["garbage"])),
            ErrorCode::InvalidGrantToken,
        ),
        (with("KeyId", json!("alias/none")), ErrorCode::NotFound),
        (with("DryRun", json!(true)), ErrorCode::DryRunOperation),
    ];
    for (body, code) in cases {
        ax.err(ADMIN, Operation::CreateGrant, body, code);
    }
    let listed = ax.ok(ADMIN, Operation::ListGrants, json!({"KeyId": id}));
    assert_eq!(
        listed["Grants"],
        json!([]),
        "no failed or dry-run CreateGrant left a grant"
    );

    // Key states (AWS's key-state table): Disabled and PendingDeletion keys refuse grants,
    // and every other grant operation still works.
    let (g, _) = ax.grant(ADMIN, base()).unwrap();
    ax.ok(ADMIN, Operation::DisableKey, json!({"KeyId": id}));
    let e = ax.err(ADMIN, Operation::CreateGrant, base(), ErrorCode::Disabled);
    assert!(e.message.ends_with("is disabled."), "{}", e.message);
    ax.ok(ADMIN, Operation::ListGrants, json!({"KeyId": id}));
    ax.ok(ADMIN, Operation::GetKeyPolicy, json!({"KeyId": id}));
    let sched = json!({"KeyId": id, "PendingWindowInDays": 7});
    ax.ok(ADMIN, Operation::ScheduleKeyDeletion, sched);
    ax.err(
        ADMIN,
        Operation::CreateGrant,
        base(),
        ErrorCode::KmsInvalidState,
    );
    ax.ok(ADMIN, Operation::ListKeyPolicies, json!({"KeyId": id}));
    ax.ok(
        ADMIN,
        Operation::RevokeGrant,
        json!({"KeyId": id, "GrantId": g}),
    );
}

#[test]
fn named_grants_are_idempotent() {
    let ax = Ax::new();
    let (id, _) = ax.key();
    let body = json!({"KeyId": id, "GranteePrincipal": BOB, "Operations": ["Decrypt", "Encrypt"], "Name": "n1"});
    let (g1, t1) = ax.grant(ADMIN, body.clone()).unwrap();
    let mut reordered = body.clone();
    reordered["Operations"] = json!(["Encrypt", "Decrypt"]);
    let (g2, t2) = ax.grant(ADMIN, reordered).unwrap();
    assert_eq!(g1, g2);
    assert_ne!(t1, t2, "every CreateGrant answers a fresh token");
    let mut changed = body;
    changed["Operations"] = json!(["Decrypt"]);
    let (g3, _) = ax.grant(ADMIN, changed).unwrap();
    assert_ne!(g1, g3);
    let unnamed = json!({"KeyId": id, "GranteePrincipal": BOB, "Operations": ["Decrypt"]});
    let (a, _) = ax.grant(ADMIN, unnamed.clone()).unwrap();
    let (b, _) = ax.grant(ADMIN, unnamed).unwrap();
    assert_ne!(a, b);
    // Both tokens of g1 retire it.
    ax.ok(ADMIN, Operation::RetireGrant, json!({"GrantToken": t2}));
    ax.err(
        ADMIN,
        Operation::RetireGrant,
        json!({"GrantToken": t1}),
        ErrorCode::NotFound,
    );
}

#[test]
fn grants_can_delegate_create_grant_within_their_limits() {
    let ax = Ax::new();
    let (id, _) = ax.key();
    ax.admin_only(&id);
    ax.grant(ADMIN, json!({
        "KeyId": id, "GranteePrincipal": BOB, "Operations": ["CreateGrant", "Decrypt", "Encrypt"],
        "Constraints": {"EncryptionContextSubset": {"team": "a"}}
    }))
    .unwrap();
    let ok = json!({
        "KeyId": id, "GranteePrincipal": CAROL, "Operations": ["Decrypt"],
        "Constraints": {"EncryptionContextSubset": {"team": "a", "env": "prod"}}
    });
    ax.grant(BOB, ok).unwrap();
    let equals = json!({
        "KeyId": id, "GranteePrincipal": CAROL, "Operations": ["Encrypt"],
        "Constraints": {"EncryptionContextEquals": {"team": "a"}}
    });
    ax.grant(BOB, equals).unwrap();
    for body in [
        json!({"KeyId": id, "GranteePrincipal": CAROL, "Operations": ["Decrypt"]}),
        json!({"KeyId": id, "GranteePrincipal": CAROL, "Operations": ["GenerateDataKey"],
               "Constraints": {"EncryptionContextSubset": {"team": "a"}}}),
        json!({"KeyId": id, "GranteePrincipal": CAROL, "Operations": ["Decrypt"],
               "Constraints": {"EncryptionContextSubset": {"team": "b"}}}),
    ] {
        ax.err(BOB, Operation::CreateGrant, body, ErrorCode::AccessDenied);
    }
    let carol_try = json!({"KeyId": id, "GranteePrincipal": CAROL, "Operations": ["Decrypt"]});
    ax.err(
        CAROL,
        Operation::CreateGrant,
        carol_try,
        ErrorCode::AccessDenied,
    );
}

#[test]
fn retire_grant_rules() {
    let ax = Ax::new();
    let (id, arn) = ax.key();
    ax.admin_only(&id);
    let plain = || json!({"KeyId": id, "GranteePrincipal": BOB, "Operations": ["Decrypt"]});
    // Bob is neither the retiring principal nor holds RetireGrant: refused.
    let (g, token) = ax.grant(ADMIN, plain()).unwrap();
    let e = ax.err(
        BOB,
        Operation::RetireGrant,
        json!({"GrantToken": token}),
        ErrorCode::AccessDenied,
    );
    assert!(e.message.contains("kms:RetireGrant"), "{}", e.message);
    // The admin (allowed kms:RetireGrant by the key policy) may, by key ARN and grant id.
    let dry = json!({"KeyId": arn, "GrantId": g, "DryRun": true});
    ax.err(
        ADMIN,
        Operation::RetireGrant,
        dry,
        ErrorCode::DryRunOperation,
    );
    ax.ok(
        ADMIN,
        Operation::RetireGrant,
        json!({"KeyId": arn, "GrantId": g}),
    );
    ax.err(
        ADMIN,
        Operation::RetireGrant,
        json!({"KeyId": arn, "GrantId": g}),
        ErrorCode::NotFound,
    );
    // The retiring principal may.
    let mut body = plain();
    body["RetiringPrincipal"] = json!(CAROL);
    let (_, token) = ax.grant(ADMIN, body).unwrap();
    ax.ok(CAROL, Operation::RetireGrant, json!({"GrantToken": token}));
    // The grantee may when the grant has RetireGrant.
    let mut body = plain();
    body["Operations"] = json!(["Decrypt", "RetireGrant"]);
    let (_, token) = ax.grant(ADMIN, body).unwrap();
    ax.ok(BOB, Operation::RetireGrant, json!({"GrantToken": token}));
    // Errors.
    let (g, _) = ax.grant(ADMIN, plain()).unwrap();
    let (other, _) = ax.key();
    for (body, code) in [
        (json!({}), ErrorCode::Validation),
        (json!({"KeyId": id}), ErrorCode::Validation),
        (
            json!({"GrantToken": "not-a-token"}),
            ErrorCode::InvalidGrantToken,
        ),
        (
            json!({"KeyId": id, "GrantId": "xyz"}),
            ErrorCode::InvalidGrantId,
        ),
        (json!({"KeyId": other, "GrantId": g}), ErrorCode::NotFound),
        (
            json!({"KeyId": id, "GrantId": "0".repeat(64)}),
            ErrorCode::NotFound,
        ),
    ] {
        ax.err(ADMIN, Operation::RetireGrant, body, code);
    }
}

#[test]
fn revoke_grant_rules() {
    let ax = Ax::new();
    let (id, _) = ax.key();
    ax.admin_only(&id);
    let body =
        json!({"KeyId": id, "GranteePrincipal": BOB, "Operations": ["Decrypt", "RetireGrant"]});
    let (g, _) = ax.grant(ADMIN, body).unwrap();
    let revoke = json!({"KeyId": id, "GrantId": g});
    ax.err(
        BOB,
        Operation::RevokeGrant,
        revoke.clone(),
        ErrorCode::AccessDenied,
    );
    let mut dry = revoke.clone();
    dry["DryRun"] = json!(true);
    ax.err(
        ADMIN,
        Operation::RevokeGrant,
        dry,
        ErrorCode::DryRunOperation,
    );
    ax.ok(ADMIN, Operation::RevokeGrant, revoke.clone());
    ax.err(ADMIN, Operation::RevokeGrant, revoke, ErrorCode::NotFound);
    let bad = json!({"KeyId": id, "GrantId": "short"});
    ax.err(
        ADMIN,
        Operation::RevokeGrant,
        bad,
        ErrorCode::InvalidGrantId,
    );
    let listed = ax.ok(ADMIN, Operation::ListGrants, json!({"KeyId": id}));
    assert_eq!(listed["Grants"], json!([]));
}

#[test]
fn list_retirable_grants_handler() {
    let ax = Ax::new();
    let (id, arn) = ax.key();
    let with_retiring = json!({"KeyId": id, "GranteePrincipal": BOB, "RetiringPrincipal": BOB, "Operations": ["Decrypt"]});
    let (g, _) = ax.grant(ADMIN, with_retiring).unwrap();
    let plain = json!({"KeyId": id, "GranteePrincipal": BOB, "Operations": ["Decrypt"]});
    ax.grant(ADMIN, plain).unwrap();
    let op = Operation::ListRetirableGrants;
    // An IAM permission, not a key-policy action: BOB may list his own retirable grants.
    for who in [ADMIN, BOB] {
        let r = ax.ok(who, op, json!({"RetiringPrincipal": BOB}));
        let list = r["Grants"].as_array().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["GrantId"], g.as_str());
        assert_eq!(list[0]["KeyId"], arn);
        assert_eq!(list[0]["RetiringPrincipal"], BOB);
        assert_eq!(r["Truncated"], false);
    }
    let none = ax.ok(ADMIN, op, json!({"RetiringPrincipal": CAROL}));
    assert_eq!(none["Grants"], json!([]));
    let other = json!({"RetiringPrincipal": "arn:aws:iam::444455556666:user/eve"});
    ax.err(ADMIN, op, other, ErrorCode::AccessDenied);
    ax.err(ADMIN, op, json!({}), ErrorCode::Validation);
    // Retired grants are gone from the list at once.
    ax.ok(
        ADMIN,
        Operation::RevokeGrant,
        json!({"KeyId": id, "GrantId": g}),
    );
    let after = ax.ok(ADMIN, op, json!({"RetiringPrincipal": BOB}));
    assert_eq!(after["Grants"], json!([]));
}
