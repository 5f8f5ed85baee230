//! `POST /webhooks/whatsapp` bodies: any bytes through `webhook::parse` and
//! `Notification::events`, which must never panic and must split exactly as the general
//! (serde_json) path does. Whatever is split out must survive the
//! inbound queue: each event serializes and reads back as the same event.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_meta::webhook::{self, EventPayload, WebhookEvent};

fuzz_target!(|body: &[u8]| {
    let Ok(notification) = webhook::parse(body) else {
        return;
    };
    let _ = format!("{notification:?}");
    let events = notification.events();
    // The single pass reads what the general path reads, into the very same events.
    assert_eq!(
        webhook::reference_events(body).as_ref(),
        Some(&events),
        "the single pass and the general path disagree"
    );
    for event in &events {
        // The queue body: what the webhook function enqueues and the inbound one reads.
        let json = serde_json::to_vec(event).expect("an event always serializes");
        let back: WebhookEvent = serde_json::from_slice(&json).expect("an event reads back");
        assert_eq!(&back, event, "event changed on the queue");
        assert!(!event.key.is_empty());
        // The accessors the inbound function calls on every event.
        match &event.payload {
            EventPayload::Message { message, .. } => {
                let _ = (message.sender(), message.text_preview());
            }
            EventPayload::Status(status) => {
                let _ = (status.parsed_status(), status.recipient());
            }
            EventPayload::Other { .. } => {}
        }
    }
});
