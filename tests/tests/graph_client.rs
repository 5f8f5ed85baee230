//! The Graph API client against the Meta sandbox over real HTTP: what it sends, how it reads
//! Meta's answers and errors, and the webhooks the sandbox plays back.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use meta_sandbox::{RunningSandbox, SandboxConfig, SentMessage};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_domain::{ContactKey, Secret};
use switchboard_meta::graph::{
    ErrorClass, GraphClient, GraphError, Interactive, InteractiveAction, InteractiveHeader,
    MarkRead, Media, MessageContent, OutboundMessage, ReplyButton, Text, TransportKind,
};
use switchboard_meta::signature;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const APP_SECRET: &str = "sandbox-app-secret";
const TOKEN: &str = "EAAG-test-token";
const PHONE_NUMBER_ID: &str = "106540352242922";

/// A webhook endpoint that records what it receives and answers with queued statuses (200 once
/// they run out).
struct WebhookReceiver {
    url: String,
    received: mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
}

#[derive(Clone)]
struct ReceiverState {
    sink: mpsc::UnboundedSender<(HeaderMap, Bytes)>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

async fn record(State(state): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let _ = state.sink.send((headers, body));
    let answer = state
        .answers
        .lock()
        .expect("answers")
        .pop_front()
        .unwrap_or(200);
    StatusCode::from_u16(answer).expect("status")
}

async fn webhook_receiver(answers: &[u16]) -> WebhookReceiver {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let url = format!(
        "http://{}/webhooks/whatsapp",
        listener.local_addr().expect("addr")
    );
    let (sink, received) = mpsc::unbounded_channel();
    let state = ReceiverState {
        sink,
        answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
    };
    let app = Router::new()
        .route("/webhooks/whatsapp", post(record))
        .with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    WebhookReceiver { url, received }
}

impl WebhookReceiver {
    /// The next webhook, after checking it carries Meta's signature of its exact bytes.
    async fn next_signed(&mut self) -> Value {
        let (headers, body) = tokio::time::timeout(Duration::from_secs(5), self.received.recv())
            .await
            .expect("a webhook within 5 s")
            .expect("receiver open");
        let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
        signature::verify(APP_SECRET.as_bytes(), &body, header).expect("valid X-Hub-Signature-256");
        serde_json::from_slice(&body).expect("webhook body is JSON")
    }

    async fn nothing_more(&mut self) {
        let more = tokio::time::timeout(Duration::from_millis(300), self.received.recv()).await;
        assert!(more.is_err(), "unexpected webhook: {more:?}");
    }
}

async fn sandbox(webhook_url: &str, send_statuses: bool) -> RunningSandbox {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind sandbox");
    let mut config = SandboxConfig::new(APP_SECRET, webhook_url);
    config.status_delay = Duration::ZERO;
    config.send_statuses = send_statuses;
    config.expected_token = Some(TOKEN.to_owned());
    meta_sandbox::start(listener, config).await
}

fn client(sandbox: &RunningSandbox) -> GraphClient {
    GraphClient::new(reqwest::Client::new(), &sandbox.base_url, "v23.0")
}

fn text_to(phone: &str, body: &str) -> OutboundMessage {
    OutboundMessage::text(ContactKey::WaId(phone.to_owned()), body)
}

async fn sandbox_get(sandbox: &RunningSandbox, path: &str) -> Value {
    reqwest::get(format!("{}{path}", sandbox.base_url))
        .await
        .expect("sandbox reachable")
        .json()
        .await
        .expect("JSON")
}

async fn sandbox_post(sandbox: &RunningSandbox, path: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sandbox.base_url))
        .json(body)
        .send()
        .await
        .expect("sandbox reachable");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn send(
    client: &GraphClient,
    message: &OutboundMessage,
) -> Result<switchboard_meta::graph::SendAccepted, GraphError> {
    client
        .send_message(&Secret::new(TOKEN), PHONE_NUMBER_ID, message)
        .await
}

