//! `/sandbox/*`: what tests and developers use to steer and inspect the sandbox.

use crate::faults::Fault;
use crate::pacing::{FaultRates, PairRate};
use crate::state::SandboxState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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

pub async fn rejections(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.rejections()))
}

pub async fn fault_rates(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.fault_rates()))
}

pub async fn set_fault_rates(
    State(state): State<SandboxState>,
    Json(rates): Json<FaultRates>,
) -> Response {
    let share = |x: f64| (0.0..=1.0).contains(&x);
    if !share(rates.server_error)
        || !share(rates.rate_limit)
        || !share(rates.server_error + rates.rate_limit)
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "server_error and rate_limit are shares from 0 to 1, together at most 1" })),
        )
            .into_response();
    }
    state.set_fault_rates(rates);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Debug, Deserialize)]
pub struct Throughput {
    pub messages_per_second: u32,
}

pub async fn throughput(
    State(state): State<SandboxState>,
    Path(phone_number_id): Path<String>,
) -> Json<Value> {
    Json(json!({ "messages_per_second": state.throughput(&phone_number_id) }))
}

pub async fn set_throughput(
    State(state): State<SandboxState>,
    Path(phone_number_id): Path<String>,
    Json(body): Json<Throughput>,
) -> StatusCode {
    state.set_throughput(&phone_number_id, body.messages_per_second);
    StatusCode::NO_CONTENT
}

pub async fn pair_rate(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.pair_rate()))
}

pub async fn set_pair_rate(
    State(state): State<SandboxState>,
    Json(rate): Json<PairRate>,
) -> StatusCode {
    state.set_pair_rate(rate);
    StatusCode::NO_CONTENT
}
