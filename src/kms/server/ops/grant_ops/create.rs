//! CreateGrant (its rules are listed in the parent module's header).

use std::collections::BTreeMap;

use super::super::grants::{self, context_satisfies, MAX_GRANTS_PER_KEY};
use super::super::keyuse::check_dry_run;
use super::super::meta::{check_key_id, constraint};
use super::super::policy::Decision;
use super::super::{authz, Ctx};
use super::check_principal;
use crate::kms::server::model::{check_usable, KeyRecord, KeySpec, KeyUsage};
use crate::kms::server::registry::Grant;
use crate::kms::wire::{
    decode_request, encode_response, CreateGrantRequest, CreateGrantResponse, ErrorCode,
    GrantConstraints, KmsError,
};

const MAX_CONSTRAINT_PAIRS: usize = 8;
const MAX_CONSTRAINT_VALUE: usize = 384;

/// A grant `Name`: 1-256 characters of `[a-zA-Z0-9:/_-]`.
fn check_name(name: &str) -> Result<(), KmsError> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(constraint(
            name,
            "name",
            "satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
        ))
    }
}

/// The grant's constraint maps, checked: (subset, equals).
type ContextMap = BTreeMap<String, String>;

fn check_constraints(
    c: Option<&GrantConstraints>,
) -> Result<(Option<ContextMap>, Option<ContextMap>), KmsError> {
    let Some(c) = c else {
        return Ok((None, None));
    };
    if c.source_arn.is_some() {
        return Err(KmsError::new(
            ErrorCode::UnsupportedOperation,
            "The SourceArn grant constraint is not supported by this server.",
        ));
    }
    if c.encryption_context_subset.is_some() && c.encryption_context_equals.is_some() {
        return Err(KmsError::new(
            ErrorCode::Validation,
            "A grant can have either an EncryptionContextSubset or an EncryptionContextEquals \
             constraint, not both.",
        ));
    }
    for map in [&c.encryption_context_subset, &c.encryption_context_equals]
        .into_iter()
        .flatten()
    {
        if map.len() > MAX_CONSTRAINT_PAIRS {
            return Err(KmsError::new(
                ErrorCode::Validation,
                format!("A grant constraint can have at most {MAX_CONSTRAINT_PAIRS} encryption context pairs."),
            ));
        }
        if map
            .values()
            .any(|v| v.chars().count() > MAX_CONSTRAINT_VALUE)
        {
            return Err(KmsError::new(
                ErrorCode::Validation,
                format!(
                    "Grant constraint values must be at most {MAX_CONSTRAINT_VALUE} characters."
                ),
            ));
        }
    }
    Ok((
        c.encryption_context_subset.clone(),
        c.encryption_context_equals.clone(),
    ))
}

/// The grant operations a key supports (AWS refuses the others), space-separated.
fn operations_for(key: &KeyRecord) -> &'static str {
    match key.usage {
        KeyUsage::EncryptDecrypt if key.spec == KeySpec::SymmetricDefault => {
            "Decrypt Encrypt GenerateDataKey GenerateDataKeyWithoutPlaintext ReEncryptFrom \
             ReEncryptTo GenerateDataKeyPair GenerateDataKeyPairWithoutPlaintext CreateGrant \
             RetireGrant DescribeKey"
        }
        KeyUsage::EncryptDecrypt => {
            "Encrypt Decrypt ReEncryptFrom ReEncryptTo GetPublicKey CreateGrant RetireGrant \
             DescribeKey"
        }
        KeyUsage::SignVerify => "Sign Verify GetPublicKey CreateGrant RetireGrant DescribeKey",
        KeyUsage::GenerateVerifyMac => "GenerateMac VerifyMac CreateGrant RetireGrant DescribeKey",
        KeyUsage::KeyAgreement => {
            "DeriveSharedSecret GetPublicKey CreateGrant RetireGrant DescribeKey"
        }
        KeyUsage::EncapsulateDecapsulate => {
            "Encapsulate Decapsulate GetPublicKey CreateGrant RetireGrant DescribeKey"
        }
    }
}

/// What a CreateGrant asks for, checked.
struct NewGrant {
    grantee: String,
    retiring: Option<String>,
    operations: Vec<String>,
    subset: Option<ContextMap>,
    equals: Option<ContextMap>,
    name: Option<String>,
}

impl NewGrant {
    fn from_request(req: &CreateGrantRequest) -> Result<Self, KmsError> {
        if req.grantee_service_principal.is_some() || req.retiring_service_principal.is_some() {
            return Err(KmsError::new(
                ErrorCode::UnsupportedOperation,
                "Service principals in grants are not supported by this server.",
            ));
        }
        let grantee = req
            .grantee_principal
            .clone()
            .ok_or_else(|| KmsError::missing_member("granteePrincipal"))?;
        check_principal("granteePrincipal", &grantee)?;
        if let Some(r) = &req.retiring_principal {
            check_principal("retiringPrincipal", r)?;
        }
        if req.operations.is_empty() {
            return Err(KmsError::validation(
                "operations",
                "Member must have length greater than or equal to 1",
            ));
        }
        let mut operations: Vec<String> = Vec::new();
        for op in &req.operations {
            let name = op.as_str().to_owned();
            if !operations.contains(&name) {
                operations.push(name);
            }
        }
        if let Some(n) = &req.name {
            check_name(n)?;
        }
        let (subset, equals) = check_constraints(req.constraints.as_ref())?;
        Ok(NewGrant {
            grantee,
            retiring: req.retiring_principal.clone(),
            operations,
            subset,
            equals,
            name: req.name.clone(),
        })
    }

