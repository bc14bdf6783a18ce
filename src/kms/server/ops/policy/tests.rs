//! Unit tests of policy validation and evaluation.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::kms::wire::ErrorCode;

const ACCT: &str = "111122223333";
const ADMIN: &str = "arn:aws:iam::111122223333:user/admin";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const EVE: &str = "arn:aws:iam::444455556666:user/eve";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap()
}

fn eval_ctx(
    policy: &serde_json::Value,
    who: &str,
    action: &str,
    ctx: Option<&BTreeMap<String, String>>,
) -> Decision {
    let p = Policy::parse(&policy.to_string()).unwrap();
    p.evaluate(&Request {
        principal: who,
        account: account_of(who),
        action,
        resource: KEY,
        context: ctx,
    })
}

fn eval(policy: &serde_json::Value, who: &str, action: &str) -> Decision {
    eval_ctx(policy, who, action, None)
}

fn stmt(
    effect: &str,
    principal: serde_json::Value,
    action: serde_json::Value,
) -> serde_json::Value {
    json!({"Effect": effect, "Principal": principal, "Action": action, "Resource": "*"})
}

fn doc(statements: Vec<serde_json::Value>) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn default_policy_allows_every_principal_of_the_account() {
    let p: serde_json::Value =
        serde_json::from_str(&crate::kms::server::ops::managed::default_policy(ACCT)).unwrap();
    assert_eq!(eval(&p, ADMIN, "kms:Encrypt"), Decision::Allow);
    assert_eq!(eval(&p, BOB, "kms:PutKeyPolicy"), Decision::Allow);
    assert_eq!(
        eval(&p, "arn:aws:iam::111122223333:root", "kms:Decrypt"),
        Decision::Allow
    );
    assert_eq!(eval(&p, EVE, "kms:Encrypt"), Decision::NoAllow);
}

#[test]
fn explicit_deny_wins_over_allow() {
    let p = doc(vec![
        stmt(
            "Allow",
            json!({"AWS": format!("arn:aws:iam::{ACCT}:root")}),
            json!("kms:*"),
        ),
        stmt("Deny", json!({"AWS": BOB}), json!("kms:Decrypt")),
    ]);
    assert_eq!(eval(&p, BOB, "kms:Decrypt"), Decision::ExplicitDeny);
    assert_eq!(eval(&p, BOB, "kms:Encrypt"), Decision::Allow);
    assert_eq!(eval(&p, ADMIN, "kms:Decrypt"), Decision::Allow);
}

#[test]
fn principal_forms() {
    let cases = [
        (json!("*"), EVE, Decision::Allow),
        (json!({"AWS": "*"}), EVE, Decision::Allow),
        (json!({"AWS": ADMIN}), ADMIN, Decision::Allow),
        (json!({"AWS": ADMIN}), BOB, Decision::NoAllow),
        (json!({"AWS": [ADMIN, BOB]}), BOB, Decision::Allow),
        (json!({"AWS": ACCT}), BOB, Decision::Allow),
        (json!({"AWS": ACCT}), EVE, Decision::NoAllow),
        (
            json!({"AWS": "arn:aws:iam::444455556666:root"}),
            EVE,
            Decision::Allow,
        ),
        (
            json!({"Service": "ec2.amazonaws.com"}),
            ADMIN,
            Decision::NoAllow,
        ),
        (
            json!({"AWS": "arn:aws:iam::111122223333:role/ops/Deployer"}),
            "arn:aws:sts::111122223333:assumed-role/Deployer/session-1",
            Decision::Allow,
        ),
        (
            json!({"AWS": "arn:aws:iam::111122223333:role/Deployer"}),
            "arn:aws:sts::111122223333:assumed-role/Other/session-1",
            Decision::NoAllow,
        ),
    ];
    for (principal, who, want) in cases {
        let p = doc(vec![stmt("Allow", principal.clone(), json!("kms:Encrypt"))]);
        assert_eq!(eval(&p, who, "kms:Encrypt"), want, "{principal} / {who}");
    }
}

#[test]
fn not_principal_matches_everyone_else() {
    let p = doc(vec![
        stmt("Allow", json!("*"), json!("kms:*")),
        json!({"Effect": "Deny", "NotPrincipal": {"AWS": ADMIN}, "Action": "kms:Decrypt", "Resource": "*"}),
    ]);
    assert_eq!(eval(&p, ADMIN, "kms:Decrypt"), Decision::Allow);
    assert_eq!(eval(&p, BOB, "kms:Decrypt"), Decision::ExplicitDeny);
}

