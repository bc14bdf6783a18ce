//! The operations a plan is made for, and the KMS calls each costs per volume (DESIGN §5).

use serde::Serialize;

/// The operation to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Plain to encrypted.
    Encrypt,
    /// New data key and a full data pass.
    Rekey,
    /// New wrapping key, header only.
    Rewrap,
    /// Encrypted to plain.
    Decrypt,
    /// Authenticate every chunk.
    Verify,
}

/// KMS calls one volume costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KmsCalls {
    /// GenerateDataKey.
    pub generate_data_key: u64,
    /// Decrypt.
    pub decrypt: u64,
    /// ReEncrypt.
    pub re_encrypt: u64,
}

impl Operation {
    /// The workload name in results.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Encrypt => "encrypt",
            Operation::Rekey => "rekey",
            Operation::Rewrap => "rewrap",
            Operation::Decrypt => "decrypt",
            Operation::Verify => "verify",
        }
    }

    /// KMS calls per volume (DESIGN §5).
    pub fn kms_calls(self) -> KmsCalls {
        let (generate_data_key, decrypt, re_encrypt) = match self {
            Operation::Encrypt => (1, 0, 0),
            Operation::Rekey => (1, 1, 0),
            Operation::Rewrap => (0, 0, 1),
            Operation::Decrypt | Operation::Verify => (0, 1, 0),
        };
        KmsCalls {
            generate_data_key,
            decrypt,
            re_encrypt,
        }
    }
}

impl std::str::FromStr for Operation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            Operation::Encrypt,
            Operation::Rekey,
            Operation::Rewrap,
            Operation::Decrypt,
            Operation::Verify,
        ]
        .into_iter()
        .find(|o| o.name() == s)
        .ok_or_else(|| {
            format!("unknown operation '{s}' (expected encrypt, rekey, rewrap, decrypt or verify)")
        })
    }
}
