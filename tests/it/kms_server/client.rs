//! A small blocking KMS client for the server tests: SigV4-signed JSON requests over HTTP/1.1
//! (hyper on a current-thread runtime), plain or over TLS trusting a given CA.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use volcrypt::crypto::SecretBytes;
use volcrypt::kms::server::sigv4::{sign, Credential};
use volcrypt::kms::server::{CredentialFile, RunningServer, ServerConfig};

/// An error answer: (`__type`, message, HTTP status).
#[derive(Debug)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub status: u16,
}

/// A client of one server.
pub struct Client {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    host: String,
    tls: Option<tokio_rustls::TlsConnector>,
    credential: Credential,
    region: String,
}

/// The admin credential the server wrote into `dir`.
pub fn admin_credential(dir: &Path) -> Credential {
    let raw = std::fs::read(dir.join("credentials.json")).unwrap();
    let c: CredentialFile = serde_json::from_slice(&raw).unwrap();
    Credential {
        access_key_id: c.access_key_id,
        secret: SecretBytes::new(c.secret_access_key.into_bytes()),
        principal_arn: c.principal_arn,
        account_id: c.account_id,
        session_token: c.session_token,
    }
}

/// A server configuration for tests: an ephemeral loopback port in `dir`.
pub fn config(dir: &Path) -> ServerConfig {
    let mut cfg = ServerConfig::new(dir);
    cfg.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    cfg
}

/// A TLS connector trusting the CA certificates in `ca_file` (PEM).
pub fn tls_connector(ca_file: &Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

async fn exchange<IO>(io: IO, req: hyper::Request<Full<Bytes>>) -> (u16, Vec<u8>)
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    assert!(resp.headers().contains_key("x-amzn-requestid"));
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, body.to_vec())
}

impl Client {
    /// A client of `server`, signing with the admin credential of `dir`; trusts the server's
    /// generated CA when it serves HTTPS.
    pub fn new(server: &RunningServer, dir: &Path) -> Client {
        let tls = server.endpoint.starts_with("https://").then(|| {
            tls_connector(
                server
                    .ca_file
                    .as_deref()
                    .expect("a self-signed server's CA"),
            )
        });
        Client::with(server.addr, tls, admin_credential(dir))
    }

    /// A client of `addr` with `credential`.
    pub fn with(
        addr: SocketAddr,
        tls: Option<tokio_rustls::TlsConnector>,
        credential: Credential,
    ) -> Client {
        Client {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            addr,
            host: addr.to_string(),
            tls,
            credential,
            region: "us-east-1".to_owned(),
        }
    }

    /// Sends `TrentService.<op>` with `body`; the raw status and response body.
    pub fn raw(&self, op: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let headers = vec![
            (
                "Content-Type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            ("X-Amz-Target".to_owned(), format!("TrentService.{op}")),
        ];
        let signed = sign(
            "POST",
            &self.host,
            "/",
            &headers,
            body,
            &self.credential,
            &self.region,
            "kms",
            SystemTime::now(),
        );
        let mut req = hyper::Request::builder()
            .method("POST")
            .uri("/")
            .header("host", &self.host);
        for (k, v) in headers.iter().chain(&signed) {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req.body(Full::new(Bytes::copy_from_slice(body))).unwrap();
        self.rt.block_on(async {
            let tcp = tokio::net::TcpStream::connect(self.addr).await.unwrap();
            match &self.tls {
                Some(c) => {
                    let name = ServerName::try_from("localhost").unwrap();
                    let s = c.connect(name, tcp).await.unwrap();
                    exchange(TokioIo::new(s), req).await
                }
                None => exchange(TokioIo::new(tcp), req).await,
            }
        })
    }

    /// Calls `op` with the JSON `body`.
    pub fn call(&self, op: &str, body: Value) -> Result<Value, ApiError> {
        let (status, out) = self.raw(op, body.to_string().as_bytes());
        let v: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
        if status == 200 {
            Ok(v)
        } else {
            Err(ApiError {
                code: v["__type"].as_str().unwrap_or_default().to_owned(),
                message: v["message"].as_str().unwrap_or_default().to_owned(),
                status,
            })
        }
    }

    /// Calls `op`, which must succeed.
    pub fn ok(&self, op: &str, body: Value) -> Value {
        match self.call(op, body) {
            Ok(v) => v,
            Err(e) => panic!("{op} failed: {e:?}"),
        }
    }

    /// Calls `op`, which must fail with `code`; the error message.
    pub fn fails(&self, op: &str, body: Value, code: &str) -> String {
        match self.call(op, body) {
            Ok(v) => panic!("{op} succeeded, expected {code}: {v}"),
            Err(e) => {
                assert_eq!(e.code, code, "{op}: {e:?}");
                assert!((400..500).contains(&e.status), "{op}: {e:?}");
                e.message
            }
        }
    }
}

/// Polls `f` every 50 ms until it returns `Some`, for at most `limit`.
pub fn eventually<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "condition not reached within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Base64 of `bytes` (request blobs).
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The bytes of a base64 response blob.
pub fn unb64(v: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("a base64 string"))
        .unwrap()
}
