//! The dead-letter queues: what is in them and why, and moving their records back.

use crate::OperationsState;
use crate::command::{
    DEFAULT_DEAD_LETTER_REDRIVE, DeadLetter, DeadLetterListing, DeadLetterQueue,
    DeadLettersRedriven, ErrorKind, MAX_DEAD_LETTER_LIST, MAX_DEAD_LETTER_REDRIVE, OpError, limit,
};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use switchboard_platform::dead_letter;

/// How long a record being moved stays hidden from another redrive.
const MOVE_VISIBILITY_SECONDS: i32 = 60;

fn queues(state: &OperationsState, queue: DeadLetterQueue) -> Result<&(String, String), OpError> {
    state.dead_letters.get(queue.name()).ok_or_else(|| {
        OpError::invalid(format!(
            "the {} dead-letter queue is not configured for this function",
            queue.name()
        ))
    })
}

fn aws(e: impl std::fmt::Display) -> OpError {
    OpError::new(ErrorKind::Aws, e.to_string(), true)
}

async fn receive(
    state: &OperationsState,
    url: &str,
    max: i32,
    visibility: i32,
) -> Result<Vec<Message>, OpError> {
    let out = state
        .sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max.clamp(1, 10))
        .visibility_timeout(visibility)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .map_err(|e| aws(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
    Ok(out.messages.unwrap_or_default())
}

fn attribute(m: &Message, name: &str) -> Option<String> {
    m.message_attributes()
        .and_then(|a| a.get(name))
        .and_then(|v| v.string_value())
        .map(str::to_owned)
}

/// Up to `limit` dead letters, left in place (received with no visibility timeout).
pub async fn list(
    state: &OperationsState,
    queue: DeadLetterQueue,
    limit_arg: Option<u32>,
) -> Result<DeadLetterListing, OpError> {
    let n = limit(limit_arg, MAX_DEAD_LETTER_LIST, MAX_DEAD_LETTER_LIST)?;
    let (url, _) = queues(state, queue)?;
    let messages = receive(state, url, n as i32, 0).await?;
    let dead_letters = messages
        .iter()
        .map(|m| DeadLetter {
            message_id: m.message_id().unwrap_or_default().to_owned(),
            source_message_id: attribute(m, dead_letter::SOURCE_MESSAGE_ID),
            reason: attribute(m, dead_letter::REASON),
            receives: attribute(m, dead_letter::RECEIVES).and_then(|n| n.parse().ok()),
            failed_at: attribute(m, dead_letter::FAILED_AT),
            body_bytes: m.body().map_or(0, str::len),
        })
        .collect();
    tracing::info!(queue = queue.name(), "dead letters listed");
    Ok(DeadLetterListing {
        queue,
        dead_letters,
    })
}

/// Moves up to `limit` dead letters back to their queue: each is sent first and deleted
/// after, so a failure between the two leaves a copy in both, never in neither.
pub async fn redrive(
    state: &OperationsState,
    queue: DeadLetterQueue,
    limit_arg: Option<u32>,
) -> Result<DeadLettersRedriven, OpError> {
    let n = limit(
        limit_arg,
        DEFAULT_DEAD_LETTER_REDRIVE,
        MAX_DEAD_LETTER_REDRIVE,
    )? as usize;
    let (dead, source) = queues(state, queue)?;
    let fifo = source.ends_with(".fifo");
    let mut outcome = DeadLettersRedriven {
        queue,
        redriven: 0,
        not_deleted: 0,
    };
    while outcome.redriven + outcome.not_deleted < n {
        let left = n - outcome.redriven - outcome.not_deleted;
        let messages = receive(state, dead, left.min(10) as i32, MOVE_VISIBILITY_SECONDS).await?;
        if messages.is_empty() {
            break;
        }
        for m in &messages {
            let id = m.message_id().unwrap_or_default();
            let mut send = state
                .sqs
                .send_message()
                .queue_url(source)
                .message_body(m.body().unwrap_or_default());
            if fifo {
                let group = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                    .cloned()
                    .unwrap_or_else(|| "redriven".into());
                // A new id: the record's own may still be in the queue's deduplication window.
                let received = m
                    .attributes()
                    .and_then(|a| {
                        a.get(&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp)
                    })
                    .cloned()
                    .unwrap_or_default();
                send = send
                    .message_group_id(group)
                    .message_deduplication_id(format!("redrive-{id}-{received}"));
            }
            send.send()
                .await
                .map_err(|e| aws(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            let deleted = match m.receipt_handle() {
                Some(handle) => state
                    .sqs
                    .delete_message()
                    .queue_url(dead)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .is_ok(),
                None => false,
            };
            if deleted {
                outcome.redriven += 1;
            } else {
                outcome.not_deleted += 1;
            }
        }
    }
    tracing::info!(
        queue = queue.name(),
        redriven = outcome.redriven,
        not_deleted = outcome.not_deleted,
        "dead letters redriven"
    );
    Ok(outcome)
}
