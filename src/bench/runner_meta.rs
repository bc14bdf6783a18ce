//! Provenance of a run ([`RunMeta`]): volcrypt's version and git commit, the host, its CPU
//! model and cipher-relevant flags, the kernel, the start time, and the spec.
//!
//! The commit is `VOLCRYPT_GIT_COMMIT` if it was set when the binary was built, else `git
//! describe --always --dirty` of the source tree the binary was built from (when it is still
//! there), else "unknown".

use std::time::{SystemTime, UNIX_EPOCH};

use crate::bench::model::RunMeta;

/// The CPU flags the cipher's speed depends on.
const FLAGS: [&str; 9] = [
    "aes",
    "pclmulqdq",
    "avx",
    "avx2",
    "avx512f",
    "vaes",
    "vpclmulqdq",
    "sha_ni",
    "gfni",
];

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

fn git_commit() -> String {
    if let Some(c) = option_env!("VOLCRYPT_GIT_COMMIT") {
        return c.to_owned();
    }
    std::process::Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "describe",
            "--always",
            "--dirty",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// (model name, flags of interest) from `/proc/cpuinfo` text.
fn cpu(info: &str) -> (String, Vec<String>) {
    let field = |name: &str| {
        info.lines()
            .find(|l| l.split(':').next().map(str::trim) == Some(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
    };
    let model = field("model name").unwrap_or_else(|| "unknown".into());
    let have: Vec<String> = field("flags")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let flags = FLAGS
        .iter()
        .filter(|f| have.iter().any(|h| h == *f))
        .map(|f| (*f).to_owned())
        .collect();
    (model, flags)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (`20261129T123905Z`, `2026-11-29T12:39:05Z`) for Unix seconds `secs`.
pub(crate) fn stamps(secs: i64) -> (String, String) {
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let r = secs.rem_euclid(86_400);
    let (h, mi, s) = (r / 3600, r % 3600 / 60, r % 60);
    (
        format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z"),
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
    )
}

/// Keeps letters, digits, `.`, `_` and `-` (the run id is a directory name).
fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "bench".into()
    } else {
        s
    }
}

/// The provenance of a run named `name` with spec text `spec`, starting now.
pub(crate) fn collect(name: &str, spec: &str) -> RunMeta {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let (basic, rfc) = stamps(now);
    let (cpu_model, cpu_flags) = cpu(&read("/proc/cpuinfo").unwrap_or_default());
    let kernel = match (
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease"),
    ) {
        (Some(o), Some(r)) => format!("{o} {r}"),
        _ => "unknown".into(),
    };
    RunMeta {
        run_id: format!("{basic}-{}", sanitize(name)),
        volcrypt_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: git_commit(),
        host: read("/proc/sys/kernel/hostname").unwrap_or_else(|| "unknown".into()),
        cpu_model,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_flags,
        kernel,
        started: rfc,
        spec: spec.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_known_instants() {
        assert_eq!(
            stamps(0),
            ("19700101T000000Z".into(), "1970-01-01T00:00:00Z".into())
        );
        // 2026-11-29 12:39:05 UTC.
        assert_eq!(stamps(1_795_955_945).0, "20261129T123905Z");
        assert_eq!(stamps(951_868_799).1, "2000-02-29T23:59:59Z");
    }

    #[test]
    fn cpu_model_and_flags_from_cpuinfo() {
        let info = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Test\nflags\t\t: fpu aes avx2 vaes sse2\n";
        let (model, flags) = cpu(info);
        assert_eq!(model, "Intel(R) Xeon(R) Test");
        assert_eq!(flags, vec!["aes", "avx2", "vaes"]);
        assert_eq!(cpu("").0, "unknown");
    }

    #[test]
    fn run_id_is_a_safe_directory_name() {
        let m = collect("my job/1", "x = 1");
        assert!(m.run_id.ends_with("-my_job_1"), "{}", m.run_id);
        assert_eq!(m.run_id.len(), "20261129T123905Z-my_job_1".len());
        assert_eq!(m.spec, "x = 1");
        assert_eq!(m.volcrypt_version, env!("CARGO_PKG_VERSION"));
        assert!(!m.git_commit.is_empty());
    }
}
