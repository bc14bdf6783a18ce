//! The KMS errors a user hits, against the local KMS server in-process on 127.0.0.1: access
//! denied (a principal the key policy does not allow), a key pending deletion, a key or alias
//! that does not exist, a wrong encryption context (an edited or copied header), throttling
//! that outlasts the SDK's retries (the server's request quota), and a volume opened with
//! another key. Each is a clear message naming the problem, the key and the endpoint, and
//! leaves the volume byte-identical (SHA-256 before and after). (A disabled key and an
//! unreachable endpoint are in `kms_provider.rs`.)

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use volcrypt::engine::{self, EngineError, VolumeRef};
use volcrypt::format::header_offsets;
use volcrypt::keys::{KeyContext, KeyError, KmsKeyProvider, KmsOptions};
use volcrypt::kms::server::{start, CredentialFile, RunningServer, ServerConfig};

use crate::util::*;

const LEN: u64 = 96 * KIB + 17;
const ACCOUNT: &str = "111122223333";
const READER: &str = "arn:aws:iam::111122223333:user/reader";

struct Kms {
    dir: tempfile::TempDir,
    server: RunningServer,
    admin: CredentialFile,
    reader: CredentialFile,
}

fn reader_credential() -> CredentialFile {
    CredentialFile {
        access_key_id: "AKIAREADERREADER0001".into(),
        secret_access_key: "reader-secret-reader-secret-reader-secret".into(),
        principal_arn: READER.into(),
        account_id: ACCOUNT.into(),
        session_token: None,
    }
}

fn config(dir: &Path, quota: Option<u32>) -> ServerConfig {
    let mut cfg = ServerConfig::new(dir.join("kms"));
    cfg.addr = "127.0.0.1:0".parse().unwrap();
    cfg.credentials_file = Some(dir.join("extra-credentials.json"));
    cfg.request_quota = quota;
    cfg
}

/// A server with the admin credential and a second principal, `user/reader`, of the same
/// account.
fn kms(quota: Option<u32>) -> Kms {
    let dir = scratch();
    let reader = reader_credential();
    std::fs::write(
        dir.path().join("extra-credentials.json"),
        serde_json::to_vec(&[&reader]).unwrap(),
    )
    .unwrap();
    let server = start(config(dir.path(), quota)).unwrap();
    let raw = std::fs::read(dir.path().join("kms/credentials.json")).unwrap();
    let admin: CredentialFile = serde_json::from_slice(&raw).unwrap();
    Kms {
        dir,
        server,
        admin,
        reader,
    }
}

impl Kms {
    fn provider_as(&self, who: &CredentialFile, key: Option<&str>) -> KmsKeyProvider {
        let opts = KmsOptions {
            key_id: key.map(str::to_owned),
            timeout: Duration::from_secs(5),
            max_attempts: 2,
            ..KmsOptions::default()
        };
        KmsKeyProvider::with_static_credentials(
            &self.server.endpoint,
            "us-east-1",
            &who.access_key_id,
            &who.secret_access_key,
            opts,
        )
        .unwrap()
    }

    fn admin(&self, key: Option<&str>) -> KmsKeyProvider {
        self.provider_as(&self.admin, key)
    }

    /// Runs one admin SDK call on a private runtime and client.
    fn sdk<T, F, Fut>(&self, f: F) -> T
    where
        F: FnOnce(aws_sdk_kms::Client) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        crate::kms_provider::sdk_call(&self.server.endpoint, &self.admin, f)
    }

    /// Runs the binary as `who`, through the standard credential chain (environment).
    fn cli(&self, who: &CredentialFile, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_volcrypt"))
            .args(args.iter().map(|a| a.as_ref()))
            .env("AWS_ACCESS_KEY_ID", &who.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &who.secret_access_key)
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

    /// A KMS-encrypted volume under `key`: its path and the SHA-256 of the encrypted file.
    fn volume(&self, name: &str, key: &str, seed: u64) -> (std::path::PathBuf, [u8; 32]) {
        let p = self.dir.path().join(name);
        write_pattern(&p, LEN, seed);
        engine::encrypt(
            &VolumeRef::attached(&p),
            None,
            Some(4 * KIB),
            &self.admin(Some(key)),
            &o(),
        )
        .unwrap();
        let sha = sha_file(&p);
        (p, sha)
    }
}

