//! The sample events in `events/` (for `cargo lambda invoke --data-file` and
//! `sam local invoke -e`) are what the functions really receive: each one decodes as its
//! function's event type, the webhook samples are signed with the documented dev app secret,
//! and the queue samples carry exactly what the producing function enqueues.
//!
//! `UPDATE_SAMPLE_EVENTS=1` rewrites `events/inbound-batch.json` from the webhook samples.

use aws_lambda_events::event::sqs::SqsEvent;
use http::Method;
use md5::{Digest, Md5};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use switchboard_domain::jobs::OutboundJob;
use switchboard_e2e::workspace_root;
use switchboard_meta::{signature, webhook};

fn events_dir() -> PathBuf {
    workspace_root().join("events")
}

fn read(name: &str) -> String {
    let path = events_dir().join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A default `.env.example` documents for local runs; its app secret signs the samples.
fn env_example(key: &str) -> String {
    let text = fs::read_to_string(workspace_root().join(".env.example")).expect(".env.example");
    let prefix = format!("{key}=");
    text.lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("{key} in .env.example"))
}

fn http_request(name: &str) -> lambda_http::Request {
    lambda_http::request::from_str(&read(name))
        .unwrap_or_else(|e| panic!("{name} is not an API Gateway event: {e}"))
}

fn webhook_body(name: &str) -> (String, Option<String>) {
    let event: Value = serde_json::from_str(&read(name)).expect("json");
    let body = event["body"].as_str().expect("body").to_owned();
    let signature = event["headers"]["x-hub-signature-256"]
        .as_str()
        .map(str::to_owned);
    (body, signature)
}

fn sqs_event(name: &str) -> SqsEvent {
    serde_json::from_str(&read(name)).unwrap_or_else(|e| panic!("{name} is not an SQS event: {e}"))
}

#[test]
fn every_sample_is_checked_here() {
    let on_disk: BTreeSet<String> = fs::read_dir(events_dir())
        .expect("events/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let checked: BTreeSet<String> = [
        "api-healthz.json",
        "api-list-conversations.json",
        "api-send-message.json",
        "inbound-batch.json",
        "operations-list-quarantine.json",
        "operations-replay-quarantine.json",
        "operations-replay-unrouted.json",
        "outbound-batch.json",
        "template-sync-scheduled.json",
        "webhook-post-bad-signature.json",
        "webhook-post-status-read.json",
        "webhook-post-text-message.json",
        "webhook-verify.json",
    ]
    .map(String::from)
    .into();
    assert_eq!(on_disk, checked, "a sample in events/ has no check here");
}

#[test]
fn webhook_samples_are_signed_as_meta_signs_them() {
    let secret = env_example("META_APP_SECRET");
    for name in [
        "webhook-post-text-message.json",
        "webhook-post-status-read.json",
    ] {
        let request = http_request(name);
        assert_eq!(request.method(), Method::POST, "{name}");
        assert_eq!(request.uri().path(), "/webhooks/whatsapp", "{name}");
        let (body, header) = webhook_body(name);
        signature::verify(secret.as_bytes(), body.as_bytes(), header.as_deref())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let events = webhook::parse(body.as_bytes()).expect("parses").events();
        assert_eq!(events.len(), 1, "{name}");
    }
    let (body, header) = webhook_body("webhook-post-bad-signature.json");
    assert!(signature::verify(secret.as_bytes(), body.as_bytes(), header.as_deref()).is_err());
}

#[test]
fn the_verify_sample_is_a_subscription_handshake_with_the_dev_token() {
    let request = http_request("webhook-verify.json");
    assert_eq!(request.method(), Method::GET);
    assert_eq!(request.uri().path(), "/webhooks/whatsapp");
    let query = request.uri().query().unwrap_or_default();
    assert!(query.contains("hub.mode=subscribe"), "{query}");
    assert!(query.contains("hub.challenge="), "{query}");
    let token = env_example("META_VERIFY_TOKEN");
    assert!(
        query.contains(&format!("hub.verify_token={token}")),
        "{query}"
    );
}

