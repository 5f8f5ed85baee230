//! The envelope of every webhook: `{"object": …, "entry": [{"id": WABA, "changes": [{"field",
//! "value"}]}]}`.
//!
//! A body of the common shape is read and split into events in a single pass
//! (`single_pass.rs`). Any other body is read here with serde_json, the general path, which
//! also names what is wrong with a body that is not a notification. There, the envelope and each change value's metadata and
//! contacts are read typed, while messages and statuses stay borrowed raw slices until
//! [`Notification::events`] reads them. serde_json cannot hand out a value both typed and raw,
//! and Meta puts `value` before `field`, so the raw bytes of whole change values (needed only
//! for changes passed on raw) come from a second pass, taken only when such a change exists. A
//! value whose members are not shaped as expected sends the whole body down that raw path,
//! where each change is read on its own so one odd change cannot spoil the others; so does a
//! body without any `messages` member, which has nothing to split.

use super::error::ParseError;
use super::event::WebhookEvent;
use super::lenient::{Id, Str, Timestamp};
use super::single_pass::{self, Split};
use super::split;
use super::wire::ValueWire;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// The only `object` a WhatsApp notification carries.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// A parsed webhook body, borrowing from it. Turn it into work with
/// [`Notification::into_events`] (or [`Notification::events`] to keep it).
pub struct Notification<'a> {
    body: &'a str,
    read: Read<'a>,
}

enum Read<'a> {
    /// The single pass: split as it was read.
    Split(Split),
    /// The general path: split by [`Notification::events`].
    General(Vec<Entry<'a>>),
}

/// Counts only: the body is customers' personal data and has no place in logs.
impl fmt::Debug for Notification<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = match &self.read {
            Read::Split(split) => split.entries,
            Read::General(entries) => entries.len(),
        };
        f.debug_struct("Notification")
            .field("entries", &entries)
            .field("changes", &self.change_count())
            .finish()
    }
}

#[derive(Debug)]
pub(crate) struct Entry<'a> {
    /// The WABA id; for `account_update` it can be a business portfolio id instead.
    pub id: Cow<'a, str>,
    /// `entry.time`, Unix seconds: when Meta made the change (WABA-level changes carry it).
    pub time: Option<i64>,
    pub changes: Vec<Change<'a>>,
}

#[derive(Debug)]
pub(crate) struct Change<'a> {
    /// `messages`, `message_template_status_update`, … (empty if Meta left it out).
    pub field: Cow<'a, str>,
    pub value: Value<'a>,
}

#[derive(Debug)]
pub(crate) enum Value<'a> {
    /// No value, or `null`: nothing to act on.
    Absent,
    /// Read in the general path's first pass; its raw bytes are not at hand. Boxed: the
    /// general path is the uncommon one, and this keeps every other value small to move.
    Typed(Box<ValueWire<'a>>),
    /// Read on the general path's raw pass.
    Raw(&'a RawValue),
}

impl Notification<'_> {
    /// How many changes the notification holds, over all entries.
    pub fn change_count(&self) -> usize {
        match &self.read {
            Read::Split(split) => split.changes,
            Read::General(entries) => entries.iter().map(|e| e.changes.len()).sum(),
        }
    }

    /// Every event in the notification, in the order Meta listed them.
    pub fn events(&self) -> Vec<WebhookEvent> {
        match &self.read {
            Read::Split(split) => split.events.clone(),
            Read::General(entries) => split::events(self.body, entries),
        }
    }

    /// [`Notification::events`], without copying events the single pass already split.
    pub fn into_events(self) -> Vec<WebhookEvent> {
        match self.read {
            Read::Split(split) => split.events,
            Read::General(_) => self.events(),
        }
    }
}

#[derive(Deserialize)]
struct EnvelopeWire<'a, V> {
    #[serde(borrow)]
    object: Option<Str<'a>>,
    #[serde(borrow)]
    entry: Option<Vec<EntryWire<'a, V>>>,
}

