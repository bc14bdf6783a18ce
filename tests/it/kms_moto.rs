//! The KMS provider against a second, independent KMS implementation: moto's server
//! (`moto_server`, installed into `.venv` by `scripts/test.sh` from tests/kms/requirements.txt).
//!
//! The server is found through `VOLCRYPT_MOTO_SERVER` (a path), else `.venv/bin/moto_server`
//! in the repository. When neither exists each test prints `SKIP moto: ...` and passes, unless
//! `VOLCRYPT_REQUIRE_MOTO=1` (set by scripts/test.sh), which turns the skip into a failure.
//!
//! moto's KMS differs from AWS in ways these tests rely on knowing (moto 5.2.5): Decrypt with
//! the wrong key, or of a corrupted blob, answers `AccessDeniedException` with an empty message
//! (AWS: `IncorrectKeyException` / `InvalidCiphertextException`); a disabled key still
//! decrypts and generates data keys (AWS: `DisabledException`); AWS managed aliases other than
//! the well-known `alias/aws/<service>` ones do not exist, so `alias/aws/volcrypt` is
//! `NotFoundException`; credentials and signatures are not checked.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use volcrypt::keys::{KmsKeyProvider, KmsOptions};

use crate::kms_client::aws_cli;
use crate::util::*;

const LEN: u64 = 150 * KIB + 5;
const SKIP: &str = "SKIP moto: moto_server not installed (scripts/test.sh installs it into .venv)";

/// A `moto_server` on a free loopback port, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
    /// Scratch space: moto's log, volumes, an empty AWS config.
    dir: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `moto_server` to run, if installed.
fn moto_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VOLCRYPT_MOTO_SERVER").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "VOLCRYPT_MOTO_SERVER={} does not exist",
            p.display()
        );
        return Some(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    p.is_file().then_some(p)
}

