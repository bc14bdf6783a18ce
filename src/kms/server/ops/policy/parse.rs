//! Validation and parsing of key policy documents (the checks are listed in the parent
//! module's header).

use serde_json::Value;

use super::{
    Condition, ConditionKey, Patterns, Policy, Principals, Statement, MAX_POLICY_BYTES,
    MAX_POLICY_CHARS,
};
use crate::kms::wire::{ErrorCode, KmsError};

fn malformed(message: &str) -> KmsError {
    KmsError::new(ErrorCode::MalformedPolicyDocument, message)
}

fn invalid_principals() -> KmsError {
    malformed("Policy contains a statement with one or more invalid principals.")
}

/// The `Policy` member's shape constraints (botocore's `PolicyType`): 1-131072 characters
/// from `\t \n \r \u0020-\u00FF`; `ValidationException` otherwise.
pub(crate) fn check_shape(text: &str) -> Result<(), KmsError> {
    let chars = text.chars().count();
    if chars == 0 {
        return Err(KmsError::validation(
            "policy",
            "Member must have length greater than or equal to 1",
        ));
    }
    if chars > MAX_POLICY_CHARS {
        return Err(KmsError::validation(
            "policy",
            &format!("Member must have length less than or equal to {MAX_POLICY_CHARS}"),
        ));
    }
    if !text
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(KmsError::validation(
            "policy",
            "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        ));
    }
    Ok(())
}

/// Checks a policy document as PutKeyPolicy does (shape, size quota, structure) and parses it.
pub(crate) fn validate(text: &str) -> Result<Policy, KmsError> {
    check_shape(text)?;
    if text.len() > MAX_POLICY_BYTES {
        return Err(KmsError::new(
            ErrorCode::LimitExceeded,
            format!("The key policy exceeds the size quota of {MAX_POLICY_BYTES} bytes."),
        ));
    }
    Policy::parse(text)
}

/// One JSON value as a list of strings (a string, or an array of strings); numbers and
/// booleans are accepted as their text where IAM accepts them (condition values).
fn strings(v: &Value, scalars: bool, what: &str) -> Result<Vec<String>, KmsError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if scalars => Ok(n.to_string()),
        Value::Bool(b) if scalars => Ok(b.to_string()),
        _ => Err(malformed(&format!(
            "Policy contains a statement whose {what} is not a string or a list of strings."
        ))),
    };
    match v {
        Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        Value::Array(_) => Err(malformed(&format!(
            "Policy contains a statement with an empty {what}."
        ))),
        other => Ok(vec![one(other)?]),
    }
}

fn parse_principals(v: &Value, negated: bool) -> Result<Principals, KmsError> {
    let mut p = Principals {
        negated,
        ..Principals::default()
    };
    match v {
        Value::String(s) if s == "*" => p.any = true,
        Value::Object(map) if !map.is_empty() => {
            for (kind, entries) in map {
                let entries =
                    strings(entries, false, "Principal").map_err(|_| invalid_principals())?;
                match kind.as_str() {
                    "AWS" => {
                        for e in entries {
                            if e == "*" {
                                p.any = true;
                            } else if e.len() == 12 && e.bytes().all(|b| b.is_ascii_digit()) {
                                p.aws.push(format!("arn:aws:iam::{e}:root"));
                            } else if e.starts_with("arn:aws:iam::")
                                || e.starts_with("arn:aws:sts::")
                            {
                                p.aws.push(e);
                            } else {
                                return Err(invalid_principals());
                            }
                        }
                    }
                    "Service" | "Federated" | "CanonicalUser" => {}
                    _ => return Err(invalid_principals()),
                }
            }
        }
        _ => return Err(invalid_principals()),
    }
    Ok(p)
}

