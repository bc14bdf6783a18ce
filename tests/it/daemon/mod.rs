//! The daemon, run as the real binary (`volcrypt daemon`) with a config in a scratch
//! directory, and driven through its Unix socket: with the library's client and, for the
//! error cases, hand-written HTTP/1.1. Metrics are scraped over loopback TCP.

mod api;
mod blockdev;
mod ops;
mod restart;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use volcrypt::daemon::client::Client;

/// A running daemon and its scratch directory.
pub struct Daemon {
    pub config: PathBuf,
    pub socket: PathBuf,
    pub metrics: String,
    pub log: PathBuf,
    pub child: Option<Child>,
}

/// A free loopback port (bound and released; good enough for a test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes a config for a daemon in `dir` (`extra`: more TOML, e.g. a `[jobs]` section).
pub fn write_config(dir: &Path, extra: &str) -> (PathBuf, PathBuf, String) {
    let socket = dir.join("run/volcrypt.sock");
    let metrics = format!("127.0.0.1:{}", free_port());
    let config = dir.join("volcrypt.toml");
    let text = format!(
        "[daemon]\nsocket = {:?}\nmetrics = {metrics:?}\ndata_dir = {:?}\n\n[engine]\nio = \"pread\"\nthreads = 2\n\n{extra}\n",
        socket.display().to_string(),
        dir.join("data").display().to_string(),
    );
    std::fs::write(&config, text).unwrap();
    (config, socket, metrics)
}

impl Daemon {
    /// Starts a daemon in `dir` with `extra` config, and waits until it answers.
    pub fn start(dir: &Path, extra: &str) -> Daemon {
        Daemon::start_with(dir, extra, &[])
    }

    /// [`Self::start`] with environment variables.
    pub fn start_with(dir: &Path, extra: &str, env: &[(&str, &str)]) -> Daemon {
        let (config, socket, metrics) = write_config(dir, extra);
        let mut d = Daemon {
            config,
            socket,
            metrics,
            log: dir.join("daemon.log"),
            child: None,
        };
        d.spawn(env);
        d
    }

    /// Starts the daemon process again (same config, store and socket).
    pub fn spawn(&mut self, env: &[(&str, &str)]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_volcrypt"));
        cmd.args([
            "daemon",
            "--log-format",
            "json",
            "--log-level",
            "debug",
            "--config",
        ])
        .arg(&self.config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().unwrap());
        let t = Instant::now();
        while self.raw("GET", "/v1/health", "").0 != 200 {
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the daemon exited with {st}: {}", self.log_text());
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "the daemon did not come up: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.socket)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One HTTP/1.1 request over the socket; the status and the JSON body (Null if none).
    pub fn raw(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let Ok(mut s) = UnixStream::connect(&self.socket) else {
            return (0, Value::Null);
        };
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: volcrypt\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status = out
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// Submits `spec` (JSON) and returns the job id.
    pub fn submit(&self, spec: Value) -> u64 {
        let (code, v) = self.raw("POST", "/v1/jobs", &spec.to_string());
        assert_eq!(code, 201, "submit {spec}: {v}");
        v["id"].as_u64().unwrap()
    }

    pub fn status(&self, id: u64) -> Value {
        self.client().status(id).unwrap()
    }

    /// Polls job `id` until `pred` holds (30 s at most).
    pub fn until(&self, id: u64, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let t = Instant::now();
        loop {
            let j = self.status(id);
            if pred(&j) {
                return j;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "job {id} never got {what}: {j}\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for job `id` to reach `state`.
    pub fn state(&self, id: u64, state: &str) -> Value {
        self.until(id, state, |j| j["state"] == state)
    }

    /// Sends `sig` and waits for the exit status.
    pub fn signal(&mut self, sig: i32) -> std::process::ExitStatus {
        let mut c = self.child.take().unwrap();
        let pid = c.id().to_string();
        let name = format!("-{sig}");
        Command::new("kill")
            .args([name.as_str(), pid.as_str()])
            .status()
            .unwrap();
        c.wait().unwrap()
    }

    /// Scrapes the metrics endpoint.
    pub fn scrape(&self) -> String {
        let mut s = std::net::TcpStream::connect(&self.metrics).unwrap();
        write!(
            s,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        out.split_once("\r\n\r\n").unwrap().1.to_owned()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A JSON job spec for `op` on `vol` with key file `key` and more fields.
pub fn spec(op: &str, vol: &Path, key: &Path, more: Value) -> Value {
    let mut v = serde_json::json!({"op": op, "volume": vol, "key_file": key});
    if let (Value::Object(m), Value::Object(extra)) = (&mut v, more) {
        m.extend(extra);
    }
    v
}
