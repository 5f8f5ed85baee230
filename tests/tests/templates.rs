//! Message templates end to end: submitted through the API to the Meta sandbox, reviewed there,
//! moved by Meta's template webhooks through the webhook and inbound functions, repaired by the
//! scheduled sync when a webhook never came, and read by the compliance gate before each send.

use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_domain::TenantId;
use switchboard_e2e::*;
use switchboard_store::{SUBMITTING_STATUS, TemplateRecord};

const GLOBEX_KEY: &str = "sk_test_globex_templates";

fn utility(name: &str, body: &str) -> Value {
    json!({
        "waba_id": WABA_ID,
        "name": name,
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {"type": "BODY", "text": body, "example": {"body_text": [["A-1001"]]}},
            {"type": "FOOTER", "text": "Acme Shop"}
        ]
    })
}

async fn create(t: &TestStack, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let (status, answer) = t.api_post("/v1/templates", body, headers).await;
    (status.as_u16(), answer)
}

async fn created(t: &TestStack, body: &Value) -> Value {
    let (status, answer) = create(t, body, &[]).await;
    assert_eq!(status, 201, "{answer}");
    answer
}

/// Waits until `GET /v1/templates/{name}` shows `status`.
async fn template_with_status(t: &TestStack, name: &str, status: &str) -> Value {
    eventually(&format!("template {name} to be {status}"), WAIT, || async {
        let (code, body) = t.api_get(&format!("/v1/templates/{name}")).await;
        (code == 200 && body["status"] == status).then_some(body)
    })
    .await
}

/// A control call to the sandbox's template (`pause`, `category`, …); `webhook: false` changes
/// it without telling the platform.
async fn at_meta(t: &TestStack, id: &str, action: &str, body: Value, webhook: bool) -> Value {
    let query = if webhook { "" } else { "?webhook=false" };
    t.sandbox_post(&format!("/sandbox/templates/{id}/{action}{query}"), &body)
        .await
}

async fn sandbox_templates(t: &TestStack) -> Vec<Value> {
    let res = t
        .http
        .get(format!("{}/sandbox/templates", t.sandbox_url()))
        .send()
        .await
        .expect("sandbox reachable");
    res.json::<Vec<Value>>().await.expect("templates are JSON")
}

async fn sync(t: &TestStack) -> switchboard_template_sync::SyncReport {
    switchboard_template_sync::handle(&t.stack.template_sync, Value::Null)
        .await
        .expect("the sync runs")
}

fn template_send(to: &str, name: &str) -> Value {
    json!({
        "phone_number_id": PHONE_NUMBER_ID, "to": to, "type": "template",
        "template": {
            "name": name, "language": { "code": "en_US" },
            "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "A-1001" }] }]
        }
    })
}

/// The API refuses the send at once: the template is not approved (or not known) now.
async fn refused_not_approved(t: &TestStack, body: &Value) {
    let (status, problem) = t.api_post("/v1/messages", body, &[]).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "/problems/policy-denied", "{problem}");
    assert_eq!(problem["reason"], "template_not_approved", "{problem}");
}

