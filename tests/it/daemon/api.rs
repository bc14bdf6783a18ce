//! The control API through the socket: submit, status, list, cancel, pause and resume; one
//! active job per volume; bad requests get 4xx with a JSON error body; the socket is 0600;
//! bad configs are refused naming the key.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use serde_json::json;

use super::{spec, write_config, Daemon};
use crate::util::*;

/// 96 MiB: three 32 MiB windows, so a throttled job has checkpoints to stop at.
const LEN: u64 = 96 * MIB;
/// A job limit that makes a 96 MiB job take a few seconds.
const SLOW: u64 = 24 * MIB;

#[test]
fn submit_status_pause_cancel_and_resubmit_through_the_socket() {
    let dir = scratch();
    let d = Daemon::start(dir.path(), "");
    let key = key_file(dir.path(), "key", 1);
    let vol = dir.path().join("vol");
    let sha = write_pattern(&vol, LEN, 7);

    // Socket: 0600, owned by us (root in CI); its directory 0700.
    let meta = std::fs::metadata(&d.socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "socket mode");
    assert_eq!(meta.uid(), unsafe_free_uid(), "socket owner");
    let run = std::fs::metadata(d.socket.parent().unwrap()).unwrap();
    assert_eq!(
        run.permissions().mode() & 0o777,
        0o700,
        "socket directory mode"
    );

    let id = d.submit(spec("encrypt", &vol, &key, json!({"bandwidth": SLOW})));
    let j = d.until(id, "progress", |j| {
        j["state"] == "running" && j["bytes_done"].as_u64() >= Some(32 * MIB)
    });
    assert_eq!(j["bytes_total"].as_u64(), Some(LEN));
    assert_eq!(j["chunk_size"].as_u64(), Some(64 * KIB));
    assert!(j["chunks_done"].as_u64().unwrap() >= 512, "{j}");
    assert_eq!(j["chunks_total"].as_u64(), Some(LEN / (64 * KIB)));
    assert!(j["bytes_per_sec"].as_f64().unwrap() > 0.0, "{j}");
    assert!(j["eta_secs"].as_f64().is_some(), "{j}");

    // A second job on the same volume is refused while the first is active.
    let (code, err) = d.raw(
        "POST",
        "/v1/jobs",
        &spec("verify", &vol, &key, json!({})).to_string(),
    );
    assert_eq!(code, 409, "{err}");
    assert_eq!(err["error"]["code"], "Conflict");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("job {id}")),
        "{err}"
    );

    // Pause holds it at a checkpoint; resume lets it go on.
    let p = d.client().act(id, "pause").unwrap();
    assert_eq!(p["state"], "paused");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let a = d.status(id)["bytes_done"].as_u64().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let b = d.status(id)["bytes_done"].as_u64().unwrap();
    assert_eq!(a, b, "no progress while paused");
    assert_eq!(d.client().act(id, "resume").unwrap()["state"], "running");

    // Cancel stops it at a window checkpoint: the volume is consistent and mid-encrypt.
    d.client().act(id, "cancel").unwrap();
    let j = d.state(id, "cancelled");
    assert!(j["error"].as_str().unwrap().contains("consistent"), "{j}");
    let info: serde_json::Value =
        serde_json::from_slice(&volcrypt(&[&"info", &vol, &"--json"]).ok().stdout).unwrap();
    assert!(
        matches!(info["state"].as_str(), Some("encrypting" | "encrypted")),
        "{info}"
    );
    // Cancelling again is a conflict.
    let (code, err) = d.raw("POST", &format!("/v1/jobs/{id}/cancel"), "");
    assert_eq!(code, 409, "{err}");

    // The same job submitted again finishes the encrypt from the checkpoint.
    let id2 = d.submit(spec("encrypt", &vol, &key, json!({})));
    d.state(id2, "succeeded");
    let v = d.submit(spec("verify", &vol, &key, json!({})));
    d.state(v, "succeeded");
    let jobs = d.client().jobs().unwrap();
    let ids: Vec<u64> = jobs.iter().map(|j| j["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![v, id2, id], "newest first");
    // The CLI client: status, jobs.
    let s = volcrypt(&[&"status", &id2.to_string(), &"--socket", &d.socket]);
    assert!(String::from_utf8_lossy(&s.ok().stdout).contains("succeeded"));
    let t = volcrypt(&[&"jobs", &"--socket", &d.socket]);
    assert!(String::from_utf8_lossy(&t.ok().stdout).contains("cancelled"));

    // Rewrap under another key file (no data pass): done is 100 %.
    let key2 = key_file(dir.path(), "key2", 2);
    let rw =
        d.submit(json!({"op": "rewrap", "volume": vol, "from_key_file": key, "to_key_file": key2}));
    let j = d.state(rw, "succeeded");
    assert_eq!(j["percent"].as_f64(), Some(100.0), "{j}");
    assert_eq!(j["result"]["method"], "unwrap+wrap", "{j}");
    volcrypt(&[&"verify", &vol, &"--key-file", &key, &"-q"]).fails(1, &[]);

    // The CLI's submit --wait follows the job and exits with its outcome.
    let run = volcrypt(&[
        &"submit",
        &"decrypt",
        &vol,
        &"--key-file",
        &key2,
        &"--wait",
        &"--socket",
        &d.socket,
    ]);
    run.ok();
    assert!(run.stderr.contains("succeeded"), "{}", run.stderr);
    assert_eq!(sha_file(&vol), sha, "round trip through the daemon");
    // A failing job: status --watch exits 1 and shows the error.
    let bad = d.submit(spec("verify", &vol, &key2, json!({})));
    let w = volcrypt(&[
        &"status",
        &bad.to_string(),
        &"--watch",
        &"--socket",
        &d.socket,
    ]);
    assert_eq!(w.code, 1, "{}", w.stderr);
    assert!(w.stderr.contains("failed"), "{}", w.stderr);
}

fn unsafe_free_uid() -> u32 {
    std::fs::metadata("/proc/self").unwrap().uid()
}

#[test]
fn bad_requests_get_4xx_with_a_json_error() {
    let dir = scratch();
    let d = Daemon::start(dir.path(), "");
    let key = key_file(dir.path(), "key", 1);
    let vol = dir.path().join("vol");
    write_pattern(&vol, MIB, 1);
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("POST", "/v1/jobs", "not json".into(), 400, "not a job"),
        (
            "POST",
            "/v1/jobs",
            json!({"op": "shred", "volume": vol}).to_string(),
            400,
            "shred",
        ),
        (
            "POST",
            "/v1/jobs",
            json!({"op": "verify", "volume": vol, "colour": 1}).to_string(),
            400,
            "colour",
        ),
        (
            "POST",
            "/v1/jobs",
            json!({"op": "verify", "volume": "vol", "key_file": key}).to_string(),
            400,
            "relative",
        ),
        (
            "POST",
            "/v1/jobs",
            json!({"op": "verify", "volume": dir.path().join("nope"), "key_file": key}).to_string(),
            400,
            "nope",
        ),
        (
            "POST",
            "/v1/jobs",
            spec("verify", &vol, &key, json!({"chunk_size": 65536})).to_string(),
            400,
            "chunk_size: does not apply to verify",
        ),
        (
            "POST",
            "/v1/jobs",
            spec("encrypt", &vol, &key, json!({"chunk_size": 3000})).to_string(),
            400,
            "chunk_size",
        ),
        (
            "POST",
            "/v1/jobs",
            spec("encrypt", &vol, &key, json!({"io": "warp"})).to_string(),
            400,
            "warp",
        ),
        (
            "POST",
            "/v1/jobs",
            spec("encrypt", &vol, &key, json!({"output": vol})).to_string(),
            400,
            "output",
        ),
        (
            "POST",
            "/v1/jobs",
            spec("verify", &vol, &key, json!({"threads": 4})).to_string(),
            400,
            "[engine] threads",
        ),
        ("GET", "/v1/jobs/999", String::new(), 404, "no job 999"),
        ("GET", "/v1/jobs/abc", String::new(), 400, "abc"),
        (
            "POST",
            "/v1/jobs/999/cancel",
            String::new(),
            404,
            "no job 999",
        ),
        ("POST", "/v1/jobs/1/explode", String::new(), 404, "explode"),
        ("GET", "/v2/everything", String::new(), 404, "no such route"),
        ("DELETE", "/v1/jobs", String::new(), 405, "not allowed"),
    ];
    for (method, path, body, code, needle) in cases {
        let (got, v) = d.raw(method, path, &body);
        assert_eq!(got, code, "{method} {path} {body}: {v}");
        let msg = v["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no JSON error: {v}"));
        assert!(v["error"]["code"].as_str().is_some(), "{v}");
        assert!(
            msg.contains(needle),
            "{method} {path}: {msg:?} lacks {needle:?}"
        );
    }
    // Nothing was accepted, and the volume is untouched.
    assert!(d.client().jobs().unwrap().is_empty());
    // The CLI shows the daemon's message and exits 1.
    volcrypt(&[
        &"submit",
        &"verify",
        &dir.path().join("nope"),
        &"--key-file",
        &key,
        &"--socket",
        &d.socket,
    ])
    .fails(1, &["nope", "HTTP 400"]);
    volcrypt(&[
        &"status",
        &"5",
        &"--socket",
        &dir.path().join("absent.sock"),
    ])
    .fails(1, &["cannot reach the volcrypt daemon", "absent.sock"]);
}

