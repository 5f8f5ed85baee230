//! `POST /webhooks/whatsapp`: signature first, then nothing is lost: a body that verifies but
//! cannot be parsed is quarantined whole and still answered 200 so Meta stops retrying it.

use crate::WebhookState;
use crate::accept::{AcceptError, accept_events};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::sync::Arc;
use switchboard_meta::signature::{self, SignatureError};
use switchboard_meta::webhook;

pub(crate) async fn receive(
    State(state): State<Arc<WebhookState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    if let Err(e) = state.signature.verify(&body, header) {
        tracing::warn!(error = %e, bytes = body.len(), "webhook rejected");
        return match e {
            SignatureError::Missing => StatusCode::UNAUTHORIZED,
            SignatureError::Malformed | SignatureError::Mismatch => StatusCode::FORBIDDEN,
        };
    }

    let events = match webhook::parse(&body) {
        Ok(notification) => notification.events(),
        Err(e) => return quarantine(&state, &body, &e.to_string()).await,
    };
    match accept_events(&state, &events).await {
        Ok(accepted) => {
            tracing::info!(
                events = events.len(),
                enqueued = accepted.enqueued,
                duplicates = accepted.duplicates,
                "webhook accepted"
            );
            StatusCode::OK
        }
        Err(AcceptError::TooLarge { key }) => {
            quarantine(
                &state,
                &body,
                &format!("event {key} exceeds the queue message limit"),
            )
            .await
        }
        Err(e) => {
            // Meta retries non-2xx answers with backoff; nothing was acknowledged.
            tracing::error!(error = %e, "webhook events not enqueued; asking Meta to retry");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

async fn quarantine(state: &WebhookState, body: &[u8], reason: &str) -> StatusCode {
    match state.quarantine.put(body, reason, state.clock.now()).await {
        Ok(key) => {
            tracing::error!(%key, %reason, bytes = body.len(), "webhook body quarantined");
            StatusCode::OK
        }
        Err(e) => {
            tracing::error!(error = %e, %reason, "webhook body could not be quarantined; asking Meta to retry");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
