//! The webhook's promises: signatures checked before anything happens, duplicates stored
//! once, nothing that verified is ever dropped.

use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_subscription_handshake_echoes_the_challenge_only_for_our_token() {
    let t = spawn_stack().await;
    let url = t.stack.webhook_url();
    let ok = t
        .http
        .get(format!(
            "{url}?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        ))
        .send()
        .await
        .expect("reachable");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.expect("body"), "1158201444");

    for query in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=e2e-verify-token&hub.challenge=1",
        "hub.mode=subscribe&hub.challenge=1",
    ] {
        let res = t
            .http
            .get(format!("{url}?{query}"))
            .send()
            .await
            .expect("reachable");
        assert_eq!(res.status(), 403, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_signatures_are_rejected_with_no_side_effect() {
    let t = spawn_stack().await;
    let items_before = t.table_item_count().await;
    let body = serde_json::to_vec(&text_message_webhook(
        PHONE_NUMBER_ID,
        "15551234567",
        "wamid.SIG1",
        1_750_000_000,
        "hi",
    ))
    .expect("json");

    assert_eq!(t.post_webhook(&body, None).await, 401);
    let wrong_key = switchboard_meta::signature::sign(b"not-the-app-secret", &body);
    assert_eq!(t.post_webhook(&body, Some(&wrong_key)).await, 403);
    let tampered = switchboard_meta::signature::sign(APP_SECRET.as_bytes(), b"{}");
    assert_eq!(t.post_webhook(&body, Some(&tampered)).await, 403);
    assert_eq!(t.post_webhook(&body, Some("sha256=nothex")).await, 403);
    assert_eq!(t.post_webhook(b"not json", Some(&wrong_key)).await, 403);

    // Give a wrongly accepted event time to travel before looking for it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        t.table_item_count().await,
        items_before,
        "no dedupe record, message or contact was written"
    );
    assert_eq!(
        t.queue_depth(&t.config().inbound_queue_url).await,
        0,
        "nothing was enqueued"
    );
    assert!(t.quarantined().await.is_empty(), "nothing was quarantined");
    let (_, convs) = t.api_get("/v1/conversations").await;
    assert_eq!(convs["data"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_delivered_three_times_concurrently_is_stored_once() {
    let t = spawn_stack().await;
    let body = serde_json::to_vec(&text_message_webhook(
        PHONE_NUMBER_ID,
        "15557654321",
        "wamid.DUP1",
        1_750_000_000,
        "once",
    ))
    .expect("json");
    let (a, b, c) = tokio::join!(
        t.post_signed(&body),
        t.post_signed(&body),
        t.post_signed(&body)
    );
    // One delivery claims the event; one that meets the claim in progress is answered 503
    // (its claimer may die before enqueueing) and Meta retries it.
    let answers = [a.as_u16(), b.as_u16(), c.as_u16()];
    assert!(
        answers.contains(&200) && answers.iter().all(|s| *s == 200 || *s == 503),
        "{answers:?}"
    );
    eventually(
        "the retried deliveries to be acknowledged",
        WAIT,
        || async { (t.post_signed(&body).await == 200).then_some(()) },
    )
    .await;

    let conversation = t.first_conversation().await;
    eventually("the message", WAIT, || async {
        (!t.messages(&conversation).await.is_empty()).then_some(())
    })
    .await;
    // A fourth delivery after the fact is a duplicate too.
    assert_eq!(t.post_signed(&body).await, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let messages = t.messages(&conversation).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let (_, conv) = t
        .api_get(&format!("/v1/conversations/{conversation}"))
        .await;
    assert_eq!(conv["message_count"], 1, "{conv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_signed_body_that_cannot_be_parsed_is_quarantined_and_acknowledged() {
    let t = spawn_stack().await;
    let garbage = b"{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":";
    assert_eq!(
        t.post_signed(garbage).await,
        200,
        "Meta must stop retrying a body we keep"
    );
    let not_a_notification = br#"{"hello":"world"}"#;
    assert_eq!(t.post_signed(not_a_notification).await, 200);

    let keys = t.quarantined().await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    let q = switchboard_platform::blob::Quarantine::new(
        switchboard_platform::aws::s3_client(&t.stack.sdk),
        t.config().data_bucket,
    );
    let mut bodies = Vec::new();
    for k in &keys {
        bodies.push(q.get(k).await.expect("stored").body);
    }
    assert!(
        bodies.contains(&garbage.to_vec()),
        "the exact bytes are kept"
    );
    assert!(bodies.contains(&not_a_notification.to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_quarantined_body_can_be_replayed() {
    let t = spawn_stack().await;
    let body = serde_json::to_vec(&text_message_webhook(
        PHONE_NUMBER_ID,
        "15550001111",
        "wamid.REPLAY1",
        1_750_000_000,
        "replayed",
    ))
    .expect("json");
    let q = switchboard_platform::blob::Quarantine::new(
        switchboard_platform::aws::s3_client(&t.stack.sdk),
        t.config().data_bucket,
    );
    let key = q
        .put(&body, "test", time::OffsetDateTime::now_utc())
        .await
        .expect("put");
    let outcome = t.replay_quarantined(&key).await;
    assert_eq!(outcome.accepted.enqueued, 1);

    let conversation = t.first_conversation().await;
    let m = eventually("the replayed message", WAIT, || async {
        t.messages(&conversation).await.into_iter().next()
    })
    .await;
    assert_eq!(m["text"], "replayed");
    assert!(
        t.quarantined().await.is_empty(),
        "a replayed body leaves the quarantine"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_for_an_unknown_phone_number_is_kept() {
    let t = spawn_stack().await;
    let body = serde_json::to_vec(&text_message_webhook(
        "999000111",
        "15551234567",
        "wamid.UNROUTED1",
        1_750_000_000,
        "hello?",
    ))
    .expect("json");
    assert_eq!(t.post_signed(&body).await, 200);

    let kept = eventually("the unrouted event", WAIT, || async {
        let kept = t
            .stack
            .store
            .list_unrouted("999000111", 10, time::OffsetDateTime::now_utc())
            .await
            .expect("list");
        (!kept.is_empty()).then_some(kept)
    })
    .await;
    assert_eq!(kept.len(), 1);
    let (_, convs) = t.api_get("/v1/conversations").await;
    assert_eq!(convs["data"], json!([]), "it reached no tenant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bodies_over_three_megabytes_are_refused() {
    let t = spawn_stack().await;
    let big = vec![b' '; 3 * 1024 * 1024 + 1];
    assert_eq!(t.post_signed(&big).await, 413);
    assert!(t.quarantined().await.is_empty());
}