async fn send(t: &TestStack, body: &Value) -> String {
    let (status, answer) = t.api_post("/v1/messages", body, &[]).await;
    assert_eq!(status, 202, "{answer}");
    answer["id"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_template_goes_to_meta_for_review_and_follows_metas_webhooks() {
    let t = spawn_stack().await;

    // Submitted: Meta's id, still in review; the same request again is answered the same.
    let body = utility("order_shipped", "Your order {{1}} has shipped.");
    let key = [("idempotency-key", "tpl-order-shipped-1")];
    let (status, first) = create(&t, &body, &key).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["status"], "PENDING", "{first}");
    assert_eq!(first["category"], "UTILITY");
    assert_eq!(first["waba_id"], WABA_ID);
    let meta_id = first["id"].as_str().expect("Meta's id").to_owned();
    assert_eq!(create(&t, &body, &key).await, (201, first.clone()));
    let at_sandbox = sandbox_templates(&t).await;
    assert_eq!(at_sandbox.len(), 1, "submitted once: {at_sandbox:?}");
    assert_eq!(at_sandbox[0]["id"], meta_id.as_str());

    // The same name and language again is a conflict, here and not at Meta.
    let (status, again) = create(&t, &body, &[]).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["type"], "/problems/conflict");

    // Meta approves it and says so by webhook.
    let approved = template_with_status(&t, "order_shipped", "APPROVED").await;
    assert_eq!(approved["id"], meta_id.as_str());
    assert!(approved["status_at"].is_string(), "{approved}");
    let (status, page) = t.api_get("/v1/templates?status=approved").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"][0]["name"], "order_shipped", "{page}");
    let (_, pending) = t.api_get("/v1/templates?status=PENDING").await;
    assert_eq!(pending["data"], json!([]), "{pending}");

    // Approved: it goes to a customer inside the window.
    let to = "34910000101";
    t.open_window("acme", to).await;
    let id = send(&t, &template_send(to, "order_shipped")).await;
    let out = eventually("the template send to go out", WAIT, || async {
        let m = t.message(&id).await;
        match m["status"].as_str() {
            Some("sent" | "delivered" | "read") => Some(m),
            Some("denied" | "failed") => panic!("not sent: {m}"),
            _ => None,
        }
    })
    .await;
    assert_eq!(out["decision"]["outcome"], "allow", "{out}");

    // Meta's category and quality updates land on the template.
    at_meta(
        &t,
        &meta_id,
        "category",
        json!({"category": "MARKETING"}),
        true,
    )
    .await;
    eventually("the category update", WAIT, || async {
        let (_, b) = t.api_get("/v1/templates/order_shipped").await;
        (b["category"] == "MARKETING").then_some(())
    })
    .await;
    at_meta(&t, &meta_id, "quality", json!({"score": "YELLOW"}), true).await;
    eventually("the quality update", WAIT, || async {
        let (_, b) = t.api_get("/v1/templates/order_shipped").await;
        (b["quality"] == "YELLOW").then_some(())
    })
    .await;

    // Paused by Meta: the gate refuses to send it, even inside the window.
    at_meta(&t, &meta_id, "pause", json!({}), true).await;
    let paused = template_with_status(&t, "order_shipped", "PAUSED").await;
    assert_eq!(paused["reason"], "FIRST_PAUSE", "{paused}");
    assert_eq!(
        paused["category"], "MARKETING",
        "the status update keeps the category"
    );
    refused_not_approved(&t, &template_send(to, "order_shipped")).await;

    // An older report arriving late changes nothing: the APPROVED of before the pause.
    let late = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "time": time::OffsetDateTime::now_utc().unix_timestamp() - 3600,
            "changes": [{"field": "message_template_status_update", "value": {
                "event": "APPROVED", "message_template_id": meta_id.parse::<u64>().unwrap(),
                "message_template_name": "order_shipped", "message_template_language": "en_US",
                "reason": "NONE", "message_template_category": "MARKETING"}}]}]
    });
    let tenant = TenantId::from("acme");
    let status_events = || async {
        t.stack
            .store
            .list_tenant_events(&tenant, "message_template_status_update", 100)
            .await
            .expect("events readable")
            .len()
    };
    let before = status_events().await;
    assert_eq!(t.post_signed(late.to_string().as_bytes()).await, 200);
    eventually("the late report applied (and kept)", WAIT, || async {
        (status_events().await > before).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, still) = t.api_get("/v1/templates/order_shipped").await;
    assert_eq!(still["status"], "PAUSED", "{still}");

    // A template whose body Meta finds badly formatted is rejected, with Meta's reason.
    let rejected = created(&t, &utility("bad_format", "Hello {{1}}{{2}} REJECTME")).await;
    assert_eq!(rejected["status"], "PENDING");
    let rejected = template_with_status(&t, "bad_format", "REJECTED").await;
    assert_eq!(rejected["reason"], "INVALID_FORMAT", "{rejected}");
    refused_not_approved(&t, &template_send(to, "bad_format")).await;

    // Deleted at Meta, then here.
    let (status, _, answer) = t
        .api_request(Method::DELETE, "/v1/templates/bad_format", &[], None)
        .await;
    assert_eq!(status, 204, "{answer}");
    let (status, _) = t.api_get("/v1/templates/bad_format").await;
    assert_eq!(status, 404);
    let names: Vec<Value> = sandbox_templates(&t)
        .await
        .into_iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, [json!("order_shipped")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scheduled_sync_repairs_what_no_webhook_said() {
    let t = spawn_stack().await;
    let first = created(
        &t,
        &utility("delivery_window", "Your delivery {{1}} comes today."),
    )
    .await;
    let second = created(&t, &utility("invoice_ready", "Invoice {{1}} is ready.")).await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    let second_id = second["id"].as_str().unwrap().to_owned();
    template_with_status(&t, "delivery_window", "APPROVED").await;
    template_with_status(&t, "invoice_ready", "APPROVED").await;
    // Nothing to repair: the webhooks said it all.
    let report = sync(&t).await;
    assert_eq!(
        (report.wabas, report.checked, report.repaired),
        (1, 2, 0),
        "{report:?}"
    );

    // The sync's report is dated a moment before it lists; let the webhooks' time pass it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Meta pauses one and recategorizes the other; no webhook reaches the platform.
    at_meta(&t, &first_id, "pause", json!({}), false).await;
    at_meta(
        &t,
        &second_id,
        "category",
        json!({"category": "MARKETING"}),
        false,
    )
    .await;
    at_meta(&t, &second_id, "quality", json!({"score": "RED"}), false).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, before) = t.api_get("/v1/templates/delivery_window").await;
    assert_eq!(before["status"], "APPROVED", "no webhook came: {before}");

    let report = sync(&t).await;
    assert_eq!(report.repaired, 2, "{report:?}");
    let (_, paused) = t.api_get("/v1/templates/delivery_window").await;
    assert_eq!(paused["status"], "PAUSED", "{paused}");
    let (_, recategorized) = t.api_get("/v1/templates/invoice_ready").await;
    assert_eq!(
        (
            &recategorized["category"],
            &recategorized["quality"],
            &recategorized["status"]
        ),
        (&json!("MARKETING"), &json!("RED"), &json!("APPROVED")),
        "{recategorized}"
    );
    // A RED rating the sync found holds the tenant's marketing for review.
    let tenant = t
        .stack
        .store
        .get_tenant(&switchboard_domain::TenantId::from("acme"))
        .await
        .expect("store")
        .expect("tenant");
    assert_eq!(
        tenant.marketing_suspension.map(|m| m.reason).as_deref(),
        Some("template_quality_red")
    );
    // Repaired once is repaired: a second run finds nothing.
    assert_eq!(sync(&t).await.repaired, 0);

    // The gate reads the repaired state.
    let to = "34910000102";
    t.open_window("acme", to).await;
    refused_not_approved(&t, &template_send(to, "delivery_window")).await;

    // Deleted at Meta (in WhatsApp Manager, say): marked deleted here, no longer sent.
    let res = t
        .http
        .delete(format!(
            "{}/v23.0/{WABA_ID}/message_templates?name=invoice_ready",
            t.sandbox_url()
        ))
        .bearer_auth(ACCESS_TOKEN)
        .send()
        .await
        .expect("sandbox reachable");
    assert!(res.status().is_success(), "{}", res.status());
    // Only templates older than the grace period are marked: this one is, by the clock.
    t.stack.clock.skip(time::Duration::minutes(11));
    let report = sync(&t).await;
    assert_eq!(report.marked_deleted, 1, "{report:?}");
    let (_, gone) = t.api_get("/v1/templates/invoice_ready").await;
    assert_eq!(gone["status"], "DELETED", "{gone}");
    // Its name can be used again.
    let again = created(
        &t,
        &utility("invoice_ready", "Your invoice {{1}} is ready."),
    )
    .await;
    assert_eq!(again["status"], "PENDING", "{again}");
    assert_ne!(again["id"], second["id"]);

    // A submission whose answer was lost (Meta holds it, we have only the placeholder) is
    // completed; one that never reached Meta frees its name.
    let tenant = TenantId::from("acme");
    // Review takes Meta a while here: no webhook answers for these two meanwhile.
    let res = t
        .http
        .put(format!(
            "{}/sandbox/templates/review-delay",
            t.sandbox_url()
        ))
        .json(&json!({"delay_ms": 600_000}))
        .send()
        .await
        .expect("sandbox reachable");
    assert!(res.status().is_success());
    let lost_at_meta = json!({
        "name": "lost_answer", "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Order {{1}} confirmed.",
                        "example": {"body_text": [["A-1"]]}}]
    });
    let res = t
        .http
        .post(format!(
            "{}/v23.0/{WABA_ID}/message_templates",
            t.sandbox_url()
        ))
        .bearer_auth(ACCESS_TOKEN)
        .json(&lost_at_meta)
        .send()
        .await
        .expect("sandbox reachable");
    let lost_id = res.json::<Value>().await.unwrap()["id"].clone();
    let now = time::OffsetDateTime::now_utc();
    for name in ["lost_answer", "never_sent"] {
        let placeholder = TemplateRecord {
            waba_id: WABA_ID.into(),
            name: name.into(),
            language: "en_US".into(),
            template_id: None,
            category: "UTILITY".into(),
            status: SUBMITTING_STATUS.into(),
            reason: None,
            quality: None,
            components_json: "[]".into(),
            created_at: now - time::Duration::minutes(30),
            status_at: None,
            category_at: None,
            quality_at: None,
            created_by: None,
        };
        assert!(
            t.stack
                .store
                .put_template(&tenant, &placeholder, false)
                .await
                .expect("stored")
        );
    }
    let report = sync(&t).await;
    assert_eq!(
        (report.completed, report.abandoned_removed),
        (1, 1),
        "{report:?}"
    );
    let lost = template_with_status(&t, "lost_answer", "PENDING").await;
    assert_eq!(lost["id"], lost_id);
    let (status, _) = t.api_get("/v1/templates/never_sent").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn templates_are_checked_and_stay_the_tenants_own() {
    let t = spawn_stack().await;
    let (status, _) = create(
        &t,
        &utility("welcome_offer", "Welcome! Your code is {{1}}."),
        &[],
    )
    .await;
    assert_eq!(status, 201);
    // By the number instead of the WABA: the number's WABA.
    let mut by_number = utility("welcome_offer", "Willkommen! Dein Code ist {{1}}.");
    by_number.as_object_mut().unwrap().remove("waba_id");
    by_number["phone_number_id"] = json!(PHONE_NUMBER_ID);
    by_number["language"] = json!("de");
    let (status, german) = create(&t, &by_number, &[]).await;
    assert_eq!(status, 201, "{german}");
    assert_eq!(german["waba_id"], WABA_ID);
    // Two languages of one name: which one is meant has to be said.
    let (status, both) = t.api_get("/v1/templates/welcome_offer").await;
    assert_eq!(status, 400, "{both}");
    assert_eq!(both["errors"][0]["field"], "language", "{both}");
    let (status, one) = t.api_get("/v1/templates/welcome_offer?language=de").await;
    assert_eq!(
        (status.as_u16(), &one["language"]),
        (200, &json!("de")),
        "{one}"
    );

    // Every invalid field is named, before anything reaches Meta.
    let (status, problem) = create(
        &t,
        &json!({"name": "Welcome Offer", "language": "english", "category": "PROMOTION",
                "components": [{"type": "BANNER"}], "colour": "red"}),
        &[],
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "/problems/validation");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    for field in [
        "colour",
        "waba_id",
        "name",
        "language",
        "category",
        "components[0].type",
    ] {
        assert!(fields.contains(&field), "{field} not named: {problem}");
    }
    let (status, _, malformed) = t
        .api_request(
            Method::POST,
            "/v1/templates",
            &[("content-type", "application/json")],
            Some(b"{not json".to_vec()),
        )
        .await;
    assert_eq!(status, 400, "{malformed}");
    let (status, unknown) = t.api_get("/v1/templates?colour=red").await;
    assert_eq!(status, 400, "{unknown}");
    assert_eq!(unknown["type"], "/problems/invalid-query");
    // A WABA the tenant did not connect.
    let mut elsewhere = utility("welcome_offer", "Hi {{1}}");
    elsewhere["waba_id"] = json!("999999999999999");
    let (status, refused) = create(&t, &elsewhere, &[]).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "waba_id");
    // Meta refuses what only Meta checks: the sandbox, like Meta, wants known languages.
    let at_sandbox = sandbox_templates(&t).await.len();
    assert_eq!(at_sandbox, 2, "nothing invalid reached Meta");

    // Another tenant sees none of it, and cannot use acme's WABA.
    switchboard_dev::seed::seed_tenant(&t.stack.store, "globex", "Globex", GLOBEX_KEY)
        .await
        .expect("globex seeded");
    let as_globex = |method: Method, path: &str, body: Option<Value>| {
        let t = &t;
        let path = path.to_owned();
        async move {
            t.call(method, &path, Auth::Bearer(GLOBEX_KEY), body.as_ref())
                .await
        }
    };
    let (status, _, answer) =
        as_globex(Method::GET, "/v1/templates/welcome_offer?language=de", None).await;
    assert_eq!(status, 404, "{answer}");
    let (status, _, answer) = as_globex(
        Method::GET,
        &format!("/v1/templates/welcome_offer?language=de&waba_id={WABA_ID}"),
        None,
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    let (status, _, page) = as_globex(Method::GET, "/v1/templates", None).await;
    assert_eq!(
        (status.as_u16(), &page["data"]),
        (200, &json!([])),
        "{page}"
    );
    let (status, _, answer) = as_globex(Method::DELETE, "/v1/templates/welcome_offer", None).await;
    assert_eq!(status, 404, "{answer}");
    let (status, _, answer) = as_globex(
        Method::POST,
        "/v1/templates",
        Some(utility("globex_offer", "Hi {{1}}")),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "waba_id");
    assert_eq!(sandbox_templates(&t).await.len(), 2, "acme's are untouched");
    let (_, _, acme_page) = t
        .call(Method::GET, "/v1/templates", Auth::Bearer(API_KEY), None)
        .await;
    assert_eq!(acme_page["data"].as_array().map(Vec::len), Some(2));
}