#[test]
fn action_wildcards_are_case_insensitive() {
    let cases = [
        (json!("kms:*"), "kms:Decrypt", true),
        (json!("*"), "kms:Decrypt", true),
        (
            json!("kms:Generate*"),
            "kms:GenerateDataKeyWithoutPlaintext",
            true,
        ),
        (json!("kms:Generate*"), "kms:Decrypt", false),
        (json!("KMS:decrypt"), "kms:Decrypt", true),
        (json!("kms:ReEncrypt*"), "kms:ReEncryptFrom", true),
        (json!("kms:?ncrypt"), "kms:Encrypt", true),
        (json!("kms:?ncrypt"), "kms:ReEncrypt", false),
        (json!(["kms:Encrypt", "kms:Decrypt"]), "kms:Decrypt", true),
        (json!(["kms:Encrypt", "kms:Decrypt"]), "kms:Sign", false),
        (json!("s3:*"), "kms:Decrypt", false),
    ];
    for (action, asked, allowed) in cases {
        let p = doc(vec![stmt("Allow", json!({"AWS": ADMIN}), action.clone())]);
        let want = if allowed {
            Decision::Allow
        } else {
            Decision::NoAllow
        };
        assert_eq!(eval(&p, ADMIN, asked), want, "{action} / {asked}");
    }
    let p = doc(vec![
        json!({"Effect": "Allow", "Principal": "*", "NotAction": "kms:Decrypt", "Resource": "*"}),
    ]);
    assert_eq!(eval(&p, ADMIN, "kms:Decrypt"), Decision::NoAllow);
    assert_eq!(eval(&p, ADMIN, "kms:Encrypt"), Decision::Allow);
}

#[test]
fn resources_and_missing_elements() {
    let with_resource = |r: serde_json::Value| {
        doc(vec![
            json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": r}),
        ])
    };
    assert_eq!(
        eval(&with_resource(json!(KEY)), ADMIN, "kms:Encrypt"),
        Decision::Allow
    );
    let wild = json!("arn:aws:kms:*:111122223333:key/*");
    assert_eq!(
        eval(&with_resource(wild), ADMIN, "kms:Encrypt"),
        Decision::Allow
    );
    let other = json!("arn:aws:kms:us-east-1:111122223333:key/other");
    assert_eq!(
        eval(&with_resource(other), ADMIN, "kms:Encrypt"),
        Decision::NoAllow
    );
    // A statement without Action or Resource has no effect (AWS).
    let no_action = doc(vec![
        json!({"Effect": "Allow", "Principal": "*", "Resource": "*"}),
    ]);
    assert_eq!(eval(&no_action, ADMIN, "kms:Encrypt"), Decision::NoAllow);
    let no_resource = doc(vec![
        json!({"Effect": "Deny", "Principal": "*", "Action": "*"}),
    ]);
    assert_eq!(eval(&no_resource, ADMIN, "kms:Encrypt"), Decision::NoAllow);
}

#[test]
fn encryption_context_conditions() {
    let p = doc(vec![json!({
        "Effect": "Allow", "Principal": {"AWS": BOB}, "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:volume": ["v1", "v2"]}}
    })]);
    let c = |pairs: &[(&str, &str)]| ctx(pairs);
    assert_eq!(
        eval_ctx(&p, BOB, "kms:Decrypt", Some(&c(&[("volume", "v1")]))),
        Decision::Allow
    );
    assert_eq!(
        eval_ctx(
            &p,
            BOB,
            "kms:Decrypt",
            Some(&c(&[("volume", "v2"), ("x", "y")]))
        ),
        Decision::Allow
    );
    // The context key is case-insensitive, the value is not.
    assert_eq!(
        eval_ctx(&p, BOB, "kms:Decrypt", Some(&c(&[("Volume", "v1")]))),
        Decision::Allow
    );
    assert_eq!(
        eval_ctx(&p, BOB, "kms:Decrypt", Some(&c(&[("volume", "V1")]))),
        Decision::NoAllow
    );
    assert_eq!(
        eval_ctx(&p, BOB, "kms:Decrypt", Some(&c(&[("other", "v1")]))),
        Decision::NoAllow
    );
    assert_eq!(
        eval_ctx(&p, BOB, "kms:Decrypt", Some(&c(&[]))),
        Decision::NoAllow
    );
    assert_eq!(eval_ctx(&p, BOB, "kms:Decrypt", None), Decision::NoAllow);

    let like = doc(vec![json!({
        "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",
        "Condition": {"StringLike": {"kms:EncryptionContext:path": "vol/*/data-?"}}
    })]);
    assert_eq!(
        eval_ctx(
            &like,
            BOB,
            "kms:Decrypt",
            Some(&c(&[("path", "vol/a/b/data-1")]))
        ),
        Decision::Allow
    );
    assert_eq!(
        eval_ctx(
            &like,
            BOB,
            "kms:Decrypt",
            Some(&c(&[("path", "vol/a/data-12")]))
        ),
        Decision::NoAllow
    );
}

#[test]
fn caller_account_and_combined_conditions() {
    let p = doc(vec![json!({
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Encrypt", "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:CallerAccount": ACCT},
            "StringLike": {"kms:EncryptionContext:app": "web*"}
        }
    })]);
    let good = ctx(&[("app", "web-1")]);
    let bad = ctx(&[("app", "db")]);
    assert_eq!(
        eval_ctx(&p, BOB, "kms:Encrypt", Some(&good)),
        Decision::Allow
    );
    assert_eq!(
        eval_ctx(&p, BOB, "kms:Encrypt", Some(&bad)),
        Decision::NoAllow
    );
    assert_eq!(
        eval_ctx(&p, EVE, "kms:Encrypt", Some(&good)),
        Decision::NoAllow
    );
    // Condition key names are case-insensitive; aws:PrincipalArn is understood.
    let q = doc(vec![json!({
        "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"AWS:principalarn": BOB, "KMS:CALLERACCOUNT": ACCT}}
    })]);
    assert_eq!(eval(&q, BOB, "kms:Encrypt"), Decision::ExplicitDeny);
    assert_eq!(eval(&q, ADMIN, "kms:Encrypt"), Decision::NoAllow);
}

