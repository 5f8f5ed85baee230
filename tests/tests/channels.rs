//! A business onboards end to end on the local stack: it signs up, signs in, connects its own
//! WhatsApp number through Embedded Signup against the Meta sandbox, a customer writes in, and
//! an agent of that business replies with the business's own token. Then the refusals Meta
//! and the platform produce during signup, and disconnecting.

use meta_sandbox::SignupCodeRequest;
use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::TenantId;
use switchboard_e2e::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Auth, PHONE_NUMBER_ID, TestStack, WABA_ID, WAIT, eventually,
    sha256_hex, spawn_stack, text_message_webhook,
};
use switchboard_platform::token_vault::{SealedSecret, TokenPurpose};

const PASSWORD: &str = "a long enough passphrase";
const WABA: &str = "209000000000001";
const NUMBER: &str = "119000000000001";
const DISPLAY: &str = "+1 555-010-2000";
const CUSTOMER: &str = "4915112345678";

async fn call(
    t: &TestStack,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, _, body) = t
        .call(method, path, Auth::Bearer(token), body.as_ref())
        .await;
    (status.as_u16(), body)
}

/// Signs a new business up and returns its admin's access token and the tenant id.
async fn sign_up(t: &TestStack, business: &str, email: &str) -> (String, TenantId) {
    let (status, _, body) = t
        .call(
            Method::POST,
            "/v1/auth/signup",
            Auth::None,
            Some(&json!({"business_name": business, "name": "Owner", "email": email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let token = t.access_token(email, PASSWORD).await;
    let (status, me) = call(t, Method::GET, "/v1/me", &token, None).await;
    assert_eq!(status, 200, "{me}");
    let tenant = me["tenant"]["id"]
        .as_str()
        .expect("the tenant id in /v1/me")
        .to_owned();
    (token, TenantId::new(tenant))
}

fn signup_code(t: &TestStack, request: SignupCodeRequest) -> meta_sandbox::SignupCode {
    t.stack
        .sandbox
        .as_ref()
        .expect("the sandbox runs")
        .mint_signup_code(&request)
        .expect("a signup code")
}

fn business_number(waba: &str, number: &str) -> SignupCodeRequest {
    SignupCodeRequest {
        waba_id: waba.into(),
        phone_number_id: number.into(),
        display_phone_number: DISPLAY.into(),
        verified_name: Some("Blue Bottle".into()),
        pin: None,
        registered_elsewhere: false,
        expires_in_secs: None,
    }
}

fn template_status_webhook(waba: &str, template_id: u64) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": waba,
            "time": 1_764_600_000,
            "changes": [{
                "field": "message_template_status_update",
                "value": {
                    "event": "APPROVED",
                    "message_template_id": template_id,
                    "message_template_name": "order_ready",
                    "message_template_language": "en_US",
                    "reason": "NONE"
                }
            }]
        }]
    })
}

