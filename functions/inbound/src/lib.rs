//! Applies webhook events from the inbound queue: routes each to its tenant by the business
//! phone number, records messages and contacts, opens the customer-service window and moves
//! delivery statuses forward. Every step is idempotent: SQS and Meta both deliver at least once.
//! A record carries the event itself or, for an event too large for a queue message, a pointer
//! to its copy in S3 (`blob::StoredEvent`), which is read back here.

mod apply;
pub mod campaigns;
mod consent;
mod init;
mod media;
mod replay;
mod routing;
mod templates;

pub use apply::{Applied, ApplyError, apply_event};
pub use init::init;
pub use replay::{PAGES_PER_DELIVERY, Replayed, replay_unrouted};
pub use routing::{Freshness, RouteCache};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures::future::join_all;
use std::sync::Arc;
use switchboard_domain::Clock;
use switchboard_domain::jobs::InboundJob;
use switchboard_meta::webhook::WebhookEvent;
use switchboard_platform::blob::{BlobError, EventStore, StoredEvent};
use switchboard_platform::metrics::{Metrics, MetricsSink};
use switchboard_platform::queue::Queue;
use switchboard_store::Store;
use tracing::Instrument;

pub struct InboundState {
    pub store: Store,
    pub routes: RouteCache,
    /// Events the webhook stored in S3 because they were too large for the queue.
    pub events: EventStore,
    /// Where the replies the inbound function sends itself (opt-out confirmations) are queued.
    pub outbound: Queue,
    /// This function's own queue, for jobs that schedule their next step (campaign chunks);
    /// `None` where no such job runs.
    pub jobs: Option<Queue>,
    /// The media function's queue: one job per media message; `None` where media is not kept.
    pub media: Option<Queue>,
    pub clock: Arc<dyn Clock>,
    /// Where each batch's EMF metrics go: stdout in Lambda.
    pub metrics: Arc<dyn MetricsSink>,
}

/// The `service` dimension of the function's metrics.
pub const METRICS_SERVICE: &str = "inbound";
/// Metric names, counted per record by what became of it.
pub const MESSAGES_RECORDED: &str = "MessagesRecorded";
pub const MESSAGES_DUPLICATE: &str = "MessagesDuplicate";
pub const STATUSES_APPLIED: &str = "StatusesApplied";
pub const EVENTS_KEPT: &str = "EventsKept";
pub const EVENTS_UNROUTED: &str = "EventsUnrouted";
pub const JOBS_RUN: &str = "JobsRun";
/// Records handed back to the queue: they are retried, then land in the dead-letter queue.
pub const RECORDS_FAILED: &str = "RecordsFailed";

