//! SQS producers.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use std::ops::Range;

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
    #[error(
        "message #{index} ({bytes} bytes) for {queue} exceeds the SQS message limit of {MAX_MESSAGE_BYTES} bytes (256 KiB); nothing was sent"
    )]
    TooLarge {
        queue: String,
        index: usize,
        bytes: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
}

/// SendMessageBatch takes at most ten entries...
pub const MAX_BATCH_ENTRIES: usize = 10;
/// ...whose bodies add up to at most 256 KiB.
pub const MAX_BATCH_BYTES: usize = 262_144;
/// At most 256 KiB per message body: SQS's long-standing limit, which every queue we create
/// accepts.
pub const MAX_MESSAGE_BYTES: usize = 262_144;

/// A body no request can carry: its position in the input and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oversize {
    pub index: usize,
    pub bytes: usize,
}

/// Splits bodies of the given byte lengths, in order, into the fewest consecutive batches that
/// each hold at most [`MAX_BATCH_ENTRIES`] bodies and [`MAX_BATCH_BYTES`] bytes. A body over
/// [`MAX_MESSAGE_BYTES`] fits no batch: the whole plan fails, so nothing is sent.
pub fn plan_batches(
    lengths: impl IntoIterator<Item = usize>,
) -> Result<Vec<Range<usize>>, Oversize> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    let mut end = 0;
    for (index, len) in lengths.into_iter().enumerate() {
        if len > MAX_MESSAGE_BYTES {
            return Err(Oversize { index, bytes: len });
        }
        if index - start == MAX_BATCH_ENTRIES || bytes + len > MAX_BATCH_BYTES {
            batches.push(start..index);
            start = index;
            bytes = 0;
        }
        bytes += len;
        end = index + 1;
    }
    if end > start {
        batches.push(start..end);
    }
    Ok(batches)
}

/// The longest delay SQS gives a message at send.
pub const MAX_DELAY_SECONDS: i32 = 900;

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

    /// Sends every body, in as few requests as SQS's batch limits allow (see
    /// [`plan_batches`]); fails if any one was not accepted. A body over the message limit
    /// fails the call before anything is sent.
    pub async fn send_all(&self, bodies: &[String]) -> Result<(), QueueError> {
        let batches =
            plan_batches(bodies.iter().map(String::len)).map_err(|o| QueueError::TooLarge {
                queue: self.url.clone(),
                index: o.index,
                bytes: o.bytes,
            })?;
        for range in batches {
            let chunk = &bodies[range];
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

    /// Standard-queue send delivered no earlier than `delay_seconds` from now (SQS allows at
    /// most 900).
    pub async fn send_delayed(&self, body: &str, delay_seconds: i32) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay_seconds.clamp(0, MAX_DELAY_SECONDS))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(lengths: &[usize]) -> Vec<Range<usize>> {
        plan_batches(lengths.iter().copied()).expect("every body fits")
    }

    #[test]
    fn nothing_to_send_is_no_batch() {
        assert!(plan(&[]).is_empty());
    }

    #[test]
    fn small_bodies_go_ten_per_batch() {
        assert_eq!(plan(&[100; 25]), [0..10, 10..20, 20..25]);
        assert_eq!(plan(&[1; 10]), vec![0..10_usize]);
    }

    #[test]
    fn large_bodies_are_split_by_total_size() {
        // Three of 100 KiB: two fit 256 KiB, the third starts the next batch.
        assert_eq!(plan(&[100 * 1024; 3]), [0..2, 2..3]);
        // Exactly the limit fits; one byte more does not.
        assert_eq!(plan(&[MAX_BATCH_BYTES - 10, 10, 1]), [0..2, 2..3]);
        assert_eq!(plan(&[MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES]), [0..1, 1..2]);
        // A large body after small ones closes their batch; small ones after it start another.
        assert_eq!(plan(&[10, 10, 262_140, 100, 100]), [0..2, 2..3, 3..5]);
        assert_eq!(plan(&[10, 10, 262_000, 100, 100]), [0..4, 4..5]);
    }

    #[test]
    fn every_batch_respects_both_limits_and_keeps_order() {
        let lengths: Vec<usize> = (0..200).map(|i| (i * 7919) % 90_000 + 1).collect();
        let batches = plan(&lengths);
        let mut next = 0;
        for b in &batches {
            assert_eq!(b.start, next, "consecutive, nothing skipped");
            assert!(!b.is_empty() && b.len() <= MAX_BATCH_ENTRIES);
            assert!(lengths[b.clone()].iter().sum::<usize>() <= MAX_BATCH_BYTES);
            next = b.end;
        }
        assert_eq!(next, lengths.len());
    }

    #[test]
    fn a_body_over_the_message_limit_fails_the_whole_plan() {
        assert_eq!(
            plan_batches([10, MAX_MESSAGE_BYTES + 1, 10]),
            Err(Oversize {
                index: 1,
                bytes: MAX_MESSAGE_BYTES + 1
            })
        );
    }

    #[test]
    fn the_oversize_error_names_the_limit() {
        let e = QueueError::TooLarge {
            queue: "q".into(),
            index: 0,
            bytes: 300_000,
        };
        assert!(e.to_string().contains("262144 bytes (256 KiB)"), "{e}");
    }
}