#[derive(Deserialize)]
struct EntryWire<'a, V> {
    #[serde(borrow)]
    id: Id<'a>,
    #[serde(default)]
    time: Timestamp,
    #[serde(borrow)]
    changes: Option<Vec<ChangeWire<'a, V>>>,
}

#[derive(Deserialize)]
struct ChangeWire<'a, V> {
    #[serde(borrow)]
    field: Option<Str<'a>>,
    value: Option<V>,
}

/// Reads the envelope of a raw webhook body. Fails only when the body is not JSON, lacks
/// `object` or `entry`, is about another object type, or its entries are not shaped like
/// entries; everything inside a change value is read tolerantly.
pub fn parse(body: &[u8]) -> Result<Notification<'_>, ParseError> {
    // One UTF-8 check up front lets every later read skip its own.
    let body = std::str::from_utf8(body).map_err(|e| ParseError::not_utf8(body, e))?;
    match single_pass::read(body) {
        Ok(split) => Ok(Notification {
            body,
            read: Read::Split(split),
        }),
        Err(_) => general(body),
    }
}

/// The general path: serde_json reads any body, and says what is wrong with one that is not a
/// notification.
fn general(body: &str) -> Result<Notification<'_>, ParseError> {
    // Without a `messages` member there is nothing to split and every value goes on raw, so
    // the raw pass alone does. The test only picks the faster of two correct strategies.
    if !body.contains(r#""messages""#) {
        let wire = serde_json::from_str::<EnvelopeWire<'_, &RawValue>>(body)?;
        return build(body, wire, Value::Raw);
    }
    match serde_json::from_str::<EnvelopeWire<'_, ValueWire<'_>>>(body) {
        Ok(wire) => build(body, wire, |v| Value::Typed(Box::new(v))),
        Err(e) if e.is_data() => {
            let wire = serde_json::from_str::<EnvelopeWire<'_, &RawValue>>(body)?;
            build(body, wire, Value::Raw)
        }
        Err(e) => Err(e.into()),
    }
}

fn build<'a, V>(
    body: &'a str,
    wire: EnvelopeWire<'a, V>,
    value: impl Fn(V) -> Value<'a>,
) -> Result<Notification<'a>, ParseError> {
    let object = wire.object.ok_or_else(|| ParseError::missing("object"))?;
    let entries = wire.entry.ok_or_else(|| ParseError::missing("entry"))?;
    if object.0 != WHATSAPP_OBJECT {
        return Err(ParseError::other_object());
    }
    let entries = entries
        .into_iter()
        .map(|e| Entry {
            id: e.id.0,
            time: e.time.0,
            changes: e
                .changes
                .unwrap_or_default()
                .into_iter()
                .map(|c| Change {
                    field: c.field.map(|f| f.0).unwrap_or_default(),
                    value: c.value.map_or(Value::Absent, &value),
                })
                .collect(),
        })
        .collect();
    Ok(Notification {
        body,
        read: Read::General(entries),
    })
}

/// The events of `body` as the general path splits it, if it reads it.
#[cfg(test)]
pub(crate) fn general_events(body: &str) -> Option<Vec<WebhookEvent>> {
    general(body).ok().map(|n| n.events())
}

/// The events of `body` as the general (serde_json) path reads and splits it, whichever path
/// [`parse`] takes: the reference the single pass is held to by the `webhook_parse` fuzz
/// target, on any bytes.
#[doc(hidden)]
pub fn reference_events(body: &[u8]) -> Option<Vec<WebhookEvent>> {
    std::str::from_utf8(body)
        .ok()
        .and_then(|body| general(body).ok())
        .map(|n| n.events())
}

