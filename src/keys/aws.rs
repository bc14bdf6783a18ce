//! The AWS KMS key provider: envelope encryption through `aws-sdk-kms` and `aws-config`.
//!
//! A new volume's data key comes from one `GenerateDataKey` (AES_256) bound to the volume's
//! encryption context; the keyslot keeps the returned `CiphertextBlob` and the key ARN KMS
//! returned. Opening a volume is one `Decrypt` with the same context. No call happens on the
//! data path.
//!
//! Configuration follows the standard AWS chains (`aws-config`): credentials from the
//! environment, profile, web identity, ECS or IMDS; the region from `--region`-style options,
//! `AWS_REGION` or the profile; the endpoint from [`KmsOptions::endpoint`], else (the SDK's
//! order) `AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL`, the profile's `services` section
//! (`kms =` / `endpoint_url = ...`), the profile's `endpoint_url`, else the regional AWS
//! endpoint; messages name the endpoint found the same way. HTTPS trusts the system roots, or
//! only the CA certificates of [`KmsOptions::ca_bundle`] / `AWS_CA_BUNDLE` (a PEM file). The
//! same code therefore works against real AWS KMS, against `volcrypt kms serve` (also with
//! `--tls-self-signed`) and against moto. Every call has an operation timeout; throttling,
//! 5xx responses and timeouts are retried by the SDK's standard retry mode (exponential
//! backoff with jitter, bounded attempts).
//!
//! [`KeyProvider`] is synchronous, so the provider owns a small current-thread tokio runtime
//! and blocks on each SDK call (on a helper thread if the caller is itself inside a runtime).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use aws_sdk_kms::Client;
use aws_types::service_config::ServiceConfigKey;
use aws_types::SdkConfig;
use zeroize::Zeroizing;

use super::aws_error::{self, Call};
use super::aws_tls;
use super::{KeyContext, KeyError, KeyProvider, WrappedKey};
use crate::crypto::DataKey;
use crate::format::{KeyKind, MAX_BLOB_LEN, MAX_KEY_ID_LEN};

/// The AWS managed key used when no key is named (like EBS's `alias/aws/ebs`).
pub const DEFAULT_KMS_KEY: &str = "alias/aws/volcrypt";

/// How to reach KMS and which key to use.
#[derive(Debug, Clone)]
pub struct KmsOptions {
    /// Key id, key ARN, alias name or alias ARN. `None`: for a new volume the managed
    /// [`DEFAULT_KMS_KEY`]; for an existing volume the key ARN recorded in its keyslot.
    pub key_id: Option<String>,
    /// Endpoint override (`--kms-endpoint`); `None` leaves it to the standard resolution.
    pub endpoint: Option<String>,
    /// Region override; `None` uses the standard region chain (`AWS_REGION`, profile, ...).
    pub region: Option<String>,
    /// Credentials and config profile; `None` uses `AWS_PROFILE`, else `default`.
    pub profile: Option<String>,
    /// Operation timeout of each KMS call, retries included.
    pub timeout: Duration,
    /// Attempts per call (1 = no retries).
    pub max_attempts: u32,
    /// PEM file of the CA certificates to trust for HTTPS (`--kms-ca-bundle`), replacing the
    /// system roots; `None` uses `AWS_CA_BUNDLE` when set, else the system roots.
    pub ca_bundle: Option<PathBuf>,
}

impl Default for KmsOptions {
    fn default() -> Self {
        KmsOptions {
            key_id: None,
            endpoint: None,
            region: None,
            profile: None,
            timeout: Duration::from_secs(10),
            max_attempts: 4,
            ca_bundle: None,
        }
    }
}

/// A [`KeyProvider`] backed by an AWS KMS (or KMS-compatible) endpoint.
pub struct KmsKeyProvider {
    client: Client,
    runtime: tokio::runtime::Runtime,
    key_id: Option<String>,
    /// The endpoint, as named in messages.
    endpoint: String,
    timeout: Duration,
    max_attempts: u32,
}

