//! HTTPS: `--tls-self-signed` (a CA and server certificate generated into the data dir and
//! reused), `--tls-cert`/`--tls-key`, the bind policy, and the `volcrypt kms serve` listening
//! line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use volcrypt::kms::server::{audit_query, start, TlsFiles};

use super::client::{admin_credential, config, tls_connector, Client};

#[test]
fn self_signed_https_is_served_and_its_ca_reused() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.tls_self_signed = true;
    let server = start(cfg.clone()).unwrap();
    assert!(
        server.endpoint.starts_with("https://127.0.0.1:"),
        "{}",
        server.endpoint
    );
    let ca = dir.path().join("ca.pem");
    assert_eq!(server.ca_file.as_deref(), Some(ca.as_path()));
    let c = Client::new(&server, dir.path());
    let id = c.ok("CreateKey", json!({}))["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Keep-alive is not needed; a few requests on fresh connections.
    for _ in 0..3 {
        c.ok("DescribeKey", json!({"KeyId": id}));
    }
    c.fails(
        "DescribeKey",
        json!({"KeyId": "alias/x"}),
        "NotFoundException",
    );

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut tcp = std::net::TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        .unwrap();
    let mut got = Vec::new();
    let _ = tcp.read_to_end(&mut got);
    assert!(
        !got.starts_with(b"HTTP/"),
        "{}",
        String::from_utf8_lossy(&got)
    );

    let ca_pem = std::fs::read(&ca).unwrap();
    let first = tls_connector(&ca);
    server.stop().unwrap();

    // The same CA after a restart: a client trusting the first one still connects.
    let server = start(cfg).unwrap();
    assert_eq!(std::fs::read(&ca).unwrap(), ca_pem);
    let c = Client::with(server.addr, Some(first), admin_credential(dir.path()));
    c.ok("DescribeKey", json!({"KeyId": id}));
    server.stop().unwrap();

    // The handler saw each client's address (ConnectInfo through the TLS accept loop).
    let events = audit_query(dir.path(), None, None).unwrap();
    assert!(events.len() >= 6);
    assert!(events.iter().all(|e| e.source == "127.0.0.1"), "{events:?}");
}

#[test]
fn supplied_certificate_and_bind_policy() {
    let gen = tempfile::tempdir().unwrap();
    let mut cfg = config(gen.path());
    cfg.tls_self_signed = true;
    start(cfg).unwrap().stop().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.tls = Some(TlsFiles {
        cert: gen.path().join("server.pem"),
        key: gen.path().join("server.key"),
    });
    let server = start(cfg.clone()).unwrap();
    assert!(server.endpoint.starts_with("https://"));
    assert!(server.ca_file.is_none());
    assert!(!dir.path().join("ca.pem").exists());
    let c = Client::with(
        server.addr,
        Some(tls_connector(&gen.path().join("ca.pem"))),
        admin_credential(dir.path()),
    );
    c.ok("ListKeys", json!({}));
    server.stop().unwrap();

    // A key file that is not a key: refused at start.
    cfg.tls = Some(TlsFiles {
        cert: gen.path().join("server.pem"),
        key: gen.path().join("ca.pem"),
    });
    assert!(start(cfg).is_err());

    // Plaintext on a non-loopback address is refused without --insecure-allow-plaintext.
    let mut cfg = config(dir.path());
    cfg.addr = SocketAddr::from(([0, 0, 0, 0], 0));
    let e = start(cfg).unwrap_err();
    assert!(e.to_string().contains("--insecure-allow-plaintext"), "{e}");
}

#[test]
fn cli_serves_https_and_prints_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_volcrypt"))
        .args([
            "kms",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tls-self-signed",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["event"], "listening");
    let endpoint = v["endpoint"].as_str().unwrap();
    let ca = dir.path().join("ca.pem");
    assert_eq!(v["ca_file"], ca.display().to_string());
    let addr: SocketAddr = endpoint.strip_prefix("https://").unwrap().parse().unwrap();
    let c = Client::with(addr, Some(tls_connector(&ca)), admin_credential(dir.path()));
    c.ok("GenerateRandom", json!({"NumberOfBytes": 16}));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}
