//! volcrypt: EBS-style encryption of volumes at rest.
//!
//! Every volume gets its own data key, stored only wrapped (by a KMS key or a customer key
//! file); data is sealed in fixed-size chunks with AES-256-GCM, in parallel, and never moves:
//! ciphertext replaces plaintext in place, with tags in a table beside it.
//!
//! Layers (a module only uses modules above it in this list):
//!
//! ```text
//! crypto      chunk cipher, HKDF key schedule, nonces, secrets (only importer of ring/aws-lc)
//! io          BlockIo engines: mmap, pread, mem, null (only module with `unsafe`)
//! format      on-disk format v1: header A/B, keyslots, tag table, geometry, AAD (pure)
//! keys        KeyProvider: customer key files; KMS later
//! kms         AWS KMS JSON wire types; the local KMS server (uses crypto only)
//! engine      windows, pipeline, volume open/commit, encrypt/decrypt/verify/cat/info
//! metrics     Prometheus/OpenMetrics exposition: stage histograms, KMS calls, cache, jobs
//! bench       load generators, `bench run`, reports, capacity plans (uses engine, kms, keys)
//! daemon      job service: config, SQLite job store, scheduler, bandwidth limits, control
//!             API on a Unix socket and its client, signals, sd_notify (uses engine, metrics)
//! cli         clap arguments, validation, progress, dispatch (anyhow lives only here)
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod crypto;
pub mod daemon;
pub mod engine;
pub mod format;
pub mod io;
pub mod keys;
pub mod kms;
pub mod metrics;
