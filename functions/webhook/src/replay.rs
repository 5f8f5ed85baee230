//! Replays a quarantined webhook body once the reason it failed is fixed. The body was
//! signature-checked when it arrived; it is trusted because only we can write the bucket.

use crate::WebhookState;
use crate::accept::{AcceptError, Accepted, accept_events};
use switchboard_meta::webhook;
use switchboard_platform::blob::BlobError;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("quarantined body {key} still does not parse: {reason}")]
    StillUnparseable { key: String, reason: String },
    #[error(transparent)]
    Accept(#[from] AcceptError),
    /// Some events are claimed by a delivery that has not queued them: the body stays.
    #[error(
        "quarantined body {key}: {events} events still in progress elsewhere; replay again later"
    )]
    InProgress { key: String, events: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOutcome {
    pub events: usize,
    pub accepted: Accepted,
}

pub async fn replay_quarantined(
    state: &WebhookState,
    key: &str,
) -> Result<ReplayOutcome, ReplayError> {
    let stored = state.quarantine.get(key).await?;
    let notification = webhook::parse(&stored.body).map_err(|e| ReplayError::StillUnparseable {
        key: key.to_owned(),
        reason: e.to_string(),
    })?;
    let events = notification.events();
    let accepted = accept_events(state, &events).await?;
    if !accepted.is_complete() {
        return Err(ReplayError::InProgress {
            key: key.to_owned(),
            events: accepted.in_progress,
        });
    }
    state.quarantine.remove(key).await?;
    tracing::info!(%key, events = events.len(), enqueued = accepted.enqueued, "quarantined body replayed");
    Ok(ReplayOutcome {
        events: events.len(),
        accepted,
    })
}
