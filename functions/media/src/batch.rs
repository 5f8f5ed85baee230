//! The SQS side of the function: one media job per record, reported back one by one, so a
//! failed download is retried alone and, after the queue's maxReceiveCount, kept in the
//! dead-letter queue to replay.

use crate::{FetchError, Fetched, MediaState, fetch};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures::StreamExt;
use std::sync::Arc;
use switchboard_domain::jobs::MediaJob;
use switchboard_platform::metrics::Metrics;
use tracing::Instrument;

/// The `service` dimension of the function's metrics.
pub const METRICS_SERVICE: &str = "media";
pub const MEDIA_STORED: &str = "MediaStored";
pub const MEDIA_QUARANTINED: &str = "MediaQuarantined";
pub const MEDIA_UNAVAILABLE: &str = "MediaUnavailable";
/// Jobs with nothing left to do: a redelivered webhook's, or a gone message's.
pub const MEDIA_SKIPPED: &str = "MediaSkipped";
/// Records handed back to the queue: retried, then kept in the dead-letter queue.
pub const RECORDS_FAILED: &str = "RecordsFailed";
/// Bytes stored, summed per batch (the pipeline's throughput).
pub const MEDIA_BYTES: &str = "MediaBytes";

/// Downloads at once per invocation. Each holds at most one multipart part in memory
/// (`media_store::PART_BYTES`), so this bounds the function's memory, not the batch size.
pub const CONCURRENT_DOWNLOADS: usize = 2;

pub async fn handle_batch(state: &MediaState, event: SqsEvent) -> SqsBatchResponse {
    let outcomes: Vec<(Option<String>, Outcome)> = futures::stream::iter(event.records)
        .map(|record| async move {
            let id = record.message_id.unwrap_or_default();
            let job = match record.body.as_deref().map(serde_json::from_str::<MediaJob>) {
                Some(Ok(job)) => job,
                Some(Err(e)) => {
                    tracing::error!(message_id = %id, error = %e, "media job not understood");
                    return (Some(id), Outcome::Failed);
                }
                None => {
                    tracing::error!(message_id = %id, "media record without a body");
                    return (Some(id), Outcome::Failed);
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
                Ok(fetched) => (None, Outcome::Done(fetched)),
                Err(e) => {
                    let retryable = match &e {
                        FetchError::Retryable(_) => true,
                        FetchError::Store(e) => e.is_retryable(),
                    };
                    tracing::error!(message_id = %id, error = %e, retryable, "media not fetched");
                    (Some(id), Outcome::Failed)
                }
            }
        })
        .buffer_unordered(CONCURRENT_DOWNLOADS)
        .collect()
        .await;

    let mut metrics = Metrics::new(METRICS_SERVICE, Arc::clone(&state.metrics));
    let mut response = SqsBatchResponse::default();
    for (failed, outcome) in outcomes {
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
            Outcome::Failed => metrics.count(RECORDS_FAILED, 1),
        }
        if let Some(item_identifier) = failed {
            let mut f = BatchItemFailure::default();
            f.item_identifier = item_identifier;
            response.batch_item_failures.push(f);
        }
    }
    metrics.flush();
    response
}

enum Outcome {
    Done(Fetched),
    Failed,
}
