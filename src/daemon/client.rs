//! The control API's client: one HTTP/1.1 request per call over the daemon's Unix socket
//! (hyper), returning the JSON body or a [`ClientError`] that says what went wrong: the
//! daemon is not there, or it refused the request (its status, code and message).

use std::path::{Path, PathBuf};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket could not be reached.
    #[error("cannot reach the volcrypt daemon at {path} ({source}); is `volcrypt daemon` running? (--socket or VOLCRYPT_SOCKET name another socket)")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The daemon answered with an error.
    #[error("{message} (HTTP {status}, {code})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The error code in the body.
        code: String,
        /// The message in the body.
        message: String,
    },
    /// The exchange failed or the answer was not JSON.
    #[error("talking to the volcrypt daemon at {path}: {message}")]
    Protocol {
        /// The socket.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// A client of the daemon listening on `socket`.
#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
}

impl Client {
    /// A client for `socket`.
    pub fn new(socket: impl Into<PathBuf>) -> Client {
        Client {
            socket: socket.into(),
        }
    }

    /// The socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn protocol(&self, message: impl ToString) -> ClientError {
        ClientError::Protocol {
            path: self.socket.clone(),
            message: message.to_string(),
        }
    }

    /// `method path` with an optional JSON body; the JSON answer.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| self.protocol(e))?;
        rt.block_on(self.exchange(method, path, body))
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(|source| ClientError::Connect {
                path: self.socket.clone(),
                source,
            })?;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.protocol(e))?;
        tokio::spawn(conn);
        let bytes = match body {
            Some(v) => serde_json::to_vec(v).map_err(|e| self.protocol(e))?,
            None => Vec::new(),
        };
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "volcrypt")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| self.protocol(e))?;
        let resp = send.send_request(req).await.map_err(|e| self.protocol(e))?;
        let status = resp.status();
        let raw = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| self.protocol(e))?
            .to_bytes();
        let v: Value = serde_json::from_slice(&raw)
            .map_err(|e| self.protocol(format!("HTTP {status}, body is not JSON: {e}")))?;
        if status.is_success() {
            return Ok(v);
        }
        let field = |k: &str| v["error"][k].as_str().unwrap_or_default().to_owned();
        Err(ClientError::Api {
            status: status.as_u16(),
            code: field("code"),
            message: field("message"),
        })
    }

    /// `POST /v1/jobs`.
    pub fn submit(&self, spec: &super::JobSpec) -> Result<Value, ClientError> {
        let body = serde_json::to_value(spec).map_err(|e| self.protocol(e))?;
        self.call(Method::POST, "/v1/jobs", Some(&body))
    }

    /// `GET /v1/jobs`: the `jobs` array.
    pub fn jobs(&self) -> Result<Vec<Value>, ClientError> {
        let v = self.call(Method::GET, "/v1/jobs", None)?;
        match v.get("jobs") {
            Some(Value::Array(a)) => Ok(a.clone()),
            _ => Err(self.protocol("GET /v1/jobs: no jobs array")),
        }
    }

    /// `GET /v1/jobs/{id}`.
    pub fn status(&self, id: u64) -> Result<Value, ClientError> {
        self.call(Method::GET, &format!("/v1/jobs/{id}"), None)
    }

    /// `POST /v1/jobs/{id}/{verb}` (cancel, pause, resume).
    pub fn act(&self, id: u64, verb: &str) -> Result<Value, ClientError> {
        self.call(Method::POST, &format!("/v1/jobs/{id}/{verb}"), None)
    }
}

/// True for the statuses the API uses for "no such job".
pub fn is_not_found(e: &ClientError) -> bool {
    matches!(e, ClientError::Api { status, .. } if *status == StatusCode::NOT_FOUND.as_u16())
}
