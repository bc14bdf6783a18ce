//! HTTPS for the KMS server (rustls with the `ring` provider).
//!
//! - `--tls-cert` / `--tls-key`: a PEM certificate chain and private key supplied by the
//!   operator.
//! - `--tls-self-signed`: a local CA and a server certificate for `localhost`, `127.0.0.1` and
//!   `::1` signed by it (rcgen), written into the data dir as `ca.pem`, `server.pem` and
//!   `server.key` (0600) and reused on later starts. Clients trust `ca.pem`. The CA's private
//!   key is never written: the CA signs this one server certificate and is then forgotten.
//!
//! axum's `serve` speaks plain HTTP only, so [`serve`] runs its own accept loop: accept TCP,
//! handshake TLS, then serve HTTP/1.1 on the connection with the axum router, handing the peer
//! address to the handler as `ConnectInfo` like `axum::serve` does.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::config::ServerConfig;
use super::service::ServerError;
use super::store;

/// How long a client gets to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The CA certificate of `--tls-self-signed`, in the data dir.
pub const CA_FILE: &str = "ca.pem";
/// The server certificate of `--tls-self-signed`.
const SERVER_CERT_FILE: &str = "server.pem";
/// The server private key of `--tls-self-signed` (0600).
const SERVER_KEY_FILE: &str = "server.key";

/// A loaded TLS configuration, ready to accept connections.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
    ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

fn config_err(what: &Path, e: impl std::fmt::Display) -> ServerError {
    ServerError::Config(format!("{}: {e}", what.display()))
}

impl ServerTls {
    /// The TLS setup `config` asks for: `None` for plain HTTP; with `tls_self_signed`,
    /// generates (or reuses) the CA and server certificate in the data dir.
    pub fn from_config(config: &ServerConfig) -> Result<Option<ServerTls>, ServerError> {
        match (&config.tls, config.tls_self_signed) {
            (Some(_), true) => Err(ServerError::Config(
                "give either --tls-cert/--tls-key or --tls-self-signed, not both".into(),
            )),
            (Some(files), false) => {
                let certs = load_certs(&files.cert)?;
                let key = PrivateKeyDer::from_pem_file(&files.key)
                    .map_err(|e| config_err(&files.key, e))?;
                Ok(Some(ServerTls::new(certs, key, None)?))
            }
            (None, true) => {
                let dir = &config.data_dir;
                std::fs::create_dir_all(dir).map_err(|e| config_err(dir, e))?;
                ensure_self_signed(dir)?;
                let certs = load_certs(&dir.join(SERVER_CERT_FILE))?;
                let key_path = dir.join(SERVER_KEY_FILE);
                let key = PrivateKeyDer::from_pem_file(&key_path)
                    .map_err(|e| config_err(&key_path, e))?;
                Ok(Some(ServerTls::new(certs, key, Some(dir.join(CA_FILE)))?))
            }
            (None, false) => Ok(None),
        }
    }

    fn new(
        certs: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        ca_file: Option<PathBuf>,
    ) -> Result<ServerTls, ServerError> {
        let tls_err = |e: rustls::Error| ServerError::Config(format!("TLS: {e}"));
        let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(tls_err)?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls {
            acceptor: TlsAcceptor::from(Arc::new(cfg)),
            ca_file,
        })
    }

    /// The CA certificate clients should trust, when it was generated (`--tls-self-signed`).
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ServerError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| config_err(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_err(path, e))?;
    if certs.is_empty() {
        return Err(config_err(path, "no certificate found"));
    }
    Ok(certs)
}

/// Makes sure `dir` holds `ca.pem`, `server.pem` and `server.key`; generates all three when
/// any is missing (a start interrupted half-way leaves a partial set).
fn ensure_self_signed(dir: &Path) -> Result<(), ServerError> {
    let files = [CA_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE].map(|f| dir.join(f));
    if files.iter().all(|p| p.exists()) {
        return Ok(());
    }
    for p in &files {
        if p.exists() {
            std::fs::remove_file(p).map_err(|e| config_err(p, e))?;
        }
    }
    let gen_err = |e: rcgen::Error| ServerError::Config(format!("generating a certificate: {e}"));
    let (ca_pem, cert_pem, key_pem) = generate().map_err(gen_err)?;
    let [ca, cert, key] = files;
    store::write_private(&key, key_pem.as_bytes())?;
    std::fs::write(&cert, cert_pem).map_err(|e| config_err(&cert, e))?;
    // The CA last: its presence marks a complete set.
    std::fs::write(&ca, ca_pem).map_err(|e| config_err(&ca, e))?;
    Ok(())
}

