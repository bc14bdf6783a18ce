//! Operation handlers, one file per family, behind one dispatcher.
//!
//! Every handler gets a [`Ctx`]: the service, the authenticated caller, the raw request body
//! and the audit event to fill in (key ARN, encryption context). It decodes its request with
//! [`decode_request`](crate::kms::wire::decode_request), checks authorization through
//! [`authz::authorize`], and returns the encoded response.

mod access;
mod aliases;
mod asym;
pub(crate) mod authz;
mod crypto;
mod datakey;
mod grant_ops;
mod grants;
mod keys;
mod keyuse;
pub(crate) mod managed;
pub(crate) mod meta;
mod page;
mod policy;
mod rotation;
mod tags;
#[cfg(test)]
mod tests_access;
#[cfg(test)]
mod tests_aliases;
#[cfg(test)]
mod tests_asym;
#[cfg(test)]
mod tests_crypto;
#[cfg(test)]
mod tests_crypto_util;
#[cfg(test)]
mod tests_datakey;
#[cfg(test)]
mod tests_grants;
#[cfg(test)]
mod tests_keys;
#[cfg(test)]
mod tests_reencrypt;

use super::audit::AuditEvent;
use super::service::{Caller, Kms};
use crate::kms::wire::{KmsError, Operation};

pub(crate) use rotation::run_due_tasks;

/// Everything a handler needs.
pub(crate) struct Ctx<'a> {
    /// The service.
    pub kms: &'a Kms,
    /// Who is calling.
    pub caller: &'a Caller,
    /// The raw JSON request.
    pub body: &'a [u8],
    /// The audit record of this request.
    pub event: &'a mut AuditEvent,
}

/// Routes one request to its handler.
pub(crate) fn dispatch(
    kms: &Kms,
    caller: &Caller,
    op: Operation,
    body: &[u8],
    event: &mut AuditEvent,
) -> Result<Vec<u8>, KmsError> {
    let cx = Ctx {
        kms,
        caller,
        body,
        event,
    };
    match op {
        Operation::CreateKey => keys::create_key(cx),
        Operation::DescribeKey => keys::describe_key(cx),
        Operation::ListKeys => keys::list_keys(cx),
        Operation::UpdateKeyDescription => keys::update_key_description(cx),
        Operation::EnableKey => keys::enable_key(cx),
        Operation::DisableKey => keys::disable_key(cx),
        Operation::ScheduleKeyDeletion => keys::schedule_key_deletion(cx),
        Operation::CancelKeyDeletion => keys::cancel_key_deletion(cx),
        Operation::CreateAlias => aliases::create_alias(cx),
        Operation::UpdateAlias => aliases::update_alias(cx),
        Operation::DeleteAlias => aliases::delete_alias(cx),
        Operation::ListAliases => aliases::list_aliases(cx),
        Operation::TagResource => aliases::tag_resource(cx),
        Operation::UntagResource => aliases::untag_resource(cx),
        Operation::ListResourceTags => aliases::list_resource_tags(cx),
        Operation::GetKeyPolicy => access::get_key_policy(cx),
        Operation::PutKeyPolicy => access::put_key_policy(cx),
        Operation::ListKeyPolicies => access::list_key_policies(cx),
        Operation::CreateGrant => access::create_grant(cx),
        Operation::ListGrants => access::list_grants(cx),
        Operation::ListRetirableGrants => access::list_retirable_grants(cx),
        Operation::RetireGrant => access::retire_grant(cx),
        Operation::RevokeGrant => access::revoke_grant(cx),
        Operation::Encrypt => crypto::encrypt(cx),
        Operation::Decrypt => crypto::decrypt(cx),
        Operation::ReEncrypt => crypto::re_encrypt(cx),
        Operation::GenerateDataKey => crypto::generate_data_key(cx),
        Operation::GenerateDataKeyWithoutPlaintext => {
            crypto::generate_data_key_without_plaintext(cx)
        }
        Operation::GenerateDataKeyPair => crypto::generate_data_key_pair(cx),
        Operation::GenerateDataKeyPairWithoutPlaintext => {
            crypto::generate_data_key_pair_without_plaintext(cx)
        }
        Operation::GenerateRandom => crypto::generate_random(cx),
        Operation::GenerateMac => asym::generate_mac(cx),
        Operation::VerifyMac => asym::verify_mac(cx),
        Operation::Sign => asym::sign(cx),
        Operation::Verify => asym::verify(cx),
        Operation::GetPublicKey => asym::get_public_key(cx),
        Operation::EnableKeyRotation => rotation::enable_key_rotation(cx),
        Operation::DisableKeyRotation => rotation::disable_key_rotation(cx),
        Operation::GetKeyRotationStatus => rotation::get_key_rotation_status(cx),
        Operation::RotateKeyOnDemand => rotation::rotate_key_on_demand(cx),
        Operation::ListKeyRotations => rotation::list_key_rotations(cx),
    }
}
