//! Embedded Signup through the Graph API client against the Meta sandbox over real HTTP: the
//! code exchange, the app subscription, number registration with its PIN rules, the number's
//! fields, and which tokens may send from or manage which number.

use meta_sandbox::{
    MAX_WRONG_PINS, REGISTER_LIMIT, Registration, RunningSandbox, SandboxConfig, SignupCode,
    SignupCodeRequest, Subscription,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;
use switchboard_domain::{ContactKey, Secret};
use switchboard_meta::graph::{GraphClient, GraphError, OnboardingFailure, OutboundMessage};
use tokio::net::TcpListener;

const APP_ID: &str = "1234567890";
const APP_SECRET: &str = "onboarding-app-secret";
/// The Tech Provider's system token.
const SYSTEM_TOKEN: &str = "EAAG-system-token";

async fn sandbox() -> RunningSandbox {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind sandbox");
    let mut config = SandboxConfig::new(APP_SECRET, "http://127.0.0.1:9/unused");
    config.app_id = APP_ID.to_owned();
    config.send_statuses = false;
    config.status_delay = Duration::ZERO;
    config.expected_token = Some(SYSTEM_TOKEN.to_owned());
    meta_sandbox::start(listener, config).await
}

fn client(sandbox: &RunningSandbox) -> GraphClient {
    GraphClient::new(reqwest::Client::new(), &sandbox.base_url, "v23.0")
}

fn business(waba_id: &str, phone_number_id: &str) -> SignupCodeRequest {
    SignupCodeRequest {
        waba_id: waba_id.into(),
        phone_number_id: phone_number_id.into(),
        display_phone_number: "+1 555-010-2000".into(),
        verified_name: Some("Acme Bakery".into()),
        ..SignupCodeRequest::default()
    }
}

fn mint(sandbox: &RunningSandbox, request: &SignupCodeRequest) -> SignupCode {
    sandbox.mint_signup_code(request).expect("code minted")
}

async fn exchange(graph: &GraphClient, code: &str) -> Result<Secret, GraphError> {
    graph
        .exchange_code(APP_ID, &Secret::new(APP_SECRET), &Secret::new(code))
        .await
}

/// Mints a code for the business and exchanges it: the business token.
async fn onboarded(
    sandbox: &RunningSandbox,
    graph: &GraphClient,
    request: &SignupCodeRequest,
) -> Secret {
    let minted = mint(sandbox, request);
    exchange(graph, &minted.code).await.expect("exchanged")
}

fn failure(error: &GraphError) -> Option<OnboardingFailure> {
    OnboardingFailure::of(error)
}

fn registration(sandbox: &RunningSandbox, phone_number_id: &str) -> Registration {
    sandbox
        .registrations()
        .into_iter()
        .find(|r| r.phone_number_id == phone_number_id)
        .expect("the sandbox knows the number")
}

fn assert_hides(error: &GraphError, secrets: &[&str]) {
    let shown = format!("{error} {error:?}");
    for secret in secrets {
        assert!(!shown.contains(secret), "{secret:?} shown in {shown}");
    }
}

fn pin(pin: &str) -> Secret {
    Secret::new(pin)
}

#[tokio::test]
async fn a_code_exchanges_once_for_the_minted_business_token() {
    let sandbox = sandbox().await;
    let graph = client(&sandbox);
    let minted = mint(&sandbox, &business("201", "301"));
    assert_eq!(minted.expires_in, 600);

    let token = exchange(&graph, &minted.code).await.expect("exchanged");
    assert_eq!(token.expose(), minted.access_token);

    let again = exchange(&graph, &minted.code)
        .await
        .expect_err("single-use");
    assert_eq!(
        OnboardingFailure::of_exchange(&again),
        Some(OnboardingFailure::CodeUsed)
    );
    assert_eq!((again.code(), again.subcode()), (Some(100), Some(36009)));
    assert_eq!(again.http_status(), Some(400));
    assert!(OnboardingFailure::CodeUsed.needs_new_signup());
    assert!(!again.class().is_retryable());
    assert_hides(&again, &[&minted.code, &minted.access_token, APP_SECRET]);
}

#[tokio::test]
async fn unknown_expired_and_misaddressed_exchanges_are_told_apart() {
    let sandbox = sandbox().await;
    let graph = client(&sandbox);

    let unknown = exchange(&graph, "AQ-never-minted")
        .await
        .expect_err("unknown");
    assert_eq!(
        OnboardingFailure::of_exchange(&unknown),
        Some(OnboardingFailure::CodeInvalid)
    );
    assert_eq!((unknown.code(), unknown.subcode()), (Some(100), None));
    assert_hides(&unknown, &["AQ-never-minted", APP_SECRET]);

    let expired = mint(
        &sandbox,
        &SignupCodeRequest {
            expires_in_secs: Some(0),
            ..business("202", "302")
        },
    );
    let error = exchange(&graph, &expired.code).await.expect_err("expired");
    assert_eq!(
        OnboardingFailure::of(&error),
        Some(OnboardingFailure::CodeExpired)
    );
    assert_eq!(error.subcode(), Some(36007));
    assert_hides(&error, &[&expired.code, &expired.access_token, APP_SECRET]);

    // A wrong secret or app id is our configuration's fault, and does not use the code up.
    let minted = mint(&sandbox, &business("203", "303"));
    let wrong_secret = graph
        .exchange_code(
            APP_ID,
            &Secret::new("not-the-secret"),
            &Secret::new(&minted.code),
        )
        .await
        .expect_err("wrong secret");
    assert_eq!(
        OnboardingFailure::of_exchange(&wrong_secret),
        Some(OnboardingFailure::InvalidAppCredentials)
    );
    assert_hides(&wrong_secret, &["not-the-secret", &minted.code]);
    let wrong_app = graph
        .exchange_code("999", &Secret::new(APP_SECRET), &Secret::new(&minted.code))
        .await
        .expect_err("wrong app id");
    assert_eq!(wrong_app.code(), Some(101));
    assert_eq!(
        OnboardingFailure::of(&wrong_app),
        Some(OnboardingFailure::InvalidAppCredentials)
    );
    let token = exchange(&graph, &minted.code).await.expect("still unused");
    assert_eq!(token.expose(), minted.access_token);
}

#[tokio::test]
async fn subscribing_and_unsubscribing_the_app_shows_in_the_sandbox() {
    let sandbox = sandbox().await;
    let graph = client(&sandbox);
    let token = onboarded(&sandbox, &graph, &business("204", "304")).await;

    graph
        .subscribe_app(&token, "204")
        .await
        .expect("subscribed");
    graph
        .subscribe_app(&token, "204")
        .await
        .expect("idempotent");
    let subscriptions: Vec<Subscription> = sandbox.subscriptions();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0].waba_id, "204");
    assert_eq!(subscriptions[0].app_id, APP_ID);

    // Over HTTP too, as a test against a separately running sandbox would read it.
    let listed: Value = reqwest::get(format!("{}/sandbox/subscriptions", sandbox.base_url))
        .await
        .expect("reachable")
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed[0]["waba_id"], "204");

    graph
        .unsubscribe_app(&token, "204")
        .await
        .expect("unsubscribed");
    assert!(sandbox.subscriptions().is_empty());

    // The system token reaches every WABA the sandbox knows, but not one it does not.
    let system = Secret::new(SYSTEM_TOKEN);
    graph
        .subscribe_app(&system, "204")
        .await
        .expect("system token");
    let unknown = graph
        .subscribe_app(&system, "999999")
        .await
        .expect_err("unknown WABA");
    assert_eq!(failure(&unknown), Some(OnboardingFailure::NoAccess));
}

