//! Key policy documents: validation (PutKeyPolicy) and evaluation (every request on a key).
//!
//! The document is stored and returned byte for byte as given; this module only reads it.
//!
//! ## Validation (PutKeyPolicy)
//! | check | error |
//! |---|---|
//! | empty, more than 131072 characters, or a character outside `\t \n \r \u0020-\u00FF` (botocore's `PolicyType` constraints) | `ValidationException` |
//! | more than 32768 bytes (AWS's key policy size quota) | `LimitExceededException` |
//! | not a JSON object, no `Statement`, a statement that is not an object, `Effect` not `Allow`/`Deny`, no `Principal`/`NotPrincipal`, `Action`/`Resource`/`Condition` of the wrong JSON type | `MalformedPolicyDocumentException` |
//! | a principal that is not `*`, an account id, an `arn:aws:iam::`/`arn:aws:sts::` ARN, or a `Service`/`Federated`/`CanonicalUser` name | `MalformedPolicyDocumentException` `Policy contains a statement with one or more invalid principals.` |
//!
//! Unknown statement elements are ignored; `Version` is not checked; principals are not checked
//! for existence (AWS checks that they exist).
//!
//! ## The evaluated subset of the IAM policy language
//! - `Effect`: `Allow` or `Deny`. An explicit `Deny` that matches wins over everything (grants
//!   included); otherwise one matching `Allow` allows.
//! - `Principal` / `NotPrincipal`: `"*"`, `{"AWS": "*"}`, `{"AWS": <entry or [entries]>}` where
//!   an entry is the caller's exact ARN, `arn:aws:iam::<account>:root` or a bare 12-digit
//!   account id (every principal of that account), or `arn:aws:iam::<account>:role/<path><name>`
//!   (also matches that role's `arn:aws:sts::<account>:assumed-role/<name>/<session>`
//!   sessions). `Service`, `Federated` and `CanonicalUser` principals never match (no caller
//!   here is one). Since there are no IAM identity policies here, an account principal in a key
//!   policy is enough on its own: the default policy gives every principal of the account
//!   `kms:*`.
//! - `Action` / `NotAction`: a string or a list; `*` and `?` wildcards (`kms:*`,
//!   `kms:Generate*`, `*`); compared case-insensitively, as IAM does.
//! - `Resource` / `NotResource`: a string or a list of patterns (`*`, the key ARN, or an ARN
//!   with `*`/`?` wildcards), compared case-sensitively.
//! - `Condition`: operators `StringEquals` and `StringLike` (`*` and `?` wildcards), on the
//!   keys `kms:CallerAccount`, `kms:EncryptionContext:<key>` (the context key is matched
//!   case-insensitively, its value case-sensitively, as KMS does), `aws:PrincipalArn` and
//!   `aws:PrincipalAccount` (condition key names are case-insensitive). A condition value may
//!   be a string or a list (any one matches); several keys under one operator and several
//!   operators must all hold. A key absent from the request (e.g. a context key the request
//!   does not have, or any context key for an operation without an encryption context) does
//!   not match.
//! - Not evaluated: `ForAnyValue:`/`ForAllValues:` qualifiers, `...IfExists`, every other
//!   operator (`StringNotEquals`, `ArnLike`, `Bool`, `Numeric*`, ...) and every other key
//!   (`kms:ViaService`, `kms:GrantIsForAWSResource`, `kms:EncryptionContextKeys`, ...). A
//!   statement using one of them never matches: an `Allow` so written allows nothing, and a
//!   `Deny` so written denies nothing.
//! - A statement without `Action` (or `NotAction`) or without `Resource` (or `NotResource`) has
//!   no effect, as AWS documents.

mod parse;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

pub(crate) use parse::{check_shape, validate};

use crate::kms::wire::{ErrorCode, KmsError};

/// botocore's maximum length of `Policy` (characters).
pub(crate) const MAX_POLICY_CHARS: usize = 131_072;
/// AWS's key policy size quota (bytes).
pub(crate) const MAX_POLICY_BYTES: usize = 32_768;

/// Parsed policies kept by key ARN (with their text, so a changed policy is re-parsed).
const CACHE_CAP: usize = 65_536;

/// The outcome of evaluating a policy for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// A matching `Allow` and no matching `Deny`.
    Allow,
    /// A matching `Deny`.
    ExplicitDeny,
    /// Nothing matched.
    NoAllow,
}

/// What a request asks, as the policy sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    /// The caller's principal ARN.
    pub principal: &'a str,
    /// The caller's account id.
    pub account: &'a str,
    /// The IAM action, `kms:<Operation>`.
    pub action: &'a str,
    /// The key ARN.
    pub resource: &'a str,
    /// The request's encryption context, for operations that have one.
    pub context: Option<&'a BTreeMap<String, String>>,
}

/// A parsed key policy.
#[derive(Debug, Default)]
pub(crate) struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug)]
struct Statement {
    allow: bool,
    principals: Principals,
    actions: Option<Patterns>,
    resources: Option<Patterns>,
    conditions: Vec<Condition>,
    /// False when a condition uses an operator or key this subset does not evaluate.
    supported: bool,
}

#[derive(Debug, Default)]
struct Principals {
    negated: bool,
    any: bool,
    aws: Vec<String>,
}

