//! Crash points, each with a count of what was sent and stored: AWS calls are failed at the
//! exact step (before they reach the emulator, or after it applied them), the Graph API
//! accepts and then goes silent, invocations are cut off, and the clock skips past leases.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use switchboard_dev::aws_calls::{AwsFault, FaultPhase};
use switchboard_e2e::*;

const OUTBOUND: &str = "OutboundFunction";
const WEBHOOK: &str = "WebhookFunction";
const API: &str = "ApiFunction";
/// Every try of the SDK's retry strategy, and then some.
const ALWAYS: u32 = 1000;

fn fault(function: &str, action: &str, contains: Option<&str>, phase: FaultPhase) -> AwsFault {
    AwsFault {
        function: Some(function.into()),
        action: action.into(),
        body_contains: contains.map(Into::into),
        phase,
        times: ALWAYS,
    }
}

async fn send(t: &TestStack, to: &str, body: &str, key: Option<&str>) -> (u16, Value) {
    t.open_window("acme", to).await;
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    let (status, answer) = t
        .api_post(
            "/v1/messages",
            &json!({ "phone_number_id": PHONE_NUMBER_ID, "to": to, "text": { "body": body } }),
            &headers,
        )
        .await;
    (status.as_u16(), answer)
}

async fn sent_to(t: &TestStack, to: &str) -> usize {
    t.sandbox_sent()
        .await
        .iter()
        .filter(|s| s["body"]["to"] == to)
        .count()
}

