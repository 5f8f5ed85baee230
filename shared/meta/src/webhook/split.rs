//! Splitting a notification into events: one per message, one per status, one per other
//! change. Nothing Meta sent is dropped: whatever cannot be typed is passed on raw. The single
//! pass splits each change as it reads it; the general path's notifications are split here.

use super::event::{EventPayload, WebhookEvent, message_key, other_key, status_key};
use super::items::Items;
use super::lenient::Id;
use super::message::InboundMessage;
use super::notification::{Entry, Value, raw_values};
use super::scan::Json;
use super::status::StatusUpdate;
use super::wire::{
    ContactWire, Metadata, MetadataOnly, ValueWire, read_contact, read_message, read_status,
};
use serde_json::value::RawValue;

/// The only field whose value is split into messages and statuses.
pub(crate) const MESSAGES_FIELD: &str = "messages";

/// Raw change values by entry and change position.
type RawValues<'a> = Vec<Vec<Option<&'a RawValue>>>;

/// Every event of a notification the general path read, in the order Meta listed them.
pub(crate) fn events<'a>(body: &'a str, entries: &[Entry<'a>]) -> Vec<WebhookEvent> {
    let mut events = Vec::new();
    // Read from the body only once some change needs its raw value.
    let mut raw: Option<RawValues<'a>> = None;
    for (e, entry) in entries.iter().enumerate() {
        for (c, change) in entry.changes.iter().enumerate() {
            let field = change.field.as_ref();
            let mut raw_value = || -> Option<&'a RawValue> {
                let raw = raw.get_or_insert_with(|| raw_values(body));
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
                    if split_value(&origin, value, contacts, &mut events) {
                        origin.push_other(raw_value().map(Json::from), &mut events);
                    }
                }
                Value::Typed(value) => {
                    Origin::new(&entry.id, field, value.metadata.as_ref())
                        .at(entry.time)
                        .push_other(raw_value().map(Json::from), &mut events);
                }
                Value::Raw(value) => split_raw(&entry.id, entry.time, field, value, &mut events),
            }
        }
    }
    events
}

/// What every event of one change shares, borrowed until each event takes its own copy.
pub(crate) struct Origin<'c> {
    waba_id: &'c str,
    field: &'c str,
    phone_number_id: Option<&'c str>,
    display_phone_number: Option<&'c str>,
    time: Option<i64>,
}

impl<'c> Origin<'c> {
    pub fn new(waba_id: &'c str, field: &'c str, metadata: Option<&'c Metadata<'_>>) -> Self {
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

    pub fn at(mut self, time: Option<i64>) -> Self {
        self.time = time;
        self
    }

    fn event(&self, key: String, payload: EventPayload) -> WebhookEvent {
        let mut event = unfilled(key, payload);
        self.fill(&mut event);
        event
    }

    /// Gives an event its copy of what the change's events share.
    fn fill(&self, event: &mut WebhookEvent) {
        self.waba_id.clone_into(&mut event.waba_id);
        self.field.clone_into(&mut event.field);
        event.phone_number_id = self.phone_number_id.map(str::to_owned);
        event.display_phone_number = self.display_phone_number.map(str::to_owned);
        event.entry_time = self.time;
    }

    pub fn push_other(&self, value: Option<Json<'_>>, out: &mut Vec<WebhookEvent>) {
        match value {
            Some(value) => push(
                out,
                self.event(
                    other_key(self.field, value),
                    EventPayload::Other {
                        value: value.to_raw_value(),
                    },
                ),
            ),
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
            .filter_map(|&c| read_contact(c.into()))
            .collect();
        if split_value(&origin, &parsed, &contacts, out) {
            origin.push_other(Some(value.into()), out);
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
        .push_other(Some(value.into()), out);
}

/// An event whose origin is yet to be filled in.
fn unfilled(key: String, payload: EventPayload) -> WebhookEvent {
    WebhookEvent {
        key,
        waba_id: String::new(),
        field: String::new(),
        phone_number_id: None,
        display_phone_number: None,
        entry_time: None,
        payload,
    }
}

/// Most notifications hold one event. The vector's own first growth would make room for four
/// (2.7 kB), a size the allocator serves only after tidying its free lists, at a cost near
/// that of a whole update; growing exactly, doubling, keeps one event's room small.
fn push(out: &mut Vec<WebhookEvent>, event: WebhookEvent) {
    if out.len() == out.capacity() {
        out.reserve_exact(out.len().max(1));
    }
    out.push(event);
}

/// Splits a `messages` change value the general path read; see [`ChangeEvents`].
fn split_value<C>(
    origin: &Origin<'_>,
    value: &ValueWire<'_, C>,
    contacts: &[ContactWire<'_>],
    out: &mut Vec<WebhookEvent>,
) -> bool {
    let mut events = ChangeEvents::new(out);
    for &message in value.messages.as_ref().map_or(&[][..], Items::as_slice) {
        events.message(read_message(message), out);
    }
    for &status in value.statuses.as_ref().map_or(&[][..], Items::as_slice) {
        events.status(read_status(status), out);
    }
    events.finish(origin, contacts, value.errors.is_some(), out)
}

/// The events of one `messages` change value, pushed as each message and status is read (a
/// `None` one had no id or timestamp). What they share, and each message's sender, are filled
/// in once the whole change has been read: Meta lists `field` after `value`, and the contacts
/// may follow the messages.
pub(crate) struct ChangeEvents {
    /// Where this change's events start in the output.
    start: usize,
    items: usize,
    /// Some item could not be split.
    missing: bool,
    /// A status came before a message; message events go first all the same.
    status_first: bool,
    statuses: usize,
}

impl ChangeEvents {
    pub fn new(out: &[WebhookEvent]) -> Self {
        ChangeEvents {
            start: out.len(),
            items: 0,
            missing: false,
            status_first: false,
            statuses: 0,
        }
    }

    pub fn message(&mut self, message: Option<InboundMessage>, out: &mut Vec<WebhookEvent>) {
        self.items += 1;
        let Some(message) = message else {
            self.missing = true;
            return;
        };
        self.status_first |= self.statuses > 0;
        let key = message_key(&message);
        let payload = EventPayload::Message {
            contact: None,
            message,
        };
        push(out, unfilled(key, payload));
    }

    pub fn status(&mut self, status: Option<StatusUpdate>, out: &mut Vec<WebhookEvent>) {
        self.items += 1;
        let Some(status) = status else {
            self.missing = true;
            return;
        };
        self.statuses += 1;
        push(
            out,
            unfilled(status_key(&status), EventPayload::Status(status)),
        );
    }

    /// The change is not split after all: its events go.
    pub fn discard(self, out: &mut Vec<WebhookEvent>) {
        out.truncate(self.start);
    }

    /// Fills the events in; returns whether the whole value must also be passed on raw
    /// because some of it would otherwise be lost: change-level errors, an item without id or
    /// timestamp, or nothing to split at all.
    pub fn finish(
        self,
        origin: &Origin<'_>,
        contacts: &[ContactWire<'_>],
        errors: bool,
        out: &mut [WebhookEvent],
    ) -> bool {
        let events = out.get_mut(self.start..).unwrap_or_default();
        if self.status_first {
            // Stable: messages, then statuses, each in the order Meta listed them.
            events.sort_by_key(|e| matches!(e.payload, EventPayload::Status(_)));
        }
        for event in events {
            origin.fill(event);
            if let EventPayload::Message { contact, message } = &mut event.payload {
                *contact = sender_contact(contacts, message).map(ContactWire::to_contact);
            }
        }
        errors || self.items == 0 || self.missing
    }
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
