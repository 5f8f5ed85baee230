//! Durable deduplication and enqueueing of webhook events with the idempotency primitive:
//! claim each event (INPROGRESS), enqueue the claimed ones, then mark them COMPLETE. A failure
//! releases the claims so Meta's retry can enqueue them again. An event another delivery has
//! claimed but not completed is not acknowledged: its claimer may have died before enqueueing
//! it, so Meta must retry until it is completed.
//!
//! An event too large for a queue message is stored in S3 after it is claimed, and the queue
//! carries a pointer to it instead (see docs/webhook-model.md).

use crate::EventIntake;
use futures::future::{join_all, try_join_all};
use sha2::{Digest, Sha256};
use switchboard_meta::webhook::WebhookEvent;
use switchboard_platform::blob::BlobError;
use switchboard_platform::queue::{MAX_MESSAGE_BYTES, QueueError};
use switchboard_store::{Begin, IdempotencyKey, Lease};
use time::Duration;

/// How long a claim blocks a concurrent duplicate before it may be taken over: longer than
/// the webhook function may run (10 s), so a live claimer is never overtaken.
pub const CLAIM_FOR: Duration = Duration::seconds(60);
/// Meta retries a webhook for up to seven days.
const REMEMBER_FOR: Duration = Duration::days(7);

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
    /// The queue refused an event as too large. Not expected: an event that does not fit is
    /// sent as a pointer to its copy in S3.
    #[error("event {key} is too large for the queue")]
    TooLarge { key: String },
    #[error("could not encode event: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Store(#[from] switchboard_store::StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Blob(#[from] BlobError),
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
    state: &EventIntake,
    events: &[WebhookEvent],
) -> Result<Accepted, AcceptError> {
    let bodies = events
        .iter()
        .map(serde_json::to_string)
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
                to_send.push(i);
            }
            Ok(Begin::Completed { .. }) => duplicates += 1,
            Ok(Begin::InProgress { .. }) => in_progress += 1,
            // Meta sent the same event id with another content: a redelivery after an edit
            // of the payload format. The first one is queued; this one is not dropped.
            Err(switchboard_store::StoreError::IdempotencyPayloadMismatch) => {
                tracing::warn!(event = %events[i].key, "event redelivered with another payload; enqueueing it too");
                to_send.push(i);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }

    let sent = match first_error {
        Some(e) => Err(AcceptError::from(e)),
        None => enqueue(state, events, &bodies, &hashes, &to_send).await,
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

/// Puts the chosen events on the inbound queue. One too large for a queue message is stored in
/// S3 first (under its hash, so a retry rewrites the same object) and the queue carries the
/// pointer; the inbound consumer reads it back.
pub(crate) async fn enqueue(
    state: &EventIntake,
    events: &[WebhookEvent],
    bodies: &[String],
    hashes: &[String],
    to_send: &[usize],
) -> Result<(), AcceptError> {
    let store = &state.events;
    let messages = try_join_all(to_send.iter().map(|&i| async move {
        let body = &bodies[i];
        if body.len() <= MAX_MESSAGE_BYTES {
            return Ok::<_, AcceptError>(body.clone());
        }
        let stored = store.put(&hashes[i], body.as_bytes()).await?;
        tracing::info!(
            event = %events[i].key,
            bytes = body.len(),
            object = %stored.s3_key,
            "event too large for a queue message; stored in S3, pointer enqueued"
        );
        Ok(stored.to_queue_body())
    }))
    .await?;
    match state.inbound_queue.send_all(&messages).await {
        Err(QueueError::TooLarge { index, .. }) => Err(AcceptError::TooLarge {
            key: to_send
                .get(index)
                .and_then(|&i| events.get(i))
                .map(|e| e.key.clone())
                .unwrap_or_default(),
        }),
        sent => Ok(sent?),
    }
}

async fn release(state: &EventIntake, claimed: &[(&IdempotencyKey, Lease)]) {
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
