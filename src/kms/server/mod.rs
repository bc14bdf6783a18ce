//! The local KMS server (`volcrypt kms serve`): SigV4-authenticated AWS KMS JSON protocol over
//! HTTP, with a key model that follows AWS's documented semantics.
//!
//! | module | owns |
//! |---|---|
//! | [`sigv4`] | request signature verification (and a signer for clients) |
//! | [`blob`] | the self-describing, versioned ciphertext blob |
//! | [`model`] | keys, specs, states, usages, rotation: plain data and pure rules |
//! | `store`, `persist` | SQLite keystore; key records sealed under the root key |
//! | `registry` | in-memory state, written through to the keystore |
//! | `audit` | the CloudTrail-like request log |
//! | `ops` | one handler per operation, and authorization (policies, grants) |
//! | `service` | data dir, credentials, dispatch; transport-free |
//! | `http` | axum transport, request ids, error bodies |
//! | `quota` | the optional request quota (`ThrottlingException`) |
//! | `tls` | HTTPS: supplied or self-signed certificates, the TLS accept loop |
//!
//! It may use `crypto` and `kms::wire`, never `keys` or `engine`.

pub mod audit;
pub mod blob;
mod config;
mod http;
pub mod model;
mod ops;
mod persist;
mod quota;
mod registry;
mod service;
pub mod sigv4;
mod store;
mod tls;

pub use audit::{query as audit_query, AuditEvent};
pub use config::{Clock, ScaledClock, ServerConfig, TlsFiles};
pub use http::{check_config, router, run_until, run_until_with, start, RunningServer};
pub use registry::{Alias, Grant, State};
pub use service::{Caller, CredentialFile, Kms, ServerError};
pub use tls::{ServerTls, CA_FILE};
