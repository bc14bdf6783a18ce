//! KMS for the runner: the in-process server (started once per run, on 127.0.0.1, in a
//! temporary data dir), key providers whose every call is timed as the `kms_call` stage, and
//! the `kms` workload (one [`crate::bench::kms::run`] per repetition, connections = threads).

use std::path::{Path, PathBuf};
use std::time::Instant;

use hdrhistogram::Histogram;

use super::BenchError;
use crate::bench::kms as kbench;
use crate::bench::model::Rep;
use crate::bench::spec::KmsSettings;
use crate::crypto::DataKey;
use crate::engine::{Observer, Stage};
use crate::keys::{KeyContext, KeyError, KeyProvider, KmsKeyProvider, KmsOptions, WrappedKey};
use crate::kms::server::{self, CredentialFile, RunningServer, ServerConfig};

fn kms_err(what: &str) -> impl FnOnce(String) -> BenchError + '_ {
    move |e| BenchError::Kms(format!("{what}: {e}"))
}

/// The in-process KMS server and its admin credential.
pub(crate) struct LocalKms {
    server: Option<RunningServer>,
    cred: CredentialFile,
    region: String,
    dir: PathBuf,
    /// Unwraps any volume's key (no key named).
    pub admin: KmsKeyProvider,
    /// ARNs of the two scratch keys (A creates volumes, B is the rewrap target).
    pub keys: [String; 2],
}

impl LocalKms {
    /// Starts a server with its data under `dir` (created; removed by [`Self::stop`]) and
    /// creates the two scratch keys.
    pub fn start(dir: &Path) -> Result<LocalKms, BenchError> {
        std::fs::create_dir_all(dir).map_err(BenchError::io(dir))?;
        let mut cfg = ServerConfig::new(dir);
        cfg.addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let region = cfg.region.clone();
        let server = server::start(cfg)
            .map_err(|e| kms_err("starting the in-process server")(e.to_string()))?;
        let path = dir.join("credentials.json");
        let raw = std::fs::read(&path).map_err(BenchError::io(&path))?;
        let cred: CredentialFile =
            serde_json::from_slice(&raw).map_err(|e| kms_err("credentials.json")(e.to_string()))?;
        let admin = KmsKeyProvider::with_static_credentials(
            &server.endpoint,
            &region,
            &cred.access_key_id,
            &cred.secret_access_key,
            KmsOptions::default(),
        )?;
        let a = admin.create_key("volcrypt bench key A")?;
        let b = admin.create_key("volcrypt bench key B")?;
        Ok(LocalKms {
            server: Some(server),
            cred,
            region,
            dir: dir.to_owned(),
            admin,
            keys: [a, b],
        })
    }

    /// The server's endpoint.
    pub fn endpoint(&self) -> &str {
        self.server.as_ref().map_or("", |s| s.endpoint.as_str())
    }

    /// A provider for new volumes under scratch key `i` (0 or 1).
    pub fn provider(&self, i: usize) -> Result<KmsKeyProvider, BenchError> {
        Ok(KmsKeyProvider::with_static_credentials(
            self.endpoint(),
            &self.region,
            &self.cred.access_key_id,
            &self.cred.secret_access_key,
            KmsOptions::default(),
        )?
        .with_key(self.keys[i % 2].clone()))
    }

    /// A load-generator target with the admin credential.
    fn target(&self, region: &str) -> Result<kbench::Target, BenchError> {
        Ok(kbench::Target::new(
            self.endpoint(),
            &self.cred.access_key_id,
            &self.cred.secret_access_key,
            region,
        )?)
    }

    /// Stops the server and removes its data.
    pub fn stop(mut self) -> Result<(), BenchError> {
        let r = match self.server.take() {
            Some(s) => s
                .stop()
                .map_err(|e| kms_err("stopping the in-process server")(e.to_string())),
            None => Ok(()),
        };
        let _ = std::fs::remove_dir_all(&self.dir);
        r
    }
}

/// A provider whose calls are recorded as [`Stage::KmsCall`] when an observer is set.
pub(crate) struct Timed<'a> {
    /// The provider.
    pub inner: &'a dyn KeyProvider,
    /// Where the call latencies go (`None`: not timed).
    pub obs: Option<&'a dyn Observer>,
}

impl Timed<'_> {
    fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let Some(obs) = self.obs else { return f() };
        let t = Instant::now();
        let r = f();
        obs.record(Stage::KmsCall, t.elapsed(), 0);
        r
    }
}

impl KeyProvider for Timed<'_> {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn generate(&self, ctx: &KeyContext) -> Result<(DataKey, WrappedKey), KeyError> {
        self.time(|| self.inner.generate(ctx))
    }
    fn generate_sized(
        &self,
        ctx: &KeyContext,
        bytes: u64,
    ) -> Result<(DataKey, WrappedKey), KeyError> {
        self.time(|| self.inner.generate_sized(ctx, bytes))
    }
    fn unwrap(&self, wrapped: &WrappedKey, ctx: &KeyContext) -> Result<DataKey, KeyError> {
        self.time(|| self.inner.unwrap(wrapped, ctx))
    }
    fn wrap(&self, key: &DataKey, ctx: &KeyContext) -> Result<WrappedKey, KeyError> {
        self.time(|| self.inner.wrap(key, ctx))
    }
    fn rewrap(
        &self,
        wrapped: &WrappedKey,
        ctx: &KeyContext,
    ) -> Result<Option<WrappedKey>, KeyError> {
        self.time(|| self.inner.rewrap(wrapped, ctx))
    }
    fn shares_data_keys(&self) -> bool {
        self.inner.shares_data_keys()
    }
}

#[derive(serde::Deserialize)]
struct CredentialJson {
    access_key_id: String,
    secret_access_key: String,
}

/// One repetition of the `kms` workload: `connections` keep-alive connections for
/// `s.duration` after `s.warmup`. Returns the repetition and its request latencies (µs).
/// Any failed request fails the case (the error counts are in the message).
pub(crate) fn kms_rep(
    s: &KmsSettings,
    connections: usize,
    local: Option<&LocalKms>,
) -> Result<(Rep, Histogram<u64>), BenchError> {
    let target = match (&s.endpoint, local) {
        (Some(endpoint), _) => {
            let path = s.credentials.as_deref().ok_or_else(|| {
                BenchError::Spec("kms: `credentials` is required with `endpoint`".into())
            })?;
            let raw = std::fs::read(path).map_err(BenchError::io(path))?;
            let c: CredentialJson = serde_json::from_slice(&raw).map_err(|e| {
                BenchError::Spec(format!(
                    "{}: expected {{access_key_id, secret_access_key}}: {e}",
                    path.display()
                ))
            })?;
            kbench::Target::new(endpoint, &c.access_key_id, &c.secret_access_key, &s.region)?
        }
        (None, Some(l)) => l.target(&s.region)?,
        (None, None) => return Err(BenchError::Kms("no KMS endpoint".into())),
    };
    let r = kbench::run(kbench::Config {
        target,
        key_id: s.key_id.clone(),
        workload: s.op,
        connections,
        duration: s.duration,
        warmup: s.warmup,
        client_threads: s.client_threads,
    })?;
    if r.error_count > 0 {
        return Err(BenchError::Kms(format!(
            "{} of the requests to {} failed: {:?}",
            r.error_count, r.endpoint, r.errors
        )));
    }
    Ok((
        Rep {
            bytes: 0,
            ops: r.requests,
            secs: r.duration_s,
        },
        r.histogram,
    ))
}
