//! `POST /v1/messages/{id}/read`: a customer's message is marked read at Meta (the sandbox
//! records Meta's `status: read` call), with "typing…" unless asked not to; the business's own
//! messages, another tenant's and malformed requests are refused without reaching Meta.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_e2e::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Auth, PHONE_NUMBER_ID, TestStack, WAIT, eventually, spawn_stack,
};

const GLOBEX_KEY: &str = "sk_test_e2e_globex_read_0123456789";

/// The customer `from` writes `text` through the sandbox; returns the wamid and our id of the
/// message once the API shows it.
async fn customer_writes(t: &TestStack, from: &str, text: &str) -> (String, String) {
    let sim = t
        .sandbox_post(
            "/sandbox/customer-messages",
            &json!({ "from": from, "name": "Ada", "text": text }),
        )
        .await;
    assert_eq!(sim["webhook_status"], 200, "{sim}");
    let wamid = sim["wamid"].as_str().expect("a wamid").to_owned();
    let id = eventually("the customer's message in the API", WAIT, || async {
        let (_, conversations) = t.api_get("/v1/conversations").await;
        for c in conversations["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let Some(conversation) = c["id"].as_str() else {
                continue;
            };
            if let Some(m) = t
                .messages(conversation)
                .await
                .into_iter()
                .find(|m| m["wamid"] == wamid.as_str())
            {
                return m["id"].as_str().map(str::to_owned);
            }
        }
        None
    })
    .await;
    (wamid, id)
}

/// `POST /v1/messages/{id}/read` with `key` (the demo tenant's when `None`), the raw body
/// given (none when `None`) and extra headers. Returns status, headers and body.
async fn mark(
    t: &TestStack,
    key: Option<&str>,
    id: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers: Vec<(&str, &str)> = extra.to_vec();
    if let Some(auth) = &auth {
        headers.push(("authorization", auth.as_str()));
    }
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let (status, headers, answer) = t
        .api_request(
            Method::POST,
            &format!("/v1/messages/{id}/read"),
            &headers,
            body.map(|b| serde_json::to_vec(b).expect("json")),
        )
        .await;
    (status.as_u16(), headers, answer)
}

async fn read_receipts(t: &TestStack) -> Vec<Value> {
    match t.sandbox_get("/sandbox/read-receipts").await {
        Value::Array(items) => items,
        other => panic!("read receipts are a list: {other}"),
    }
}

fn receipts_for<'a>(receipts: &'a [Value], wamid: &str) -> Vec<&'a Value> {
    receipts
        .iter()
        .filter(|r| r["message_id"] == wamid)
        .collect()
}

