//! Records a consumer gives up on: an outbound job that fails on every receive is kept in the
//! dead-letter queue with the reason its function recorded, listed by the operations
//! function, and once the cause is gone redriven and sent exactly once; the inbound and media
//! functions keep their records' last failures the same way; records SQS moved by itself are
//! listed without a reason and go back to their own queue.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchboard_dev::aws_calls::{AwsFault, FaultPhase};
use switchboard_domain::jobs::MediaJob;
use switchboard_domain::media::MediaKind;
use switchboard_domain::{MessageId, TenantId};
use switchboard_e2e::*;

const OPERATIONS: &str = "OperationsFunction";
const INBOUND: &str = "InboundFunction";
const MEDIA: &str = "MediaFunction";
/// InboundQueue's and MediaQueue's maxReceiveCount.
const MAX_RECEIVES: u32 = 5;

async fn ops(t: &TestStack, payload: Value) -> Value {
    let answer = switchboard_operations::handle(&t.stack.operations, payload).await;
    serde_json::to_value(answer).expect("answers are JSON")
}

/// A batch of one record as Lambda hands it over on its `receives`th receive: waiting for
/// real redeliveries would take the queue's visibility timeout each time.
fn one_record(message_id: &str, body: &str, receives: u32) -> SqsEvent {
    let mut record = SqsMessage::default();
    record.message_id = Some(message_id.to_owned());
    record.body = Some(body.to_owned());
    record
        .attributes
        .insert("ApproximateReceiveCount".into(), receives.to_string());
    let mut event = SqsEvent::default();
    event.records = vec![record];
    event
}

async fn dead_letters(t: &TestStack, queue: &str) -> Vec<Value> {
    let answer = ops(t, json!({ "op": "list_dead_letters", "queue": queue })).await;
    answer["dead_letters"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("a listing: {answer}"))
}

/// The inbound function's state as its Lambda builds it, its AWS calls recorded as its own
/// and its metrics with the stack's.
fn inbound_state(t: &TestStack) -> Arc<switchboard_inbound::InboundState> {
    let config = t.stack.function_config(INBOUND).expect("inbound config");
    let mut state =
        switchboard_inbound::init(&config, &t.stack.aws_calls.sdk_for(INBOUND, &t.stack.sdk));
    Arc::get_mut(&mut state).expect("a fresh state").metrics = Arc::new(t.stack.metrics.clone());
    state
}

