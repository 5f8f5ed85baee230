//! Replays a quarantined webhook body once the reason it failed is fixed: the same split,
//! dedupe and enqueue as a delivery, then the body leaves the quarantine. The body was
//! signature-checked when it arrived; it is trusted because only the webhook can write
//! `quarantine/`, so the replay needs no app secret. The operations function runs it
//! (`{"op":"replay_quarantine","key":"quarantine/…"}`).

use crate::accept::{AcceptError, Accepted, accept_events};
use crate::{EventIntake, WebhookState};
use switchboard_meta::webhook;
use switchboard_platform::blob::{BlobError, QUARANTINE_PREFIX, Quarantine};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The key does not name a quarantined body: replays read nothing outside `quarantine/`.
    #[error("{key} is not a quarantine key (they start with {QUARANTINE_PREFIX})")]
    NotQuarantineKey { key: String },
    /// Nothing is stored under the key: never quarantined, or already replayed (a replayed
    /// body is removed) or expired.
    #[error("no quarantined body {key}: never stored, already replayed, or expired")]
    NotFound { key: String },
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

/// The replay, from the webhook function's own state.
pub async fn replay_quarantined(
    state: &WebhookState,
    key: &str,
) -> Result<ReplayOutcome, ReplayError> {
    replay_from_quarantine(&state.quarantine, &state.intake, key).await
}

/// Reads the body under `key`, parses and splits it, accepts its events as a delivery would
/// (events already queued count as duplicates), and removes the body only once every event is
/// queued. Any failure leaves the body where it is, to replay again.
pub async fn replay_from_quarantine(
    quarantine: &Quarantine,
    intake: &EventIntake,
    key: &str,
) -> Result<ReplayOutcome, ReplayError> {
    if !key.starts_with(QUARANTINE_PREFIX) || key.len() == QUARANTINE_PREFIX.len() {
        return Err(ReplayError::NotQuarantineKey {
            key: key.to_owned(),
        });
    }
    let stored = match quarantine.get(key).await {
        Ok(stored) => stored,
        // S3 answers a missing key 404 or, to a role that may not list the whole bucket, 403:
        // a listing of the key itself tells which.
        Err(e) => {
            return Err(match quarantine.contains(key).await {
                Ok(false) => ReplayError::NotFound {
                    key: key.to_owned(),
                },
                Ok(true) | Err(_) => ReplayError::Blob(e),
            });
        }
    };
    let notification = webhook::parse(&stored.body).map_err(|e| ReplayError::StillUnparseable {
        key: key.to_owned(),
        reason: e.to_string(),
    })?;
    let events = notification.into_events();
    let accepted = accept_events(intake, &events).await?;
    if !accepted.is_complete() {
        return Err(ReplayError::InProgress {
            key: key.to_owned(),
            events: accepted.in_progress,
        });
    }
    quarantine.remove(key).await?;
    tracing::info!(%key, events = events.len(), enqueued = accepted.enqueued, "quarantined body replayed");
    Ok(ReplayOutcome {
        events: events.len(),
        accepted,
    })
}
