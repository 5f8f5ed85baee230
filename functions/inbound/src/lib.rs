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
mod reason;
mod replay;
mod routing;
mod templates;

pub use apply::{Applied, ApplyError, apply_event};
pub use init::init;
pub use replay::{PAGES_PER_DELIVERY, Replayed, replay_unrouted};
pub use routing::{Freshness, RouteCache};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;
use std::sync::Arc;
use switchboard_domain::Clock;
use switchboard_domain::jobs::InboundJob;
use switchboard_meta::webhook::WebhookEvent;
use switchboard_platform::blob::{BlobError, EventStore, StoredEvent};
use switchboard_platform::dead_letter::{DeadLetters, Failure};
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
    /// Where a record's last failure is kept with its reason; `None` leaves it to SQS's
    /// redrive, without one.
    pub dead_letters: Option<DeadLetters>,
    /// The inbound queue's maxReceiveCount (`MAX_RECEIVES`), when known: a replay that still
    /// has work on its last receive carries on in a fresh job rather than in the DLQ.
    pub max_receives: Option<u32>,
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
/// Records that failed: handed back to the queue to be retried or, on their last receive,
/// kept in the dead-letter queue.
pub const RECORDS_FAILED: &str = "RecordsFailed";
/// Records kept in the dead-letter queue with their reason after their last receive.
pub const RECORDS_DEAD_LETTERED: &str = "RecordsDeadLettered";

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
            dead_letters: None,
            max_receives: None,
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

/// What became of a record.
enum Outcome {
    /// Done with, counted under this metric.
    Done(&'static str),
    /// Failed, and why (see [`reason`]: never the record's content).
    Failed(String),
    /// Handed back on purpose to be delivered again: not a failure, never dead-lettered.
    Again,
}

fn receives(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// Whether a replay with work left goes on in a fresh job rather than through this record's
/// redelivery: only on the record's last receive, after which SQS's redrive would move it.
fn continues_in_a_fresh_job(receives: u32, max_receives: Option<u32>) -> bool {
    max_receives.is_some_and(|max| receives >= max)
}

async fn run_job(
    state: &InboundState,
    record: &SqsMessage,
    id: &str,
    job: Result<InboundJob, serde_json::Error>,
) -> Outcome {
    match job {
        Err(e) => {
            let reason = format!("not an inbound job: {}", reason::json(&e));
            tracing::error!(message_id = %id, %reason, "inbound job not understood");
            Outcome::Failed(reason)
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
                Ok(()) => Outcome::Done(JOBS_RUN),
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "campaign chunk not dispatched");
                    Outcome::Failed(format!(
                        "campaign chunk {chunk} not dispatched: {}",
                        reason::dispatch(&e)
                    ))
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
                    if r.more {
                        replay_goes_on(state, record, id, route_key).await
                    } else {
                        Outcome::Done(JOBS_RUN)
                    }
                }
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "unrouted events not replayed");
                    Outcome::Failed(format!(
                        "unrouted events not replayed: {}",
                        reason::apply(&e)
                    ))
                }
            }
        }
    }
}

/// A replay with work left is delivered again on purpose, to go on where it stopped. Each
/// delivery counts as a receive, so a number with more kept events than
/// `PAGES_PER_DELIVERY` pages times maxReceiveCount would reach its last receive with work
/// left: handed back then, SQS's redrive would move it to the DLQ, where it would read as a
/// failure (and raise the DLQ alarm) although nothing failed. So on the last receive the
/// replay goes on in a fresh job, whose receives start again at one, and this record is done.
/// Should that send fail, the record is handed back as before; SQS then keeps it in the DLQ
/// without a reason, and a redrive carries the replay on. It is never dead-lettered here.
async fn replay_goes_on(
    state: &InboundState,
    record: &SqsMessage,
    id: &str,
    route_key: String,
) -> Outcome {
    let Some(jobs) = state
        .jobs
        .as_ref()
        .filter(|_| continues_in_a_fresh_job(receives(record), state.max_receives))
    else {
        return Outcome::Again;
    };
    let job = InboundJob::ReplayUnrouted { route_key };
    match jobs.send_delayed(&job.to_body(), 0).await {
        Ok(()) => {
            tracing::info!(message_id = %id, "last receive: the replay goes on in a fresh job");
            Outcome::Done(JOBS_RUN)
        }
        Err(e) => {
            tracing::warn!(message_id = %id, error = %e, "the replay's next job was not queued; handed back instead");
            Outcome::Again
        }
    }
}

