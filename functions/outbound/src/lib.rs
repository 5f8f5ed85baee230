//! Sends stored outbound messages through the Graph API: policy gate, one send per message
//! however often SQS redelivers, retryable errors back to the queue with backoff, permanent
//! ones recorded as failed with Meta's code.

mod backoff;
mod init;
mod send;

pub use backoff::redelivery_delay;
pub use init::{InitError, init};
pub use send::{SendError, SendOutcome, send_job};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::policy::PolicyGate;
use switchboard_domain::{Clock, Secret};
use switchboard_meta::graph::GraphClient;
use switchboard_platform::queue::Queue;
use switchboard_store::{IdempotencyStore, Store};
use tracing::Instrument;

pub struct OutboundState {
    pub store: Store,
    pub sends: IdempotencyStore,
    pub graph: GraphClient,
    /// The Tech Provider's system-user token. Per-tenant tokens from Embedded Signup,
    /// envelope-encrypted with KMS, replace it when tenancy lands.
    pub access_token: Secret,
    pub policy: Arc<dyn PolicyGate>,
    pub queue: Queue,
    pub retry_base: Duration,
    pub clock: Arc<dyn Clock>,
}

/// Records run in order. FIFO semantics: once a record of a message group fails, the later
/// records of that group in this batch are returned unprocessed, or they would overtake it.
pub async fn handle_batch(state: &OutboundState, event: SqsEvent) -> SqsBatchResponse {
    let mut failed_groups: HashSet<String> = HashSet::new();
    let mut failures = Vec::new();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let group = record
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_default();
        if failed_groups.contains(&group) {
            failures.push(id);
            continue;
        }
        if !process(state, record).await {
            failed_groups.insert(group);
            failures.push(id);
        }
    }
    {
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
}

/// True when the record is done with (sent, failed permanently, or skipped as a duplicate).
async fn process(state: &OutboundState, record: &SqsMessage) -> bool {
    let Some(job) = record
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<switchboard_domain::jobs::OutboundJob>(b).ok())
    else {
        tracing::error!(message_id = ?record.message_id, "outbound record is not a job; leaving it for the DLQ");
        return false;
    };
    // Instrumented rather than entered: records of a batch run concurrently in one task,
    // and an entered span would leak onto whichever sibling is polled next.
    let span =
        tracing::info_span!("outbound_job", tenant = %job.tenant_id, message = %job.message_id);
    process_job(state, record, &job).instrument(span).await
}

async fn process_job(
    state: &OutboundState,
    record: &SqsMessage,
    job: &switchboard_domain::jobs::OutboundJob,
) -> bool {
    match send_job(state, job).await {
        Ok(outcome) => {
            tracing::info!(?outcome, "outbound job done");
            true
        }
        Err(SendError::Retryable { reason, after }) => {
            let attempt = record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(1);
            let delay = after.unwrap_or_else(|| redelivery_delay(state.retry_base, attempt));
            tracing::warn!(%reason, attempt, delay_s = delay.as_secs_f64(), "send will be retried");
            if let Some(handle) = record.receipt_handle.as_deref() {
                let secs = i32::try_from(delay.as_secs()).unwrap_or(i32::MAX);
                if let Err(e) = state.queue.delay_redelivery(handle, secs).await {
                    tracing::warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
                }
            }
            false
        }
        Err(SendError::Internal(e)) => {
            tracing::error!(error = %e, "outbound job failed");
            false
        }
    }
}
