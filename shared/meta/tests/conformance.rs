//! The webhook model against payloads nobody on this project wrote: the 16 webhook examples of
//! Meta's OpenAPI spec and pywa's 74 recorded updates. The data is read from
//! `SWITCHBOARD_CONFORMANCE_DIR` (default: `../shared/conformance` next to the repository).
//! Each body is also checked against an independent reading of its JSON, so nothing Meta
//! sent can silently disappear between the body and the events.

use serde_json::Value;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use switchboard_domain::ContactKey;
use switchboard_meta::webhook::{
    self, EventPayload, InboundMessage, MessageContent, StatusUpdate, WebhookEvent,
};

struct Case {
    name: String,
    body: String,
}

struct Corpus {
    spec: Vec<Case>,
    pywa: Vec<Case>,
}

impl Corpus {
    fn all(&self) -> impl Iterator<Item = &Case> {
        self.spec.iter().chain(&self.pywa)
    }
}

fn conformance_dir() -> PathBuf {
    std::env::var_os("SWITCHBOARD_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        })
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `None`, after a loud warning, when the data is not on this machine.
fn load() -> Option<Corpus> {
    let dir = conformance_dir();
    if !dir.is_dir() {
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             WARNING: conformance data not found at {}\n\
             Third-party webhook payloads were NOT checked. Set SWITCHBOARD_CONFORMANCE_DIR.\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
            dir.display()
        );
        return None;
    }
    let spec = json_files(&dir.join("meta-openapi/webhook-examples"))
        .iter()
        .map(|path| Case {
            name: format!(
                "spec/{}",
                path.file_stem().unwrap_or_default().to_string_lossy()
            ),
            body: read(path),
        })
        .collect();
    let mut pywa = Vec::new();
    for path in json_files(&dir.join("meta-webhooks/pywa")) {
        let file = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let cases: serde_json::Map<String, Value> = serde_json::from_str(&read(&path))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (name, body) in cases {
            pywa.push(Case {
                name: format!("pywa/{file}/{name}"),
                // Compact, as Meta sends it; the model must not depend on formatting anyway.
                body: body.to_string(),
            });
        }
    }
    Some(Corpus { spec, pywa })
}

/// Counted straight from the files, apart from how [`load`] reads them.
fn cases_on_disk() -> usize {
    let dir = conformance_dir();
    let spec = json_files(&dir.join("meta-openapi/webhook-examples")).len();
    let pywa: usize = json_files(&dir.join("meta-webhooks/pywa"))
        .iter()
        .map(|p| {
            serde_json::from_str::<Value>(&read(p))
                .ok()
                .and_then(|v| v.as_object().map(|o| o.len()))
                .unwrap_or(0)
        })
        .sum();
    spec + pywa
}

/// Message types whose payload sits in a member named like the type.
const TYPED_MESSAGES: &[&str] = &[
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "interactive",
    "button",
    "order",
    "system",
    "edit",
    "revoke",
];
const TRACKED_STATUSES: &[&str] = &["sent", "delivered", "read", "played", "failed"];

#[test]
fn every_third_party_case_conforms() {
    let Some(corpus) = load() else { return };
    let mut failures = Vec::new();
    let mut executed = 0;
    for case in corpus.all() {
        executed += 1;
        if let Err(why) = check_case(case) {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    eprintln!(
        "conformance: executed {executed} third-party cases ({} spec examples, {} pywa)",
        corpus.spec.len(),
        corpus.pywa.len()
    );
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(executed > 0, "the conformance directory holds no cases");
    assert_eq!(
        executed,
        cases_on_disk(),
        "not every case on disk was executed"
    );
}

fn check_case(case: &Case) -> Result<(), String> {
    let notification = webhook::parse(case.body.as_bytes()).map_err(|e| format!("parse: {e}"))?;
    let events = notification.events();
    if events.is_empty() {
        return Err("no events".into());
    }
    let body: Value = serde_json::from_str(&case.body).map_err(|e| e.to_string())?;
    check_nothing_dropped(&body, &events)?;
    check_keys(&events)?;
    for event in &events {
        check_round_trip(event)?;
        if event.waba_id.is_empty() || event.field.is_empty() {
            return Err(format!("event without waba id or field: {event:?}"));
        }
        match &event.payload {
            EventPayload::Message { message, .. } => check_message(message, event)?,
            EventPayload::Status(status) => check_status(status)?,
            EventPayload::Other { value } => {
                let value: Value = serde_json::from_str(value.get()).map_err(|e| e.to_string())?;
                let found = changes(&body).any(|(_, field, v)| field == event.field && *v == value);
                if !found {
                    return Err(format!(
                        "`{}` event does not carry a change value verbatim",
                        event.field
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `(waba id, field, value)` of every change in a body.
fn changes(body: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
    body["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| {
            let waba = entry["id"].as_str().unwrap_or_default();
            entry["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |c| (waba, c["field"].as_str().unwrap_or_default(), &c["value"]))
        })
}

/// Every message and status becomes an event, and every other change one raw event.
fn check_nothing_dropped(body: &Value, events: &[WebhookEvent]) -> Result<(), String> {
    let (mut messages, mut statuses, mut others) = (0, 0, 0);
    for (_, field, value) in changes(body) {
        if field == "messages" {
            let m = value["messages"].as_array().map_or(0, Vec::len);
            let s = value["statuses"].as_array().map_or(0, Vec::len);
            messages += m;
            statuses += s;
            others += usize::from(value.get("errors").is_some() || m + s == 0);
        } else {
            others += 1;
        }
    }
    let count =
        |kind: fn(&EventPayload) -> bool| events.iter().filter(|e| kind(&e.payload)).count();
    let got = (
        count(|p| matches!(p, EventPayload::Message { .. })),
        count(|p| matches!(p, EventPayload::Status(_))),
        count(|p| matches!(p, EventPayload::Other { .. })),
    );
    if got != (messages, statuses, others) {
        return Err(format!(
            "expected {messages} messages, {statuses} statuses, {others} other; got {got:?}"
        ));
    }
    Ok(())
}

/// Keys are unique within a body unless the very same thing is repeated.
fn check_keys(events: &[WebhookEvent]) -> Result<(), String> {
    let mut seen: HashMap<&str, &WebhookEvent> = HashMap::new();
    for event in events {
        if let Some(previous) = seen.insert(&event.key, event)
            && previous.payload != event.payload
        {
            return Err(format!("key {} names two different events", event.key));
        }
    }
    Ok(())
}

fn check_round_trip(event: &WebhookEvent) -> Result<(), String> {
    let json = serde_json::to_string(event).map_err(|e| format!("serialize: {e}"))?;
    let back: WebhookEvent =
        serde_json::from_str(&json).map_err(|e| format!("deserialize: {e}"))?;
    if &back != event {
        return Err(format!("round trip changed the event: {json}"));
    }
    Ok(())
}

fn check_message(message: &InboundMessage, event: &WebhookEvent) -> Result<(), String> {
    let raw: Value = serde_json::from_str(message.raw.get()).map_err(|e| e.to_string())?;
    if message.id.is_empty() || raw["id"] != message.id.as_str() {
        return Err(format!("wamid {:?} is not the message's id", message.id));
    }
    if message.timestamp <= 0 {
        return Err(format!("{}: timestamp {}", message.id, message.timestamp));
    }
    match (
        message.sender(),
        raw["from"].as_str(),
        raw["from_user_id"].as_str(),
    ) {
        (Some(ContactKey::WaId(w)), Some(from), _) if w == from => {}
        (Some(ContactKey::UserId(u)), None, Some(user)) if u == user => {}
        (sender, ..) => {
            return Err(format!(
                "{}: sender {sender:?} does not match the raw message",
                message.id
            ));
        }
    }
    let expected_key = match message.message_type.as_str() {
        "edit" | "revoke" => format!("message:{}:{}", message.id, message.message_type),
        _ => format!("message:{}", message.id),
    };
    if event.key != expected_key {
        return Err(format!(
            "key {} for a {} message",
            event.key, message.message_type
        ));
    }
    if raw["type"] != message.message_type.as_str() {
        return Err(format!(
            "message_type {} differs from the raw type",
            message.message_type
        ));
    }

    let typed = TYPED_MESSAGES.contains(&message.message_type.as_str());
    let has_payload = raw.get(&message.message_type).is_some();
    match (&message.content, typed && has_payload) {
        (MessageContent::Unknown, true) => {
            return Err(format!(
                "{} payload was not understood",
                message.message_type
            ));
        }
        (MessageContent::Unknown, false) => {}
        (MessageContent::Unsupported { .. }, _) if message.message_type == "unsupported" => {}
        (content, false) => {
            return Err(format!(
                "{content:?} typed from a message without its payload"
            ));
        }
        (_, true) => {}
    }
    if let MessageContent::Text(text) = &message.content {
        let body = raw["text"]["body"].as_str().unwrap_or_default();
        if text.body != body || message.text_preview().as_deref() != Some(body) {
            return Err(format!("text body {:?} not exposed", body));
        }
    }
    if let Some(errors) = raw["errors"].as_array() {
        let codes: Vec<i64> = errors.iter().filter_map(|e| e["code"].as_i64()).collect();
        if message.errors.iter().map(|e| e.code).collect::<Vec<_>>() != codes {
            return Err(format!("message error codes {codes:?} not carried"));
        }
    }
    Ok(())
}

fn check_status(status: &StatusUpdate) -> Result<(), String> {
    let raw: Value = serde_json::from_str(status.raw.get()).map_err(|e| e.to_string())?;
    if status.id.is_empty() || status.timestamp <= 0 || raw["status"] != status.status.as_str() {
        return Err(format!("status {status:?} does not match the raw status"));
    }
    if TRACKED_STATUSES.contains(&status.status.as_str()) && status.parsed_status().is_none() {
        return Err(format!("status {} is not understood", status.status));
    }
    if status.status == "failed" {
        let code = raw["errors"][0]["code"].as_i64();
        if code.is_none() || status.errors.first().map(|e| e.code) != code {
            return Err(format!("failed status without its error code {code:?}"));
        }
    }
    if raw.get("pricing").is_some() != status.pricing.is_some()
        || raw.get("conversation").is_some() != status.conversation.is_some()
    {
        return Err("pricing or conversation not carried".into());
    }
    Ok(())
}

/// The shapes the corpus holds must come out as the right types, not merely without errors.
#[test]
fn corpus_cases_have_the_expected_meaning() {
    let Some(corpus) = load() else { return };
    let events = |name: &str| -> Vec<WebhookEvent> {
        let case = corpus
            .all()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no case {name}"));
        webhook::parse(case.body.as_bytes())
            .expect("parses")
            .events()
    };
    let message = |name: &str| -> InboundMessage {
        match events(name).remove(0).payload {
            EventPayload::Message { message, .. } => message,
            other => panic!("{name}: {other:?}"),
        }
    };
    let content = |name: &str| message(name).content;

    assert_eq!(
        message("spec/text-message").text_preview().as_deref(),
        Some("Does it come in another color?")
    );
    assert!(
        matches!(content("spec/image-message"), MessageContent::Image(m) if m.caption.as_deref() == Some("Taj Mahal"))
    );
    assert!(
        matches!(content("pywa/message/voice"), MessageContent::Audio(m) if m.voice == Some(true))
    );
    assert!(
        matches!(content("pywa/message/animated_sticker"), MessageContent::Sticker(m) if m.animated == Some(true))
    );
    assert!(
        matches!(content("pywa/message/document"), MessageContent::Document(m) if m.filename.as_deref() == Some("filename.pdf"))
    );
    assert!(
        matches!(content("pywa/message/unreaction_empty"), MessageContent::Reaction(r) if r.is_removal())
    );
    assert!(
        matches!(content("pywa/message/unreaction_no_emoji"), MessageContent::Reaction(r) if r.is_removal())
    );
    assert!(
        matches!(content("spec/reaction-message"), MessageContent::Reaction(r) if !r.is_removal())
    );
    assert!(
        matches!(content("spec/location-message"), MessageContent::Location(l) if l.name.as_deref() == Some("Philz Coffee"))
    );
    assert!(
        matches!(content("spec/contact-sharing-message"), MessageContent::Contacts { cards } if cards.len() == 1)
    );
    assert!(
        matches!(content("spec/order-message"), MessageContent::Order(o) if o.product_items.len() == 2)
    );
    assert_eq!(
        message("spec/interactive-list-reply-message")
            .text_preview()
            .as_deref(),
        Some("Priority Mail Express")
    );
    assert_eq!(
        message("spec/interactive-button-reply-message")
            .text_preview()
            .as_deref(),
        Some("Cancel")
    );
    assert_eq!(
        message("spec/button-message").text_preview().as_deref(),
        Some("Unsubscribe")
    );
    assert!(matches!(
        content("pywa/flow_completion/completion"),
        MessageContent::Interactive { reply: webhook::InteractiveReply::FlowReply { response_json, .. } } if response_json.contains("flow_token")
    ));
    assert!(matches!(
        content("pywa/call_permission_update/accept"),
        MessageContent::Interactive { reply: webhook::InteractiveReply::CallPermissionReply { response, .. } } if response == "accept"
    ));
    assert!(
        matches!(content("spec/system-message"), MessageContent::System(s) if s.wa_id.as_deref() == Some("12195555358"))
    );
    assert!(matches!(
        content("pywa/deleted_message/revoke"),
        MessageContent::Revoke { .. }
    ));
    assert_eq!(
        message("pywa/edited_message/image")
            .text_preview()
            .as_deref(),
        Some("Updated image caption")
    );
    let unsupported = message("spec/unsupported-message");
    assert!(matches!(
        unsupported.content,
        MessageContent::Unsupported { .. }
    ));
    assert_eq!(unsupported.errors[0].code, 131_051);
    assert!(matches!(
        content("pywa/message/unsupported_with_type"),
        MessageContent::Unsupported { unsupported_type: Some(t) } if t == "pool"
    ));
    let ad = message("spec/text-message-from-click-to-whatsapp-ad");
    assert_eq!(
        ad.referral.and_then(|r| r.source_type).as_deref(),
        Some("ad")
    );
    let inquiry = message("spec/text-message-with-context-product-inquiry");
    assert!(inquiry.context.and_then(|c| c.referred_product).is_some());
    assert!(
        message("pywa/message/forwarded_many_times")
            .context
            .is_some_and(|c| c.frequently_forwarded)
    );
    assert_eq!(
        message("pywa/callback_button/quick_reply_without_context")
            .from_user_id
            .as_deref(),
        Some("US.13491208655302741918")
    );

    // The interactive message Meta could not render: the message and the change's error.
    let with_error = events("pywa/message/interactive_message_with_err");
    assert!(
        matches!(&with_error[0].payload, EventPayload::Message { message, .. } if message.content == MessageContent::Unknown)
    );
    assert!(
        matches!(&with_error[1].payload, EventPayload::Other { value } if value.get().contains("131000"))
    );

    // Statuses outside `messages` belong to calls and are kept raw with the call.
    let call = events("pywa/call_status/call_status");
    assert_eq!((call.len(), call[0].field.as_str()), (1, "calls"));
    assert!(matches!(call[0].payload, EventPayload::Other { .. }));
    assert_eq!(call[0].phone_number_id.as_deref(), Some("5483758353"));

    let group = events("spec/group-create-message");
    assert_eq!(group[0].field, "group_lifecycle_update");
    assert!(group[0].key.starts_with("group_lifecycle_update:"));

    let group_status = events("pywa/message_status/group");
    let EventPayload::Status(status) = &group_status[0].payload else {
        panic!()
    };
    assert_eq!(
        status.recipient(),
        Some(ContactKey::WaId(
            "<GROUP_PARTICIPANT_USER_PHONE_NUMBER>".into()
        ))
    );
}

/// Every real message case again, as a user with a username would send it: no phone number
/// anywhere, only the BSUID.
#[test]
fn bsuid_only_variants_of_every_message_case() {
    let Some(corpus) = load() else { return };
    let mut checked = 0;
    for case in corpus.all() {
        let mut body: Value = serde_json::from_str(&case.body).expect("case is JSON");
        let Some(value) = body["entry"][0]["changes"][0].get_mut("value") else {
            continue;
        };
        let Some(user_id) = value["contacts"][0]["user_id"].as_str().map(str::to_owned) else {
            continue;
        };
        let Some(messages) = value.get_mut("messages").and_then(Value::as_array_mut) else {
            continue;
        };
        for m in messages.iter_mut().filter_map(Value::as_object_mut) {
            m.remove("from");
            m.insert("from_user_id".into(), user_id.clone().into());
        }
        for c in value["contacts"]
            .as_array_mut()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
        {
            c.remove("wa_id");
        }
        let body = body.to_string();
        let events = webhook::parse(body.as_bytes()).expect("parses").events();
        for event in &events {
            if let EventPayload::Message { contact, message } = &event.payload {
                assert_eq!(
                    message.sender(),
                    Some(ContactKey::UserId(user_id.clone())),
                    "{}",
                    case.name
                );
                let contact = contact
                    .as_ref()
                    .unwrap_or_else(|| panic!("{}: contact lost", case.name));
                assert_eq!(
                    (contact.wa_id.as_deref(), contact.user_id.as_deref()),
                    (None, Some(user_id.as_str()))
                );
                checked += 1;
            }
        }
    }
    eprintln!("conformance: {checked} BSUID-only message variants checked");
    assert!(
        checked >= 30,
        "only {checked} message cases carried a BSUID"
    );
}