impl InboundState {
    pub fn new(store: Store, events: EventStore, outbound: Queue, clock: Arc<dyn Clock>) -> Self {
        Self {
            routes: RouteCache::new(store.clone()),
            store,
            events,
            outbound,
            jobs: None,
            media: None,
            clock,
            metrics: switchboard_platform::metrics::stdout_sink(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum RecordError {
    /// S3 could not be read (retried) or holds something else than the pointer promised.
    #[error(transparent)]
    Stored(#[from] BlobError),
    #[error("not a webhook event: {0}")]
    Decode(#[from] serde_json::Error),
}

/// The event a record carries, read back from S3 when the record is a pointer.
async fn read_event(state: &InboundState, body: &str) -> Result<WebhookEvent, RecordError> {
    match StoredEvent::from_queue_body(body) {
        Some(stored) => Ok(serde_json::from_slice(&state.events.get(&stored).await?)?),
        None => Ok(serde_json::from_str(body)?),
    }
}

/// Runs a job; the record's id when it has to be delivered again.
async fn run_job(
    state: &InboundState,
    id: &str,
    job: Result<InboundJob, serde_json::Error>,
) -> Option<String> {
    match job {
        Err(e) => {
            tracing::error!(message_id = %id, error = %e, "inbound job not understood");
            Some(id.to_owned())
        }
        Ok(InboundJob::DispatchCampaign {
            tenant_id,
            campaign_id,
            chunk,
        }) => {
            let span = tracing::info_span!("campaign_chunk", tenant = %tenant_id, campaign = %campaign_id, chunk);
            match campaigns::dispatch_chunk(state, &tenant_id, &campaign_id, chunk)
                .instrument(span)
                .await
            {
                Ok(()) => None,
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "campaign chunk not dispatched");
                    Some(id.to_owned())
                }
            }
        }
        Ok(InboundJob::ReplayUnrouted { route_key }) => {
            match replay_unrouted(state, &route_key).await {
                Ok(r) => {
                    tracing::info!(
                        message_id = %id,
                        applied = r.applied,
                        undecodable = r.undecodable,
                        still_unrouted = r.still_unrouted,
                        more = r.more,
                        "unrouted events replayed"
                    );
                    r.more.then(|| id.to_owned())
                }
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "unrouted events not replayed");
                    Some(id.to_owned())
                }
            }
        }
    }
}

/// Processes a batch; records that failed are returned for redelivery (and, after the
/// queue's maxReceiveCount, land in the DLQ). Order across records does not matter: every
/// write is conditional and monotonic, so records run concurrently.
pub async fn handle_batch(state: &InboundState, event: SqsEvent) -> SqsBatchResponse {
    let outcomes = join_all(event.records.iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let Some(body) = record.body.as_deref() else {
            tracing::error!(message_id = %id, "inbound record without a body");
            return (Some(id), RECORDS_FAILED);
        };
        if let Some(job) = InboundJob::from_body(body) {
            let failed = run_job(state, &id, job).await;
            let metric = if failed.is_some() {
                RECORDS_FAILED
            } else {
                JOBS_RUN
            };
            return (failed, metric);
        }
        let event = match read_event(state, body).await {
            Ok(e) => e,
            Err(e) => {
                // Stays on the queue until it reaches the DLQ, where it can be inspected.
                tracing::error!(message_id = %id, error = %e, "inbound record not read");
                return (Some(id), RECORDS_FAILED);
            }
        };
        // Instrumented rather than entered: the records run concurrently in one task, and an
        // entered span would leak onto whichever sibling is polled next. `apply_event` fills
        // in the tenant once the route is known.
        let span = tracing::info_span!(
            "inbound_event",
            key = %event.key,
            field = %event.field,
            message_id = %id,
            tenant = tracing::field::Empty,
        );
        async {
            match apply_event(state, &event).await {
                Ok(applied) => {
                    tracing::debug!(?applied, "event applied");
                    (None, applied_metric(&applied))
                }
                Err(e) => {
                    tracing::error!(error = %e, retryable = e.is_retryable(), "event not applied");
                    (Some(id), RECORDS_FAILED)
                }
            }
        }
        .instrument(span)
        .await
    }))
    .await;
    let mut metrics = Metrics::new(METRICS_SERVICE, Arc::clone(&state.metrics));
    for (_, metric) in &outcomes {
        metrics.count(metric, 1);
    }
    metrics.flush();
    {
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = outcomes
            .into_iter()
            .filter_map(|(failed, _)| failed)
            .map(|item_identifier| {
                let mut f = BatchItemFailure::default();
                f.item_identifier = item_identifier;
                f
            })
            .collect();
        response
    }
}

fn applied_metric(applied: &Applied) -> &'static str {
    match applied {
        Applied::MessageRecorded { duplicate: false } => MESSAGES_RECORDED,
        Applied::MessageRecorded { duplicate: true } => MESSAGES_DUPLICATE,
        Applied::Status(_) => STATUSES_APPLIED,
        Applied::KeptRaw => EVENTS_KEPT,
        Applied::Unrouted => EVENTS_UNROUTED,
    }
}
