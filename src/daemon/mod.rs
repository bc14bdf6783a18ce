//! The volcrypt daemon (`volcrypt daemon`): a long-running job service. Clients submit
//! encrypt / rekey / rewrap / decrypt / verify jobs over an HTTP/JSON control API on a Unix
//! socket; jobs are kept in a SQLite store and resumed from each volume's own checkpoint
//! after a restart; a bounded number run at once on one shared rayon pool, under per-job and
//! global bandwidth limits; Prometheus metrics on loopback TCP; systemd readiness.
//!
//! | module | owns |
//! |---|---|
//! | `config` | the TOML configuration, defaults, validation naming the key |
//! | `model` | job spec, states and record (plain data) |
//! | `spec` | checking a submitted spec against its operation |
//! | `store` | the SQLite job store (one active job per volume, enforced by an index) |
//! | `throttle` | token buckets for the bandwidth limits |
//! | `control` | a running job's progress, pause, cancel and throttling (the engine's `Progress`) |
//! | `keys` | key files and cached, instrumented KMS providers |
//! | `exec` | running or resuming one job on the engine |
//! | `service` | admission, scheduler, workers, control verbs, drain, reload |
//! | `view` | the API's job view (percent, chunks, throughput, ETA) |
//! | `api` | HTTP routes and JSON errors |
//! | `server` | sockets, signals, sd_notify |
//! | `client` | the HTTP client the CLI's `submit`/`jobs`/`status`/`cancel` use |

pub mod api;
pub mod client;
pub mod config;
pub mod control;
pub mod exec;
pub mod keys;
pub mod model;
pub mod server;
pub mod service;
pub mod spec;
pub mod store;
pub mod throttle;
pub mod view;

pub use model::{JobRecord, JobSpec, JobState, Op};
pub use server::run;

/// Why the daemon could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The job store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A socket, thread or pool could not be set up.
    #[error("{0}")]
    Start(String),
    /// Signal handlers could not be installed.
    #[error("installing signal handlers: {0}")]
    Signals(std::io::Error),
}

/// The default control socket (`VOLCRYPT_SOCKET` overrides it for clients).
pub const DEFAULT_SOCKET: &str = "/run/volcrypt/volcrypt.sock";
