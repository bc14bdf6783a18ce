//! The customer-provided key file provider (like S3 SSE-C): 32 raw bytes or 64 hex digits.
//!
//! The file's key never touches the volume. It wraps a fresh random data key per volume (so
//! `rewrap` to another key file or to a KMS key is O(1)), and the keyslot keeps only a salted
//! fingerprint, so a wrong key file is rejected with a clear error before any data is read.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::{KeyContext, KeyError, KeyProvider, WrappedKey};
use crate::crypto::{ct_eq, DataKey, KeyWrapper};
use crate::format::KeyKind;

const PREFIX: &str = "keyfile:";

/// A key provider backed by one customer key file.
#[derive(Debug)]
pub struct FileKeyProvider {
    path: PathBuf,
    wrapper: KeyWrapper,
}

fn bad(path: &Path, reason: impl Into<String>) -> KeyError {
    KeyError::KeyFile {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Parses key file contents: exactly 32 raw bytes, or 64 hex digits with optional
/// surrounding whitespace.
fn parse(path: &Path, raw: &[u8]) -> Result<DataKey, KeyError> {
    if raw.len() == 32 {
        return DataKey::from_slice(raw).map_err(KeyError::from);
    }
    let text = std::str::from_utf8(raw)
        .map_err(|_| {
            bad(
                path,
                format!(
                    "expected 32 raw bytes or 64 hex digits, found {} bytes",
                    raw.len()
                ),
            )
        })?
        .trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(
            path,
            format!(
                "expected 32 raw bytes or 64 hex digits, found {} bytes",
                raw.len()
            ),
        ));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    for (i, out) in key.iter_mut().enumerate() {
        *out = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
            .map_err(|_| bad(path, "invalid hex digit"))?;
    }
    Ok(DataKey::from_bytes(*key))
}

impl FileKeyProvider {
    /// Reads and parses the key file at `path`.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let raw = Zeroizing::new(std::fs::read(path).map_err(|e| bad(path, e.to_string()))?);
        let key = parse(path, &raw)?;
        Ok(FileKeyProvider {
            path: path.to_owned(),
            wrapper: KeyWrapper::new(&key),
        })
    }

    /// A provider from key bytes already in memory (tests, benchmarks).
    pub fn from_key(key: &DataKey, label: &str) -> Self {
        FileKeyProvider {
            path: PathBuf::from(label),
            wrapper: KeyWrapper::new(key),
        }
    }

    fn key_id(&self, ctx: &KeyContext) -> Result<String, KeyError> {
        let fp = self.wrapper.fingerprint(&ctx.fingerprint_salt())?;
        let hex: String = fp.iter().map(|b| format!("{b:02x}")).collect();
        Ok(format!("{PREFIX}{hex}"))
    }
}

impl KeyProvider for FileKeyProvider {
    fn describe(&self) -> String {
        format!("key file {}", self.path.display())
    }

    fn generate(&self, ctx: &KeyContext) -> Result<(DataKey, WrappedKey), KeyError> {
        let dk = DataKey::generate()?;
        let wrapped = self.wrap(&dk, ctx)?;
        Ok((dk, wrapped))
    }

    fn wrap(&self, key: &DataKey, ctx: &KeyContext) -> Result<WrappedKey, KeyError> {
        Ok(WrappedKey {
            kind: KeyKind::KeyFile,
            key_id: self.key_id(ctx)?,
            blob: self.wrapper.wrap(key, &ctx.canonical())?,
        })
    }

    fn unwrap(&self, wrapped: &WrappedKey, ctx: &KeyContext) -> Result<DataKey, KeyError> {
        if wrapped.kind != KeyKind::KeyFile {
            return Err(KeyError::ProviderMismatch {
                needed: format!("KMS key {}", wrapped.key_id),
                given: self.describe(),
            });
        }
        let mine = self.key_id(ctx)?;
        if !ct_eq(mine.as_bytes(), wrapped.key_id.as_bytes()) {
            return Err(KeyError::WrongKey(format!(
                "{} is not the key this volume was encrypted with (fingerprint mismatch)",
                self.describe()
            )));
        }
        self.wrapper
            .unwrap(&wrapped.blob, &ctx.canonical())
            .map_err(|_| KeyError::WrongKey("the wrapped data key failed authentication".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_raw_and_hex() {
        let p = Path::new("k");
        assert!(parse(p, &[7u8; 32]).is_ok());
        let hex = "ab".repeat(32) + "\n";
        assert_eq!(parse(p, hex.as_bytes()).unwrap().expose(), &[0xab; 32]);
        for bad in [&b"short"[..], &[0u8; 33][..], "zz".repeat(32).as_bytes()] {
            let e = parse(p, bad).unwrap_err().to_string();
            assert!(e.contains("expected 32 raw bytes or 64 hex digits"), "{e}");
        }
    }

    #[test]
    fn wrong_key_is_named() {
        let ctx = KeyContext::volume([5; 16], 1);
        let a = FileKeyProvider::from_key(&DataKey::from_bytes([1; 32]), "a");
        let b = FileKeyProvider::from_key(&DataKey::from_bytes([2; 32]), "b");
        let (dk, w) = a.generate(&ctx).unwrap();
        assert_eq!(a.unwrap(&w, &ctx).unwrap().expose(), dk.expose());
        let e = b.unwrap(&w, &ctx).unwrap_err();
        assert!(matches!(e, KeyError::WrongKey(_)), "{e}");
        let other_ctx = KeyContext::volume([5; 16], 2);
        assert!(a.unwrap(&w, &other_ctx).is_err());
    }
}
