//! The daemon's configuration file (TOML, `volcrypt daemon --config`): parsing, defaults,
//! validation, and which changes a SIGHUP reload can apply ([`Config::reload_diff`]).
//!
//! Every section and key is optional; a missing one takes its default ([`Config::defaults`],
//! the values written out in `scripts/volcrypt.toml`). Unknown sections and keys, values of
//! the wrong type and values out of range are errors that name the file and the key as
//! `section.key`. The file is first deserialized into private mirror structs (serde, every
//! field optional, unknown fields denied; `config_raw.rs`), then checked into the public
//! types (`config_check.rs`).
//!
//! It must not open sockets, create directories, or read any file but the config itself and
//! the existence of `kms.ca_bundle`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::crypto::Backend;
use crate::format::Resilience;
use crate::keys::CacheLimits;

#[path = "config_check.rs"]
mod check;
#[path = "config_raw.rs"]
mod raw;
#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

use check::Check;
use raw::RawConfig;

/// A configuration error, naming the file and the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A key has a bad value, or is unknown, or the file is not TOML.
    #[error("{path}: {key}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key at fault, as `section.key` (`jobs.max_concurrent`), or `-` for syntax.
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
}

/// `[kms]`: how to reach KMS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KmsConfig {
    /// Endpoint URL (`endpoint`); `None`: the standard AWS resolution.
    pub endpoint: Option<String>,
    /// Region (`region`); `None`: the standard chain.
    pub region: Option<String>,
    /// Credentials profile (`profile`); `None`: the standard chain.
    pub profile: Option<String>,
    /// CA bundle for HTTPS endpoints (`ca_bundle`).
    pub ca_bundle: Option<PathBuf>,
    /// Default KMS key for new volumes (`key`); `None`: alias/aws/volcrypt.
    pub key: Option<String>,
    /// Per-call timeout (`timeout_secs`, default 10).
    pub timeout: Duration,
}

/// `[engine]`: defaults of the data pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Chunk size for new volumes (`chunk_size`, default 64K).
    pub chunk_size: u64,
    /// Threads of the shared cipher pool (`threads`, default: all cores).
    pub threads: usize,
    /// `io`: "auto" (default), "uring", "mmap" or "pread".
    pub io: String,
    /// `queue_depth` of the uring engine (default 32).
    pub queue_depth: u32,
    /// `crypto` (default ring).
    pub crypto: Backend,
    /// `resilience` (default journal).
    pub resilience: Resilience,
}

/// `[jobs]`: scheduling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsConfig {
    /// Jobs running at once (`max_concurrent`, default 2).
    pub max_concurrent: usize,
    /// All jobs together, bytes/s (`bandwidth`, "200M"); 0: unlimited (default).
    pub bandwidth: u64,
    /// Each job, bytes/s (`job_bandwidth`); 0: unlimited (default).
    pub job_bandwidth: u64,
}

/// `[daemon]`: where it listens and keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    /// Control socket (`socket`, default /run/volcrypt/volcrypt.sock).
    pub socket: PathBuf,
    /// Prometheus metrics address (`metrics`, default 127.0.0.1:9477); `None` when "off".
    pub metrics: Option<SocketAddr>,
    /// Job store and default header directory (`data_dir`, default /var/lib/volcrypt).
    pub data_dir: PathBuf,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `[kms]`.
    pub kms: KmsConfig,
    /// `[cache]` (the data-key cache, [`CacheLimits`]).
    pub cache: CacheLimits,
    /// `[engine]`.
    pub engine: EngineConfig,
    /// `[jobs]`.
    pub jobs: JobsConfig,
    /// `[daemon]`.
    pub daemon: DaemonConfig,
}

/// The `io` engine names accepted in `[engine]`.
pub const IO_ENGINES: [&str; 4] = ["auto", "uring", "mmap", "pread"];
/// The default per-call KMS timeout (`kms.timeout_secs`).
pub const DEFAULT_KMS_TIMEOUT: Duration = Duration::from_secs(10);
/// The default control socket (`daemon.socket`).
pub const DEFAULT_SOCKET: &str = "/run/volcrypt/volcrypt.sock";
/// The default metrics address (`daemon.metrics`).
pub const DEFAULT_METRICS: &str = "127.0.0.1:9477";
/// The default state directory (`daemon.data_dir`).
pub const DEFAULT_DATA_DIR: &str = "/var/lib/volcrypt";

/// The cores of this machine (`engine.threads = 0`); 1 if the count is unknown.
fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            chunk_size: 64 << 10,
            threads: all_cores(),
            io: "auto".into(),
            queue_depth: 32,
            crypto: Backend::Ring,
            resilience: Resilience::Journal,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            max_concurrent: 2,
            bandwidth: 0,
            job_bandwidth: 0,
        }
    }
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            socket: DEFAULT_SOCKET.into(),
            metrics: DEFAULT_METRICS.parse().ok(),
            data_dir: DEFAULT_DATA_DIR.into(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::defaults()
    }
}

impl Config {
    /// Every key at its default (what an empty file gives).
    pub fn defaults() -> Config {
        Config {
            kms: KmsConfig {
                timeout: DEFAULT_KMS_TIMEOUT,
                ..KmsConfig::default()
            },
            cache: CacheLimits::default(),
            engine: EngineConfig::default(),
            jobs: JobsConfig::default(),
            daemon: DaemonConfig::default(),
        }
    }

    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses and validates `text` (`path` names the file in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        // Syntax first (no key to name), then the shape (unknown keys, types) with positions.
        text.parse::<toml::Table>()
            .map_err(|e| raw::toml_error(path, text, &e, false))?;
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| raw::toml_error(path, text, &e, true))?;
        Check { path }.config(raw)
    }

    /// The keys that differ between `self` (running) and `new` (reloaded) but cannot be
    /// applied by a SIGHUP reload, as `section.key`, in file order. Reloadable, so never
    /// listed: the whole `[cache]` section, `jobs.bandwidth` and `jobs.job_bandwidth`.
    /// (`daemon.allow_remote_metrics` is not kept; a change of it shows as `daemon.metrics`
    /// only if the address changed too.)
    pub fn reload_diff(&self, new: &Config) -> Vec<&'static str> {
        let (a, b) = (self, new);
        [
            ("kms.endpoint", a.kms.endpoint != b.kms.endpoint),
            ("kms.region", a.kms.region != b.kms.region),
            ("kms.profile", a.kms.profile != b.kms.profile),
            ("kms.ca_bundle", a.kms.ca_bundle != b.kms.ca_bundle),
            ("kms.key", a.kms.key != b.kms.key),
            ("kms.timeout_secs", a.kms.timeout != b.kms.timeout),
            (
                "engine.chunk_size",
                a.engine.chunk_size != b.engine.chunk_size,
            ),
            ("engine.threads", a.engine.threads != b.engine.threads),
            ("engine.io", a.engine.io != b.engine.io),
            (
                "engine.queue_depth",
                a.engine.queue_depth != b.engine.queue_depth,
            ),
            ("engine.crypto", a.engine.crypto != b.engine.crypto),
            (
                "engine.resilience",
                a.engine.resilience != b.engine.resilience,
            ),
            (
                "jobs.max_concurrent",
                a.jobs.max_concurrent != b.jobs.max_concurrent,
            ),
            ("daemon.socket", a.daemon.socket != b.daemon.socket),
            ("daemon.metrics", a.daemon.metrics != b.daemon.metrics),
            ("daemon.data_dir", a.daemon.data_dir != b.daemon.data_dir),
        ]
        .into_iter()
        .filter_map(|(key, differs)| differs.then_some(key))
        .collect()
    }
}
