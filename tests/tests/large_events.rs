//! Large webhook events: batches are cut by SQS's size limit as well as its count, an event
//! too large for any queue message travels through S3 (the queue carries a pointer), and a
//! body once quarantined for an oversize event replays. Nothing is quarantined, nothing lost.

use serde_json::{Value, json};
use std::time::Duration;
use switchboard_dev::aws_calls::{AwsCall, AwsFault, FaultPhase};
use switchboard_e2e::*;
use switchboard_platform::blob::{EVENTS_PREFIX, Quarantine};
use switchboard_platform::queue::{MAX_BATCH_BYTES, MAX_MESSAGE_BYTES};

const WEBHOOK: &str = "WebhookFunction";
const INBOUND: &str = "InboundFunction";
const CUSTOMER: &str = "15557770001";

/// One `messages` change carrying the given message objects, all from [`CUSTOMER`].
fn notification(messages: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&messages_webhook(PHONE_NUMBER_ID, CUSTOMER, messages)).expect("json")
}

/// A shared-contacts message with `cards` contact cards.
fn contacts_message(wamid: &str, timestamp: i64, cards: usize) -> Value {
    let cards: Vec<Value> = (0..cards)
        .map(|n| {
            json!({
                "name": { "formatted_name": format!("Contact {n}"), "first_name": "Contact", "last_name": n.to_string() },
                "phones": [{ "phone": format!("+1 555 01{n:05}"), "type": "CELL", "wa_id": format!("155501{n:05}") }],
                "emails": [{ "email": format!("contact{n}@example.com"), "type": "WORK" }],
                "org": { "company": "Example Corp", "department": "Sales", "title": "Account manager" }
            })
        })
        .collect();
    json!({ "from": CUSTOMER, "id": wamid, "timestamp": timestamp.to_string(), "type": "contacts", "contacts": cards })
}

/// A message of a type this model does not know, with `bytes` of content.
fn unknown_type_message(wamid: &str, timestamp: i64, bytes: usize) -> Value {
    json!({
        "from": CUSTOMER, "id": wamid, "timestamp": timestamp.to_string(), "type": "hologram",
        "hologram": { "frames": "x".repeat(bytes) }
    })
}

fn text_message(wamid: &str, timestamp: i64, body: &str) -> Value {
    json!({ "from": CUSTOMER, "id": wamid, "timestamp": timestamp.to_string(), "type": "text", "text": { "body": body } })
}

/// The serialized size of each event the webhook splits the body into: what it enqueues.
fn event_sizes(body: &[u8]) -> Vec<usize> {
    switchboard_meta::webhook::parse(body)
        .expect("parses")
        .events()
        .iter()
        .map(|e| serde_json::to_string(e).expect("serializes").len())
        .collect()
}

fn calls(t: &TestStack, function: &str, operation: &str) -> Vec<AwsCall> {
    t.stack
        .aws_calls
        .calls()
        .into_iter()
        .filter(|c| c.function == function && c.operation == operation)
        .collect()
}

async fn stored_event_objects(t: &TestStack) -> Vec<String> {
    let out = switchboard_platform::aws::s3_client(&t.stack.sdk)
        .list_objects_v2()
        .bucket(t.config().data_bucket)
        .prefix(EVENTS_PREFIX)
        .send()
        .await
        .expect("list events/");
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// The `raw` attribute of the stored inbound message with this wamid: Meta's message object.
async fn stored_raw(t: &TestStack, wamid: &str) -> Option<String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let items: Vec<_> = aws_sdk_dynamodb::Client::new(&t.stack.sdk)
        .scan()
        .table_name(t.config().table_name)
        // `raw` is a reserved word in DynamoDB expressions.
        .filter_expression("wamid = :w AND attribute_exists(#raw)")
        .expression_attribute_names("#raw", "raw")
        .expression_attribute_values(":w", AttributeValue::S(wamid.into()))
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    items
        .into_iter()
        .map(|page| page.expect("scan"))
        .find_map(|item| item.get("raw").and_then(|v| v.as_s().ok()).cloned())
}

/// Waits for the conversation with [`CUSTOMER`] to hold `count` messages and returns them.
async fn wait_for_messages(t: &TestStack, count: usize) -> Vec<Value> {
    let conversation = t.first_conversation().await;
    eventually(&format!("{count} messages"), WAIT, || async {
        let messages = t.messages(&conversation).await;
        (messages.len() >= count).then_some(messages)
    })
    .await
}