/// Runs one record: a job of this function's own, or a webhook event (read back from S3 when
/// the record is a pointer to it).
async fn process(state: &InboundState, record: &SqsMessage) -> Outcome {
    let id = record.message_id.clone().unwrap_or_default();
    let Some(body) = record.body.as_deref() else {
        tracing::error!(message_id = %id, "inbound record without a body");
        return Outcome::Failed("the record has no body".into());
    };
    if let Some(job) = InboundJob::from_body(body) {
        return run_job(state, record, &id, job).await;
    }
    let event = match read_event(state, body).await {
        Ok(e) => e,
        Err(RecordError::Decode(e)) => {
            let reason = format!("not a webhook event: {}", reason::json(&e));
            // Not the error itself: serde quotes its input, which may be a customer's text.
            tracing::error!(message_id = %id, %reason, "inbound record not read");
            return Outcome::Failed(reason);
        }
        Err(RecordError::Stored(e)) => {
            tracing::error!(message_id = %id, error = %e, "inbound record not read");
            return Outcome::Failed(format!("stored event not read: {}", reason::blob(&e)));
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
                Outcome::Done(applied_metric(&applied))
            }
            Err(e) => {
                tracing::error!(error = %e, retryable = e.is_retryable(), "event not applied");
                Outcome::Failed(format!(
                    "{} event not applied: {}",
                    event.field,
                    reason::apply(&e)
                ))
            }
        }
    }
    .instrument(span)
    .await
}

/// Processes a batch; records that failed are returned for redelivery, and on their last
/// receive kept in the dead-letter queue with their reason instead. Order across records does
/// not matter: every write is conditional and monotonic, so records run concurrently.
pub async fn handle_batch(state: &InboundState, event: SqsEvent) -> SqsBatchResponse {
    let outcomes = join_all(
        event
            .records
            .iter()
            .map(|record| async move { (record, process(state, record).await) }),
    )
    .await;
    let mut metrics = Metrics::new(METRICS_SERVICE, Arc::clone(&state.metrics));
    let mut handed_back = Vec::new();
    let mut failures = Vec::new();
    for (record, outcome) in outcomes {
        match outcome {
            Outcome::Done(metric) => metrics.count(metric, 1),
            Outcome::Again => {
                metrics.count(JOBS_RUN, 1);
                handed_back.push(record);
            }
            Outcome::Failed(reason) => {
                metrics.count(RECORDS_FAILED, 1);
                failures.push(Failure { record, reason });
            }
        }
    }
    match &state.dead_letters {
        Some(dead_letters) => {
            let tried = failures.len();
            let reported = dead_letters.settle(failures).await;
            metrics.count(RECORDS_DEAD_LETTERED, (tried - reported.len()) as u64);
            handed_back.extend(reported);
        }
        None => handed_back.extend(failures.into_iter().map(|f| f.record)),
    }
    metrics.flush();
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = handed_back
        .into_iter()
        .map(|record| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = record.message_id.clone().unwrap_or_default();
            f
        })
        .collect();
    response
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_goes_on_in_a_fresh_job_only_on_its_last_receive() {
        assert!(!continues_in_a_fresh_job(1, Some(5)));
        assert!(!continues_in_a_fresh_job(4, Some(5)));
        assert!(continues_in_a_fresh_job(5, Some(5)));
        assert!(
            continues_in_a_fresh_job(6, Some(5)),
            "a count past the maximum"
        );
        assert!(
            !continues_in_a_fresh_job(50, None),
            "unknown maximum: left to redelivery"
        );
    }

    #[test]
    fn receives_default_to_the_first() {
        let mut record = SqsMessage::default();
        assert_eq!(receives(&record), 1);
        record
            .attributes
            .insert("ApproximateReceiveCount".into(), "5".into());
        assert_eq!(receives(&record), 5);
        record
            .attributes
            .insert("ApproximateReceiveCount".into(), "many".into());
        assert_eq!(receives(&record), 1);
    }
}
