//! How the value of a `messages` change maps onto the model. Each message and status is read
//! on its own, so one that is shaped unexpectedly costs only its typed view (its content
//! becomes `Unknown`), or, without an id or timestamp, makes the change be kept raw.

use super::content::{InteractiveReply, MessageContent};
use super::items::Items;
use super::lenient::{Id, Str, Timestamp};
use super::message::{Contact, InboundMessage, MessageContext, Referral};
use super::status::{ErrorWire, StatusUpdate};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

#[derive(Debug, Deserialize)]
pub(crate) struct Metadata<'a> {
    #[serde(borrow)]
    pub display_phone_number: Option<Id<'a>>,
    #[serde(borrow)]
    pub phone_number_id: Option<Id<'a>>,
}

/// Only the metadata of a change value of any field.
#[derive(Deserialize)]
pub(crate) struct MetadataOnly<'a> {
    #[serde(borrow)]
    pub metadata: Option<Metadata<'a>>,
}

/// The members of a change value this model splits on. Read for every change in the first
/// pass (other members are skipped); `C` is a typed contact there and a raw one on the raw
/// path, where a contact shaped unexpectedly must not cost the messages next to it.
#[derive(Debug, Deserialize)]
pub(crate) struct ValueWire<'a, C = ContactWire<'a>> {
    #[serde(borrow)]
    pub metadata: Option<Metadata<'a>>,
    pub contacts: Option<Items<C>>,
    #[serde(borrow)]
    pub messages: Option<Items<&'a RawValue>>,
    #[serde(borrow)]
    pub statuses: Option<Items<&'a RawValue>>,
    /// Errors about the change as a whole rather than one message.
    #[serde(borrow)]
    pub errors: Option<&'a RawValue>,
}

/// A sender as listed in `value.contacts[]`, still borrowing from the body.
#[derive(Debug, Deserialize)]
pub(crate) struct ContactWire<'a> {
    #[serde(borrow)]
    profile: Option<ProfileWire<'a>>,
    #[serde(borrow)]
    pub wa_id: Option<Id<'a>>,
    #[serde(borrow)]
    pub user_id: Option<Id<'a>>,
    #[serde(borrow)]
    parent_user_id: Option<Id<'a>>,
}

#[derive(Debug, Deserialize)]
struct ProfileWire<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    username: Option<Str<'a>>,
}

impl ContactWire<'_> {
    pub fn to_contact(&self) -> Contact {
        let owned = |id: &Option<Id<'_>>| id.as_ref().map(|id| id.0.as_ref().to_owned());
        let profile = self.profile.as_ref();
        Contact {
            wa_id: owned(&self.wa_id),
            user_id: owned(&self.user_id),
            parent_user_id: owned(&self.parent_user_id),
            profile_name: profile
                .and_then(|p| p.name.as_ref())
                .map(|t| t.0.as_ref().to_owned()),
            username: profile
                .and_then(|p| p.username.as_ref())
                .map(|t| t.0.as_ref().to_owned()),
        }
    }
}

/// `None` when the contact is not shaped like one; the message still goes through.
pub(crate) fn read_contact(raw: &RawValue) -> Option<ContactWire<'_>> {
    serde_json::from_str(raw.get()).ok()
}

/// A message as Meta sends it. Read by hand rather than derived: the content sits in a member
/// named after the type, and reading whichever one comes straight into a single slot keeps
/// the value small (a field per possible member made it over a kilobyte, copied several
/// times per message).
#[derive(Default)]
struct MessageWire {
    id: Option<String>,
    from: Option<String>,
    from_user_id: Option<String>,
    timestamp: Timestamp,
    message_type: Option<String>,
    context: Option<MessageContext>,
    referral: Option<Box<Referral>>,
    group_id: Option<String>,
    errors: Option<Vec<ErrorWire>>,
    /// The content member's name and what it held.
    content: Option<(&'static str, MessageContent)>,
}

impl MessageWire {
    /// Meta sends one content member; should there be more, the one named by `type` wins
    /// when `type` came first, else the last.
    fn offer(&mut self, member: &'static str, content: MessageContent) {
        let keep =
            matches!((&self.content, &self.message_type), (Some((held, _)), Some(t)) if held == t);
        if !keep {
            self.content = Some((member, content));
        }
    }

    /// The content if it matches the declared type.
    fn take_content(&mut self) -> MessageContent {
        let message_type = self.message_type.as_deref().unwrap_or_default();
        match self.content.take() {
            Some((member, content)) if member == message_type => content,
            _ if message_type == "unsupported" => MessageContent::Unsupported {
                unsupported_type: None,
            },
            _ => MessageContent::Unknown,
        }
    }
}

impl<'de> Deserialize<'de> for MessageWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(MessageVisitor)
    }
}

