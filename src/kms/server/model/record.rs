//! The key record: everything KMS knows about one key, as plain data. No storage, no HTTP,
//! no clock: times are epoch seconds passed in by the caller.
//!
//! `materials` holds every material the key ever had, current last: rotation only appends, so
//! any ciphertext ever made under the key still decrypts (AWS keeps rotated material "in
//! perpetuity"). Asymmetric and HMAC keys have exactly one material.

use std::collections::BTreeMap;

use crate::kms::server::blob::{KeyUuid, MaterialId};

use super::error::ModelError;
use super::material::KeyMaterial;
use super::rules;
use super::types::{
    EncryptionAlgorithm, KeyManager, KeySpec, KeyState, KeyUsage, MacAlgorithm, Origin,
    SigningAlgorithm,
};

/// Seconds in a day.
pub const DAY: u64 = 86_400;
/// The automatic rotation period when none is given, and that of AWS managed keys.
pub const DEFAULT_ROTATION_DAYS: u32 = 365;

/// Automatic and on-demand rotation settings of a symmetric key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationSettings {
    /// Automatic rotation on.
    pub enabled: bool,
    /// The automatic rotation period (90–2560 days).
    pub period_days: u32,
    /// When automatic rotation next happens (epoch seconds), while enabled.
    pub next_rotation: Option<u64>,
    /// On-demand rotations done so far (at most [`rules::MAX_ON_DEMAND_ROTATIONS`]).
    pub on_demand_count: u32,
    /// When the last on-demand rotation started.
    pub on_demand_started: Option<u64>,
}

impl Default for RotationSettings {
    fn default() -> Self {
        RotationSettings {
            enabled: false,
            period_days: DEFAULT_ROTATION_DAYS,
            next_rotation: None,
            on_demand_count: 0,
            on_demand_started: None,
        }
    }
}

/// The parameters of a new key (CreateKey, or an AWS managed key on first use).
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Owning account (12 digits).
    pub account: String,
    /// Region (for the ARN).
    pub region: String,
    /// Key spec.
    pub spec: KeySpec,
    /// Key usage; `None` takes the default, ENCRYPT_DECRYPT, which only symmetric keys accept.
    pub usage: Option<KeyUsage>,
    /// Description (0–8192 characters).
    pub description: String,
    /// Customer or AWS managed.
    pub manager: KeyManager,
    /// The key policy document (JSON).
    pub policy: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// One KMS key.
#[derive(Debug)]
pub struct KeyRecord {
    /// The key id.
    pub id: KeyUuid,
    /// `arn:aws:kms:<region>:<account>:key/<id>`.
    pub arn: String,
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Description.
    pub description: String,
    /// Key spec.
    pub spec: KeySpec,
    /// Key usage.
    pub usage: KeyUsage,
    /// Key state.
    pub state: KeyState,
    /// Customer or AWS managed.
    pub manager: KeyManager,
    /// Where the material came from (always `AWS_KMS` here).
    pub origin: Origin,
    /// Creation time (epoch seconds).
    pub created: u64,
    /// When a key pending deletion is deleted.
    pub deletion_date: Option<u64>,
    /// The waiting period of a pending deletion.
    pub pending_window_days: Option<u32>,
    /// Every material the key ever had, current last (never empty).
    pub materials: Vec<KeyMaterial>,
    /// Rotation settings.
    pub rotation: RotationSettings,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// The key policy (JSON).
    pub policy: String,
}

impl KeyRecord {
    /// Creates a key with fresh material, Enabled. AWS managed keys get yearly automatic
    /// rotation, as AWS does.
    pub fn create(req: NewKey, now: u64) -> Result<Self, ModelError> {
        let usage = rules::validate_new_key(req.spec, req.usage, &req.description)?;
        let material = KeyMaterial::generate(req.spec, now, None)?;
        let id = KeyUuid::generate().map_err(|_| ModelError::internal())?;
        let mut rotation = RotationSettings::default();
        if req.manager == KeyManager::Aws && req.spec == KeySpec::SymmetricDefault {
            rotation.enabled = true;
            rotation.next_rotation = Some(now + u64::from(DEFAULT_ROTATION_DAYS) * DAY);
        }
        Ok(KeyRecord {
            arn: key_arn(&req.region, &req.account, &id),
            id,
            account: req.account,
            region: req.region,
            description: req.description,
            spec: req.spec,
            usage,
            state: KeyState::Enabled,
            manager: req.manager,
            origin: Origin::AwsKms,
            created: now,
            deletion_date: None,
            pending_window_days: None,
            materials: vec![material],
            rotation,
            tags: req.tags,
            policy: req.policy,
        })
    }

    /// The key id as KMS prints it.
    pub fn key_id(&self) -> String {
        self.id.to_string()
    }

    /// The current material (the one Encrypt uses).
    pub fn current_material(&self) -> Result<&KeyMaterial, ModelError> {
        self.materials.last().ok_or_else(ModelError::internal)
    }

    /// The material with id `id`, current or rotated out.
    pub fn material(&self, id: &MaterialId) -> Option<&KeyMaterial> {
        self.materials.iter().find(|m| m.id == *id)
    }

    /// `KeyMetadata.Enabled`.
    pub fn enabled(&self) -> bool {
        self.state == KeyState::Enabled
    }

    /// `KeyMetadata.EncryptionAlgorithms` (empty unless the usage is ENCRYPT_DECRYPT).
    pub fn encryption_algorithms(&self) -> &'static [EncryptionAlgorithm] {
        match self.usage {
            KeyUsage::EncryptDecrypt => self.spec.encryption_algorithms(),
            _ => &[],
        }
    }

    /// `KeyMetadata.SigningAlgorithms` (empty unless the usage is SIGN_VERIFY).
    pub fn signing_algorithms(&self) -> &'static [SigningAlgorithm] {
        match self.usage {
            KeyUsage::SignVerify => self.spec.signing_algorithms(),
            _ => &[],
        }
    }

    /// `KeyMetadata.MacAlgorithms` (empty unless the usage is GENERATE_VERIFY_MAC).
    pub fn mac_algorithms(&self) -> &'static [MacAlgorithm] {
        match self.usage {
            KeyUsage::GenerateVerifyMac => self.spec.mac_algorithms(),
            _ => &[],
        }
    }
}

/// The ARN of key `id`.
pub fn key_arn(region: &str, account: &str, id: &KeyUuid) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{id}")
}