fn is_problem(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_message_is_marked_read_with_or_without_the_typing_indicator() {
    let t = spawn_stack().await;
    let (wamid, id) = customer_writes(&t, "15551237001", "Is my order ready?").await;

    // An empty body: read, with "typing…".
    let (status, _, answer) = mark(&t, None, &id, None, &[]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({ "id": id, "status": "read", "typing_indicator": true })
    );
    let receipts = read_receipts(&t).await;
    let ours = receipts_for(&receipts, &wamid);
    assert_eq!(ours.len(), 1, "one read call reached Meta: {receipts:?}");
    assert_eq!(ours[0]["phone_number_id"], PHONE_NUMBER_ID);
    assert_eq!(ours[0]["typing_indicator"], true, "{receipts:?}");

    // `typing_indicator: false`: read, and no "typing…".
    let (quiet_wamid, quiet_id) = customer_writes(&t, "15551237002", "Thanks, bye").await;
    let (status, _, answer) = mark(
        &t,
        None,
        &quiet_id,
        Some(&json!({ "typing_indicator": false })),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({ "id": quiet_id, "status": "read", "typing_indicator": false })
    );
    let receipts = read_receipts(&t).await;
    let quiet = receipts_for(&receipts, &quiet_wamid);
    assert_eq!(quiet.len(), 1, "{receipts:?}");
    assert_eq!(quiet[0]["typing_indicator"], false, "{receipts:?}");

    // With an Idempotency-Key, a retry is answered from the first request: Meta is called once.
    let key = [("idempotency-key", "read-once-1")];
    let body = json!({ "typing_indicator": true });
    let (status, first_headers, first) = mark(&t, None, &quiet_id, Some(&body), &key).await;
    assert_eq!(status, 200, "{first}");
    assert!(first_headers.get("idempotent-replayed").is_none());
    let (status, again_headers, again) = mark(&t, None, &quiet_id, Some(&body), &key).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, first);
    assert_eq!(
        again_headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let receipts = read_receipts(&t).await;
    assert_eq!(
        receipts_for(&receipts, &quiet_wamid).len(),
        2,
        "the replay did not call Meta again: {receipts:?}"
    );
    // The same key for another message is a reuse, not that message's answer.
    let (status, headers, answer) = mark(&t, None, &id, Some(&body), &key).await;
    assert_eq!(status, 422, "{answer}");
    assert!(is_problem(&headers));
    assert_eq!(
        answer["type"], "/problems/idempotency-key-reused",
        "{answer}"
    );

    // Who marked what, by id: never the customer or the text.
    let admin = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, _, audit) = t
        .call(
            Method::GET,
            "/v1/audit?limit=100",
            Auth::Bearer(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    let marked: Vec<&Value> = audit["data"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "message.marked_read")
        .collect();
    assert_eq!(marked.len(), 3, "{audit}");
    assert!(marked.iter().any(|e| e["target"] == id.as_str()), "{audit}");
    let text = audit.to_string();
    assert!(
        !text.contains("15551237001") && !text.contains("Is my order ready?"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbound_foreign_unknown_and_malformed_requests_are_refused_without_calling_meta() {
    let t = spawn_stack().await;
    let (wamid, id) = customer_writes(&t, "15551237003", "Hello?").await;

    // The business's own message cannot be marked read.
    let (_, message) = t.api_get(&format!("/v1/messages/{id}")).await;
    let conversation = message["conversation_id"]
        .as_str()
        .expect("a conversation")
        .to_owned();
    let (status, accepted) = t
        .api_post(
            "/v1/messages",
            &json!({ "conversation_id": conversation, "text": { "body": "Hi, how can we help?" } }),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let reply = accepted["id"].as_str().expect("message id").to_owned();
    let sent = eventually("the reply to reach Meta", WAIT, || async {
        let m = t.message(&reply).await;
        m["wamid"].is_string().then_some(m)
    })
    .await;
    let (status, headers, answer) = mark(&t, None, &reply, None, &[]).await;
    assert_eq!(status, 422, "{answer}");
    assert!(is_problem(&headers));
    assert_eq!(answer["type"], "/problems/validation", "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("only a customer's (inbound) message")),
        "{answer}"
    );

    // Another tenant's admin key finds neither the message nor an unknown one.
    switchboard_dev::seed::seed_tenant(&t.stack.store, "globex", "Globex", GLOBEX_KEY)
        .await
        .expect("second tenant seeded");
    let (status, headers, answer) = mark(&t, Some(GLOBEX_KEY), &id, None, &[]).await;
    assert_eq!(status, 404, "{answer}");
    assert!(is_problem(&headers));
    assert_eq!(answer["type"], "/problems/not-found", "{answer}");
    assert!(!answer.to_string().contains(&id), "{answer}");
    let (status, _, answer) = mark(&t, None, "msg_does_not_exist", None, &[]).await;
    assert_eq!(status, 404, "{answer}");

    // Unknown members are named; a body that is not an object is malformed.
    let (status, headers, answer) = mark(
        &t,
        None,
        &id,
        Some(&json!({ "typing_indicator": true, "typing": "text" })),
        &[],
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert!(is_problem(&headers));
    assert_eq!(answer["errors"][0]["field"], "typing", "{answer}");
    let (status, _, answer) = mark(
        &t,
        None,
        &id,
        Some(&json!({ "typing_indicator": "yes" })),
        &[],
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "typing_indicator", "{answer}");
    let (status, _, answer) = mark(&t, None, &id, Some(&json!([true])), &[]).await;
    assert_eq!(status, 400, "{answer}");

    // None of these reached Meta.
    let receipts = read_receipts(&t).await;
    assert!(receipts_for(&receipts, &wamid).is_empty(), "{receipts:?}");
    let reply_wamid = sent["wamid"].as_str().expect("the reply's wamid");
    assert!(
        receipts_for(&receipts, reply_wamid).is_empty(),
        "{receipts:?}"
    );
}
