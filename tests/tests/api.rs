//! The HTTP API's contract: authentication, validation as problem+json naming the field,
//! idempotent retries, tenant isolation.

use serde_json::json;
use switchboard_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_without_a_valid_key_are_refused() {
    let t = spawn_stack().await;
    let health = t
        .http
        .get(format!("{}/healthz", t.base()))
        .send()
        .await
        .expect("reachable");
    assert_eq!(health.status(), 200, "health needs no key");

    for key in [None, Some("sk_wrong")] {
        let mut req = t.http.get(format!("{}/v1/conversations", t.base()));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let res = req.send().await.expect("reachable");
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invalid_messages_are_refused_naming_the_field() {
    let t = spawn_stack().await;
    let cases = [
        (
            json!({ "phone_number_id": PHONE_NUMBER_ID, "to": "15551234567" }),
            "text",
        ),
        (
            json!({ "phone_number_id": PHONE_NUMBER_ID, "to": "15551234567", "text": { "body": "  " } }),
            "text.body",
        ),
        (
            json!({ "phone_number_id": PHONE_NUMBER_ID, "to": "call me", "text": { "body": "x" } }),
            "to",
        ),
        (
            json!({ "to": "15551234567", "text": { "body": "x" } }),
            "phone_number_id",
        ),
        (
            json!({ "phone_number_id": PHONE_NUMBER_ID, "to": "15551234567", "type": "fax", "text": { "body": "x" } }),
            "type",
        ),
        (
            json!({ "phone_number_id": "123", "to": "15551234567", "text": { "body": "x" } }),
            "phone_number_id",
        ),
        (
            json!({ "conversation_id": "conv_nope", "text": { "body": "x" } }),
            "conversation_id",
        ),
        (
            json!({ "phone_number_id": PHONE_NUMBER_ID, "to": "15551234567", "text": { "body": "x".repeat(4097) } }),
            "text.body",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = t.api_post("/v1/messages", &body, &[]).await;
        assert_eq!(status, 422, "{body}: {problem}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            fields.contains(&field),
            "{body} should name {field}: {problem}"
        );
    }
    let res = t
        .http
        .post(format!("{}/v1/messages", t.base()))
        .bearer_auth(API_KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("reachable");
    assert_eq!(res.status(), 400);
    assert!(
        t.sandbox_sent().await.is_empty(),
        "nothing invalid was sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_request_with_the_same_idempotency_key_sends_once() {
    let t = spawn_stack().await;
    t.open_window("acme", "15551112222").await;
    let body = json!({ "phone_number_id": PHONE_NUMBER_ID, "to": "15551112222", "text": { "body": "only once" } });
    let (s1, first) = t
        .api_post("/v1/messages", &body, &[("idempotency-key", "order-42")])
        .await;
    let (s2, second) = t
        .api_post("/v1/messages", &body, &[("idempotency-key", "order-42")])
        .await;
    assert_eq!((s1.as_u16(), s2.as_u16()), (202, 202), "{first} {second}");
    assert_eq!(first["id"], second["id"]);

    let other = json!({ "phone_number_id": PHONE_NUMBER_ID, "to": "15551112222", "text": { "body": "changed" } });
    let (s3, problem) = t
        .api_post("/v1/messages", &other, &[("idempotency-key", "order-42")])
        .await;
    assert_eq!(s3, 422, "{problem}");

    let id = first["id"].as_str().expect("id");
    t.wait_for_status(id, "read").await;
    let conversation = t.first_conversation().await;
    let outbound = t
        .messages(&conversation)
        .await
        .into_iter()
        .filter(|m| m["direction"] == "outbound")
        .count();
    assert_eq!(outbound, 1);
    assert_eq!(t.sandbox_sent().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_conversations_and_messages_are_not_found() {
    let t = spawn_stack().await;
    let (status, problem) = t.api_get("/v1/conversations/conv_missing/messages").await;
    assert_eq!(status, 404, "{problem}");
    let (status, _) = t.api_get("/v1/messages/msg_missing").await;
    assert_eq!(status, 404);
    // A bad query parameter is a 400 naming it (tests/tests/api_errors.rs has the rest).
    let (status, problem) = t.api_get("/v1/conversations?limit=0").await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "limit", "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_cannot_see_or_use_another_tenants_data() {
    let t = spawn_stack().await;
    switchboard_dev::seed::seed_tenant(&t.stack.store, "globex", "Globex", "sk_test_globex")
        .await
        .expect("tenant");

    let body = serde_json::to_vec(&text_message_webhook(
        PHONE_NUMBER_ID,
        "15559990000",
        "wamid.ISO1",
        1_750_000_000,
        "private",
    ))
    .expect("json");
    assert_eq!(t.post_signed(&body).await, 200);
    let conversation = t.first_conversation().await;

    let get = |path: String| {
        let http = t.http.clone();
        let url = format!("{}{path}", t.base());
        async move {
            let res = http
                .get(url)
                .bearer_auth("sk_test_globex")
                .send()
                .await
                .expect("reachable");
            let status = res.status();
            (
                status,
                res.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    let (status, list) = get("/v1/conversations".into()).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"], json!([]), "{list}");
    assert_eq!(
        get(format!("/v1/conversations/{conversation}")).await.0,
        404
    );
    assert_eq!(
        get(format!("/v1/conversations/{conversation}/messages"))
            .await
            .0,
        404
    );

    for (body, field) in [
        (
            json!({ "conversation_id": conversation, "text": { "body": "hijack" } }),
            "conversation_id",
        ),
        (
            json!({ "phone_number_id": PHONE_NUMBER_ID, "to": "15559990000", "text": { "body": "hijack" } }),
            "phone_number_id",
        ),
    ] {
        let res = t
            .http
            .post(format!("{}/v1/messages", t.base()))
            .bearer_auth("sk_test_globex")
            .json(&body)
            .send()
            .await
            .expect("reachable");
        assert_eq!(res.status(), 422, "{field}");
    }
    assert!(t.sandbox_sent().await.is_empty());
}
