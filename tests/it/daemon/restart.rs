//! The daemon stopping under a job: SIGKILL in the middle of an encrypt, then a restart that
//! finishes it from the volume's checkpoint (SHA-256 checked after decrypting); SIGTERM
//! draining to a checkpoint with exit 0 and the job taken up by the next start; SIGHUP
//! reloading the bandwidth limits.

use std::time::Duration;

use serde_json::json;

use super::{spec, Daemon};
use crate::util::*;

const LEN: u64 = 96 * MIB;

#[test]
fn sigkill_mid_job_then_restart_completes_it() {
    let dir = scratch();
    let mut d = Daemon::start(dir.path(), "");
    let key = key_file(dir.path(), "key", 2);
    let vol = dir.path().join("vol");
    let sha = write_pattern(&vol, LEN, 11);
    let id = d.submit(spec("encrypt", &vol, &key, json!({"bandwidth": 16 * MIB})));
    d.until(id, "a checkpoint", |j| {
        j["bytes_done"].as_u64() >= Some(32 * MIB)
    });
    let st = d.signal(9);
    assert_eq!(st.code(), None, "killed by the signal");
    let info: serde_json::Value =
        serde_json::from_slice(&volcrypt(&[&"info", &vol, &"--json"]).ok().stdout).unwrap();
    assert_eq!(info["state"], "encrypting", "killed mid-encrypt: {info}");

    d.spawn(&[]);
    let j = d.state(id, "succeeded");
    assert_eq!(j["attempts"].as_u64(), Some(2), "{j}");
    assert_eq!(j["bytes_done"].as_u64(), Some(LEN), "{j}");
    assert!(d.log_text().contains("taken up after restart"));
    volcrypt(&[&"verify", &vol, &"--key-file", &key, &"-q"]).ok();
    volcrypt(&[&"decrypt", &vol, &"--key-file", &key, &"-q"]).ok();
    assert_eq!(
        sha_file(&vol),
        sha,
        "plaintext after kill, restart and decrypt"
    );
}

#[test]
fn sigterm_drains_to_a_checkpoint_and_the_next_start_finishes() {
    let dir = scratch();
    let notify = dir.path().join("notify.sock");
    let listener = std::os::unix::net::UnixDatagram::bind(&notify).unwrap();
    listener
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut d = Daemon::start(dir.path(), "");
    // Restart it under a NOTIFY_SOCKET to see the systemd messages.
    assert!(d.signal(15).success(), "{}", d.log_text());
    d.spawn(&[("NOTIFY_SOCKET", notify.to_str().unwrap())]);
    let mut buf = [0u8; 256];
    let n = listener.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.lines().any(|l| l == "READY=1"), "{msg:?}");

    let key = key_file(dir.path(), "key", 3);
    let vol = dir.path().join("vol");
    let sha = write_pattern(&vol, LEN, 12);
    let id = d.submit(spec("rekey", &vol, &key, json!({})));
    d.state(id, "failed"); // plaintext volume: rekey needs an encrypted one
    volcrypt(&[&"encrypt", &vol, &"--key-file", &key, &"-q"]).ok();
    let id = d.submit(spec("rekey", &vol, &key, json!({"bandwidth": 16 * MIB})));
    d.until(id, "a checkpoint", |j| {
        j["state"] == "running" && j["bytes_done"].as_u64() >= Some(32 * MIB)
    });
    let st = d.signal(15);
    assert!(st.success(), "SIGTERM exits 0: {st}\n{}", d.log_text());
    let n = listener.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.lines().any(|l| l == "STOPPING=1"), "{msg:?}");
    assert!(!d.socket.exists(), "the socket is removed on exit");
    let info: serde_json::Value =
        serde_json::from_slice(&volcrypt(&[&"info", &vol, &"--json"]).ok().stdout).unwrap();
    assert_eq!(info["state"], "rekeying", "{info}");

    d.spawn(&[]);
    let j = d.state(id, "succeeded");
    assert_eq!(j["attempts"].as_u64(), Some(2), "{j}");
    let info: serde_json::Value =
        serde_json::from_slice(&volcrypt(&[&"info", &vol, &"--json"]).ok().stdout).unwrap();
    assert_eq!(
        info["cur_ver"].as_u64(),
        Some(2),
        "rekeyed to version 2: {info}"
    );
    volcrypt(&[&"decrypt", &vol, &"--key-file", &key, &"-q"]).ok();
    assert_eq!(sha_file(&vol), sha);
}

#[test]
fn sighup_reloads_the_bandwidth_limit() {
    let dir = scratch();
    // 1 MiB/s per job: a 96 MiB job would take over a minute and a half.
    let mut d = Daemon::start(dir.path(), "[jobs]\njob_bandwidth = \"1M\"\n");
    let key = key_file(dir.path(), "key", 4);
    let vol = dir.path().join("vol");
    write_pattern(&vol, LEN, 13);
    let id = d.submit(spec("encrypt", &vol, &key, json!({})));
    d.until(id, "a first window", |j| {
        j["bytes_done"].as_u64() >= Some(32 * MIB)
    });
    let text = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(
        &d.config,
        text.replace("job_bandwidth = \"1M\"", "job_bandwidth = \"0\""),
    )
    .unwrap();
    let pid = d.child.as_ref().unwrap().id().to_string();
    std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    // Finishes well inside the 60 s limit of `until` only if the new limit took effect.
    d.state(id, "succeeded");
    assert!(
        d.log_text()
            .contains("reloaded the cache and bandwidth settings"),
        "{}",
        d.log_text()
    );
    assert!(d.signal(15).success());
}