fn parse_patterns(
    stmt: &serde_json::Map<String, Value>,
    name: &str,
    lowercase: bool,
) -> Result<Option<Patterns>, KmsError> {
    let not_name = format!("Not{name}");
    let (v, negated) = match (stmt.get(name), stmt.get(&not_name)) {
        (Some(_), Some(_)) => {
            return Err(malformed(&format!(
                "Policy contains a statement with both {name} and {not_name}."
            )))
        }
        (Some(v), None) => (v, false),
        (None, Some(v)) => (v, true),
        (None, None) => return Ok(None),
    };
    let mut list = strings(v, false, name)?;
    if lowercase {
        list.iter_mut().for_each(|s| s.make_ascii_lowercase());
    }
    Ok(Some(Patterns { negated, list }))
}

/// Parses a `Condition` block; returns the conditions and whether all are supported.
fn parse_conditions(v: Option<&Value>) -> Result<(Vec<Condition>, bool), KmsError> {
    let Some(v) = v else {
        return Ok((Vec::new(), true));
    };
    let bad = || malformed("Policy contains a statement with a malformed Condition.");
    let Value::Object(ops) = v else {
        return Err(bad());
    };
    let mut out = Vec::new();
    let mut supported = true;
    for (op, keys) in ops {
        let Value::Object(keys) = keys else {
            return Err(bad());
        };
        let like = match op.as_str() {
            "StringEquals" => Some(false),
            "StringLike" => Some(true),
            _ => None,
        };
        for (key, values) in keys {
            let values = strings(values, true, "Condition value").map_err(|_| bad())?;
            let lower = key.to_ascii_lowercase();
            let key = match lower.as_str() {
                "kms:calleraccount" => Some(ConditionKey::CallerAccount),
                "aws:principalarn" => Some(ConditionKey::PrincipalArn),
                "aws:principalaccount" => Some(ConditionKey::PrincipalAccount),
                l if l.starts_with("kms:encryptioncontext:") && l.len() > 22 => {
                    Some(ConditionKey::Context(key[22..].to_owned()))
                }
                _ => None,
            };
            match (like, key) {
                (Some(like), Some(key)) => out.push(Condition { like, key, values }),
                _ => supported = false,
            }
        }
    }
    Ok((out, supported))
}

fn parse_statement(v: &Value) -> Result<Statement, KmsError> {
    let Value::Object(stmt) = v else {
        return Err(malformed(
            "Policy contains a statement that is not a JSON object.",
        ));
    };
    let allow = match stmt.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => true,
        Some(Value::String(e)) if e == "Deny" => false,
        _ => {
            return Err(malformed(
                "Policy contains a statement whose Effect is not Allow or Deny.",
            ))
        }
    };
    let principals = match (stmt.get("Principal"), stmt.get("NotPrincipal")) {
        (Some(p), None) => parse_principals(p, false)?,
        (None, Some(p)) => parse_principals(p, true)?,
        (None, None) => return Err(malformed("Policy contains a statement with no principal.")),
        (Some(_), Some(_)) => return Err(invalid_principals()),
    };
    let (conditions, supported) = parse_conditions(stmt.get("Condition"))?;
    Ok(Statement {
        allow,
        principals,
        actions: parse_patterns(stmt, "Action", true)?,
        resources: parse_patterns(stmt, "Resource", false)?,
        conditions,
        supported,
    })
}

impl Policy {
    /// Parses a policy document (the JSON checks of [`validate`], not its length checks).
    pub(crate) fn parse(text: &str) -> Result<Policy, KmsError> {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| malformed(&format!("The policy is not valid JSON: {e}")))?;
        let Value::Object(doc) = doc else {
            return Err(malformed("The policy is not a JSON object."));
        };
        let statements = match doc.get("Statement") {
            Some(Value::Array(list)) if !list.is_empty() => {
                list.iter().map(parse_statement).collect::<Result<_, _>>()?
            }
            Some(s @ Value::Object(_)) => vec![parse_statement(s)?],
            _ => return Err(malformed("The policy has no Statement.")),
        };
        Ok(Policy { statements })
    }
}