fn o() -> volcrypt::engine::RunOptions {
    opts(ENGINES[0], volcrypt::crypto::Backend::Ring)
}

fn has_all(msg: &str, needles: &[&str]) {
    for n in needles {
        assert!(msg.contains(n), "{n:?} missing from: {msg}");
    }
}

fn kms_code(e: &EngineError) -> &str {
    match e {
        EngineError::Key(KeyError::Kms { code, .. }) => code,
        other => panic!("not a KMS error: {other}"),
    }
}

#[test]
fn kms_access_denied_names_the_principal_and_key_and_changes_nothing() {
    let k = kms(None);
    let admin_arn = k.admin.principal_arn.clone();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "only the admin",
            "Effect": "Allow",
            "Principal": {"AWS": admin_arn},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string();
    let arn = k.sdk(|c| async move {
        c.create_key()
            .policy(policy)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap()
            .arn
            .unwrap()
    });
    let (p, before) = k.volume("vol", &arn, 21);
    let ep = k.server.endpoint.clone();

    // The reader may not Decrypt with this key.
    let reader = k.provider_as(&k.reader, None);
    let e = engine::decrypt(&VolumeRef::attached(&p), None, &reader, &o()).unwrap_err();
    assert_eq!(kms_code(&e), "AccessDeniedException");
    has_all(
        &e.to_string(),
        &[
            "access denied",
            "Decrypt",
            &arn,
            &ep,
            "key policy",
            READER,
            "kms:Decrypt",
        ],
    );
    assert_eq!(sha_file(&p), before);
    k.cli(
        &k.reader,
        &[&"decrypt", &p, &"--kms", &"--kms-endpoint", &ep],
    )
    .fails(1, &["AccessDeniedException", &arn, &ep, READER]);
    k.cli(
        &k.reader,
        &[&"verify", &p, &"--kms", &"--kms-endpoint", &ep],
    )
    .fails(1, &["access denied", &arn]);
    assert_eq!(sha_file(&p), before);

    // Nor GenerateDataKey: encrypting a new volume fails before anything is written.
    let q = k.dir.path().join("plain");
    let sha = write_pattern(&q, LEN, 22);
    let e = engine::encrypt(
        &VolumeRef::attached(&q),
        None,
        None,
        &k.provider_as(&k.reader, Some(&arn)),
        &o(),
    )
    .unwrap_err();
    assert_eq!(kms_code(&e), "AccessDeniedException");
    has_all(
        &e.to_string(),
        &["GenerateDataKey", "kms:GenerateDataKey", &arn],
    );
    assert_eq!((file_len(&q), sha_file(&q)), (LEN, sha));

    // The admin still can.
    engine::decrypt(&VolumeRef::attached(&p), None, &k.admin(None), &o()).unwrap();
}

#[test]
fn kms_key_pending_deletion_is_a_clear_error_and_nothing_changes() {
    let k = kms(None);
    let arn = k.admin(None).create_key("to be deleted").unwrap();
    let (p, before) = k.volume("vol", &arn, 31);
    let ep = k.server.endpoint.clone();
    let id = arn.clone();
    k.sdk(|c| async move {
        c.schedule_key_deletion()
            .key_id(id)
            .pending_window_in_days(7)
            .send()
            .await
            .unwrap()
    });
    let e = engine::decrypt(&VolumeRef::attached(&p), None, &k.admin(None), &o()).unwrap_err();
    assert_eq!(kms_code(&e), "KMSInvalidStateException");
    has_all(
        &e.to_string(),
        &["pending deletion", "CancelKeyDeletion", &arn, &ep],
    );
    assert_eq!(sha_file(&p), before);
    k.cli(&k.admin, &[&"cat", &p, &"--kms-endpoint", &ep])
        .fails(1, &["pending deletion", &arn, &ep]);
    assert_eq!(sha_file(&p), before);

    // Cancelling the deletion and enabling the key (the message's advice) opens it again.
    let id = arn.clone();
    k.sdk(|c| async move {
        c.cancel_key_deletion().key_id(&id).send().await.unwrap();
        c.enable_key().key_id(id).send().await.unwrap();
    });
    assert!(
        engine::verify(&VolumeRef::attached(&p), &k.admin(None), &o())
            .unwrap()
            .ok()
    );
}

