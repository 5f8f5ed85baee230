//! The SQS side of the function: one media job per record, reported back one by one, so a
//! failed download is retried alone and, on its last receive (the queue's maxReceiveCount),
//! kept in the dead-letter queue with its reason, to replay.

use crate::{FetchError, Fetched, MediaState, fetch, reason};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;
use std::sync::Arc;
use switchboard_domain::jobs::MediaJob;
use switchboard_platform::dead_letter::Failure;
use switchboard_platform::metrics::Metrics;
use tracing::Instrument;

/// The `service` dimension of the function's metrics.
pub const METRICS_SERVICE: &str = "media";
pub const MEDIA_STORED: &str = "MediaStored";
pub const MEDIA_QUARANTINED: &str = "MediaQuarantined";
pub const MEDIA_UNAVAILABLE: &str = "MediaUnavailable";
/// Jobs with nothing left to do: a redelivered webhook's, or a gone message's.
pub const MEDIA_SKIPPED: &str = "MediaSkipped";
/// Records that failed: handed back to the queue to be retried or, on their last receive,
/// kept in the dead-letter queue.
pub const RECORDS_FAILED: &str = "RecordsFailed";
/// Records kept in the dead-letter queue with their reason after their last receive.
pub const RECORDS_DEAD_LETTERED: &str = "RecordsDeadLettered";
/// Bytes stored, summed per batch (the pipeline's throughput).
pub const MEDIA_BYTES: &str = "MediaBytes";

/// Downloads at once per invocation. Each holds at most one multipart part in memory
/// (`media_store::PART_BYTES`), so this bounds the function's memory, not the batch size.
pub const CONCURRENT_DOWNLOADS: usize = 2;

pub async fn handle_batch(state: &MediaState, event: SqsEvent) -> SqsBatchResponse {
    let records = &event.records;
    // By index: over borrowed records, rustc cannot prove the batch's future `Send` for every
    // lifetime (its higher-ranked lifetime check), and Lambda's runtime needs it `Send`.
    let outcomes: Vec<(usize, Outcome)> = futures::stream::iter(0..records.len())
        .map(|i| async move { (i, process(state, &records[i]).await) })
        .buffer_unordered(CONCURRENT_DOWNLOADS)
        .collect()
        .await;

    let mut metrics = Metrics::new(METRICS_SERVICE, Arc::clone(&state.metrics));
    let mut failures = Vec::new();
    for (i, outcome) in outcomes {
        let record = &records[i];
        match outcome {
            Outcome::Done(Fetched::Stored { size, .. }) => {
                metrics.count(MEDIA_STORED, 1);
                metrics.add(
                    MEDIA_BYTES,
                    switchboard_platform::metrics::Unit::Bytes,
                    size as f64,
                );
            }
            Outcome::Done(Fetched::Quarantined { .. }) => metrics.count(MEDIA_QUARANTINED, 1),
            Outcome::Done(Fetched::Unavailable) => metrics.count(MEDIA_UNAVAILABLE, 1),
            Outcome::Done(Fetched::Skipped) => metrics.count(MEDIA_SKIPPED, 1),
            Outcome::Failed(reason) => {
                metrics.count(RECORDS_FAILED, 1);
                failures.push(Failure { record, reason });
            }
        }
    }
    let handed_back = match &state.dead_letters {
        Some(dead_letters) => {
            let tried = failures.len();
            let reported = dead_letters.settle(failures).await;
            metrics.count(RECORDS_DEAD_LETTERED, (tried - reported.len()) as u64);
            reported
        }
        None => failures.into_iter().map(|f| f.record).collect(),
    };
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

async fn process(state: &MediaState, record: &SqsMessage) -> Outcome {
    let id = record.message_id.as_deref().unwrap_or_default();
    let job = match record.body.as_deref().map(serde_json::from_str::<MediaJob>) {
        Some(Ok(job)) => job,
        Some(Err(e)) => {
            // Where and how, not serde's text: it quotes the job, whose file name is the
            // customer's.
            let reason = format!("not a media job: {}", reason::json(&e));
            tracing::error!(message_id = %id, %reason, "media job not understood");
            return Outcome::Failed(reason);
        }
        None => {
            tracing::error!(message_id = %id, "media record without a body");
            return Outcome::Failed("the record has no body".into());
        }
    };
    let span = tracing::info_span!(
        "media_job",
        message_id = %id,
        tenant = %job.tenant_id,
        message = %job.message_id,
        kind = %job.kind,
    );
    match fetch(state, &job).instrument(span).await {
        Ok(fetched) => Outcome::Done(fetched),
        Err(e) => {
            let retryable = match &e {
                FetchError::Retryable(_) | FetchError::Token(_) => true,
                FetchError::Store(e) => e.is_retryable(),
            };
            tracing::error!(message_id = %id, error = %e, retryable, "media not fetched");
            Outcome::Failed(format!("media not fetched: {}", reason::fetch(&e)))
        }
    }
}

enum Outcome {
    Done(Fetched),
    /// Why, in words that hold no message content (see [`reason`]).
    Failed(String),
}