#[test]
fn bad_configs_are_refused_naming_the_key() {
    let dir = scratch();
    let cases = [
        ("[jobs]\nmax_concurrent = 0\n", "jobs.max_concurrent"),
        ("[jobs]\nmax_concurent = 2\n", "max_concurent"),
        ("[kms]\ntimeout_secs = 0\n", "kms.timeout_secs"),
        ("[daemon2]\n", "daemon2"),
    ];
    for (extra, needle) in cases {
        let (config, socket, _) = write_config(dir.path(), extra);
        volcrypt(&[&"daemon", &"--config", &config]).fails(1, &[needle, "volcrypt.toml"]);
        assert!(!socket.exists(), "no socket after a refused config");
    }
    volcrypt(&[&"daemon", &"--config", &dir.path().join("missing.toml")])
        .fails(1, &["missing.toml"]);
    // A second daemon on a live socket is refused.
    let d = Daemon::start(dir.path(), "");
    volcrypt(&[&"daemon", &"--config", &d.config]).fails(1, &["another volcrypt daemon"]);
    // So is one on another socket sharing its data dir (the job store).
    let text = std::fs::read_to_string(&d.config).unwrap();
    let other = dir.path().join("other.toml");
    std::fs::write(&other, text.replace("run/volcrypt.sock", "run/other.sock")).unwrap();
    volcrypt(&[&"daemon", &"--config", &other])
        .fails(1, &["another volcrypt daemon", "daemon.lock"]);
    assert!(!dir.path().join("run/other.sock").exists());
    assert_eq!(
        d.raw("GET", "/v1/health", "").0,
        200,
        "the first daemon still answers"
    );
}
