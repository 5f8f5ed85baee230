//! Delivery status of a message we sent: `value.statuses[]` of the `messages` field.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use switchboard_domain::{ContactKey, MessageStatus};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// The wamid of our outbound message.
    pub id: String,
    /// As sent: `sent`, `delivered`, `read`, `played`, `failed`, `deleted`, or a future value.
    pub status: String,
    pub timestamp: i64,
    pub recipient_id: Option<String>,
    /// The recipient's business-scoped user id; the only identity when we sent to a BSUID
    /// and Meta withholds the phone number.
    pub recipient_user_id: Option<String>,
    /// `group` for a message sent to a group; then the participant fields name who it is.
    pub recipient_type: Option<String>,
    pub recipient_participant_id: Option<String>,
    pub recipient_participant_user_id: Option<String>,
    /// Whatever we attached to the send request, echoed back.
    pub biz_opaque_callback_data: Option<String>,
    pub errors: Vec<GraphErrorDetail>,
    /// Conversation-based billing (before July 2025), kept as sent.
    pub conversation: Option<Box<RawValue>>,
    /// Per-message or conversation pricing, kept as sent.
    pub pricing: Option<Box<RawValue>>,
    /// The whole status object as received.
    pub raw: Box<RawValue>,
}

impl StatusUpdate {
    /// `None` for statuses the domain does not track (e.g. `deleted`) or does not know yet.
    pub fn parsed_status(&self) -> Option<MessageStatus> {
        match self.status.parse::<MessageStatus>().ok()? {
            // Meta never reports these two; they are ours.
            MessageStatus::Queued
            | MessageStatus::Deferred
            | MessageStatus::Denied
            | MessageStatus::Received => None,
            known => Some(known),
        }
    }

    /// Who the status is about; a group participant when the message went to a group.
    pub fn recipient(&self) -> Option<ContactKey> {
        let (wa_id, user_id) = if self.recipient_participant_id.is_some()
            || self.recipient_participant_user_id.is_some()
        {
            (
                &self.recipient_participant_id,
                &self.recipient_participant_user_id,
            )
        } else {
            (&self.recipient_id, &self.recipient_user_id)
        };
        wa_id
            .clone()
            .map(ContactKey::WaId)
            .or_else(|| user_id.clone().map(ContactKey::UserId))
    }
}

impl PartialEq for StatusUpdate {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            id,
            status,
            timestamp,
            recipient_id,
            recipient_user_id,
            recipient_type,
            recipient_participant_id,
            recipient_participant_user_id,
            biz_opaque_callback_data,
            errors,
            conversation,
            pricing,
            raw,
        } = self;
        *id == other.id
            && *status == other.status
            && *timestamp == other.timestamp
            && *recipient_id == other.recipient_id
            && *recipient_user_id == other.recipient_user_id
            && *recipient_type == other.recipient_type
            && *recipient_participant_id == other.recipient_participant_id
            && *recipient_participant_user_id == other.recipient_participant_user_id
            && *biz_opaque_callback_data == other.biz_opaque_callback_data
            && *errors == other.errors
            && raw_eq(conversation.as_deref(), other.conversation.as_deref())
            && raw_eq(pricing.as_deref(), other.pricing.as_deref())
            && raw.get() == other.raw.get()
    }
}

pub(crate) fn raw_eq(a: Option<&RawValue>, b: Option<&RawValue>) -> bool {
    a.map(RawValue::get) == b.map(RawValue::get)
}

/// One entry of an `errors` array, flattened: Meta nests `details` under `error_data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphErrorDetail {
    pub code: i64,
    pub title: Option<String>,
    pub message: Option<String>,
    pub details: Option<String>,
}

/// An error object as Meta sends it.
#[derive(Deserialize)]
pub(crate) struct ErrorWire {
    #[serde(default)]
    code: i64,
    title: Option<String>,
    message: Option<String>,
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    details: Option<String>,
}

impl From<ErrorWire> for GraphErrorDetail {
    fn from(e: ErrorWire) -> Self {
        GraphErrorDetail {
            code: e.code,
            title: e.title,
            message: e.message,
            details: e.error_data.and_then(|d| d.details),
        }
    }
}