#[tokio::test]
async fn the_first_registration_sets_the_pin_and_later_ones_must_match() {
    let sandbox = sandbox().await;
    let graph = client(&sandbox);
    let token = onboarded(&sandbox, &graph, &business("205", "305")).await;
    assert!(!registration(&sandbox, "305").registered);

    graph
        .register_phone(&token, "305", &pin("424242"))
        .await
        .expect("registered, PIN set");
    let state = registration(&sandbox, "305");
    assert!(state.registered && state.pin_set, "{state:?}");

    let wrong = graph
        .register_phone(&token, "305", &pin("111111"))
        .await
        .expect_err("wrong PIN");
    assert_eq!(wrong.code(), Some(133005));
    assert_eq!(failure(&wrong), Some(OnboardingFailure::PinMismatch));
    assert_hides(&wrong, &["111111", "424242", token.expose()]);

    graph
        .register_phone(&token, "305", &pin("424242"))
        .await
        .expect("the right PIN registers again");

    // A PIN minted with the code (set on Meta's side before signup) is checked from the start.
    let with_pin = SignupCodeRequest {
        pin: Some("135790".into()),
        ..business("205", "315")
    };
    let token = onboarded(&sandbox, &graph, &with_pin).await;
    let first = graph
        .register_phone(&token, "315", &pin("000000"))
        .await
        .expect_err("not the minted PIN");
    assert_eq!(failure(&first), Some(OnboardingFailure::PinMismatch));
    graph
        .register_phone(&token, "315", &pin("135790"))
        .await
        .expect("the minted PIN");

    // Six digits, checked before anything is sent.
    let short = graph
        .register_phone(&token, "315", &pin("12345"))
        .await
        .expect_err("five digits");
    assert!(matches!(short, GraphError::InvalidRequest(_)), "{short:?}");
}