impl std::fmt::Debug for KmsKeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsKeyProvider")
            .field("key_id", &self.key_id)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl KmsKeyProvider {
    /// A provider using the standard credential chain and region resolution.
    pub fn new(opts: KmsOptions) -> Result<Self, KeyError> {
        Self::build(opts, None)
    }

    /// A provider with fixed credentials (tests, the demo's in-process server).
    pub fn with_static_credentials(
        endpoint: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
        mut opts: KmsOptions,
    ) -> Result<Self, KeyError> {
        opts.endpoint = Some(endpoint.to_owned());
        opts.region = Some(region.to_owned());
        let creds = Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "volcrypt-static",
        );
        Self::build(opts, Some(creds))
    }

    fn build(opts: KmsOptions, creds: Option<Credentials>) -> Result<Self, KeyError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("volcrypt-kms")
            .build()
            .map_err(|e| KeyError::KmsConfig(format!("starting the KMS client runtime: {e}")))?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(opts.max_attempts.max(1)))
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(opts.timeout)
                    .connect_timeout(opts.timeout.min(Duration::from_secs(3)))
                    .build(),
            );
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &opts.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(c) = creds {
            loader = loader.credentials_provider(c);
        }
        if let Some((path, source)) = aws_tls::ca_bundle(opts.ca_bundle.as_deref()) {
            loader = loader.http_client(aws_tls::http_client(&path, source)?);
        }
        let sdk = block(&runtime, loader.load())?;
        let Some(region) = sdk.region().map(ToString::to_string) else {
            return Err(KeyError::KmsConfig(
                "no AWS region is configured for KMS: set AWS_REGION (or a region in the \
                 AWS config profile)"
                    .into(),
            ));
        };
        let mut conf = aws_sdk_kms::config::Builder::from(&sdk);
        if let Some(e) = &opts.endpoint {
            conf = conf.endpoint_url(e.clone());
        }
        let endpoint = opts
            .endpoint
            .clone()
            .or_else(|| configured_endpoint(&sdk))
            .unwrap_or_else(|| format!("https://kms.{region}.amazonaws.com"));
        Ok(KmsKeyProvider {
            client: Client::from_conf(conf.build()),
            runtime,
            key_id: opts.key_id,
            endpoint,
            timeout: opts.timeout,
            max_attempts: opts.max_attempts.max(1),
        })
    }

    /// The same provider, using `key_id` for new volumes (and as `KeyId` on Decrypt).
    pub fn with_key(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// The endpoint, as shown in messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The underlying SDK client (for administrative calls made by tools and tests).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates a symmetric encryption key and returns its ARN (used by the demo).
    pub fn create_key(&self, description: &str) -> Result<String, KeyError> {
        let call = self.call("CreateKey", "(new key)");
        let out = self
            .block_on(self.client.create_key().description(description).send())?
            .map_err(|e| aws_error::map(e, &call))?;
        out.key_metadata
            .and_then(|m| m.arn)
            .ok_or_else(|| aws_error::malformed(&call, "no key ARN in the response"))
    }

    /// Points `alias` (`alias/...`) at `key_id`.
    pub fn create_alias(&self, alias: &str, key_id: &str) -> Result<(), KeyError> {
        let call = self.call("CreateAlias", key_id);
        self.block_on(
            self.client
                .create_alias()
                .alias_name(alias)
                .target_key_id(key_id)
                .send(),
        )?
        .map_err(|e| aws_error::map(e, &call))?;
        Ok(())
    }

    fn call<'a>(&'a self, op: &'static str, key: &'a str) -> Call<'a> {
        Call {
            op,
            key,
            endpoint: &self.endpoint,
            timeout: self.timeout,
            max_attempts: self.max_attempts,
        }
    }

    /// Runs `fut` to completion on the provider's runtime.
    fn block_on<F>(&self, fut: F) -> Result<F::Output, KeyError>
    where
        F: Future + Send,
        F::Output: Send,
    {
        block(&self.runtime, fut)
    }
}

/// Blocks on `fut`; from inside another runtime (where blocking is not allowed) the wait
/// happens on a scoped helper thread.
fn block<F>(rt: &tokio::runtime::Runtime, fut: F) -> Result<F::Output, KeyError>
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(rt.block_on(fut));
    }
    std::thread::scope(|s| s.spawn(|| rt.block_on(fut)).join())
        .map_err(|_| KeyError::KmsConfig("the KMS client thread panicked".into()))
}

/// The endpoint the SDK uses when none is set in code, found by the same lookup as
/// `aws_sdk_kms::config::Builder::from(&SdkConfig)`, so messages name the endpoint actually
/// called: `AWS_ENDPOINT_URL_KMS`, then `AWS_ENDPOINT_URL`, then the profile's `services`
/// section (`kms =` / `endpoint_url = ...`), then the profile's own `endpoint_url` (none of
/// them under `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`). `None`: the regional AWS endpoint.
fn configured_endpoint(sdk: &SdkConfig) -> Option<String> {
    let key = ServiceConfigKey::builder()
        .service_id("KMS")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    sdk.service_config()
        .and_then(|c| c.load_config(key))
        .or_else(|| sdk.endpoint_url().map(ToString::to_string))
}

fn context_map(ctx: &KeyContext) -> HashMap<String, String> {
    ctx.pairs().into_iter().collect()
}

/// Takes a plaintext data key out of a response blob, wiping the SDK's copy.
fn take_key(blob: Option<Blob>, call: &Call<'_>) -> Result<DataKey, KeyError> {
    let raw = Zeroizing::new(
        blob.ok_or_else(|| aws_error::malformed(call, "no Plaintext in the response"))?
            .into_inner(),
    );
    if raw.len() != 32 {
        return Err(aws_error::malformed(
            call,
            &format!("the data key is {} bytes, not 32", raw.len()),
        ));
    }
    Ok(DataKey::from_slice(&raw)?)
}

