//! The cases that are easy to get wrong. The full corpus of real payloads is exercised by
//! `tests/conformance.rs`.

use super::*;
use switchboard_domain::{ContactKey, MessageStatus};

const WABA: &str = "102290129340398";

/// A notification with one `messages` change holding `value_members` (JSON object members).
fn messages_body(value_members: &str) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"{WABA}","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}},{value_members}}}}}]}}]}}"#
    )
}

fn events_of(body: &str) -> Vec<WebhookEvent> {
    parse(body.as_bytes()).expect("body parses").events()
}

fn only_message(body: &str) -> (Option<Contact>, InboundMessage) {
    let mut events = events_of(body);
    assert_eq!(events.len(), 1, "{events:#?}");
    match events.remove(0).payload {
        EventPayload::Message { contact, message } => (contact, message),
        other => panic!("expected a message, got {other:?}"),
    }
}

fn round_trips(event: &WebhookEvent) {
    let json = serde_json::to_string(event).expect("serializes");
    let back: WebhookEvent = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(&back, event, "{json}");
}

#[test]
fn text_message_carries_sender_contact_and_metadata() {
    let body = messages_body(
        r#""contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
           "messages":[{"from":"16505551234","id":"wamid.A=","timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color?"}}]"#,
    );
    let events = events_of(&body);
    let event = &events[0];
    assert_eq!(event.key, "message:wamid.A=");
    assert_eq!(event.waba_id, WABA);
    assert_eq!(event.field, "messages");
    assert_eq!(event.phone_number_id.as_deref(), Some("106540352242922"));
    assert_eq!(event.display_phone_number.as_deref(), Some("15550783881"));
    let (contact, message) = only_message(&body);
    assert_eq!(
        contact.and_then(|c| c.profile_name).as_deref(),
        Some("Sheena Nelson")
    );
    assert_eq!(message.timestamp, 1_749_416_383);
    assert_eq!(
        message.sender(),
        Some(ContactKey::WaId("16505551234".into()))
    );
    assert_eq!(
        message.text_preview().as_deref(),
        Some("Does it come in another color?")
    );
    assert!(message.raw.get().contains(r#""type":"text""#));
    round_trips(event);
}

#[test]
fn reaction_removal_has_no_emoji_and_no_preview() {
    for reaction in [
        r#"{"message_id":"wamid.R=","emoji":""}"#,
        r#"{"message_id":"wamid.R="}"#,
    ] {
        let body = messages_body(&format!(
            r#""messages":[{{"from":"1","id":"wamid.X","timestamp":"1","type":"reaction","reaction":{reaction}}}]"#
        ));
        let (_, message) = only_message(&body);
        let MessageContent::Reaction(r) = &message.content else {
            panic!("not a reaction: {:?}", message.content)
        };
        assert!(r.is_removal());
        assert_eq!(r.message_id, "wamid.R=");
        assert_eq!(message.text_preview(), None);
    }
    let body = messages_body(
        r#""messages":[{"from":"1","id":"wamid.X","timestamp":"1","type":"reaction","reaction":{"message_id":"wamid.R=","emoji":"\ud83d\udc4d"}}]"#,
    );
    let (_, message) = only_message(&body);
    assert_eq!(message.text_preview().as_deref(), Some("\u{1F44D}"));
}

#[test]
fn unknown_type_is_kept_raw_without_failing_the_batch() {
    let body = messages_body(
        r#""messages":[
            {"from":"1","id":"wamid.F","timestamp":"1700000000","type":"hologram","hologram":{"depth":3}},
            {"from":"1","id":"wamid.T","timestamp":"1700000001","type":"text","text":{"body":"still here"}},
            {"from":"1","id":"wamid.M","timestamp":"1700000002","type":"image","image":"not an object"}
        ]"#,
    );
    let events = events_of(&body);
    assert_eq!(events.len(), 3);
    let EventPayload::Message {
        message: future, ..
    } = &events[0].payload
    else {
        panic!()
    };
    assert_eq!(future.message_type, "hologram");
    assert_eq!(future.content, MessageContent::Unknown);
    assert!(future.raw.get().contains(r#""depth":3"#));
    let EventPayload::Message { message: text, .. } = &events[1].payload else {
        panic!()
    };
    assert_eq!(text.text_preview().as_deref(), Some("still here"));
    let EventPayload::Message { message: odd, .. } = &events[2].payload else {
        panic!()
    };
    assert_eq!(
        (odd.id.as_str(), &odd.content),
        ("wamid.M", &MessageContent::Unknown)
    );
    events.iter().for_each(round_trips);
}

#[test]
fn content_is_taken_from_the_member_the_type_names() {
    let body = messages_body(
        r#""messages":[
            {"from":"1","id":"wamid.A","timestamp":"1","image":{"id":"9","caption":"late type"},"type":"image"},
            {"from":"1","id":"wamid.B","timestamp":"1","type":"text","image":{"id":"9"}},
            {"from":"1","id":"wamid.C","timestamp":"1","type":"unsupported"}
        ]"#,
    );
    let contents: Vec<MessageContent> = events_of(&body)
        .into_iter()
        .map(|e| match e.payload {
            EventPayload::Message { message, .. } => message.content,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        matches!(&contents[0], MessageContent::Image(m) if m.caption.as_deref() == Some("late type"))
    );
    assert_eq!(contents[1], MessageContent::Unknown);
    assert_eq!(
        contents[2],
        MessageContent::Unsupported {
            unsupported_type: None
        }
    );
}

#[test]
fn bsuid_only_sender_is_identified_by_user_id() {
    let body = messages_body(
        r#""contacts":[{"profile":{"name":"Ana","username":"@ana"},"user_id":"US.13491208655302741918"}],
           "messages":[{"from_user_id":"US.13491208655302741918","id":"wamid.B","timestamp":"1750000000","type":"text","text":{"body":"hi"}}]"#,
    );
    let (contact, message) = only_message(&body);
    assert_eq!(message.from, None);
    assert_eq!(
        message.sender(),
        Some(ContactKey::UserId("US.13491208655302741918".into()))
    );
    let contact = contact.expect("the contact is matched by BSUID");
    assert_eq!(contact.wa_id, None);
    assert_eq!(contact.user_id.as_deref(), Some("US.13491208655302741918"));
    assert_eq!(contact.username.as_deref(), Some("@ana"));
}

#[test]
fn contacts_are_matched_to_their_own_message() {
    let body = messages_body(
        r#""contacts":[{"profile":{"name":"A"},"wa_id":"111"},{"profile":{"name":"B"},"wa_id":"222"}],
           "messages":[{"from":"222","id":"wamid.2","timestamp":"1","type":"text","text":{"body":"b"}},
                       {"from":"333","id":"wamid.3","timestamp":"1","type":"text","text":{"body":"c"}}]"#,
    );
    let events = events_of(&body);
    let EventPayload::Message { contact, .. } = &events[0].payload else {
        panic!()
    };
    assert_eq!(
        contact.as_ref().and_then(|c| c.profile_name.as_deref()),
        Some("B")
    );
    let EventPayload::Message { contact, .. } = &events[1].payload else {
        panic!()
    };
    assert_eq!(contact, &None);

    // A lone contact whose phone number contradicts the sender is not the sender.
    let body = messages_body(
        r#""contacts":[{"profile":{"name":"A"},"wa_id":"111"}],
           "messages":[{"from":"999","id":"wamid.9","timestamp":"1","type":"text","text":{"body":"x"}}]"#,
    );
    assert_eq!(only_message(&body).0, None);
}

#[test]
fn statuses_parse_with_errors_pricing_and_bsuid_recipient() {
    let body = messages_body(
        r#""statuses":[
            {"id":"wamid.S","status":"failed","timestamp":"1689380458","recipient_user_id":"US.1",
             "errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message","error_data":{"details":"More than 24 hours"}}]},
            {"id":"wamid.S","status":"read","timestamp":"1689380459","recipient_id":"16505551234",
             "pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"utility"}},
            {"id":"wamid.S","status":"deleted","timestamp":"1689380460","recipient_id":"16505551234"}
        ]"#,
    );
    let events = events_of(&body);
    let statuses: Vec<&StatusUpdate> = events
        .iter()
        .map(|e| match &e.payload {
            EventPayload::Status(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(statuses[0].parsed_status(), Some(MessageStatus::Failed));
    assert_eq!(statuses[0].errors[0].code, 131_047);
    assert_eq!(
        statuses[0].errors[0].details.as_deref(),
        Some("More than 24 hours")
    );
    assert_eq!(
        statuses[0].recipient(),
        Some(ContactKey::UserId("US.1".into()))
    );
    assert_eq!(statuses[1].parsed_status(), Some(MessageStatus::Read));
    assert!(statuses[1].pricing.as_ref().unwrap().get().contains("PMP"));
    assert_eq!(statuses[2].parsed_status(), None);
    assert_eq!(
        events.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        [
            "status:wamid.S:failed",
            "status:wamid.S:read",
            "status:wamid.S:deleted"
        ]
    );
    events.iter().for_each(round_trips);
}

#[test]
fn group_statuses_are_keyed_per_participant() {
    let body = messages_body(
        r#""statuses":[
            {"id":"wamid.G","status":"read","timestamp":"1","recipient_id":"group1","recipient_type":"group","recipient_participant_id":"111"},
            {"id":"wamid.G","status":"read","timestamp":"2","recipient_id":"group1","recipient_type":"group","recipient_participant_user_id":"US.2"}
        ]"#,
    );
    let keys: Vec<String> = events_of(&body).into_iter().map(|e| e.key).collect();
    assert_eq!(
        keys,
        ["status:wamid.G:read:111", "status:wamid.G:read:US.2"]
    );
}

#[test]
fn edits_and_revokes_never_collide_with_the_original() {
    let body = messages_body(
        r#""messages":[
            {"from":"1","id":"wamid.O","timestamp":"1","type":"text","text":{"body":"v1"}},
            {"from":"1","id":"wamid.O","timestamp":"2","type":"edit","edit":{"original_message_id":"wamid.O","message":{"type":"text","text":{"body":"v2"}}}},
            {"from":"1","id":"wamid.O","timestamp":"3","type":"revoke","revoke":{"original_message_id":"wamid.O"}}
        ]"#,
    );
    let events = events_of(&body);
    let keys: Vec<&str> = events.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "message:wamid.O",
            "message:wamid.O:edit",
            "message:wamid.O:revoke"
        ]
    );
    let EventPayload::Message { message: edit, .. } = &events[1].payload else {
        panic!()
    };
    assert_eq!(edit.text_preview().as_deref(), Some("v2"));
    let MessageContent::Edit {
        original_message_id,
        content,
    } = &edit.content
    else {
        panic!()
    };
    assert_eq!(original_message_id, "wamid.O");
    assert!(matches!(content.as_ref(), MessageContent::Text(t) if t.body == "v2"));
}

