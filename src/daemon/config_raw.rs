//! The config file as written: serde mirrors of the sections, every key optional, unknown
//! keys denied, and the conversion of a TOML error into a [`ConfigError`] naming the key.
//! Numbers are kept as TOML's `i64` so range errors are ours and name the key.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(
    default,
    deny_unknown_fields,
    expecting = "the whole file: tables [kms], [cache], [engine], [jobs], [daemon]"
)]
pub(super) struct RawConfig {
    pub kms: RawKms,
    pub cache: RawCache,
    pub engine: RawEngine,
    pub jobs: RawJobs,
    pub daemon: RawDaemon,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a [kms] table")]
pub(super) struct RawKms {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub ca_bundle: Option<String>,
    pub key: Option<String>,
    pub timeout_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a [cache] table")]
pub(super) struct RawCache {
    pub capacity: Option<i64>,
    pub max_age_secs: Option<i64>,
    pub reuse_data_keys: Option<bool>,
    pub max_uses: Option<i64>,
    pub max_bytes: Option<SizeValue>,
    pub lock_memory: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "an [engine] table")]
pub(super) struct RawEngine {
    pub chunk_size: Option<SizeValue>,
    pub threads: Option<i64>,
    pub io: Option<String>,
    pub queue_depth: Option<i64>,
    pub crypto: Option<String>,
    pub resilience: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a [jobs] table")]
pub(super) struct RawJobs {
    pub max_concurrent: Option<i64>,
    pub bandwidth: Option<SizeValue>,
    pub job_bandwidth: Option<SizeValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a [daemon] table")]
pub(super) struct RawDaemon {
    pub socket: Option<String>,
    pub metrics: Option<String>,
    pub allow_remote_metrics: Option<bool>,
    pub data_dir: Option<String>,
}

/// A size as written: an integer (bytes) or a string such as `"64K"`.
#[derive(Debug)]
pub(super) enum SizeValue {
    Int(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for SizeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SizeValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size: an integer (bytes) or a string such as \"64K\" or \"1G\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SizeValue, E> {
                Ok(SizeValue::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SizeValue, E> {
                i64::try_from(v)
                    .map(SizeValue::Int)
                    .map_err(|_| E::custom("size too large"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SizeValue, E> {
                Ok(SizeValue::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A TOML error (syntax, unknown key, wrong type) as a [`ConfigError::Invalid`]: toml's
/// message with the line and column, and the key found from the error's position: the
/// table header above it and the `name =` on its line (`-` when there is none).
pub(super) fn toml_error(
    path: &Path,
    text: &str,
    e: &toml::de::Error,
    name_key: bool,
) -> ConfigError {
    let message = e
        .message()
        .trim()
        .replace('\n', "; ")
        .replace("expected i64", "expected an integer");
    let Some(span) = e.span() else {
        return invalid(path, "-".into(), message);
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_no = before.matches('\n').count() + 1;
    let column = before.len() - line_start + 1;
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let header = line.starts_with('[');
    let section = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['));
    // The dotted path: the table header above (or of) this line, then the key on it.
    let mut path_parts: Vec<&str> = Vec::new();
    if !header {
        path_parts.extend(section.map(dotted).unwrap_or_default());
    }
    let lhs = match (header, line.split_once('=')) {
        (true, _) => dotted(line),
        (false, Some((k, _))) => dotted(k),
        (false, None) => Vec::new(),
    };
    match message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
    {
        // The unknown name is one of the key's parts (`[volumes]`, `jobs.max_concurent`),
        // else a key of an inline table (`jobs = { max_concurent = 1 }`).
        Some(name) => match lhs.iter().position(|p| *p == name) {
            Some(i) => path_parts.extend(&lhs[..=i]),
            None => path_parts.extend(lhs.iter().copied().chain([name])),
        },
        None => path_parts.extend(lhs),
    }
    let bare = |p: &&str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let key = if name_key && !path_parts.is_empty() && path_parts.iter().all(bare) {
        path_parts.join(".")
    } else {
        "-".to_owned()
    };
    invalid(
        path,
        key,
        format!("{message} (line {line_no}, column {column})"),
    )
}

/// `a . b` or `[a.b] # note` as `["a", "b"]`.
fn dotted(k: &str) -> Vec<&str> {
    let k = k.trim().trim_start_matches('[');
    let k = k.split(']').next().unwrap_or(k);
    k.split('.').map(str::trim).collect()
}

fn invalid(path: &Path, key: String, message: String) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_owned(),
        key,
        message,
    }
}
