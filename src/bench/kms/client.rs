//! The bench's HTTP side: the target (address, `Host`, credential), botocore-shaped signed
//! requests, one keep-alive HTTP/1.1 connection (hyper's `client::conn::http1` over a
//! `TcpStream`), and the classification of answers into success or an error code.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::SystemTime;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::BenchError;
use crate::crypto::SecretBytes;
use crate::kms::server::sigv4::{self, Credential};
use crate::kms::wire::CONTENT_TYPE;

/// Where the load goes and who signs it.
#[derive(Debug)]
pub struct Target {
    /// The endpoint as given (`http://127.0.0.1:4599`).
    pub endpoint: String,
    /// The resolved address connections go to.
    pub addr: SocketAddr,
    /// The `Host` header (and signed `host`): `host:port`, as botocore sends it for a
    /// non-default port.
    pub host: String,
    /// Region of the credential scope.
    pub region: String,
    credential: Credential,
}

impl Target {
    /// Parses `endpoint` (`http://HOST:PORT[/]`; no TLS) and resolves it.
    pub fn new(
        endpoint: &str,
        access_key_id: &str,
        secret_access_key: &str,
        region: &str,
    ) -> Result<Self, BenchError> {
        let bad = |why: &str| BenchError::Endpoint(endpoint.to_owned(), why.to_owned());
        let rest = endpoint
            .strip_prefix("http://")
            .ok_or_else(|| bad("only http:// endpoints are supported"))?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains('/') {
            return Err(bad("expected http://HOST:PORT with no path"));
        }
        let with_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let addr = with_port
            .to_socket_addrs()
            .map_err(|e| bad(&e.to_string()))?
            .next()
            .ok_or_else(|| bad("the host resolves to no address"))?;
        let host = authority
            .strip_suffix(":80")
            .unwrap_or(authority)
            .to_owned();
        Ok(Target {
            endpoint: endpoint.to_owned(),
            addr,
            host,
            region: region.to_owned(),
            credential: Credential {
                access_key_id: access_key_id.to_owned(),
                secret: SecretBytes::new(secret_access_key.as_bytes().to_vec()),
                principal_arn: String::new(),
                account_id: String::new(),
                session_token: None,
            },
        })
    }

    /// The headers of a `TrentService.<action>` request with `body`, signed at `now`, as
    /// botocore sends them: `Host`, `Content-Type`, `X-Amz-Target`, `X-Amz-Date`,
    /// `Authorization` (signed headers `content-type;host;x-amz-date;x-amz-target`).
    pub fn signed_headers(
        &self,
        action: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Vec<(String, String)> {
        let base = [
            ("Content-Type".to_owned(), CONTENT_TYPE.to_owned()),
            ("X-Amz-Target".to_owned(), format!("TrentService.{action}")),
        ];
        let auth = sigv4::sign(
            "POST",
            &self.host,
            "/",
            &base,
            body,
            &self.credential,
            &self.region,
            "kms",
            now,
        );
        let mut out = Vec::with_capacity(base.len() + auth.len() + 1);
        out.push(("Host".to_owned(), self.host.clone()));
        out.extend(base);
        out.extend(auth);
        out
    }

    /// A complete signed request for `action` with `body`, signed now.
    pub fn request(
        &self,
        action: &str,
        body: &Bytes,
    ) -> Result<hyper::Request<Full<Bytes>>, BenchError> {
        let mut b = hyper::Request::builder().method("POST").uri("/");
        for (name, value) in self.signed_headers(action, body, SystemTime::now()) {
            b = b.header(name, value);
        }
        b.header("Content-Length", body.len())
            .header("User-Agent", "volcrypt-bench")
            .body(Full::new(body.clone()))
            .map_err(|e| BenchError::Http(e.to_string()))
    }
}

/// One keep-alive HTTP/1.1 connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

/// A response, read to its end.
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
    /// The server asked to close the connection (`Connection: close`, or HTTP/1.0 without
    /// keep-alive).
    pub close: bool,
}

impl Connection {
    /// Connects (TCP_NODELAY, like the SDKs) and runs the HTTP/1.1 handshake; the connection
    /// is driven by a task on the current runtime.
    pub async fn open(addr: SocketAddr) -> Result<Self, BenchError> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| BenchError::Connect(addr, e.to_string()))?;
        stream
            .set_nodelay(true)
            .map_err(|e| BenchError::Connect(addr, e.to_string()))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| BenchError::Connect(addr, e.to_string()))?;
        tokio::spawn(async move {
            // The error, if any, surfaces on the next send.
            let _ = conn.await;
        });
        Ok(Connection { sender })
    }

    /// True when the connection can take no more requests.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Sends `req` and reads the whole response.
    pub async fn send(&mut self, req: hyper::Request<Full<Bytes>>) -> Result<Reply, hyper::Error> {
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let close = resp.version() == hyper::Version::HTTP_10
            || resp
                .headers()
                .get_all(hyper::header::CONNECTION)
                .iter()
                .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            body,
            close,
        })
    }
}

/// The error code of a failed answer: the `__type` of its JSON body without any
/// `namespace#` prefix, or `HTTP <status>` when there is none.
pub fn error_code(status: u16, body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("__type")
                .and_then(|t| t.as_str())
                .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
        })
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("HTTP {status}"))
}

/// Classifies `reply`: `Ok` for a 200 whose body holds the member `expect_field` (a cheap
/// check that it is the operation's answer), else the error code to count.
pub fn classify(reply: &Reply, expect_field: &str) -> Result<(), String> {
    if reply.status != 200 {
        return Err(error_code(reply.status, &reply.body));
    }
    let found = reply.body.windows(expect_field.len() + 2).any(|w| {
        w.first() == Some(&b'"')
            && w.last() == Some(&b'"')
            && &w[1..w.len() - 1] == expect_field.as_bytes()
    });
    if found {
        Ok(())
    } else {
        Err(format!("InvalidResponse(no {expect_field})"))
    }
}

/// A field of a JSON answer, as text (`KeyMetadata.KeyId` is `["KeyMetadata", "KeyId"]`).
pub fn json_field(body: &[u8], path: &[&str]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut cur = &v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().map(str::to_owned)
}
