//! A tenant's marketing held for review end to end (P20): repeated prohibited-content refusals,
//! or one of its templates rated RED by Meta, suspend its marketing; marketing templates are
//! then refused with `marketing_suspended` while utility templates and replies in the window
//! still go, `GET /v1/tenant` shows why, and the operator lifts it after review.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_e2e::*;
use switchboard_store::PROHIBITED_REFUSALS_BEFORE_SUSPENSION;

fn text_to(to: &str, body: &str) -> Value {
    json!({ "phone_number_id": PHONE_NUMBER_ID, "to": to, "type": "text", "text": { "body": body } })
}

fn template_to(to: &str, name: &str) -> Value {
    json!({
        "phone_number_id": PHONE_NUMBER_ID, "to": to, "type": "template",
        "template": {
            "name": name, "language": { "code": "en_US" },
            "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "20%" }] }]
        }
    })
}

async fn opted_in(t: &TestStack, to: &str) {
    let (status, answer) = opt_in(t, to).await;
    assert_eq!(status, 200, "{answer}");
}

/// The policy's reason for refusing the message: at once (422 `/problems/policy-denied`) or,
/// once accepted, on the stored message the outbound function denied.
async fn refused(t: &TestStack, body: Value) -> String {
    let (status, answer) = t.api_post("/v1/messages", &body, &[]).await;
    if status == 422 {
        assert_eq!(answer["type"], "/problems/policy-denied", "{answer}");
        return answer["reason"].as_str().expect("a reason").to_owned();
    }
    assert_eq!(status, 202, "{answer}");
    let id = answer["id"].as_str().expect("id");
    let m = t.wait_for_status(id, "denied").await;
    m["decision"]["reason"]
        .as_str()
        .expect("a reason")
        .to_owned()
}

/// Accepted and taken by Meta.
async fn goes(t: &TestStack, body: Value) {
    let (status, answer) = t.api_post("/v1/messages", &body, &[]).await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["id"].as_str().expect("id").to_owned();
    eventually(&format!("message {id} to go out"), WAIT, || async {
        let m = t.message(&id).await;
        match m["status"].as_str() {
            Some("sent" | "delivered" | "read") => Some(m),
            Some("denied" | "failed") => panic!("message {id} did not go out: {m}"),
            _ => None,
        }
    })
    .await;
}

/// `GET /v1/tenant` as the admin (API keys cannot read the tenant).
async fn tenant_view(t: &TestStack) -> Value {
    let admin = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, _, tenant) = t
        .call(Method::GET, "/v1/tenant", Auth::Bearer(&admin), None)
        .await;
    assert_eq!(status, 200, "{tenant}");
    tenant
}

async fn marketing_suspension(t: &TestStack) -> Value {
    tenant_view(t).await["marketing_suspension"].clone()
}

