//! The common shape of a notification, read and split into events in one pass over the body
//! with the [`Scanner`]: each message, status and contact is read once, typed, where it
//! stands, and each event takes its copy of what it needs straight from the body.
//!
//! Every value is an object whose members this model splits on are shaped as expected, and
//! each change is then read as the general path reads it. Anything else (not JSON, another
//! object, a missing member, a member of an unexpected type, a repeated or escaped key) is
//! rejected, and the general path in `notification.rs` reads the body instead, erring or
//! passing values on raw exactly as it always has. A message, status or contact of an
//! unusual shape is not a reason to reject: it is read with serde from its text instead.
//!
//! Meta puts `value` before `field`, so a value's messages and statuses are read before it is
//! known whether the change is split; when it is not, they are dropped and the value goes on
//! raw. `id` and `time` may likewise follow `changes`: the events of an entry take them once
//! the entry has been read.

use super::direct;
use super::event::WebhookEvent;
use super::items::Items;
use super::lenient::{Id, Timestamp};
use super::message::InboundMessage;
use super::notification::WHATSAPP_OBJECT;
use super::scan::{Json, Reject, Scanner};
use super::split::{ChangeEvents, MESSAGES_FIELD, Origin};
use super::status::StatusUpdate;
use super::wire::{
    ContactWire, Metadata, finish_message, finish_status, read_contact, read_message, read_status,
};
use serde::Deserialize;

/// A notification read and split.
#[derive(Debug, Default)]
pub(crate) struct Split {
    pub events: Vec<WebhookEvent>,
    pub entries: usize,
    pub changes: usize,
}

/// Reads and splits `body` if it has the common shape.
pub(crate) fn read(body: &str) -> Result<Split, Reject> {
    let mut s = Scanner::new(body);
    let mut split = Split::default();
    let (mut object, mut seen_entries) = (None, false);
    s.object(|s, key| match key.plain()? {
        "object" => once(&mut object, direct::text(s)?),
        // A `null` entry list is not one: the general path names the error.
        "entry" => {
            first(&mut seen_entries)?;
            s.array(|s| entry(s, &mut split))
        }
        _ => s.skip_value().map(drop),
    })?;
    s.end()?;
    match object.flatten() {
        Some(object) if seen_entries && object.0 == WHATSAPP_OBJECT => Ok(split),
        // Missing, null or another object: the general path names the error.
        _ => Err(Reject),
    }
}

/// Sets a member read for the first time: serde rejects a repeated one, so does this.
fn once<T>(slot: &mut Option<T>, value: T) -> Result<(), Reject> {
    if slot.is_some() {
        return Err(Reject);
    }
    *slot = Some(value);
    Ok(())
}

/// Notes a member seen for the first time, for members read into place.
fn first(seen: &mut bool) -> Result<(), Reject> {
    if std::mem::replace(seen, true) {
        return Err(Reject);
    }
    Ok(())
}

/// A scalar or small object through its `Deserialize` impl, as serde_json would read it.
fn typed<'a, T: Deserialize<'a>>(s: &mut Scanner<'a>) -> Result<T, Reject> {
    T::deserialize(&mut *s).map_err(|_| Reject)
}

fn entry<'a>(s: &mut Scanner<'a>, split: &mut Split) -> Result<(), Reject> {
    split.entries += 1;
    let first_event = split.events.len();
    let (mut id, mut time): (Option<Id<'a>>, Option<Timestamp>) = (None, None);
    let mut seen_changes = false;
    // Whether `id` or `time` came after `changes`, whose events then lack them.
    let mut late = false;
    s.object(|s, key| match key.plain()? {
        "id" => {
            late |= seen_changes;
            // A null id is no id: the general path names the error.
            once(&mut id, direct::id(s)?.ok_or(Reject)?)
        }
        "time" => {
            late |= seen_changes;
            once(&mut time, typed(s)?)
        }
        "changes" => {
            first(&mut seen_changes)?;
            if s.null()? {
                return Ok(());
            }
            let waba_id = id.as_ref().map_or("", |id| id.0.as_ref());
            let time = time.unwrap_or_default().0;
            s.array(|s| change(s, waba_id, time, split))
        }
        _ => s.skip_value().map(drop),
    })?;
    // Without an id the body is no notification: the general path names the error.
    let id = id.ok_or(Reject)?;
    if late {
        for event in split.events.get_mut(first_event..).unwrap_or_default() {
            id.0.as_ref().clone_into(&mut event.waba_id);
            event.entry_time = time.unwrap_or_default().0;
        }
    }
    Ok(())
}

fn change<'a>(
    s: &mut Scanner<'a>,
    waba_id: &str,
    time: Option<i64>,
    split: &mut Split,
) -> Result<(), Reject> {
    split.changes += 1;
    let events = &mut split.events;
    let mut split_events = ChangeEvents::new(events);
    let mut field = None;
    let (mut value, mut seen_value) = (None, false);
    s.object(|s, key| match key.plain()? {
        "field" => once(&mut field, direct::text(s)?),
        "value" => {
            first(&mut seen_value)?;
            if !s.null()? {
                value = Some(change_value(s, &mut split_events, events)?);
            }
            Ok(())
        }
        _ => s.skip_value().map(drop),
    })?;
    // No value, or `null`: nothing to act on.
    let Some(value) = value else {
        return Ok(());
    };
    let field = field.flatten().map(|f| f.0).unwrap_or_default();
    let origin = Origin::new(waba_id, &field, value.metadata.as_ref()).at(time);
    if field != MESSAGES_FIELD {
        split_events.discard(events);
        origin.push_other(Some(value.raw), events);
        return Ok(());
    }
    if split_events.finish(&origin, &value.contacts, value.errors, events) {
        origin.push_other(Some(value.raw), events);
    }
    Ok(())
}

