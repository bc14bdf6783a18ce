//! KMS client configuration against the local KMS server in-process: HTTPS with a custom CA
//! bundle (`KmsOptions::ca_bundle`, `--kms-ca-bundle`, `AWS_CA_BUNDLE`), and the endpoint
//! taken from the AWS config file (a profile's `endpoint_url` and its `services` section),
//! with `AWS_ENDPOINT_URL_KMS` taking precedence over the file as in every AWS SDK.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use volcrypt::engine::{self, VolumeRef};
use volcrypt::keys::{KeyError, KmsKeyProvider, KmsOptions};
use volcrypt::kms::server::{start, CredentialFile, RunningServer, ServerConfig};

use crate::util::*;

const LEN: u64 = 100 * KIB + 17;

/// Runs the binary with a clean AWS environment: every `AWS_*` variable of the test process
/// removed, no config or credentials file, no IMDS; then `env` applied.
pub(crate) fn aws_cli(
    scratch: &Path,
    env: &[(&str, &dyn AsRef<OsStr>)],
    args: &[&dyn AsRef<OsStr>],
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_volcrypt"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("AWS_CONFIG_FILE", scratch.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", scratch.join("no-aws-creds"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (name, value) in env {
        cmd.env(name, value.as_ref());
    }
    let out = cmd.args(args.iter().map(|a| a.as_ref())).output().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A local KMS server on loopback (HTTPS with a generated CA when `tls`).
struct Local {
    dir: tempfile::TempDir,
    server: RunningServer,
    cred: CredentialFile,
}

impl Local {
    fn start(tls: bool) -> Local {
        let dir = scratch();
        let mut cfg = ServerConfig::new(dir.path().join("kms"));
        cfg.addr = "127.0.0.1:0".parse().unwrap();
        cfg.tls_self_signed = tls;
        let server = start(cfg).unwrap();
        let raw = std::fs::read(dir.path().join("kms/credentials.json")).unwrap();
        let cred: CredentialFile = serde_json::from_slice(&raw).unwrap();
        Local { dir, server, cred }
    }

    fn ca(&self) -> PathBuf {
        self.server.ca_file.clone().unwrap()
    }

    fn provider(&self, ca_bundle: Option<PathBuf>) -> Result<KmsKeyProvider, KeyError> {
        let opts = KmsOptions {
            ca_bundle,
            timeout: Duration::from_secs(5),
            max_attempts: 1,
            ..KmsOptions::default()
        };
        KmsKeyProvider::with_static_credentials(
            &self.server.endpoint,
            "us-east-1",
            &self.cred.access_key_id,
            &self.cred.secret_access_key,
            opts,
        )
    }

    /// The credential variables for [`aws_cli`].
    fn creds(&self) -> [(&'static str, OsString); 2] {
        [
            ("AWS_ACCESS_KEY_ID", self.cred.access_key_id.clone().into()),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.cred.secret_access_key.clone().into(),
            ),
        ]
    }

    /// The binary with this server's credentials, `env` and region us-east-1 (unless `env`
    /// gives a config file that names the region).
    fn cli(&self, env: &[(&str, &dyn AsRef<OsStr>)], args: &[&dyn AsRef<OsStr>]) -> Run {
        let creds = self.creds();
        let mut all: Vec<(&str, &dyn AsRef<OsStr>)> = creds
            .iter()
            .map(|(k, v)| (*k, v as &dyn AsRef<OsStr>))
            .collect();
        all.extend_from_slice(env);
        aws_cli(self.dir.path(), &all, args)
    }
}

#[test]
fn kms_https_with_ca_bundle_round_trips_and_without_it_fails_clearly() {
    let k = Local::start(true);
    assert!(k.server.endpoint.starts_with("https://127.0.0.1:"));
    let ca = k.ca();

    // (a) Library: the CA bundle makes the whole envelope round trip work over HTTPS.
    let admin = k.provider(Some(ca.clone())).unwrap();
    let arn = admin.create_key("tls test").unwrap();
    admin.create_alias("alias/tls", &arn).unwrap();
    let keys = admin.with_key(&arn);
    let p = k.dir.path().join("vol");
    let sha = write_pattern(&p, LEN, 21);
    let vol = VolumeRef::attached(&p);
    let o = opts(ENGINES[0], volcrypt::crypto::Backend::Ring);
    engine::encrypt(&vol, None, Some(4 * KIB), &keys, &o).unwrap();
    assert!(engine::verify(&vol, &keys, &o).unwrap().ok());
    engine::decrypt(&vol, None, &keys, &o).unwrap();
    assert_eq!(sha_file(&p), sha);

    // (b) Without it the server's certificate is not trusted: a clear TLS error, nothing
    // written.
    let untrusted = k.provider(None).unwrap().with_key(&arn);
    let e = engine::encrypt(&vol, None, None, &untrusted, &o)
        .unwrap_err()
        .to_string();
    for needle in ["certificate", "UnknownIssuer", k.server.endpoint.as_str()] {
        assert!(e.contains(needle), "{needle:?} missing from: {e}");
    }
    assert_eq!((file_len(&p), sha_file(&p)), (LEN, sha));

    // (c) A bundle that is missing or not a certificate: a config error naming the file.
    let missing = k.dir.path().join("missing-ca.pem");
    match k.provider(Some(missing.clone())) {
        Err(KeyError::KmsConfig(m)) => {
            assert!(
                m.contains("missing-ca.pem") && m.contains("CA bundle"),
                "{m}"
            )
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    let junk = k.dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    match k.provider(Some(junk.clone())) {
        Err(KeyError::KmsConfig(m)) => assert!(m.contains("junk.pem"), "{m}"),
        other => panic!("expected a config error, got {other:?}"),
    }

    // The binary: --kms-ca-bundle, then AWS_CA_BUNDLE.
    let ep = k.server.endpoint.clone();
    let q = k.dir.path().join("cli-vol");
    let sha = write_pattern(&q, LEN, 22);
    let region: &[(&str, &dyn AsRef<OsStr>)] = &[("AWS_REGION", &"us-east-1")];
    let env_ca: &[(&str, &dyn AsRef<OsStr>)] =
        &[("AWS_REGION", &"us-east-1"), ("AWS_CA_BUNDLE", &ca)];
    let env_junk: &[(&str, &dyn AsRef<OsStr>)] =
        &[("AWS_REGION", &"us-east-1"), ("AWS_CA_BUNDLE", &junk)];
    let e: &dyn AsRef<OsStr> = &ep;
    k.cli(
        region,
        &[
            &"encrypt",
            &q,
            &"--kms-key",
            &"alias/tls",
            &"--kms-endpoint",
            e,
            &"--kms-ca-bundle",
            &ca,
            &"-q",
        ],
    )
    .ok();
    k.cli(
        env_ca,
        &[&"verify", &q, &"--kms", &"--kms-endpoint", e, &"-q"],
    )
    .ok();
    // Untrusted: the certificate error, and the volume is not touched.
    let before = sha_file(&q);
    k.cli(region, &[&"decrypt", &q, &"--kms", &"--kms-endpoint", e])
        .fails(1, &["certificate", &ep]);
    // A bad bundle from either source names the file and where it came from.
    k.cli(
        region,
        &[
            &"decrypt",
            &q,
            &"--kms",
            &"--kms-endpoint",
            e,
            &"--kms-ca-bundle",
            &missing,
        ],
    )
    .fails(1, &["missing-ca.pem", "--kms-ca-bundle"]);
    k.cli(env_junk, &[&"decrypt", &q, &"--kms", &"--kms-endpoint", e])
        .fails(1, &["junk.pem", "AWS_CA_BUNDLE"]);
    assert_eq!(sha_file(&q), before);
    // The option wins over the environment variable.
    k.cli(
        env_junk,
        &[
            &"decrypt",
            &q,
            &"--kms",
            &"--kms-endpoint",
            e,
            &"--kms-ca-bundle",
            &ca,
            &"-q",
        ],
    )
    .ok();
    assert_eq!(sha_file(&q), sha);
    // A key file and a CA bundle do not go together.
    let kf = key_file(k.dir.path(), "key", 5);
    k.cli(
        region,
        &[&"verify", &q, &"--key-file", &kf, &"--kms-ca-bundle", &ca],
    )
    .fails(2, &["--kms-ca-bundle"]);
}

/// Writes an AWS config file and returns its path.
fn config_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn kms_endpoint_from_the_aws_config_file() {
    let k = Local::start(false);
    let admin = k.provider(None).unwrap();
    let arn = admin.create_key("config file test").unwrap();
    admin.create_alias("alias/from-config", &arn).unwrap();
    let ep = k.server.endpoint.clone();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let dir = k.dir.path();

    // The `services` section of the selected profile.
    let services = config_file(
        dir,
        "services.ini",
        &format!(
            "[profile vc]\nregion = us-east-1\nservices = local-kms\n\n\
             [services local-kms]\nkms =\n  endpoint_url = {ep}\n"
        ),
    );
    let env: &[(&str, &dyn AsRef<OsStr>)] =
        &[("AWS_CONFIG_FILE", &services), ("AWS_PROFILE", &"vc")];
    let p = dir.join("vol");
    let sha = write_pattern(&p, LEN, 23);
    k.cli(
        env,
        &[&"encrypt", &p, &"--kms-key", &"alias/from-config", &"-q"],
    )
    .ok();
    assert_eq!(
        engine::info(&VolumeRef::attached(&p)).unwrap().keyslots[0].key_id,
        arn
    );
    k.cli(env, &[&"verify", &p, &"--kms", &"-q"]).ok();
    // Messages name the endpoint from the config file.
    k.cli(env, &[&"verify", &p, &"--kms-key", &"alias/nope"])
        .fails(1, &["alias/nope", &ep]);

    // A profile's own endpoint_url (the default profile).
    let global = config_file(
        dir,
        "global.ini",
        &format!("[default]\nregion = us-east-1\nendpoint_url = {ep}\n"),
    );
    let env: &[(&str, &dyn AsRef<OsStr>)] = &[("AWS_CONFIG_FILE", &global)];
    k.cli(env, &[&"verify", &p, &"--kms", &"-q"]).ok();

    // AWS_ENDPOINT_URL_KMS overrides the file (the SDK's precedence): the file names a dead
    // port, the variable the server.
    let stale = config_file(
        dir,
        "stale.ini",
        &format!(
            "[default]\nregion = us-east-1\nservices = s\n\n[services s]\nkms =\n  \
             endpoint_url = {dead}\n"
        ),
    );
    let env: &[(&str, &dyn AsRef<OsStr>)] =
        &[("AWS_CONFIG_FILE", &stale), ("AWS_ENDPOINT_URL_KMS", &ep)];
    k.cli(env, &[&"decrypt", &p, &"--kms", &"-q"]).ok();
    assert_eq!(sha_file(&p), sha);
}
