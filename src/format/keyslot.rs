//! Keyslots: a wrapped data key and what is needed to unwrap and check it.
//!
//! ```text
//! 0    u32        key version (0 = empty slot)
//! 4    u8         state (0 empty, 1 active, 2 pending: the target of a running rekey)
//! 5    u8         kind (1 customer key file, 2 KMS)
//! 6    u16        key id length
//! 8    u16        wrapped blob length
//! 10   u8         flags (bit 0: the data key is bound to the shared context, not this
//!                 volume's; see keys::KeyContext)
//! 11   [5]        reserved, zero
//! 16   [16]       key check value (KCV_v, see crypto::VolumeKeys::kcv)
//! 32   [32]       SHA-256 of the canonical encryption context
//! 64   [256]      key id: the KMS key ARN, or "keyfile:" + salted fingerprint
//! 320  [560]      wrapped data key: the KMS CiphertextBlob, or the key-file wrapping
//! ```
//! The wrapped blob is not secret (it is ciphertext); the plaintext data key never touches
//! disk.
//!
//! The *wrapping* (kind, the two lengths, key id and blob: [`WRAP_FIELDS`]) is outside the
//! header MAC, like LUKS2 keyslot areas are outside its digest. That lets `rewrap` replace it
//! through KMS `ReEncrypt` without ever seeing the plaintext data key (which it would need to
//! re-sign the header). Nothing is lost: whatever wrapping is present must unwrap to a key
//! whose check value matches the MAC-covered KCV, or the volume does not open.

use super::bytes::{Reader, Writer};
use super::FormatError;

/// Number of keyslots in a header.
pub const KEYSLOTS: usize = 4;
/// Encoded size of one keyslot.
pub const KEYSLOT_LEN: usize = 880;
/// Longest key id.
pub const MAX_KEY_ID_LEN: usize = 256;
/// Longest wrapped data key.
pub const MAX_BLOB_LEN: usize = 560;
/// Byte ranges of a keyslot that hold its wrapping and are left out of the header MAC.
pub const WRAP_FIELDS: [std::ops::Range<usize>; 2] = [5..10, 64..KEYSLOT_LEN];

/// Lifecycle of a keyslot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyslotState {
    /// Unused.
    Empty,
    /// Holds a key version that data is (or is being) sealed under.
    Active,
    /// Holds the target key of a running rekey.
    Pending,
}

/// Who wraps the data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// A customer-provided key file (like S3 SSE-C).
    KeyFile,
    /// A KMS key (envelope encryption).
    Kms,
}

/// One keyslot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyslot {
    /// Key version (0 for an empty slot).
    pub version: u32,
    /// Slot state.
    pub state: KeyslotState,
    /// Who wraps the key.
    pub kind: KeyKind,
    /// The data key is bound to the shared context (reused across volumes), not to this
    /// volume's own.
    pub shared_ctx: bool,
    /// Key check value.
    pub kcv: [u8; 16],
    /// SHA-256 of the canonical encryption context.
    pub ctx_hash: [u8; 32],
    /// Key id (ARN or key-file fingerprint).
    pub key_id: String,
    /// The wrapped data key.
    pub blob: Vec<u8>,
}

impl Keyslot {
    /// An unused slot.
    pub fn empty() -> Self {
        Keyslot {
            version: 0,
            state: KeyslotState::Empty,
            kind: KeyKind::KeyFile,
            shared_ctx: false,
            kcv: [0; 16],
            ctx_hash: [0; 32],
            key_id: String::new(),
            blob: Vec::new(),
        }
    }

    /// True for an unused slot.
    pub fn is_empty(&self) -> bool {
        self.state == KeyslotState::Empty
    }

    /// Checks lengths before encoding.
    pub fn validate(&self) -> Result<(), FormatError> {
        if self.key_id.len() > MAX_KEY_ID_LEN {
            return Err(FormatError::field("key id", "longer than 256 bytes"));
        }
        if self.blob.len() > MAX_BLOB_LEN {
            return Err(FormatError::field("wrapped key", "longer than 560 bytes"));
        }
        if self.is_empty() && (!self.key_id.is_empty() || !self.blob.is_empty()) {
            return Err(FormatError::field("keyslot", "an empty slot holds a key"));
        }
        if self.is_empty() != (self.version == 0) {
            return Err(FormatError::field("keyslot", "version and state disagree"));
        }
        Ok(())
    }

    pub(crate) fn encode_into(&self, out: &mut [u8]) {
        let mut w = Writer::new(out);
        if self.is_empty() {
            return;
        }
        w.u32(0, self.version);
        w.u8(
            4,
            match self.state {
                KeyslotState::Empty => 0,
                KeyslotState::Active => 1,
                KeyslotState::Pending => 2,
            },
        );
        w.u8(
            5,
            match self.kind {
                KeyKind::KeyFile => 1,
                KeyKind::Kms => 2,
            },
        );
        // Lengths were checked by `validate` (<= 560), so they fit in u16.
        w.u16(6, u16::try_from(self.key_id.len()).unwrap_or(0));
        w.u16(8, u16::try_from(self.blob.len()).unwrap_or(0));
        w.u8(10, u8::from(self.shared_ctx));
        w.put(16, &self.kcv);
        w.put(32, &self.ctx_hash);
        w.put(64, self.key_id.as_bytes());
        w.put(320, &self.blob);
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Self, FormatError> {
        let r = Reader::new(b, "keyslot");
        r.bytes(0, KEYSLOT_LEN)?;
        let state = match r.u8(4)? {
            0 => KeyslotState::Empty,
            1 => KeyslotState::Active,
            2 => KeyslotState::Pending,
            s => {
                return Err(FormatError::field(
                    "keyslot state",
                    format!("unknown state {s}"),
                ))
            }
        };
        if state == KeyslotState::Empty {
            r.zeros(0, KEYSLOT_LEN, "empty keyslot")?;
            return Ok(Keyslot::empty());
        }
        let kind = match r.u8(5)? {
            1 => KeyKind::KeyFile,
            2 => KeyKind::Kms,
            k => {
                return Err(FormatError::field(
                    "keyslot kind",
                    format!("unknown kind {k}"),
                ))
            }
        };
        let id_len = usize::from(r.u16(6)?);
        let blob_len = usize::from(r.u16(8)?);
        if id_len > MAX_KEY_ID_LEN || blob_len > MAX_BLOB_LEN {
            return Err(FormatError::field("keyslot", "length out of range"));
        }
        let flags = r.u8(10)?;
        if flags > 1 {
            return Err(FormatError::field(
                "keyslot flags",
                format!("unknown flags {flags:#x}"),
            ));
        }
        r.zeros(11, 5, "keyslot")?;
        r.zeros(
            64 + id_len,
            MAX_KEY_ID_LEN - id_len,
            "keyslot key id padding",
        )?;
        r.zeros(
            320 + blob_len,
            MAX_BLOB_LEN - blob_len,
            "keyslot blob padding",
        )?;
        let key_id = std::str::from_utf8(r.bytes(64, id_len)?)
            .map_err(|_| FormatError::field("keyslot key id", "not UTF-8"))?
            .to_owned();
        let slot = Keyslot {
            version: r.u32(0)?,
            state,
            kind,
            shared_ctx: flags == 1,
            kcv: r.array(16)?,
            ctx_hash: r.array(32)?,
            key_id,
            blob: r.bytes(320, blob_len)?.to_vec(),
        };
        slot.validate()?;
        Ok(slot)
    }
}
