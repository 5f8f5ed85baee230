//! One unit of work split from a notification: the body of one inbound-queue message.

use super::message::{Contact, InboundMessage};
use super::scan::Json;
use super::status::{StatusUpdate, raw_eq};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// Owned and serializable. Decode it with `serde_json::from_str`/`from_slice`: the raw JSON
/// it carries can only be read back by serde_json's own deserializer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// Dedupe key, the same every time Meta redelivers the same thing (see the module docs).
    pub key: String,
    /// `entry.id`.
    pub waba_id: String,
    /// `change.field`.
    pub field: String,
    pub phone_number_id: Option<String>,
    pub display_phone_number: Option<String>,
    /// `entry.time` (Unix seconds), when Meta sent one: orders changes that carry no time of
    /// their own, such as template updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_time: Option<i64>,
    pub payload: EventPayload,
}

/// Externally tagged (`{"message": {…}}`): an internally tagged enum is buffered by serde
/// before it is read, and raw JSON cannot be read back from that buffer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[expect(
    clippy::large_enum_variant,
    reason = "messages are most events; boxing them would cost an allocation each"
)]
pub enum EventPayload {
    Message {
        /// The sender's entry in `value.contacts`, when Meta sent one.
        contact: Option<Contact>,
        message: InboundMessage,
    },
    Status(StatusUpdate),
    /// Everything else, as received: template, account, call, group, preference and echo
    /// updates, change-level errors, unknown fields, and `messages` changes that could not
    /// be split.
    Other {
        value: Box<RawValue>,
    },
}

impl PartialEq for EventPayload {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                EventPayload::Message { contact, message },
                EventPayload::Message {
                    contact: other_contact,
                    message: other_message,
                },
            ) => contact == other_contact && message == other_message,
            (EventPayload::Status(a), EventPayload::Status(b)) => a == b,
            (EventPayload::Other { value }, EventPayload::Other { value: other_value }) => {
                raw_eq(Some(value), Some(other_value))
            }
            _ => false,
        }
    }
}

/// A message is `message:{wamid}`; edits and revocations get a suffix so that a notice
/// carrying the original's wamid can never be mistaken for a redelivery of the original.
pub(crate) fn message_key(message: &InboundMessage) -> String {
    let suffix = match message.message_type.as_str() {
        suffix @ ("edit" | "revoke") => Some(suffix),
        _ => None,
    };
    join_key(&["message", &message.id], suffix)
}

/// `status:{wamid}:{status}`, plus the participant for group messages, where every member
/// reports their own `delivered` and `read`.
pub(crate) fn status_key(status: &StatusUpdate) -> String {
    let participant = status
        .recipient_participant_id
        .as_deref()
        .or(status.recipient_participant_user_id.as_deref());
    join_key(&["status", &status.id, &status.status], participant)
}

/// `parts` and the optional last part joined by `:`, in one allocation.
fn join_key(parts: &[&str], last: Option<&str>) -> String {
    let len = parts.iter().chain(&last).map(|p| p.len() + 1).sum();
    let mut key = String::with_capacity(len);
    for part in parts.iter().chain(&last) {
        if !key.is_empty() {
            key.push(':');
        }
        key.push_str(part);
    }
    key
}

/// `{field}:{sha256 of the change value's bytes}`: these updates carry no id of their own, and
/// Meta redelivers the same bytes.
pub(crate) fn other_key(field: &str, value: Json<'_>) -> String {
    let mut digest_hex = [0u8; 64];
    // 32 bytes always fit 64 hex digits, so encoding cannot fail.
    let _ = hex::encode_to_slice(Sha256::digest(value.get().as_bytes()), &mut digest_hex);
    let mut key = String::with_capacity(field.len() + 1 + 64);
    key.push_str(field);
    key.push(':');
    key.push_str(std::str::from_utf8(&digest_hex).unwrap_or_default());
    key
}
