//! Durable deduplication and enqueueing of webhook events with the idempotency primitive:
//! claim each event (INPROGRESS), enqueue the claimed ones, then mark them COMPLETE. A failure
//! releases the claims so Meta's retry can enqueue them again. An event another delivery has
//! claimed but not completed is not acknowledged: its claimer may have died before enqueueing
//! it, so Meta must retry until it is completed.

use crate::WebhookState;
use futures::future::join_all;
use sha2::{Digest, Sha256};
use switchboard_meta::webhook::WebhookEvent;
use switchboard_store::{Begin, IdempotencyKey, Lease};
use time::Duration;

/// How long a claim blocks a concurrent duplicate before it may be taken over: longer than
/// the webhook function may run (10 s), so a live claimer is never overtaken.
pub const CLAIM_FOR: Duration = Duration::seconds(60);
/// Meta retries a webhook for up to seven days.
const REMEMBER_FOR: Duration = Duration::days(7);
/// SQS refuses messages over 256 KiB.
const MAX_EVENT_BYTES: usize = 256 * 1024;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub enqueued: usize,
    pub duplicates: usize,
    /// Events another delivery claimed and has not completed: not acknowledged yet.
    pub in_progress: usize,
}

impl Accepted {
    /// Every event is durably queued, by this delivery or an earlier one.
    pub fn is_complete(&self) -> bool {
        self.in_progress == 0
    }
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
    let hashes: Vec<String> = bodies
        .iter()
        .map(|b| hex::encode(Sha256::digest(b.as_bytes())))
        .collect();
    let claims = join_all(
        keys.iter()
            .zip(&hashes)
            .map(|(k, h)| state.dedupe.begin(k, h, now, CLAIM_FOR)),
    )
    .await;

    let mut claimed: Vec<(&IdempotencyKey, Lease)> = Vec::new();
    let mut to_send = Vec::new();
    let mut duplicates = 0;
    let mut in_progress = 0;
    let mut first_error = None;
    for (i, claim) in claims.into_iter().enumerate() {
        match claim {
            Ok(Begin::Started(lease)) => {
                claimed.push((&keys[i], lease));
                to_send.push(bodies[i].clone());
            }
            Ok(Begin::Completed { .. }) => duplicates += 1,
            Ok(Begin::InProgress { .. }) => in_progress += 1,
            // Meta sent the same event id with another content: a redelivery after an edit
            // of the payload format. The first one is queued; this one is not dropped.
            Err(switchboard_store::StoreError::IdempotencyPayloadMismatch) => {
                tracing::warn!(event = %events[i].key, "event redelivered with another payload; enqueueing it too");
                to_send.push(bodies[i].clone());
            }
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
            .map(|(k, lease)| state.dedupe.complete(k, lease, None, now, REMEMBER_FOR)),
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
        in_progress,
    })
}

async fn release(state: &WebhookState, claimed: &[(&IdempotencyKey, Lease)]) {
    for r in join_all(
        claimed
            .iter()
            .map(|(k, lease)| state.dedupe.release(k, lease)),
    )
    .await
    {
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not release webhook event claim; it expires by itself");
        }
    }
}