fn by_wamid<'m>(messages: &'m [Value], wamid: &str) -> &'m Value {
    messages
        .iter()
        .find(|m| m["wamid"] == wamid)
        .unwrap_or_else(|| panic!("message {wamid} in {messages:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn large_events_that_overflow_one_batch_are_all_enqueued_and_stored() {
    let t = spawn_stack().await;
    let wamids = ["wamid.LARGE1", "wamid.LARGE2", "wamid.LARGE3"];
    let body = notification(
        wamids
            .iter()
            .zip(0..)
            .map(|(w, n)| contacts_message(w, 1_750_000_000 + n, 280))
            .collect(),
    );
    let sizes = event_sizes(&body);
    assert_eq!(sizes.len(), 3);
    assert!(
        sizes.iter().all(|s| *s < MAX_MESSAGE_BYTES && *s > 60_000),
        "each fits a queue message: {sizes:?}"
    );
    assert!(
        sizes.iter().sum::<usize>() > MAX_BATCH_BYTES,
        "together they do not fit one batch: {sizes:?}"
    );

    assert_eq!(t.post_signed(&body).await, 200);

    let messages = wait_for_messages(&t, 3).await;
    assert_eq!(messages.len(), 3, "{messages:?}");
    for w in wamids {
        let m = by_wamid(&messages, w);
        assert_eq!(m["message_type"], "contacts", "{m}");
    }
    let batches = calls(&t, WEBHOOK, "SendMessageBatch");
    assert!(
        batches.len() >= 2,
        "the events went out in more than one batch: {batches:?}"
    );
    assert!(
        stored_event_objects(&t).await.is_empty(),
        "events that fit a queue message are not put in S3"
    );
    assert!(t.quarantined().await.is_empty(), "nothing was quarantined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_too_large_for_the_queue_travels_through_s3_and_is_applied() {
    let t = spawn_stack().await;
    let big = unknown_type_message("wamid.HUGE1", 1_750_000_000, 300_000);
    let big_raw = serde_json::to_string(&big).expect("json");
    let body = notification(vec![
        big,
        text_message("wamid.SMALL1", 1_750_000_001, "and a short one"),
    ]);
    let sizes = event_sizes(&body);
    assert!(
        sizes[0] > MAX_MESSAGE_BYTES && sizes[1] < 4096,
        "one event over the queue's message limit, one far below: {sizes:?}"
    );

    assert_eq!(t.post_signed(&body).await, 200);

    let messages = wait_for_messages(&t, 2).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(
        by_wamid(&messages, "wamid.HUGE1")["message_type"],
        "hologram"
    );
    assert_eq!(
        by_wamid(&messages, "wamid.SMALL1")["text"],
        "and a short one"
    );
    let raw = stored_raw(&t, "wamid.HUGE1").await.expect("raw stored");
    assert_eq!(raw, big_raw, "Meta's message object is kept whole");

    let objects = stored_event_objects(&t).await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(calls(&t, WEBHOOK, "PutObject").len(), 1);
    assert!(!calls(&t, INBOUND, "GetObject").is_empty());
    assert!(t.quarantined().await.is_empty(), "nothing was quarantined");

    // Meta's redelivery is a duplicate: nothing new is stored or sent.
    assert_eq!(t.post_signed(&body).await, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(wait_for_messages(&t, 2).await.len(), 2);
    assert_eq!(calls(&t, WEBHOOK, "PutObject").len(), 1);
    assert_eq!(t.queue_depth(&t.config().inbound_queue_url).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_s3_fails_the_webhook_asks_for_a_retry_and_the_retry_gets_through() {
    let t = spawn_stack().await;
    let body = notification(vec![unknown_type_message(
        "wamid.HUGE2",
        1_750_000_000,
        300_000,
    )]);
    t.stack.aws_calls.inject(AwsFault {
        function: Some(WEBHOOK.into()),
        action: "s3:PutObject".into(),
        body_contains: None,
        phase: FaultPhase::BeforeSend,
        times: 1000,
    });
    let answer = t.post_signed(&body).await;
    assert!(answer.is_server_error(), "{answer}");
    assert!(t.stack.aws_calls.injected() > 0, "the fault struck");
    assert_eq!(
        t.queue_depth(&t.config().inbound_queue_url).await,
        0,
        "no pointer to a missing object was enqueued"
    );

    t.stack.aws_calls.clear_faults();
    // The claim was released, so Meta's retry is not taken for a duplicate.
    assert_eq!(t.post_signed(&body).await, 200);
    let messages = wait_for_messages(&t, 1).await;
    assert_eq!(messages[0]["wamid"], "wamid.HUGE2");
    assert!(t.quarantined().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_body_quarantined_for_an_oversize_event_replays() {
    let t = spawn_stack().await;
    let body = notification(vec![unknown_type_message(
        "wamid.HUGE3",
        1_750_000_000,
        300_000,
    )]);
    // As earlier versions left it: quarantined because the event did not fit the queue.
    let quarantine = Quarantine::new(
        switchboard_platform::aws::s3_client(&t.stack.sdk),
        t.config().data_bucket,
    );
    let key = quarantine
        .put(
            &body,
            "event message:wamid.HUGE3 exceeds the queue message limit",
            time::OffsetDateTime::now_utc(),
        )
        .await
        .expect("quarantined");
    let outcome = t.replay_quarantined(&key).await;
    assert_eq!(outcome.events, 1);
    assert_eq!(outcome.accepted.enqueued, 1);

    let messages = wait_for_messages(&t, 1).await;
    assert_eq!(messages[0]["wamid"], "wamid.HUGE3");
    assert_eq!(messages[0]["message_type"], "hologram");
    assert!(
        t.quarantined().await.is_empty(),
        "a replayed body leaves the quarantine"
    );
}
