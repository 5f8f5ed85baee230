//! `/sandbox/*`: what tests and developers use to steer and inspect the sandbox.

use crate::faults::Fault;
use crate::state::SandboxState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn sent(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.sent()))
}

pub async fn read_receipts(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.read_receipts()))
}

pub async fn clear_history(State(state): State<SandboxState>) -> StatusCode {
    state.clear_history();
    StatusCode::NO_CONTENT
}

pub async fn add_fault(State(state): State<SandboxState>, Json(fault): Json<Fault>) -> StatusCode {
    state.push_fault(fault);
    StatusCode::NO_CONTENT
}

pub async fn list_faults(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.pending_faults()))
}

pub async fn clear_faults(State(state): State<SandboxState>) -> StatusCode {
    state.clear_faults();
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
pub struct WebhookUrl {
    pub url: String,
}

pub async fn webhook_url(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!({ "url": state.webhook_url() }))
}

pub async fn set_webhook_url(
    State(state): State<SandboxState>,
    Json(body): Json<WebhookUrl>,
) -> StatusCode {
    state.set_webhook_url(body.url);
    StatusCode::NO_CONTENT
}
