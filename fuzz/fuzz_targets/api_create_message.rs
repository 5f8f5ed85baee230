//! `POST /v1/messages` bodies through the API's public router, exactly as a client's request
//! would go: any bytes as the body of a request authenticated with an API key. The body model
//! and its validation are private to the api crate; the router is not. AWS answers in process:
//! DynamoDB knows the key (an active key of `tenant-fuzz` with the `messages:send` scope) and
//! nothing else (no suspension, no such conversation, no phone route), so no body is ever
//! stored or sent, and every answer must be a client error in problem+json: never a panic,
//! never a 5xx.

#![no_main]

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use axum::body::Body;
use http::{Request, header};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::{Arc, LazyLock, Mutex};
use switchboard_api::{AccessTokens, ApiState, AuditLog, OperatorKey};
use switchboard_domain::{ApiKeyId, Clock, FixedClock, Scope, Secret, TenantId};
use switchboard_meta::graph::GraphClient;
use switchboard_platform::media_store::MediaStore;
use switchboard_platform::metrics::InMemorySink;
use switchboard_platform::queue::Queue;
use switchboard_platform::token_vault::{CacheLimits, TokenVault};
use switchboard_store::{ApiKeyRecord, CursorCodec, IdempotencyStore, Store};
use time::macros::datetime;
use tower::ServiceExt;

/// The key every request presents; the fake DynamoDB knows it by its SHA-256, as the API
/// looks it up.
const API_KEY: &str = "sk_live_fuzz0123456789abcdefghijklmnopqrstuvwxyzAB";
const TENANT: &str = "tenant-fuzz";
const TABLE: &str = "fuzz";

/// `APIKEY#<lowercase hex SHA-256 of the key>`: the partition key of the key's item.
fn api_key_pk() -> String {
    let hash: String = Sha256::digest(API_KEY.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("APIKEY#{hash}")
}

/// AWS over HTTP, in process. A DynamoDB GetItem whose `Key.pk.S` is `item`'s key answers
/// `item`; every other call (GetItem of anything else, the key's `last_used_at` update, the
/// audit log's writes, SQS, KMS) answers 200 `{}`: for a GetItem, no item. When `recorder` is
/// set, the `Item` of every PutItem is also kept there.
#[derive(Debug, Clone, Default)]
struct FakeAws {
    item: Option<Arc<(String, Value)>>,
    recorder: Option<Arc<Mutex<Vec<Value>>>>,
}

impl FakeAws {
    fn answer(&self, request: &HttpRequest) -> String {
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let body: Value = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        if target == "DynamoDB_20120810.PutItem"
            && let Some(recorder) = &self.recorder
        {
            recorder
                .lock()
                .expect("not poisoned")
                .push(body["Item"].clone());
        }
        if target == "DynamoDB_20120810.GetItem"
            && let Some(item) = &self.item
            && body["Key"]["pk"]["S"].as_str() == Some(item.0.as_str())
        {
            return json!({ "Item": item.1 }).to_string();
        }
        "{}".to_owned()
    }
}

impl HttpConnector for FakeAws {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let mut response = HttpResponse::new(
            200.try_into().expect("a status"),
            SdkBody::from(self.answer(&request)),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for FakeAws {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

fn dynamodb(aws: &FakeAws) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "fuzz"))
        .endpoint_url("http://dynamodb.invalid")
        .http_client(aws.clone())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn sqs(aws: &FakeAws) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "fuzz"))
        .endpoint_url("http://sqs.invalid")
        .http_client(aws.clone())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

fn s3(aws: &FakeAws) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "fuzz"))
        .endpoint_url("http://s3.invalid")
        .http_client(aws.clone())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn kms(aws: &FakeAws) -> aws_sdk_kms::Client {
    use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "fuzz"))
        .endpoint_url("http://kms.invalid")
        .http_client(aws.clone())
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// The key's item exactly as the store writes it: `put_api_key` on a recording fake, its
/// PutItem's `Item` kept. The store's item helpers are private to it; this is their output
/// through its public API, so the item follows `ApiKeyRecord`'s serialization wherever it goes.
fn api_key_item() -> Value {
    let recorder = Arc::new(Mutex::new(Vec::new()));
    let aws = FakeAws {
        item: None,
        recorder: Some(Arc::clone(&recorder)),
    };
    let record = ApiKeyRecord {
        key_hash: api_key_pk()
            .strip_prefix("APIKEY#")
            .expect("a prefix")
            .to_owned(),
        id: ApiKeyId::new("key_fuzz"),
        tenant_id: TenantId::new(TENANT),
        name: "fuzz".to_owned(),
        scopes: vec![Scope::MessagesSend],
        prefix: API_KEY[..12].to_owned(),
        created_by: None,
        created_at: datetime!(2026-10-01 09:00 UTC),
        last_used_at: None,
        revoked_at: None,
    };
    RUNTIME
        .block_on(Store::new(dynamodb(&aws), TABLE).put_api_key(&record))
        .expect("the fake accepts every write");
    let mut items = recorder.lock().expect("not poisoned");
    assert_eq!(items.len(), 1, "put_api_key is one PutItem");
    let item = items.pop().expect("one item");
    assert_eq!(
        item["pk"]["S"].as_str(),
        Some(api_key_pk().as_str()),
        "the store keys API keys by the SHA-256 of the key: {item}"
    );
    item
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
});

