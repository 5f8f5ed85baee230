//! Outbound messages and their wire form on `POST /{version}/{phone-number-id}/messages`: the
//! envelope (recipient, reply context) around a [`MessageContent`], Meta's limits on that content,
//! and the mark-as-read request that shares the endpoint.

mod contacts;
mod content;
mod interactive;
pub mod limits;
mod media;
mod read;
mod stored_media;
mod template;

#[cfg(test)]
mod conformance;

pub use contacts::{
    Contact, ContactAddress, ContactEmail, ContactName, ContactOrg, ContactPhone, ContactUrl,
};
pub use content::{ContentError, Location, MessageContent, Reaction, Text};
pub use interactive::{
    Interactive, InteractiveAction, InteractiveHeader, ListRow, ListSection, ReplyButton,
};
pub use limits::violations;
pub use media::{CaptionedMedia, DocumentMedia, Media};
pub use read::MarkRead;
pub use stored_media::StoredMediaRef;
pub use template::{
    ButtonSubType, Template, TemplateComponent, TemplateCurrency, TemplateDateTime,
    TemplateLanguage, TemplateParameter,
};

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use switchboard_domain::ContactKey;

/// A message Switchboard sends to a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundMessage {
    /// A phone number (`wa_id`) is sent as `to`, a business-scoped user id as `recipient`: Meta
    /// added `recipient` for users who hide their number behind a username.
    pub to: ContactKey,
    /// The wamid of the customer's message this one answers (`context.message_id`).
    pub reply_to: Option<String>,
    pub content: MessageContent,
}

impl OutboundMessage {
    pub fn new(to: ContactKey, content: MessageContent) -> Self {
        Self {
            to,
            reply_to: None,
            content,
        }
    }

    /// A plain text message without link preview or reply context.
    pub fn text(to: ContactKey, body: impl Into<String>) -> Self {
        Self::new(to, MessageContent::text(body))
    }

    /// Quotes the customer's message `wamid` above this one.
    pub fn replying_to(mut self, wamid: impl Into<String>) -> Self {
        self.reply_to = Some(wamid.into());
        self
    }

    pub fn recipient(&self) -> &ContactKey {
        &self.to
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Context {
    message_id: String,
}

impl Serialize for OutboundMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let type_name = self.content.type_name();
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("messaging_product", "whatsapp")?;
        map.serialize_entry("recipient_type", "individual")?;
        match &self.to {
            ContactKey::WaId(wa_id) => map.serialize_entry("to", wa_id)?,
            ContactKey::UserId(user_id) => map.serialize_entry("recipient", user_id)?,
        }
        map.serialize_entry("type", type_name)?;
        if let Some(message_id) = &self.reply_to {
            map.serialize_entry(
                "context",
                &Context {
                    message_id: message_id.clone(),
                },
            )?;
        }
        map.serialize_entry(type_name, &self.content.body())?;
        map.end()
    }
}

/// Reads a request body as Meta reads it: `recipient_type` defaults to `individual` and `type` to
/// `text`, Meta's documented defaults. Both are always written.
impl<'de> Deserialize<'de> for OutboundMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let mut take_str = |key: &str| match fields.remove(key) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value)),
            Some(_) => Err(D::Error::custom(format_args!("`{key}` must be a string"))),
        };
        if take_str("messaging_product")?.as_deref() != Some("whatsapp") {
            return Err(D::Error::custom("`messaging_product` must be `whatsapp`"));
        }
        if let Some(recipient_type) = take_str("recipient_type")?
            && recipient_type != "individual"
        {
            return Err(D::Error::custom("`recipient_type` must be `individual`"));
        }
        let to = match (take_str("to")?, take_str("recipient")?) {
            (Some(wa_id), None) => ContactKey::WaId(wa_id),
            (None, Some(user_id)) => ContactKey::UserId(user_id),
            _ => {
                return Err(D::Error::custom(
                    "exactly one of `to` and `recipient` names the customer",
                ));
            }
        };
        let type_name = take_str("type")?.unwrap_or_else(|| "text".to_owned());
        let reply_to = match fields.remove("context") {
            None => None,
            Some(context) => Some(
                serde_json::from_value::<Context>(context)
                    .map_err(|e| D::Error::custom(format_args!("context: {e}")))?
                    .message_id,
            ),
        };
        let content = MessageContent::from_fields(fields, &type_name).map_err(D::Error::custom)?;
        Ok(OutboundMessage {
            to,
            reply_to,
            content,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn business_scoped_user_ids_go_in_recipient() {
        let message = OutboundMessage::text(
            ContactKey::UserId("US.13491208655302741918".into()),
            "hello",
        );
        assert_eq!(
            serde_json::to_value(&message).expect("serializes"),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "recipient": "US.13491208655302741918",
                "type": "text",
                "text": {"body": "hello", "preview_url": false}
            })
        );
    }

    #[test]
    fn a_reply_carries_its_context_and_reads_back() {
        let message = OutboundMessage::new(
            ContactKey::WaId("15551234567".into()),
            MessageContent::Reaction(Reaction {
                message_id: "wamid.in".into(),
                emoji: String::new(),
            }),
        )
        .replying_to("wamid.in");
        let value = serde_json::to_value(&message).expect("serializes");
        assert_eq!(value["context"], json!({"message_id": "wamid.in"}));
        assert_eq!(
            value["reaction"],
            json!({"message_id": "wamid.in", "emoji": ""})
        );
        let back: OutboundMessage = serde_json::from_value(value).expect("parses");
        assert_eq!(back, message);
        assert_eq!(back.recipient(), &ContactKey::WaId("15551234567".into()));
    }

    #[test]
    fn an_envelope_names_one_customer_and_nothing_unmodelled() {
        for bad in [
            json!({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}),
            json!({"messaging_product": "whatsapp", "to": "1", "recipient": "US.1",
                "type": "text", "text": {"body": "x"}}),
            json!({"messaging_product": "sms", "to": "1", "type": "text", "text": {"body": "x"}}),
            json!({"messaging_product": "whatsapp", "recipient_type": "group", "to": "1",
                "type": "text", "text": {"body": "x"}}),
            json!({"messaging_product": "whatsapp", "to": "1", "type": "text",
                "text": {"body": "x"}, "ttl": 60}),
            json!({"messaging_product": "whatsapp", "to": "1", "type": "text",
                "text": {"body": "x"}, "context": {"message_id": "w", "from": "1"}}),
        ] {
            assert!(
                serde_json::from_value::<OutboundMessage>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