struct MessageVisitor;

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = MessageWire;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MessageWire, A::Error> {
        let mut m = MessageWire::default();
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match key.0.as_ref() {
                "id" => m.id = map.next_value()?,
                "from" => m.from = map.next_value()?,
                "from_user_id" => m.from_user_id = map.next_value()?,
                "timestamp" => m.timestamp = map.next_value()?,
                "type" => m.message_type = map.next_value()?,
                "context" => m.context = map.next_value()?,
                "referral" => m.referral = map.next_value()?,
                "group_id" => m.group_id = map.next_value()?,
                "errors" => m.errors = map.next_value()?,
                "text" => content(&mut map, &mut m, "text", MessageContent::Text)?,
                "image" => content(&mut map, &mut m, "image", MessageContent::Image)?,
                "video" => content(&mut map, &mut m, "video", MessageContent::Video)?,
                "audio" => content(&mut map, &mut m, "audio", MessageContent::Audio)?,
                "document" => content(&mut map, &mut m, "document", MessageContent::Document)?,
                "sticker" => content(&mut map, &mut m, "sticker", MessageContent::Sticker)?,
                "location" => content(&mut map, &mut m, "location", MessageContent::Location)?,
                "contacts" => content(&mut map, &mut m, "contacts", |cards| {
                    MessageContent::Contacts { cards }
                })?,
                "reaction" => content(&mut map, &mut m, "reaction", MessageContent::Reaction)?,
                "button" => content(&mut map, &mut m, "button", MessageContent::Button)?,
                "order" => content(&mut map, &mut m, "order", MessageContent::Order)?,
                "system" => content(&mut map, &mut m, "system", MessageContent::System)?,
                "interactive" => content(&mut map, &mut m, "interactive", |i| {
                    MessageContent::Interactive {
                        reply: interactive_reply(i),
                    }
                })?,
                "edit" => content(&mut map, &mut m, "edit", |e: EditWire<'_>| {
                    MessageContent::Edit {
                        original_message_id: e.original_message_id,
                        content: Box::new(
                            e.message.map_or(MessageContent::Unknown, edited_content),
                        ),
                    }
                })?,
                "revoke" => content(&mut map, &mut m, "revoke", |r: RevokeWire| {
                    MessageContent::Revoke {
                        original_message_id: r.original_message_id,
                    }
                })?,
                "unsupported" => content(&mut map, &mut m, "unsupported", |u: UnsupportedWire| {
                    MessageContent::Unsupported {
                        unsupported_type: u.kind,
                    }
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(m)
    }
}

/// Reads a content member (`null` counts as absent) and offers it to the message.
fn content<'de, A, T, F>(
    map: &mut A,
    m: &mut MessageWire,
    member: &'static str,
    wrap: F,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
    F: FnOnce(T) -> MessageContent,
{
    if let Some(value) = map.next_value::<Option<T>>()? {
        m.offer(member, wrap(value));
    }
    Ok(())
}

/// What is left to read when the typed view fails.
#[derive(Deserialize)]
struct MessageCore {
    id: Option<String>,
    from: Option<String>,
    from_user_id: Option<String>,
    #[serde(default)]
    timestamp: Timestamp,
    #[serde(rename = "type")]
    message_type: Option<String>,
    group_id: Option<String>,
}

#[derive(Deserialize)]
struct InteractiveWire {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "button_reply", alias = "list_reply")]
    reply: Option<ReplyWire>,
    nfm_reply: Option<FlowReplyWire>,
    call_permission_reply: Option<CallPermissionWire>,
}

#[derive(Deserialize)]
struct ReplyWire {
    id: String,
    title: String,
    description: Option<String>,
}

#[derive(Deserialize)]
struct FlowReplyWire {
    name: Option<String>,
    body: Option<String>,
    response_json: String,
}

#[derive(Deserialize)]
struct CallPermissionWire {
    response: String,
    #[serde(default)]
    expiration_timestamp: Timestamp,
    response_source: Option<String>,
}

#[derive(Deserialize)]
struct EditWire<'a> {
    original_message_id: String,
    #[serde(borrow)]
    message: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RevokeWire {
    original_message_id: String,
}