    /// Whether `g` is this grant, created before under the same name.
    fn same_as(&self, g: &Grant, key_id: &str) -> bool {
        let mut a = self.operations.clone();
        let mut b = g.operations.clone();
        a.sort();
        b.sort();
        g.key_id == key_id
            && g.name == self.name
            && g.grantee == self.grantee
            && g.retiring == self.retiring
            && a == b
            && g.context_subset == self.subset
            && g.context_equals == self.equals
    }

    /// Whether the caller's grant `parent` lets it create this grant: it has CreateGrant and
    /// every requested operation, and this grant's constraint is at least as strict.
    fn covered_by(&self, parent: &Grant) -> bool {
        let has = |op: &str| parent.operations.iter().any(|o| o == op);
        if !has("CreateGrant") || !self.operations.iter().all(|o| has(o)) {
            return false;
        }
        match (&parent.context_equals, &parent.context_subset) {
            (Some(pe), _) => self
                .equals
                .as_ref()
                .is_some_and(|e| context_satisfies(pe, e, true)),
            (None, Some(ps)) => [&self.equals, &self.subset]
                .into_iter()
                .flatten()
                .any(|c| context_satisfies(ps, c, false)),
            (None, None) => true,
        }
    }
}

/// CreateGrant's access check: the key policy, else a covering grant of the caller among
/// `all` (`State::grants`).
fn may_create(
    cx: &Ctx<'_>,
    all: &BTreeMap<String, Grant>,
    key: &KeyRecord,
    new: &NewGrant,
) -> Result<(), KmsError> {
    const ACTION: &str = "kms:CreateGrant";
    match authz::policy_decision(cx, key, ACTION, None) {
        Decision::Allow => Ok(()),
        Decision::ExplicitDeny => Err(authz::denied(cx, key, ACTION, true)),
        Decision::NoAllow => {
            if authz::caller_grants(cx, all, key).any(|g| new.covered_by(g)) {
                Ok(())
            } else {
                Err(authz::denied(cx, key, ACTION, false))
            }
        }
    }
}

/// `CreateGrant`.
pub(crate) fn create_grant(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: CreateGrantRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    grants::check_tokens(req.grant_tokens.as_deref().unwrap_or_default())?;
    let new = NewGrant::from_request(&req)?;
    let mut arn = None;
    let shared: &Ctx<'_> = &cx;
    let out = shared.kms.registry.write(|s, changes| {
        let key = s.key(&req.key_id)?;
        arn = Some(key.arn.clone());
        may_create(shared, &s.grants, key, &new)?;
        check_usable(key)?;
        let bad: Vec<&str> = new
            .operations
            .iter()
            .map(String::as_str)
            .filter(|o| !operations_for(key).split_whitespace().any(|s| s == *o))
            .collect();
        if !bad.is_empty() {
            return Err(KmsError::new(
                ErrorCode::Validation,
                format!(
                    "Grant operations [{}] are not valid for key {} (key spec {}, key usage {}).",
                    bad.join(", "),
                    key.arn,
                    key.spec,
                    key.usage
                ),
            ));
        }
        let constrained = new.subset.is_some() || new.equals.is_some();
        if constrained && key.spec != KeySpec::SymmetricDefault {
            return Err(KmsError::new(
                ErrorCode::Validation,
                "Encryption context grant constraints are only supported on symmetric encryption \
                 KMS keys.",
            ));
        }
        check_dry_run(req.dry_run)?;
        let key_id = key.key_id();
        if new.name.is_some() {
            if let Some(g) = s.grants.values().find(|g| new.same_as(g, &key_id)) {
                return Ok((g.id.clone(), grants::new_token(&g.id)?));
            }
        }
        if s.grants.values().filter(|g| g.key_id == key_id).count() >= MAX_GRANTS_PER_KEY {
            return Err(KmsError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "Key {} already has {MAX_GRANTS_PER_KEY} grants.",
                    arn.as_deref().unwrap_or("")
                ),
            ));
        }
        let id = grants::new_id()?;
        let token = grants::new_token(&id)?;
        let grant = Grant {
            id: id.clone(),
            token: token.clone(),
            key_id,
            grantee: new.grantee.clone(),
            retiring: new.retiring.clone(),
            issuer: format!("arn:aws:iam::{}:root", shared.caller.principal.account_id),
            operations: new.operations.clone(),
            context_subset: new.subset.clone(),
            context_equals: new.equals.clone(),
            name: new.name.clone(),
            created: shared.kms.clock.now(),
        };
        s.grants.insert(id.clone(), grant);
        changes.grant(&id);
        Ok((id, token))
    });
    cx.event.key_arn = arn;
    let (id, token) = out?;
    encode_response(&CreateGrantResponse {
        grant_token: Some(token),
        grant_id: Some(id),
    })
}