async fn resume_marketing(t: &TestStack) -> Value {
    let key = t.operator_key().await;
    let (status, _, tenant) = t
        .call(
            Method::POST,
            "/operator/tenants/acme/marketing/resume",
            Auth::Bearer(&key),
            Some(&json!({ "reason": "reviewed with the business" })),
        )
        .await;
    assert_eq!(status, 200, "{tenant}");
    tenant
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repeated_prohibited_content_suspends_marketing_until_the_operator_resumes_it() {
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;
    approve_template_with_id(&t, "spring_sale", "MARKETING", "200111").await;
    approve_template_with_id(&t, "order_update", "UTILITY", "200112").await;
    // Madrid landlines: one zone, so the quiet hours above hold.
    let (first, second, third) = ("34910000071", "34910000072", "34910000073");
    for to in [first, second, third] {
        opted_in(&t, to).await;
    }
    let chatting = "34910000074";
    t.open_window("acme", chatting).await;

    // Below the threshold: each is refused, marketing is not held.
    for _ in 1..PROHIBITED_REFUSALS_BEFORE_SUSPENSION {
        let reason = refused(&t, text_to(chatting, "Cheap cigarettes delivered tonight")).await;
        assert_eq!(reason, "prohibited_content");
    }
    assert_eq!(marketing_suspension(&t).await, Value::Null);
    goes(&t, template_to(first, "spring_sale")).await;

    // The threshold: marketing is held, and the business sees why.
    let reason = refused(&t, text_to(chatting, "Cheap cigarettes delivered tonight")).await;
    assert_eq!(reason, "prohibited_content");
    let held = eventually("marketing suspended", WAIT, || async {
        let s = marketing_suspension(&t).await;
        s.is_object().then_some(s)
    })
    .await;
    assert_eq!(held["reason"], "prohibited_content", "{held}");
    assert!(held["since"].is_string(), "{held}");
    assert_eq!(
        tenant_view(&t).await["suspension"],
        Value::Null,
        "only marketing is held"
    );

    // Marketing to an opted-in customer is refused; utility and in-window replies still go.
    assert_eq!(
        refused(&t, template_to(second, "spring_sale")).await,
        "marketing_suspended"
    );
    goes(&t, template_to(second, "order_update")).await;
    goes(&t, text_to(chatting, "Your order is on its way")).await;

    // The operator lifts it after review: marketing goes again.
    let resumed = resume_marketing(&t).await;
    assert_eq!(resumed["marketing_suspension"], Value::Null, "{resumed}");
    assert_eq!(marketing_suspension(&t).await, Value::Null);
    goes(&t, template_to(third, "spring_sale")).await;
    // Resuming a tenant that is not held answers it as it is.
    assert_eq!(
        resume_marketing(&t).await["marketing_suspension"],
        Value::Null
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_template_rated_red_suspends_marketing() {
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;
    approve_template_with_id(&t, "spring_sale", "MARKETING", "200111").await;
    let to = "34910000081";
    opted_in(&t, to).await;

    // A template submitted through the API; the sandbox approves it by webhook.
    let (status, created) = t
        .api_post(
            "/v1/templates",
            &json!({
                "waba_id": WABA_ID,
                "name": "weekly_offers",
                "language": "en_US",
                "category": "MARKETING",
                "components": [
                    {"type": "BODY", "text": "This week: {{1}} off.", "example": {"body_text": [["20%"]]}},
                    {"type": "FOOTER", "text": "Acme Shop"}
                ]
            }),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let meta_id = created["id"].as_str().expect("Meta's id").to_owned();
    eventually("the template approved", WAIT, || async {
        let (code, b) = t.api_get("/v1/templates/weekly_offers").await;
        (code == 200 && b["status"] == "APPROVED").then_some(())
    })
    .await;

    // YELLOW holds nothing.
    t.sandbox_post(
        &format!("/sandbox/templates/{meta_id}/quality"),
        &json!({ "score": "YELLOW" }),
    )
    .await;
    eventually("the YELLOW rating", WAIT, || async {
        let (_, b) = t.api_get("/v1/templates/weekly_offers").await;
        (b["quality"] == "YELLOW").then_some(())
    })
    .await;
    assert_eq!(marketing_suspension(&t).await, Value::Null);

    // RED, by Meta's webhook: marketing is held pending review.
    t.sandbox_post(
        &format!("/sandbox/templates/{meta_id}/quality"),
        &json!({ "score": "RED" }),
    )
    .await;
    let held = eventually("marketing suspended", WAIT, || async {
        let s = marketing_suspension(&t).await;
        s.is_object().then_some(s)
    })
    .await;
    assert_eq!(held["reason"], "template_quality_red", "{held}");
    assert_eq!(
        refused(&t, template_to(to, "spring_sale")).await,
        "marketing_suspended"
    );

    let resumed = resume_marketing(&t).await;
    assert_eq!(resumed["marketing_suspension"], Value::Null, "{resumed}");
    goes(&t, template_to(to, "spring_sale")).await;
}
