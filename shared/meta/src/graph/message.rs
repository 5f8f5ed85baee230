//! Outbound messages and their wire form on `POST /{version}/{phone-number-id}/messages`.

use serde::{Serialize, Serializer};
use switchboard_domain::ContactKey;

/// A message Switchboard sends to a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundMessage {
    Text {
        /// A phone number (`wa_id`) is sent as `to`, a business-scoped user id as `recipient`:
        /// Meta added `recipient` for users who hide their number behind a username.
        to: ContactKey,
        body: String,
        /// Ask WhatsApp to render a link preview for the first URL in `body`.
        preview_url: bool,
        /// The wamid of the customer's message this one answers (`context.message_id`).
        reply_to: Option<String>,
    },
}

impl OutboundMessage {
    /// A plain text message without link preview or reply context.
    pub fn text(to: ContactKey, body: impl Into<String>) -> Self {
        OutboundMessage::Text {
            to,
            body: body.into(),
            preview_url: false,
            reply_to: None,
        }
    }

    pub fn recipient(&self) -> &ContactKey {
        match self {
            OutboundMessage::Text { to, .. } => to,
        }
    }
}

#[derive(Serialize)]
struct Wire<'a> {
    messaging_product: &'static str,
    recipient_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<WireContext<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<WireText<'a>>,
}

#[derive(Serialize)]
struct WireContext<'a> {
    message_id: &'a str,
}

#[derive(Serialize)]
struct WireText<'a> {
    body: &'a str,
    preview_url: bool,
}

impl Serialize for OutboundMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OutboundMessage::Text {
                to,
                body,
                preview_url,
                reply_to,
            } => {
                let (to, recipient) = match to {
                    ContactKey::WaId(wa_id) => (Some(wa_id.as_str()), None),
                    ContactKey::UserId(user_id) => (None, Some(user_id.as_str())),
                };
                Wire {
                    messaging_product: "whatsapp",
                    recipient_type: "individual",
                    to,
                    recipient,
                    kind: "text",
                    context: reply_to
                        .as_deref()
                        .map(|message_id| WireContext { message_id }),
                    text: Some(WireText {
                        body,
                        preview_url: *preview_url,
                    }),
                }
                .serialize(serializer)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::path::PathBuf;

    fn conformance_example(name: &str) -> Value {
        let dir = std::env::var_os("SWITCHBOARD_CONFORMANCE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
            });
        let path = dir.join("meta-openapi/send-message-examples").join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_json::from_str(&text).expect("example is JSON")
    }

    #[test]
    fn text_matches_metas_example() {
        let message = OutboundMessage::text(
            ContactKey::WaId("{{Recipient-Phone-Number}}".into()),
            "text-message-content",
        );
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            conformance_example("send-text-message.json")
        );
    }

    #[test]
    fn reply_matches_metas_example() {
        let message = OutboundMessage::Text {
            to: ContactKey::WaId("{{Recipient-Phone-Number}}".into()),
            body: "<TEXT_MSG_CONTENT>".into(),
            preview_url: false,
            reply_to: Some("<MSGID_OF_PREV_MSG>".into()),
        };
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            conformance_example("send-reply-to-text-message.json")
        );
    }

    #[test]
    fn business_scoped_user_ids_go_in_recipient() {
        let message = OutboundMessage::text(
            ContactKey::UserId("US.13491208655302741918".into()),
            "hello",
        );
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "recipient": "US.13491208655302741918",
                "type": "text",
                "text": {"body": "hello", "preview_url": false}
            })
        );
    }
}
