//! A phone number that moves to another tenant serves only its new owner: the old owner's
//! queued messages are not sent from it, the old owner can no longer send from it, and its
//! customers' next messages land with the new owner. Moves are conditional on the owner.

use serde_json::{Value, json};
use std::time::Duration;
use switchboard_domain::{Clock, PhoneNumberId, TenantId};
use switchboard_e2e::*;
use switchboard_outbound::NOT_OWNED_TITLE;
use switchboard_store::StoreError;

const GLOBEX_KEY: &str = "sk_test_e2e_globex_0123456789";
const CUSTOMER: &str = "15551239001";

async fn as_tenant(
    t: &TestStack,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Option<String>, Value) {
    let auth = format!("Bearer {key}");
    let mut headers = vec![("authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let (status, headers, body) = t
        .api_request(
            method,
            path,
            &headers,
            body.map(|b| serde_json::to_vec(b).expect("json")),
        )
        .await;
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status.as_u16(), content_type, body)
}

async fn conversations(t: &TestStack, key: &str) -> Vec<Value> {
    let (status, _, body) =
        as_tenant(t, key, reqwest::Method::GET, "/v1/conversations", None).await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

async fn messages_of(t: &TestStack, key: &str, conversation: &str) -> Vec<Value> {
    let path = format!("/v1/conversations/{conversation}/messages");
    let (status, _, body) = as_tenant(t, key, reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

async fn customer_writes(t: &TestStack, wamid: &str, text: &str) {
    let at = time::OffsetDateTime::now_utc().unix_timestamp();
    let body = text_message_webhook(PHONE_NUMBER_ID, CUSTOMER, wamid, at, text).to_string();
    assert_eq!(t.post_signed(body.as_bytes()).await, 200);
}

async fn reply(t: &TestStack, conversation: &str, text: &str) -> String {
    let (status, body) = t
        .api_post(
            "/v1/messages",
            &json!({ "conversation_id": conversation, "text": { "body": text } }),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{body}");
    body["id"].as_str().expect("message id").to_owned()
}

fn sent_texts(sent: &[Value]) -> Vec<String> {
    sent.iter()
        .filter_map(|s| s["body"]["text"]["body"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_phone_number_moved_to_another_tenant_serves_only_its_new_owner() {
    let t = spawn_stack_with(Options {
        sandbox_statuses: false,
        ..Options::default()
    })
    .await;
    let store = &t.stack.store;
    let number = PhoneNumberId::new(PHONE_NUMBER_ID);
    let (acme, globex) = (TenantId::new("acme"), TenantId::new("globex"));
    switchboard_dev::seed::seed_tenant(store, "globex", "Globex", GLOBEX_KEY)
        .await
        .expect("second tenant seeded");
    // Globex sends with its own token for the WABA once the number is its.
    switchboard_platform::business_token::store_business_token(
        store,
        &t.stack.vault,
        &globex,
        switchboard_e2e::WABA_ID,
        &switchboard_domain::Secret::new(switchboard_e2e::ACCESS_TOKEN),
        t.stack.clock.now(),
    )
    .await
    .expect("globex's token sealed");

    // Before the move: the customer talks to acme (and acme's route gets cached by inbound).
    customer_writes(&t, "wamid.ownership.before", "hello acme").await;
    let conversation = t.first_conversation().await;

    // Acme queues three replies. The first is held at Meta for 3 s after it was accepted;
    // the other two wait behind it in its FIFO group (tenant + recipient) on the queue.
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "lose_answer", "times": 1, "delay_ms": 3_000, "to": CUSTOMER }),
    )
    .await;
    let first = reply(&t, &conversation, "queued one").await;
    let second = reply(&t, &conversation, "queued two").await;
    let third = reply(&t, &conversation, "queued three").await;
    eventually("the first reply to reach Meta", WAIT, || async {
        (t.sandbox_sent().await.len() == 1).then_some(())
    })
    .await;

    // The number moves to globex while the others are still queued.
    let moved = store
        .move_phone_route(&number, &acme, &globex, t.stack.clock.now())
        .await
        .expect("acme holds the number, so the move goes through");
    assert_eq!(moved.tenant_id, globex);

    // The first was sent while acme held the number; the queued ones are not sent from a
    // number acme no longer has, and say why.
    t.wait_for_status(&first, "sent").await;
    for id in [&second, &third] {
        let failed = t.wait_for_status(id, "failed").await;
        assert_eq!(failed["error"]["code"], 0, "{failed}");
        assert_eq!(failed["error"]["title"], NOT_OWNED_TITLE, "{failed}");
        assert!(failed["wamid"].is_null(), "{failed}");
    }
    let sent = t.sandbox_sent().await;
    assert_eq!(
        sent_texts(&sent),
        ["queued one"],
        "only the first reached Meta"
    );

    // Acme can no longer send from the number, neither directly nor in its old conversation.
    let direct = json!({ "phone_number_id": PHONE_NUMBER_ID, "to": CUSTOMER, "text": { "body": "still here?" } });
    let in_conversation =
        json!({ "conversation_id": conversation, "text": { "body": "still here?" } });
    for (body, field) in [
        (&direct, "phone_number_id"),
        (&in_conversation, "conversation_id"),
    ] {
        let (status, content_type, problem) = as_tenant(
            &t,
            API_KEY,
            reqwest::Method::POST,
            "/v1/messages",
            Some(body),
        )
        .await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(content_type.as_deref(), Some("application/problem+json"));
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }

    // The customer writes again: straight to globex, none of it to acme. No wait for a cache
    // to expire: messages are routed by a consistent read of the route.
    customer_writes(&t, "wamid.ownership.after", "hello globex").await;
    let globex_conversation = eventually("globex's conversation", WAIT, || async {
        conversations(&t, GLOBEX_KEY).await.into_iter().next()
    })
    .await;
    let globex_id = globex_conversation["id"].as_str().expect("id").to_owned();
    let theirs = messages_of(&t, GLOBEX_KEY, &globex_id).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0]["text"], "hello globex");
    assert_eq!(theirs[0]["direction"], "inbound");
    assert_eq!(conversations(&t, GLOBEX_KEY).await.len(), 1);

    let acme_conversations = conversations(&t, API_KEY).await;
    assert_eq!(acme_conversations.len(), 1, "{acme_conversations:?}");
    assert_eq!(acme_conversations[0]["message_count"], 4);
    let ours = messages_of(&t, API_KEY, &conversation).await;
    let texts: Vec<&str> = ours.iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(
        texts,
        ["hello acme", "queued one", "queued two", "queued three"],
        "nothing after the move reached acme"
    );

    // Globex sends from its number.
    let (status, _, accepted) = as_tenant(
        &t,
        GLOBEX_KEY,
        reqwest::Method::POST,
        "/v1/messages",
        Some(&json!({ "conversation_id": globex_id, "text": { "body": "globex here" } })),
    )
    .await;
    assert_eq!(status, 202, "{accepted}");
    let globex_reply = accepted["id"].as_str().expect("id").to_owned();
    eventually("globex's reply to be sent", WAIT, || async {
        let (_, _, m) = as_tenant(
            &t,
            GLOBEX_KEY,
            reqwest::Method::GET,
            &format!("/v1/messages/{globex_reply}"),
            None,
        )
        .await;
        (m["status"] == "sent").then_some(())
    })
    .await;
    assert_eq!(
        sent_texts(&t.sandbox_sent().await),
        ["queued one", "globex here"]
    );

    // A move conditioned on an owner that does not hold the number is refused: acme's move
    // again (a stale retry), and one by a tenant that never held it.
    switchboard_dev::seed::seed_tenant(store, "initech", "Initech", "sk_test_e2e_initech_0123")
        .await
        .expect("third tenant seeded");
    let initech = TenantId::new("initech");
    for (from, to) in [(&acme, &globex), (&acme, &initech), (&initech, &acme)] {
        let err = store
            .move_phone_route(&number, from, to, t.stack.clock.now())
            .await
            .expect_err("only the owner's move goes through");
        assert!(
            matches!(
                &err,
                StoreError::PhoneRouteOwner { current_owner: Some(owner), .. } if *owner == globex
            ),
            "{err:?}"
        );
    }
    let route = store
        .find_phone_route(&number)
        .await
        .expect("read")
        .expect("routed");
    assert_eq!(route.tenant_id, globex);

    // And nothing is sent late.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(t.sandbox_sent().await.len(), 2);
}
