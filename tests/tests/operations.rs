//! The operations function, as an operator invokes it on a deployed stack: quarantined bodies
//! listed and replayed once a fixed parser accepts them, unrouted events replayed once their
//! number is onboarded. Every command answers JSON; errors are typed answers. Each replay
//! stores a message once, removes what it replayed only after it is queued, and replaying
//! again does nothing.

use serde_json::{Value, json};
use std::time::Duration;
use switchboard_dev::aws_calls::{AwsFault, FaultPhase};
use switchboard_domain::{PhoneNumberId, TenantId};
use switchboard_e2e::*;
use switchboard_platform::blob::Quarantine;
use switchboard_store::PhoneRoute;

const OPERATIONS: &str = "OperationsFunction";
const CUSTOMER: &str = "15557770042";
/// A business number no tenant holds when the tests start.
const NEW_NUMBER: &str = "106540352249999";

/// Invokes the operations function with `payload`, as `aws lambda invoke` does.
async fn ops(t: &TestStack, payload: Value) -> Value {
    let answer = switchboard_operations::handle(&t.stack.operations, payload).await;
    serde_json::to_value(answer).expect("answers are JSON")
}

fn error_kind(answer: &Value) -> &str {
    answer["error"]["kind"].as_str().unwrap_or_default()
}

fn quarantine(t: &TestStack) -> Quarantine {
    Quarantine::new(
        switchboard_platform::aws::s3_client(&t.stack.sdk),
        t.config().data_bucket,
    )
}

fn text_body(phone_number_id: &str, wamid: &str, timestamp: i64, text: &str) -> Vec<u8> {
    serde_json::to_vec(&text_message_webhook(
        phone_number_id,
        CUSTOMER,
        wamid,
        timestamp,
        text,
    ))
    .expect("json")
}

/// Overwrites the object under `key`: what a parser that now accepts the body amounts to.
async fn rewrite_quarantined(t: &TestStack, key: &str, body: &[u8]) {
    switchboard_platform::aws::s3_client(&t.stack.sdk)
        .put_object()
        .bucket(t.config().data_bucket)
        .key(key)
        .body(body.to_vec().into())
        .send()
        .await
        .expect("rewrite the quarantined body");
}

async fn wait_for_messages(t: &TestStack, count: usize) -> Vec<Value> {
    let conversation = t.first_conversation().await;
    eventually(&format!("{count} messages"), WAIT, || async {
        let messages = t.messages(&conversation).await;
        (messages.len() >= count).then_some(messages)
    })
    .await
}