#[tokio::test]
async fn a_business_signs_up_connects_its_number_and_replies_with_its_own_token() {
    let t = spawn_stack().await;
    let (admin, tenant) = sign_up(&t, "Blue Bottle", "owner@bluebottle.example").await;

    // Before the number is connected, a customer writes and Meta reports a template: both
    // are kept, unrouted.
    let early = text_message_webhook(
        NUMBER,
        CUSTOMER,
        "wamid.early-1",
        // Minutes ago: the customer's window is still open when the business replies.
        time::OffsetDateTime::now_utc().unix_timestamp() - 300,
        "Are you open?",
    );
    assert_eq!(t.post_signed(early.to_string().as_bytes()).await, 200);
    let template = template_status_webhook(WABA, 7001);
    assert_eq!(t.post_signed(template.to_string().as_bytes()).await, 200);

    let code = signup_code(&t, business_number(WABA, NUMBER));
    let connect = json!({"code": code.code, "waba_id": WABA, "phone_number_id": NUMBER});
    let (status, connected) = call(
        &t,
        Method::POST,
        "/v1/channels/whatsapp",
        &admin,
        Some(connect.clone()),
    )
    .await;
    assert_eq!(status, 201, "{connected}");
    let pin = connected["pin"]
        .as_str()
        .expect("a generated PIN, shown once");
    assert!(
        pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()),
        "{pin}"
    );
    assert_eq!(connected["channel"]["phone_number_id"], NUMBER);
    assert_eq!(connected["channel"]["waba_id"], WABA);
    assert_eq!(connected["channel"]["verified_name"], "Blue Bottle");
    assert_eq!(connected["channel"]["display_phone_number"], DISPLAY);

    // Meta saw the subscription and the registration with that PIN.
    let sandbox = t.stack.sandbox.as_ref().expect("sandbox");
    assert!(
        sandbox.subscriptions().iter().any(|s| s.waba_id == WABA),
        "our app is subscribed to the WABA"
    );
    assert!(
        sandbox
            .registrations()
            .iter()
            .any(|r| r.phone_number_id == NUMBER),
        "the number is registered"
    );

    // A double-submitted connect is answered from the first, without the PIN and without a
    // second exchange of the single-use code.
    let (status, headers, again) = t
        .call(
            Method::POST,
            "/v1/channels/whatsapp",
            Auth::Bearer(&admin),
            Some(&connect),
        )
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        headers.get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert!(again.get("pin").is_none(), "{again}");
    assert_eq!(again["channel"], connected["channel"]);

    // What was kept while unrouted is applied to the business now.
    let conversation = eventually("the early message replayed", WAIT, || async {
        let (_, list) = call(&t, Method::GET, "/v1/conversations", &admin, None).await;
        list["data"][0]["id"].as_str().map(str::to_owned)
    })
    .await;
    eventually("the template event replayed", WAIT, || async {
        let events = t
            .stack
            .store
            .list_tenant_events(&tenant, "message_template_status_update", 10)
            .await
            .expect("events readable");
        (!events.is_empty()).then_some(())
    })
    .await;

    // WABA-level webhooks from now on go straight to the tenant.
    let later = template_status_webhook(WABA, 7002);
    assert_eq!(t.post_signed(later.to_string().as_bytes()).await, 200);
    eventually("the new template event routed by WABA", WAIT, || async {
        let events = t
            .stack
            .store
            .list_tenant_events(&tenant, "message_template_status_update", 10)
            .await
            .expect("events readable");
        (events.len() >= 2).then_some(())
    })
    .await;

    // An agent of the business replies; the sandbox saw the business's own token.
    let agent_email = "agent@bluebottle.example";
    let agent_id = t.add_person(&admin, agent_email, "agent", PASSWORD).await;
    let agent = t.access_token(agent_email, PASSWORD).await;
    let (status, accepted) = call(
        &t,
        Method::POST,
        "/v1/messages",
        &agent,
        Some(json!({"conversation_id": conversation, "type": "text", "text": {"body": "Yes, until six!"}})),
    )
    .await;
    assert_eq!(status, 202, "{accepted}");
    let sent = eventually("the reply reaches Meta", WAIT, || async {
        t.sandbox_sent()
            .await
            .into_iter()
            .find(|s| s["phone_number_id"] == NUMBER)
    })
    .await;
    assert_eq!(
        sent["access_token_sha256"].as_str(),
        Some(sha256_hex(&code.access_token).as_str()),
        "sent with the business's own token, not the platform's"
    );
    assert_ne!(code.access_token, switchboard_e2e::ACCESS_TOKEN);

    // The token item holds no plaintext, and opens only for its tenant and purpose.
    let item = token_item(&t, &tenant).await;
    let dump = format!("{item:?}");
    assert!(
        !dump.contains(&code.access_token),
        "the token item holds the plaintext token"
    );
    let sealed: SealedSecret = serde_json::from_str(
        item.get("sealed_token")
            .and_then(|v| v.as_s().ok())
            .expect("a sealed token attribute"),
    )
    .expect("a sealed secret");
    let vault = &t.stack.vault;
    vault.clear_cache();
    let opened = vault
        .open(&tenant, TokenPurpose::WhatsAppBusinessToken, &sealed)
        .await
        .expect("opens for its own tenant");
    assert_eq!(opened.expose(), code.access_token);
    vault.clear_cache();
    assert!(
        vault
            .open(
                &TenantId::new("acme"),
                TokenPurpose::WhatsAppBusinessToken,
                &sealed
            )
            .await
            .is_err(),
        "another tenant's context must not open the token"
    );
    assert!(
        vault
            .open(&tenant, TokenPurpose::WhatsAppTwoStepPin, &sealed)
            .await
            .is_err(),
        "another purpose must not open the token"
    );

    // Listed with what Meta says of the number now; the other tenant does not see it.
    let (status, list) = call(&t, Method::GET, "/v1/channels", &admin, None).await;
    assert_eq!(status, 200, "{list}");
    let channels = list["channels"].as_array().expect("channels");
    assert_eq!(channels.len(), 1, "{list}");
    assert_eq!(channels[0]["verified_name"], "Blue Bottle");
    assert!(channels[0]["quality_rating"].is_string(), "{list}");
    let acme = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, acme_list) = call(&t, Method::GET, "/v1/channels", &acme, None).await;
    assert!(
        acme_list["channels"]
            .as_array()
            .expect("channels")
            .iter()
            .all(|c| c["phone_number_id"] != NUMBER),
        "{acme_list}"
    );
    let (status, _) = call(
        &t,
        Method::DELETE,
        &format!("/v1/channels/whatsapp/{NUMBER}"),
        &acme,
        None,
    )
    .await;
    assert_eq!(status, 404, "another tenant cannot disconnect the number");

    // Disconnecting unsubscribes, removes the route and destroys the token.
    let (status, body) = call(
        &t,
        Method::DELETE,
        &format!("/v1/channels/whatsapp/{NUMBER}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert!(
        !sandbox.subscriptions().iter().any(|s| s.waba_id == WABA),
        "unsubscribed from the WABA"
    );
    assert!(
        token_item_absent(&t, &tenant).await,
        "the token is destroyed"
    );
    assert!(
        t.stack
            .store
            .find_phone_route(&switchboard_domain::PhoneNumberId::new(NUMBER))
            .await
            .expect("route readable")
            .is_none()
    );
    let (_, list) = call(&t, Method::GET, "/v1/channels", &admin, None).await;
    assert_eq!(list["channels"], json!([]));
    let (status, _) = call(
        &t,
        Method::DELETE,
        &format!("/v1/channels/whatsapp/{NUMBER}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 404);

    // A key of the business's servers reads conversations: its use is audited too.
    let (status, key) = call(
        &t,
        Method::POST,
        "/v1/api-keys",
        &admin,
        Some(json!({"name": "crm", "scopes": ["conversations:read"]})),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let secret = key["secret"].as_str().expect("the key, shown once");
    let (status, _) = call(&t, Method::GET, "/v1/conversations", secret, None).await;
    assert_eq!(status, 200);

    // The audit log tells who connected, sent and disconnected, and never the content.
    let (status, audit) = call(&t, Method::GET, "/v1/audit?limit=100", &admin, None).await;
    assert_eq!(status, 200, "{audit}");
    let entries = audit["data"].as_array().expect("entries");
    let actor_of = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .and_then(|e| e["actor"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no {action} in {audit}"))
    };
    assert!(actor_of("channel.connected").starts_with("user:"));
    assert!(actor_of("channel.disconnected").starts_with("user:"));
    assert_eq!(actor_of("message.sent"), format!("user:{agent_id}"));
    assert!(actor_of("api_key.used").starts_with("api_key:"));
    let text = audit.to_string();
    assert!(
        !text.contains("Yes, until six!") && !text.contains(CUSTOMER),
        "{text}"
    );
    assert!(!text.contains(&code.access_token));
}

async fn token_item(
    t: &TestStack,
    tenant: &TenantId,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    get_token_item(t, tenant)
        .await
        .expect("the WABA token item")
}

async fn token_item_absent(t: &TestStack, tenant: &TenantId) -> bool {
    get_token_item(t, tenant).await.is_none()
}

async fn get_token_item(
    t: &TestStack,
    tenant: &TenantId,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let config = t.stack.function_config("ApiFunction").expect("api config");
    aws_sdk_dynamodb::Client::new(&t.stack.sdk)
        .get_item()
        .table_name(config.table_name)
        .key("pk", AttributeValue::S(format!("T#{tenant}#WABA#{WABA}")))
        .key("sk", AttributeValue::S("TOKEN".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
}

#[tokio::test]
async fn signup_refusals_come_back_as_problems_the_front_end_can_show() {
    let t = spawn_stack().await;
    let (admin, _) = sign_up(&t, "Gamma Goods", "owner@gamma.example").await;
    let post = |body: Value| {
        let admin = admin.clone();
        let t = &t;
        async move { call(t, Method::POST, "/v1/channels/whatsapp", &admin, Some(body)).await }
    };
    let problem_code = |body: &Value| body["code"].as_str().map(str::to_owned);

    // Malformed requests name each field.
    let (status, body) =
        post(json!({"code": "", "waba_id": "12a", "phone_number_id": NUMBER, "pin": "12"})).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["code", "waba_id", "pin"], "{body}");
    let (status, body) =
        post(json!({"code": "x", "waba_id": WABA, "phone_number_id": NUMBER, "extra": 1})).await;
    assert_eq!(status, 400, "{body}");

    // Only admins connect numbers.
    t.add_person(&admin, "agent@gamma.example", "agent", PASSWORD)
        .await;
    let agent = t.access_token("agent@gamma.example", PASSWORD).await;
    let code = signup_code(&t, business_number(WABA, NUMBER));
    let (status, _) = call(
        &t,
        Method::POST,
        "/v1/channels/whatsapp",
        &agent,
        Some(json!({"code": code.code, "waba_id": WABA, "phone_number_id": NUMBER})),
    )
    .await;
    assert_eq!(status, 403);

    // A code Meta never issued, and one that expired.
    let (status, body) =
        post(json!({"code": "AQBnot-a-real-code", "waba_id": WABA, "phone_number_id": NUMBER}))
            .await;
    assert_eq!(
        (status, problem_code(&body).as_deref()),
        (422, Some("code_invalid")),
        "{body}"
    );
    assert_eq!(body["type"], "/problems/embedded-signup");
    let expired = signup_code(
        &t,
        SignupCodeRequest {
            expires_in_secs: Some(0),
            ..business_number("209000000000002", "119000000000002")
        },
    );
    let (status, body) = post(json!({"code": expired.code, "waba_id": "209000000000002", "phone_number_id": "119000000000002"})).await;
    assert_eq!(
        (status, problem_code(&body).as_deref()),
        (422, Some("code_expired")),
        "{body}"
    );

    // A number whose two-step PIN is set: the wrong PIN is Meta's 133005.
    let pinned = signup_code(
        &t,
        SignupCodeRequest {
            pin: Some("246810".into()),
            ..business_number("209000000000003", "119000000000003")
        },
    );
    let (status, body) = post(json!({"code": pinned.code, "waba_id": "209000000000003", "phone_number_id": "119000000000003", "pin": "135790"})).await;
    assert_eq!(
        (status, problem_code(&body).as_deref()),
        (422, Some("pin_mismatch")),
        "{body}"
    );

    // Still registered with another provider: Meta's 133006.
    let elsewhere = signup_code(
        &t,
        SignupCodeRequest {
            registered_elsewhere: true,
            ..business_number("209000000000004", "119000000000004")
        },
    );
    let (status, body) = post(json!({"code": elsewhere.code, "waba_id": "209000000000004", "phone_number_id": "119000000000004"})).await;
    assert_eq!(
        (status, problem_code(&body).as_deref()),
        (422, Some("number_registered_elsewhere")),
        "{body}"
    );

    // A number another tenant holds is refused before the code is spent.
    let other = signup_code(&t, business_number(WABA_ID, PHONE_NUMBER_ID));
    let (status, body) =
        post(json!({"code": other.code, "waba_id": WABA_ID, "phone_number_id": PHONE_NUMBER_ID}))
            .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["type"], "/problems/channel-in-use");

    // A code another business already used is Meta's "code used".
    let (status, connected) =
        post(json!({"code": code.code, "waba_id": WABA, "phone_number_id": NUMBER})).await;
    assert_eq!(status, 201, "{connected}");
    let acme = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, body) = call(
        &t,
        Method::POST,
        "/v1/channels/whatsapp",
        &acme,
        Some(json!({"code": code.code, "waba_id": WABA, "phone_number_id": NUMBER})),
    )
    .await;
    assert_eq!(status, 409, "the number is Gamma's now: {body}");
    let (status, body) = call(
        &t,
        Method::POST,
        "/v1/channels/whatsapp",
        &acme,
        Some(json!({"code": code.code, "waba_id": "209000000000006", "phone_number_id": "119000000000006"})),
    )
    .await;
    assert_eq!(
        (status, problem_code(&body).as_deref()),
        (422, Some("code_used")),
        "{body}"
    );

    // Nothing half-connected was left by the refusals: one channel, Gamma's.
    let (_, list) = call(&t, Method::GET, "/v1/channels", &admin, None).await;
    let numbers: Vec<&str> = list["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .filter_map(|c| c["phone_number_id"].as_str())
        .collect();
    assert_eq!(numbers, [NUMBER], "{list}");
    for refused in ["119000000000002", "119000000000003", "119000000000004"] {
        assert!(
            t.stack
                .store
                .find_phone_route(&switchboard_domain::PhoneNumberId::new(refused))
                .await
                .expect("route readable")
                .is_none(),
            "{refused} must not be routed"
        );
    }
}