/// A CA, and a server certificate for the loopback names signed by it: (CA PEM, server
/// certificate PEM, server private key PEM).
fn generate() -> Result<(String, String, zeroize::Zeroizing<String>), rcgen::Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose, SanType,
    };
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(DnType::CommonName, "volcrypt kms local CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key)?;

    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into()?),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    params
        .distinguished_name
        .push(DnType::CommonName, "volcrypt kms server");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &ca_cert, &ca_key)?;
    Ok((
        ca_cert.pem(),
        cert.pem(),
        zeroize::Zeroizing::new(key.serialize_pem()),
    ))
}

/// Serves `router` over TLS on `listener` until `shutdown` resolves, then lets open
/// connections finish their current request and waits for them.
pub(crate) async fn serve(
    router: Router,
    listener: TcpListener,
    tls: ServerTls,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    conns.spawn(connection(
                        router.clone(),
                        tls.acceptor.clone(),
                        tcp,
                        peer,
                        stop_rx.clone(),
                    ));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while conns.join_next().await.is_some() {}
}

/// Resolves once the server is stopping (or its stop signal is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// One connection: TLS handshake, then HTTP/1.1 with keep-alive until the client closes or the
/// server stops.
async fn connection(
    router: Router,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let stream = tokio::select! {
        r = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)) => match r {
            Ok(Ok(s)) => s,
            _ => return,
        },
        () = stopped(&mut stop) => return,
    };
    let svc = TowerToHyperService::new(router);
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        hyper::service::Service::call(&svc, req)
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_files_are_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ServerConfig::new(dir.path());
        cfg.tls_self_signed = true;
        let tls = ServerTls::from_config(&cfg).unwrap().unwrap();
        assert_eq!(tls.ca_file(), Some(dir.path().join(CA_FILE).as_path()));
        let read = |f: &str| std::fs::read(dir.path().join(f)).unwrap();
        let (ca, cert, key) = (read(CA_FILE), read(SERVER_CERT_FILE), read(SERVER_KEY_FILE));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(SERVER_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        ServerTls::from_config(&cfg).unwrap().unwrap();
        assert_eq!(read(CA_FILE), ca);
        assert_eq!(read(SERVER_CERT_FILE), cert);
        assert_eq!(read(SERVER_KEY_FILE), key);
        // A partial set is regenerated.
        std::fs::remove_file(dir.path().join(SERVER_CERT_FILE)).unwrap();
        ServerTls::from_config(&cfg).unwrap().unwrap();
        assert_ne!(read(CA_FILE), ca);
    }

    #[test]
    fn supplied_files_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ServerConfig::new(dir.path());
        assert!(ServerTls::from_config(&cfg).unwrap().is_none());
        cfg.tls_self_signed = true;
        ServerTls::from_config(&cfg).unwrap();
        cfg.tls_self_signed = false;
        cfg.tls = Some(super::super::config::TlsFiles {
            cert: dir.path().join(SERVER_CERT_FILE),
            key: dir.path().join(SERVER_KEY_FILE),
        });
        let tls = ServerTls::from_config(&cfg).unwrap().unwrap();
        assert!(tls.ca_file().is_none());
        cfg.tls_self_signed = true;
        assert!(ServerTls::from_config(&cfg).is_err());
        cfg.tls_self_signed = false;
        cfg.tls = Some(super::super::config::TlsFiles {
            cert: dir.path().join("missing.pem"),
            key: dir.path().join(SERVER_KEY_FILE),
        });
        assert!(ServerTls::from_config(&cfg).is_err());
        // A key that is not PEM.
        std::fs::write(dir.path().join("bad.key"), b"not a key").unwrap();
        cfg.tls = Some(super::super::config::TlsFiles {
            cert: dir.path().join(CA_FILE),
            key: dir.path().join("bad.key"),
        });
        assert!(ServerTls::from_config(&cfg).is_err());
    }
}