#[derive(Debug)]
struct Patterns {
    negated: bool,
    list: Vec<String>,
}

#[derive(Debug)]
struct Condition {
    like: bool,
    key: ConditionKey,
    values: Vec<String>,
}

#[derive(Debug)]
enum ConditionKey {
    CallerAccount,
    PrincipalArn,
    PrincipalAccount,
    Context(String),
}

impl Policy {
    /// Evaluates the policy for `req`.
    pub(crate) fn evaluate(&self, req: &Request<'_>) -> Decision {
        let mut allowed = false;
        for s in &self.statements {
            if s.matches(req) {
                if !s.allow {
                    return Decision::ExplicitDeny;
                }
                allowed = true;
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::NoAllow
        }
    }
}

impl Statement {
    fn matches(&self, req: &Request<'_>) -> bool {
        let (Some(actions), Some(resources)) = (&self.actions, &self.resources) else {
            return false;
        };
        self.supported
            && self.principals.matches(req.principal, req.account)
            && actions.matches(req.action, true)
            && resources.matches(req.resource, false)
            && self.conditions.iter().all(|c| c.holds(req))
    }
}

impl Principals {
    fn matches(&self, arn: &str, account: &str) -> bool {
        let hit = self.any || self.aws.iter().any(|e| principal_matches(e, arn, account));
        hit != self.negated
    }
}

impl Patterns {
    fn matches(&self, value: &str, case_insensitive: bool) -> bool {
        let hit = self
            .list
            .iter()
            .any(|p| glob(p.as_bytes(), value.as_bytes(), case_insensitive));
        hit != self.negated
    }
}

impl Condition {
    fn holds(&self, req: &Request<'_>) -> bool {
        let actual = match &self.key {
            ConditionKey::CallerAccount | ConditionKey::PrincipalAccount => Some(req.account),
            ConditionKey::PrincipalArn => Some(req.principal),
            ConditionKey::Context(k) => req.context.and_then(|ctx| {
                ctx.iter()
                    .find(|(ck, _)| ck.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.as_str())
            }),
        };
        let Some(actual) = actual else {
            return false;
        };
        self.values.iter().any(|want| {
            if self.like {
                glob(want.as_bytes(), actual.as_bytes(), false)
            } else {
                want == actual
            }
        })
    }
}

/// PutKeyPolicy's (and CreateKey's) lockout safety check: the new policy must let the caller
/// `arn` of `account` put a key policy again on `key_arn` (`"*"` when the ARN is not known
/// yet), or `MalformedPolicyDocumentException` with AWS's message.
pub(crate) fn check_lockout(
    policy: &Policy,
    arn: &str,
    account: &str,
    key_arn: &str,
) -> Result<(), KmsError> {
    let decision = policy.evaluate(&Request {
        principal: arn,
        account,
        action: "kms:PutKeyPolicy",
        resource: key_arn,
        context: None,
    });
    if decision == Decision::Allow {
        Ok(())
    } else {
        Err(KmsError::new(
            ErrorCode::MalformedPolicyDocument,
            "The new key policy will not allow you to update the key policy in the future.",
        ))
    }
}

/// Whether the policy or grant principal `entry` covers the caller `arn` of `account`: the
/// exact ARN, the account root (every principal of the account), or a role covering its
/// assumed-role sessions.
pub(crate) fn principal_matches(entry: &str, arn: &str, account: &str) -> bool {
    if entry == arn {
        return true;
    }
    let Some(rest) = entry.strip_prefix("arn:aws:iam::") else {
        return false;
    };
    let Some((acct, resource)) = rest.split_once(':') else {
        return false;
    };
    if resource == "root" {
        return acct == account;
    }
    if let Some(role_path) = resource.strip_prefix("role/") {
        let role = role_path.rsplit('/').next().unwrap_or(role_path);
        let session_prefix = format!("arn:aws:sts::{acct}:assumed-role/{role}/");
        return arn.starts_with(&session_prefix);
    }
    false
}

/// IAM wildcard match: `*` any run (also empty), `?` one character. Patterns for
/// case-insensitive matching are already lowercase.
pub(crate) fn glob(pattern: &[u8], text: &[u8], case_insensitive: bool) -> bool {
    let eq = |p: u8, t: u8| {
        if case_insensitive {
            p == t.to_ascii_lowercase()
        } else {
            p == t
        }
    };
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || eq(c, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

type Cache = RwLock<HashMap<String, (String, Arc<Policy>)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

/// The parsed form of key `key_arn`'s policy `text`, parsed once and cached. A stored policy
/// that does not parse allows nothing.
pub(crate) fn cached(key_arn: &str, text: &str) -> Arc<Policy> {
    {
        let map = cache().read().unwrap_or_else(PoisonError::into_inner);
        if let Some((t, p)) = map.get(key_arn) {
            if t == text {
                return Arc::clone(p);
            }
        }
    }
    let parsed = Arc::new(Policy::parse(text).unwrap_or_default());
    let mut map = cache().write().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= CACHE_CAP {
        map.clear();
    }
    map.insert(key_arn.to_owned(), (text.to_owned(), Arc::clone(&parsed)));
    parsed
}
