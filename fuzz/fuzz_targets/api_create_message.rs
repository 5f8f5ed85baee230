//! `POST /v1/messages` bodies through the API's public router, exactly as a client's request
//! would go: any bytes as the body of an authenticated request. The body model and its
//! validation are private to the api crate; the router is not. The store answers every call
//! with nothing (no such conversation, no phone route), in process, so no body is ever sent,
//! and every answer must be a client error in problem+json: never a panic, never a 5xx.

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
use std::sync::{Arc, LazyLock};
use switchboard_api::{ApiState, Authenticator, Caller, Problem};
use switchboard_domain::{FixedClock, Secret, TenantId};
use switchboard_platform::queue::Queue;
use switchboard_store::{CursorCodec, IdempotencyStore, Store};
use time::macros::datetime;
use tower::ServiceExt;

/// Every AWS call answers 200 `{}`: for DynamoDB's GetItem, no item.
#[derive(Debug, Clone)]
struct Nothing;

impl HttpConnector for Nothing {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let mut response =
            HttpResponse::new(200.try_into().expect("a status"), SdkBody::from("{}"));
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Nothing {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// Every key belongs to one tenant.
struct Anyone;

#[async_trait::async_trait]
impl Authenticator for Anyone {
    async fn authenticate(&self, _api_key: &str) -> Result<Option<Caller>, Problem> {
        Ok(Some(Caller {
            tenant: TenantId::new("tenant-fuzz"),
        }))
    }
}

fn dynamodb() -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "fuzz"))
        .endpoint_url("http://dynamodb.invalid")
        .http_client(Nothing)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn sqs() -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "fuzz"))
        .endpoint_url("http://sqs.invalid")
        .http_client(Nothing)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
});

static ROUTER: LazyLock<axum::Router> = LazyLock::new(|| {
    let state = ApiState {
        store: Store::new(dynamodb(), "fuzz"),
        idempotency: IdempotencyStore::new(dynamodb(), "fuzz"),
        outbound_queue: Queue::new(sqs(), "http://sqs.invalid/000000000000/outbound.fifo"),
        auth: Arc::new(Anyone),
        clock: Arc::new(FixedClock::at(datetime!(2026-11-01 10:00 UTC))),
        cursors: CursorCodec::new(
            &Secret::new("fuzz-cursor-signing-secret-0123456789abcdef"),
            CursorCodec::DEFAULT_TTL,
        )
        .expect("long enough"),
    };
    switchboard_api::router(Arc::new(state))
});

fn post(body: &[u8]) -> (http::StatusCode, Option<http::HeaderValue>, Vec<u8>) {
    let request = Request::post("/v1/messages")
        .header(header::AUTHORIZATION, "Bearer sk_fuzz")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_vec()))
        .expect("a request");
    RUNTIME.block_on(async {
        let response = ROUTER.clone().oneshot(request).await.expect("infallible");
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
        // The harness reaches the end of validation: a valid send is refused only because
        // the (empty) store has no route for the number.
        let (status, _, answer) = post(
            br#"{"phone_number_id":"106540352242922","to":"+15551234567","text":{"body":"Hi"}}"#,
        );
        let answer = String::from_utf8_lossy(&answer);
        assert_eq!(status, 422, "{answer}");
        assert!(answer.contains("is not a phone number of this account"), "{answer}");
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
        let problem: serde_json::Value = serde_json::from_slice(&answer).expect("JSON");
        assert_eq!(problem["status"], status.as_u16());
    }
);
