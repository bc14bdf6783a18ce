//! Key material: one version of a KMS key's secret, with its id, creation time and how it came
//! to be (created with the key, or by automatic or on-demand rotation).
//!
//! - symmetric: 32 random bytes (AES-256), sealed into blobs through a per-request HKDF key;
//! - HMAC: a random key of the spec's size (28/32/48/64 bytes, see `crypto::mac`);
//! - asymmetric: the private key (PKCS#8 DER when exported).
//!
//! Secrets live in zeroizing types with redacted `Debug`; [`KeyMaterial`] is not `Clone`.
//! [`KeyMaterial::export_secret`] / [`KeyMaterial::import`] are the only way bytes leave or
//! enter (for the keystore, which seals them under its root key).

use crate::crypto::{self, AsymPrivateKey, DataKey, SecretBytes};
use crate::kms::server::blob::MaterialId;

use super::error::ModelError;
use super::specs::SpecKind;
use super::types::{KeySpec, RotationType};

/// The secret of one key material.
#[derive(Debug)]
pub enum MaterialSecret {
    /// A 256-bit AES key.
    Symmetric(DataKey),
    /// An HMAC key and the one algorithm it is used with.
    Hmac(crypto::MacAlgorithm, SecretBytes),
    /// An asymmetric private key.
    Asymmetric(AsymPrivateKey),
}

/// One version of a key's material.
#[derive(Debug)]
pub struct KeyMaterial {
    /// Its id (`KeyMaterialId`), written into every ciphertext blob it seals.
    pub id: MaterialId,
    /// When it was created (epoch seconds).
    pub created: u64,
    /// `None` for the material the key was created with, else the kind of rotation that made it.
    pub rotation: Option<RotationType>,
    secret: MaterialSecret,
}

fn unsupported(spec: KeySpec) -> ModelError {
    ModelError::UnsupportedOperation(format!("KeySpec {spec} is not supported by this server."))
}

impl KeyMaterial {
    /// Generates new material for a key of `spec`.
    pub fn generate(
        spec: KeySpec,
        now: u64,
        rotation: Option<RotationType>,
    ) -> Result<Self, ModelError> {
        let internal = |_| ModelError::internal();
        let secret = match spec.kind() {
            SpecKind::Symmetric => {
                MaterialSecret::Symmetric(DataKey::generate().map_err(internal)?)
            }
            SpecKind::Hmac(alg) => {
                MaterialSecret::Hmac(alg, crypto::generate_mac_key(alg).map_err(internal)?)
            }
            SpecKind::Asymmetric(a) => {
                MaterialSecret::Asymmetric(AsymPrivateKey::generate(a).map_err(internal)?)
            }
            SpecKind::Unsupported => return Err(unsupported(spec)),
        };
        Ok(KeyMaterial {
            id: MaterialId::generate().map_err(internal)?,
            created: now,
            rotation,
            secret,
        })
    }

    /// Rebuilds material from bytes made by [`Self::export_secret`] (a symmetric key, an HMAC
    /// key, or PKCS#8 DER). Bytes that do not fit `spec` are an internal error: the keystore
    /// wrote them.
    pub fn import(
        spec: KeySpec,
        id: MaterialId,
        created: u64,
        rotation: Option<RotationType>,
        secret: &[u8],
    ) -> Result<Self, ModelError> {
        let internal = |_| ModelError::internal();
        let secret = match spec.kind() {
            SpecKind::Symmetric => {
                MaterialSecret::Symmetric(DataKey::from_slice(secret).map_err(internal)?)
            }
            SpecKind::Hmac(alg) if secret.len() == alg.key_len() => {
                MaterialSecret::Hmac(alg, SecretBytes::new(secret.to_vec()))
            }
            SpecKind::Hmac(_) => return Err(ModelError::internal()),
            SpecKind::Asymmetric(a) => {
                MaterialSecret::Asymmetric(AsymPrivateKey::from_pkcs8(a, secret).map_err(internal)?)
            }
            SpecKind::Unsupported => return Err(unsupported(spec)),
        };
        Ok(KeyMaterial {
            id,
            created,
            rotation,
            secret,
        })
    }

    /// A copy of the secret bytes, for the keystore to seal.
    pub fn export_secret(&self) -> SecretBytes {
        let bytes = match &self.secret {
            MaterialSecret::Symmetric(k) => k.expose().as_slice(),
            MaterialSecret::Hmac(_, k) => k.expose(),
            MaterialSecret::Asymmetric(k) => k.pkcs8_der(),
        };
        SecretBytes::new(bytes.to_vec())
    }

    /// The secret.
    pub fn secret(&self) -> &MaterialSecret {
        &self.secret
    }

    /// The AES key of symmetric material.
    pub fn symmetric_key(&self) -> Option<&DataKey> {
        match &self.secret {
            MaterialSecret::Symmetric(k) => Some(k),
            _ => None,
        }
    }

    /// The private key of asymmetric material.
    pub fn asymmetric_key(&self) -> Option<&AsymPrivateKey> {
        match &self.secret {
            MaterialSecret::Asymmetric(k) => Some(k),
            _ => None,
        }
    }

    /// The HMAC key of HMAC material.
    pub fn mac_key(&self) -> Option<&SecretBytes> {
        match &self.secret {
            MaterialSecret::Hmac(_, k) => Some(k),
            _ => None,
        }
    }
}
