//! Meta's own send examples (the OpenAPI collection in the shared conformance folder), read into
//! the model and written back. They are read in place, never copied into the repository.
//!
//! None of today's examples puts a placeholder string where Meta wants a number (their
//! coordinates and amounts are real numbers), so every example is parsed exactly as published.
//! Should one appear, it fails as "neither supported nor listed": that is the honest answer, since
//! Meta would refuse it too.

use super::*;
use serde_json::{Value, json};
use std::path::PathBuf;

fn examples_dir() -> PathBuf {
    std::env::var_os("SWITCHBOARD_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        })
        .join("meta-openapi/send-message-examples")
}

fn example(name: &str) -> Value {
    let path = examples_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("example is JSON")
}

/// The examples Switchboard does not send, and why. Each must really fail to round-trip, so the
/// list stays true as the model grows.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "send-catalog-message.json",
        "catalog messages need a Commerce catalog, which Switchboard does not manage",
    ),
    (
        "send-catalog-template-message.json",
        "catalog template buttons need a Commerce catalog, which Switchboard does not manage",
    ),
    (
        "send-multi-product-message.json",
        "product_list messages need a Commerce catalog, which Switchboard does not manage",
    ),
    (
        "send-single-product-message.json",
        "product messages need a Commerce catalog, which Switchboard does not manage",
    ),
    (
        "send-draft-flow-by-id.json",
        "flow messages need Flow management, which Switchboard does not have",
    ),
    (
        "send-draft-flow-by-name.json",
        "flow messages need Flow management, which Switchboard does not have",
    ),
    (
        "send-published-flow-by-id.json",
        "flow messages need Flow management, which Switchboard does not have",
    ),
    (
        "send-published-flow-by-name.json",
        "flow messages need Flow management, which Switchboard does not have",
    ),
    (
        "send-flow-template-message.json",
        "flow template buttons need Flow management, which Switchboard does not have",
    ),
    (
        "send-order-details-message.json",
        "order_details is WhatsApp Payments, which Switchboard does not offer",
    ),
    (
        "send-order-status-message.json",
        "order_status is WhatsApp Payments, which Switchboard does not offer",
    ),
    (
        "send-sample-issue-resolution-template.json",
        "its quick-reply parameters are `\"text\": true` / `false`, JSON booleans where Meta \
         takes a string (and quick-reply buttons take a `payload`)",
    ),
    (
        "send-reply-to-list-message.json",
        "it omits `type`, which Meta then takes as `text`, so as published it is a text message \
         without `text`; send-list-message.json is the same list with its `type`",
    ),
];

/// The model always writes `recipient_type` and `type`; an example that leaves them to Meta's
/// defaults (`individual`, `text`) is compared with those filled in.
fn with_defaults(mut example: Value) -> Value {
    if let Some(fields) = example.as_object_mut()
        && !fields.contains_key("status")
    {
        fields
            .entry("recipient_type")
            .or_insert_with(|| json!("individual"));
        fields.entry("type").or_insert_with(|| json!("text"));
    }
    example
}

fn round_trip(example: &Value) -> Result<Value, String> {
    let encode = |r: serde_json::Result<Value>| r.map_err(|e| format!("serializing: {e}"));
    if example.get("status").and_then(Value::as_str) == Some("read") {
        let read: MarkRead = serde_json::from_value(example.clone()).map_err(|e| e.to_string())?;
        encode(serde_json::to_value(&read))
    } else {
        let message: OutboundMessage =
            serde_json::from_value(example.clone()).map_err(|e| e.to_string())?;
        encode(serde_json::to_value(&message))
    }
}

