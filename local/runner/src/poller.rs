//! Plays Lambda's SQS event source mapping locally: long-polls a queue, hands the batch to
//! the function's own batch handler, deletes what succeeded and leaves the reported failures
//! to reappear after their visibility timeout (moto applies the redrive policy to the DLQ).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub type BatchHandler =
    Arc<dyn Fn(SqsEvent) -> Pin<Box<dyn Future<Output = SqsBatchResponse> + Send>> + Send + Sync>;

pub struct QueuePoller {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub wait: Duration,
    /// Overrides the queue's visibility timeout for what this poller receives.
    pub visibility: Option<Duration>,
    /// The function's timeout: like Lambda, a batch still running then is cut off and none
    /// of its messages is deleted; they come back after their visibility timeout.
    pub timeout: Duration,
    pub handler: BatchHandler,
}

impl QueuePoller {
    pub async fn run(self) {
        loop {
            if let Err(e) = self.poll_once().await {
                tracing::warn!(queue = %self.queue_url, error = %e, "poll failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }

    /// One receive → handle → delete cycle. Returns how many messages were received.
    pub async fn poll_once(&self) -> anyhow::Result<usize> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size.clamp(1, 10))
            .wait_time_seconds(
                i32::try_from(self.wait.as_secs())
                    .unwrap_or(20)
                    .clamp(0, 20),
            )
            .set_visibility_timeout(
                self.visibility
                    .map(|v| i32::try_from(v.as_secs()).unwrap_or(i32::MAX)),
            )
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let messages = out.messages();
        if messages.is_empty() {
            return Ok(0);
        }
        let mut event = SqsEvent::default();
        event.records = messages.iter().map(|m| self.to_record(m)).collect();
        let receipts: HashMap<String, String> = messages
            .iter()
            .filter_map(|m| Some((m.message_id()?.to_owned(), m.receipt_handle()?.to_owned())))
            .collect();
        let Ok(response) = tokio::time::timeout(self.timeout, (self.handler)(event)).await else {
            tracing::warn!(queue = %self.queue_url, timeout_s = self.timeout.as_secs(), "batch cut off at the function's timeout");
            return Ok(messages.len());
        };
        let failed: std::collections::HashSet<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        let to_delete: Vec<DeleteMessageBatchRequestEntry> = receipts
            .iter()
            .filter(|(id, _)| !failed.contains(id.as_str()))
            .enumerate()
            .filter_map(|(i, (_, handle))| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
                    .ok()
            })
            .collect();
        if !to_delete.is_empty() {
            self.client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(to_delete))
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        }
        Ok(messages.len())
    }

    fn to_record(&self, m: &aws_sdk_sqs::types::Message) -> SqsMessage {
        let mut record = SqsMessage::default();
        record.message_id = m.message_id().map(str::to_owned);
        record.receipt_handle = m.receipt_handle().map(str::to_owned);
        record.body = m.body().map(str::to_owned);
        record.md5_of_body = m.md5_of_body().map(str::to_owned);
        record.attributes = m
            .attributes()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        record.event_source = Some("aws:sqs".into());
        record.event_source_arn = Some(self.queue_arn.clone());
        record.aws_region = Some("us-east-1".into());
        record
    }
}
