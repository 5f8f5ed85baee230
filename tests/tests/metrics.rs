//! The functions' CloudWatch metrics: the webhook counts the events it accepts, the
//! duplicates it drops and the bodies it quarantines; the API the sends it accepts; the
//! inbound function what it records; the outbound function the messages it sends and each
//! Graph call's time. One EMF document per request or batch, with no phone number or text.

use serde_json::json;
use switchboard_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accepted_events_and_sent_messages_are_counted() {
    let t = spawn_stack().await;
    let metrics = &t.stack.metrics;

    let body = serde_json::to_vec(&text_message_webhook(
        PHONE_NUMBER_ID,
        "15551234567",
        "wamid.METRICS1",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        "Is my order ready?",
    ))
    .expect("json");
    let signature = switchboard_meta::signature::sign(APP_SECRET.as_bytes(), &body);
    assert_eq!(t.post_webhook(&body, Some(&signature)).await, 200);
    // The webhook flushes before it answers.
    assert_eq!(metrics.total("webhook", "EventsAccepted"), 1.0);
    assert_eq!(metrics.total("webhook", "EventsDuplicate"), 0.0);
    // Meta's retry of the same delivery.
    assert_eq!(t.post_webhook(&body, Some(&signature)).await, 200);
    assert_eq!(metrics.total("webhook", "EventsAccepted"), 1.0);
    assert_eq!(metrics.total("webhook", "EventsDuplicate"), 1.0);

    // A signed body that does not parse is quarantined, and counted.
    let garbled = b"{\"object\": \"whatsapp_business_account\", \"entry\": 7}";
    let signature = switchboard_meta::signature::sign(APP_SECRET.as_bytes(), garbled);
    assert_eq!(t.post_webhook(garbled, Some(&signature)).await, 200);
    assert_eq!(metrics.total("webhook", "BodiesQuarantined"), 1.0);

    let conversation = t.first_conversation().await;
    let (status, accepted) = t
        .api_post(
            "/v1/messages",
            &json!({ "conversation_id": conversation, "text": { "body": "Yes, ready for pickup!" } }),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{accepted}");

    // The outbound batch flushes once its records are done.
    eventually("the send to be counted", WAIT, || async {
        (metrics.total("outbound", "MessagesSent") == 1.0).then_some(())
    })
    .await;
    assert_eq!(metrics.total("outbound", "MessagesFailed"), 0.0);
    assert!(metrics.total("outbound", "SendLatency") > 0.0);
    // The API counted the send it accepted; the inbound function the customer's message
    // (once: the webhook dropped the retry) and the statuses Meta sent about the reply.
    assert_eq!(metrics.total("api", "MessagesAccepted"), 1.0);
    assert_eq!(metrics.total("inbound", "MessagesRecorded"), 1.0);
    eventually("a status to be counted", WAIT, || async {
        (metrics.total("inbound", "StatusesApplied") >= 1.0).then_some(())
    })
    .await;
    assert_eq!(metrics.total("inbound", "RecordsFailed"), 0.0);

    let documents = metrics.documents();
    for doc in &documents {
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Switchboard", "{doc}");
        assert_eq!(directive["Dimensions"], json!([["service"]]), "{doc}");
        let line = doc.to_string();
        for secret in [
            "15551234567",
            "Is my order ready?",
            "Yes, ready for pickup!",
        ] {
            assert!(!line.contains(secret), "{secret} in a metric: {line}");
        }
    }
    let outbound_docs = documents
        .iter()
        .filter(|d| d["service"] == "outbound" && d.get("MessagesSent").is_some())
        .count();
    assert_eq!(
        outbound_docs, 1,
        "one document for the batch: {documents:?}"
    );
}
