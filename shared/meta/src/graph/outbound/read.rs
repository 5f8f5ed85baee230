//! Marking a customer's message as read, on the same endpoint as sends.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Shows the customer blue ticks on `message_id` (and on every earlier message of the chat) and,
/// with `typing_indicator`, "typing…" until the reply is sent or 25 seconds pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRead {
    /// The wamid of the customer's message.
    pub message_id: String,
    pub typing_indicator: bool,
}

impl MarkRead {
    pub fn new(message_id: impl Into<String>) -> Self {
        Self {
            message_id: message_id.into(),
            typing_indicator: false,
        }
    }

    pub fn with_typing_indicator(mut self) -> Self {
        self.typing_indicator = true;
        self
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    messaging_product: String,
    status: String,
    message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    typing_indicator: Option<TypingIndicator>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TypingIndicator {
    #[serde(rename = "type")]
    kind: TypingKind,
}

/// Text is the only indicator Meta offers.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TypingKind {
    Text,
}

impl Serialize for MarkRead {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire {
            messaging_product: "whatsapp".to_owned(),
            status: "read".to_owned(),
            message_id: self.message_id.clone(),
            typing_indicator: self.typing_indicator.then_some(TypingIndicator {
                kind: TypingKind::Text,
            }),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MarkRead {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        if wire.messaging_product != "whatsapp" {
            return Err(D::Error::custom("`messaging_product` must be `whatsapp`"));
        }
        if wire.status != "read" {
            return Err(D::Error::custom("`status` must be `read`"));
        }
        Ok(MarkRead {
            message_id: wire.message_id,
            typing_indicator: wire.typing_indicator.is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_typing_indicator_is_left_out_when_not_asked_for() {
        assert_eq!(
            serde_json::to_value(MarkRead::new("wamid.1")).expect("serializes"),
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.1"})
        );
        assert_eq!(
            serde_json::to_value(MarkRead::new("wamid.1").with_typing_indicator())
                .expect("serializes")["typing_indicator"],
            json!({"type": "text"})
        );
    }

    #[test]
    fn refuses_other_statuses_and_indicators() {
        for bad in [
            json!({"messaging_product": "whatsapp", "status": "delivered", "message_id": "w"}),
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "w",
                "typing_indicator": {"type": "audio"}}),
            json!({"messaging_product": "sms", "status": "read", "message_id": "w"}),
        ] {
            assert!(
                serde_json::from_value::<MarkRead>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
