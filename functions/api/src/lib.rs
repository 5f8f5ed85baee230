//! The business HTTP API: an axum Router that lambda_http runs in Lambda and the dev runner
//! mounts locally.

mod auth;
mod conversations;
mod init;
mod messages;
mod problem;

pub use auth::{ApiKeyAuthenticator, Authenticator, Caller, hash_api_key};
pub use init::init;
pub use problem::Problem;

use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;
use switchboard_domain::Clock;
use switchboard_platform::queue::Queue;
use switchboard_store::{IdempotencyStore, Store};

pub struct ApiState {
    pub store: Store,
    pub idempotency: IdempotencyStore,
    pub outbound_queue: Queue,
    pub auth: Arc<dyn Authenticator>,
    pub clock: Arc<dyn Clock>,
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
        .fallback(problem::not_found)
        .layer(axum::middleware::from_fn(
            switchboard_platform::request_span::request_span,
        ))
        .with_state(state)
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}
