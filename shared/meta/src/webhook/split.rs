//! Splitting a notification into events: one per message, one per status, one per other
//! change. Nothing Meta sent is dropped: whatever cannot be typed is passed on raw.

use super::event::{EventPayload, WebhookEvent, message_key, other_key, status_key};
use super::items::Items;
use super::lenient::Id;
use super::message::InboundMessage;
use super::notification::{Notification, Value, raw_values};
use super::wire::{
    ContactWire, Metadata, MetadataOnly, ValueWire, read_contact, read_message, read_status,
};
use serde_json::value::RawValue;

/// The only field whose value is split into messages and statuses.
const MESSAGES_FIELD: &str = "messages";

/// Raw change values by entry and change position.
type RawValues<'a> = Vec<Vec<Option<&'a RawValue>>>;

impl<'a> Notification<'a> {
    /// Every event in the notification, in the order Meta listed them.
    pub fn events(&self) -> Vec<WebhookEvent> {
        let mut events = Vec::with_capacity(self.change_count());
        // Read from the body only once some change needs its raw value.
        let mut raw: Option<RawValues<'a>> = None;
        for (e, entry) in self.entries.iter().enumerate() {
            for (c, change) in entry.changes.iter().enumerate() {
                let field = change.field.as_ref();
                let mut raw_value = || -> Option<&'a RawValue> {
                    let raw = raw.get_or_insert_with(|| raw_values(self.body));
                    raw.get(e)
                        .and_then(|changes| changes.get(c))
                        .copied()
                        .flatten()
                };
                match &change.value {
                    Value::Absent => {}
                    Value::Typed(value) if field == MESSAGES_FIELD => {
                        let origin =
                            Origin::new(&entry.id, field, value.metadata.as_ref()).at(entry.time);
                        let contacts = value.contacts.as_ref().map_or(&[][..], Items::as_slice);
                        if split_messages(&origin, value, contacts, &mut events) {
                            origin.push_other(raw_value(), &mut events);
                        }
                    }
                    Value::Typed(value) => {
                        Origin::new(&entry.id, field, value.metadata.as_ref())
                            .at(entry.time)
                            .push_other(raw_value(), &mut events);
                    }
                    Value::Raw(value) => {
                        split_raw(&entry.id, entry.time, field, value, &mut events)
                    }
                }
            }
        }
        events
    }
}

/// What every event of one change shares, borrowed until each event takes its own copy.
struct Origin<'c> {
    waba_id: &'c str,
    field: &'c str,
    phone_number_id: Option<&'c str>,
    display_phone_number: Option<&'c str>,
    time: Option<i64>,
}

impl<'c> Origin<'c> {
    fn new(waba_id: &'c str, field: &'c str, metadata: Option<&'c Metadata<'_>>) -> Self {
        Origin {
            waba_id,
            field,
            phone_number_id: metadata
                .and_then(|m| m.phone_number_id.as_ref())
                .map(|id| id.0.as_ref()),
            display_phone_number: metadata
                .and_then(|m| m.display_phone_number.as_ref())
                .map(|id| id.0.as_ref()),
            time: None,
        }
    }

    fn at(mut self, time: Option<i64>) -> Self {
        self.time = time;
        self
    }

    fn event(&self, key: String, payload: EventPayload) -> WebhookEvent {
        WebhookEvent {
            key,
            waba_id: self.waba_id.to_owned(),
            field: self.field.to_owned(),
            phone_number_id: self.phone_number_id.map(str::to_owned),
            display_phone_number: self.display_phone_number.map(str::to_owned),
            entry_time: self.time,
            payload,
        }
    }

    fn push_other(&self, value: Option<&RawValue>, out: &mut Vec<WebhookEvent>) {
        match value {
            Some(value) => out.push(self.event(
                other_key(self.field, value),
                EventPayload::Other {
                    value: value.to_owned(),
                },
            )),
            // Both passes read the same bytes, so the second always finds what the first did.
            None => tracing::error!(
                field = self.field,
                "change value missing on the raw pass; not passed on"
            ),
        }
    }
}

/// A change read on the raw path: split it if its value has the expected members, else pass
/// the value on whole.
fn split_raw(
    waba_id: &str,
    time: Option<i64>,
    field: &str,
    value: &RawValue,
    out: &mut Vec<WebhookEvent>,
) {
    if field == MESSAGES_FIELD
        && let Ok(parsed) = serde_json::from_str::<ValueWire<'_, &RawValue>>(value.get())
    {
        let origin = Origin::new(waba_id, field, parsed.metadata.as_ref()).at(time);
        let contacts: Vec<ContactWire<'_>> = parsed
            .contacts
            .iter()
            .flat_map(|c| c.as_slice())
            .filter_map(|c| read_contact(c))
            .collect();
        if split_messages(&origin, &parsed, &contacts, out) {
            origin.push_other(Some(value), out);
        }
        return;
    }
    // Template and account updates carry no metadata; skip reading them for it.
    let metadata = value
        .get()
        .contains(r#""metadata""#)
        .then(|| serde_json::from_str::<MetadataOnly<'_>>(value.get()).ok())
        .flatten()
        .and_then(|m| m.metadata);
    Origin::new(waba_id, field, metadata.as_ref())
        .at(time)
        .push_other(Some(value), out);
}

/// Pushes an event per message and status; returns whether the whole value must also be
/// passed on raw because some of it would otherwise be lost: change-level errors, an item
/// without id or timestamp, or nothing to split at all.
fn split_messages<C>(
    origin: &Origin<'_>,
    value: &ValueWire<'_, C>,
    contacts: &[ContactWire<'_>],
    out: &mut Vec<WebhookEvent>,
) -> bool {
    let messages = value.messages.as_ref().map_or(&[][..], Items::as_slice);
    let statuses = value.statuses.as_ref().map_or(&[][..], Items::as_slice);
    let mut keep_raw = value.errors.is_some() || (messages.is_empty() && statuses.is_empty());
    for raw in messages {
        match read_message(raw) {
            Some(message) => {
                let contact = sender_contact(contacts, &message).map(ContactWire::to_contact);
                out.push(origin.event(
                    message_key(&message),
                    EventPayload::Message { contact, message },
                ));
            }
            None => keep_raw = true,
        }
    }
    for raw in statuses {
        match read_status(raw) {
            Some(status) => {
                out.push(origin.event(status_key(&status), EventPayload::Status(status)))
            }
            None => keep_raw = true,
        }
    }
    keep_raw
}

/// The contact matching the sender by phone number or BSUID. A lone contact is taken as the
/// sender when Meta left the identifiers out of one side, unless they contradict.
fn sender_contact<'c>(
    contacts: &'c [ContactWire<'c>],
    message: &InboundMessage,
) -> Option<&'c ContactWire<'c>> {
    let same = |a: &Option<Id<'_>>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if a.0 == b.as_str());
    let differ = |a: &Option<Id<'_>>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if a.0 != b.as_str());
    contacts
        .iter()
        .find(|c| same(&c.wa_id, &message.from) || same(&c.user_id, &message.from_user_id))
        .or(match contacts {
            [only]
                if !differ(&only.wa_id, &message.from)
                    && !differ(&only.user_id, &message.from_user_id) =>
            {
                Some(only)
            }
            _ => None,
        })
}