async fn unrouted(t: &TestStack, phone_number_id: &str) -> usize {
    t.stack
        .store
        .list_unrouted(phone_number_id, 100, time::OffsetDateTime::now_utc())
        .await
        .expect("list unrouted")
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_quarantined_body_is_listed_replayed_once_fixed_and_then_gone() {
    let t = spawn_stack().await;
    // Verifies, does not parse: quarantined and acknowledged.
    let broken = b"{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":";
    assert_eq!(t.post_signed(broken).await, 200);
    let keys = t.quarantined().await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = keys[0].clone();

    let listed = ops(&t, json!({"op": "list_quarantine"})).await;
    assert_eq!(
        listed,
        json!({"op": "list_quarantine", "keys": [key], "more": false})
    );

    // Not fixed yet: a typed answer, and the body stays.
    let still = ops(&t, json!({"op": "replay_quarantine", "key": key})).await;
    assert_eq!(error_kind(&still), "still_unparseable", "{still}");
    assert_eq!(still["error"]["retryable"], false, "{still}");
    assert_eq!(t.quarantined().await, vec![key.clone()]);

    // A parser that accepts it now: the same key holds a body that parses.
    rewrite_quarantined(
        &t,
        &key,
        &text_body(PHONE_NUMBER_ID, "wamid.OPSQ1", 1_750_000_000, "found again"),
    )
    .await;
    let replayed = ops(&t, json!({"op": "replay_quarantine", "key": key})).await;
    assert_eq!(
        replayed,
        json!({"op": "replay_quarantine", "key": key, "events": 1, "enqueued": 1, "duplicates": 0})
    );
    let messages = wait_for_messages(&t, 1).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["text"], "found again");
    assert!(
        t.quarantined().await.is_empty(),
        "the replayed body is removed"
    );

    let again = ops(&t, json!({"op": "replay_quarantine", "key": key})).await;
    assert_eq!(error_kind(&again), "not_found", "{again}");
    assert_eq!(again["op"], "replay_quarantine");
    assert_eq!(
        ops(&t, json!({"op": "list_quarantine", "limit": 10})).await,
        json!({"op": "list_quarantine", "keys": [], "more": false})
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(wait_for_messages(&t, 1).await.len(), 1, "stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_that_are_not_commands_are_typed_errors() {
    let t = spawn_stack().await;
    for payload in [
        json!({"op": "drop_everything"}),
        json!({"op": "replay_quarantine"}),
        json!({"op": "list_quarantine", "limit": 0}),
        json!({"op": "list_quarantine", "limit": 501}),
        json!({"op": "list_quarantine", "extra": true}),
        json!({"op": "replay_quarantine", "key": "events/abc.json"}),
        json!({"op": "replay_unrouted", "phone_number_id": "1#2"}),
        json!({"op": "replay_unrouted", "phone_number_id": NEW_NUMBER, "limit": 101}),
        json!("list_quarantine"),
    ] {
        let answer = ops(&t, payload.clone()).await;
        assert_eq!(
            error_kind(&answer),
            "invalid_command",
            "{payload} -> {answer}"
        );
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
    assert_eq!(
        ops(&t, json!({"op": "replay_quarantine"})).await["op"],
        "replay_quarantine"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replay_whose_enqueue_fails_keeps_the_body_and_the_next_one_gets_through() {
    let t = spawn_stack().await;
    let q = quarantine(&t);
    let now = time::OffsetDateTime::now_utc();
    let key = q
        .put(
            &text_body(
                PHONE_NUMBER_ID,
                "wamid.OPSF1",
                1_750_000_000,
                "after a failure",
            ),
            "test",
            now,
        )
        .await
        .expect("quarantined");
    // A body whose event already arrived through the webhook: a duplicate.
    let delivered = text_body(PHONE_NUMBER_ID, "wamid.OPSF2", 1_750_000_001, "delivered");
    assert_eq!(t.post_signed(&delivered).await, 200);
    let duplicate = q.put(&delivered, "test", now).await.expect("quarantined");

    let listed = ops(&t, json!({"op": "list_quarantine", "limit": 1})).await;
    assert_eq!(listed["keys"].as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed["more"], true, "{listed}");

    t.stack.aws_calls.inject(AwsFault {
        function: Some(OPERATIONS.into()),
        action: "sqs:SendMessage".into(),
        body_contains: None,
        phase: FaultPhase::BeforeSend,
        times: 1000,
    });
    let failed = ops(&t, json!({"op": "replay_quarantine", "key": key})).await;
    assert_eq!(error_kind(&failed), "aws", "{failed}");
    assert_eq!(failed["error"]["retryable"], true, "{failed}");
    assert!(t.stack.aws_calls.injected() > 0, "the fault struck");
    assert!(t.quarantined().await.contains(&key), "the body stays");
    t.stack.aws_calls.clear_faults();

    // The claim was released: the retry enqueues the event, it is not taken for a duplicate.
    let replayed = ops(&t, json!({"op": "replay_quarantine", "key": key})).await;
    assert_eq!(replayed["enqueued"], 1, "{replayed}");
    assert_eq!(replayed["duplicates"], 0, "{replayed}");
    let dup = ops(&t, json!({"op": "replay_quarantine", "key": duplicate})).await;
    assert_eq!(dup["events"], 1, "{dup}");
    assert_eq!(dup["enqueued"], 0, "{dup}");
    assert_eq!(dup["duplicates"], 1, "{dup}");
    assert!(t.quarantined().await.is_empty());

    let messages = wait_for_messages(&t, 2).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let messages_later = wait_for_messages(&t, 2).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages_later.len(), 2, "each message stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_quarantined_body_with_an_oversize_event_replays_through_s3() {
    let t = spawn_stack().await;
    let big = json!({
        "from": CUSTOMER, "id": "wamid.OPSBIG1", "timestamp": "1750000000", "type": "hologram",
        "hologram": { "frames": "x".repeat(300_000) }
    });
    let mut body = text_message_webhook(PHONE_NUMBER_ID, CUSTOMER, "unused", 0, "");
    body["entry"][0]["changes"][0]["value"]["messages"] = json!([big]);
    let body = serde_json::to_vec(&body).expect("json");
    let key = quarantine(&t)
        .put(
            &body,
            "event exceeds the queue message limit",
            time::OffsetDateTime::now_utc(),
        )
        .await
        .expect("quarantined");

    let replayed = ops(&t, json!({"op": "replay_quarantine", "key": key})).await;
    assert_eq!(replayed["enqueued"], 1, "{replayed}");
    let messages = wait_for_messages(&t, 1).await;
    assert_eq!(messages[0]["wamid"], "wamid.OPSBIG1");
    assert_eq!(messages[0]["message_type"], "hologram");
    let puts = t
        .stack
        .aws_calls
        .calls()
        .into_iter()
        .filter(|c| c.function == OPERATIONS && c.operation == "PutObject")
        .count();
    assert_eq!(puts, 1, "the event went through S3");
    assert!(t.quarantined().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unrouted_events_are_replayed_once_their_number_is_onboarded() {
    let t = spawn_stack().await;
    let texts = ["first", "second", "third"];
    for (n, text) in (0..).zip(texts) {
        let body = text_body(
            NEW_NUMBER,
            &format!("wamid.OPSU{n}"),
            1_750_000_000 + n,
            text,
        );
        assert_eq!(t.post_signed(&body).await, 200);
    }
    eventually("three unrouted events", WAIT, || async {
        (unrouted(&t, NEW_NUMBER).await == 3).then_some(())
    })
    .await;
    let (_, convs) = t.api_get("/v1/conversations").await;
    assert_eq!(convs["data"], json!([]), "they reached no tenant");

    // Not onboarded yet: nothing is replayed, nothing deleted.
    let early = ops(
        &t,
        json!({"op": "replay_unrouted", "phone_number_id": NEW_NUMBER}),
    )
    .await;
    assert_eq!(error_kind(&early), "not_routed", "{early}");
    assert_eq!(unrouted(&t, NEW_NUMBER).await, 3);

    t.stack
        .store
        .put_phone_route(&PhoneRoute {
            phone_number_id: PhoneNumberId::new(NEW_NUMBER),
            tenant_id: TenantId::new("acme"),
            waba_id: WABA_ID.into(),
            display_phone_number: "15550789999".into(),
            messages_per_second: None,
        })
        .await
        .expect("onboard the number");

    let page = ops(
        &t,
        json!({"op": "replay_unrouted", "phone_number_id": NEW_NUMBER, "limit": 2}),
    )
    .await;
    assert_eq!(
        page,
        json!({
            "op": "replay_unrouted", "phone_number_id": NEW_NUMBER, "tenant_id": "acme",
            "listed": 2, "enqueued": 2, "deleted": 2, "not_deleted": 0, "undecodable": [],
            "next": {"op": "replay_unrouted", "phone_number_id": NEW_NUMBER, "limit": 2}
        })
    );
    let rest = ops(&t, page["next"].clone()).await;
    assert_eq!(rest["listed"], 1, "{rest}");
    assert_eq!(rest["enqueued"], 1, "{rest}");
    assert_eq!(rest["deleted"], 1, "{rest}");
    assert_eq!(rest["next"], Value::Null, "{rest}");
    assert_eq!(unrouted(&t, NEW_NUMBER).await, 0, "the records are gone");

    let messages = wait_for_messages(&t, 3).await;
    let got: Vec<&str> = messages.iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(got, texts, "in the tenant's conversation, oldest first");

    let again = ops(
        &t,
        json!({"op": "replay_unrouted", "phone_number_id": NEW_NUMBER}),
    )
    .await;
    assert_eq!(again["listed"], 0, "{again}");
    assert_eq!(again["enqueued"], 0, "{again}");
    assert_eq!(again["next"], Value::Null, "{again}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(wait_for_messages(&t, 3).await.len(), 3, "each stored once");
    let (_, convs) = t.api_get("/v1/conversations").await;
    assert_eq!(convs["data"].as_array().map(Vec::len), Some(1), "{convs}");
}
