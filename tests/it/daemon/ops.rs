//! Observability: the Prometheus endpoint is scraped and every line parsed; the JSON logs of
//! key-file and KMS jobs hold no key material.

use std::collections::HashMap;

use serde_json::json;

use super::{spec, Daemon};
use crate::kms_provider::kms;
use crate::util::*;

/// Parses Prometheus/OpenMetrics text: `name{labels} value` lines, `# TYPE` for each family.
fn parse(text: &str) -> (HashMap<String, f64>, HashMap<String, String>) {
    let mut samples = HashMap::new();
    let mut types = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line:?}"
        );
        if let Some(l) = series.strip_prefix(name) {
            assert!(
                l.is_empty() || (l.starts_with('{') && l.ends_with('}')),
                "bad labels {line:?}"
            );
        }
        samples.insert(series.to_owned(), v);
    }
    (samples, types)
}

fn get(s: &HashMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    s.iter()
        .filter(|(k, _)| {
            k.split('{').next() == Some(name)
                && labels
                    .iter()
                    .all(|(l, v)| k.contains(&format!("{l}=\"{v}\"")))
        })
        .map(|(_, v)| *v)
        .sum()
}

/// Runs of 43 base64 characters and a `=`, or of 64 hex digits: how a 32-byte key would
/// look if it leaked.
fn key_shaped(text: &str) -> Option<String> {
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    let hex = |c: char| c.is_ascii_hexdigit();
    let cs: Vec<char> = text.chars().collect();
    for i in 0..cs.len() {
        if (i == 0 || !b64(cs[i - 1]))
            && cs.len() > i + 43
            && cs[i..i + 43].iter().all(|c| b64(*c))
            && cs[i + 43] == '='
        {
            return Some(cs[i..i + 44].iter().collect());
        }
        if (i == 0 || !hex(cs[i - 1]))
            && cs.len() >= i + 64
            && cs[i..i + 64].iter().all(|c| hex(*c))
        {
            return Some(cs[i..i + 64].iter().collect());
        }
    }
    None
}

#[test]
fn metrics_are_scraped_and_parsed_and_logs_hold_no_key_material() {
    let k = kms();
    let arn = k.provider(None).create_key("daemon").unwrap();
    let dir = scratch();
    let extra = format!(
        "[kms]\nendpoint = {:?}\nregion = \"us-east-1\"\nkey = {arn:?}\n",
        k.server.endpoint
    );
    let mut d = Daemon::start_with(
        dir.path(),
        &extra,
        &[
            ("AWS_ACCESS_KEY_ID", &k.cred.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &k.cred.secret_access_key),
            ("AWS_CONFIG_FILE", "/nonexistent/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    let key = key_file(dir.path(), "key", 5);
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    write_pattern(&a, 4 * MIB, 1);
    write_pattern(&b, 4 * MIB, 2);
    let j1 = d.submit(spec("encrypt", &a, &key, json!({})));
    let j2 = d.submit(json!({"op": "encrypt", "volume": b}));
    d.state(j1, "succeeded");
    d.state(j2, "succeeded");
    let j3 = d.submit(json!({"op": "verify", "volume": b}));
    d.state(j3, "succeeded");
    let j4 = d.submit(spec(
        "verify",
        &dir.path().join("a"),
        &key_file(dir.path(), "wrong", 9),
        json!({}),
    ));
    let failed = d.state(j4, "failed");
    assert!(
        failed["error"].as_str().unwrap().contains("key"),
        "{failed}"
    );

    // The unwrap of b's data key is cached: a second verify makes no KMS call, until SIGHUP
    // reloads the [cache] section, which replaces the caches.
    let unwraps = |d: &Daemon| {
        get(
            &parse(&d.scrape()).0,
            "volcrypt_kms_requests_total",
            &[("op", "unwrap")],
        )
    };
    let u1 = unwraps(&d);
    assert!(u1 >= 1.0);
    let again = d.submit(json!({"op": "verify", "volume": b}));
    d.state(again, "succeeded");
    assert_eq!(unwraps(&d), u1, "the second verify was served by the cache");
    let mut conf = std::fs::read_to_string(&d.config).unwrap();
    conf.push_str("\n[cache]\nmax_age_secs = 600\n");
    std::fs::write(&d.config, conf).unwrap();
    let pid = d.child.as_ref().unwrap().id().to_string();
    std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    let t = std::time::Instant::now();
    while !d.log_text().contains("reloaded the cache") {
        assert!(t.elapsed().as_secs() < 30, "no reload: {}", d.log_text());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let after = d.submit(json!({"op": "verify", "volume": b}));
    d.state(after, "succeeded");
    assert_eq!(
        unwraps(&d),
        u1 + 1.0,
        "after the reload the key is unwrapped again"
    );

    let text = d.scrape();
    let (s, types) = parse(&text);
    assert_eq!(
        get(&s, "volcrypt_bytes_processed_total", &[("op", "encrypt")]),
        (8 * MIB) as f64
    );
    assert_eq!(
        get(&s, "volcrypt_bytes_processed_total", &[("op", "verify")]),
        (12 * MIB) as f64
    );
    assert_eq!(get(&s, "volcrypt_jobs", &[("state", "succeeded")]), 5.0);
    assert_eq!(get(&s, "volcrypt_jobs", &[("state", "failed")]), 1.0);
    for stage in ["chunk", "read", "apply", "checkpoint", "journal_commit"] {
        let n = get(
            &s,
            "volcrypt_stage_duration_seconds_count",
            &[("op", "encrypt"), ("stage", stage)],
        );
        assert!(n > 0.0, "no {stage} latencies recorded");
    }
    assert_eq!(
        types
            .get("volcrypt_stage_duration_seconds")
            .map(String::as_str),
        Some("histogram")
    );
    assert!(
        get(&s, "volcrypt_kms_requests_total", &[("op", "generate")]) >= 1.0,
        "{text}"
    );
    assert!(
        get(&s, "volcrypt_kms_requests_total", &[("op", "unwrap")]) >= 1.0,
        "{text}"
    );
    assert!(s
        .keys()
        .any(|k| k.starts_with("volcrypt_kms_request_duration_seconds")));
    assert!(
        s.keys().any(|k| k.starts_with("volcrypt_key_cache_hits")),
        "{text}"
    );
    assert!(
        s.keys()
            .any(|k| k.starts_with("volcrypt_throughput_bytes_per_second")),
        "{text}"
    );

    assert!(d.signal(15).success());
    let log = d.log_text();
    let mut lines = 0;
    for line in log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
        lines += 1;
    }
    assert!(lines >= 8 && log.contains("job succeeded"), "{log}");
    let raw = std::fs::read(&key).unwrap();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        !log.to_lowercase().contains(&hex),
        "the key file's bytes are in the log"
    );
    if let Some(leak) = key_shaped(&log) {
        panic!("a key-shaped value in the log: {leak}");
    }
    assert!(
        !log.contains("Plaintext"),
        "a KMS plaintext field in the log"
    );
    assert!(!text.to_lowercase().contains(&hex));
    assert!(key_shaped(&text).is_none());
}