#[derive(Deserialize)]
struct UnsupportedWire {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `None` when the message has no id or timestamp: without them it can be neither
/// deduplicated nor ordered, so the caller keeps the change raw instead.
pub(crate) fn read_message(raw: &RawValue) -> Option<InboundMessage> {
    let mut wire = match serde_json::from_str::<MessageWire>(raw.get()) {
        Ok(wire) => wire,
        Err(_) => {
            let core: MessageCore = serde_json::from_str(raw.get()).ok()?;
            MessageWire {
                id: core.id,
                from: core.from,
                from_user_id: core.from_user_id,
                timestamp: core.timestamp,
                message_type: core.message_type,
                group_id: core.group_id,
                ..MessageWire::default()
            }
        }
    };
    let content = wire.take_content();
    Some(InboundMessage {
        id: wire.id?,
        from: wire.from,
        from_user_id: wire.from_user_id,
        timestamp: wire.timestamp.0?,
        message_type: wire.message_type.unwrap_or_default(),
        context: wire.context,
        referral: wire.referral,
        group_id: wire.group_id,
        errors: wire
            .errors
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect(),
        content,
        raw: raw.to_owned(),
    })
}

/// The new version inside an edit: shaped like a message without id and sender.
fn edited_content(raw: &RawValue) -> MessageContent {
    serde_json::from_str::<MessageWire>(raw.get())
        .map(|mut w| w.take_content())
        .unwrap_or(MessageContent::Unknown)
}

fn interactive_reply(i: InteractiveWire) -> InteractiveReply {
    let reply = match i.kind.as_deref().unwrap_or_default() {
        "button_reply" => i.reply.map(|r| InteractiveReply::ButtonReply {
            id: r.id,
            title: r.title,
        }),
        "list_reply" => i.reply.map(|r| InteractiveReply::ListReply {
            id: r.id,
            title: r.title,
            description: r.description,
        }),
        "nfm_reply" => i.nfm_reply.map(|r| InteractiveReply::FlowReply {
            name: r.name,
            body: r.body,
            response_json: r.response_json,
        }),
        "call_permission_reply" => {
            i.call_permission_reply
                .map(|r| InteractiveReply::CallPermissionReply {
                    response: r.response,
                    expiration_timestamp: r.expiration_timestamp.0,
                    response_source: r.response_source,
                })
        }
        _ => None,
    };
    reply.unwrap_or(InteractiveReply::Other {
        interactive_type: i.kind,
    })
}

#[derive(Deserialize)]
struct StatusWire<'a> {
    id: Option<String>,
    status: Option<String>,
    #[serde(default)]
    timestamp: Timestamp,
    recipient_id: Option<String>,
    recipient_user_id: Option<String>,
    recipient_type: Option<String>,
    recipient_participant_id: Option<String>,
    recipient_participant_user_id: Option<String>,
    biz_opaque_callback_data: Option<String>,
    errors: Option<Vec<ErrorWire>>,
    #[serde(borrow)]
    conversation: Option<&'a RawValue>,
    #[serde(borrow)]
    pricing: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct StatusCore {
    id: Option<String>,
    status: Option<String>,
    #[serde(default)]
    timestamp: Timestamp,
}

/// `None` without id, status or timestamp, for the same reason as [`read_message`].
pub(crate) fn read_status(raw: &RawValue) -> Option<StatusUpdate> {
    match serde_json::from_str::<StatusWire<'_>>(raw.get()) {
        Ok(w) => Some(StatusUpdate {
            id: w.id?,
            status: w.status?,
            timestamp: w.timestamp.0?,
            recipient_id: w.recipient_id,
            recipient_user_id: w.recipient_user_id,
            recipient_type: w.recipient_type,
            recipient_participant_id: w.recipient_participant_id,
            recipient_participant_user_id: w.recipient_participant_user_id,
            biz_opaque_callback_data: w.biz_opaque_callback_data,
            errors: w
                .errors
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            conversation: w.conversation.map(ToOwned::to_owned),
            pricing: w.pricing.map(ToOwned::to_owned),
            raw: raw.to_owned(),
        }),
        Err(_) => {
            let core: StatusCore = serde_json::from_str(raw.get()).ok()?;
            Some(StatusUpdate {
                id: core.id?,
                status: core.status?,
                timestamp: core.timestamp.0?,
                recipient_id: None,
                recipient_user_id: None,
                recipient_type: None,
                recipient_participant_id: None,
                recipient_participant_user_id: None,
                biz_opaque_callback_data: None,
                errors: Vec::new(),
                conversation: None,
                pricing: None,
                raw: raw.to_owned(),
            })
        }
    }
}
