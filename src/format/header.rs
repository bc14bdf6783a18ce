//! The 4 KiB volume header, written alternately to slots A and B.
//!
//! ```text
//! 0     [8]   magic "VOLCRYPT"            96    u8    frozen operation
//! 8     u16   format version (1)          97    u8    flags (bit 0: out-of-place output)
//! 10    u8    slot (0 = A, 1 = B)         98    [6]   reserved
//! 11    u8    layout (0 att., 1 det., 2t) 104   u64   meta_off
//! 12    u32   header length (4096)        112   u64   journal_off
//! 16    u64   seqno                       120   u64   journal_slot_len
//! 24    [16]  volume uuid                 128   u64   tag_off
//! 40    u64   metadata device size        136   u64   tag_len
//! 48    u64   data_len                    144   u64   hdr_a_off
//! 56    u8    chunk_log2                  152   u64   hdr_b_off
//! 57    u8    group_log2                  160   u64   created (unix s)
//! 58    u8    state                       168   u64   updated (unix s)
//! 59    u8    resilience                  176   [32]  source id (out-of-place encrypt)
//!                                         208   [48]  reserved
//! 60    u32   window_chunks               256   4 x 880 keyslots
//! 64    u32   cur_ver                     3776  [280] reserved
//! 68    u32   tgt_ver                     4056  u32   CRC32C of bytes 0..4056
//! 72    u64   progress (chunks)           4060  [4]   reserved
//! 80    u64   journal_seq_applied         4064  [32]  HMAC-SHA256 of bytes 0..4064
//! 88    u64   nonce_hwm                         under K_meta of the newest key version
//! ```
//! The CRC catches torn writes cheaply and without a key; the HMAC stops forged or replayed
//! state (cryptsetup CVE-2021-4122). The HMAC input is bytes 0..4064 with each keyslot's
//! wrapping fields and the CRC zeroed (see `keyslot`): the wrapping can be replaced in place without the
//! key ([`UnverifiedHeader::rewrapped`]), and it is authenticated by the KCV instead. Open picks the highest seqno whose CRC and MAC verify.
//! Every region offset is stored *and* recomputed from the geometry (for the tail layout, from
//! the geometry and the recorded metadata device size); a mismatch is rejected.

use super::bytes::{Reader, Writer};
use super::keyslot::{KEYSLOT_LEN, WRAP_FIELDS};
use super::{
    FormatError, Geometry, Keyslot, Layout, LayoutKind, FORMAT_VERSION, HEADER_LEN, KEYSLOTS, MAGIC,
};
use crate::crypto::{MetaKey, MAC_LEN};

const KEYSLOTS_OFF: usize = 256;
const CRC_OFF: usize = 4056;
const MAC_OFF: usize = 4064;

/// Which of the two header copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Slot {
    /// Header slot A.
    A,
    /// Header slot B.
    B,
}

impl Slot {
    /// The other slot.
    pub fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Slot::A => "A",
            Slot::B => "B",
        })
    }
}

macro_rules! byte_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $n:expr => $s:expr),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            pub(crate) fn to_byte(self) -> u8 { match self { $($name::$v => $n),+ } }
            pub(crate) fn from_byte(b: u8) -> Result<Self, FormatError> {
                match b { $($n => Ok($name::$v),)+ _ => Err(FormatError::field(stringify!($name), format!("unknown value {b}"))) }
            }
            /// The lowercase name used in `info` output.
            pub fn name(self) -> &'static str { match self { $($name::$v => $s),+ } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.name()) }
        }
    };
}

byte_enum!(
    /// What the volume's data is, as far as the MAC-protected header says.
    VolumeState {
        /// All plaintext (metadata kept).
        Plain = 0 => "plain",
        /// Chunks below `progress` are sealed under `tgt_ver`, the rest is plaintext.
        Encrypting = 1 => "encrypting",
        /// All chunks sealed under `cur_ver`.
        Encrypted = 2 => "encrypted",
        /// Chunks below `progress` are under `tgt_ver`, the rest under `cur_ver`.
        Rekeying = 3 => "rekeying",
        /// Chunks below `progress` are plaintext, the rest under `cur_ver`.
        Decrypting = 4 => "decrypting",
    }
);

