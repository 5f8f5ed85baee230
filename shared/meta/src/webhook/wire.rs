//! How the value of a `messages` change maps onto the model. Each message and status is read
//! on its own, so one that is shaped unexpectedly costs only its typed view (its content
//! becomes `Unknown`), or, without an id or timestamp, makes the change be kept raw.

use super::content::{InteractiveReply, MessageContent};
use super::de;
use super::direct;
use super::items::Items;
use super::lenient::{Id, Str, Timestamp};
use super::message::{Contact, InboundMessage, MessageContext, Referral};
use super::scan::Json;
use super::status::{ErrorWire, StatusUpdate};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

#[derive(Debug, Default, Deserialize)]
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

/// The members of a change value this model splits on, as the general path reads them. Read
/// for every change in its first pass (other members are skipped); `C` is a typed contact
/// there and a raw one on the raw path, where a contact shaped unexpectedly must not cost the
/// messages next to it.
#[derive(Debug, Deserialize)]
pub(crate) struct ValueWire<'a, C = ContactWire<'a>> {
    #[serde(borrow)]
    pub metadata: Option<Metadata<'a>>,
    pub contacts: Option<Items<C>>,
    #[serde(borrow)]
    pub messages: Option<Items<Json<'a>>>,
    #[serde(borrow)]
    pub statuses: Option<Items<Json<'a>>>,
    /// Errors about the change as a whole rather than one message.
    #[serde(borrow)]
    pub errors: Option<&'a RawValue>,
}

/// A sender as listed in `value.contacts[]`, still borrowing from the body.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContactWire<'a> {
    #[serde(borrow)]
    pub profile: Option<ProfileWire<'a>>,
    #[serde(borrow)]
    pub wa_id: Option<Id<'a>>,
    #[serde(borrow)]
    pub user_id: Option<Id<'a>>,
    #[serde(borrow)]
    pub parent_user_id: Option<Id<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProfileWire<'a> {
    #[serde(borrow)]
    pub name: Option<Str<'a>>,
    #[serde(borrow)]
    pub username: Option<Str<'a>>,
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
pub(crate) fn read_contact(raw: Json<'_>) -> Option<ContactWire<'_>> {
    direct::within(raw, direct::contact).or_else(|| de::from_str(raw.get()).ok())
}

/// A message as Meta sends it. Read by hand rather than derived: the content sits in a member
/// named after the type, and reading whichever one comes straight into a single slot keeps
/// the value small (a field per possible member made it over a kilobyte, copied several
/// times per message).
#[derive(Default)]
pub(crate) struct MessageWire {
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

    /// Reads the member named `key` from `from`, as the message's JSON object lists it.
    pub fn member<'de, M: Members<'de>>(
        &mut self,
        key: &str,
        from: &mut M,
    ) -> Result<(), M::Error> {
        let m = self;
        match key {
            "id" => m.id = from.text()?,
            "from" => m.from = from.text()?,
            "from_user_id" => m.from_user_id = from.text()?,
            "timestamp" => m.timestamp = from.value()?,
            "type" => m.message_type = from.text()?,
            "context" => m.context = from.value()?,
            "referral" => m.referral = from.value()?,
            "group_id" => m.group_id = from.text()?,
            "errors" => m.errors = from.value()?,
            "text" => m.content(from, "text", MessageContent::Text)?,
            "image" => m.content(from, "image", MessageContent::Image)?,
            "video" => m.content(from, "video", MessageContent::Video)?,
            "audio" => m.content(from, "audio", MessageContent::Audio)?,
            "document" => m.content(from, "document", MessageContent::Document)?,
            "sticker" => m.content(from, "sticker", MessageContent::Sticker)?,
            "location" => m.content(from, "location", MessageContent::Location)?,
            "contacts" => {
                m.content(from, "contacts", |cards| MessageContent::Contacts { cards })?
            }
            "reaction" => m.content(from, "reaction", MessageContent::Reaction)?,
            "button" => m.content(from, "button", MessageContent::Button)?,
            "order" => m.content(from, "order", MessageContent::Order)?,
            "system" => m.content(from, "system", MessageContent::System)?,
            "interactive" => m.content(from, "interactive", |i| MessageContent::Interactive {
                reply: interactive_reply(i),
            })?,
            "edit" => m.content(from, "edit", |e: EditWire<'_>| MessageContent::Edit {
                original_message_id: e.original_message_id,
                content: Box::new(e.message.map_or(MessageContent::Unknown, edited_content)),
            })?,
            "revoke" => m.content(from, "revoke", |r: RevokeWire| MessageContent::Revoke {
                original_message_id: r.original_message_id,
            })?,
            "unsupported" => m.content(from, "unsupported", |u: UnsupportedWire| {
                MessageContent::Unsupported {
                    unsupported_type: u.kind,
                }
            })?,
            _ => from.skip()?,
        }
        Ok(())
    }

    /// Reads a content member (`null` counts as absent) and offers it to the message.
    fn content<'de, M, T, F>(
        &mut self,
        from: &mut M,
        member: &'static str,
        wrap: F,
    ) -> Result<(), M::Error>
    where
        M: Members<'de>,
        T: Deserialize<'de>,
        F: FnOnce(T) -> MessageContent,
    {
        if let Some(value) = from.value::<Option<T>>()? {
            self.offer(member, wrap(value));
        }
        Ok(())
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

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MessageWire, A::Error> {
        let mut m = MessageWire::default();
        let mut map = SerdeMembers(map);
        while let Some(key) = map.0.next_key::<Str<'de>>()? {
            m.member(&key.0, &mut map)?;
        }
        Ok(m)
    }
}

