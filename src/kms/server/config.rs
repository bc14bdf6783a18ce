//! Server configuration and the server's clock.
//!
//! KMS time can run faster than wall time (`day_seconds` < 86400) so tests can watch a 7-day
//! deletion window or a 90-day rotation period pass in seconds. SigV4's clock-skew check
//! always uses the real clock.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Everything `volcrypt kms serve` can be told.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Listen address (loopback by default).
    pub addr: SocketAddr,
    /// Keystore, root key, credentials and audit log live here.
    pub data_dir: PathBuf,
    /// A root key file supplied by the operator (otherwise `<data_dir>/root.key`).
    pub root_key_file: Option<PathBuf>,
    /// Extra credentials (a JSON list of credential objects) besides the admin one.
    pub credentials_file: Option<PathBuf>,
    /// The region in ARNs.
    pub region: String,
    /// The account of the admin principal and of created keys.
    pub account_id: String,
    /// Seconds in a KMS day (86400; smaller in tests).
    pub day_seconds: f64,
    /// How often due deletions and rotations are applied.
    pub task_interval: Duration,
    /// Aliases that create an AWS managed key on first use.
    pub managed_aliases: Vec<String>,
    /// TLS certificate and key (PEM), if serving HTTPS.
    pub tls: Option<TlsFiles>,
    /// Generate a CA and server certificate into the data dir and serve HTTPS with them.
    pub tls_self_signed: bool,
    /// Allow plaintext HTTP on a non-loopback address.
    pub insecure_allow_plaintext: bool,
    /// Cryptographic requests per second per account (`--request-quota`), AWS's shared
    /// quota: a token bucket with a one-second burst; over it, `ThrottlingException`.
    /// `None` (the default): no quota. `Some(0)`: every cryptographic request is throttled.
    pub request_quota: Option<u32>,
}

/// PEM files for TLS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

impl ServerConfig {
    /// Defaults: 127.0.0.1:4599, account 111122223333, us-east-1, real-time days, no request
    /// quota.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 4599)),
            data_dir: data_dir.into(),
            root_key_file: None,
            credentials_file: None,
            region: "us-east-1".into(),
            account_id: "111122223333".into(),
            day_seconds: 86_400.0,
            task_interval: Duration::from_secs(1),
            managed_aliases: vec!["alias/aws/volcrypt".into()],
            tls: None,
            tls_self_signed: false,
            insecure_allow_plaintext: false,
            request_quota: None,
        }
    }
}

/// The server's notion of time, in epoch seconds of *KMS time*.
pub trait Clock: Send + Sync {
    /// Now, in KMS time.
    fn now(&self) -> u64;
}

/// Wall time, optionally sped up: one KMS day passes every `day_seconds` real seconds.
#[derive(Debug)]
pub struct ScaledClock {
    start_real: f64,
    factor: f64,
    offset: Mutex<f64>,
}

fn real_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl ScaledClock {
    /// A clock where a day lasts `day_seconds` real seconds.
    pub fn new(day_seconds: f64) -> Self {
        let factor = if day_seconds > 0.0 {
            86_400.0 / day_seconds
        } else {
            1.0
        };
        ScaledClock {
            start_real: real_now(),
            factor,
            offset: Mutex::new(0.0),
        }
    }

    /// Moves KMS time forward by `secs` (tests).
    pub fn advance(&self, secs: u64) {
        let mut o = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        *o += secs as f64;
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> u64 {
        let elapsed = (real_now() - self.start_real).max(0.0);
        let offset = *self.offset.lock().unwrap_or_else(|p| p.into_inner());
        (self.start_real + elapsed * self.factor + offset) as u64
    }
}