#[test]
fn kms_key_not_found_writes_nothing() {
    let k = kms(None);
    let ep = k.server.endpoint.clone();
    let q = k.dir.path().join("plain");
    let sha = write_pattern(&q, LEN, 41);
    for missing in [
        "alias/no-such-alias",
        "0b5c7b0e-1d2f-4a3b-9c8d-7e6f5a4b3c2d",
        "arn:aws:kms:us-east-1:111122223333:key/0b5c7b0e-1d2f-4a3b-9c8d-7e6f5a4b3c2d",
    ] {
        let e = engine::encrypt(
            &VolumeRef::attached(&q),
            None,
            None,
            &k.admin(Some(missing)),
            &o(),
        )
        .unwrap_err();
        assert_eq!(kms_code(&e), "NotFoundException");
        has_all(&e.to_string(), &["not found", missing, &ep, "region"]);
        assert_eq!((file_len(&q), sha_file(&q)), (LEN, sha));
        k.cli(
            &k.admin,
            &[
                &"encrypt",
                &q,
                &"--kms-key",
                &missing,
                &"--kms-endpoint",
                &ep,
            ],
        )
        .fails(1, &["NotFoundException", missing, &ep]);
        // No header, no growth, not a byte changed.
        assert_eq!((file_len(&q), sha_file(&q)), (LEN, sha));
    }
}

/// Rewrites the header UUID (and optionally keyslot 0's context hash) in every header slot
/// whose CRC verifies, fixing each CRC. Returns how many slots were edited.
fn edit_header(path: &Path, uuid: [u8; 16], ctx_hash: Option<[u8; 32]>) -> usize {
    let (a, b) = header_offsets(file_len(path)).unwrap();
    let mut edited = 0;
    for off in [a, b] {
        let mut h = read_at(path, off, 4096);
        let crc = u32::from_le_bytes(h[4056..4060].try_into().unwrap());
        if crc32c::crc32c(&h[..4056]) != crc {
            continue;
        }
        h[24..40].copy_from_slice(&uuid);
        if let Some(hash) = ctx_hash {
            // Keyslot 0 (version 1) at header byte 256; its context hash at +32..+64.
            h[256 + 32..256 + 64].copy_from_slice(&hash);
        }
        let crc = crc32c::crc32c(&h[..4056]);
        h[4056..4060].copy_from_slice(&crc.to_le_bytes());
        write_at(path, off, &h);
        edited += 1;
    }
    edited
}

#[test]
fn kms_wrong_encryption_context_is_refused_and_nothing_changes() {
    let k = kms(None);
    let arn = k.admin(None).create_key("context").unwrap();
    let (orig, _) = k.volume("orig", &arn, 51);
    let uuid = engine::info(&VolumeRef::attached(&orig)).unwrap().uuid;
    let ep = k.server.endpoint.clone();

    // A copy whose header UUID was changed: the keyslot's recorded context no longer matches,
    // and the engine says so without asking KMS.
    let p = k.dir.path().join("copy");
    std::fs::copy(&orig, &p).unwrap();
    let mut new_uuid = [0u8; 16];
    new_uuid.copy_from_slice(&volcrypt::crypto::sha256(b"another volume")[..16]);
    assert_ne!(new_uuid.to_vec(), uuid_bytes(&uuid));
    assert!(edit_header(&p, new_uuid, None) >= 1);
    let before = sha_file(&p);
    let e = engine::decrypt(&VolumeRef::attached(&p), None, &k.admin(None), &o()).unwrap_err();
    assert!(
        matches!(e, EngineError::ContextMismatch { version: 1 }),
        "{e}"
    );
    has_all(&e.to_string(), &["encryption context", "does not match"]);
    assert_eq!(sha_file(&p), before);
    k.cli(&k.admin, &[&"verify", &p, &"--kms", &"--kms-endpoint", &ep])
        .fails(1, &["encryption context", "does not match"]);
    assert_eq!(sha_file(&p), before);

    // The keyslot's context hash edited to match: the engine asks KMS with the new context,
    // and KMS refuses the blob (it is bound to the original UUID).
    let hash = KeyContext::volume(new_uuid, 1).hash();
    assert!(edit_header(&p, new_uuid, Some(hash)) >= 1);
    let before = sha_file(&p);
    let e = engine::decrypt(&VolumeRef::attached(&p), None, &k.admin(None), &o()).unwrap_err();
    assert_eq!(kms_code(&e), "InvalidCiphertextException");
    has_all(
        &e.to_string(),
        &[
            "encryption context",
            "volume UUID",
            "edited or copied",
            &arn,
            &ep,
            "(InvalidCiphertextException)",
        ],
    );
    assert_eq!(sha_file(&p), before);
    k.cli(
        &k.admin,
        &[&"decrypt", &p, &"--kms", &"--kms-endpoint", &ep],
    )
    .fails(1, &["InvalidCiphertextException", &arn]);
    assert_eq!(sha_file(&p), before);

    // The original is untouched and still opens.
    assert!(
        engine::verify(&VolumeRef::attached(&orig), &k.admin(None), &o())
            .unwrap()
            .ok()
    );
}