static ROUTER: LazyLock<axum::Router> = LazyLock::new(|| {
    let aws = FakeAws {
        item: Some(Arc::new((api_key_pk(), api_key_item()))),
        recorder: None,
    };
    let store = Store::new(dynamodb(&aws), TABLE);
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::at(datetime!(2026-11-01 10:00 UTC)));
    let http = reqwest::Client::builder().build().expect("an HTTP client");
    let state = ApiState {
        audit: AuditLog::new(store.clone(), Arc::clone(&clock)),
        idempotency: IdempotencyStore::new(dynamodb(&aws), TABLE),
        store,
        outbound_queue: Queue::new(sqs(&aws), "http://sqs.invalid/000000000000/outbound.fifo"),
        inbound_queue: Queue::new(sqs(&aws), "http://sqs.invalid/000000000000/inbound.fifo"),
        graph: GraphClient::new(http, "http://graph.invalid", "v23.0"),
        vault: TokenVault::new(kms(&aws), "alias/fuzz", CacheLimits::default()),
        meta_app: None,
        access_tokens: AccessTokens::new(&Secret::new(
            "fuzz-access-token-signing-secret-0123456789",
        ))
        .expect("long enough"),
        operator_key: Some(
            OperatorKey::new(&Secret::new("fuzz-operator-key-0123456789abcdefghij"))
                .expect("long enough"),
        ),
        console_origins: vec!["https://console.invalid".to_owned()],
        clock,
        cursors: CursorCodec::new(
            &Secret::new("fuzz-cursor-signing-secret-0123456789abcdef"),
            CursorCodec::DEFAULT_TTL,
        )
        .expect("long enough"),
        metrics: Arc::new(InMemorySink::default()),
        media: MediaStore::new(s3(&aws), "fuzz-media", None),
        aws: aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build(),
    };
    switchboard_api::router(Arc::new(state))
});

fn post(body: &[u8]) -> (http::StatusCode, Option<http::HeaderValue>, Vec<u8>) {
    let request = Request::post("/v1/messages")
        .header(header::AUTHORIZATION, format!("Bearer {API_KEY}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_vec()))
        .expect("a request");
    // Outside `block_on`: building the router blocks on the runtime once (to write the key).
    let router = ROUTER.clone();
    RUNTIME.block_on(async {
        let response = router.oneshot(request).await.expect("infallible");
        let status = response.status();
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let answer = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a body");
        (status, content_type, answer.to_vec())
    })
}

fuzz_target!(
    init: {
        // The harness is authenticated and reaches the end of validation: a valid send is
        // refused only because the store has no route for the number.
        let (status, _, answer) = post(
            br#"{"phone_number_id":"106540352242922","to":"+15551234567","text":{"body":"Hi"}}"#,
        );
        let answer = String::from_utf8_lossy(&answer);
        assert_eq!(status, 422, "{answer}");
        let problem: Value = serde_json::from_str(&answer).expect("JSON");
        assert_eq!(
            problem["errors"],
            json!([{
                "field": "phone_number_id",
                "message": "is not a phone number of this account",
            }]),
            "{answer}"
        );
    },
    |body: &[u8]| {
        let (status, content_type, answer) = post(body);
        // 400 not JSON or not the model, 413 too large, 422 invalid or unknown to the store.
        assert!(
            matches!(status.as_u16(), 400 | 413 | 422),
            "{status} for a body the store knows nothing about: {}",
            String::from_utf8_lossy(&answer)
        );
        assert_eq!(
            content_type.as_ref().and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let problem: Value = serde_json::from_slice(&answer).expect("JSON");
        assert_eq!(problem["status"], status.as_u16());
    }
);
