//! The compliance gate end to end on the local stack. The API decides at once where it can: a
//! message the policy refuses then is answered 422 `/problems/policy-denied` with the reason,
//! and nothing is stored or sent. Every accepted message goes through the outbound function's
//! policy check again right before its send, and that decision is stored on the message where
//! the business can read it (`GET /v1/messages/{id}`: `status` and `decision`).

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::compliance::{CONFIRMATIONS, ConsentKeyword, confirmation};
use switchboard_e2e::*;

async fn post_message(t: &TestStack, body: Value) -> (u16, Value) {
    let (status, answer) = t.api_post("/v1/messages", &body, &[]).await;
    (status.as_u16(), answer)
}

async fn accepted_id(t: &TestStack, body: Value) -> String {
    let (status, answer) = post_message(t, body).await;
    assert_eq!(status, 202, "{answer}");
    answer["id"].as_str().expect("id").to_owned()
}

/// The API refused the message at once for `reason`; the problem is returned.
async fn refused(t: &TestStack, body: Value, reason: &str) -> Value {
    let (status, problem) = post_message(t, body).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "/problems/policy-denied", "{problem}");
    assert_eq!(problem["reason"], reason, "{problem}");
    assert!(problem["detail"].is_string(), "{problem}");
    problem
}

fn text_to(to: &str, body: &str) -> Value {
    json!({ "phone_number_id": PHONE_NUMBER_ID, "to": to, "type": "text", "text": { "body": body } })
}

fn marketing_template_to(to: &str) -> Value {
    json!({
        "phone_number_id": PHONE_NUMBER_ID, "to": to, "type": "template",
        "template": {
            "name": "spring_sale", "language": { "code": "en_US" },
            "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "20%" }] }]
        }
    })
}

/// Waits until Meta took the message (sent, or already delivered or read); a message that
/// ends any other way fails the test with its record.
async fn went_out(t: &TestStack, id: &str) -> Value {
    eventually(&format!("message {id} to go out"), WAIT, || async {
        let m = t.message(id).await;
        match m["status"].as_str() {
            Some("sent" | "delivered" | "read") => Some(m),
            Some("denied" | "failed") => panic!("message {id} did not go out: {m}"),
            _ => None,
        }
    })
    .await
}