#[test]
fn unsupported_conditions_never_match() {
    for cond in [
        json!({"StringNotEquals": {"kms:CallerAccount": "000000000000"}}),
        json!({"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        json!({"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}),
        json!({"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "a"}}),
    ] {
        let allow = doc(vec![
            json!({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": cond.clone()}),
        ]);
        assert_eq!(
            eval(&allow, ADMIN, "kms:Encrypt"),
            Decision::NoAllow,
            "{cond}"
        );
        let deny = doc(vec![
            stmt("Allow", json!("*"), json!("*")),
            json!({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": cond.clone()}),
        ]);
        assert_eq!(eval(&deny, ADMIN, "kms:Encrypt"), Decision::Allow, "{cond}");
    }
}

#[test]
fn single_statement_object_is_accepted() {
    let p = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}});
    assert_eq!(eval(&p, EVE, "kms:Encrypt"), Decision::Allow);
}

#[test]
fn malformed_documents() {
    let bad = [
        "not json".to_owned(),
        "[]".to_owned(),
        json!({"Version": "2012-10-17"}).to_string(),
        json!({"Statement": []}).to_string(),
        json!({"Statement": ["x"]}).to_string(),
        json!({"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "*", "Resource": "*"}]}).to_string(),
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}).to_string(),
        json!({"Statement": [{"Effect": "Allow", "Principal": "me", "Action": "*", "Resource": "*"}]}).to_string(),
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "*", "Resource": "*"}]}).to_string(),
        json!({"Statement": [{"Effect": "Allow", "Principal": {"Martian": "x"}, "Action": "*", "Resource": "*"}]}).to_string(),
        json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": 5, "Resource": "*"}]}).to_string(),
        json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "NotAction": "*", "Resource": "*"}]}).to_string(),
        json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": "x"}]}).to_string(),
        json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"a": {}}}}]}).to_string(),
    ];
    for text in bad {
        let e = validate(&text).unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedPolicyDocument, "{text}");
    }
    let e = validate(&json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "*", "Resource": "*"}]}).to_string()).unwrap_err();
    assert_eq!(
        e.message,
        "Policy contains a statement with one or more invalid principals."
    );
}

#[test]
fn size_and_character_limits() {
    assert_eq!(validate("").unwrap_err().code, ErrorCode::Validation);
    let nul = "{\"Statement\": \u{1}}";
    assert_eq!(validate(nul).unwrap_err().code, ErrorCode::Validation);
    let euro = json!({"Statement": {"Sid": "\u{20ac}", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}});
    assert_eq!(
        validate(&euro.to_string()).unwrap_err().code,
        ErrorCode::Validation
    );
    let latin1 = json!({"Statement": {"Sid": "caf\u{e9}", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}});
    assert!(validate(&latin1.to_string()).is_ok());

    let padded = |n: usize| {
        let base = doc(vec![stmt("Allow", json!("*"), json!("*"))]).to_string();
        let pad = n - base.len();
        format!("{}{}", " ".repeat(pad), base)
    };
    assert!(validate(&padded(MAX_POLICY_BYTES)).is_ok());
    let e = validate(&padded(MAX_POLICY_BYTES + 1)).unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    let e = validate(&padded(MAX_POLICY_CHARS + 1)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
}

#[test]
fn glob_matching() {
    assert!(glob(b"*", b"", false));
    assert!(glob(b"a*b*c", b"aXXbYYc", false));
    assert!(!glob(b"a*b*c", b"aXXbYY", false));
    assert!(glob(b"**x", b"x", false));
    assert!(!glob(b"?", b"", false));
    assert!(glob(b"abc", b"ABC", true));
    assert!(!glob(b"abc", b"ABC", false));
}

#[test]
fn cache_reparses_a_changed_policy_and_fails_closed() {
    let arn = "arn:aws:kms:us-east-1:111122223333:key/cache-test";
    let allow = doc(vec![stmt("Allow", json!("*"), json!("*"))]).to_string();
    let req = Request {
        principal: ADMIN,
        account: ACCT,
        action: "kms:Encrypt",
        resource: arn,
        context: None,
    };
    assert_eq!(cached(arn, &allow).evaluate(&req), Decision::Allow);
    assert!(Arc::ptr_eq(&cached(arn, &allow), &cached(arn, &allow)));
    let deny = doc(vec![stmt("Deny", json!("*"), json!("*"))]).to_string();
    assert_eq!(cached(arn, &deny).evaluate(&req), Decision::ExplicitDeny);
    assert_eq!(cached(arn, "garbage").evaluate(&req), Decision::NoAllow);
}
