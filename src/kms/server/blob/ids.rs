//! The two identifiers a ciphertext blob carries in clear: the KMS key's UUID and the key
//! material's id.
//!
//! - [`KeyUuid`]: 16 bytes; printed as the lowercase hyphenated form KMS uses for key ids
//!   (`1234abcd-12ab-34cd-56ef-1234567890ab`). Generated as a random version-4 UUID.
//! - [`MaterialId`]: 32 bytes; printed as 64 lowercase hex digits, the form of KMS's
//!   `KeyMaterialId` / `CurrentKeyMaterialId` (botocore `BackingKeyIdType`: 64 chars,
//!   `^[a-f0-9]+$`). Random per material, so it reveals nothing about the material.
//!
//! Neither is secret: both derive `Debug` and `Copy`.

use std::fmt;
use std::str::FromStr;

use crate::crypto::{random_bytes, CryptoError};

/// A KMS key id as 16 raw bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyUuid(pub [u8; 16]);

impl KeyUuid {
    /// A fresh random (version 4, RFC 4122 variant) UUID.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut b = [0u8; 16];
        random_bytes(&mut b)?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Ok(KeyUuid(b))
    }
}

impl fmt::Display for KeyUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyUuid({self})")
    }
}

/// The error of parsing a [`KeyUuid`] or [`MaterialId`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid identifier")]
pub struct IdParseError;

impl FromStr for KeyUuid {
    type Err = IdParseError;

    /// Parses the hyphenated 8-4-4-4-12 form (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|&i| bytes.get(i) != Some(&b'-')) {
            return Err(IdParseError);
        }
        let digits: String = s.chars().filter(|c| *c != '-').collect();
        let mut out = [0u8; 16];
        decode_hex(&digits, &mut out)?;
        Ok(KeyUuid(out))
    }
}

/// The identifier of one key material of a KMS key, 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MaterialId(pub [u8; 32]);

impl MaterialId {
    /// A fresh random id.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut b = [0u8; 32];
        random_bytes(&mut b)?;
        Ok(MaterialId(b))
    }

    /// The 64 lowercase hex digits KMS shows as `KeyMaterialId`.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for MaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for MaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaterialId({self})")
    }
}

impl FromStr for MaterialId {
    type Err = IdParseError;

    /// Parses exactly 64 hex digits (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        decode_hex(s, &mut out)?;
        Ok(MaterialId(out))
    }
}

fn decode_hex(s: &str, out: &mut [u8]) -> Result<(), IdParseError> {
    let bytes = s.as_bytes();
    if bytes.len() != out.len() * 2 {
        return Err(IdParseError);
    }
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = hex_val(pair[0]).ok_or(IdParseError)?;
        let lo = hex_val(pair[1]).ok_or(IdParseError)?;
        *o = (hi << 4) | lo;
    }
    Ok(())
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_text_round_trip_and_version() {
        let u = KeyUuid::generate().unwrap();
        let s = u.to_string();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(s.parse::<KeyUuid>().unwrap(), u);
        assert_eq!(s.to_uppercase().parse::<KeyUuid>().unwrap(), u);
        assert_ne!(KeyUuid::generate().unwrap(), u);
        let known: KeyUuid = "1234abcd-12ab-34cd-56ef-1234567890ab".parse().unwrap();
        assert_eq!(known.to_string(), "1234abcd-12ab-34cd-56ef-1234567890ab");
        for bad in [
            "",
            "1234abcd12ab34cd56ef1234567890ab",
            "1234abcd-12ab-34cd-56ef-1234567890a",
            "1234abcd-12ab-34cd-56ef-1234567890abc",
            "1234abcd-12ab-34cd-56ef_1234567890ab",
            "1234abcg-12ab-34cd-56ef-1234567890ab",
            "1234abc--12ab-34cd-56ef-1234567890ab",
            "1234abcd-12ab-34cd-56ef-1234567890é",
        ] {
            assert!(bad.parse::<KeyUuid>().is_err(), "{bad}");
        }
    }

    #[test]
    fn material_id_is_64_hex_digits() {
        let m = MaterialId::generate().unwrap();
        let s = m.to_hex();
        assert_eq!(s.len(), 64);
        assert!(s
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(s.parse::<MaterialId>().unwrap(), m);
        assert!(s[1..].parse::<MaterialId>().is_err());
        assert!(format!("{s}0").parse::<MaterialId>().is_err());
        assert!(s.replace(&s[..1], "x").parse::<MaterialId>().is_err());
        assert!(format!("{m:?}").contains(&s));
    }
}