fn dead_letter_queue(t: &TestStack, name: &str) -> String {
    t.stack
        .function_config(OPERATIONS)
        .expect("operations config")
        .dead_letter_queues
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} dead-letter queue"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_that_fails_every_receive_is_kept_with_its_reason_and_sends_once_when_redriven() {
    let t = spawn_stack().await;
    let to = "15551232010";
    t.open_window("acme", to).await;
    t.stack.aws_calls.inject(AwsFault {
        function: Some("OutboundFunction".into()),
        action: "kms:Decrypt".into(),
        body_contains: None,
        phase: FaultPhase::BeforeSend,
        times: u32::MAX,
    });
    let (status, accepted) = t
        .api_post(
            "/v1/messages",
            &json!({ "phone_number_id": PHONE_NUMBER_ID, "to": to, "text": { "body": "Your order shipped" } }),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_owned();

    let listed = eventually(
        "the job in the dead-letter queue",
        Duration::from_secs(90),
        || async {
            let answer = ops(
                &t,
                json!({ "op": "list_dead_letters", "queue": "outbound" }),
            )
            .await;
            let letters = answer["dead_letters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            (!letters.is_empty()).then_some(letters)
        },
    )
    .await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let letter = &listed[0];
    let reason = letter["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("business token could not be opened"),
        "the function's own reason: {letter}"
    );
    assert_eq!(
        letter["receives"], 8,
        "OutboundQueue's maxReceiveCount: {letter}"
    );
    assert!(letter["source_message_id"].is_string(), "{letter}");
    assert!(letter["body_bytes"].as_u64().unwrap_or_default() > 0);
    assert!(letter.get("body").is_none(), "bodies are not shown");
    assert_eq!(
        t.queue_depth(&t.config().outbound_queue_url).await,
        0,
        "kept once, not also left on its queue"
    );
    let (_, message) = t.api_get(&format!("/v1/messages/{id}")).await;
    assert_eq!(message["status"], "queued", "{message}");
    assert!(t.sandbox_sent().await.is_empty(), "nothing sent");

    // The cause is fixed: the job goes back, and is sent once.
    t.stack.aws_calls.clear_faults();
    let redriven = ops(
        &t,
        json!({ "op": "redrive_dead_letters", "queue": "outbound" }),
    )
    .await;
    assert_eq!(redriven["redriven"], 1, "{redriven}");
    assert_eq!(redriven["not_deleted"], 0, "{redriven}");
    t.wait_for_status(&id, "read").await;
    let sent: Vec<Value> = t
        .sandbox_sent()
        .await
        .into_iter()
        .filter(|s| s["body"]["to"] == to)
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        t.queue_depth(&dead_letter_queue(&t, "outbound")).await,
        0,
        "gone from the dead-letter queue"
    );
    let again = ops(
        &t,
        json!({ "op": "redrive_dead_letters", "queue": "outbound" }),
    )
    .await;
    assert_eq!(again["redriven"], 0, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn records_sqs_moved_are_listed_without_a_reason_and_go_back_to_their_own_queue() {
    let t = spawn_stack().await;
    let sqs = aws_sdk_sqs::Client::new(&t.stack.sdk);
    let config = t.stack.function_config(OPERATIONS).expect("config");
    let sources = [
        ("inbound", config.inbound_queue_url.clone()),
        (
            "media",
            config.media_queue_url.clone().expect("media queue"),
        ),
    ];
    for (name, _) in &sources {
        // What SQS's own redrive leaves: the body as it was, nothing more.
        sqs.send_message()
            .queue_url(dead_letter_queue(&t, name))
            .message_body(format!("{{\"not\": \"a {name} record\"}}"))
            .send()
            .await
            .expect("dead letter");
    }
    for (name, source) in &sources {
        let listed = ops(&t, json!({ "op": "list_dead_letters", "queue": name })).await;
        let letters = listed["dead_letters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(letters.len(), 1, "{listed}");
        assert!(letters[0].get("reason").is_none(), "{listed}");
        assert_eq!(
            t.queue_depth(&dead_letter_queue(&t, name)).await,
            1,
            "a listing leaves it in place"
        );
        let redriven = ops(&t, json!({ "op": "redrive_dead_letters", "queue": name })).await;
        assert_eq!(redriven["redriven"], 1, "{redriven}");
        assert_eq!(t.queue_depth(&dead_letter_queue(&t, name)).await, 0);
        assert!(
            t.queue_depth(source).await >= 1,
            "back on the {name} queue (or being received from it)"
        );
    }
    let unknown = ops(&t, json!({ "op": "list_dead_letters", "queue": "webhook" })).await;
    assert_eq!(unknown["error"]["kind"], "invalid_command", "{unknown}");
    let out_of_range = ops(
        &t,
        json!({ "op": "redrive_dead_letters", "queue": "outbound", "limit": 0 }),
    )
    .await;
    assert_eq!(out_of_range["error"]["kind"], "invalid_command");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_inbound_record_that_fails_its_last_receive_is_kept_with_its_reason() {
    let t = spawn_stack().await;
    let state = inbound_state(&t);
    // Not a webhook event, and one serde would quote: the reason must not.
    let body = r#"{"key": 15551232020, "field": "messages"}"#;

    let earlier = switchboard_inbound::handle_batch(
        &state,
        one_record("inbound-record-1", body, MAX_RECEIVES - 1),
    )
    .await;
    let failed: Vec<&str> = earlier
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        ["inbound-record-1"],
        "handed back before its last receive"
    );
    assert!(dead_letters(&t, "inbound").await.is_empty());

    let last = switchboard_inbound::handle_batch(
        &state,
        one_record("inbound-record-1", body, MAX_RECEIVES),
    )
    .await;
    assert!(
        last.batch_item_failures.is_empty(),
        "kept, so not handed back: {:?}",
        last.batch_item_failures
    );
    let listed = dead_letters(&t, "inbound").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let letter = &listed[0];
    let reason = letter["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("not a webhook event: JSON of another shape at line 1"),
        "{letter}"
    );
    assert!(!reason.contains("15551232020"), "no phone number: {reason}");
    assert_eq!(letter["receives"], MAX_RECEIVES, "{letter}");
    assert_eq!(letter["source_message_id"], "inbound-record-1", "{letter}");
    assert_eq!(letter["body_bytes"], body.len(), "{letter}");
    assert_eq!(t.stack.metrics.total("inbound", "RecordsDeadLettered"), 1.0);
    assert_eq!(t.stack.metrics.total("inbound", "RecordsFailed"), 2.0);

    let redriven = ops(
        &t,
        json!({ "op": "redrive_dead_letters", "queue": "inbound" }),
    )
    .await;
    assert_eq!(redriven["redriven"], 1, "{redriven}");
    assert_eq!(t.queue_depth(&dead_letter_queue(&t, "inbound")).await, 0);
    assert!(
        t.queue_depth(&t.config().inbound_queue_url).await >= 1,
        "back on the inbound queue (or being received from it)"
    );
    // The inbound function's own poller receives it again: its first receive on the queue.
    eventually("the redriven record to be received", WAIT, || async {
        (t.stack.metrics.total("inbound", "RecordsFailed") >= 3.0).then_some(())
    })
    .await;
    assert_eq!(
        t.stack.metrics.total("inbound", "RecordsDeadLettered"),
        1.0,
        "a first receive is handed back, not kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_media_job_that_fails_its_last_receive_is_kept_with_its_reason_and_fetched_when_redriven()
{
    let t = spawn_stack().await;
    // The tenant's token does not open: every fetch fails, the queue's own delivery included.
    t.stack.aws_calls.inject(AwsFault {
        function: Some(MEDIA.into()),
        action: "kms:Decrypt".into(),
        body_contains: None,
        phase: FaultPhase::BeforeSend,
        times: u32::MAX,
    });
    let document = t
        .sandbox_post(
            "/sandbox/media",
            &json!({ "mime_type": "application/pdf", "size": 4096 }),
        )
        .await;
    let message = t
        .customer_sends_media(&json!({
            "from": "15551232021",
            "type": "document",
            "media_id": document["id"],
        }))
        .await;
    let id = message["id"].as_str().expect("id").to_owned();
    let job = MediaJob {
        tenant_id: TenantId::from("acme"),
        message_id: MessageId::new(id.clone()),
        phone_number_id: PHONE_NUMBER_ID.to_owned(),
        media_id: document["id"].as_str().expect("media id").to_owned(),
        kind: MediaKind::Document,
        mime_type: "application/pdf".into(),
        sha256: document["sha256"].as_str().map(str::to_owned),
        filename: None,
        animated: false,
    };
    let body = serde_json::to_string(&job).expect("job");

    let earlier = switchboard_media::handle_batch(
        &t.stack.media,
        one_record("media-job-1", &body, MAX_RECEIVES - 1),
    )
    .await;
    let failed: Vec<&str> = earlier
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        ["media-job-1"],
        "handed back before its last receive"
    );
    assert!(dead_letters(&t, "media").await.is_empty());

    let last = switchboard_media::handle_batch(
        &t.stack.media,
        one_record("media-job-1", &body, MAX_RECEIVES),
    )
    .await;
    assert!(
        last.batch_item_failures.is_empty(),
        "kept, so not handed back: {:?}",
        last.batch_item_failures
    );
    let listed = dead_letters(&t, "media").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let letter = &listed[0];
    let reason = letter["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("media not fetched: the Meta token: KMS Decrypt failed"),
        "the function's own reason: {letter}"
    );
    assert_eq!(letter["receives"], MAX_RECEIVES, "{letter}");
    assert_eq!(letter["source_message_id"], "media-job-1", "{letter}");
    assert_eq!(t.stack.metrics.total("media", "RecordsDeadLettered"), 1.0);
    assert!(t.message(&id).await["media"].is_null(), "nothing fetched");

    // The cause is fixed: the job goes back to the media queue, whose consumer fetches it.
    t.stack.aws_calls.clear_faults();
    let redriven = ops(
        &t,
        json!({ "op": "redrive_dead_letters", "queue": "media" }),
    )
    .await;
    assert_eq!(redriven["redriven"], 1, "{redriven}");
    assert_eq!(redriven["not_deleted"], 0, "{redriven}");
    assert_eq!(t.queue_depth(&dead_letter_queue(&t, "media")).await, 0);
    let stored = eventually("the redriven job to be fetched", WAIT, || async {
        let m = t.message(&id).await;
        m["media"]["state"].is_string().then_some(m)
    })
    .await;
    assert_eq!(stored["media"]["state"], "stored", "{stored}");
    assert_eq!(stored["media"]["size"], 4096, "{stored}");
}