async fn redeliver(t: &TestStack, message_id: &str, to: &str, times: usize) {
    let job = json!({ "tenant_id": "acme", "message_id": message_id }).to_string();
    let queue = switchboard_platform::queue::Queue::new(
        aws_sdk_sqs::Client::new(&t.stack.sdk),
        t.config().outbound_queue_url,
    );
    for n in 0..times {
        queue
            .send_fifo(
                &job,
                &format!("acme:wa:{to}"),
                &format!("{message_id}-again-{n}"),
            )
            .await
            .expect("enqueue");
    }
    eventually("the outbound queue to drain", WAIT, || async {
        (t.queue_depth(&t.config().outbound_queue_url).await == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn completion_fails_after_graph_accepted_and_the_message_is_sent_once() {
    let t = spawn_stack().await;
    // The claim's completion is applied by DynamoDB but its answer never arrives, every time.
    t.stack.aws_calls.inject(fault(
        OUTBOUND,
        "dynamodb:UpdateItem",
        Some("COMPLETED"),
        FaultPhase::AfterSend,
    ));
    let to = "15551230001";
    let (status, accepted) = send(&t, to, "once", None).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_owned();
    let read = t.wait_for_status(&id, "read").await;
    assert!(read["wamid"].is_string(), "{read}");
    assert!(t.stack.aws_calls.injected() > 0, "the fault struck");

    // Redeliveries, during the send's lease and long after its invocation would have ended.
    redeliver(&t, &id, to, 2).await;
    t.stack.clock.skip(time::Duration::minutes(10));
    redeliver(&t, &id, to, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sent_to(&t, to).await, 1, "one send for one message");
    assert_eq!(t.message(&id).await["status"], "read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_send_that_cannot_be_recorded_is_recorded_from_its_status_webhooks() {
    let t = spawn_stack().await;
    // Neither the claim's completion nor the wamid pointer can be written by the outbound
    // function: the send is known only to Meta, and to the statuses Meta sends back.
    t.stack.aws_calls.inject(fault(
        OUTBOUND,
        "dynamodb:UpdateItem",
        Some("COMPLETED"),
        FaultPhase::BeforeSend,
    ));
    t.stack.aws_calls.inject(fault(
        OUTBOUND,
        "dynamodb:PutItem",
        Some("wamid."),
        FaultPhase::BeforeSend,
    ));
    let to = "15551230002";
    let (status, accepted) = send(&t, to, "repair me", None).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_owned();

    let read = t.wait_for_status(&id, "read").await;
    let sent = t.sandbox_sent().await;
    let ours: Vec<&Value> = sent.iter().filter(|s| s["body"]["to"] == to).collect();
    assert_eq!(ours.len(), 1, "{sent:?}");
    assert_eq!(ours[0]["body"]["biz_opaque_callback_data"], id.as_str());
    assert_eq!(read["wamid"], ours[0]["wamid"], "{read}");

    redeliver(&t, &id, to, 1).await;
    t.stack.clock.skip(time::Duration::minutes(10));
    redeliver(&t, &id, to, 1).await;
    assert_eq!(sent_to(&t, to).await, 1, "never sent again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_send_meta_never_answers_is_not_sent_again_and_its_statuses_correct_the_record() {
    let t = spawn_stack().await;
    // Longer than the Graph client's timeout: the send goes out, the answer never comes.
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "lose_answer", "times": 1, "delay_ms": 12_000 }),
    )
    .await;
    let to = "15551230003";
    let (status, accepted) = send(&t, to, "did it go?", None).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_owned();

    // The sandbox's statuses arrive first (they carry our id) and record the send; the
    // timed-out call afterwards must neither send again nor undo that.
    let read = t.wait_for_status(&id, "read").await;
    assert!(read["wamid"].is_string(), "{read}");
    tokio::time::sleep(Duration::from_secs(12)).await;
    redeliver(&t, &id, to, 1).await;
    assert_eq!(sent_to(&t, to).await, 1, "not sent again");
    assert_eq!(t.message(&id).await["status"], "read");
}

fn record(id: &str, job: &Value, group: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.body = Some(job.to_string());
    m.attributes.insert("MessageGroupId".into(), group.into());
    m.attributes
        .insert("ApproximateReceiveCount".into(), "1".into());
    m
}

/// A message stored as the API stores it, but not queued: these tests deliver its job
/// themselves, so no poller of the stack races them.
async fn queued(t: &TestStack, to: &str, body: &str) -> String {
    use switchboard_domain::outbound::OutboundPayload;
    use switchboard_domain::{ContactKey, MessageId, PhoneNumberId, TenantId};
    t.open_window("acme", to).await;
    let id = MessageId::generate();
    let payload = OutboundPayload::Text {
        body: body.into(),
        preview_url: false,
    };
    t.stack
        .store
        .create_outbound_message(
            &TenantId::new("acme"),
            &switchboard_store::NewOutboundMessage {
                message_id: id.clone(),
                phone_number_id: PhoneNumberId::new(PHONE_NUMBER_ID),
                to: ContactKey::WaId(to.into()),
                message_type: "text".into(),
                text: Some(body.into()),
                body_json: serde_json::to_string(&payload).expect("json"),
                created_at: time::OffsetDateTime::now_utc(),
            },
        )
        .await
        .expect("stored");
    id.to_string()
}

/// One stored message per recipient and a batch of their jobs, records named `{prefix}{n}`.
async fn batch(t: &TestStack, recipients: &[&str], prefix: &str) -> (SqsEvent, Vec<String>) {
    let mut event = SqsEvent::default();
    let mut ids = Vec::new();
    for (n, to) in recipients.iter().enumerate() {
        let id = queued(t, to, "batch").await;
        let job = json!({ "tenant_id": "acme", "message_id": id });
        event.records.push(record(
            &format!("{prefix}{n}"),
            &job,
            &format!("acme:wa:{to}"),
        ));
        ids.push(id);
    }
    (event, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_invocation_cut_off_mid_batch_loses_nothing_and_sends_nothing_twice() {
    let t = spawn_stack_with(Options {
        sandbox_statuses: false,
        ..Options::default()
    })
    .await;
    // The sandbox answers the first send after 3 s; the invocation is cut off after 1 s,
    // in the middle of that Graph call, as Lambda's timeout would.
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "lose_answer", "times": 1, "delay_ms": 3_000, "to": "15551230010" }),
    )
    .await;
    let recipients = ["15551230010", "15551230011", "15551230012"];
    let (event, ids) = batch(&t, &recipients, "r").await;
    let far = Instant::now() + Duration::from_secs(600);
    let cut = tokio::time::timeout(
        Duration::from_secs(1),
        switchboard_outbound::handle_batch(&t.stack.outbound, event.clone(), far),
    )
    .await;
    assert!(cut.is_err(), "the invocation was cut off");

    // The whole batch comes back, now and once more after the first send's lease.
    let again = switchboard_outbound::handle_batch(&t.stack.outbound, event.clone(), far).await;
    t.stack.clock.skip(time::Duration::minutes(10));
    let last = switchboard_outbound::handle_batch(&t.stack.outbound, event, far).await;
    assert!(
        last.batch_item_failures.is_empty(),
        "{again:?} then {last:?}"
    );
    for id in &ids[1..] {
        t.wait_for_status(id, "sent").await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for to in recipients {
        assert_eq!(sent_to(&t, to).await, 1, "{to}: exactly one send");
    }
    // The cut-off send went out, but no answer was recorded: unconfirmed, never resent.
    let first = t.message(&ids[0]).await;
    assert_eq!(first["status"], "failed", "{first}");
    assert_eq!(
        first["error"]["title"],
        switchboard_outbound::UNCONFIRMED_TITLE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_starts_no_record_it_has_no_time_to_finish() {
    let t = spawn_stack_with(Options {
        sandbox_statuses: false,
        ..Options::default()
    })
    .await;
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "delay", "times": 1, "delay_ms": 2_000, "to": "15551230020" }),
    )
    .await;
    let recipients = ["15551230020", "15551230021", "15551230022"];
    let (mut event, ids) = batch(&t, &recipients, "d").await;
    // One message group, so its records run one after another (groups run concurrently).
    for record in &mut event.records {
        record
            .attributes
            .insert("MessageGroupId".into(), "acme:wa:one-group".into());
    }
    // Enough time for one record; the first takes 2 s of it.
    let deadline = Instant::now() + switchboard_outbound::RECORD_BUDGET + Duration::from_secs(1);
    let response =
        switchboard_outbound::handle_batch(&t.stack.outbound, event.clone(), deadline).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert!(
        !failed.contains(&"d0") && failed.contains(&"d1") && failed.contains(&"d2"),
        "the first record done, the rest returned: {failed:?}"
    );
    t.wait_for_status(&ids[0], "sent").await;
    // The returned records are sent by their next delivery.
    let far = Instant::now() + Duration::from_secs(600);
    let next = switchboard_outbound::handle_batch(&t.stack.outbound, event, far).await;
    assert!(next.batch_item_failures.is_empty(), "{next:?}");
    for id in &ids[1..] {
        t.wait_for_status(id, "sent").await;
    }
    for to in recipients {
        assert_eq!(sent_to(&t, to).await, 1, "{to}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_claimer_that_dies_before_enqueueing_is_not_acknowledged_on_retry() {
    let t = spawn_stack().await;
    let body = serde_json::to_vec(&text_message_webhook(
        PHONE_NUMBER_ID,
        "15551230030",
        "wamid.HBgLMTU1NTEyMzAwMzAVAgASGBQzQUVCMDAwMDAwMDAwMDAwMDAwMQA=",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        "anyone there?",
    ))
    .expect("json");
    // The claimer dies between claim and enqueue: the enqueue fails and so does the release.
    t.stack.aws_calls.inject(fault(
        WEBHOOK,
        "sqs:SendMessage",
        None,
        FaultPhase::BeforeSend,
    ));
    t.stack.aws_calls.inject(fault(
        WEBHOOK,
        "dynamodb:DeleteItem",
        None,
        FaultPhase::BeforeSend,
    ));
    assert!(t.post_signed(&body).await.is_server_error());
    t.stack.aws_calls.clear_faults();

    // Meta retries while the dead claim still holds: not acknowledged, or the event is lost.
    let retry = t.post_signed(&body).await;
    assert_eq!(
        retry, 503,
        "an event in progress elsewhere is not acknowledged"
    );
    // Once the claim's lease is over, the next retry takes it and queues the event.
    t.stack
        .clock
        .skip(switchboard_webhook::CLAIM_FOR + time::Duration::seconds(1));
    assert_eq!(t.post_signed(&body).await, 200);
    assert_eq!(
        t.post_signed(&body).await,
        200,
        "a completed event is a duplicate"
    );

    let conversation = t.first_conversation().await;
    let messages = eventually("the message", WAIT, || async {
        let m = t.messages(&conversation).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(t.messages(&conversation).await.len(), 1, "stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_idempotency_key_sent_concurrently_sends_one_message() {
    let t = spawn_stack().await;
    let to = "15551230040";
    let attempts =
        futures::future::join_all((0..6).map(|_| send(&t, to, "same request", Some("order-1001"))))
            .await;
    let ids: std::collections::BTreeSet<String> = attempts
        .iter()
        .filter(|(status, _)| *status == 202)
        .filter_map(|(_, a)| a["id"].as_str().map(str::to_owned))
        .collect();
    for (status, answer) in &attempts {
        assert!(
            *status == 202 || *status == 409,
            "202, or 409 while the first is in progress: {status} {answer}"
        );
        if *status == 409 {
            assert_eq!(answer["status"], 409);
        }
    }
    assert_eq!(ids.len(), 1, "{attempts:?}");
    let id = ids.into_iter().next().unwrap_or_default();
    t.wait_for_status(&id, "read").await;

    let (status, answer) = send(&t, to, "another body", Some("order-1001")).await;
    assert_eq!(status, 422, "{answer}");
    let (status, again) = send(&t, to, "same request", Some("order-1001")).await;
    assert_eq!((status, again["id"].as_str()), (202, Some(id.as_str())));
    assert_eq!(sent_to(&t, to).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_after_a_crashed_request_sends_the_message_once() {
    let t = spawn_stack().await;
    let to = "15551230050";
    // The request stores the message, then dies: the enqueue fails, and so does every
    // clean-up (marking it failed, releasing the key), as if the process were gone.
    t.stack
        .aws_calls
        .inject(fault(API, "sqs:SendMessage", None, FaultPhase::BeforeSend));
    t.stack.aws_calls.inject(fault(
        API,
        "dynamodb:UpdateItem",
        Some("failed"),
        FaultPhase::BeforeSend,
    ));
    t.stack.aws_calls.inject(fault(
        API,
        "dynamodb:DeleteItem",
        None,
        FaultPhase::BeforeSend,
    ));
    let (status, answer) = send(&t, to, "after a crash", Some("order-2002")).await;
    assert_eq!(status, 503, "{answer}");
    t.stack.aws_calls.clear_faults();

    // While the dead request's claim holds, a retry is told to wait.
    let (status, answer) = send(&t, to, "after a crash", Some("order-2002")).await;
    assert_eq!(status, 409, "{answer}");
    // After it, the retry names the same message, finds it stored, and queues it.
    t.stack.clock.skip(time::Duration::minutes(2));
    let (status, accepted) = send(&t, to, "after a crash", Some("order-2002")).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_owned();
    t.wait_for_status(&id, "read").await;
    let conversation = accepted["conversation_id"].as_str().expect("conversation");
    let outbound = t
        .messages(conversation)
        .await
        .into_iter()
        .filter(|m| m["direction"] == "outbound")
        .count();
    assert_eq!(outbound, 1, "stored once");
    assert_eq!(sent_to(&t, to).await, 1, "sent once");
}
