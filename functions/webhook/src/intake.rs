//! What hands webhook events to the inbound queue: the dedupe claims, the queue, the store for
//! events too large for a queue message, and the clock. The webhook's `POST` uses it, and so
//! does the operations function when it replays a quarantined body or unrouted events; none of
//! it needs the Meta secret (a replayed body was signature-checked when it arrived).

use crate::accept::{AcceptError, enqueue};
use aws_config::SdkConfig;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use switchboard_domain::{Clock, SystemClock};
use switchboard_meta::webhook::WebhookEvent;
use switchboard_platform::blob::EventStore;
use switchboard_platform::queue::Queue;
use switchboard_platform::{Config, aws};
use switchboard_store::IdempotencyStore;

pub struct EventIntake {
    /// The durable per-event claims (`WHEVT#…` items).
    pub dedupe: IdempotencyStore,
    pub inbound_queue: Queue,
    /// Events too large for a queue message travel through S3 (`events/`).
    pub events: EventStore,
    pub clock: Arc<dyn Clock>,
}

impl EventIntake {
    /// Clients built from `sdk` (with whatever timeouts it carries) for the resources `config`
    /// names, on the system clock.
    pub fn new(config: &Config, sdk: &SdkConfig) -> Self {
        Self {
            dedupe: IdempotencyStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name),
            inbound_queue: Queue::new(aws_sdk_sqs::Client::new(sdk), &config.inbound_queue_url),
            events: EventStore::new(aws::s3_client(sdk), &config.data_bucket),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Puts events on the inbound queue without claiming them: for events accepted long ago whose
/// claims are complete (unrouted events replayed once their number is onboarded), which
/// [`accept_events`](crate::accept_events) would count as duplicates. The inbound consumer is
/// idempotent, so an event enqueued twice is applied once. Encoded exactly as `accept_events`
/// encodes them, oversize ones as pointers to their copy in S3.
pub async fn enqueue_events(
    intake: &EventIntake,
    events: &[WebhookEvent],
) -> Result<(), AcceptError> {
    if events.is_empty() {
        return Ok(());
    }
    let bodies = events
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<_>, _>>()?;
    let hashes: Vec<String> = bodies
        .iter()
        .map(|b| hex::encode(Sha256::digest(b.as_bytes())))
        .collect();
    let all: Vec<usize> = (0..events.len()).collect();
    enqueue(intake, events, &bodies, &hashes, &all).await
}