byte_enum!(
    /// How in-place operations protect against crashes.
    Resilience {
        /// No journal: safe against SIGTERM/SIGINT, not against SIGKILL or power loss.
        None = 0 => "none",
        /// Journal every window before writing it in place.
        Journal = 1 => "journal",
    }
);

byte_enum!(
    /// The operation whose parameters are frozen in the header.
    Operation {
        /// None running.
        Idle = 0 => "idle",
        /// Plain to encrypted.
        Encrypt = 1 => "encrypt",
        /// Encrypted to plain.
        Decrypt = 2 => "decrypt",
        /// Key version v to v+1.
        Rekey = 3 => "rekey",
    }
);

/// A decoded header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Which slot this copy was read from or will be written to.
    pub slot: Slot,
    /// Monotonic write counter; the highest valid one wins.
    pub seqno: u64,
    /// Never changes; bound into key derivation and every chunk's AAD.
    pub uuid: [u8; 16],
    /// Chunk geometry.
    pub geometry: Geometry,
    /// Region offsets.
    pub layout: Layout,
    /// Data state.
    pub state: VolumeState,
    /// Crash protection of the running operation.
    pub resilience: Resilience,
    /// The operation whose parameters are frozen.
    pub operation: Operation,
    /// Key version of chunks at or above `progress` (0 = plaintext).
    pub cur_ver: u32,
    /// Key version of chunks below `progress` (0 = plaintext).
    pub tgt_ver: u32,
    /// Every chunk below this index is in the target state.
    pub progress: u64,
    /// Sequence number of the last journal record applied.
    pub journal_seq_applied: u64,
    /// Nonce counter values below this may have been used.
    pub nonce_hwm: u64,
    /// Creation time (unix seconds).
    pub created: u64,
    /// Last update time (unix seconds).
    pub updated: u64,
    /// This volume is the output of an out-of-place encrypt still in progress: chunks at or
    /// above `progress` have not been copied yet (they are not the source's plaintext).
    pub out_of_place: bool,
    /// Identity of that encrypt's source (SHA-256 of path, size and modification time), so a
    /// resume from a different source is refused. Zero otherwise.
    pub source_id: [u8; 32],
    /// Wrapped data keys.
    pub keyslots: [Keyslot; KEYSLOTS],
}

/// A header whose CRC verified but whose MAC has not been checked yet.
#[derive(Debug, Clone)]
pub struct UnverifiedHeader {
    header: Header,
    signed: Vec<u8>,
    mac: [u8; MAC_LEN],
}

impl UnverifiedHeader {
    /// The header's fields, **not authenticated**: fit for `info`, never for decisions.
    pub fn peek(&self) -> &Header {
        &self.header
    }

    /// Checks the MAC under `key` and releases the header.
    pub fn verify(self, key: &MetaKey) -> Result<Header, FormatError> {
        key.verify(&self.signed, &self.mac)
            .map_err(|_| FormatError::BadMac(self.header.slot))?;
        Ok(self.header)
    }

    /// This header with the wrapping of key version `ver` replaced (same seqno, same MAC,
    /// fresh CRC), encoded for writing back to its own slot. Needs no key: the wrapping is
    /// outside the MAC. The caller must make sure the new wrapping holds the same data key.
    pub fn rewrapped(&self, ver: u32, wrapping: &Keyslot) -> Result<Vec<u8>, FormatError> {
        let mut h = self.header.clone();
        let slot = h
            .keyslots
            .iter_mut()
            .find(|k| !k.is_empty() && k.version == ver)
            .ok_or_else(|| FormatError::field("keyslot", format!("no keyslot for v{ver}")))?;
        slot.kind = wrapping.kind;
        slot.key_id.clone_from(&wrapping.key_id);
        slot.blob.clone_from(&wrapping.blob);
        let mut out = h.encode_unsigned()?;
        debug_assert!(
            mac_input(&out) == self.signed,
            "rewrapping changed signed bytes"
        );
        out[MAC_OFF..].copy_from_slice(&self.mac);
        Ok(out)
    }
}

