//! `POST /webhooks/whatsapp`: signature first, then nothing is lost: a body that verifies but
//! cannot be parsed is quarantined whole and still answered 200 so Meta stops retrying it.

use crate::accept::{AcceptError, accept_events};
use crate::{METRICS_SERVICE, WebhookState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use switchboard_meta::signature::{self, SignatureError};
use switchboard_meta::webhook;
use switchboard_platform::metrics::Metrics;

/// The webhook function's timeout is 10 s; every AWS call on this path is bounded by the
/// clients' operation timeout (see `init`), and the whole accept step by this.
const ACCEPT_BUDGET: Duration = Duration::from_secs(7);

/// Metric names: events queued by this request, events an earlier delivery queued, bodies
/// quarantined, requests refused for their signature, requests answered "retry" because the
/// events could not be queued (in time).
pub const EVENTS_ACCEPTED: &str = "EventsAccepted";
pub const EVENTS_DUPLICATE: &str = "EventsDuplicate";
pub const BODIES_QUARANTINED: &str = "BodiesQuarantined";
pub const SIGNATURES_REJECTED: &str = "SignaturesRejected";
pub const ACCEPT_ERRORS: &str = "AcceptErrors";

pub(crate) async fn receive(
    State(state): State<Arc<WebhookState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut metrics = Metrics::new(METRICS_SERVICE, Arc::clone(&state.metrics));
    let status = decide(&state, &headers, &body, &mut metrics).await;
    metrics.flush();
    status
}

async fn decide(
    state: &WebhookState,
    headers: &HeaderMap,
    body: &[u8],
    metrics: &mut Metrics,
) -> StatusCode {
    // Without the app secret nothing can be verified: Meta retries the 503.
    let Ok(keys) = state.meta.get().await else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    if let Err(e) = keys.signature.verify(body, header) {
        tracing::warn!(error = %e, bytes = body.len(), "webhook rejected");
        metrics.count(SIGNATURES_REJECTED, 1);
        return match e {
            SignatureError::Missing => StatusCode::UNAUTHORIZED,
            SignatureError::Malformed | SignatureError::Mismatch => StatusCode::FORBIDDEN,
        };
    }

    let events = match webhook::parse(body) {
        Ok(notification) => notification.into_events(),
        Err(e) => return quarantine(state, body, &e.to_string(), metrics).await,
    };
    // Past the budget, answering "retry" beats being cut off by the Lambda timeout: claims
    // taken so far expire and Meta's retry finds the events again.
    let accepted =
        match tokio::time::timeout(ACCEPT_BUDGET, accept_events(&state.intake, &events)).await {
            Ok(result) => result,
            Err(_) => {
                tracing::error!(
                    events = events.len(),
                    "webhook events not enqueued in time; asking Meta to retry"
                );
                metrics.count(ACCEPT_ERRORS, 1);
                return StatusCode::SERVICE_UNAVAILABLE;
            }
        };
    match accepted {
        Ok(accepted) => {
            tracing::info!(
                events = events.len(),
                enqueued = accepted.enqueued,
                duplicates = accepted.duplicates,
                in_progress = accepted.in_progress,
                "webhook events accepted"
            );
            metrics.count(EVENTS_ACCEPTED, accepted.enqueued as u64);
            metrics.count(EVENTS_DUPLICATE, accepted.duplicates as u64);
            if accepted.is_complete() {
                StatusCode::OK
            } else {
                // Another delivery holds some events and has not queued them yet; if it
                // died, only Meta's retry brings them back: not acknowledged until completed.
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
        Err(AcceptError::TooLarge { key }) => {
            quarantine(
                state,
                body,
                &format!("event {key} exceeds the queue message limit"),
                metrics,
            )
            .await
        }
        Err(e) => {
            // Meta retries non-2xx answers with backoff; nothing was acknowledged.
            tracing::error!(error = %e, "webhook events not enqueued; asking Meta to retry");
            metrics.count(ACCEPT_ERRORS, 1);
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

async fn quarantine(
    state: &WebhookState,
    body: &[u8],
    reason: &str,
    metrics: &mut Metrics,
) -> StatusCode {
    match state
        .quarantine
        .put(body, reason, state.intake.clock.now())
        .await
    {
        Ok(key) => {
            tracing::error!(%key, %reason, bytes = body.len(), "webhook body quarantined");
            metrics.count(BODIES_QUARANTINED, 1);
            StatusCode::OK
        }
        Err(e) => {
            tracing::error!(error = %e, %reason, "webhook body could not be quarantined; asking Meta to retry");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
