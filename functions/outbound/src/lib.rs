//! Sends stored outbound messages through the Graph API: policy gate, at most one send per
//! message however often SQS redelivers (exactly one unless Meta answers nothing; see
//! `send`), retryable errors back to the queue with backoff (Meta's own waits where it names
//! them), permanent ones recorded as failed with Meta's code.

mod backoff;
mod init;
mod send;
mod stored_media;

pub use backoff::{redelivery_delay, retry_delay};
pub use init::{InitError, init};
pub use send::{
    NO_TOKEN_TITLE, NOT_OWNED_TITLE, SUSPENDED_TITLE, SendError, SendOutcome, UNCONFIRMED_TITLE,
    send_job,
};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_domain::Clock;
use switchboard_meta::graph::GraphClient;
use switchboard_platform::metrics::{Metrics, MetricsSink};
use switchboard_platform::queue::Queue;
use switchboard_platform::token_vault::TokenVault;
use switchboard_store::{IdempotencyStore, Store};
use tracing::Instrument;

pub struct OutboundState {
    pub store: Store,
    pub sends: IdempotencyStore,
    pub graph: GraphClient,
    /// Opens each tenant's own Meta token (sealed at Embedded Signup) for its sends.
    pub vault: TokenVault,
    pub queue: Queue,
    pub retry_base: Duration,
    pub clock: Arc<dyn Clock>,
    /// Where each batch's EMF metrics go: stdout in Lambda.
    pub metrics: Arc<dyn MetricsSink>,
    /// Tenants' uploads, read to upload them to Meta.
    pub media: switchboard_platform::media_store::MediaStore,
    /// Where a job's last failure is kept with its reason.
    pub dead_letters: Option<switchboard_platform::dead_letter::DeadLetters>,
}

/// The `service` dimension of the function's metrics.
pub const METRICS_SERVICE: &str = "outbound";
/// Metric names, counted per job by outcome; [`SEND_LATENCY`] is each Graph call's time.
pub const MESSAGES_SENT: &str = "MessagesSent";
pub const MESSAGES_FAILED: &str = "MessagesFailed";
pub const MESSAGES_DENIED: &str = "MessagesDenied";
pub const MESSAGES_RETRIED: &str = "MessagesRetried";
/// Already sent by an earlier delivery, or no longer to be sent.
pub const MESSAGES_SKIPPED: &str = "MessagesSkipped";
/// Records that are not jobs, and jobs that hit an internal (store) error.
pub const JOB_ERRORS: &str = "JobErrors";
/// Records returned unstarted: not enough of the invocation was left.
pub const JOBS_DEFERRED: &str = "JobsDeferred";
/// Jobs kept in the dead-letter queue with their reason after their last receive.
pub const JOBS_DEAD_LETTERED: &str = "JobsDeadLettered";
pub const SEND_LATENCY: &str = "SendLatency";

/// What one record may take at most: the Graph client's timeout plus recording's retries,
/// with margin. A record is only started while this much of the invocation is left.
pub const RECORD_BUDGET: Duration = Duration::from_secs(15);

/// A batch's message groups (one per recipient) run concurrently; within a group records run
/// one after another, in order. FIFO semantics: once a record of a group fails, the later
/// records of that group in this batch are returned unprocessed, or they would overtake it.
/// A record is started only while the invocation has [`RECORD_BUDGET`] left before
/// `deadline`; the rest are returned unprocessed and made visible again at once, so a batch
/// never outlives the function's timeout half-done. Concurrency is what lets one invocation
/// keep a fast number's pace: the send pace, not the batch, decides how fast a number sends.
pub async fn handle_batch(
    state: &OutboundState,
    event: SqsEvent,
    deadline: Instant,
) -> SqsBatchResponse {
    let mut metrics = Metrics::new(METRICS_SERVICE, Arc::clone(&state.metrics));
    let groups = message_groups(&event.records);
    let outcomes = futures::future::join_all(
        groups
            .iter()
            .map(|records| run_group(state, records, deadline)),
    )
    .await;
    let mut failures = Vec::new();
    let mut failed_with_reason = Vec::new();
    let mut deferred = 0usize;
    for outcome in outcomes {
        for (id, reason) in outcome.failures {
            match reason {
                Some(reason) => failed_with_reason.push((id, reason)),
                None => failures.push(id),
            }
        }
        deferred += outcome.deferred;
        metrics.absorb(outcome.metrics);
    }
    failures.extend(settle(state, &event.records, failed_with_reason, &mut metrics).await);
    if deferred > 0 {
        metrics.count(JOBS_DEFERRED, deferred as u64);
        tracing::info!(
            deferred,
            "records left for the next invocation: not enough time left"
        );
    }
    metrics.flush();
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|item_identifier| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = item_identifier;
            f
        })
        .collect();
    response
}

