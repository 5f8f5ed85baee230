//! Tenant settings and operator suspension end to end: every role reads the settings and only
//! admins change them (each invalid field named), the change is audited; only the operator
//! key suspends and resumes a tenant, and while it is suspended its sends are refused with
//! the reason, its people see why, and customers' messages are still taken in.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_e2e::{
    ADMIN_EMAIL, ADMIN_PASSWORD, API_KEY, Auth, PHONE_NUMBER_ID, TestStack, spawn_stack,
    text_message_webhook,
};

const PASSWORD: &str = "a long enough passphrase";
const REASON: &str = "Spam reports under review: contact support@switchboard.example";
const CUSTOMER: &str = "15551234567";

async fn call(
    t: &TestStack,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, _, body) = t.call(method, path, auth, body.as_ref()).await;
    (status.as_u16(), body)
}

fn fields(problem: &Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    fields.sort_unstable();
    fields
}

async fn audit(t: &TestStack, admin: &str) -> Vec<Value> {
    let (status, body) = call(
        t,
        Method::GET,
        "/v1/audit?limit=100",
        Auth::Bearer(admin),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

fn entry<'a>(entries: &'a [Value], action: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {entries:?}"))
}

fn send_body(text: &str) -> Value {
    json!({ "phone_number_id": PHONE_NUMBER_ID, "to": CUSTOMER, "type": "text", "text": { "body": text } })
}

#[tokio::test]
async fn settings_are_read_by_everyone_changed_by_admins_and_suspension_stops_sending() {
    let t = spawn_stack().await;
    let admin = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    t.add_person(&admin, "agent@acme.example", "agent", PASSWORD)
        .await;
    let agent = t.access_token("agent@acme.example", PASSWORD).await;

    // ---- Defaults, readable by every role.
    let (status, tenant) = call(&t, Method::GET, "/v1/tenant", Auth::Bearer(&admin), None).await;
    assert_eq!(status, 200, "{tenant}");
    assert_eq!(tenant["id"], "acme");
    assert_eq!(tenant["name"], "Acme");
    assert!(tenant["created_at"].is_string(), "{tenant}");
    assert_eq!(tenant["suspension"], Value::Null);
    let settings = &tenant["settings"];
    assert_eq!(settings["timezone"], "UTC");
    assert_eq!(settings["retention_months"], 12);
    assert_eq!(settings["marketing"]["cap_per_recipient"], 2);
    assert_eq!(settings["marketing"]["cap_window_days"], 7);
    assert_eq!(settings["marketing"]["quiet_hours"]["start"], "21:00");
    assert_eq!(settings["marketing"]["quiet_hours"]["end"], "08:00");
    assert_eq!(settings["ai_enabled"], false);
    assert_eq!(settings["alert_email"], Value::Null);
    assert_eq!(settings["business_hours"]["monday"], json!([]));
    let (status, as_agent) = call(&t, Method::GET, "/v1/tenant", Auth::Bearer(&agent), None).await;
    assert_eq!((status, &as_agent), (200, &tenant));
    // Keys are for a business's servers; no scope reaches the settings.
    let (status, _) = call(&t, Method::GET, "/v1/tenant", Auth::Bearer(API_KEY), None).await;
    assert_eq!(status, 403);
    let (status, _) = call(&t, Method::GET, "/v1/tenant", Auth::None, None).await;
    assert_eq!(status, 401);

    // ---- An admin changes some fields; the rest stay.
    let change = json!({ "settings": {
        "timezone": "Europe/Berlin",
        "retention_months": 24,
        "marketing": { "quiet_hours": { "start": "22:00", "end": "07:30" } },
        "business_hours": { "monday": [
            { "open": "09:00", "close": "13:00" }, { "open": "14:00", "close": "18:00" }
        ] },
    } });
    let (status, changed) = call(
        &t,
        Method::PATCH,
        "/v1/tenant",
        Auth::Bearer(&admin),
        Some(change),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let (status, reread) = call(&t, Method::GET, "/v1/tenant", Auth::Bearer(&admin), None).await;
    assert_eq!((status, &reread), (200, &changed));
    let settings = &reread["settings"];
    assert_eq!(settings["timezone"], "Europe/Berlin");
    assert_eq!(settings["retention_months"], 24);
    assert_eq!(settings["marketing"]["quiet_hours"]["start"], "22:00");
    assert_eq!(settings["marketing"]["quiet_hours"]["end"], "07:30");
    assert_eq!(settings["marketing"]["cap_per_recipient"], 2, "untouched");
    assert_eq!(settings["business_hours"]["monday"][1]["close"], "18:00");
    assert_eq!(settings["business_hours"]["tuesday"], json!([]));
    assert_eq!(reread["name"], "Acme", "untouched");

    // ---- Every invalid field is named at once, and nothing changes.
    let invalid = json!({
        "name": "",
        "colour": "red",
        "settings": {
            "timezone": "Mars/Olympus",
            "retention_months": 121,
            "ai_enabled": "yes",
            "alert_email": "not an address",
            "marketing": { "cap_per_recipient": -1, "cap_window_days": 0, "quiet_hours": { "start": "25:00" } },
            "business_hours": { "monday": [{ "open": "18:00", "close": "09:00" }], "funday": [] },
        },
    });
    let (status, problem) = call(
        &t,
        Method::PATCH,
        "/v1/tenant",
        Auth::Bearer(&admin),
        Some(invalid),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "/problems/validation");
    assert_eq!(
        fields(&problem),
        [
            "colour",
            "name",
            "settings.ai_enabled",
            "settings.alert_email",
            "settings.business_hours.funday",
            "settings.business_hours.monday",
            "settings.marketing.cap_per_recipient",
            "settings.marketing.cap_window_days",
            "settings.marketing.quiet_hours.start",
            "settings.retention_months",
            "settings.timezone",
        ]
    );
    // Quiet hours that start where they end are no window at all.
    let (status, problem) = call(
        &t,
        Method::PATCH,
        "/v1/tenant",
        Auth::Bearer(&admin),
        Some(json!({ "settings": { "marketing": { "quiet_hours": { "start": "07:30" } } } })),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(fields(&problem), ["settings.marketing.quiet_hours.end"]);
    let (status, _, problem) = t
        .api_request(
            Method::PATCH,
            "/v1/tenant",
            &[
                ("authorization", &format!("Bearer {admin}")),
                ("content-type", "application/json"),
            ],
            Some(b"{\"settings\":".to_vec()),
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    let (_, unchanged) = call(&t, Method::GET, "/v1/tenant", Auth::Bearer(&admin), None).await;
    assert_eq!(unchanged, reread);

    // ---- Only admins change settings.
    let rename = json!({ "name": "Acme by agent" });
    let (status, problem) = call(
        &t,
        Method::PATCH,
        "/v1/tenant",
        Auth::Bearer(&agent),
        Some(rename.clone()),
    )
    .await;
    assert_eq!(status, 403, "{problem}");
    let (status, problem) = call(
        &t,
        Method::PATCH,
        "/v1/tenant",
        Auth::Bearer(API_KEY),
        Some(rename),
    )
    .await;
    assert_eq!(status, 403, "{problem}");

    // ---- The change is audited by field name, never by value.
    let (status, _) = call(
        &t,
        Method::PATCH,
        "/v1/tenant",
        Auth::Bearer(&admin),
        Some(json!({ "settings": { "alert_email": "ops@acme.example" } })),
    )
    .await;
    assert_eq!(status, 200);
    let entries = audit(&t, &admin).await;
    let changes: Vec<&str> = entries
        .iter()
        .filter(|e| e["action"] == "tenant.settings_changed")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert_eq!(changes.len(), 2, "{entries:?}");
    assert!(changes[0].contains("settings.alert_email"), "{changes:?}");
    assert!(!changes[0].contains("ops@acme.example"), "{changes:?}");
    for field in [
        "settings.timezone",
        "settings.retention_months",
        "settings.marketing.quiet_hours.start",
        "settings.marketing.quiet_hours.end",
        "settings.business_hours.monday",
    ] {
        assert!(changes[1].contains(field), "{field} in {changes:?}");
    }
    assert!(
        entry(&entries, "tenant.settings_changed")["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("user:"))
    );

    // ---- Only the operator key suspends.
    let operator = t.operator_key().await;
    let suspend = "/operator/tenants/acme/suspend";
    let reason = json!({ "reason": REASON });
    let (status, problem) = call(&t, Method::POST, suspend, Auth::None, Some(reason.clone())).await;
    assert_eq!(status, 401, "{problem}");
    for token in [admin.as_str(), API_KEY, "not-the-operator-key"] {
        let (status, problem) = call(
            &t,
            Method::POST,
            suspend,
            Auth::Bearer(token),
            Some(reason.clone()),
        )
        .await;
        assert_eq!(status, 403, "{problem}");
        assert_eq!(problem["type"], "/problems/forbidden");
    }
    let (status, problem) = call(
        &t,
        Method::POST,
        suspend,
        Auth::Bearer(&operator),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(fields(&problem), ["reason"]);
    let (status, problem) = call(
        &t,
        Method::POST,
        "/operator/tenants/tn_nobody/suspend",
        Auth::Bearer(&operator),
        Some(reason.clone()),
    )
    .await;
    assert_eq!(status, 404, "{problem}");
    let (status, suspended) = call(
        &t,
        Method::POST,
        suspend,
        Auth::Bearer(&operator),
        Some(reason.clone()),
    )
    .await;
    assert_eq!(status, 200, "{suspended}");
    assert_eq!(suspended["id"], "acme");
    assert_eq!(suspended["suspension"]["reason"], REASON);
    assert!(suspended["suspension"]["at"].is_string());
    assert_eq!(suspended["settings"]["timezone"], "Europe/Berlin");

    // ---- While suspended: nothing is sent, people see why.
    for token in [API_KEY, admin.as_str()] {
        let (status, problem) = call(
            &t,
            Method::POST,
            "/v1/messages",
            Auth::Bearer(token),
            Some(send_body("Our spring sale starts today!")),
        )
        .await;
        assert_eq!(status, 403, "{problem}");
        assert_eq!(problem["type"], "/problems/suspended");
        assert_eq!(problem["detail"], REASON);
    }
    let (status, _, problem) = t
        .api_request(
            Method::POST,
            "/v1/messages",
            &[
                ("idempotency-key", "while-suspended"),
                ("content-type", "application/json"),
            ],
            Some(send_body("again").to_string().into_bytes()),
        )
        .await;
    assert_eq!(status, 403, "{problem}");
    let (status, me) = call(&t, Method::GET, "/v1/me", Auth::Bearer(&agent), None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["tenant"]["suspension"]["reason"], REASON);
    let (_, tenant) = call(&t, Method::GET, "/v1/tenant", Auth::Bearer(&agent), None).await;
    assert_eq!(tenant["suspension"]["reason"], REASON);

    // Customers still reach the business, and their messages are kept.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let webhook = text_message_webhook(
        PHONE_NUMBER_ID,
        CUSTOMER,
        "wamid.while-suspended",
        now,
        "Is my order ready?",
    );
    assert_eq!(t.post_signed(webhook.to_string().as_bytes()).await, 200);
    let conversation = t.first_conversation().await;
    let messages = t.messages(&conversation).await;
    assert_eq!(messages.len(), 1, "only the customer's: {messages:?}");
    assert_eq!(messages[0]["direction"], "inbound", "{messages:?}");
    let reply =
        json!({ "conversation_id": conversation, "type": "text", "text": { "body": "Yes!" } });
    let (status, problem) = call(
        &t,
        Method::POST,
        "/v1/messages",
        Auth::Bearer(API_KEY),
        Some(reply.clone()),
    )
    .await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(
        t.messages(&conversation).await.len(),
        1,
        "nothing was stored"
    );

    let entries = audit(&t, &admin).await;
    let suspended_entry = entry(&entries, "tenant.suspended");
    assert_eq!(suspended_entry["actor"], "operator");
    assert_eq!(suspended_entry["target"], "tenant:acme");
    assert_eq!(suspended_entry["detail"], REASON);

    // ---- Resume: the tenant sends again.
    let resume = "/operator/tenants/acme/resume";
    let (status, _) = call(&t, Method::POST, resume, Auth::Bearer(&admin), None).await;
    assert_eq!(status, 403);
    let (status, resumed) = call(&t, Method::POST, resume, Auth::Bearer(&operator), None).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["suspension"], Value::Null);
    let (status, accepted) = call(
        &t,
        Method::POST,
        "/v1/messages",
        Auth::Bearer(API_KEY),
        Some(reply),
    )
    .await;
    assert_eq!(status, 202, "{accepted}");
    let (_, me) = call(&t, Method::GET, "/v1/me", Auth::Bearer(&agent), None).await;
    assert_eq!(me["tenant"]["suspension"], Value::Null);
    // Resuming a tenant that is not suspended changes nothing and records nothing more.
    let (status, again) = call(
        &t,
        Method::POST,
        resume,
        Auth::Bearer(&operator),
        Some(json!({ "reason": "double check" })),
    )
    .await;
    assert_eq!((status, &again["suspension"]), (200, &Value::Null));
    let entries = audit(&t, &admin).await;
    let resumed_entries: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "tenant.resumed")
        .collect();
    assert_eq!(resumed_entries.len(), 1, "{entries:?}");
    assert_eq!(resumed_entries[0]["actor"], "operator");
}
