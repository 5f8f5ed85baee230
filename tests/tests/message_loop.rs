//! The whole loop: a customer writes in through the sandbox, the message shows up in the API,
//! a reply goes out through the outbound queue to the sandbox, and its status webhooks move it
//! to read.

use serde_json::json;
use switchboard_e2e::{PHONE_NUMBER_ID, WAIT, eventually, spawn_stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_message_is_stored_and_the_reply_is_read() {
    let t = spawn_stack().await;

    let sim = t
        .sandbox_post(
            "/sandbox/customer-messages",
            &json!({ "from": "15551234567", "name": "Ada", "text": "Is my order ready?" }),
        )
        .await;
    assert_eq!(sim["webhook_status"], 200, "{sim}");
    let wamid = sim["wamid"]
        .as_str()
        .expect("sandbox returns the wamid")
        .to_owned();

    let conversation = t.first_conversation().await;
    let inbound = eventually("the customer's message", WAIT, || async {
        t.messages(&conversation)
            .await
            .into_iter()
            .find(|m| m["direction"] == "inbound")
    })
    .await;
    assert_eq!(inbound["text"], "Is my order ready?");
    assert_eq!(inbound["wamid"], wamid.as_str());
    assert_eq!(inbound["status"], "received");

    let (_, conv) = t
        .api_get(&format!("/v1/conversations/{conversation}"))
        .await;
    assert_eq!(conv["profile_name"], "Ada");
    assert_eq!(conv["phone_number_id"], PHONE_NUMBER_ID);
    assert!(
        conv["window_expires_at"].is_string(),
        "the customer's message opens the 24-hour window: {conv}"
    );

    let (status, accepted) = t
        .api_post(
            "/v1/messages",
            &json!({ "conversation_id": conversation, "text": { "body": "Yes, ready for pickup!" } }),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["status"], "queued");
    assert_eq!(accepted["conversation_id"], conversation.as_str());
    let id = accepted["id"].as_str().expect("message id").to_owned();

    let read = t.wait_for_status(&id, "read").await;
    assert!(
        read["wamid"]
            .as_str()
            .is_some_and(|w| w.starts_with("wamid.")),
        "{read}"
    );
    for stamp in ["sent_at", "delivered_at", "read_at"] {
        assert!(read[stamp].is_string(), "{stamp} recorded: {read}");
    }

    let sent = t.sandbox_sent().await;
    assert_eq!(sent.len(), 1, "exactly one send reached Meta: {sent:?}");
    let body = &sent[0]["body"];
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(body["to"], "15551234567");
    assert_eq!(body["type"], "text");
    assert_eq!(body["text"]["body"], "Yes, ready for pickup!");

    let all = t.messages(&conversation).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        all[0]["direction"], "inbound",
        "messages are listed oldest first"
    );
}