/// A change value, read before its field is known; its messages and statuses went to the
/// change's events as they were read.
struct ChangeValue<'a> {
    raw: Json<'a>,
    metadata: Option<Metadata<'a>>,
    /// The contacts that read as contacts; as on the general path, one that does not is left
    /// out without costing the messages next to it.
    contacts: Items<ContactWire<'a>>,
    /// Errors about the change as a whole (a non-null `errors` member).
    errors: bool,
}

fn change_value<'a>(
    s: &mut Scanner<'a>,
    split: &mut ChangeEvents,
    events: &mut Vec<WebhookEvent>,
) -> Result<ChangeValue<'a>, Reject> {
    let (mut metadata, mut errors) = (None, None);
    let mut contacts = Items::Empty;
    let mut seen = [false; 3];
    let raw = s.object(|s, key| match key.plain()? {
        "metadata" => once(&mut metadata, direct::metadata(s)?),
        "contacts" => {
            first(&mut seen[0])?;
            each(s, |s| {
                if let Some(c) = contact(s)? {
                    contacts.push(c);
                }
                Ok(())
            })
        }
        "messages" => {
            first(&mut seen[1])?;
            each(s, |s| message(s).map(|m| split.message(m, events)))
        }
        "statuses" => {
            first(&mut seen[2])?;
            each(s, |s| status(s).map(|st| split.status(st, events)))
        }
        "errors" => once(&mut errors, !s.skip_value()?.is_null()),
        _ => s.skip_value().map(drop),
    })?;
    Ok(ChangeValue {
        raw,
        metadata: metadata.flatten(),
        contacts,
        errors: errors.unwrap_or(false),
    })
}

/// Each element of an array (`null` reads as none).
fn each<'a>(
    s: &mut Scanner<'a>,
    element: impl FnMut(&mut Scanner<'a>) -> Result<(), Reject>,
) -> Result<(), Reject> {
    if s.null()? {
        return Ok(());
    }
    s.array(element)
}

/// Reads an item directly where it stands; if the direct reader gives up, steps over the item
/// (which also tells bad JSON, rejected, from an unusual item) and reads its text with serde.
fn in_place<'a, D, T>(
    s: &mut Scanner<'a>,
    direct: impl FnOnce(&mut Scanner<'a>) -> Result<D, Reject>,
    finish: impl FnOnce(Result<D, Json<'a>>) -> T,
) -> Result<T, Reject> {
    let start = s.mark();
    match direct(s) {
        Ok(read) => Ok(finish(Ok(read))),
        Err(Reject) => {
            s.reset(start);
            let raw = s.skip_value()?;
            Ok(finish(Err(raw)))
        }
    }
}

fn message(s: &mut Scanner<'_>) -> Result<Option<InboundMessage>, Reject> {
    in_place(s, direct::message, |read| match read {
        Ok((wire, raw)) => finish_message(Some(wire), raw),
        Err(raw) => read_message(raw),
    })
}

fn status(s: &mut Scanner<'_>) -> Result<Option<StatusUpdate>, Reject> {
    in_place(s, direct::status, |read| match read {
        Ok((wire, raw)) => finish_status(Some(wire), raw),
        Err(raw) => read_status(raw),
    })
}

fn contact<'a>(s: &mut Scanner<'a>) -> Result<Option<ContactWire<'a>>, Reject> {
    in_place(s, direct::contact, |read| match read {
        Ok(contact) => Some(contact),
        Err(raw) => read_contact(raw),
    })
}

#[cfg(test)]
mod tests;