#[tokio::test]
async fn a_text_send_returns_a_wamid_and_the_sandbox_records_the_exact_body() {
    let sandbox = sandbox("http://127.0.0.1:9/unused", false).await;
    let graph = client(&sandbox);
    let reply = OutboundMessage::new(
        ContactKey::WaId("+15551234567".into()),
        MessageContent::Text(Text {
            body: "Your order ships today: https://example.com/track".into(),
            preview_url: Some(true),
        }),
    )
    .replying_to("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
    let accepted = send(&graph, &reply).await.expect("accepted");
    assert!(
        accepted.wamid.starts_with("wamid.") && accepted.wamid.len() > 40,
        "{}",
        accepted.wamid
    );
    assert_eq!(accepted.wa_id.as_deref(), Some("15551234567"));

    let by_user_id =
        OutboundMessage::text(ContactKey::UserId("US.13491208655302741918".into()), "hi");
    let accepted_by_user_id = send(&graph, &by_user_id).await.expect("accepted");
    assert_eq!(accepted_by_user_id.wa_id, None);
    assert_eq!(
        accepted_by_user_id.user_id.as_deref(),
        Some("US.13491208655302741918")
    );

    let sent: Vec<SentMessage> =
        serde_json::from_value(sandbox_get(&sandbox, "/sandbox/sent").await).expect("sent list");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].wamid, accepted.wamid);
    assert_eq!(sent[0].phone_number_id, PHONE_NUMBER_ID);
    assert_eq!(
        sent[0].body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+15551234567",
            "type": "text",
            "text": {"body": "Your order ships today: https://example.com/track", "preview_url": true},
            "context": {"message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="}
        })
    );
    assert_eq!(sent[1].body["recipient"], "US.13491208655302741918");
    assert!(sent[1].body.get("to").is_none());
}