/// The raw bytes of every change value, by entry and change position, from a second pass
/// over the same body (so the positions line up with the first).
pub(crate) fn raw_values(body: &str) -> Vec<Vec<Option<&RawValue>>> {
    serde_json::from_str::<EnvelopeWire<'_, &RawValue>>(body)
        .ok()
        .and_then(|wire| wire.entry)
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            e.changes
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.value)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::EventPayload;
    use crate::webhook::error::ParseErrorKind;

    fn kind(body: &str) -> ParseErrorKind {
        parse(body.as_bytes()).expect_err("must be rejected").kind()
    }

    #[test]
    fn rejects_what_is_not_a_notification_without_echoing_it() {
        assert!(matches!(
            kind("not json at all"),
            ParseErrorKind::NotJson { .. }
        ));
        assert!(matches!(
            kind(r#"{"object":"whatsapp_business_account","entry":["#),
            ParseErrorKind::NotJson { .. }
        ));
        assert!(matches!(
            parse(b"{\"object\":\"\xff\"}").unwrap_err().kind(),
            ParseErrorKind::NotJson { .. }
        ));
        assert_eq!(kind(r#"{"entry":[]}"#), ParseErrorKind::Missing("object"));
        assert_eq!(
            kind(r#"{"object":"whatsapp_business_account"}"#),
            ParseErrorKind::Missing("entry")
        );
        assert_eq!(
            kind(r#"{"object":"page","entry":[]}"#),
            ParseErrorKind::OtherObject
        );
        assert!(matches!(
            kind(r#"{"object":"whatsapp_business_account","entry":{"id":"1"}}"#),
            ParseErrorKind::Malformed { .. }
        ));
        assert!(matches!(kind("[1,2]"), ParseErrorKind::Malformed { .. }));

        let secret_text = r#"{"object":"whatsapp_business_account","entry":[{"id":{"my card":"4111111111111111"}}]}"#;
        let message = parse(secret_text.as_bytes()).unwrap_err().to_string();
        assert!(
            !message.contains("4111"),
            "error echoes the body: {message}"
        );
    }

    /// What the general path read.
    fn entries<'n>(n: &'n Notification<'_>) -> &'n [Entry<'n>] {
        match &n.read {
            Read::General(entries) => entries,
            Read::Split(_) => panic!("read in the single pass"),
        }
    }

    #[test]
    fn tolerates_missing_changes_fields_and_values() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1"},{"id":2,"changes":[{"value":{}},{"field":"messages","value":null}]}]}"#;
        let n = general(body).unwrap();
        let entries = entries(&n);
        assert_eq!(entries.len(), 2);
        assert!(entries[0].changes.is_empty());
        assert_eq!(entries[1].id, "2");
        assert_eq!(entries[1].changes[0].field, "");
        assert!(matches!(entries[1].changes[0].value, Value::Typed(_)));
        assert!(matches!(entries[1].changes[1].value, Value::Absent));
        let single = parse(body.as_bytes()).unwrap();
        assert!(matches!(single.read, Read::Split(_)));
        for n in [single, n] {
            assert_eq!(n.change_count(), 2);
            assert_eq!(format!("{n:?}"), "Notification { entries: 2, changes: 2 }");
            let events = n.events();
            assert_eq!(events.len(), 1);
            assert_eq!(
                (events[0].waba_id.as_str(), events[0].field.as_str()),
                ("2", "")
            );
        }
    }

    #[test]
    fn a_body_without_messages_is_read_raw_in_one_pass() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]}]}"#;
        let value = r#"{"event":"ACCOUNT_DELETED"}"#;
        let n = general(body).unwrap();
        assert!(matches!(entries(&n)[0].changes[0].value, Value::Raw(v) if v.get() == value));
        let n = parse(body.as_bytes()).unwrap();
        assert!(matches!(n.read, Read::Split(_)));
        assert!(
            matches!(&n.into_events()[0].payload, EventPayload::Other { value: v } if v.get() == value)
        );
    }

    #[test]
    fn an_odd_value_sends_the_body_down_the_raw_path() {
        let n = parse(
            br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":{"not":"a list"}}}]}]}"#,
        )
        .unwrap();
        assert!(matches!(entries(&n)[0].changes[0].value, Value::Raw(_)));
    }
}
