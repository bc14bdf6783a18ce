//! HTTP transport: `POST /` with `X-Amz-Target: TrentService.<Op>`, SigV4-verified, answered
//! with `application/x-amz-json-1.1` and an `x-amzn-RequestId` on every response, errors
//! included. Built on axum/tokio; the service itself is transport-free (`service.rs`).
//!
//! [`start`] runs a server on its own runtime thread and returns a handle (tests, the demo,
//! the bench); [`run_until`] serves on the caller's runtime until a shutdown future resolves
//! (`volcrypt kms serve`). Both serve HTTPS when the configuration asks for TLS (`tls.rs`).
//!
//! With a request quota configured (`ServerConfig::request_quota`, see `quota.rs`), an
//! authenticated cryptographic request over the caller account's quota is answered
//! `ThrottlingException` before it reaches the service, and audited as such.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::config::ServerConfig;
use super::quota::RequestQuota;
use super::service::{Caller, Kms, ServerError};
use super::sigv4::{self, SignedRequest};
use super::tls::{self, ServerTls};
use crate::crypto::random_bytes;
use crate::kms::wire::{KmsError, Operation, CONTENT_TYPE};

/// The largest request body accepted (a 32 KiB policy or a 6 KiB blob fit many times over).
const MAX_BODY: usize = 1 << 20;

fn request_id() -> String {
    let mut u = [0u8; 16];
    // An all-zero id on RNG failure is still a valid (if unhelpful) request id.
    let _ = random_bytes(&mut u);
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn reply(status: u16, body: Vec<u8>, rid: &str) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        body,
    )
        .into_response();
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(rid) {
        h.insert("x-amzn-requestid", v);
    }
    r
}

fn error_reply(code: &str, status: u16, message: &str, rid: &str) -> Response {
    let body = serde_json::json!({ "__type": code, "message": message });
    reply(status, body.to_string().into_bytes(), rid)
}

/// Operations that generate asymmetric keys can take a while: keep them off the async workers.
fn is_slow(op: Operation) -> bool {
    matches!(
        op,
        Operation::CreateKey
            | Operation::GenerateDataKeyPair
            | Operation::GenerateDataKeyPairWithoutPlaintext
    )
}

/// What the handler serves: the service and, if configured, its request quota.
struct Served {
    kms: Arc<Kms>,
    quota: Option<RequestQuota>,
}

async fn handle(
    State(served): State<Arc<Served>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let kms = &served.kms;
    let rid = request_id();
    // Read the body ourselves: axum's own rejection would be a plain-text answer, and every
    // error of this server is JSON with a request id.
    let body: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return error_reply(
                "SerializationException",
                413,
                &format!("request body larger than {MAX_BODY} bytes or unreadable"),
                &rid,
            )
        }
    };
    let list: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let req = SignedRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &list,
        body: &body,
    };
    let source = peer.ip().to_string();
    let principal = match sigv4::verify(&req, |akid| kms.credential(akid), SystemTime::now(), "kms")
    {
        Ok(p) => p,
        Err(e) => {
            kms.audit_rejected(&source, &rid, target, e.aws_code());
            return error_reply(e.aws_code(), e.http_status(), &e.to_string(), &rid);
        }
    };
    let op = match Operation::from_target(target) {
        Ok(op) => op,
        Err(e) => return error_body(&e, &rid),
    };
    if let Some(q) = &served.quota {
        if !q.admit(&principal.account_id, op) {
            kms.audit_rejected(&source, &rid, target, "ThrottlingException");
            return error_body(&KmsError::throttled(), &rid);
        }
    }
    let caller = Caller {
        principal,
        source,
        request_id: rid.clone(),
    };
    let result = if is_slow(op) {
        let kms = Arc::clone(kms);
        let caller = caller.clone();
        tokio::task::spawn_blocking(move || kms.handle(&caller, op, &body))
            .await
            .unwrap_or_else(|_| Err(KmsError::internal("request handler failed")))
    } else {
        kms.handle(&caller, op, &body)
    };
    match result {
        Ok(json) => reply(200, json, &rid),
        Err(e) => error_body(&e, &rid),
    }
}

