//! Property: any valid `messages` notification (text messages and statuses, random ids,
//! timestamps as strings or numbers, unicode bodies, senders and recipients by phone number,
//! BSUID or both, bodies with or without `\u` escapes as Meta sends them) parses, splits into
//! exactly the events its values say, and every event survives the inbound queue: serialized
//! and read back, it is the same event.

use proptest::collection::vec;
use proptest::prelude::*;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io;
use switchboard_meta::webhook::{
    self, Contact, EventPayload, InboundMessage, MessageContent, StatusUpdate, Text, WebhookEvent,
};

/// Who sent a message or received a status. Ids end in the item's position, so no two items
/// of one change share one.
#[derive(Debug, Clone)]
enum Party {
    Phone(String),
    Bsuid(String),
    Both(String, String),
}

impl Party {
    fn phone(&self) -> Option<String> {
        match self {
            Party::Phone(p) | Party::Both(p, _) => Some(p.clone()),
            Party::Bsuid(_) => None,
        }
    }
    fn bsuid(&self) -> Option<String> {
        match self {
            Party::Bsuid(u) | Party::Both(_, u) => Some(u.clone()),
            Party::Phone(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Timestamp {
    seconds: i64,
    as_number: bool,
}

impl Timestamp {
    fn json(&self) -> Value {
        if self.as_number {
            json!(self.seconds)
        } else {
            json!(self.seconds.to_string())
        }
    }
}

#[derive(Debug, Clone)]
struct Message {
    id: String,
    from: Party,
    timestamp: Timestamp,
    body: String,
    profile_name: Option<String>,
    username: Option<String>,
}

#[derive(Debug, Clone)]
struct Status {
    id: String,
    status: String,
    timestamp: Timestamp,
    recipient: Party,
    callback_data: Option<String>,
    pricing: bool,
}

#[derive(Debug, Clone)]
struct Change {
    phone_number_id: String,
    display_phone_number: String,
    messages: Vec<Message>,
    statuses: Vec<Status>,
}

#[derive(Debug, Clone)]
struct Entry {
    waba_id: String,
    changes: Vec<Change>,
}

#[derive(Debug, Clone)]
struct Notification {
    entries: Vec<Entry>,
    ascii_escaped: bool,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        vec(any::<char>(), 0..48).prop_map(String::from_iter),
        "[a-zA-Z0-9 .,!?'\"\\\\/]{0,48}",
        Just("Grüße 👋🏽 \u{200d} \"quoted\" \\ back\nslash".to_owned()),
    ]
}

fn party(position: usize) -> impl Strategy<Value = Party> {
    let phone = "[1-9][0-9]{5,11}".prop_map(move |p| format!("{p}{position:02}"));
    let bsuid = "[A-Z]{2}\\.[A-Za-z0-9]{1,24}".prop_map(move |u| format!("{u}{position:02}"));
    prop_oneof![
        phone.clone().prop_map(Party::Phone),
        bsuid.clone().prop_map(Party::Bsuid),
        (phone, bsuid).prop_map(|(p, u)| Party::Both(p, u)),
    ]
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..=4_102_444_800, any::<bool>())
        .prop_map(|(seconds, as_number)| Timestamp { seconds, as_number })
}

fn wamid() -> impl Strategy<Value = String> {
    "wamid\\.[A-Za-z0-9_=-]{8,48}"
}

fn message(position: usize) -> impl Strategy<Value = Message> {
    (
        wamid(),
        party(position),
        timestamp(),
        text(),
        proptest::option::of(text()),
        proptest::option::of("[a-z0-9_.]{1,20}"),
    )
        .prop_map(
            |(id, from, timestamp, body, profile_name, username)| Message {
                id,
                from,
                timestamp,
                body,
                profile_name,
                username,
            },
        )
}

fn status(position: usize) -> impl Strategy<Value = Status> {
    let statuses = vec!["sent", "delivered", "read", "failed", "played", "deleted"];
    (
        wamid(),
        proptest::sample::select(statuses),
        timestamp(),
        party(position),
        proptest::option::of(text()),
        any::<bool>(),
    )
        .prop_map(
            |(id, status, timestamp, recipient, callback_data, pricing)| Status {
                id,
                status: status.to_owned(),
                timestamp,
                recipient,
                callback_data,
                pricing,
            },
        )
}

fn items<T: std::fmt::Debug>(item: fn(usize) -> BoxedStrategy<T>) -> impl Strategy<Value = Vec<T>> {
    (0usize..=3).prop_flat_map(move |n| (0..n).map(item).collect::<Vec<_>>())
}

fn change() -> impl Strategy<Value = Change> {
    (
        "[1-9][0-9]{11,15}",
        "[1-9][0-9]{7,14}",
        items(|i| message(i).boxed()),
        items(|i| status(i).boxed()),
    )
        .prop_map(
            |(phone_number_id, display_phone_number, messages, statuses)| Change {
                phone_number_id,
                display_phone_number,
                messages,
                statuses,
            },
        )
}

fn notification() -> impl Strategy<Value = Notification> {
    let entry = ("[1-9][0-9]{11,15}", vec(change(), 1..=3))
        .prop_map(|(waba_id, changes)| Entry { waba_id, changes });
    (vec(entry, 1..=2), any::<bool>()).prop_map(|(entries, ascii_escaped)| Notification {
        entries,
        ascii_escaped,
    })
}

/// Writes every non-ASCII character as `\uXXXX` (surrogate pairs beyond the BMP), as Meta
/// often does.
struct AsciiEscaped;

impl serde_json::ser::Formatter for AsciiEscaped {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() {
                writer.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut [0u16; 2]) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// Compact JSON, escaped or not: the same value always gives the same bytes, so the raw JSON
/// the events carry can be predicted from the part alone.
fn encode(value: &Value, ascii_escaped: bool) -> String {
    if !ascii_escaped {
        return value.to_string();
    }
    let mut out = Vec::new();
    value
        .serialize(&mut serde_json::Serializer::with_formatter(
            &mut out,
            AsciiEscaped,
        ))
        .expect("a value serializes");
    String::from_utf8(out).expect("ASCII")
}

fn raw(value: &Value, ascii_escaped: bool) -> Box<RawValue> {
    RawValue::from_string(encode(value, ascii_escaped)).expect("valid JSON")
}

fn pricing() -> Value {
    json!({"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"})
}

fn message_json(m: &Message) -> Value {
    let mut v = json!({
        "id": m.id,
        "timestamp": m.timestamp.json(),
        "type": "text",
        "text": {"body": m.body},
    });
    if let Some(phone) = m.from.phone() {
        v["from"] = json!(phone);
    }
    if let Some(bsuid) = m.from.bsuid() {
        v["from_user_id"] = json!(bsuid);
    }
    v
}

fn contact_json(m: &Message) -> Value {
    let mut v = json!({});
    if m.profile_name.is_some() || m.username.is_some() {
        let mut profile = json!({});
        if let Some(name) = &m.profile_name {
            profile["name"] = json!(name);
        }
        if let Some(username) = &m.username {
            profile["username"] = json!(username);
        }
        v["profile"] = profile;
    }
    if let Some(phone) = m.from.phone() {
        v["wa_id"] = json!(phone);
    }
    if let Some(bsuid) = m.from.bsuid() {
        v["user_id"] = json!(bsuid);
    }
    v
}

fn status_json(s: &Status) -> Value {
    let mut v = json!({
        "id": s.id,
        "status": s.status,
        "timestamp": s.timestamp.json(),
    });
    if let Some(phone) = s.recipient.phone() {
        v["recipient_id"] = json!(phone);
    }
    if let Some(bsuid) = s.recipient.bsuid() {
        v["recipient_user_id"] = json!(bsuid);
    }
    if let Some(data) = &s.callback_data {
        v["biz_opaque_callback_data"] = json!(data);
    }
    if s.pricing {
        v["pricing"] = pricing();
    }
    v
}

fn value_json(c: &Change) -> Value {
    let mut v = json!({
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": c.display_phone_number,
            "phone_number_id": c.phone_number_id,
        },
    });
    if !c.messages.is_empty() {
        v["contacts"] = c.messages.iter().map(contact_json).collect();
        v["messages"] = c.messages.iter().map(message_json).collect();
    }
    if !c.statuses.is_empty() {
        v["statuses"] = c.statuses.iter().map(status_json).collect();
    }
    v
}

fn body_json(n: &Notification) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": n.entries.iter().map(|e| json!({
            "id": e.waba_id,
            "changes": e.changes.iter().map(|c| json!({
                "field": "messages",
                "value": value_json(c),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The events the notification must split into, built from the generated values alone.
fn expected_events(n: &Notification) -> Vec<WebhookEvent> {
    let escaped = n.ascii_escaped;
    let mut events = Vec::new();
    for entry in &n.entries {
        for change in &entry.changes {
            let event = |key: String, payload| WebhookEvent {
                key,
                waba_id: entry.waba_id.clone(),
                field: "messages".to_owned(),
                phone_number_id: Some(change.phone_number_id.clone()),
                display_phone_number: Some(change.display_phone_number.clone()),
                entry_time: None,
                payload,
            };
            for m in &change.messages {
                let contact = Contact {
                    wa_id: m.from.phone(),
                    user_id: m.from.bsuid(),
                    parent_user_id: None,
                    profile_name: m.profile_name.clone(),
                    username: m.username.clone(),
                };
                let message = InboundMessage {
                    id: m.id.clone(),
                    from: m.from.phone(),
                    from_user_id: m.from.bsuid(),
                    timestamp: m.timestamp.seconds,
                    message_type: "text".to_owned(),
                    context: None,
                    referral: None,
                    group_id: None,
                    errors: Vec::new(),
                    content: MessageContent::Text(Text {
                        body: m.body.clone(),
                    }),
                    raw: raw(&message_json(m), escaped),
                };
                events.push(event(
                    format!("message:{}", m.id),
                    EventPayload::Message {
                        contact: Some(contact),
                        message,
                    },
                ));
            }
            for s in &change.statuses {
                let status = StatusUpdate {
                    id: s.id.clone(),
                    status: s.status.clone(),
                    timestamp: s.timestamp.seconds,
                    recipient_id: s.recipient.phone(),
                    recipient_user_id: s.recipient.bsuid(),
                    recipient_type: None,
                    recipient_participant_id: None,
                    recipient_participant_user_id: None,
                    biz_opaque_callback_data: s.callback_data.clone(),
                    errors: Vec::new(),
                    conversation: None,
                    pricing: s.pricing.then(|| raw(&pricing(), escaped)),
                    raw: raw(&status_json(s), escaped),
                };
                events.push(event(
                    format!("status:{}:{}", s.id, s.status),
                    EventPayload::Status(status),
                ));
            }
            if change.messages.is_empty() && change.statuses.is_empty() {
                // Nothing to split: passed on whole, keyed by its bytes.
                let value = encode(&value_json(change), escaped);
                let key = format!("messages:{}", hex::encode(Sha256::digest(value.as_bytes())));
                let value = RawValue::from_string(value).expect("valid JSON");
                events.push(event(key, EventPayload::Other { value }));
            }
        }
    }
    events
}

/// Found by the `webhook_parse` fuzz target's queue check (on hand-picked numbers): with
/// serde_json's default float parser these coordinates read back from the queue 1 ULP away
/// from what the webhook function parsed; `float_roundtrip` makes both reads exact.
#[expect(
    clippy::excessive_precision,
    reason = "the literals are the fuzz input's digits, written as Meta sent them"
)]
#[test]
fn fuzz_regression_location_floats_survive_the_queue_exactly() {
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"id":"w","timestamp":"1","type":"location","location":{"latitude":123456789012345678e-30,"longitude":5.0216813883093446e-304}}]}}]}]}"#;
    let events = webhook::parse(body).expect("a notification").events();
    let [event] = &events[..] else {
        panic!("one event expected, got {events:?}");
    };
    let EventPayload::Message { message, .. } = &event.payload else {
        panic!("a message expected, got {event:?}");
    };
    let MessageContent::Location(location) = &message.content else {
        panic!("a location expected, got {:?}", message.content);
    };
    // Rust's own literals are correctly rounded.
    assert_eq!(location.latitude, 123456789012345678e-30_f64);
    assert_eq!(location.longitude, 5.0216813883093446e-304_f64);
    let queued = serde_json::to_vec(event).expect("an event serializes");
    let back: WebhookEvent = serde_json::from_slice(&queued).expect("and reads back");
    assert_eq!(&back, event);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn valid_notifications_parse_split_and_survive_the_queue(n in notification()) {
        let body = encode(&body_json(&n), n.ascii_escaped);
        let parsed = webhook::parse(body.as_bytes())
            .map_err(|e| TestCaseError::fail(format!("rejected: {e}")))?;
        let changes: usize = n.entries.iter().map(|e| e.changes.len()).sum();
        prop_assert_eq!(parsed.change_count(), changes);

        let events = parsed.events();
        prop_assert_eq!(&events, &expected_events(&n));

        // One event per queue message…
        for event in &events {
            let queued = serde_json::to_vec(event).expect("an event serializes");
            let back: WebhookEvent = serde_json::from_slice(&queued).expect("and reads back");
            prop_assert_eq!(&back, event);
        }
        // …and all of them at once.
        let all = serde_json::to_string(&events).expect("events serialize");
        let back: Vec<WebhookEvent> = serde_json::from_str(&all).expect("and read back");
        prop_assert_eq!(back, events);
    }
}
