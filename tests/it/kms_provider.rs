//! Volumes keyed by KMS (`KmsKeyProvider` over `aws-sdk-kms`) against the local KMS server
//! in-process on loopback: the library API and the `volcrypt` binary (standard credential
//! chain through `AWS_*` environment variables), `info` showing the KMS keyslot, the keyslot
//! blob being a real KMS CiphertextBlob, and the errors users hit (disabled key, unreachable
//! endpoint), each leaving the volume unchanged.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use volcrypt::engine::{self, VolumeRef};
use volcrypt::format::{header_offsets, Header, KeyKind, Keyslot, Slot};
use volcrypt::keys::{KeyContext, KeyError, KmsKeyProvider, KmsOptions};
use volcrypt::kms::server::{start, CredentialFile, RunningServer, ServerConfig};

use crate::util::*;

const LEN: u64 = 200 * KIB + 123;

/// The local KMS server in-process on 127.0.0.1, with its admin credential (shared by the
/// other KMS test modules).
pub(crate) struct Kms {
    pub dir: tempfile::TempDir,
    pub server: RunningServer,
    pub cred: CredentialFile,
}

pub(crate) fn kms() -> Kms {
    let dir = scratch();
    let mut cfg = ServerConfig::new(dir.path().join("kms"));
    cfg.addr = "127.0.0.1:0".parse().unwrap();
    let server = start(cfg).unwrap();
    let raw = std::fs::read(dir.path().join("kms/credentials.json")).unwrap();
    let cred: CredentialFile = serde_json::from_slice(&raw).unwrap();
    Kms { dir, server, cred }
}

impl Kms {
    pub fn provider(&self, key: Option<&str>) -> KmsKeyProvider {
        let opts = KmsOptions {
            key_id: key.map(str::to_owned),
            ..KmsOptions::default()
        };
        KmsKeyProvider::with_static_credentials(
            &self.server.endpoint,
            "us-east-1",
            &self.cred.access_key_id,
            &self.cred.secret_access_key,
            opts,
        )
        .unwrap()
    }