#[test]
fn messages_without_id_or_timestamp_keep_the_change_raw() {
    let body = messages_body(
        r#""messages":[{"from":"1","timestamp":"1","type":"text","text":{"body":"who am I"}},
                       {"from":"1","id":"wamid.OK","timestamp":"1","type":"text","text":{"body":"fine"}}]"#,
    );
    let events = events_of(&body);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].key, "message:wamid.OK");
    let EventPayload::Other { value } = &events[1].payload else {
        panic!()
    };
    assert!(value.get().contains("who am I"));
    assert!(events[1].key.starts_with("messages:"));
    assert_eq!(
        events[1].phone_number_id.as_deref(),
        Some("106540352242922")
    );
}

#[test]
fn change_level_errors_are_passed_on() {
    let body = messages_body(r#""errors":[{"code":131000,"title":"Something went wrong"}]"#);
    let events = events_of(&body);
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&events[0].payload, EventPayload::Other { value } if value.get().contains("131000"))
    );
}

#[test]
fn other_fields_are_kept_raw_and_keyed_by_content() {
    let template = |event: &str| {
        format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"{WABA}","changes":[{{"field":"message_template_status_update","value":{{"event":"{event}","message_template_id":1689556908129832}}}}]}}]}}"#
        )
    };
    let approved = events_of(&template("APPROVED"));
    let again = events_of(&template("APPROVED"));
    let rejected = events_of(&template("REJECTED"));
    assert_eq!(approved[0].key, again[0].key);
    assert_ne!(approved[0].key, rejected[0].key);
    let (field, digest) = approved[0].key.split_once(':').unwrap();
    assert_eq!(field, "message_template_status_update");
    assert_eq!(digest.len(), 64);
    assert!(
        digest
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(approved[0].phone_number_id, None);
    let EventPayload::Other { value } = &approved[0].payload else {
        panic!()
    };
    assert_eq!(
        value.get(),
        r#"{"event":"APPROVED","message_template_id":1689556908129832}"#
    );
    round_trips(&approved[0]);
}

#[test]
fn malformed_bodies_are_parse_errors() {
    for body in [
        "",
        "{",
        "null",
        r#"{"object":"whatsapp_business_account"}"#,
        r#"{"entry":[]}"#,
    ] {
        assert!(parse(body.as_bytes()).is_err(), "{body:?} was accepted");
    }
}

#[test]
fn payload_json_is_externally_tagged() {
    let body = messages_body(
        r#""messages":[{"from":"1","id":"wamid.X","timestamp":"1","type":"text","text":{"body":"b"}}]"#,
    );
    let json = serde_json::to_value(&events_of(&body)[0]).unwrap();
    assert_eq!(
        json["payload"]["message"]["message"]["content"]["kind"],
        "text"
    );
    assert_eq!(
        json["payload"]["message"]["message"]["raw"]["text"]["body"],
        "b"
    );
}
