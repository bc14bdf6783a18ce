//! The KMS service: opens the data dir (root key, keystore, credentials) and answers one
//! authenticated request at a time through [`Kms::handle`]. Transport-free: the HTTP layer
//! (`http.rs`) and tests both call it.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::audit::{AuditEvent, AuditLog};
use super::config::{Clock, ScaledClock, ServerConfig};
use super::model::ModelError;
use super::registry::Registry;
use super::sigv4::{Credential, Principal};
use super::store::{self, Store, StoreError};
use crate::crypto::{random_bytes, SecretBytes};
use crate::kms::wire::{ErrorCode, KmsError, Operation};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The keystore failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A configuration problem.
    #[error("{0}")]
    Config(String),
    /// Binding or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A credential as stored in `credentials.json`.
#[derive(Serialize, Deserialize)]
pub struct CredentialFile {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Principal ARN.
    pub principal_arn: String,
    /// Account id.
    pub account_id: String,
    /// Session token (temporary credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
}

impl CredentialFile {
    fn into_credential(self) -> Credential {
        Credential {
            access_key_id: self.access_key_id,
            secret: SecretBytes::new(self.secret_access_key.into_bytes()),
            principal_arn: self.principal_arn,
            account_id: self.account_id,
            session_token: self.session_token,
        }
    }
}

/// Who is calling, established by SigV4.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The authenticated principal.
    pub principal: Principal,
    /// The client address.
    pub source: String,
    /// This request's id (`x-amzn-RequestId`).
    pub request_id: String,
}

/// The running service.
pub struct Kms {
    /// Keys, aliases and grants.
    pub registry: Registry,
    /// KMS time.
    pub clock: Arc<dyn Clock>,
    /// Configuration.
    pub config: ServerConfig,
    credentials: Vec<Credential>,
    audit: AuditLog,
}

impl std::fmt::Debug for Kms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kms")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn random_token(len: usize, alphabet: &[u8]) -> Result<String, ServerError> {
    let mut raw = vec![0u8; len];
    random_bytes(&mut raw).map_err(|_| ServerError::Config("RNG failed".into()))?;
    Ok(raw
        .iter()
        .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
        .collect())
}

/// Loads `<dir>/credentials.json`, generating an admin credential on first start.
fn admin_credential(dir: &Path, account: &str) -> Result<(Credential, bool), ServerError> {
    let path = dir.join("credentials.json");
    if path.exists() {
        let raw = SecretBytes::new(
            std::fs::read(&path)
                .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?,
        );
        let c: CredentialFile = serde_json::from_slice(raw.expose())
            .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?;
        return Ok((c.into_credential(), false));
    }
    let c = CredentialFile {
        access_key_id: format!(
            "AKIA{}",
            random_token(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")?
        ),
        secret_access_key: random_token(
            40,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        )?,
        principal_arn: format!("arn:aws:iam::{account}:user/admin"),
        account_id: account.to_owned(),
        session_token: None,
    };
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec_pretty(&c).map_err(|e| ServerError::Config(e.to_string()))?,
    );
    store::write_private(&path, &json)?;
    Ok((c.into_credential(), true))
}

impl Kms {
    /// Opens the data dir (creating it, the root key and the admin credential on first start)
    /// and loads the keystore. Returns whether the admin credential was just generated.
    pub fn open(config: ServerConfig) -> Result<(Kms, bool), ServerError> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir)
            .map_err(|e| ServerError::Config(format!("{}: {e}", dir.display())))?;
        let root = store::root_key(dir, config.root_key_file.as_deref())?;
        let store = Store::open(dir, &root)?;
        let (admin, fresh) = admin_credential(dir, &config.account_id)?;
        let mut credentials = vec![admin];
        if let Some(extra) = &config.credentials_file {
            let raw = SecretBytes::new(
                std::fs::read(extra)
                    .map_err(|e| ServerError::Config(format!("{}: {e}", extra.display())))?,
            );
            let list: Vec<CredentialFile> = serde_json::from_slice(raw.expose())
                .map_err(|e| ServerError::Config(format!("{}: {e}", extra.display())))?;
            credentials.extend(list.into_iter().map(CredentialFile::into_credential));
        }
        let registry = Registry::load(store)?;
        let audit = AuditLog::open(dir)?;
        let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(config.day_seconds));
        Ok((
            Kms {
                registry,
                clock,
                config,
                credentials,
                audit,
            },
            fresh,
        ))
    }

    /// The credential with access key id `akid`.
    pub fn credential(&self, akid: &str) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.access_key_id == akid)
    }

    /// Handles one authenticated request and records it in the audit log.
    pub fn handle(&self, caller: &Caller, op: Operation, body: &[u8]) -> Result<Vec<u8>, KmsError> {
        let mut event = AuditEvent::new(caller, op, self.clock.now());
        let result = super::ops::dispatch(self, caller, op, body, &mut event);
        event.outcome = match &result {
            Ok(_) => "ok".into(),
            Err(e) => e.code.name().into(),
        };
        self.audit.record(event);
        result
    }

    /// Records a request that failed before it reached an operation (authentication).
    pub fn audit_rejected(&self, source: &str, request_id: &str, target: Option<&str>, code: &str) {
        self.audit.record(AuditEvent::rejected(
            source,
            request_id,
            target.unwrap_or(""),
            code,
            self.clock.now(),
        ));
    }

    /// Applies due deletions and rotations (called by the background task).
    pub fn run_due_tasks(&self) -> Result<(), KmsError> {
        super::ops::run_due_tasks(self)
    }
}

impl From<ModelError> for KmsError {
    fn from(e: ModelError) -> Self {
        let code = e.aws_code().parse().unwrap_or(ErrorCode::KmsInternal);
        KmsError::new(code, e.message())
    }
}
