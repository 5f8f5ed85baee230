//! Messages and their delivery status.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// Delivery status of a message. Meta delivers status webhooks at least once and out of order,
/// so a status only ever moves forward: see [`MessageStatus::can_advance_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Accepted by our API, waiting in the outbound queue.
    Queued,
    /// Held by the compliance policy until a later time (quiet hours), then sent.
    Deferred,
    /// Refused by the compliance policy; never sent. The message's decision says why.
    Denied,
    /// Received from the customer.
    Received,
    Sent,
    Delivered,
    Read,
    /// Voice message played by the recipient; follows `read`.
    Played,
    Failed,
}

impl MessageStatus {
    /// Position on the forward-only ladder. `failed` ranks above `sent` (a sent message can
    /// still fail) but below `delivered`: once the phone has it, a late failure changes nothing.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Queued | MessageStatus::Deferred | MessageStatus::Received => 0,
            MessageStatus::Sent => 1,
            MessageStatus::Failed | MessageStatus::Denied => 2,
            MessageStatus::Delivered => 3,
            MessageStatus::Read => 4,
            MessageStatus::Played => 5,
        }
    }

    /// Not sent yet, and still to be: the outbound function may send it.
    pub fn awaiting_send(self) -> bool {
        matches!(self, MessageStatus::Queued | MessageStatus::Deferred)
    }

    pub fn can_advance_to(self, next: MessageStatus) -> bool {
        next.rank() > self.rank()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Deferred => "deferred",
            MessageStatus::Denied => "denied",
            MessageStatus::Received => "received",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Played => "played",
            MessageStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown message status `{0}`")]
pub struct UnknownStatus(pub String);

impl FromStr for MessageStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "queued" => MessageStatus::Queued,
            "deferred" => MessageStatus::Deferred,
            "denied" => MessageStatus::Denied,
            "received" => MessageStatus::Received,
            "sent" => MessageStatus::Sent,
            "delivered" => MessageStatus::Delivered,
            "read" => MessageStatus::Read,
            "played" => MessageStatus::Played,
            "failed" => MessageStatus::Failed,
            other => return Err(UnknownStatus(other.to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::MessageStatus::*;

    #[test]
    fn statuses_only_move_forward() {
        assert!(Queued.can_advance_to(Sent));
        assert!(Sent.can_advance_to(Delivered));
        assert!(Delivered.can_advance_to(Read));
        assert!(Read.can_advance_to(Played));
        assert!(!Read.can_advance_to(Delivered));
        assert!(!Read.can_advance_to(Sent));
        assert!(!Delivered.can_advance_to(Delivered));
        assert!(Sent.can_advance_to(Failed));
        assert!(!Delivered.can_advance_to(Failed));
    }

    #[test]
    fn status_names_round_trip() {
        for s in [
            Queued, Deferred, Denied, Received, Sent, Delivered, Read, Played, Failed,
        ] {
            assert_eq!(s.as_str().parse::<super::MessageStatus>().ok(), Some(s));
        }
        assert!("seen".parse::<super::MessageStatus>().is_err());
    }
}