#[test]
fn every_example_round_trips_or_is_listed_with_its_reason() {
    let dir = examples_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no examples in {}", dir.display());

    let mut failures = Vec::new();
    let (mut supported, mut unsupported) = (0, 0);
    for (name, _) in UNSUPPORTED {
        if !names.iter().any(|n| n == name) {
            failures.push(format!("{name}: listed as unsupported but not an example"));
        }
    }
    for name in &names {
        let original = example(name);
        let expected = with_defaults(original.clone());
        let reason = UNSUPPORTED
            .iter()
            .find(|(listed, _)| listed == name)
            .map(|(_, reason)| *reason);
        match (round_trip(&original), reason) {
            (Ok(back), None) if back == expected => supported += 1,
            (Ok(back), None) => failures.push(format!(
                "{name}: does not round-trip\n  expected {expected}\n  got      {back}"
            )),
            (Ok(back), Some(_)) if back == expected => failures.push(format!(
                "{name}: listed as unsupported but round-trips; take it off the list"
            )),
            (Ok(_), Some(reason)) => {
                unsupported += 1;
                println!("unsupported {name}: {reason} (reads, but writes back differently)");
            }
            (Err(error), Some(reason)) => {
                unsupported += 1;
                println!("unsupported {name}: {reason} (refused: {error})");
            }
            (Err(error), None) => failures.push(format!(
                "{name}: neither supported nor listed as unsupported: {error}"
            )),
        }
    }
    println!(
        "{supported} supported, {unsupported} unsupported, of {} examples",
        names.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn to() -> ContactKey {
    ContactKey::WaId("{{Recipient-Phone-Number}}".into())
}

/// A model built in Rust writes exactly Meta's example.
fn assert_writes(message: OutboundMessage, name: &str) {
    assert_eq!(
        serde_json::to_value(&message).expect("serializes"),
        with_defaults(example(name)),
        "{name}"
    );
}

#[test]
fn text_and_reply_match_metas_examples() {
    assert_writes(
        OutboundMessage::text(to(), "text-message-content"),
        "send-text-message.json",
    );
    assert_writes(
        OutboundMessage::text(to(), "<TEXT_MSG_CONTENT>").replying_to("<MSGID_OF_PREV_MSG>"),
        "send-reply-to-text-message.json",
    );
    assert_writes(
        OutboundMessage::new(
            to(),
            MessageContent::Text(Text {
                body: "Please visit https://youtu.be/hpltvTEiRrY.".into(),
                preview_url: Some(true),
            }),
        ),
        "send-text-message-with-preview-url.json",
    );
}

#[test]
fn media_match_metas_examples() {
    assert_writes(
        OutboundMessage::new(
            to(),
            MessageContent::Image(CaptionedMedia::by_id("<IMAGE_OBJECT_ID>")),
        ),
        "send-image-message-by-id.json",
    );
    assert_writes(
        OutboundMessage::new(
            to(),
            MessageContent::Document(
                DocumentMedia::by_id("<DOCUMENT_OBJECT_ID>")
                    .with_caption("<DOCUMENT_CAPTION_TO_SEND>")
                    .with_filename("<DOCUMENT_FILENAME>"),
            ),
        ),
        "send-document-message-by-id.json",
    );
    assert_writes(
        OutboundMessage::new(
            to(),
            MessageContent::Sticker(Media::by_link("<http(s)://sticker-url>")),
        )
        .replying_to("<MSGID_OF_MSG_YOU_ARE_REPLYING_TO>"),
        "send-reply-to-sticker-message-by-url.json",
    );
}

#[test]
fn reply_buttons_match_metas_example() {
    let button = |n: u8| ReplyButton {
        id: format!("<UNIQUE_BUTTON_ID_{n}>"),
        title: format!("<BUTTON_TITLE_{n}>"),
    };
    assert_writes(
        OutboundMessage::new(
            to(),
            MessageContent::Interactive(Interactive {
                header: None,
                body: Some("<BUTTON_TEXT>".into()),
                footer: None,
                action: InteractiveAction::Buttons(vec![button(1), button(2)]),
            }),
        ),
        "send-reply-button.json",
    );
}

#[test]
fn list_matches_metas_example() {
    let section = |s: u8| ListSection {
        title: Some(format!("<LIST_SECTION_{s}_TITLE>")),
        rows: (1..=2)
            .map(|r| ListRow {
                id: format!("<LIST_SECTION_{s}_ROW_{r}_ID>"),
                title: format!("<SECTION_{s}_ROW_{r}_TITLE>"),
                description: Some(format!("<SECTION_{s}_ROW_{r}_DESC>")),
            })
            .collect(),
    };
    assert_writes(
        OutboundMessage::new(
            to(),
            MessageContent::Interactive(Interactive {
                header: Some(InteractiveHeader::Text("<HEADER_TEXT>".into())),
                body: Some("<BODY_TEXT>".into()),
                footer: Some("<FOOTER_TEXT>".into()),
                action: InteractiveAction::List {
                    button: "<BUTTON_TEXT>".into(),
                    sections: vec![section(1), section(2)],
                },
            }),
        ),
        "send-list-message.json",
    );
}

#[test]
fn template_with_a_media_header_matches_metas_example() {
    let date_time = TemplateDateTime {
        calendar: Some("GREGORIAN".into()),
        year: Some(1977),
        month: Some(2),
        day_of_month: Some(25),
        day_of_week: Some(5),
        hour: Some(15),
        minute: Some(33),
        ..TemplateDateTime::fallback("February 25, 1977")
    };
    let template = Template {
        name: "template-name".into(),
        language: TemplateLanguage {
            code: "language-and-locale-code".into(),
            policy: None,
        },
        components: Some(vec![
            TemplateComponent::Header {
                parameters: vec![TemplateParameter::Image(Media::by_link(
                    "http(s)://the-image-url",
                ))],
            },
            TemplateComponent::Body {
                parameters: vec![
                    TemplateParameter::text("text-string"),
                    TemplateParameter::Currency(TemplateCurrency {
                        fallback_value: "$100.99".into(),
                        code: "USD".into(),
                        amount_1000: 100990,
                    }),
                    TemplateParameter::DateTime(date_time),
                ],
            },
        ]),
    };
    let content = MessageContent::Template(template);
    assert_eq!(
        content.template(),
        Some(("template-name", "language-and-locale-code"))
    );
    assert_writes(
        OutboundMessage::new(to(), content),
        "send-message-template-media.json",
    );
}

#[test]
fn reaction_matches_metas_example() {
    assert_writes(
        OutboundMessage::new(
            to(),
            MessageContent::Reaction(Reaction {
                message_id: "wamid.HBgLM...".into(),
                emoji: "\u{1F600}".into(),
            }),
        ),
        "send-reply-with-reaction-message.json",
    );
}

#[test]
fn location_matches_metas_example() {
    assert_writes(
        OutboundMessage::new(
            to(),
            MessageContent::Location(Location {
                latitude: 37.758056,
                longitude: -122.425332,
                name: Some("META HQ".into()),
                address: Some("1 Hacker Way, Menlo Park, CA 94025".into()),
            }),
        ),
        "send-location-message.json",
    );
}

#[test]
fn contacts_match_metas_example() {
    let address = |street: &str, kind: &str| ContactAddress {
        street: Some(street.into()),
        city: Some("Menlo Park".into()),
        state: Some("CA".into()),
        zip: Some("94025".into()),
        country: Some("United States".into()),
        country_code: Some("us".into()),
        kind: Some(kind.into()),
    };
    let labelled = |kind: &str| Some(kind.to_owned());
    let card = Contact {
        addresses: Some(vec![
            address("1 Hacker Way", "HOME"),
            address("200 Jefferson Dr", "WORK"),
        ]),
        birthday: Some("2012-08-18".into()),
        emails: Some(vec![
            ContactEmail {
                email: Some("test@fb.com".into()),
                kind: labelled("WORK"),
            },
            ContactEmail {
                email: Some("test@whatsapp.com".into()),
                kind: labelled("HOME"),
            },
        ]),
        name: ContactName {
            formatted_name: "John Smith".into(),
            first_name: Some("John".into()),
            last_name: Some("Smith".into()),
            middle_name: Some("D.".into()),
            suffix: Some("Jr".into()),
            prefix: Some("Dr".into()),
        },
        org: Some(ContactOrg {
            company: Some("WhatsApp".into()),
            department: Some("Design".into()),
            title: Some("Manager".into()),
        }),
        phones: Some(vec![
            ContactPhone {
                phone: Some("+1 (940) 555-1234".into()),
                wa_id: None,
                kind: labelled("HOME"),
            },
            ContactPhone {
                phone: Some("+1 (650) 555-1234".into()),
                wa_id: Some("16505551234".into()),
                kind: labelled("WORK"),
            },
        ]),
        urls: Some(vec![
            ContactUrl {
                url: Some("https://www.facebook.com".into()),
                kind: labelled("WORK"),
            },
            ContactUrl {
                url: Some("https://www.whatsapp.com".into()),
                kind: labelled("HOME"),
            },
        ]),
    };
    assert_writes(
        OutboundMessage::new(to(), MessageContent::Contacts(vec![card])),
        "send-contact-message.json",
    );
}

#[test]
fn mark_read_matches_metas_example() {
    let read = MarkRead::new("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUYzMjEzNDM2RTZGQ0MzMDJBRgA=")
        .with_typing_indicator();
    assert_eq!(
        serde_json::to_value(&read).expect("serializes"),
        example("send-typing-indicator-and-read-receipt.json")
    );
}