/// The UUID of `info`'s report as bytes (it prints 8-4-4-4-12 hex).
fn uuid_bytes(s: &str) -> Vec<u8> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn kms_throttling_that_outlasts_the_retries_is_a_clear_error() {
    // Encrypt a volume on a server without a quota, then restart it on the same data dir
    // with a quota of 0: every cryptographic request is throttled.
    let k = kms(None);
    let arn = k.admin(None).create_key("throttled").unwrap();
    let (p, before) = k.volume("vol", &arn, 61);
    let Kms {
        dir,
        server,
        admin,
        reader,
    } = k;
    server.stop().unwrap();
    let server = start(config(dir.path(), Some(0))).unwrap();
    let k = Kms {
        dir,
        server,
        admin,
        reader,
    };
    let ep = k.server.endpoint.clone();

    let t = Instant::now();
    let e = engine::decrypt(&VolumeRef::attached(&p), None, &k.admin(None), &o()).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert_eq!(kms_code(&e), "ThrottlingException");
    has_all(
        &e.to_string(),
        &["throttled", "Decrypt", "2 attempt(s)", &arn, &ep, "rate"],
    );
    assert_eq!(sha_file(&p), before);

    // A new volume: GenerateDataKey is throttled, nothing is written.
    let q = k.dir.path().join("plain");
    let sha = write_pattern(&q, LEN, 62);
    let t = Instant::now();
    let e = engine::encrypt(
        &VolumeRef::attached(&q),
        None,
        None,
        &k.admin(Some(&arn)),
        &o(),
    )
    .unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert_eq!(kms_code(&e), "ThrottlingException");
    has_all(&e.to_string(), &["throttled", "GenerateDataKey", &arn]);
    assert_eq!((file_len(&q), sha_file(&q)), (LEN, sha));

    // Management calls are not throttled: the key is still there and usable once the quota
    // allows it.
    let id = arn.clone();
    k.sdk(|c| async move { c.describe_key().key_id(id).send().await.unwrap() });
}

#[test]
fn kms_incorrect_key_names_the_key_and_changes_nothing() {
    let k = kms(None);
    let a = k.admin(None).create_key("key A").unwrap();
    let b = k.admin(None).create_key("key B").unwrap();
    let (p, before) = k.volume("vol", &a, 71);
    let ep = k.server.endpoint.clone();
    let e = engine::decrypt(&VolumeRef::attached(&p), None, &k.admin(Some(&b)), &o()).unwrap_err();
    assert_eq!(kms_code(&e), "IncorrectKeyException");
    has_all(
        &e.to_string(),
        &["not wrapped by KMS key", &b, &ep, "--kms"],
    );
    assert_eq!(sha_file(&p), before);
    k.cli(
        &k.admin,
        &[&"decrypt", &p, &"--kms-key", &b, &"--kms-endpoint", &ep],
    )
    .fails(1, &["IncorrectKeyException", &b, &ep]);
    assert_eq!(sha_file(&p), before);
    // The right key (or none: the keyslot's) opens it.
    engine::decrypt(&VolumeRef::attached(&p), None, &k.admin(Some(&a)), &o()).unwrap();
}
