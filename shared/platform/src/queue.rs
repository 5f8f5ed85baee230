//! SQS producers.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("sqs send to {queue} failed: {reason}")]
    Send { queue: String, reason: String },
    #[error("sqs rejected {failed} of {total} messages for {queue}: {first_reason}")]
    Partial {
        queue: String,
        failed: usize,
        total: usize,
        first_reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
}

/// SendMessageBatch takes at most ten entries.
const MAX_BATCH: usize = 10;

impl Queue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends every body, ten per request; fails if any one was not accepted.
    pub async fn send_all(&self, bodies: &[String]) -> Result<(), QueueError> {
        for chunk in bodies.chunks(MAX_BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                        .map_err(|e| self.send_error(e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| self.send_error(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            if let Some(first) = out.failed().first() {
                return Err(QueueError::Partial {
                    queue: self.url.clone(),
                    failed: out.failed().len(),
                    total: chunk.len(),
                    first_reason: first.message().unwrap_or(first.code()).to_owned(),
                });
            }
        }
        Ok(())
    }

    /// FIFO send: one group is delivered in order; the deduplication id makes a repeated send
    /// within SQS's five-minute window a no-op.
    pub async fn send_fifo(
        &self,
        body: &str,
        group: &str,
        dedup_id: &str,
    ) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_group_id(group)
            .message_deduplication_id(dedup_id)
            .send()
            .await
            .map_err(|e| self.send_error(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    /// Hides a received message for `seconds` more: the backoff of a retryable failure.
    pub async fn delay_redelivery(
        &self,
        receipt_handle: &str,
        seconds: i32,
    ) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| self.send_error(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    fn send_error(&self, e: impl std::fmt::Display) -> QueueError {
        QueueError::Send {
            queue: self.url.clone(),
            reason: e.to_string(),
        }
    }
}
