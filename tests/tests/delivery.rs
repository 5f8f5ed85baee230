//! Outbound delivery: statuses only move forward, retryable Graph errors are retried until
//! the message goes out exactly once, permanent ones are recorded with Meta's code.

use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

async fn reply(t: &TestStack, to: &str, body: &str) -> String {
    t.open_window("acme", to).await;
    let (status, accepted) = t
        .api_post(
            "/v1/messages",
            &json!({ "phone_number_id": PHONE_NUMBER_ID, "to": to, "text": { "body": body } }),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    accepted["id"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn statuses_delivered_in_reverse_order_end_as_read() {
    let t = spawn_stack_with(Options {
        sandbox_statuses: false,
        ..Options::default()
    })
    .await;
    let id = reply(&t, "15551230000", "hello").await;
    let sent = t.wait_for_status(&id, "sent").await;
    let wamid = sent["wamid"].as_str().expect("wamid").to_owned();

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (status, at) in [("read", now + 3), ("delivered", now + 2), ("sent", now + 1)] {
        let body =
            serde_json::to_vec(&status_webhook(&wamid, status, at, "15551230000")).expect("json");
        assert_eq!(t.post_signed(&body).await, 200);
    }
    t.wait_for_status(&id, "read").await;
    // The three webhooks are applied in any order: wait until the delivered one has been too.
    eventually("the delivered timestamp recorded", WAIT, || async {
        t.message(&id).await["delivered_at"]
            .is_string()
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let settled = t.message(&id).await;
    assert_eq!(
        settled["status"], "read",
        "late delivered/sent never move it back: {settled}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retryable_graph_errors_are_retried_and_the_message_is_sent_once() {
    let t = spawn_stack().await;
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "server_error", "times": 2 }),
    )
    .await;
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "rate_limit", "times": 1 }),
    )
    .await;
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "pair_rate_limit", "times": 1 }),
    )
    .await;

    let id = reply(&t, "15551239999", "after retries").await;
    let read = t.wait_for_status(&id, "read").await;
    assert!(read["error"].is_null(), "{read}");

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = t.sandbox_sent().await;
    assert_eq!(
        sent.len(),
        1,
        "one accepted send after four faults: {sent:?}"
    );
    assert_eq!(sent[0]["body"]["text"]["body"], "after retries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_permanent_graph_error_marks_the_message_failed_with_its_code() {
    let t = spawn_stack().await;
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "reengagement", "times": 1 }),
    )
    .await;

    let id = reply(&t, "15551238888", "too late").await;
    let failed = t.wait_for_status(&id, "failed").await;
    assert_eq!(failed["error"]["code"], 131047, "{failed}");
    assert!(failed["wamid"].is_null());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        t.sandbox_sent().await.is_empty(),
        "a permanent error is not retried"
    );
    assert_eq!(t.message(&id).await["status"], "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redelivered_job_does_not_send_again() {
    let t = spawn_stack().await;
    let id = reply(&t, "15551237777", "just once").await;
    t.wait_for_status(&id, "read").await;

    // The same job again, as SQS would redeliver it after a lost acknowledgement.
    let job = json!({ "tenant_id": "acme", "message_id": id }).to_string();
    let queue = switchboard_platform::queue::Queue::new(
        aws_sdk_sqs::Client::new(&t.stack.sdk),
        t.config().outbound_queue_url,
    );
    for n in 0..2 {
        queue
            .send_fifo(&job, "acme:wa:15551237777", &format!("{id}-again-{n}"))
            .await
            .expect("enqueue");
    }
    eventually("the outbound queue to drain", WAIT, || async {
        (t.queue_depth(&t.config().outbound_queue_url).await == 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(t.sandbox_sent().await.len(), 1, "one send for one message");
    assert_eq!(t.message(&id).await["status"], "read");
}
