//! The typed body of an inbound message, one variant per `type` Meta documents. The structs
//! keep Meta's member names, so they deserialize from the webhook and from our own queue JSON
//! alike. They are a convenience view: the message's raw JSON stays authoritative, and a type
//! or shape we do not know lands in [`MessageContent::Unknown`] instead of failing.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageContent {
    Text(Text),
    Image(Media),
    Video(Media),
    /// Voice notes are audio with `voice: true`.
    Audio(Media),
    Document(Media),
    Sticker(Media),
    Location(Location),
    Contacts {
        cards: Vec<SharedContact>,
    },
    Reaction(Reaction),
    Interactive {
        reply: InteractiveReply,
    },
    /// A quick-reply button of a template.
    Button(Button),
    Order(Order),
    System(System),
    /// The customer edited an earlier message; `content` is the new version.
    Edit {
        original_message_id: String,
        content: Box<MessageContent>,
    },
    /// The customer deleted an earlier message for everyone.
    Revoke {
        original_message_id: String,
    },
    /// Meta could not deliver the content (`type: "unsupported"`); see the message's errors.
    Unsupported {
        unsupported_type: Option<String>,
    },
    /// A type this model does not know yet, or a known type whose payload is missing or
    /// shaped unexpectedly. The message's raw JSON has everything.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub body: String,
}

/// Image, video, audio, document or sticker. Media arrives as an id to download; newer
/// payloads may also carry a short-lived `url`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    pub id: Option<String>,
    pub mime_type: Option<String>,
    pub sha256: Option<String>,
    pub caption: Option<String>,
    pub filename: Option<String>,
    pub url: Option<String>,
    /// Audio only: recorded as a voice note.
    pub voice: Option<bool>,
    /// Stickers only.
    pub animated: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    pub name: Option<String>,
    pub address: Option<String>,
    pub url: Option<String>,
}

/// A contact card the customer shared (not the sender).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedContact {
    pub name: Option<SharedContactName>,
    #[serde(default)]
    pub phones: Vec<SharedContactPhone>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedContactName {
    pub formatted_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedContactPhone {
    pub phone: Option<String>,
    pub wa_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The wamid reacted to.
    pub message_id: String,
    /// Absent or empty when the customer removed their reaction.
    pub emoji: Option<String>,
}

impl Reaction {
    pub fn is_removal(&self) -> bool {
        self.emoji.as_deref().is_none_or(str::is_empty)
    }
}

/// The customer's answer to an interactive message we sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InteractiveReply {
    ButtonReply {
        id: String,
        title: String,
    },
    ListReply {
        id: String,
        title: String,
        description: Option<String>,
    },
    /// A completed WhatsApp Flow (`nfm_reply`); `response_json` is the flow's answer, a JSON
    /// document encoded as a string exactly as Meta sends it.
    FlowReply {
        name: Option<String>,
        body: Option<String>,
        response_json: String,
    },
    CallPermissionReply {
        response: String,
        expiration_timestamp: Option<i64>,
        response_source: Option<String>,
    },
    /// An interactive type not modelled here (or none at all).
    Other {
        interactive_type: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub payload: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub catalog_id: Option<String>,
    pub text: Option<String>,
    #[serde(default)]
    pub product_items: Vec<OrderItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub product_retailer_id: Option<String>,
    pub quantity: Option<i64>,
    pub item_price: Option<f64>,
    pub currency: Option<String>,
}

/// A notice about the customer rather than from them, e.g. `user_changed_number` (then
/// `wa_id` is the new number) or `customer_identity_changed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct System {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub body: Option<String>,
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
}

impl MessageContent {
    /// What a conversation list would show for this content.
    pub fn preview(&self) -> Option<String> {
        let text = match self {
            MessageContent::Text(t) => Some(t.body.as_str()),
            MessageContent::Image(m)
            | MessageContent::Video(m)
            | MessageContent::Audio(m)
            | MessageContent::Document(m)
            | MessageContent::Sticker(m) => m.caption.as_deref().or(m.filename.as_deref()),
            MessageContent::Location(l) => l.name.as_deref().or(l.address.as_deref()),
            MessageContent::Contacts { cards } => {
                let names: Vec<&str> = cards
                    .iter()
                    .filter_map(|c| c.name.as_ref()?.formatted_name.as_deref())
                    .collect();
                return (!names.is_empty()).then(|| names.join(", "));
            }
            MessageContent::Reaction(r) => r.emoji.as_deref(),
            MessageContent::Interactive { reply } => match reply {
                InteractiveReply::ButtonReply { title, .. }
                | InteractiveReply::ListReply { title, .. } => Some(title.as_str()),
                InteractiveReply::FlowReply { body, .. } => body.as_deref(),
                InteractiveReply::CallPermissionReply { .. } | InteractiveReply::Other { .. } => {
                    None
                }
            },
            MessageContent::Button(b) => Some(b.text.as_str()),
            MessageContent::Order(o) => o.text.as_deref(),
            MessageContent::System(s) => s.body.as_deref(),
            MessageContent::Edit { content, .. } => return content.preview(),
            MessageContent::Revoke { .. }
            | MessageContent::Unsupported { .. }
            | MessageContent::Unknown => None,
        };
        text.filter(|t| !t.is_empty()).map(str::to_owned)
    }
}
