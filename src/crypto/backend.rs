//! Which AES-GCM implementation seals and opens chunks.
//!
//! `ring` is the default: small, audited, and the crate the rest of the stack (rustls) already
//! trusts. `aws-lc` uses AWS-LC's VAES-512 path, which is faster on AVX-512 machines. Both sit
//! behind the same [`super::ChunkKey`] interface and produce identical ciphertext and tags.

use std::fmt;
use std::str::FromStr;

/// An AES-256-GCM implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// `ring` (BoringSSL assembly, VAES-AVX2 on x86-64). The default.
    #[default]
    Ring,
    /// `aws-lc-rs` (AWS-LC assembly, VAES-AVX512 on x86-64).
    AwsLc,
}

impl Backend {
    /// Every backend, in display order.
    pub const ALL: [Backend; 2] = [Backend::Ring, Backend::AwsLc];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Ring => "ring",
            Backend::AwsLc => "aws-lc",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ring" => Ok(Backend::Ring),
            "aws-lc" | "aws-lc-rs" | "awslc" => Ok(Backend::AwsLc),
            other => Err(format!(
                "unknown crypto backend '{other}' (expected 'ring' or 'aws-lc')"
            )),
        }
    }
}
