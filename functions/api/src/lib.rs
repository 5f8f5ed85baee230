//! The business HTTP API: an axum Router that lambda_http runs in Lambda and the dev runner
//! mounts locally.

mod auth;
mod conversations;
mod init;
mod messages;
mod problem;

pub use auth::{ApiKeyAuthenticator, Authenticator, Caller, hash_api_key};
pub use init::{InitError, init};
pub use problem::{FieldError, Problem};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::sync::Arc;
use switchboard_domain::Clock;
use switchboard_platform::queue::Queue;
use switchboard_store::{CursorCodec, IdempotencyStore, Store};

/// The largest request body accepted, in bytes (a 4096-character text is at most 16 KiB of
/// UTF-8); larger ones are answered 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest id accepted in a path. Our ids are under 40 bytes.
pub const MAX_ID_BYTES: usize = 128;

pub struct ApiState {
    pub store: Store,
    pub idempotency: IdempotencyStore,
    pub outbound_queue: Queue,
    pub auth: Arc<dyn Authenticator>,
    pub clock: Arc<dyn Clock>,
    /// Signs and checks page cursors; read against `clock`.
    pub cursors: CursorCodec,
}

pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/conversations", get(conversations::list))
        .route("/v1/conversations/{id}", get(conversations::get_one))
        .route(
            "/v1/conversations/{id}/messages",
            get(conversations::messages),
        )
        .route("/v1/messages", post(messages::create))
        .route("/v1/messages/{id}", get(messages::get_one))
        // Before `route_layer`: it applies to the routes as they are when it is called.
        .method_not_allowed_fallback(problem::method_not_allowed)
        .route_layer(axum::middleware::from_fn(conversations::valid_path_ids))
        .fallback(problem::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(problem::problem_responses))
        .layer(axum::middleware::from_fn(
            switchboard_platform::request_span::request_span,
        ))
        .with_state(state)
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}