#[tokio::test]
async fn too_many_wrong_pins_block_the_number() {
    let sandbox = sandbox().await;
    let graph = client(&sandbox);
    let request = SignupCodeRequest {
        pin: Some("246810".into()),
        ..business("206", "306")
    };
    let token = onboarded(&sandbox, &graph, &request).await;
    for attempt in 0..MAX_WRONG_PINS {
        let error = graph
            .register_phone(&token, "306", &pin("999999"))
            .await
            .expect_err("wrong PIN");
        assert_eq!(error.code(), Some(133005), "attempt {attempt}");
    }
    let blocked = graph
        .register_phone(&token, "306", &pin("246810"))
        .await
        .expect_err("blocked even with the right PIN");
    assert_eq!(blocked.code(), Some(133016));
    assert_eq!(failure(&blocked), Some(OnboardingFailure::TooManyAttempts));
    let state = registration(&sandbox, "306");
    assert!(state.blocked && !state.registered, "{state:?}");
}

#[tokio::test]
async fn the_eleventh_register_request_in_72_hours_is_refused() {
    let sandbox = sandbox().await;
    let graph = client(&sandbox);
    let token = onboarded(&sandbox, &graph, &business("207", "307")).await;
    for _ in 0..REGISTER_LIMIT {
        graph
            .register_phone(&token, "307", &pin("123456"))
            .await
            .expect("within the limit");
    }
    let error = graph
        .register_phone(&token, "307", &pin("123456"))
        .await
        .expect_err("over the limit");
    assert_eq!(error.code(), Some(133016));
    assert_eq!(failure(&error), Some(OnboardingFailure::TooManyAttempts));
}

#[tokio::test]
async fn a_number_registered_elsewhere_cannot_be_registered_here() {
    let sandbox = sandbox().await;
    let graph = client(&sandbox);
    let request = SignupCodeRequest {
        registered_elsewhere: true,
        ..business("208", "308")
    };
    let token = onboarded(&sandbox, &graph, &request).await;
    let error = graph
        .register_phone(&token, "308", &pin("123456"))
        .await
        .expect_err("registered elsewhere");
    assert_eq!(error.code(), Some(133006));
    assert_eq!(
        failure(&error),
        Some(OnboardingFailure::NumberInUseElsewhere)
    );
    assert_ne!(
        failure(&error),
        Some(OnboardingFailure::NumberNotRegistered)
    );
    let info = graph.phone_number(&token, "308").await.expect("readable");
    assert_eq!(
        info.code_verification_status.as_deref(),
        Some("NOT_VERIFIED")
    );
    assert!(!registration(&sandbox, "308").registered);
}

