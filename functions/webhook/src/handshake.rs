//! `GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`

use crate::WebhookState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use subtle::ConstantTimeEq;

#[derive(Deserialize)]
pub(crate) struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

pub(crate) async fn verify_subscription(
    State(state): State<Arc<WebhookState>>,
    query: Result<Query<Handshake>, QueryRejection>,
) -> Response {
    let Ok(Query(h)) = query else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Ok(keys) = state.meta.get().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let token_matches = h.verify_token.as_deref().is_some_and(|given| {
        bool::from(
            given
                .as_bytes()
                .ct_eq(keys.verify_token.expose().as_bytes()),
        )
    });
    match (h.mode.as_deref(), token_matches, h.challenge) {
        (Some("subscribe"), true, Some(challenge)) => {
            tracing::info!("webhook subscription verified");
            (StatusCode::OK, challenge).into_response()
        }
        _ => {
            tracing::warn!("webhook subscription refused: wrong mode, token or no challenge");
            StatusCode::FORBIDDEN.into_response()
        }
    }
}