#[tokio::test]
async fn rich_messages_are_sent_in_metas_shape_and_limits_are_refused() {
    let sandbox = sandbox("http://127.0.0.1:9/unused", false).await;
    let graph = client(&sandbox);
    let buttons = |title: &str| {
        OutboundMessage::new(
            ContactKey::WaId("15551234567".into()),
            MessageContent::Interactive(Interactive {
                header: Some(InteractiveHeader::Image(Media::by_id("4490709327384033"))),
                body: Some("Shall we confirm your table for 8 pm?".into()),
                footer: None,
                action: InteractiveAction::Buttons(vec![
                    ReplyButton {
                        id: "confirm".into(),
                        title: title.into(),
                    },
                    ReplyButton {
                        id: "cancel".into(),
                        title: "Cancel".into(),
                    },
                ]),
            }),
        )
    };
    send(&graph, &buttons("Confirm")).await.expect("accepted");
    let sent: Vec<SentMessage> =
        serde_json::from_value(sandbox_get(&sandbox, "/sandbox/sent").await).expect("sent list");
    assert_eq!(
        sent[0].body["interactive"],
        json!({
            "type": "button",
            "header": {"type": "image", "image": {"id": "4490709327384033"}},
            "body": {"text": "Shall we confirm your table for 8 pm?"},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": "confirm", "title": "Confirm"}},
                {"type": "reply", "reply": {"id": "cancel", "title": "Cancel"}}
            ]}
        })
    );

    let too_long = send(&graph, &buttons("Confirm my table for tonight"))
        .await
        .expect_err("a 28-character title");
    assert_eq!(too_long.code(), Some(131009));
    assert_eq!(too_long.class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn mark_read_is_acknowledged_and_recorded_with_its_typing_indicator() {
    let sandbox = sandbox("http://127.0.0.1:9/unused", false).await;
    let graph = client(&sandbox);
    let token = Secret::new(TOKEN);
    let wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUYzMjEzNDM2RTZGQ0MzMDJBRgA=";
    graph
        .mark_read(
            &token,
            PHONE_NUMBER_ID,
            &MarkRead::new(wamid).with_typing_indicator(),
        )
        .await
        .expect("acknowledged");
    graph
        .mark_read(&token, PHONE_NUMBER_ID, &MarkRead::new(wamid))
        .await
        .expect("acknowledged");
    let receipts = sandbox_get(&sandbox, "/sandbox/read-receipts").await;
    assert_eq!(receipts[0]["message_id"], wamid);
    assert_eq!(receipts[0]["typing_indicator"], true);
    assert_eq!(receipts[1]["typing_indicator"], false);

    let refused = graph
        .mark_read(
            &Secret::new("EAAG-someone-else"),
            PHONE_NUMBER_ID,
            &MarkRead::new(wamid),
        )
        .await
        .expect_err("wrong token");
    assert_eq!(refused.code(), Some(190));
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retryable_and_consume_one_fault_each() {
    let sandbox = sandbox("http://127.0.0.1:9/unused", false).await;
    let graph = client(&sandbox);
    for fault in [
        json!({"kind": "server_error"}),
        json!({"kind": "rate_limit"}),
        json!({"kind": "pair_rate_limit", "to": "15550000002"}),
    ] {
        assert_eq!(
            sandbox_post(&sandbox, "/sandbox/faults", &fault).await.0,
            204
        );
    }

    let server = send(&graph, &text_to("15550000001", "a"))
        .await
        .expect_err("500");
    assert_eq!(server.http_status(), Some(500));
    assert!(matches!(server.code(), Some(1 | 2)), "{server}");
    assert!(server.class().is_retryable());

    let throughput = send(&graph, &text_to("15550000001", "b"))
        .await
        .expect_err("429");
    assert_eq!(
        (throughput.http_status(), throughput.code()),
        (Some(429), Some(130429))
    );
    assert!(throughput.class().is_retryable());

    // The pair fault only applies to its recipient: another one goes through meanwhile.
    send(&graph, &text_to("15550000001", "c"))
        .await
        .expect("unaffected recipient");
    let pair = send(&graph, &text_to("15550000002", "d"))
        .await
        .expect_err("131056");
    assert_eq!(pair.code(), Some(131056));
    assert_eq!(
        pair.class(),
        ErrorClass::Retryable {
            after: Some(Duration::from_secs(6))
        }
    );
    if let GraphError::Api {
        fbtrace_id,
        details,
        ..
    } = &pair
    {
        assert!(fbtrace_id.is_some() && details.is_some(), "{pair:?}");
    }

    send(&graph, &text_to("15550000002", "e"))
        .await
        .expect("faults used up");
    let sent = sandbox.sent();
    let bodies: Vec<&str> = sent
        .iter()
        .filter_map(|m| m.body["text"]["body"].as_str())
        .collect();
    assert_eq!(bodies, ["c", "e"], "rejected sends are not recorded");
}

#[tokio::test]
async fn a_closed_window_is_permanent_with_metas_code() {
    let sandbox = sandbox("http://127.0.0.1:9/unused", false).await;
    sandbox.push_fault(meta_sandbox::Fault::new(
        meta_sandbox::FaultKind::Reengagement,
    ));
    let error = send(&client(&sandbox), &text_to("15550000003", "late"))
        .await
        .expect_err("131047");
    assert_eq!(error.code(), Some(131047));
    assert_eq!(error.http_status(), Some(400));
    assert_eq!(error.class(), ErrorClass::Permanent);
    assert!(
        error.to_string().contains("Re-engagement message"),
        "{error}"
    );
}

#[tokio::test]
async fn a_slow_answer_times_out_as_a_retryable_transport_error() {
    let sandbox = sandbox("http://127.0.0.1:9/unused", false).await;
    let (status, _) = sandbox_post(
        &sandbox,
        "/sandbox/faults",
        &json!({"kind": "delay", "delay_ms": 3000}),
    )
    .await;
    assert_eq!(status, 204);
    let graph = client(&sandbox).with_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = send(&graph, &text_to("15550000004", "slow"))
        .await
        .expect_err("timeout");
    let waited = started.elapsed();
    assert!(
        matches!(
            error,
            GraphError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.class().is_retryable());
    assert!(
        waited < Duration::from_millis(1500),
        "gave up after {waited:?}"
    );
}

#[tokio::test]
async fn an_unreachable_graph_api_is_a_retryable_connect_error() {
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let graph = GraphClient::new(reqwest::Client::new(), url, "v23.0");
    let error = send(&graph, &text_to("15550000005", "x"))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            GraphError::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.class().is_retryable());
}

#[tokio::test]
async fn a_wrong_token_is_permanent_190_and_never_shown() {
    let sandbox = sandbox("http://127.0.0.1:9/unused", false).await;
    let wrong = Secret::new("EAAG-wrong-token");
    let error = client(&sandbox)
        .send_message(&wrong, PHONE_NUMBER_ID, &text_to("15550000006", "x"))
        .await
        .expect_err("401");
    assert_eq!((error.http_status(), error.code()), (Some(401), Some(190)));
    assert_eq!(error.class(), ErrorClass::Permanent);
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("EAAG-wrong-token"), "{shown}");
    assert!(sandbox.sent().is_empty());
}

#[tokio::test]
async fn status_webhooks_arrive_signed_and_in_order() {
    let mut receiver = webhook_receiver(&[]).await;
    let sandbox = sandbox(&receiver.url, true).await;
    let accepted = send(&client(&sandbox), &text_to("+15550000007", "hello"))
        .await
        .expect("accepted");

    let mut seen = Vec::new();
    for _ in 0..3 {
        let webhook = receiver.next_signed().await;
        assert_eq!(webhook["object"], "whatsapp_business_account");
        assert_eq!(webhook["entry"][0]["id"], meta_sandbox::DEFAULT_WABA_ID);
        let change = &webhook["entry"][0]["changes"][0];
        assert_eq!(change["field"], "messages");
        assert_eq!(
            change["value"]["metadata"]["phone_number_id"],
            PHONE_NUMBER_ID
        );
        let status = &change["value"]["statuses"][0];
        assert_eq!(status["id"], accepted.wamid.as_str());
        assert_eq!(status["recipient_id"], "15550000007");
        assert!(
            status["timestamp"]
                .as_str()
                .is_some_and(|t| t.parse::<i64>().is_ok()),
            "{status}"
        );
        assert_eq!(status["pricing"]["pricing_model"], "PMP");
        seen.push(status["status"].as_str().expect("status").to_owned());
    }
    assert_eq!(seen, ["sent", "delivered", "read"]);
    receiver.nothing_more().await;
}

#[tokio::test]
async fn a_customer_message_posts_a_signed_meta_shaped_body() {
    let mut receiver = webhook_receiver(&[]).await;
    let sandbox = sandbox(&receiver.url, true).await;
    let (status, report) = sandbox_post(
        &sandbox,
        "/sandbox/customer-messages",
        &json!({"from": "15551234567", "text": "Hi, is my order ready?", "name": "Ada"}),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["webhook_status"], 200);
    let wamid = report["wamid"].as_str().expect("wamid").to_owned();

    let webhook = receiver.next_signed().await;
    let value = &webhook["entry"][0]["changes"][0]["value"];
    assert_eq!(webhook["entry"][0]["id"], meta_sandbox::DEFAULT_WABA_ID);
    assert_eq!(value["messaging_product"], "whatsapp");
    assert_eq!(
        value["metadata"],
        json!({"display_phone_number": meta_sandbox::DEFAULT_DISPLAY_PHONE_NUMBER,
               "phone_number_id": PHONE_NUMBER_ID})
    );
    assert_eq!(
        value["contacts"],
        json!([{"profile": {"name": "Ada"}, "wa_id": "15551234567"}])
    );
    let message = &value["messages"][0];
    assert_eq!(message["from"], "15551234567");
    assert_eq!(message["id"], wamid.as_str());
    assert_eq!(message["type"], "text");
    assert_eq!(message["text"], json!({"body": "Hi, is my order ready?"}));
    // A customer message is not a send: no statuses follow it.
    receiver.nothing_more().await;
}

#[tokio::test]
async fn webhooks_are_redelivered_until_accepted() {
    let mut receiver = webhook_receiver(&[503]).await;
    let sandbox = sandbox(&receiver.url, false).await;
    let raw = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    let response = reqwest::Client::new()
        .post(format!("{}/sandbox/webhooks", sandbox.base_url))
        .body(raw.to_vec())
        .send()
        .await
        .expect("sandbox reachable");
    let report: Value = response.json().await.expect("report");
    assert_eq!(report["webhook_status"], 200);
    assert_eq!(report["attempts"], 2);

    for _ in 0..2 {
        assert_eq!(
            receiver.next_signed().await,
            json!({"object":"whatsapp_business_account","entry":[]})
        );
    }
}
