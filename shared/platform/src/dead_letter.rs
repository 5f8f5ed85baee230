//! A record's last failure goes to the dead-letter queue with its reason. SQS's own redrive
//! moves a record that failed `maxReceiveCount` times, but as it was, without saying why;
//! the consumer knows why. So on the last receive the consumer sends the record to the
//! dead-letter queue itself, body and group unchanged, with the reason, the receive count and
//! the time as message attributes, and reports it done. Should that send fail, the record is
//! reported failed as before and SQS's redrive still keeps it, reason unknown.
//!
//! The dead-letter copy's deduplication id is the record's own message id: a consumer that
//! dies after the send and before the delete, and sends it again, leaves one copy in a FIFO
//! dead-letter queue.

use aws_lambda_events::event::sqs::SqsMessage;
use aws_sdk_sqs::types::MessageAttributeValue;

/// Message attributes a kept record carries; `operations` lists them.
pub const REASON: &str = "failure_reason";
pub const RECEIVES: &str = "failed_receives";
pub const FAILED_AT: &str = "failed_at";
pub const SOURCE_MESSAGE_ID: &str = "source_message_id";
/// Longest reason kept: reasons name what failed, never message content.
pub const MAX_REASON_CHARS: usize = 500;

/// Where a consumer's records go after their last failed receive.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    client: aws_sdk_sqs::Client,
    url: String,
    max_receives: u32,
    fifo: bool,
}

/// One failed record and why.
pub struct Failure<'a> {
    pub record: &'a SqsMessage,
    pub reason: String,
}

impl DeadLetters {
    /// `max_receives` is the source queue's `maxReceiveCount`.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>, max_receives: u32) -> Self {
        let url = url.into();
        let fifo = url.ends_with(".fifo");
        Self {
            client,
            url,
            max_receives: max_receives.max(1),
            fifo,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn receives(record: &SqsMessage) -> u32 {
        record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
    }

    /// The failures to report to SQS: each one on its last receive is kept in the dead-letter
    /// queue with its reason instead, unless that fails.
    pub async fn settle<'a>(&self, failures: Vec<Failure<'a>>) -> Vec<&'a SqsMessage> {
        let mut reported = Vec::new();
        for failure in failures {
            let receives = Self::receives(failure.record);
            if receives < self.max_receives {
                reported.push(failure.record);
                continue;
            }
            match self.keep(failure.record, &failure.reason, receives).await {
                Ok(()) => {
                    tracing::warn!(message_id = ?failure.record.message_id, receives, reason = %failure.reason, "record kept in the dead-letter queue");
                }
                Err(e) => {
                    tracing::error!(message_id = ?failure.record.message_id, error = %e, "record not kept with its reason; SQS's redrive keeps it");
                    reported.push(failure.record);
                }
            }
        }
        reported
    }

    async fn keep(&self, record: &SqsMessage, reason: &str, receives: u32) -> Result<(), String> {
        let id = record.message_id.clone().unwrap_or_default();
        let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let string = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| e.to_string())
        };
        let number = MessageAttributeValue::builder()
            .data_type("Number")
            .string_value(receives.to_string())
            .build()
            .map_err(|e| e.to_string())?;
        let mut send = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(record.body.clone().unwrap_or_default())
            .message_attributes(
                REASON,
                string(if reason.is_empty() {
                    "unknown"
                } else {
                    &reason
                })?,
            )
            .message_attributes(RECEIVES, number)
            .message_attributes(FAILED_AT, string(&now)?)
            .message_attributes(SOURCE_MESSAGE_ID, string(&id)?);
        if self.fifo {
            let group = record
                .attributes
                .get("MessageGroupId")
                .cloned()
                .unwrap_or_else(|| "dead-letters".into());
            send = send
                .message_group_id(group)
                .message_deduplication_id(dedup_id(&id));
        }
        send.send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
        Ok(())
    }
}

/// SQS allows 128 characters from a small alphabet; message ids fit, anything else is hashed.
fn dedup_id(message_id: &str) -> String {
    let fits = !message_id.is_empty()
        && message_id.len() <= 128
        && message_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if fits {
        message_id.to_owned()
    } else {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(message_id.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deduplication_ids_are_the_message_id_or_its_hash() {
        assert_eq!(
            dedup_id("059f36b4-87a3-44ab-83d2-661975830a7d"),
            "059f36b4-87a3-44ab-83d2-661975830a7d"
        );
        assert_eq!(dedup_id("a b").len(), 64);
        assert_eq!(dedup_id("").len(), 64);
    }
}
