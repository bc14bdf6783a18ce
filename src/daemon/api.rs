//! The control API: HTTP/JSON routes over the Unix socket, and the metrics route over
//! loopback TCP. Handlers translate requests into [`Service`] calls and [`Refusal`]s into
//! HTTP statuses with a JSON body `{"error": {"code": ..., "message": ...}}`; every error,
//! malformed JSON and unknown routes included, has that shape. The routes are documented in
//! `docs/daemon-api.md`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::model::JobSpec;
use super::service::{Refusal, Service};

/// An API error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let (status, code) = match &r {
            Refusal::BadRequest(_) => (StatusCode::BAD_REQUEST, "InvalidJob"),
            Refusal::NotFound(_) => (StatusCode::NOT_FOUND, "NoSuchJob"),
            Refusal::Conflict(_) => (StatusCode::CONFLICT, "Conflict"),
            Refusal::Draining => (StatusCode::SERVICE_UNAVAILABLE, "ShuttingDown"),
            Refusal::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "StoreError"),
        };
        ApiError::new(status, code, r.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

type Reply = Result<Response, ApiError>;

/// Runs a blocking service call (SQLite, locks) off the async workers.
async fn blocking<T, F>(svc: &Arc<Service>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Service) -> Result<T, Refusal> + Send + 'static,
{
    let svc = Arc::clone(svc);
    tokio::task::spawn_blocking(move || f(&svc))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal", e.to_string()))?
        .map_err(ApiError::from)
}

fn id_of(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidJobId",
            format!("'{raw}' is not a job id (a positive integer)"),
        )
    })
}

async fn health() -> Response {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})).into_response()
}

async fn list(State(svc): State<Arc<Service>>) -> Reply {
    let jobs = blocking(&svc, |s| s.list()).await?;
    Ok(Json(json!({ "jobs": jobs })).into_response())
}

async fn submit(State(svc): State<Arc<Service>>, body: Bytes) -> Reply {
    let spec: JobSpec = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidJob",
            format!("the request body is not a job: {e}"),
        )
    })?;
    let job = blocking(&svc, move |s| s.submit(spec)).await?;
    Ok((StatusCode::CREATED, Json(job)).into_response())
}

async fn status(State(svc): State<Arc<Service>>, Path(id): Path<String>) -> Reply {
    let id = id_of(&id)?;
    Ok(Json(blocking(&svc, move |s| s.status(id)).await?).into_response())
}

async fn action(
    State(svc): State<Arc<Service>>,
    Path((id, verb)): Path<(String, String)>,
) -> Reply {
    let id = id_of(&id)?;
    let job = match verb.as_str() {
        "cancel" => blocking(&svc, move |s| s.cancel(id)).await?,
        "pause" => blocking(&svc, move |s| s.pause(id)).await?,
        "resume" => blocking(&svc, move |s| s.resume(id)).await?,
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "NoSuchAction",
                format!("unknown action '{other}' (expected cancel, pause or resume)"),
            ))
        }
    };
    Ok(Json(job).into_response())
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NoSuchRoute",
        "no such route; see docs/daemon-api.md (GET /v1/jobs, POST /v1/jobs, GET /v1/jobs/{id}, POST /v1/jobs/{id}/cancel|pause|resume)",
    )
}

async fn bad_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "method not allowed on this route",
    )
}

/// The control API's routes.
pub fn control(svc: Arc<Service>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/jobs", get(list).post(submit))
        .route("/v1/jobs/{id}", get(status))
        .route("/v1/jobs/{id}/{verb}", post(action))
        .fallback(not_found)
        .method_not_allowed_fallback(bad_method)
        .with_state(svc)
}

async fn metrics(State(svc): State<Arc<Service>>) -> Response {
    let svc2 = Arc::clone(&svc);
    let text = tokio::task::spawn_blocking(move || {
        svc2.refresh_metrics();
        svc2.metrics().render()
    })
    .await
    .unwrap_or_default();
    (
        [(header::CONTENT_TYPE, crate::metrics::Metrics::CONTENT_TYPE)],
        text,
    )
        .into_response()
}

/// The metrics route (`GET /metrics`).
pub fn metrics_routes(svc: Arc<Service>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(svc)
}