/// The failed records to report: on its last receive a record is kept in the dead-letter
/// queue with its reason instead.
async fn settle(
    state: &OutboundState,
    records: &[SqsMessage],
    failed: Vec<(String, String)>,
    metrics: &mut Metrics,
) -> Vec<String> {
    let Some(dead_letters) = &state.dead_letters else {
        return failed.into_iter().map(|(id, _)| id).collect();
    };
    let by_id: HashMap<&str, &SqsMessage> = records
        .iter()
        .filter_map(|r| r.message_id.as_deref().map(|id| (id, r)))
        .collect();
    let mut unknown = Vec::new();
    let mut failures = Vec::new();
    for (id, reason) in failed {
        match by_id.get(id.as_str()) {
            Some(record) => {
                failures.push(switchboard_platform::dead_letter::Failure { record, reason })
            }
            None => unknown.push(id),
        }
    }
    let tried = failures.len();
    let reported = dead_letters.settle(failures).await;
    metrics.count(JOBS_DEAD_LETTERED, (tried - reported.len()) as u64);
    unknown.extend(
        reported
            .into_iter()
            .map(|r| r.message_id.clone().unwrap_or_default()),
    );
    unknown
}

/// The batch's records by `MessageGroupId`, groups in order of first appearance, records in
/// batch order.
fn message_groups(records: &[SqsMessage]) -> Vec<Vec<&SqsMessage>> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<Vec<&SqsMessage>> = Vec::new();
    for record in records {
        let group = record
            .attributes
            .get("MessageGroupId")
            .map(String::as_str)
            .unwrap_or_default();
        match index.get(group) {
            Some(&i) => groups[i].push(record),
            None => {
                index.insert(group, groups.len());
                groups.push(vec![record]);
            }
        }
    }
    groups
}

struct GroupOutcome {
    /// Failed records, with the reason for those that failed themselves; a record returned
    /// unstarted has none.
    failures: Vec<(String, Option<String>)>,
    deferred: usize,
    metrics: Metrics,
}

async fn run_group(
    state: &OutboundState,
    records: &[&SqsMessage],
    deadline: Instant,
) -> GroupOutcome {
    let mut outcome = GroupOutcome {
        failures: Vec::new(),
        deferred: 0,
        metrics: Metrics::new(METRICS_SERVICE, Arc::clone(&state.metrics)),
    };
    let mut failed = false;
    for record in records {
        let id = record.message_id.clone().unwrap_or_default();
        if failed {
            outcome.failures.push((id, None));
            continue;
        }
        if deadline.saturating_duration_since(Instant::now()) < RECORD_BUDGET {
            outcome.deferred += 1;
            if let Some(handle) = record.receipt_handle.as_deref()
                && let Err(e) = state.queue.delay_redelivery(handle, 0).await
            {
                tracing::warn!(error = %e, "could not return a deferred record at once; it returns after its visibility timeout");
            }
            failed = true;
            outcome.failures.push((id, None));
            continue;
        }
        if let Err(reason) = process(state, record, &mut outcome.metrics).await {
            failed = true;
            outcome.failures.push((id, Some(reason)));
        }
    }
    outcome
}

/// Ok when the record is done with (sent, failed permanently, or skipped as a duplicate);
/// else why not.
async fn process(
    state: &OutboundState,
    record: &SqsMessage,
    metrics: &mut Metrics,
) -> Result<(), String> {
    let Some(job) = record
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<switchboard_domain::jobs::OutboundJob>(b).ok())
    else {
        tracing::error!(message_id = ?record.message_id, "outbound record is not a job; leaving it for the DLQ");
        metrics.count(JOB_ERRORS, 1);
        return Err("the record is not an outbound job".into());
    };
    let span =
        tracing::info_span!("outbound_job", tenant = %job.tenant_id, message = %job.message_id);
    process_job(state, record, &job, metrics)
        .instrument(span)
        .await
}

async fn process_job(
    state: &OutboundState,
    record: &SqsMessage,
    job: &switchboard_domain::jobs::OutboundJob,
    metrics: &mut Metrics,
) -> Result<(), String> {
    match send_job(state, job, metrics).await {
        Ok(outcome) => {
            tracing::info!(?outcome, "outbound job done");
            metrics.count(outcome_metric(&outcome), 1);
            Ok(())
        }
        Err(SendError::Retryable { reason, after }) => {
            let attempt = record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(1);
            let delay = retry_delay(state.retry_base, attempt, after);
            tracing::warn!(%reason, attempt, delay_s = delay.as_secs_f64(), "send will be retried");
            metrics.count(MESSAGES_RETRIED, 1);
            if let Some(handle) = record.receipt_handle.as_deref() {
                let secs = i32::try_from(delay.as_secs()).unwrap_or(i32::MAX);
                if let Err(e) = state.queue.delay_redelivery(handle, secs).await {
                    tracing::warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
                }
            }
            Err(reason)
        }
        Err(SendError::Internal(e)) => {
            tracing::error!(error = %e, "outbound job failed");
            metrics.count(JOB_ERRORS, 1);
            Err(e.to_string())
        }
    }
}

fn outcome_metric(outcome: &SendOutcome) -> &'static str {
    match outcome {
        SendOutcome::Sent { .. } | SendOutcome::SentUnrecorded { .. } => MESSAGES_SENT,
        SendOutcome::Failed { .. } | SendOutcome::Unconfirmed => MESSAGES_FAILED,
        SendOutcome::Denied { .. } => MESSAGES_DENIED,
        SendOutcome::AlreadySent | SendOutcome::Skipped => MESSAGES_SKIPPED,
    }
}

/// The invocation's deadline as an [`Instant`]: Lambda gives it in epoch milliseconds.
pub fn deadline_of(context: &lambda_runtime::Context) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let left = u128::from(context.deadline).saturating_sub(now_ms);
    Instant::now() + Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX))
}