/// True when `addr` answers moto's admin API with HTTP 200.
fn answers(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET /moto-api/ HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

impl Moto {
    /// Starts moto, or returns `None` (after printing the skip line) when it is not installed.
    fn start() -> Option<Moto> {
        let Some(bin) = moto_server() else {
            assert!(
                std::env::var("VOLCRYPT_REQUIRE_MOTO").as_deref() != Ok("1"),
                "{SKIP}; VOLCRYPT_REQUIRE_MOTO=1 requires it"
            );
            println!("{SKIP}");
            return None;
        };
        let dir = scratch();
        let log_path = dir.path().join("moto.log");
        // A free port: bind port 0, release it, start moto on it. Another process may take
        // the port in between; moto then exits ("Address already in use") and we try again.
        for _ in 0..5 {
            let addr = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            let log = std::fs::File::create(&log_path).unwrap();
            let mut child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &addr.port().to_string()])
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if answers(addr) {
                    return Some(Moto {
                        child,
                        endpoint: format!("http://{addr}"),
                        dir,
                    });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "moto_server did not come up; its log:\n{}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
    }

    /// A library provider for administrative SDK calls (CreateKey, CreateAlias).
    fn admin(&self) -> KmsKeyProvider {
        KmsKeyProvider::with_static_credentials(
            &self.endpoint,
            "us-east-1",
            "testing",
            "testing",
            KmsOptions::default(),
        )
        .unwrap()
    }

    /// The binary with static test credentials in the environment and `--kms-endpoint`
    /// appended.
    fn cli(&self, args: &[&dyn AsRef<OsStr>]) -> Run {
        let mut all: Vec<&dyn AsRef<OsStr>> = args.to_vec();
        all.push(&"--kms-endpoint");
        all.push(&self.endpoint);
        aws_cli(
            self.dir.path(),
            &[
                ("AWS_ACCESS_KEY_ID", &"testing"),
                ("AWS_SECRET_ACCESS_KEY", &"testing"),
                ("AWS_REGION", &"us-east-1"),
            ],
            &all,
        )
    }
}

/// Encrypt, verify, rewrap, rekey and decrypt a volume through the binary with keys created in
/// moto; the SHA-256 of the round trip equals the original's.
#[test]
fn moto_round_trip() {
    let Some(m) = Moto::start() else { return };
    let admin = m.admin();
    let arn = admin.create_key("volcrypt moto round trip").unwrap();
    assert!(arn.starts_with("arn:aws:kms:us-east-1:"), "{arn}");
    admin.create_alias("alias/volcrypt-moto", &arn).unwrap();

    let p = m.dir.path().join("vol");
    let sha = write_pattern(&p, LEN, 31);
    m.cli(&[
        &"encrypt",
        &p,
        &"--kms-key",
        &"alias/volcrypt-moto",
        &"--chunk-size",
        &"4K",
        &"-q",
    ])
    .ok();
    assert_ne!(sha_file(&p), sha);
    let j: serde_json::Value =
        serde_json::from_slice(&volcrypt(&[&"info", &p, &"--json"]).ok().stdout).unwrap();
    assert_eq!(j["keyslots"][0]["kind"], "kms");
    assert_eq!(j["keyslots"][0]["key_id"], arn.as_str());
    m.cli(&[&"verify", &p, &"--kms", &"-q"]).ok();

    // Rewrap under a second key (one ReEncrypt), then rekey (new data key v2 under it).
    let arn2 = admin.create_key("volcrypt moto rewrap target").unwrap();
    let data = sha_range(&p, 0, LEN);
    m.cli(&[&"rewrap", &p, &"--to-kms-key", &arn2, &"-q"]).ok();
    assert_eq!(sha_range(&p, 0, LEN), data, "rewrap touched the data");
    let j: serde_json::Value =
        serde_json::from_slice(&volcrypt(&[&"info", &p, &"--json"]).ok().stdout).unwrap();
    assert_eq!(j["keyslots"][0]["key_id"], arn2.as_str());
    m.cli(&[&"verify", &p, &"--kms", &"-q"]).ok();
    m.cli(&[&"rekey", &p, &"--kms", &"-q"]).ok();
    let j: serde_json::Value =
        serde_json::from_slice(&volcrypt(&[&"info", &p, &"--json"]).ok().stdout).unwrap();
    assert_eq!(
        (j["cur_ver"].as_u64(), j["keyslots"][0]["key_id"].as_str()),
        (Some(2), Some(arn2.as_str()))
    );
    assert_ne!(sha_range(&p, 0, LEN), data, "rekey re-sealed the data");
    m.cli(&[&"verify", &p, &"--kms", &"-q"]).ok();

    m.cli(&[&"decrypt", &p, &"--kms", &"-q"]).ok();
    assert_eq!(sha_file(&p), sha);
}

/// Naming another key on Decrypt is refused by moto (as AccessDeniedException, where AWS says
/// IncorrectKeyException); the volume is left as it was.
#[test]
fn moto_wrong_key_is_a_clear_error_and_nothing_changes() {
    let Some(m) = Moto::start() else { return };
    let admin = m.admin();
    let arn = admin.create_key("right").unwrap();
    let other = admin.create_key("wrong").unwrap();
    let p = m.dir.path().join("vol");
    write_pattern(&p, LEN, 32);
    m.cli(&[&"encrypt", &p, &"--kms-key", &arn, &"-q"]).ok();
    let before = sha_file(&p);
    m.cli(&[&"decrypt", &p, &"--kms-key", &other])
        .fails(1, &["AccessDeniedException", &other, &m.endpoint]);
    assert_eq!(sha_file(&p), before);
    // moto has no alias/aws/volcrypt: encrypting with the default key is a clear NotFound,
    // before anything is written.
    let q = m.dir.path().join("plain");
    let sha = write_pattern(&q, LEN, 33);
    m.cli(&[&"encrypt", &q, &"--kms"])
        .fails(1, &["NotFoundException", "alias/aws/volcrypt"]);
    assert_eq!((file_len(&q), sha_file(&q)), (LEN, sha));
    m.cli(&[&"verify", &p, &"--kms", &"-q"]).ok();
}
