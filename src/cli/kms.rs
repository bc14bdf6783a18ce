//! `volcrypt kms serve` (run the local KMS) and `volcrypt kms audit` (read its request log).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::kms::server::{self, Kms, ServerConfig, ServerTls, TlsFiles};

/// `volcrypt kms ...`.
#[derive(Debug, Subcommand)]
pub enum KmsCommand {
    /// Serve the AWS KMS JSON protocol (SigV4-authenticated) on a loopback address.
    Serve(ServeArgs),
    /// Print the audit log of a data dir (CloudTrail-like, one line per request).
    Audit(AuditArgs),
}

/// `volcrypt kms serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:4599")]
    pub addr: SocketAddr,
    /// Keystore, root key, admin credential and audit log.
    #[arg(long, value_name = "DIR", default_value = "kms-data")]
    pub data_dir: PathBuf,
    /// Root key file (32 raw bytes) instead of <DIR>/root.key.
    #[arg(long, value_name = "FILE")]
    pub root_key_file: Option<PathBuf>,
    /// Extra credentials: a JSON list of {access_key_id, secret_access_key, principal_arn, account_id}.
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// Region in key ARNs.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Account id of the admin principal and of created keys.
    #[arg(long, default_value = "111122223333")]
    pub account_id: String,
    /// Seconds in a KMS day (shorten deletion windows and rotation periods for tests).
    #[arg(long, default_value_t = 86_400.0)]
    pub day_seconds: f64,
    /// How often due deletions and rotations are applied, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub task_interval_ms: u64,
    /// TLS certificate chain (PEM); serve HTTPS.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Generate a CA and a server certificate (localhost, 127.0.0.1, ::1) into the data dir,
    /// or reuse them, and serve HTTPS; clients trust <DIR>/ca.pem.
    #[arg(long)]
    pub tls_self_signed: bool,
    /// Allow plaintext HTTP on a non-loopback address.
    #[arg(long)]
    pub insecure_allow_plaintext: bool,
    /// Limit cryptographic requests (Encrypt, Decrypt, ReEncrypt, GenerateDataKey*,
    /// GenerateMac, VerifyMac, GenerateRandom, Sign, Verify; one shared quota, like AWS's) to N
    /// per second per account, with a one-second burst; requests over it get
    /// ThrottlingException, as from real KMS. 0 throttles every cryptographic request (to test
    /// clients' retries). Default: no quota.
    #[arg(long, value_name = "N")]
    pub request_quota: Option<u32>,
}

/// `volcrypt kms audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The server's data dir.
    #[arg(long, value_name = "DIR", default_value = "kms-data")]
    pub data_dir: PathBuf,
    /// Only requests on this key (id or ARN).
    #[arg(long)]
    pub key: Option<String>,
    /// Only requests at or after this time (epoch seconds).
    #[arg(long, value_name = "T")]
    pub since: Option<u64>,
    /// JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

fn config(a: &ServeArgs) -> ServerConfig {
    let mut c = ServerConfig::new(&a.data_dir);
    c.addr = a.addr;
    c.root_key_file = a.root_key_file.clone();
    c.credentials_file = a.credentials.clone();
    c.region = a.region.clone();
    c.account_id = a.account_id.clone();
    c.day_seconds = a.day_seconds;
    c.task_interval = Duration::from_millis(a.task_interval_ms.max(10));
    c.tls = match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    c.tls_self_signed = a.tls_self_signed;
    c.insecure_allow_plaintext = a.insecure_allow_plaintext;
    c.request_quota = a.request_quota;
    c
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

fn serve(a: &ServeArgs) -> anyhow::Result<ExitCode> {
    let cfg = config(a);
    server::check_config(&cfg)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kms-worker")
        .build()
        .context("starting the runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(cfg.addr)
            .await
            .with_context(|| format!("binding {}", cfg.addr))?;
        let addr = listener.local_addr()?;
        let creds = cfg.data_dir.join("credentials.json");
        let (kms, fresh) = Kms::open(cfg.clone())?;
        let tls = ServerTls::from_config(&cfg)?;
        let endpoint = format!("{}://{addr}", if tls.is_some() { "https" } else { "http" });
        let mut line = serde_json::json!({
            "event": "listening",
            "endpoint": endpoint,
            "credentials_file": creds.display().to_string(),
            "region": cfg.region,
            "account_id": cfg.account_id,
        });
        if let Some(ca) = tls.as_ref().and_then(|t| t.ca_file()) {
            line["ca_file"] = serde_json::json!(ca.display().to_string());
        }
        println!("{line}");
        std::io::stdout().flush().ok();
        eprintln!(
            "volcrypt kms: listening on {endpoint}; admin credential {} {}",
            if fresh { "generated in" } else { "in" },
            creds.display()
        );
        if let Some(ca) = tls.as_ref().and_then(|t| t.ca_file()) {
            eprintln!(
                "volcrypt kms: clients should trust the CA certificate {}",
                ca.display()
            );
        }
        server::run_until_with(Arc::new(kms), listener, tls, shutdown_signal()).await?;
        eprintln!("volcrypt kms: stopped");
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}

fn audit(a: &AuditArgs) -> anyhow::Result<ExitCode> {
    let events = server::audit_query(&a.data_dir, a.key.as_deref(), a.since)?;
    let mut out = std::io::stdout().lock();
    for e in &events {
        if a.json {
            writeln!(out, "{}", serde_json::to_string(e)?)?;
        } else {
            writeln!(
                out,
                "{} {} {} {} {} {} {}",
                e.time,
                e.request_id,
                if e.principal.is_empty() {
                    "-"
                } else {
                    &e.principal
                },
                e.source,
                e.operation,
                e.key_arn.as_deref().unwrap_or("-"),
                e.outcome
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a `volcrypt kms` subcommand.
pub fn run(cmd: &KmsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KmsCommand::Serve(a) => serve(a),
        KmsCommand::Audit(a) => audit(a),
    }
}
