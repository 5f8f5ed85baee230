//! A message a customer sent to the business: `value.messages[]` of the `messages` field,
//! with the sender's profile from `value.contacts[]`.

use super::content::MessageContent;
use super::status::GraphErrorDetail;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use switchboard_domain::ContactKey;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The wamid.
    pub id: String,
    /// The sender's phone number (`wa_id`); Meta may withhold it from users with a username.
    pub from: Option<String>,
    /// The sender's business-scoped user id (BSUID).
    pub from_user_id: Option<String>,
    /// Unix seconds.
    pub timestamp: i64,
    /// The `type` member as sent, including types this model does not know.
    pub message_type: String,
    pub context: Option<MessageContext>,
    /// Set when the customer came from a click-to-WhatsApp ad or a post.
    pub referral: Option<Box<Referral>>,
    /// Set for messages written in a group.
    pub group_id: Option<String>,
    /// Why Meta could not deliver the content, for `unsupported` messages.
    pub errors: Vec<GraphErrorDetail>,
    pub content: MessageContent,
    /// The whole message object as received.
    pub raw: Box<RawValue>,
}

impl InboundMessage {
    /// The customer: by phone number where Meta shares it, else by BSUID.
    pub fn sender(&self) -> Option<ContactKey> {
        self.from
            .as_ref()
            .map(|wa_id| ContactKey::WaId(wa_id.clone()))
            .or_else(|| {
                self.from_user_id
                    .as_ref()
                    .map(|id| ContactKey::UserId(id.clone()))
            })
    }

    /// What a conversation list would show: text, caption, button or list title, emoji, …
    pub fn text_preview(&self) -> Option<String> {
        self.content.preview()
    }
}

impl PartialEq for InboundMessage {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            id,
            from,
            from_user_id,
            timestamp,
            message_type,
            context,
            referral,
            group_id,
            errors,
            content,
            raw,
        } = self;
        *id == other.id
            && *from == other.from
            && *from_user_id == other.from_user_id
            && *timestamp == other.timestamp
            && *message_type == other.message_type
            && *context == other.context
            && *referral == other.referral
            && *group_id == other.group_id
            && *errors == other.errors
            && *content == other.content
            && raw.get() == other.raw.get()
    }
}

/// The sender as listed in `value.contacts[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
    /// Shared across a managed business's portfolios, when Meta enables it.
    pub parent_user_id: Option<String>,
    pub profile_name: Option<String>,
    pub username: Option<String>,
}

/// What the message refers to: a reply (`id` is the quoted wamid), a forward, or a product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageContext {
    /// Who wrote the quoted message (our number when the customer replies to us).
    pub from: Option<String>,
    /// The quoted message's wamid.
    pub id: Option<String>,
    #[serde(default)]
    pub forwarded: bool,
    #[serde(default)]
    pub frequently_forwarded: bool,
    pub referred_product: Option<ReferredProduct>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferredProduct {
    pub catalog_id: Option<String>,
    pub product_retailer_id: Option<String>,
}

/// The ad or post a click-to-WhatsApp conversation started from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub source_url: Option<String>,
    pub source_id: Option<String>,
    pub source_type: Option<String>,
    pub headline: Option<String>,
    pub body: Option<String>,
    pub media_type: Option<String>,
    pub image_url: Option<String>,
    pub video_url: Option<String>,
    pub thumbnail_url: Option<String>,
    /// Click id for conversion reporting.
    pub ctwa_clid: Option<String>,
}
