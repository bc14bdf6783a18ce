//! AWS KMS JSON 1.1 wire types, shared by the KMS client (`keys`) and the local server.
//!
//! Pure data: serde request/response structs with botocore's member names verbatim (from
//! `botocore/data/kms/2014-11-01/service-2.json`), the `X-Amz-Target` operation names, the
//! `__type` error names with their HTTP statuses, and the canonical encoding of an encryption
//! context. No I/O, no crypto, no policy: this module must not `use crate::` anything.
//!
//! Conventions (see `shared/reference/kms-protocol.md` §1):
//! - members are PascalCase as botocore sends them; optional members are `Option` and are
//!   omitted when `None`; required members are plain fields, so a request lacking one fails to
//!   decode (and [`decode_request`] turns that into AWS's `ValidationException` wording);
//! - unknown members are ignored (newer botocore versions send members this crate predates);
//! - blobs are [`Blob`]: standard, padded base64 in JSON, zeroized on drop, length-only `Debug`;
//! - timestamps are [`Timestamp`]: epoch seconds as a JSON number (integers accepted);
//! - string enumerations are Rust enums written as their exact AWS strings. An unknown value
//!   fails to decode; the server reports it as `ValidationException` (enum value set), other
//!   shape mismatches as `SerializationException` (see [`decode_request`]).
//!
//! Operations with no output members (CreateAlias, DeleteAlias, UpdateAlias, EnableKey,
//! DisableKey, UpdateKeyDescription, TagResource, UntagResource, PutKeyPolicy, RetireGrant,
//! RevokeGrant, EnableKeyRotation, DisableKeyRotation) answer [`EmptyResponse`] (`{}`).

mod blob;
mod decode;
mod enums;
mod error;
mod operation;
mod ops_admin;
mod ops_asym;
mod ops_crypto;
mod ops_keys;
mod shapes;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests_error;
#[cfg(test)]
mod tests_serde;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use blob::{canonical_context, Blob};
pub use decode::{decode_request, decode_response, encode_response};
pub use enums::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, ExpirationModel, GrantOperation,
    IncludeKeyMaterial, KeyEncryptionAlgorithm, KeyManager, KeySpec, KeyState, KeyUsage,
    MacAlgorithm, MessageType, MultiRegionKeyType, Origin, RotationType, SigningAlgorithm,
};
pub use error::{ErrorCode, KmsError};
pub use operation::{Operation, TARGET_PREFIX};
// Every operation's `<Op>Request` / `<Op>Response` (structs, or aliases of shared shapes).
pub use ops_admin::*;
pub use ops_asym::*;
pub use ops_crypto::*;
pub use ops_keys::*;
pub use shapes::{
    AliasListEntry, GrantConstraints, GrantListEntry, KeyListEntry, KeyMetadata,
    MultiRegionConfiguration, MultiRegionKey, RecipientInfo, RotationsListEntry, Tag,
    XksKeyConfiguration,
};

/// An encryption context: non-secret string pairs bound to a ciphertext as AAD. Ordered, so
/// iteration (and [`canonical_context`]) is by key.
pub type EncryptionContext = BTreeMap<String, String>;

/// A timestamp on the wire: seconds since the Unix epoch, fractional allowed. Integers (as
/// local-kms sends) and exponent forms (`1.5565824E9`, as AWS sends) both decode.
pub type Timestamp = f64;

/// The `Content-Type` of every request and response body.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The output of operations that have no output members: serialized as `{}`. Decoding accepts
/// any object (and [`decode_response`] also an empty body or `null`, as moto sends).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyResponse {}
