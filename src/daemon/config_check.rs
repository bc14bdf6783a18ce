//! Validation of the raw config values ([`super::raw`]) into the public types of
//! [`super`]: ranges, sizes, paths, the metrics address; every error names its key as
//! `section.key`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bench::spec::parse_size_text;
use crate::format::Resilience;
use crate::keys::CacheLimits;

use super::raw::{RawConfig, SizeValue};
use super::{
    Config, ConfigError, DaemonConfig, EngineConfig, JobsConfig, KmsConfig, DEFAULT_METRICS,
    IO_ENGINES,
};

/// Validation of the raw values into the public types; every error names its key.
pub(super) struct Check<'a> {
    pub(super) path: &'a Path,
}

impl Check<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_owned(),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    pub(super) fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let d = Config::defaults();
        let (k, c, e, j, dm) = (raw.kms, raw.cache, raw.engine, raw.jobs, raw.daemon);
        let kms = KmsConfig {
            endpoint: match k.endpoint {
                Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => {
                    return Err(self.err(
                        "kms.endpoint",
                        format!("must start with http:// or https://, got '{u}'"),
                    ))
                }
                other => self.non_empty("kms.endpoint", other)?,
            },
            region: self.non_empty("kms.region", k.region)?,
            profile: self.non_empty("kms.profile", k.profile)?,
            ca_bundle: match k.ca_bundle {
                Some(p) if !Path::new(&p).is_file() => {
                    return Err(self.err("kms.ca_bundle", format!("no such file: {p}")))
                }
                p => p.map(PathBuf::from),
            },
            key: self.non_empty("kms.key", k.key)?,
            timeout: match k.timeout_secs {
                Some(v) => Duration::from_secs(self.range("kms.timeout_secs", v, 1, 300)?),
                None => d.kms.timeout,
            },
        };
        let dc = d.cache;
        let cache = CacheLimits {
            capacity: self.opt_range("cache.capacity", c.capacity, 0, 1 << 20, dc.capacity)?,
            max_age: match c.max_age_secs {
                Some(v) => Duration::from_secs(self.range("cache.max_age_secs", v, 1, i64::MAX)?),
                None => dc.max_age,
            },
            max_uses: self.opt_range("cache.max_uses", c.max_uses, 0, i64::MAX, dc.max_uses)?,
            max_bytes: self.size("cache.max_bytes", c.max_bytes, dc.max_bytes)?,
            reuse_data_keys: c.reuse_data_keys.unwrap_or(dc.reuse_data_keys),
            lock_memory: c.lock_memory.unwrap_or(dc.lock_memory),
        };
        let de = d.engine;
        let chunk_size = self.size("engine.chunk_size", e.chunk_size, de.chunk_size)?;
        if !chunk_size.is_power_of_two() || !(4 << 10..=1 << 20).contains(&chunk_size) {
            let m = format!("must be a power of two from 4K to 1M, got {chunk_size}");
            return Err(self.err("engine.chunk_size", m));
        }
        let threads = match e.threads {
            Some(0) | None => de.threads,
            Some(v) => self.range("engine.threads", v, 1, 1024).map_err(|_| {
                let m = format!("must be 0 (all cores) or between 1 and 1024, got {v}");
                self.err("engine.threads", m)
            })?,
        };
        let engine = EngineConfig {
            chunk_size,
            threads,
            io: match e.io {
                Some(io) if !IO_ENGINES.contains(&io.as_str()) => {
                    let m = format!("must be one of auto, uring, mmap, pread; got '{io}'");
                    return Err(self.err("engine.io", m));
                }
                io => io.unwrap_or(de.io),
            },
            queue_depth: self.opt_range(
                "engine.queue_depth",
                e.queue_depth,
                1,
                4096,
                de.queue_depth,
            )?,
            crypto: match e.crypto {
                Some(s) => s
                    .parse()
                    .map_err(|m: String| self.err("engine.crypto", m))?,
                None => de.crypto,
            },
            resilience: match e.resilience.as_deref() {
                None | Some("journal") => Resilience::Journal,
                Some("none") => Resilience::None,
                Some(other) => {
                    let m = format!("must be 'journal' or 'none', got '{other}'");
                    return Err(self.err("engine.resilience", m));
                }
            },
        };
        let dj = d.jobs;
        let jobs = JobsConfig {
            max_concurrent: self.opt_range(
                "jobs.max_concurrent",
                j.max_concurrent,
                1,
                64,
                dj.max_concurrent,
            )?,
            bandwidth: self.size("jobs.bandwidth", j.bandwidth, dj.bandwidth)?,
            job_bandwidth: self.size("jobs.job_bandwidth", j.job_bandwidth, dj.job_bandwidth)?,
        };
        let dd = d.daemon;
        let daemon = DaemonConfig {
            socket: self.absolute("daemon.socket", dm.socket, dd.socket)?,
            metrics: self.metrics(dm.metrics, dm.allow_remote_metrics.unwrap_or(false))?,
            data_dir: self.absolute("daemon.data_dir", dm.data_dir, dd.data_dir)?,
        };
        Ok(Config {
            kms,
            cache,
            engine,
            jobs,
            daemon,
        })
    }

    /// `v` within `lo..=hi`, converted to the field's type.
    fn range<T: TryFrom<i64>>(
        &self,
        key: &str,
        v: i64,
        lo: i64,
        hi: i64,
    ) -> Result<T, ConfigError> {
        let out_of_range = || {
            let m = if hi == i64::MAX {
                format!("must be at least {lo}, got {v}")
            } else {
                format!("must be between {lo} and {hi}, got {v}")
            };
            self.err(key, m)
        };
        if !(lo..=hi).contains(&v) {
            return Err(out_of_range());
        }
        T::try_from(v).map_err(|_| out_of_range())
    }

    /// [`Check::range`] of an optional value, `default` when absent.
    fn opt_range<T: TryFrom<i64>>(
        &self,
        key: &str,
        v: Option<i64>,
        lo: i64,
        hi: i64,
        default: T,
    ) -> Result<T, ConfigError> {
        v.map_or(Ok(default), |v| self.range(key, v, lo, hi))
    }

    /// A size: a non-negative integer (bytes) or a size string such as `64K`.
    fn size(&self, key: &str, v: Option<SizeValue>, default: u64) -> Result<u64, ConfigError> {
        match v {
            None => Ok(default),
            Some(SizeValue::Int(n)) => u64::try_from(n)
                .map_err(|_| self.err(key, format!("must not be negative, got {n}"))),
            Some(SizeValue::Text(s)) => parse_size_text(&s).map_err(|m| self.err(key, m)),
        }
    }

    fn non_empty(&self, key: &str, v: Option<String>) -> Result<Option<String>, ConfigError> {
        match v {
            Some(s) if s.trim().is_empty() => Err(self.err(key, "must not be empty")),
            v => Ok(v),
        }
    }

    fn absolute(
        &self,
        key: &str,
        v: Option<String>,
        default: PathBuf,
    ) -> Result<PathBuf, ConfigError> {
        match v {
            None => Ok(default),
            Some(p) if Path::new(&p).is_absolute() => Ok(p.into()),
            Some(p) => Err(self.err(key, format!("must be an absolute path, got '{p}'"))),
        }
    }

    /// `daemon.metrics`: "off", or a socket address that is loopback unless `allow_remote`.
    fn metrics(
        &self,
        v: Option<String>,
        allow_remote: bool,
    ) -> Result<Option<SocketAddr>, ConfigError> {
        let text = v.unwrap_or_else(|| DEFAULT_METRICS.to_owned());
        if text == "off" {
            return Ok(None);
        }
        let addr: SocketAddr = text.parse().map_err(|_| {
            let m = format!("must be an IP address and port such as {DEFAULT_METRICS}, or \"off\"; got '{text}'");
            self.err("daemon.metrics", m)
        })?;
        if !allow_remote && !addr.ip().is_loopback() {
            let m = format!(
                "{addr} is not a loopback address; set daemon.allow_remote_metrics = true \
                 to serve metrics beyond this host"
            );
            return Err(self.err("daemon.metrics", m));
        }
        Ok(Some(addr))
    }
}