#[tokio::test]
async fn phone_number_reads_the_display_fields() {
    let sandbox = sandbox().await;
    let graph = client(&sandbox);
    let token = onboarded(&sandbox, &graph, &business("209", "309")).await;
    let info = graph.phone_number(&token, "309").await.expect("read");
    assert_eq!(info.id, "309");
    assert_eq!(info.display_phone_number, "+1 555-010-2000");
    assert_eq!(info.verified_name, "Acme Bakery");
    assert_eq!(info.quality_rating.as_deref(), Some("GREEN"));
    assert_eq!(info.throughput_level.as_deref(), Some("STANDARD"));
    assert_eq!(info.code_verification_status.as_deref(), Some("VERIFIED"));
    assert_eq!(info.name_status.as_deref(), Some("APPROVED"));

    // Only the fields asked for come back, as Meta does; unknown fields are Meta's code 100.
    let raw = |fields: &str| {
        reqwest::Client::new()
            .get(format!("{}/v23.0/309?fields={fields}", sandbox.base_url))
            .bearer_auth(token.expose())
            .send()
    };
    let narrow: Value = raw("verified_name")
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(narrow, json!({"verified_name": "Acme Bakery", "id": "309"}));
    let unknown = raw("nonsense").await.expect("sent");
    assert_eq!(unknown.status(), 400);
    let body: Value = unknown.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], 100);
}

#[tokio::test]
async fn a_send_with_the_issued_token_is_accepted_and_recorded_by_its_sha256() {
    let sandbox = sandbox().await;
    let graph = client(&sandbox);
    let token = onboarded(&sandbox, &graph, &business("210", "310")).await;
    let message = OutboundMessage::text(ContactKey::WaId("15557654321".into()), "Welcome!");

    let before = graph
        .send_message(&token, "310", &message)
        .await
        .expect_err("not registered yet");
    assert_eq!(before.code(), Some(133010));
    assert_eq!(
        failure(&before),
        Some(OnboardingFailure::NumberNotRegistered)
    );

    graph
        .register_phone(&token, "310", &pin("123456"))
        .await
        .expect("registered");
    let accepted = graph
        .send_message(&token, "310", &message)
        .await
        .expect("accepted");
    let sent = sandbox.sent();
    let record = sent
        .iter()
        .find(|m| m.wamid == accepted.wamid)
        .expect("recorded");
    assert_eq!(record.phone_number_id, "310");
    assert_eq!(
        record.access_token_sha256,
        hex::encode(Sha256::digest(token.expose().as_bytes()))
    );
    let listed = serde_json::to_string(&sent).expect("JSON");
    assert!(
        !listed.contains(token.expose()),
        "the history keeps no token"
    );

    // The system token still sends, and is told apart by its own digest.
    let system = graph
        .send_message(&Secret::new(SYSTEM_TOKEN), "310", &message)
        .await
        .expect("system token");
    let by_system = sandbox
        .sent()
        .into_iter()
        .find(|m| m.wamid == system.wamid)
        .expect("recorded");
    assert_eq!(
        by_system.access_token_sha256,
        hex::encode(Sha256::digest(SYSTEM_TOKEN.as_bytes()))
    );
}

#[tokio::test]
async fn a_token_of_another_waba_cannot_touch_this_number() {
    let sandbox = sandbox().await;
    let graph = client(&sandbox);
    let ours = onboarded(&sandbox, &graph, &business("211", "311")).await;
    graph
        .register_phone(&ours, "311", &pin("123456"))
        .await
        .expect("registered");
    let theirs = onboarded(&sandbox, &graph, &business("212", "312")).await;
    let message = OutboundMessage::text(ContactKey::WaId("15557654321".into()), "hi");

    let send = graph
        .send_message(&theirs, "311", &message)
        .await
        .expect_err("another WABA's number");
    let register = graph
        .register_phone(&theirs, "311", &pin("123456"))
        .await
        .expect_err("another WABA's number");
    let read = graph
        .phone_number(&theirs, "311")
        .await
        .expect_err("another WABA's number");
    let subscribe = graph
        .subscribe_app(&theirs, "211")
        .await
        .expect_err("another WABA");
    for error in [&send, &register, &read, &subscribe] {
        assert_eq!(
            failure(error),
            Some(OnboardingFailure::NoAccess),
            "{error:?}"
        );
        assert_eq!((error.code(), error.subcode()), (Some(100), Some(33)));
        assert!(!error.class().is_retryable());
        assert_hides(error, &[theirs.expose(), ours.expose()]);
    }
    // Nor the sandbox's own number.
    let default = graph
        .send_message(&theirs, meta_sandbox::DEFAULT_PHONE_NUMBER_ID, &message)
        .await
        .expect_err("the sandbox's own number");
    assert_eq!(failure(&default), Some(OnboardingFailure::NoAccess));
    assert!(sandbox.sent().is_empty());
    assert!(registration(&sandbox, "311").registered);

    // A token the sandbox never issued is Meta's 190.
    let forged = graph
        .send_message(&Secret::new("EAAG-forged"), "311", &message)
        .await
        .expect_err("forged");
    assert_eq!(forged.code(), Some(190));
    assert_eq!(failure(&forged), Some(OnboardingFailure::InvalidToken));
    assert_hides(&forged, &["EAAG-forged"]);
}

