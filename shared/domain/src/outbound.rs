//! What the business asked to send, typed: stored with the message when the API accepts it,
//! turned into a Graph API request only by the outbound function. A new kind of message is a
//! new variant here, not a new path through the system.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboundPayload {
    Text {
        body: String,
        /// Whether WhatsApp renders a preview of the first URL in the body.
        #[serde(default)]
        preview_url: bool,
    },
}

impl OutboundPayload {
    /// The `type` Meta and our records call it.
    pub fn message_type(&self) -> &'static str {
        match self {
            OutboundPayload::Text { .. } => "text",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_is_tagged_by_type_and_round_trips() {
        let p = OutboundPayload::Text {
            body: "hi https://example.com".into(),
            preview_url: true,
        };
        let json = serde_json::to_value(&p).expect("serializes");
        assert_eq!(json["type"], "text");
        assert_eq!(json["preview_url"], true);
        let back: OutboundPayload = serde_json::from_value(json).expect("parses");
        assert_eq!(back, p);
        let minimal: OutboundPayload =
            serde_json::from_str(r#"{"type":"text","body":"x"}"#).expect("parses");
        assert_eq!(
            minimal,
            OutboundPayload::Text {
                body: "x".into(),
                preview_url: false
            }
        );
    }
}
