//! Records a consumer gives up on: an outbound job that fails on every receive is kept in the
//! dead-letter queue with the reason its function recorded, listed by the operations
//! function, and once the cause is gone redriven and sent exactly once; records SQS moved by
//! itself are listed without a reason and go back to their own queue.

use serde_json::{Value, json};
use std::time::Duration;
use switchboard_dev::aws_calls::{AwsFault, FaultPhase};
use switchboard_e2e::*;

const OPERATIONS: &str = "OperationsFunction";

async fn ops(t: &TestStack, payload: Value) -> Value {
    let answer = switchboard_operations::handle(&t.stack.operations, payload).await;
    serde_json::to_value(answer).expect("answers are JSON")
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
