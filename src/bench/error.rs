//! The error type of `volcrypt bench run` and of the report writers: a bad spec (naming the
//! key or value at fault), a failed scratch-volume operation, a key provider or KMS failure,
//! or a file that could not be written or read.
//!
//! Other bench modules add their variants at the end.

use std::path::PathBuf;

use crate::crypto::CryptoError;
use crate::engine::EngineError;
use crate::keys::KeyError;

/// Why a benchmark run (or writing / reading its report) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The spec is invalid: an unknown key, a bad value, a combination that cannot run.
    #[error("bench spec: {0}")]
    Spec(String),
    /// A job file is not valid TOML.
    #[error("job file {path}: {reason}")]
    JobFile {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// A file or directory could not be created, written or read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An operation on a scratch volume failed.
    #[error("{case}: {source}")]
    Engine {
        /// The case label.
        case: String,
        /// The engine's error.
        source: EngineError,
    },
    /// A key provider failed (creating a scratch key, the in-process KMS).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A cryptographic primitive failed (scratch keys, the cipher workload).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The KMS load generator could not run.
    #[error(transparent)]
    KmsBench(#[from] super::kms::BenchError),
    /// The in-process KMS server could not start, stop or be set up; or the KMS answered
    /// requests of a `kms` case with errors.
    #[error("KMS: {0}")]
    Kms(String),
    /// A measurement could not be recorded (histogram bounds, a thread that would not start).
    #[error("measurement: {0}")]
    Measure(String),
    /// A results file could not be serialized or parsed as JSON (`report.json`, `fio.json`).
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The serializer's or parser's error.
        source: serde_json::Error,
    },
    /// A `report.json` of a newer layout than this volcrypt reads.
    #[error("{path}: report version {found}, this volcrypt reads up to {supported}")]
    ReportVersion {
        /// The file.
        path: PathBuf,
        /// Its `report_version`.
        found: u32,
        /// [`super::model::REPORT_VERSION`].
        supported: u32,
    },
    /// A plot could not be drawn.
    #[error("plot {name}: {message}")]
    Plot {
        /// The plot's file name.
        name: String,
        /// What plotters said.
        message: String,
    },
}

impl BenchError {
    /// An [`BenchError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BenchError {
        let path = path.into();
        move |source| BenchError::Io { path, source }
    }

    /// An [`BenchError::Engine`] for the case labelled `case`.
    pub fn engine(case: &str) -> impl FnOnce(EngineError) -> BenchError + '_ {
        move |source| BenchError::Engine {
            case: case.to_owned(),
            source,
        }
    }
}