/// Where a message's member values come from: serde's map access, or the scanner reading
/// the common shape directly (see `direct.rs`). Each member is read the same way from either.
pub(crate) trait Members<'de> {
    type Error;
    /// A string or `null`.
    fn text(&mut self) -> Result<Option<String>, Self::Error>;
    fn value<T: Deserialize<'de>>(&mut self) -> Result<T, Self::Error>;
    fn skip(&mut self) -> Result<(), Self::Error>;
}

struct SerdeMembers<A>(A);

impl<'de, A: MapAccess<'de>> Members<'de> for SerdeMembers<A> {
    type Error = A::Error;

    fn text(&mut self) -> Result<Option<String>, A::Error> {
        self.0.next_value()
    }

    fn value<T: Deserialize<'de>>(&mut self) -> Result<T, A::Error> {
        self.0.next_value()
    }

    fn skip(&mut self) -> Result<(), A::Error> {
        self.0.next_value::<IgnoredAny>().map(drop)
    }
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
pub(crate) fn read_message(raw: Json<'_>) -> Option<InboundMessage> {
    let direct = direct::within(raw, |s| direct::message(s).map(|(wire, _)| wire));
    finish_message(direct, raw)
}

/// [`read_message`] once the direct reader had its go at `raw` (`None`: it gave up).
pub(crate) fn finish_message(direct: Option<MessageWire>, raw: Json<'_>) -> Option<InboundMessage> {
    let read = direct.ok_or(()).or_else(|()| de::from_str(raw.get()));
    let mut wire = match read {
        Ok(wire) => wire,
        Err(_) => {
            let core: MessageCore = de::from_str(raw.get()).ok()?;
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
        raw: raw.to_raw_value(),
    })
}

/// The new version inside an edit: shaped like a message without id and sender.
fn edited_content(raw: &RawValue) -> MessageContent {
    let raw = Json::from(raw);
    direct::within(raw, |s| direct::message(s).map(|(wire, _)| wire))
        .ok_or(())
        .or_else(|()| de::from_str::<MessageWire>(raw.get()))
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

#[derive(Default, Deserialize)]
pub(crate) struct StatusWire<'a> {
    pub id: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub timestamp: Timestamp,
    pub recipient_id: Option<String>,
    pub recipient_user_id: Option<String>,
    pub recipient_type: Option<String>,
    pub recipient_participant_id: Option<String>,
    pub recipient_participant_user_id: Option<String>,
    pub biz_opaque_callback_data: Option<String>,
    pub errors: Option<Vec<ErrorWire>>,
    #[serde(borrow)]
    pub conversation: Option<Json<'a>>,
    #[serde(borrow)]
    pub pricing: Option<Json<'a>>,
}

#[derive(Deserialize)]
struct StatusCore {
    id: Option<String>,
    status: Option<String>,
    #[serde(default)]
    timestamp: Timestamp,
}

/// `None` without id, status or timestamp, for the same reason as [`read_message`].
pub(crate) fn read_status(raw: Json<'_>) -> Option<StatusUpdate> {
    let direct = direct::within(raw, |s| direct::status(s).map(|(wire, _)| wire));
    finish_status(direct, raw)
}

/// [`read_status`] once the direct reader had its go at `raw` (`None`: it gave up).
pub(crate) fn finish_status(direct: Option<StatusWire<'_>>, raw: Json<'_>) -> Option<StatusUpdate> {
    let read = direct.ok_or(()).or_else(|()| de::from_str(raw.get()));
    match read {
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
            conversation: w.conversation.map(Json::to_raw_value),
            pricing: w.pricing.map(Json::to_raw_value),
            raw: raw.to_raw_value(),
        }),
        Err(_) => {
            let core: StatusCore = de::from_str(raw.get()).ok()?;
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
                raw: raw.to_raw_value(),
            })
        }
    }
}