/// The keyslot wrapping from a response's key ARN and ciphertext blob, checked to fit.
fn kms_wrapping(
    call: &Call<'_>,
    arn: Option<String>,
    blob: Option<Blob>,
) -> Result<WrappedKey, KeyError> {
    let arn = arn.ok_or_else(|| aws_error::malformed(call, "no KeyId in the response"))?;
    let blob = blob
        .ok_or_else(|| aws_error::malformed(call, "no CiphertextBlob in the response"))?
        .into_inner();
    if arn.len() > MAX_KEY_ID_LEN || blob.len() > MAX_BLOB_LEN {
        return Err(aws_error::malformed(
            call,
            &format!(
                "the key ARN ({} bytes) or ciphertext blob ({} bytes) does not fit a keyslot \
                 (at most {MAX_KEY_ID_LEN} and {MAX_BLOB_LEN} bytes)",
                arn.len(),
                blob.len()
            ),
        ));
    }
    Ok(WrappedKey {
        kind: KeyKind::Kms,
        key_id: arn,
        blob,
    })
}

impl KeyProvider for KmsKeyProvider {
    fn describe(&self) -> String {
        match &self.key_id {
            Some(k) => format!("KMS key {k} at {}", self.endpoint),
            None => format!("KMS at {}", self.endpoint),
        }
    }

    fn generate(&self, ctx: &KeyContext) -> Result<(DataKey, WrappedKey), KeyError> {
        let key = self.key_id.as_deref().unwrap_or(DEFAULT_KMS_KEY);
        let call = self.call("GenerateDataKey", key);
        let out = self
            .block_on(
                self.client
                    .generate_data_key()
                    .key_id(key)
                    .key_spec(DataKeySpec::Aes256)
                    .set_encryption_context(Some(context_map(ctx)))
                    .send(),
            )?
            .map_err(|e| aws_error::map(e, &call))?;
        let dk = take_key(out.plaintext, &call)?;
        let wrapped = kms_wrapping(&call, out.key_id, out.ciphertext_blob)?;
        Ok((dk, wrapped))
    }

    fn wrap(&self, key: &DataKey, ctx: &KeyContext) -> Result<WrappedKey, KeyError> {
        let target = self.key_id.as_deref().unwrap_or(DEFAULT_KMS_KEY);
        let call = self.call("Encrypt", target);
        // The SDK keeps its own copy of the request; it is dropped (not wiped) by the SDK,
        // which is why KMS wrapping of an existing key is used only by `rewrap` from a key file.
        let out = self
            .block_on(
                self.client
                    .encrypt()
                    .key_id(target)
                    .plaintext(Blob::new(key.expose().to_vec()))
                    .set_encryption_context(Some(context_map(ctx)))
                    .send(),
            )?
            .map_err(|e| aws_error::map(e, &call))?;
        kms_wrapping(&call, out.key_id, out.ciphertext_blob)
    }

    fn rewrap(
        &self,
        wrapped: &WrappedKey,
        ctx: &KeyContext,
    ) -> Result<Option<WrappedKey>, KeyError> {
        if wrapped.kind != KeyKind::Kms {
            return Ok(None);
        }
        // No key named: the same key's current material (after a rotation).
        let target = self.key_id.as_deref().unwrap_or(&wrapped.key_id);
        let call = self.call("ReEncrypt", target);
        let ctx = context_map(ctx);
        let out = self
            .block_on(
                self.client
                    .re_encrypt()
                    .ciphertext_blob(Blob::new(wrapped.blob.clone()))
                    .source_key_id(&wrapped.key_id)
                    .set_source_encryption_context(Some(ctx.clone()))
                    .destination_key_id(target)
                    .set_destination_encryption_context(Some(ctx))
                    .send(),
            )?
            .map_err(|e| aws_error::map(e, &call))?;
        kms_wrapping(&call, out.key_id, out.ciphertext_blob).map(Some)
    }

    fn unwrap(&self, wrapped: &WrappedKey, ctx: &KeyContext) -> Result<DataKey, KeyError> {
        if wrapped.kind != KeyKind::Kms {
            return Err(KeyError::ProviderMismatch {
                needed: "a key file (--key-file)".into(),
                given: self.describe(),
            });
        }
        // A key named by the user is passed on, so KMS itself checks that it is the one
        // that wrapped this blob (IncorrectKeyException otherwise).
        let key = self.key_id.as_deref().unwrap_or(&wrapped.key_id);
        let call = self.call("Decrypt", key);
        let out = self
            .block_on(
                self.client
                    .decrypt()
                    .key_id(key)
                    .ciphertext_blob(Blob::new(wrapped.blob.clone()))
                    .set_encryption_context(Some(context_map(ctx)))
                    .send(),
            )?
            .map_err(|e| aws_error::map(e, &call))?;
        take_key(out.plaintext, &call)
    }
}
