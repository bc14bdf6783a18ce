//! AWS managed keys (`alias/aws/*`, KeyManager AWS): created on first use by an operation that
//! names one of the configured managed aliases, like EBS's `alias/aws/ebs`.

use std::collections::BTreeMap;

use super::Ctx;
use crate::kms::server::model::{KeyManager, KeyRecord, KeySpec, NewKey};
use crate::kms::server::registry::{Alias, Changes, State};
use crate::kms::wire::KmsError;

/// The default key policy: the account's principals may do everything (AWS's default).
pub(crate) fn default_policy(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

/// The policy of an AWS managed key: use by the account's principals, no administration.
fn managed_policy(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "auto-volcrypt",
        "Statement": [{
            "Sid": "Allow use of the key by principals in the account",
            "Effect": "Allow",
            "Principal": { "AWS": "*" },
            "Action": [
                "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                "kms:DescribeKey", "kms:CreateGrant"
            ],
            "Resource": "*",
            "Condition": { "StringEquals": { "kms:CallerAccount": account } }
        }, {
            "Sid": "Allow direct access to key metadata to the account",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
            "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
            "Resource": "*"
        }]
    })
    .to_string()
}

/// If `key_id` names a configured managed alias that does not exist yet, creates the AWS
/// managed key and its alias (under the caller's write lock). Returns whether it did.
pub(crate) fn ensure(cx: &Ctx<'_>, key_id: &str) -> Result<bool, KmsError> {
    let kms = cx.kms;
    let alias = key_id
        .rsplit_once(":alias/")
        .map_or_else(|| key_id.to_owned(), |(_, n)| format!("alias/{n}"));
    if !kms.config.managed_aliases.contains(&alias) {
        return Ok(false);
    }
    if kms.registry.read(|s| s.aliases.contains_key(&alias)) {
        return Ok(false);
    }
    kms.registry.write(|state: &mut State, changes: &mut Changes| {
        if state.aliases.contains_key(&alias) {
            return Ok(false);
        }
        let now = kms.clock.now();
        let account = kms.config.account_id.clone();
        let rec = KeyRecord::create(
            NewKey {
                account: account.clone(),
                region: kms.config.region.clone(),
                spec: KeySpec::SymmetricDefault,
                usage: None,
                description: format!(
                    "Default key that protects my volcrypt volumes when no other key is defined ({alias})"
                ),
                manager: KeyManager::Aws,
                policy: managed_policy(&account),
                tags: BTreeMap::new(),
            },
            now,
        )?;
        let id = rec.key_id();
        state.keys.insert(id.clone(), rec);
        changes.key(&id);
        state.aliases.insert(
            alias.clone(),
            Alias {
                name: alias.clone(),
                target_key_id: id,
                created: now,
                updated: now,
            },
        );
        changes.alias(&alias);
        Ok(true)
    })
}