async fn decided(t: &TestStack, id: &str, status: &str) -> Value {
    let m = t.wait_for_status(id, status).await;
    assert!(m["decision"].is_object(), "{m}");
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outside_the_window_free_text_is_denied_and_an_approved_template_to_an_opted_in_customer_goes()
 {
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;
    // A Madrid landline: one time zone, so the quiet hours above hold for it.
    let to = "34910000011";

    // No message from the customer: the window is closed, and the API says so at once.
    let problem = refused(&t, text_to(to, "Hello there"), "window_closed").await;
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        !detail.contains(to) && !detail.contains("Hello there"),
        "{problem}"
    );

    // A template nobody approved is refused even to a customer who opted in.
    assert_eq!(opt_in(&t, to).await.0, 200);
    refused(&t, marketing_template_to(to), "template_not_approved").await;

    // Approved by Meta: it goes.
    approve_template(&t, "spring_sale", "MARKETING").await;
    let id = accepted_id(&t, marketing_template_to(to)).await;
    let sent = went_out(&t, &id).await;
    assert_eq!(sent["decision"]["outcome"], "allow", "{sent}");
    let request = eventually("the template reaches Meta", WAIT, || async {
        t.sandbox_sent()
            .await
            .into_iter()
            .find(|s| s["body"]["to"] == to && s["body"]["type"] == "template")
    })
    .await;
    assert_eq!(request["body"]["template"]["name"], "spring_sale");

    // Nothing else reached Meta for this customer.
    let to_customer = t
        .sandbox_sent()
        .await
        .into_iter()
        .filter(|s| s["body"]["to"] == to)
        .count();
    assert_eq!(to_customer, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn business_initiated_needs_an_opt_in_an_opt_out_cannot_be_undone_by_import_and_the_cap_holds()
 {
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;
    approve_template(&t, "spring_sale", "MARKETING").await;
    let to = "34910000012";

    // No opt-in recorded: refused at once.
    refused(&t, marketing_template_to(to), "no_opt_in").await;

    // Opted in, then two marketing templates go; the third in the cap period is denied.
    assert_eq!(opt_in(&t, to).await.0, 200);
    for _ in 0..2 {
        let id = accepted_id(&t, marketing_template_to(to)).await;
        went_out(&t, &id).await;
    }
    refused(&t, marketing_template_to(to), "frequency_cap").await;

    // The business records the customer's opt-out; no import or opt-in can undo it.
    let (status, contact) = t
        .api_post(
            "/v1/contacts",
            &json!({ "phone": to, "opted_out": true }),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{contact}");
    assert_eq!(contact["consent"]["marketing"]["state"], "opted_out");
    let (status, problem) = opt_in(&t, to).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["type"], "/problems/opted-out");
    let (status, import) = t
        .api_post(
            "/v1/contacts",
            &json!({ "contacts": [
                { "phone": to, "opt_in": { "source": "import", "proof": { "text": "list" } } },
                { "phone": "+34910000013", "opt_in": { "source": "import", "proof": { "text": "list" } } },
                { "phone": "not-a-number" }
            ] }),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{import}");
    let statuses: Vec<&str> = import["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["refused", "opted_in", "invalid"], "{import}");
    assert_eq!(import["results"][2]["errors"][0]["field"], "phone");

    let (status, contact) = t.api_get(&format!("/v1/contacts/{to}")).await;
    assert_eq!(status, 200, "{contact}");
    let marketing = &contact["consent"]["marketing"];
    assert_eq!(marketing["state"], "opted_out");
    assert_eq!(
        marketing["proof"]["text"],
        "Yes, send me offers on WhatsApp"
    );
    let changes: Vec<&str> = marketing["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|c| c["change"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        changes,
        ["opted_in", "opted_out", "opt_in_refused", "opt_in_refused"]
    );
    // Found by our id as well.
    let id = contact["id"].as_str().expect("id");
    let (status, by_id) = t.api_get(&format!("/v1/contacts/{id}")).await;
    assert_eq!((status.as_u16(), &by_id["wa_id"]), (200, &json!(to)));

    refused(&t, marketing_template_to(to), "opted_out").await;
    // The opted-out customer still gets answers inside the window they open.
    t.open_window("acme", to).await;
    let id = accepted_id(&t, text_to(to, "Your order shipped")).await;
    went_out(&t, &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prohibited_content_is_refused_with_its_category_and_every_message_type_reaches_meta() {
    let t = spawn_stack().await;
    let to = "15557000004";
    t.open_window("acme", to).await;

    let problem = refused(
        &t,
        text_to(to, "Cheap cigarettes delivered tonight"),
        "prohibited_content",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("tobacco")),
        "{problem}"
    );

    let kinds = [
        json!({ "type": "image", "image": { "link": "https://acme.example/a.jpg", "caption": "Your receipt" } }),
        json!({ "type": "document", "document": { "id": "1234567890", "filename": "invoice.pdf" } }),
        json!({ "type": "location", "location": { "latitude": 40.4168, "longitude": -3.7038, "name": "Acme Madrid" } }),
        json!({ "type": "interactive", "interactive": {
            "type": "button", "body": { "text": "Did this help?" },
            "action": { "buttons": [
                { "type": "reply", "reply": { "id": "yes", "title": "Yes" } },
                { "type": "reply", "reply": { "id": "no", "title": "No" } }
            ] } } }),
        json!({ "type": "reaction", "reaction": { "message_id": "wamid.window-15557000004", "emoji": "\u{1F44D}" } }),
        json!({ "type": "text", "text": { "body": "Replying to you" }, "context": { "message_id": "wamid.window-15557000004" } }),
    ];
    for kind in &kinds {
        let mut body = kind.clone();
        body["phone_number_id"] = json!(PHONE_NUMBER_ID);
        body["to"] = json!(to);
        let id = accepted_id(&t, body).await;
        went_out(&t, &id).await;
    }
    let sent: Vec<Value> = t
        .sandbox_sent()
        .await
        .into_iter()
        .filter(|s| s["body"]["to"] == to)
        .map(|s| s["body"].clone())
        .collect();
    assert_eq!(sent.len(), kinds.len(), "the prohibited one never left");
    for kind in &kinds {
        let kind_name = kind["type"].as_str().expect("type");
        let on_wire = sent
            .iter()
            .find(|s| s["type"] == kind_name && s[kind_name] == kind[kind_name])
            .unwrap_or_else(|| panic!("{kind_name} reached Meta in its own shape: {sent:?}"));
        assert_eq!(on_wire["messaging_product"], "whatsapp");
        if let Some(context) = kind.get("context") {
            assert_eq!(&on_wire["context"], context);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invalid_messages_are_refused_naming_each_field() {
    let t = spawn_stack().await;
    let four_buttons: Vec<Value> = (0..4)
        .map(|n| json!({ "type": "reply", "reply": { "id": format!("b{n}"), "title": "A very long button title" } }))
        .collect();
    let cases = [
        (
            json!({ "type": "interactive", "interactive": { "type": "button", "body": { "text": "Pick" }, "action": { "buttons": four_buttons } } }),
            "interactive.action.buttons",
        ),
        (
            json!({ "type": "image", "image": { "caption": "no media" } }),
            "image",
        ),
        (json!({ "type": "fax", "fax": {} }), "type"),
        (
            json!({ "type": "text", "text": { "body": "x" }, "image": { "id": "1" } }),
            "image",
        ),
        (
            json!({ "type": "location", "location": { "latitude": 91.0, "longitude": 0.0 } }),
            "location.latitude",
        ),
    ];
    for (mut body, field) in cases {
        body["phone_number_id"] = json!(PHONE_NUMBER_ID);
        body["to"] = json!("15557000005");
        let (status, problem) = post_message(&t, body.clone()).await;
        assert_eq!(status, 422, "{body}: {problem}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{body} should name {field}: {problem}"
        );
    }
    assert!(
        t.sandbox_sent().await.is_empty(),
        "nothing invalid was sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quiet_hours_defer_a_marketing_template_to_the_recipients_morning() {
    let t = spawn_stack().await;
    approve_template(&t, "spring_sale", "MARKETING").await;
    // A Madrid landline: one time zone. Quiet hours are set to cover its local time now.
    let to = "34910000001";
    let madrid = jiff::tz::TimeZone::get("Europe/Madrid").expect("zone");
    let local = jiff::Timestamp::now().to_zoned(madrid);
    let start = local.hour();
    let end = (start + 2) % 24;
    let admin = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, _, settings) = t
        .call(
            Method::PATCH,
            "/v1/tenant",
            Auth::Bearer(&admin),
            Some(&json!({ "settings": { "marketing": { "quiet_hours": {
                "start": format!("{start:02}:00"), "end": format!("{end:02}:00")
            } } } })),
        )
        .await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(opt_in(&t, to).await.0, 200);

    // The API can tell at once: the answer says deferred, and why.
    let (status, accepted) = t
        .api_post("/v1/messages", &marketing_template_to(to), &[])
        .await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["status"], "deferred", "{accepted}");
    assert_eq!(accepted["decision"]["reason"], "quiet_hours", "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_owned();
    let deferred = decided(&t, &id, "deferred").await;
    assert_eq!(deferred["decision"]["outcome"], "defer");
    assert_eq!(deferred["decision"]["reason"], "quiet_hours");
    let until: jiff::Timestamp = deferred["decision"]["until"]
        .as_str()
        .expect("until")
        .parse()
        .expect("RFC 3339");
    let until_local = until.to_zoned(jiff::tz::TimeZone::get("Europe/Madrid").expect("zone"));
    assert_eq!(
        (until_local.hour(), until_local.minute()),
        (end, 0),
        "deferred to the end of quiet hours in Madrid: {deferred}"
    );
    assert!(
        !t.sandbox_sent().await.iter().any(|s| s["body"]["to"] == to),
        "nothing sent during quiet hours"
    );
}

async fn customer_says(t: &TestStack, from: &str, wamid: &str, text: &str) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let body = text_message_webhook(PHONE_NUMBER_ID, from, wamid, now, text);
    assert_eq!(t.post_signed(body.to_string().as_bytes()).await, 200);
}

async fn consent_state(t: &TestStack, who: &str) -> Value {
    let (status, contact) = t.api_get(&format!("/v1/contacts/{who}")).await;
    if status != 200 {
        return Value::Null;
    }
    contact["consent"]["marketing"]["state"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stop_keywords_and_meta_preferences_opt_customers_out_and_only_start_opts_back_in() {
    let t = spawn_stack().await;
    approve_template(&t, "spring_sale", "MARKETING").await;
    let customers = [
        ("15557100001", "STOP"),
        ("15557100002", "Arrêt"),
        ("15557100003", "baja"),
        ("15557100004", " Stopp! "),
    ];
    for (to, _) in customers {
        assert_eq!(opt_in(&t, to).await.0, 200);
    }
    for (n, (to, word)) in customers.iter().enumerate() {
        customer_says(&t, to, &format!("wamid.stop-{n}"), word).await;
    }
    // Meta's own preference webhook, for a fifth customer.
    let prefs_customer = "15557100005";
    assert_eq!(opt_in(&t, prefs_customer).await.0, 200);
    let prefs = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA_ID, "changes": [{ "field": "user_preferences", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": PHONE_NUMBER_ID },
            "user_preferences": [{ "wa_id": prefs_customer, "detail": "User requested to stop marketing messages",
                "category": "marketing_messages", "value": "stop",
                "timestamp": time::OffsetDateTime::now_utc().unix_timestamp() }]
        } }] }]
    });
    assert_eq!(t.post_signed(prefs.to_string().as_bytes()).await, 200);

    for (to, _) in customers
        .iter()
        .copied()
        .chain([(prefs_customer, "preference")])
    {
        eventually(&format!("{to} opted out"), WAIT, || async {
            (consent_state(&t, to).await == "opted_out").then_some(())
        })
        .await;
    }
    // One confirmation to each keyword, none to the preference (Meta's own UI confirms it),
    // in the keyword's language; "STOP", which many languages share, in English.
    let opted_out_texts: Vec<&str> = CONFIRMATIONS.iter().map(|c| c.opted_out).collect();
    let confirmations = eventually("the confirmations", WAIT, || async {
        let sent = t.sandbox_sent().await;
        let confirmed: Vec<Value> = sent
            .into_iter()
            .filter(|s| {
                s["body"]["text"]["body"]
                    .as_str()
                    .is_some_and(|b| opted_out_texts.contains(&b))
            })
            .collect();
        (confirmed.len() >= customers.len()).then_some(confirmed)
    })
    .await;
    assert_eq!(confirmations.len(), customers.len(), "{confirmations:?}");
    assert!(
        confirmations
            .iter()
            .all(|c| c["body"]["to"] != prefs_customer),
        "{confirmations:?}"
    );
    let confirmed_to = |to: &str| {
        confirmations
            .iter()
            .find(|c| c["body"]["to"] == to)
            .and_then(|c| c["body"]["text"]["body"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    for (to, language) in [
        (customers[0].0, None),
        (customers[1].0, Some("fr")),
        (customers[2].0, Some("es")),
        (customers[3].0, Some("de")),
    ] {
        assert_eq!(
            confirmed_to(to),
            confirmation(ConsentKeyword::OptOut, language),
            "{to}"
        );
    }
    assert!(
        confirmed_to(customers[2].0).contains("Responde ALTA"),
        "BAJA is confirmed in Spanish"
    );
    assert!(confirmed_to(customers[0].0).contains("Reply START"));

    // A redelivered STOP sends no second confirmation.
    customer_says(&t, customers[0].0, "wamid.stop-0", "STOP").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let again = t
        .sandbox_sent()
        .await
        .into_iter()
        .filter(|s| s["body"]["to"] == customers[0].0)
        .count();
    assert_eq!(again, 1);

    // Marketing to any of them is refused; an import cannot re-add them.
    refused(&t, marketing_template_to(customers[1].0), "opted_out").await;
    assert_eq!(opt_in(&t, customers[2].0).await.0, 409);

    // The customer's own START opts back in.
    customer_says(&t, customers[0].0, "wamid.start-0", "START").await;
    eventually("opted back in", WAIT, || async {
        (consent_state(&t, customers[0].0).await == "opted_in").then_some(())
    })
    .await;
    let (_, contact) = t.api_get(&format!("/v1/contacts/{}", customers[0].0)).await;
    assert_eq!(contact["consent"]["marketing"]["source"], "keyword");
    // START (English and German alike) is confirmed in English.
    let welcome = confirmation(ConsentKeyword::OptIn, None);
    eventually("the opt-in confirmation", WAIT, || async {
        t.sandbox_sent()
            .await
            .iter()
            .any(|s| s["body"]["to"] == customers[0].0 && s["body"]["text"]["body"] == welcome)
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metas_131050_opts_the_customer_out_and_131047_closes_the_window() {
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;
    approve_template(&t, "spring_sale", "MARKETING").await;
    let stopped = "34910000031";
    let lapsed = "34910000032";

    // Meta says the customer stopped marketing from the business (changed in WhatsApp, not
    // through us): the send fails with 131050 and the contact is opted out from then on.
    assert_eq!(opt_in(&t, stopped).await.0, 200);
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "marketing_stopped", "to": stopped }),
    )
    .await;
    let id = accepted_id(&t, marketing_template_to(stopped)).await;
    let failed = t.wait_for_status(&id, "failed").await;
    assert_eq!(failed["error"]["code"], 131050, "{failed}");
    let (status, contact) = t.api_get(&format!("/v1/contacts/{stopped}")).await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["consent"]["marketing"]["state"], "opted_out");
    assert_eq!(contact["consent"]["marketing"]["source"], "meta_error");
    refused(&t, marketing_template_to(stopped), "opted_out").await;

    // Meta says the window is closed though we thought it open (the customer's last message
    // was older than we knew): 131047 closes it, and the next free-form message is refused
    // without asking Meta.
    t.open_window("acme", lapsed).await;
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "reengagement", "to": lapsed }),
    )
    .await;
    let id = accepted_id(&t, text_to(lapsed, "Are you still there?")).await;
    let failed = t.wait_for_status(&id, "failed").await;
    assert_eq!(failed["error"]["code"], 131047, "{failed}");
    refused(&t, text_to(lapsed, "Hello?"), "window_closed").await;
    let to_lapsed = t
        .sandbox_sent()
        .await
        .into_iter()
        .filter(|s| s["body"]["to"] == lapsed)
        .count();
    assert_eq!(
        to_lapsed, 0,
        "neither free-form message was accepted by Meta"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_opt_out_while_a_message_waits_is_honoured_by_the_outbound_functions_own_gate() {
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;
    approve_template(&t, "spring_sale", "MARKETING").await;
    let to = "34910000041";
    assert_eq!(opt_in(&t, to).await.0, 200);
    t.open_window("acme", to).await;
    // Meta takes 2 s over the first send to this customer: the marketing template behind it
    // (one queue group per recipient) waits, accepted, while the business records an opt-out.
    t.sandbox_post(
        "/sandbox/faults",
        &json!({ "kind": "delay", "times": 1, "delay_ms": 2_000, "to": to }),
    )
    .await;
    let first = accepted_id(&t, text_to(to, "Your order shipped")).await;
    let waiting = accepted_id(&t, marketing_template_to(to)).await;
    let (status, contact) = t
        .api_post(
            "/v1/contacts",
            &json!({ "phone": to, "opted_out": true }),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{contact}");

    went_out(&t, &first).await;
    let denied = decided(&t, &waiting, "denied").await;
    assert_eq!(denied["decision"]["outcome"], "deny", "{denied}");
    assert_eq!(denied["decision"]["reason"], "opted_out", "{denied}");
    assert!(denied["denied_at"].is_string(), "{denied}");
    let to_customer: Vec<Value> = t
        .sandbox_sent()
        .await
        .into_iter()
        .filter(|s| s["body"]["to"] == to)
        .collect();
    assert_eq!(
        to_customer.len(),
        1,
        "only the service message: {to_customer:?}"
    );
    assert_eq!(to_customer[0]["body"]["type"], "text");

    // Now the API knows: another one is refused at once.
    refused(&t, marketing_template_to(to), "opted_out").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refusal_is_replayed_for_the_same_idempotency_key_and_nothing_is_stored() {
    let t = spawn_stack().await;
    let to = "15557000044";
    let body = text_to(to, "Hello there");
    let key = [("Idempotency-Key", "refused-once")];
    let (status, first) = t.api_post("/v1/messages", &body, &key).await;
    assert_eq!(status.as_u16(), 422, "{first}");
    assert_eq!(first["reason"], "window_closed", "{first}");

    // The customer writes: the window is open now, but the same key and body get the same
    // answer (a new send is a new key).
    t.open_window("acme", to).await;
    let (status, again) = t.api_post("/v1/messages", &body, &key).await;
    assert_eq!(status.as_u16(), 422, "{again}");
    assert_eq!(again, first);
    let id = accepted_id(&t, body).await;
    went_out(&t, &id).await;
    let sent = t
        .sandbox_sent()
        .await
        .into_iter()
        .filter(|s| s["body"]["to"] == to)
        .count();
    assert_eq!(sent, 1, "only the message sent with a new key");

    // Nothing was stored for the refused one (its id would follow from the key).
    let refused_id = switchboard_domain::MessageId::for_idempotency_key(
        &switchboard_domain::TenantId::from("acme"),
        "api:messages",
        "refused-once",
    );
    let (status, none) = t.api_get(&format!("/v1/messages/{refused_id}")).await;
    assert_eq!(status, 404, "{none}");
}