fn error_body(e: &KmsError, rid: &str) -> Response {
    reply(e.http_status(), e.to_body(), rid)
}

/// The router: every request goes to the one handler, whatever its path or method. Each
/// router has its own request quota (from `kms.config.request_quota`).
pub fn router(kms: Arc<Kms>) -> Router {
    let quota = kms.config.request_quota.map(RequestQuota::new);
    Router::new()
        .fallback(handle)
        .with_state(Arc::new(Served { kms, quota }))
}

fn check_bind(config: &ServerConfig) -> Result<(), ServerError> {
    let tls = config.tls.is_some() || config.tls_self_signed;
    if !config.addr.ip().is_loopback() && !tls && !config.insecure_allow_plaintext {
        return Err(ServerError::Config(format!(
            "refusing to serve plaintext HTTP on non-loopback address {}: give --tls-cert/--tls-key \
             or --tls-self-signed, or --insecure-allow-plaintext",
            config.addr
        )));
    }
    Ok(())
}

/// Serves `kms` on `listener` until `shutdown` resolves; runs the due-task ticker meanwhile.
/// Serves HTTPS when `kms.config` asks for TLS (generating the self-signed certificate first
/// if needed).
pub async fn run_until(
    kms: Arc<Kms>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let tls = ServerTls::from_config(&kms.config)?;
    run_until_with(kms, listener, tls, shutdown).await
}

/// [`run_until`] with the TLS setup already loaded (`None`: plain HTTP).
pub async fn run_until_with(
    kms: Arc<Kms>,
    listener: tokio::net::TcpListener,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let ticker = {
        let kms = Arc::clone(&kms);
        let every = kms.config.task_interval;
        tokio::spawn(async move {
            let mut t = tokio::time::interval(every);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                t.tick().await;
                let k = Arc::clone(&kms);
                let _ = tokio::task::spawn_blocking(move || k.run_due_tasks()).await;
            }
        })
    };
    let r = match tls {
        Some(tls) => {
            tls::serve(router(kms), listener, tls, shutdown).await;
            Ok(())
        }
        None => {
            let app = router(kms).into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    ticker.abort();
    Ok(r?)
}

/// A server running on its own runtime thread.
pub struct RunningServer {
    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub endpoint: String,
    /// The CA certificate to trust when serving with `tls_self_signed`.
    pub ca_file: Option<std::path::PathBuf>,
    /// The bound address.
    pub addr: SocketAddr,
    /// The service (for direct inspection in tests).
    pub kms: Arc<Kms>,
    /// True when this start generated the admin credential.
    pub fresh_credentials: bool,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServerError>>>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RunningServer({})", self.endpoint)
    }
}

impl RunningServer {
    /// Stops serving and waits for the runtime to finish.
    pub fn stop(mut self) -> Result<(), ServerError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), ServerError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| ServerError::Config("server thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Opens the data dir and starts serving on a background thread (HTTPS when the configuration
/// asks for TLS).
pub fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    check_bind(&config)?;
    let std_listener = std::net::TcpListener::bind(config.addr)?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let (kms, fresh) = Kms::open(config)?;
    let tls = ServerTls::from_config(&kms.config)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let ca_file = tls
        .as_ref()
        .and_then(|t| t.ca_file().map(std::path::Path::to_path_buf));
    let kms = Arc::new(kms);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let k = Arc::clone(&kms);
    let thread = std::thread::Builder::new()
        .name("kms-server".into())
        .spawn(move || -> Result<(), ServerError> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("kms-worker")
                .build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener)?;
                run_until_with(k, listener, tls, async move {
                    let _ = rx.await;
                })
                .await
            })
        })?;
    Ok(RunningServer {
        endpoint: format!("{scheme}://{addr}"),
        ca_file,
        addr,
        kms,
        fresh_credentials: fresh,
        stop: Some(tx),
        thread: Some(thread),
    })
}

/// Checks the bind policy (for the CLI, which binds itself).
pub fn check_config(config: &ServerConfig) -> Result<(), ServerError> {
    check_bind(config)
}