/// The bytes the header MAC covers: 0..4064 with every keyslot's wrapping and the CRC (which
/// covers the wrapping) zeroed.
pub(super) fn mac_input(encoded: &[u8]) -> Vec<u8> {
    let mut m = encoded[..MAC_OFF].to_vec();
    m[CRC_OFF..CRC_OFF + 4].fill(0);
    for i in 0..KEYSLOTS {
        let base = KEYSLOTS_OFF + i * KEYSLOT_LEN;
        for r in &WRAP_FIELDS {
            m[base + r.start..base + r.end].fill(0);
        }
    }
    m
}

impl Header {
    /// The key version whose metadata key signs this header: the newest non-empty keyslot.
    pub fn mac_version(&self) -> Option<u32> {
        self.keyslots
            .iter()
            .filter(|k| !k.is_empty())
            .map(|k| k.version)
            .max()
    }

    /// The keyslot holding key version `ver`.
    pub fn keyslot(&self, ver: u32) -> Option<&Keyslot> {
        self.keyslots
            .iter()
            .find(|k| !k.is_empty() && k.version == ver)
    }

    /// The offset of this header's slot on the metadata device.
    pub fn offset(&self) -> u64 {
        match self.slot {
            Slot::A => self.layout.hdr_a_off,
            Slot::B => self.layout.hdr_b_off,
        }
    }

    /// Checks cross-field invariants.
    pub fn validate(&self) -> Result<(), FormatError> {
        self.geometry.validate()?;
        let expect = Layout::compute(&self.geometry, self.layout.kind)?;
        if expect != self.layout {
            return Err(FormatError::field(
                "layout",
                "region offsets disagree with geometry",
            ));
        }
        if self.progress > self.geometry.n_chunks() {
            return Err(FormatError::field("progress", "beyond the last chunk"));
        }
        for (i, k) in self.keyslots.iter().enumerate() {
            k.validate()?;
            let dup = self.keyslots[..i]
                .iter()
                .any(|o| !o.is_empty() && o.version == k.version);
            if !k.is_empty() && dup {
                return Err(FormatError::field(
                    "keyslot",
                    "two keyslots hold the same key version",
                ));
            }
        }
        for ver in [self.cur_ver, self.tgt_ver] {
            if ver != 0 && self.keyslot(ver).is_none() {
                return Err(FormatError::field(
                    "key version",
                    format!("no keyslot for v{ver}"),
                ));
            }
        }
        Ok(())
    }

    /// Encodes the header and signs it with `key`.
    pub fn encode(&self, key: &MetaKey) -> Result<Vec<u8>, FormatError> {
        let mut out = self.encode_unsigned()?;
        let mac = key.sign(&mac_input(&out));
        out[MAC_OFF..].copy_from_slice(&mac);
        Ok(out)
    }

    /// Encodes everything but the MAC (left zero).
    fn encode_unsigned(&self) -> Result<Vec<u8>, FormatError> {
        self.validate()?;
        let mut out = vec![0u8; HEADER_LEN];
        let mut w = Writer::new(&mut out);
        let l = &self.layout;
        let g = &self.geometry;
        w.put(0, MAGIC);
        w.u16(8, FORMAT_VERSION);
        w.u8(10, u8::from(self.slot == Slot::B));
        w.u8(11, l.kind.to_byte());
        w.u32(12, 4096);
        w.u64(16, self.seqno);
        w.put(24, &self.uuid);
        w.u64(40, l.device_size);
        w.u64(48, g.data_len);
        w.u8(56, g.chunk_log2);
        w.u8(57, g.group_log2);
        w.u8(58, self.state.to_byte());
        w.u8(59, self.resilience.to_byte());
        w.u32(60, g.window_chunks);
        w.u32(64, self.cur_ver);
        w.u32(68, self.tgt_ver);
        w.u64(72, self.progress);
        w.u64(80, self.journal_seq_applied);
        w.u64(88, self.nonce_hwm);
        w.u8(96, self.operation.to_byte());
        w.u8(97, u8::from(self.out_of_place));
        w.put(176, &self.source_id);
        let offs = [
            l.meta_off,
            l.journal_off,
            l.journal_slot_len,
            l.tag_off,
            l.tag_len,
            l.hdr_a_off,
            l.hdr_b_off,
            self.created,
            self.updated,
        ];
        for (i, v) in offs.iter().enumerate() {
            w.u64(104 + 8 * i, *v);
        }
        for (i, k) in self.keyslots.iter().enumerate() {
            let off = KEYSLOTS_OFF + i * KEYSLOT_LEN;
            k.encode_into(&mut out[off..off + KEYSLOT_LEN]);
        }
        let crc = crc32c::crc32c(&out[..CRC_OFF]);
        out[CRC_OFF..CRC_OFF + 4].copy_from_slice(&crc.to_le_bytes());
        Ok(out)
    }

