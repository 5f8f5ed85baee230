//! Durable deduplication and enqueueing of webhook events, in the Powertools idempotency
//! style: claim each event (INPROGRESS), enqueue the claimed ones, then mark them COMPLETE.
//! A failure releases the claims so Meta's retry can enqueue them again.

use crate::WebhookState;
use futures::future::join_all;
use switchboard_meta::webhook::WebhookEvent;
use switchboard_store::{Begin, IdempotencyKey};
use time::Duration;

/// How long a claim blocks a concurrent duplicate before it may be taken over.
const CLAIM_FOR: Duration = Duration::seconds(60);
/// Meta retries a webhook for up to seven days.
const REMEMBER_FOR: Duration = Duration::days(7);
/// SQS refuses messages over 256 KiB.
const MAX_EVENT_BYTES: usize = 256 * 1024;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub enqueued: usize,
    pub duplicates: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("event {key} is too large for the queue")]
    TooLarge { key: String },
    #[error("could not encode event: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Store(#[from] switchboard_store::StoreError),
    #[error(transparent)]
    Queue(#[from] switchboard_platform::queue::QueueError),
}

pub fn dedupe_key(event: &WebhookEvent) -> IdempotencyKey {
    IdempotencyKey::WebhookEvent {
        phone_number_id_or_waba: event
            .phone_number_id
            .clone()
            .unwrap_or_else(|| format!("waba:{}", event.waba_id)),
        event_key: event.key.clone(),
    }
}

pub async fn accept_events(
    state: &WebhookState,
    events: &[WebhookEvent],
) -> Result<Accepted, AcceptError> {
    let bodies = events
        .iter()
        .map(|e| {
            let body = serde_json::to_string(e)?;
            if body.len() > MAX_EVENT_BYTES {
                return Err(AcceptError::TooLarge { key: e.key.clone() });
            }
            Ok(body)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let now = state.clock.now();
    let keys: Vec<IdempotencyKey> = events.iter().map(dedupe_key).collect();
    let claims = join_all(keys.iter().map(|k| state.dedupe.begin(k, now, CLAIM_FOR))).await;

    let mut claimed = Vec::new();
    let mut to_send = Vec::new();
    let mut duplicates = 0;
    let mut first_error = None;
    for (i, claim) in claims.into_iter().enumerate() {
        match claim {
            Ok(Begin::Started) => {
                claimed.push(&keys[i]);
                to_send.push(bodies[i].clone());
            }
            Ok(Begin::Completed { .. } | Begin::InProgress) => duplicates += 1,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }

    let sent = match first_error {
        Some(e) => Err(AcceptError::from(e)),
        None => state
            .inbound_queue
            .send_all(&to_send)
            .await
            .map_err(AcceptError::from),
    };
    if let Err(e) = sent {
        release(state, &claimed).await;
        return Err(e);
    }

    let done = join_all(
        claimed
            .iter()
            .map(|k| state.dedupe.complete(k, None, now, REMEMBER_FOR)),
    )
    .await;
    for r in done {
        // The events are already queued: a claim left in progress only delays a duplicate's
        // detection until it expires, and the inbound consumer is idempotent anyway.
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not mark webhook event complete");
        }
    }
    Ok(Accepted {
        enqueued: to_send.len(),
        duplicates,
    })
}

async fn release(state: &WebhookState, claimed: &[&IdempotencyKey]) {
    for r in join_all(claimed.iter().map(|k| state.dedupe.release(k))).await {
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not release webhook event claim; it expires by itself");
        }
    }
}