    /// Runs one admin SDK call on a private runtime and client.
    pub fn sdk<T, F, Fut>(&self, f: F) -> T
    where
        F: FnOnce(aws_sdk_kms::Client) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        sdk_call(&self.server.endpoint, &self.cred, f)
    }

    /// Runs the binary with the AWS credential chain fed through the environment.
    pub fn cli(&self, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_volcrypt"))
            .args(args.iter().map(|a| a.as_ref()))
            .env("AWS_ACCESS_KEY_ID", &self.cred.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.cred.secret_access_key)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", self.dir.path().join("no-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("no-creds"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_KMS")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap(),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The active keyslot (version 1) and the volume UUID, read from the attached header.
pub(crate) fn keyslot(path: &Path) -> (Keyslot, [u8; 16]) {
    let (a, b) = header_offsets(file_len(path)).unwrap();
    for (off, slot) in [(a, Slot::A), (b, Slot::B)] {
        if let Ok(h) = Header::decode(&read_at(path, off, 4096), slot) {
            let h: &Header = h.peek();
            if let Some(k) = h.keyslot(1) {
                return (k.clone(), h.uuid);
            }
        }
    }
    panic!("no readable header with keyslot 1 in {}", path.display());
}

fn ctx_map(uuid: [u8; 16]) -> HashMap<String, String> {
    KeyContext::volume(uuid, 1).pairs().into_iter().collect()
}

#[test]
fn kms_library_round_trip_and_real_ciphertext_blob() {
    let k = kms();
    let admin = k.provider(None);
    let arn = admin.create_key("library test").unwrap();
    let keys = admin.with_key(&arn);
    let p = k.dir.path().join("vol");
    let sha = write_pattern(&p, LEN, 7);
    let vol = VolumeRef::attached(&p);
    let o = opts(ENGINES[0], volcrypt::crypto::Backend::Ring);
    engine::encrypt(&vol, None, Some(4 * KIB), &keys, &o).unwrap();
    let info = engine::info(&vol).unwrap();
    assert_eq!(info.keyslots[0].kind, KeyKind::Kms);
    assert_eq!(info.keyslots[0].key_id, arn);
    assert!(engine::verify(&vol, &keys, &o).unwrap().ok());

    // The keyslot blob is a KMS CiphertextBlob: Decrypt with the volume's context works,
    // with another key version's context it does not.
    let (slot, uuid) = keyslot(&p);
    assert_eq!(slot.key_id, arn);
    let blob = slot.blob.clone();
    let (ok, bad) = k.sdk(|c| async move {
        let ok = c
            .decrypt()
            .ciphertext_blob(Blob::new(blob.clone()))
            .set_encryption_context(Some(ctx_map(uuid)))
            .send()
            .await;
        let mut wrong = ctx_map(uuid);
        wrong.insert("volcrypt:key-version".into(), "2".into());
        let bad = c
            .decrypt()
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(Some(wrong))
            .send()
            .await;
        (ok, bad)
    });
    let ok = ok.unwrap();
    assert_eq!(ok.key_id.as_deref(), Some(arn.as_str()));
    assert_eq!(ok.plaintext.unwrap().into_inner().len(), 32);
    let bad = bad.unwrap_err().into_service_error();
    assert_eq!(bad.code(), Some("InvalidCiphertextException"));

    // --kms alone: no key named, the keyslot's ARN is used.
    engine::decrypt(&vol, None, &k.provider(None), &o).unwrap();
    assert_eq!(sha_file(&p), sha);

    // No key named on encrypt: the AWS managed alias/aws/volcrypt, created on first use.
    let q = k.dir.path().join("managed");
    let sha = write_pattern(&q, LEN, 8);
    let vol = VolumeRef::attached(&q);
    engine::encrypt(&vol, None, None, &k.provider(None), &o).unwrap();
    let managed = engine::info(&vol).unwrap().keyslots[0].key_id.clone();
    assert!(
        managed.starts_with("arn:aws:kms:us-east-1:") && managed != arn,
        "{managed}"
    );
    engine::decrypt(&vol, None, &k.provider(Some(&managed)), &o).unwrap();
    assert_eq!(sha_file(&q), sha);
}

#[test]
fn kms_cli_round_trip_with_standard_credential_chain() {
    let k = kms();
    let arn = k.provider(None).create_key("cli test").unwrap();
    k.provider(None)
        .create_alias("alias/cli-test", &arn)
        .unwrap();
    let ep = k.server.endpoint.clone();
    let p = k.dir.path().join("vol");
    let sha = write_pattern(&p, LEN, 9);
    k.cli(&[
        &"encrypt",
        &p,
        &"--kms-key",
        &"alias/cli-test",
        &"--kms-endpoint",
        &ep,
        &"--chunk-size",
        &"4K",
        &"-q",
    ])
    .ok();
    let info = k.cli(&[&"info", &p]);
    info.ok();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("kms") && text.contains(&arn), "{text}");
    let j: serde_json::Value =
        serde_json::from_slice(&k.cli(&[&"info", &p, &"--json"]).stdout).unwrap();
    assert_eq!(j["keyslots"][0]["kind"], "kms");
    assert_eq!(j["keyslots"][0]["key_id"], arn.as_str());
    k.cli(&[&"verify", &p, &"--kms", &"--kms-endpoint", &ep, &"-q"])
        .ok();
    let cat = k.cli(&[&"cat", &p, &"--kms-endpoint", &ep]);
    cat.ok();
    assert_eq!(volcrypt::crypto::sha256(&cat.stdout), sha);
    // Naming a different key than the one that wrapped the data key is refused by KMS.
    let other = k.provider(None).create_key("other").unwrap();
    k.cli(&[&"verify", &p, &"--kms-key", &other, &"--kms-endpoint", &ep])
        .fails(1, &["IncorrectKeyException", &other]);
    // Exactly one of --key-file / KMS.
    let kf = key_file(k.dir.path(), "key", 3);
    k.cli(&[&"verify", &p, &"--kms", &"--key-file", &kf])
        .fails(2, &["--key-file"]);
    k.cli(&[
        &"decrypt",
        &p,
        &"--kms-key",
        &arn,
        &"--kms-endpoint",
        &ep,
        &"-q",
    ])
    .ok();
    assert_eq!(sha_file(&p), sha);
}

#[test]
fn kms_disabled_key_is_a_clear_error_and_nothing_changes() {
    let k = kms();
    let admin = k.provider(None);
    let arn = admin.create_key("to be disabled").unwrap();
    let keys = admin.with_key(&arn);
    let p = k.dir.path().join("vol");
    write_pattern(&p, LEN, 11);
    let vol = VolumeRef::attached(&p);
    let o = opts(ENGINES[0], volcrypt::crypto::Backend::Ring);
    engine::encrypt(&vol, None, Some(4 * KIB), &keys, &o).unwrap();
    let id = arn.clone();
    k.sdk(|c| async move { c.disable_key().key_id(id).send().await.unwrap() });
    let before = sha_file(&p);
    let e = engine::decrypt(&vol, None, &keys, &o)
        .unwrap_err()
        .to_string();
    for needle in [
        "disabled",
        "DisabledException",
        arn.as_str(),
        &k.server.endpoint,
    ] {
        assert!(e.contains(needle), "{needle:?} missing from: {e}");
    }
    assert_eq!(sha_file(&p), before);
    let ep = k.server.endpoint.clone();
    k.cli(&[&"decrypt", &p, &"--kms", &"--kms-endpoint", &ep])
        .fails(1, &["disabled", &arn, &ep]);
    assert_eq!(sha_file(&p), before);

    // Encrypting a new volume under the disabled key fails before anything is written.
    let q = k.dir.path().join("plain");
    let sha = write_pattern(&q, LEN, 12);
    let e = engine::encrypt(&VolumeRef::attached(&q), None, None, &keys, &o).unwrap_err();
    assert!(e.to_string().contains("DisabledException"), "{e}");
    assert_eq!((file_len(&q), sha_file(&q)), (LEN, sha));
}

#[test]
fn kms_unreachable_is_a_clear_error_within_the_timeout() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ep = format!("http://127.0.0.1:{port}");
    let dir = scratch();
    let p = dir.path().join("plain");
    let sha = write_pattern(&p, LEN, 13);
    let opts_kms = KmsOptions {
        key_id: Some("alias/anything".into()),
        timeout: Duration::from_secs(2),
        max_attempts: 2,
        ..KmsOptions::default()
    };
    let keys =
        KmsKeyProvider::with_static_credentials(&ep, "us-east-1", "AKID", "secret", opts_kms)
            .unwrap();
    let o = opts(ENGINES[0], volcrypt::crypto::Backend::Ring);
    let t = Instant::now();
    let e = engine::encrypt(&VolumeRef::attached(&p), None, None, &keys, &o).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let msg = e.to_string();
    assert!(
        matches!(e, engine::EngineError::Key(KeyError::KmsUnreachable(_))),
        "{msg}"
    );
    for needle in ["unreachable", ep.as_str(), "alias/anything"] {
        assert!(msg.contains(needle), "{needle:?} missing from: {msg}");
    }
    assert_eq!((file_len(&p), sha_file(&p)), (LEN, sha));

    // The binary, with the default 10 s timeout and 4 attempts.
    let k = kms();
    let t = Instant::now();
    k.cli(&[
        &"encrypt",
        &p,
        &"--kms-key",
        &"alias/x",
        &"--kms-endpoint",
        &ep,
    ])
    .fails(1, &["unreachable", &ep]);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert_eq!((file_len(&p), sha_file(&p)), (LEN, sha));
}

/// Runs one SDK call against `endpoint` as `who`, on a private runtime and client.
pub(crate) fn sdk_call<T, F, Fut>(endpoint: &str, who: &CredentialFile, f: F) -> T
where
    F: FnOnce(aws_sdk_kms::Client) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let conf = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            &who.access_key_id,
            &who.secret_access_key,
            None,
            None,
            "test",
        ))
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(f(aws_sdk_kms::Client::from_conf(conf)))
}