    /// Parses and CRC-checks a header read from `slot`. The MAC is checked later, once the
    /// key is known, through [`UnverifiedHeader::verify`].
    pub fn decode(bytes: &[u8], slot: Slot) -> Result<UnverifiedHeader, FormatError> {
        let r = Reader::new(bytes, "header");
        r.bytes(0, HEADER_LEN)?;
        if bytes.len() != HEADER_LEN {
            return Err(FormatError::field("header", "longer than 4096 bytes"));
        }
        if r.bytes(0, 8)? != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = r.u16(8)?;
        if version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let crc = crc32c::crc32c(r.bytes(0, CRC_OFF)?);
        if crc != r.u32(CRC_OFF)? {
            return Err(FormatError::BadChecksum(slot));
        }
        let stored_slot = if r.u8(10)? == 0 { Slot::A } else { Slot::B };
        if r.u8(10)? > 1 || stored_slot != slot {
            return Err(FormatError::field("slot", "header found in the wrong slot"));
        }
        if r.u32(12)? != 4096 {
            return Err(FormatError::field("header length", "not 4096"));
        }
        let kind = match r.u8(11)? {
            0 => LayoutKind::Attached,
            1 => LayoutKind::Detached,
            2 => LayoutKind::Tail {
                device_size: r.u64(40)?,
            },
            k => return Err(FormatError::field("layout", format!("unknown layout {k}"))),
        };
        let flags = r.u8(97)?;
        if flags > 1 {
            return Err(FormatError::field(
                "header flags",
                format!("unknown flags {flags:#x}"),
            ));
        }
        r.zeros(98, 6, "header")?;
        r.zeros(208, 48, "header")?;
        r.zeros(3776, CRC_OFF - 3776, "header")?;
        r.zeros(CRC_OFF + 4, 4, "header")?;
        let geometry = Geometry {
            data_len: r.u64(48)?,
            chunk_log2: r.u8(56)?,
            group_log2: r.u8(57)?,
            window_chunks: r.u32(60)?,
        };
        let layout = Layout {
            kind,
            meta_off: r.u64(104)?,
            journal_off: r.u64(112)?,
            journal_slot_len: r.u64(120)?,
            tag_off: r.u64(128)?,
            tag_len: r.u64(136)?,
            hdr_a_off: r.u64(144)?,
            hdr_b_off: r.u64(152)?,
            device_size: r.u64(40)?,
        };
        let mut keyslots: [Keyslot; KEYSLOTS] = std::array::from_fn(|_| Keyslot::empty());
        for (i, k) in keyslots.iter_mut().enumerate() {
            *k = Keyslot::decode(r.bytes(KEYSLOTS_OFF + i * KEYSLOT_LEN, KEYSLOT_LEN)?)?;
        }
        let header = Header {
            slot,
            seqno: r.u64(16)?,
            uuid: r.array(24)?,
            geometry,
            layout,
            state: VolumeState::from_byte(r.u8(58)?)?,
            resilience: Resilience::from_byte(r.u8(59)?)?,
            operation: Operation::from_byte(r.u8(96)?)?,
            cur_ver: r.u32(64)?,
            tgt_ver: r.u32(68)?,
            progress: r.u64(72)?,
            journal_seq_applied: r.u64(80)?,
            nonce_hwm: r.u64(88)?,
            created: r.u64(160)?,
            updated: r.u64(168)?,
            out_of_place: flags & 1 == 1,
            source_id: r.array(176)?,
            keyslots,
        };
        header.validate()?;
        Ok(UnverifiedHeader {
            header,
            signed: mac_input(bytes),
            mac: r.array(MAC_OFF)?,
        })
    }
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;
