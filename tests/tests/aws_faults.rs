//! AWS failing under the functions, injected between each function's SDK and moto: DynamoDB
//! and SQS throttling, SQS failing outright, KMS failing and throttling. Each test counts what
//! was stored and sent: throttled calls are retried and nothing is lost or doubled, and a
//! business token KMS cannot open is never replaced by anything else: nothing is sent until it
//! opens, then the message goes once, with that token. A STOP whose confirmation could not be
//! stored is confirmed once when the record comes back.

use serde_json::json;
use std::time::Duration;
use switchboard_dev::aws_calls::{AwsFault, FaultPhase};
use switchboard_e2e::*;

const WEBHOOK: &str = "WebhookFunction";
const INBOUND: &str = "InboundFunction";
const OUTBOUND: &str = "OutboundFunction";

fn fault(function: &str, action: &str, phase: FaultPhase, times: u32) -> AwsFault {
    AwsFault {
        function: Some(function.into()),
        action: action.into(),
        body_contains: None,
        phase,
        times,
    }
}

fn customer_text(from: &str, wamid: &str, body: &str) -> Vec<u8> {
    serde_json::to_vec(&text_message_webhook(
        PHONE_NUMBER_ID,
        from,
        wamid,
        time::OffsetDateTime::now_utc().unix_timestamp(),
        body,
    ))
    .expect("json")
}

async fn stored_once(t: &TestStack) {
    let conversation = t.first_conversation().await;
    eventually("the message", WAIT, || async {
        (!t.messages(&conversation).await.is_empty()).then_some(())
    })
    .await;
    // Anything doubled by a retry would have landed by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(t.messages(&conversation).await.len(), 1, "stored once");
}

async fn sent_to(t: &TestStack, to: &str) -> Vec<serde_json::Value> {
    t.sandbox_sent()
        .await
        .into_iter()
        .filter(|s| s["body"]["to"] == to)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throttled_dynamodb_and_sqs_calls_are_retried_and_the_message_is_stored_once() {
    let t = spawn_stack().await;
    // Within the SDK's three attempts, so every throttled call is retried in the same
    // invocation; the webhook's once, as its backoff must fit Meta's patience (3 s a call).
    for (function, action, times) in [
        (WEBHOOK, "dynamodb:PutItem", 1),
        (WEBHOOK, "sqs:SendMessage", 1),
        (INBOUND, "dynamodb:TransactWriteItems", 2),
        (INBOUND, "dynamodb:UpdateItem", 2),
    ] {
        t.stack
            .aws_calls
            .inject(fault(function, action, FaultPhase::Throttled, times));
    }
    let body = customer_text(
        "15551231010",
        "wamid.HBgLMTU1NTEyMzEwMTAVAgASGBQzQUVCMDAwMDAwMDAwMDAwMDAwMQA=",
        "is the shop open?",
    );
    assert_eq!(t.post_signed(&body).await, 200);
    stored_once(&t).await;
    assert_eq!(t.stack.aws_calls.injected(), 6, "every throttle struck");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_sqs_refuses_is_not_acknowledged_and_meta_s_retry_stores_it_once() {
    let t = spawn_stack().await;
    let body = customer_text(
        "15551231020",
        "wamid.HBgLMTU1NTEyMzEwMjAVAgASGBQzQUVCMDAwMDAwMDAwMDAwMDAwMQA=",
        "do you deliver?",
    );
    t.stack.aws_calls.inject(fault(
        WEBHOOK,
        "sqs:SendMessage",
        FaultPhase::BeforeSend,
        1000,
    ));
    let refused = t.post_signed(&body).await;
    assert!(
        refused.is_server_error(),
        "not durable, not acknowledged: {refused}"
    );
    assert_eq!(
        t.queue_depth(&t.config().inbound_queue_url).await,
        0,
        "nothing queued"
    );
    t.stack.aws_calls.clear_faults();
    // Meta retries the same body.
    assert_eq!(t.post_signed(&body).await, 200);
    stored_once(&t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_kms_cannot_open_sends_nothing_until_it_opens_then_once_with_that_token() {
    let t = spawn_stack().await;
    let to = "15551231030";
    t.open_window("acme", to).await;
    t.stack.aws_calls.inject(fault(
        OUTBOUND,
        "kms:Decrypt",
        FaultPhase::BeforeSend,
        u32::MAX,
    ));
    let (status, accepted) = t
        .api_post(
            "/v1/messages",
            &json!({ "phone_number_id": PHONE_NUMBER_ID, "to": to, "text": { "body": "Your table is ready" } }),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_owned();
    eventually("the send to be tried against KMS", WAIT, || async {
        (t.stack.aws_calls.injected() >= 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        sent_to(&t, to).await.is_empty(),
        "nothing goes without the tenant's own token"
    );
    let (_, message) = t.api_get(&format!("/v1/messages/{id}")).await;
    assert_eq!(message["status"], "queued", "{message}");

    // KMS recovers, throttling twice first.
    t.stack.aws_calls.clear_faults();
    t.stack
        .aws_calls
        .inject(fault(OUTBOUND, "kms:Decrypt", FaultPhase::Throttled, 2));
    t.wait_for_status(&id, "read").await;
    let sent = sent_to(&t, to).await;
    assert_eq!(sent.len(), 1, "sent once: {sent:?}");
    assert_eq!(
        sent[0]["access_token_sha256"].as_str(),
        Some(sha256_hex(ACCESS_TOKEN).as_str()),
        "with the tenant's token, which only KMS opens"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stop_whose_confirmation_was_not_stored_is_confirmed_once_when_it_comes_back() {
    let t = spawn_stack_with(Options {
        poll_visibility: Some(Duration::from_secs(2)),
        ..Options::default()
    })
    .await;
    let to = "15551238001";
    // The opt-out is stored; the confirmation's write is refused once, so the record fails
    // after the opt-out and before its confirmation, and comes back.
    t.stack.aws_calls.inject(AwsFault {
        body_contains: Some("no longer receive marketing messages".into()),
        ..fault(
            INBOUND,
            "dynamodb:TransactWriteItems",
            FaultPhase::BeforeSend,
            1,
        )
    });
    assert_eq!(
        t.post_signed(&customer_text(to, "wamid.stop-fault", "STOP"))
            .await,
        200
    );
    let confirmations = eventually("the confirmation at Meta", WAIT, || async {
        let sent = sent_to(&t, to).await;
        (!sent.is_empty()).then_some(sent)
    })
    .await;
    assert_eq!(t.stack.aws_calls.injected(), 1, "the fault struck");
    // Another delivery of the record would have sent by now.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let confirmations_later = sent_to(&t, to).await;
    assert_eq!(confirmations.len(), 1, "{confirmations:?}");
    assert_eq!(confirmations_later.len(), 1, "{confirmations_later:?}");
    assert!(
        confirmations_later[0]["body"]["text"]["body"]
            .as_str()
            .is_some_and(|b| b.contains("Reply START")),
        "{confirmations_later:?}"
    );
    let (status, contact) = t.api_get(&format!("/v1/contacts/{to}")).await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["consent"]["marketing"]["state"], "opted_out");
    assert!(
        contact["consent"]["marketing"]["opted_out_by"]
            .as_str()
            .is_some_and(|id| id.starts_with("msg_")),
        "{contact}"
    );
}
