//! Typed values of a bench spec: sizes (`64K`, `1G` or a number), durations (`5s`, `500ms`,
//! `2m` or seconds), strings, whole numbers, and "one value or a list of them". Every error
//! names the key.

use std::time::Duration;

use toml::Value;

use super::BenchError;

fn bad(msg: impl Into<String>) -> BenchError {
    BenchError::Spec(msg.into())
}

/// Parses `4096`, `64K`, `1M`, `2G`, `1T` (binary units; `KiB`, `MB` and so on accepted).
pub fn parse_size_text(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (examples: 4096, 64K, 1M, 2G)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("'{s}' has an unknown unit (use K, M, G or T)")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// Parses `10s`, `500ms`, `2m`, `1.5s`, `10` (seconds), up to a day.
pub fn parse_duration_text(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (examples: 10s, 500ms, 2m)"))?;
    if !v.is_finite() || v < 0.0 || v * scale > 86_400.0 {
        return Err(format!("duration '{s}' is out of range (0 to 24h)"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

/// A size: a whole number of bytes or a size string.
pub(super) fn parse_size(v: &Value, key: &str) -> Result<u64, BenchError> {
    match v {
        Value::Integer(n) => {
            u64::try_from(*n).map_err(|_| bad(format!("{key} must not be negative")))
        }
        Value::String(s) => parse_size_text(s).map_err(|e| bad(format!("{key}: {e}"))),
        other => Err(bad(format!(
            "{key} must be a size like \"64K\" or a number, not {}",
            other.type_str()
        ))),
    }
}

/// A duration: seconds as a number, or a duration string.
pub(super) fn duration(v: &Value, key: &str) -> Result<Duration, BenchError> {
    match v {
        Value::Integer(n) => parse_duration_text(&n.to_string()),
        Value::Float(f) => parse_duration_text(&f.to_string()),
        Value::String(s) => parse_duration_text(s),
        other => Err(format!("{} is not a duration", other.type_str())),
    }
    .map_err(|e| bad(format!("{key}: {e}")))
}

/// A string.
pub(super) fn string(v: &Value, key: &str) -> Result<String, BenchError> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| bad(format!("{key} must be a string, not {}", v.type_str())))
}

/// A whole number, at least 0.
pub(super) fn uint(v: &Value, key: &str) -> Result<u64, BenchError> {
    match v {
        Value::Integer(n) => {
            u64::try_from(*n).map_err(|_| bad(format!("{key} must not be negative")))
        }
        other => Err(bad(format!(
            "{key} must be a whole number, not {}",
            other.type_str()
        ))),
    }
}

/// One value or a non-empty list of them, each converted by `f`; duplicates are dropped.
pub(super) fn list<T: PartialEq>(
    v: &Value,
    key: &str,
    f: impl Fn(&Value) -> Result<T, BenchError>,
) -> Result<Vec<T>, BenchError> {
    let items: Vec<T> = match v {
        Value::Array(a) if a.is_empty() => return Err(bad(format!("{key} is an empty list"))),
        Value::Array(a) => a.iter().map(&f).collect::<Result<_, _>>()?,
        one => vec![f(one)?],
    };
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    Ok(out)
}

/// `256M`, `4K`, `3000` (labels of size sweeps).
pub(super) fn size_label(n: u64) -> String {
    for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{}{unit}", n >> shift);
        }
    }
    n.to_string()
}