#[test]
fn api_samples_are_authenticated_requests_to_existing_routes() {
    for (name, method, path) in [
        ("api-healthz.json", Method::GET, "/healthz"),
        (
            "api-list-conversations.json",
            Method::GET,
            "/v1/conversations",
        ),
        ("api-send-message.json", Method::POST, "/v1/messages"),
    ] {
        let request = http_request(name);
        assert_eq!(request.method(), method, "{name}");
        assert_eq!(request.uri().path(), path, "{name}");
        if path.starts_with("/v1/") {
            let auth = request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(auth.starts_with("Bearer sk_"), "{name} has no API key");
        }
    }
    let send: Value = match http_request("api-send-message.json").into_body() {
        lambda_http::Body::Text(text) => serde_json::from_str(&text).expect("json body"),
        other => panic!("api-send-message.json body: {other:?}"),
    };
    assert!(send["text"]["body"].is_string(), "{send}");
}

/// The inbound queue's sample holds the events the webhook splits from its own samples, in
/// the very encoding it enqueues them.
#[test]
fn the_inbound_sample_carries_what_the_webhook_enqueues() {
    let mut expected = Vec::new();
    for name in [
        "webhook-post-text-message.json",
        "webhook-post-status-read.json",
    ] {
        let (body, _) = webhook_body(name);
        expected.extend(webhook::parse(body.as_bytes()).expect("parses").events());
    }
    if std::env::var_os("UPDATE_SAMPLE_EVENTS").is_some() {
        write_inbound_sample(&events_dir().join("inbound-batch.json"), &expected);
    }
    let batch = sqs_event("inbound-batch.json");
    let got: Vec<webhook::WebhookEvent> = batch
        .records
        .iter()
        .map(|r| serde_json::from_str(r.body.as_deref().expect("body")).expect("a webhook event"))
        .collect();
    assert_eq!(got, expected);
    assert!(batch.records.iter().all(|r| r.message_id.is_some()));
}

#[test]
fn the_outbound_sample_is_a_fifo_send_job() {
    let batch = sqs_event("outbound-batch.json");
    assert!(!batch.records.is_empty());
    for record in &batch.records {
        let job: OutboundJob =
            serde_json::from_str(record.body.as_deref().expect("body")).expect("an outbound job");
        let group = record
            .attributes
            .get("MessageGroupId")
            .expect("a FIFO group");
        assert!(
            group.starts_with(&format!("{}:", job.tenant_id)),
            "group {group} is not the job's tenant"
        );
        assert_eq!(
            record.attributes.get("MessageDeduplicationId"),
            Some(&job.message_id.to_string())
        );
    }
}

/// The operations function is invoked with a bare command; each sample decodes as the one its
/// name says, with nothing the function would refuse.
#[test]
fn the_operations_samples_are_commands() {
    use switchboard_operations::Command;
    let command = |name: &str| -> Command {
        serde_json::from_str(&read(name)).unwrap_or_else(|e| panic!("{name} is not a command: {e}"))
    };
    assert_eq!(
        command("operations-list-quarantine.json"),
        Command::ListQuarantine { limit: Some(100) }
    );
    match command("operations-replay-quarantine.json") {
        Command::ReplayQuarantine { key } => assert!(
            key.starts_with(switchboard_platform::blob::QUARANTINE_PREFIX),
            "{key}"
        ),
        other => panic!("operations-replay-quarantine.json is {other:?}"),
    }
    assert_eq!(
        command("operations-replay-unrouted.json"),
        Command::ReplayUnrouted {
            phone_number_id: env_example("DEMO_PHONE_NUMBER_ID"),
            limit: Some(100)
        }
    );
}

#[test]
fn the_template_sync_sample_is_an_eventbridge_schedule() {
    let event: aws_lambda_events::event::eventbridge::EventBridgeEvent =
        serde_json::from_str(&read("template-sync-scheduled.json")).expect("an EventBridge event");
    assert_eq!(event.detail_type, "Scheduled Event");
    assert_eq!(event.source, "aws.events");
}

fn write_inbound_sample(path: &Path, events: &[webhook::WebhookEvent]) {
    let records: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let body = serde_json::to_string(event).expect("serializes");
            json!({
                "messageId": format!("0b7f6a1e-3c5d-4e8f-9a2b-00000000000{}", i + 1),
                "receiptHandle": format!("AQEBinboundSampleReceiptHandle{}", i + 1),
                "md5OfBody": hex::encode(Md5::digest(body.as_bytes())),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1763800000000",
                    "SenderId": "AROAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1763800000001"
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:switchboard-InboundQueue",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&json!({ "Records": records })).expect("json");
    fs::write(path, text + "\n").expect("write the inbound sample");
}