#[tokio::test]
async fn failures_on_the_way_never_show_the_secret_or_the_code() {
    // Nothing listens on this port: the request fails before Meta answers, and reqwest's error
    // would otherwise carry the URL with the secret and the code in its query.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let graph = GraphClient::new(reqwest::Client::new(), format!("http://{addr}"), "v23.0")
        .with_timeout(Duration::from_secs(2));
    let error = graph
        .exchange_code(
            APP_ID,
            &Secret::new("secret-in-query"),
            &Secret::new("AQ-code-in-query"),
        )
        .await
        .expect_err("nothing listens");
    assert!(matches!(error, GraphError::Transport { .. }), "{error:?}");
    assert_hides(&error, &["secret-in-query", "AQ-code-in-query"]);

    let error = graph
        .register_phone(&Secret::new("EAAG-token"), "1", &pin("123456"))
        .await
        .expect_err("nothing listens");
    assert_hides(&error, &["EAAG-token", "123456"]);

    // Ids that could change the path or add a query are refused before anything is sent.
    for bad in ["", "../oauth", "1?fields=x", "1/register"] {
        let refused = graph
            .phone_number(&Secret::new("EAAG-token"), bad)
            .await
            .expect_err("refused");
        assert!(matches!(refused, GraphError::InvalidRequest(_)), "{bad:?}");
        let refused = graph
            .subscribe_app(&Secret::new("EAAG-token"), bad)
            .await
            .expect_err("refused");
        assert!(matches!(refused, GraphError::InvalidRequest(_)), "{bad:?}");
    }
}

#[tokio::test]
async fn the_control_endpoint_mints_over_http_and_refuses_a_number_of_another_waba() {
    let sandbox = sandbox().await;
    let http = reqwest::Client::new();
    let post = |body: Value| {
        http.post(format!("{}/sandbox/signup-codes", sandbox.base_url))
            .json(&body)
            .send()
    };
    let created = post(json!({
        "waba_id": "213", "phone_number_id": "313", "display_phone_number": "+1 555-010-3000",
        "pin": "123456"
    }))
    .await
    .expect("reachable");
    assert_eq!(created.status(), 201);
    let minted: Value = created.json().await.expect("JSON");
    assert!(minted["code"].as_str().is_some_and(|c| c.starts_with("AQ")));
    assert!(
        minted["access_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("EAA"))
    );
    assert_eq!(minted["expires_in"], 600);

    let conflict = post(json!({
        "waba_id": "214", "phone_number_id": "313", "display_phone_number": "+1 555-010-3000"
    }))
    .await
    .expect("reachable");
    assert_eq!(conflict.status(), 409);
    let bad_pin = post(json!({
        "waba_id": "214", "phone_number_id": "314", "display_phone_number": "+1", "pin": "12"
    }))
    .await
    .expect("reachable");
    assert_eq!(bad_pin.status(), 400);

    let registrations: Value = reqwest::get(format!("{}/sandbox/registrations", sandbox.base_url))
        .await
        .expect("reachable")
        .json()
        .await
        .expect("JSON");
    let number = registrations
        .as_array()
        .and_then(|all| all.iter().find(|r| r["phone_number_id"] == "313"))
        .expect("listed");
    assert_eq!(number["waba_id"], "213");
    assert_eq!(number["pin_set"], true);
    assert_eq!(number["registered"], false);
    assert!(
        !registrations.to_string().contains("123456"),
        "no PIN listed"
    );
}
