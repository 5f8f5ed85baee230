//! Harness for end-to-end tests: each test gets the whole platform (every function, its own
//! moto resources provisioned from template.yaml under a unique prefix, a Meta sandbox) on
//! random loopback ports, and talks to it over real HTTP.

mod compliance_fixtures;

pub use compliance_fixtures::{
    approve_template, approve_template_with_id, opt_in, quiet_hours_elsewhere,
};

use anyhow::Context;
use serde_json::{Value, json};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use switchboard_dev::{DemoTenant, DevSettings, RunningStack};

pub const APP_SECRET: &str = "e2e-app-secret";
pub const VERIFY_TOKEN: &str = "e2e-verify-token";
pub const ACCESS_TOKEN: &str = "e2e-access-token";
pub const API_KEY: &str = "sk_test_e2e_0123456789";
pub const ADMIN_EMAIL: &str = "admin@acme.example";
pub const ADMIN_PASSWORD: &str = "acme-admin-password";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const DISPLAY_PHONE_NUMBER: &str = "15550783881";
pub const WABA_ID: &str = "102290129340398";

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct Options {
    pub sandbox_statuses: bool,
    /// What the local pollers receive stays hidden this long instead of the queue's own
    /// visibility timeout (180 s): a record a function handed back comes back this soon.
    pub poll_visibility: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sandbox_statuses: true,
            poll_visibility: None,
        }
    }
}

pub struct TestStack {
    pub stack: RunningStack,
    pub http: reqwest::Client,
}

pub async fn spawn_stack() -> TestStack {
    spawn_stack_with(Options::default()).await
}

pub async fn spawn_stack_with(options: Options) -> TestStack {
    try_spawn(options).await.expect("the local stack starts")
}

async fn try_spawn(options: Options) -> anyhow::Result<TestStack> {
    anyhow::ensure!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run the end-to-end tests through `make test` (scripts/with-moto.sh starts moto)"
    );
    init_logging();
    let prefix = format!(
        "e2e-{}",
        &ulid::Ulid::new().to_string().to_lowercase()[16..]
    );
    let settings = DevSettings {
        http_addr: "127.0.0.1:0".into(),
        sandbox_addr: Some("127.0.0.1:0".into()),
        template_path: workspace_root().join("template.yaml"),
        prefix,
        app_secret: APP_SECRET.into(),
        meta_app_id: meta_sandbox::DEFAULT_APP_ID.into(),
        verify_token: VERIFY_TOKEN.into(),
        access_token: ACCESS_TOKEN.into(),
        demo: DemoTenant {
            tenant_id: "acme".into(),
            name: "Acme".into(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            display_phone_number: DISPLAY_PHONE_NUMBER.into(),
            waba_id: WABA_ID.into(),
            api_key: API_KEY.into(),
            admin_email: ADMIN_EMAIL.into(),
            admin_password: ADMIN_PASSWORD.into(),
        },
        graph_api_base_url: None,
        graph_api_version: "v23.0".into(),
        outbound_retry_base: Duration::ZERO,
        sandbox_status_delay: Duration::from_millis(20),
        sandbox_send_statuses: options.sandbox_statuses,
        poll_wait: Duration::from_secs(1),
        poll_visibility: options.poll_visibility,
        clock_skip: Duration::ZERO,
    };
    let sdk = switchboard_platform::aws::load_sdk_config().await;
    let stack = switchboard_dev::start(settings, sdk).await?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()?;
    Ok(TestStack { stack, http })
}

fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        // The test writer prints to stdout, captured by the harness: colour only on a terminal.
        .with_ansi(switchboard_platform::telemetry::stdout_wants_ansi())
        .try_init();
}

/// Polls `check` until it yields a value or `timeout` passes.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub const WAIT: Duration = Duration::from_secs(30);

/// Lowercase hex SHA-256: how the sandbox names the tokens and files it received.
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes.as_ref()))
}

/// A text message body exactly as Meta sends it.
pub fn text_message_webhook(
    phone_number_id: &str,
    from: &str,
    wamid: &str,
    timestamp: i64,
    body: &str,
) -> Value {
    messages_webhook(
        phone_number_id,
        from,
        vec![
            json!({ "from": from, "id": wamid, "timestamp": timestamp.to_string(), "type": "text", "text": { "body": body } }),
        ],
    )
}

/// One `messages` change from customer `from` (named Ada) carrying the given message objects.
pub fn messages_webhook(phone_number_id: &str, from: &str, messages: Vec<Value>) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA_ID,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": phone_number_id },
                    "contacts": [{ "profile": { "name": "Ada" }, "wa_id": from }],
                    "messages": messages
                }
            }]
        }]
    })
}

/// A status webhook for one of our outbound messages.
pub fn status_webhook(wamid: &str, status: &str, timestamp: i64, recipient: &str) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA_ID,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": PHONE_NUMBER_ID },
                    "statuses": [{ "id": wamid, "status": status, "timestamp": timestamp.to_string(), "recipient_id": recipient }]
                }
            }]
        }]
    })
}

impl TestStack {
    pub fn base(&self) -> &str {
        &self.stack.base_url
    }

    pub fn sandbox_url(&self) -> &str {
        self.stack
            .sandbox
            .as_ref()
            .map(|s| s.base_url.as_str())
            .unwrap_or_default()
    }

    pub fn config(&self) -> switchboard_platform::Config {
        let id = self
            .stack
            .provisioned
            .function_binaries
            .iter()
            .find(|(_, b)| b.as_str() == "api")
            .map(|(id, _)| id.clone())
            .unwrap_or_default();
        self.stack.function_config(&id).expect("api config")
    }

    /// The platform operator's key (the stack's generated `OperatorKey` secret).
    pub async fn operator_key(&self) -> String {
        self.stack
            .operator_key()
            .await
            .expect("the operator key is readable")
            .expect("the API has an operator key")
            .expose()
            .to_owned()
    }

    /// Posts raw bytes to the webhook with the given signature header (or none).
    pub async fn post_webhook(&self, body: &[u8], signature: Option<&str>) -> reqwest::StatusCode {
        let mut req = self
            .http
            .post(self.stack.webhook_url())
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(sig) = signature {
            req = req.header("x-hub-signature-256", sig);
        }
        req.send().await.expect("webhook reachable").status()
    }

    /// Posts a body signed as Meta would.
    pub async fn post_signed(&self, body: &[u8]) -> reqwest::StatusCode {
        let sig = switchboard_meta::signature::sign(APP_SECRET.as_bytes(), body);
        self.post_webhook(body, Some(&sig)).await
    }

    pub async fn api_get(&self, path: &str) -> (reqwest::StatusCode, Value) {
        let res = self
            .http
            .get(format!("{}{path}", self.base()))
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("api reachable");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn api_post(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (reqwest::StatusCode, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base()))
            .bearer_auth(API_KEY)
            .json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("api reachable");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Any request to the API: the test key is sent unless `headers` carry an `authorization`
    /// of their own. Returns the status, the headers and the body as JSON (`Null` if it is not).
    pub async fn api_request(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base()));
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            req = req.bearer_auth(API_KEY);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.body(body);
        }
        let res = req.send().await.expect("api reachable");
        let status = res.status();
        let headers = res.headers().clone();
        (status, headers, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn sandbox_post(&self, path: &str, body: &Value) -> Value {
        let res = self
            .http
            .post(format!("{}{path}", self.sandbox_url()))
            .json(body)
            .send()
            .await
            .expect("sandbox reachable");
        assert!(
            res.status().is_success(),
            "sandbox {path} answered {}",
            res.status()
        );
        res.json().await.unwrap_or(Value::Null)
    }

    pub async fn sandbox_put(&self, path: &str, body: &Value) {
        let res = self
            .http
            .put(format!("{}{path}", self.sandbox_url()))
            .json(body)
            .send()
            .await
            .expect("sandbox reachable");
        assert!(
            res.status().is_success(),
            "sandbox {path} answered {}",
            res.status()
        );
    }

    pub async fn sandbox_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.sandbox_url()))
            .send()
            .await
            .expect("sandbox reachable")
            .json()
            .await
            .expect("the sandbox answers JSON")
    }

    /// The sends the sandbox refused, each with Meta's code and its cause.
    pub async fn sandbox_rejections(&self) -> Vec<Value> {
        match self.sandbox_get("/sandbox/rejections").await {
            Value::Array(items) => items,
            other => panic!("rejections are a list: {other}"),
        }
    }

    pub async fn sandbox_sent(&self) -> Vec<Value> {
        let res = self
            .http
            .get(format!("{}/sandbox/sent", self.sandbox_url()))
            .send()
            .await
            .expect("sandbox reachable");
        match res.json::<Value>().await.expect("sent list is JSON") {
            Value::Array(items) => items,
            Value::Object(mut o) => match o.remove("sent").or_else(|| o.remove("data")) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The customer `to` wrote to the demo number just now: their customer-service window is
    /// open, so free-form replies to them pass the compliance policy. Recorded straight in the
    /// store (no webhook call), so it is unaffected by faults a test injects in the functions.
    /// Repeating it for the same customer changes nothing.
    pub async fn open_window(&self, tenant: &str, to: &str) {
        let now = time::OffsetDateTime::now_utc();
        let wamid = format!("wamid.window-{to}");
        self.stack
            .store
            .record_inbound_message(
                &switchboard_domain::TenantId::from(tenant),
                &switchboard_store::NewInboundMessage {
                    phone_number_id: switchboard_domain::PhoneNumberId::from(PHONE_NUMBER_ID),
                    contact: switchboard_domain::ContactKey::WaId(to.to_owned()),
                    profile_name: None,
                    wamid: switchboard_domain::Wamid::new(wamid.clone()),
                    sent_at: now,
                    message_type: "text".into(),
                    text: Some("hello".into()),
                    raw: format!(r#"{{"id":"{wamid}","type":"text","text":{{"body":"hello"}}}}"#),
                    received_at: now,
                },
            )
            .await
            .expect("the customer's message is recorded");
    }

    /// The customer sends media through the sandbox (`body` is a
    /// `/sandbox/customer-media-messages` request); the message as the API shows it once
    /// recorded, found by its wamid in any conversation.
    pub async fn customer_sends_media(&self, body: &Value) -> Value {
        let report = self
            .sandbox_post("/sandbox/customer-media-messages", body)
            .await;
        assert_eq!(report["webhook_status"], 200, "{report}");
        let wamid = report["wamid"].as_str().expect("wamid").to_owned();
        eventually("the media message to be recorded", WAIT, || async {
            let (_, conversations) = self.api_get("/v1/conversations").await;
            for conversation in conversations["data"].as_array().into_iter().flatten() {
                let id = conversation["id"].as_str().unwrap_or_default();
                if let Some(m) = self
                    .messages(id)
                    .await
                    .into_iter()
                    .find(|m| m["wamid"] == wamid)
                {
                    return Some(m);
                }
            }
            None
        })
        .await
    }

    /// Waits until the tenant has a conversation and returns its id.
    pub async fn first_conversation(&self) -> String {
        eventually("a conversation", WAIT, || async {
            let (_, body) = self.api_get("/v1/conversations").await;
            body["data"][0]["id"].as_str().map(str::to_owned)
        })
        .await
    }

    pub async fn messages(&self, conversation: &str) -> Vec<Value> {
        let (status, body) = self
            .api_get(&format!("/v1/conversations/{conversation}/messages"))
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"].as_array().cloned().unwrap_or_default()
    }

    pub async fn message(&self, id: &str) -> Value {
        let (status, body) = self.api_get(&format!("/v1/messages/{id}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits until the message has the given status.
    pub async fn wait_for_status(&self, id: &str, status: &str) -> Value {
        eventually(&format!("message {id} to be {status}"), WAIT, || async {
            let m = self.message(id).await;
            (m["status"] == status).then_some(m)
        })
        .await
    }

    pub async fn table_item_count(&self) -> usize {
        let client = aws_sdk_dynamodb::Client::new(&self.stack.sdk);
        let out = client
            .scan()
            .table_name(self.config().table_name)
            .select(aws_sdk_dynamodb::types::Select::Count)
            .send()
            .await
            .expect("scan");
        usize::try_from(out.count()).unwrap_or_default()
    }

    pub async fn queue_depth(&self, url: &str) -> usize {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = aws_sdk_sqs::Client::new(&self.stack.sdk)
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes");
        let attrs = out.attributes().cloned().unwrap_or_default();
        [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .map(|a| {
            attrs
                .get(a)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        })
        .sum()
    }

    /// Replays a quarantined body through the webhook's own intake, as the operator would.
    pub async fn replay_quarantined(&self, key: &str) -> switchboard_webhook::ReplayOutcome {
        let webhook_id = self
            .stack
            .provisioned
            .function_binaries
            .iter()
            .find(|(_, b)| b.as_str() == "webhook")
            .map(|(id, _)| id.clone())
            .expect("webhook function");
        let state = switchboard_webhook::init(
            &self.stack.function_config(&webhook_id).expect("config"),
            &self.stack.sdk,
        )
        .await
        .expect("init");
        switchboard_webhook::replay_quarantined(&state, key)
            .await
            .expect("replays")
    }

    pub async fn quarantined(&self) -> Vec<String> {
        let q = switchboard_platform::blob::Quarantine::new(
            switchboard_platform::aws::s3_client(&self.stack.sdk),
            self.config().data_bucket,
        );
        q.list(100)
            .await
            .context("listing quarantine")
            .expect("quarantine list")
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    /// `Authorization: Bearer …`: an access token or an API key.
    Bearer(&'a str),
    /// A console session: the cookie and the CSRF token repeated in `X-CSRF-Token`.
    Session {
        cookie: &'a str,
        csrf: Option<&'a str>,
    },
}

impl TestStack {
    /// A JSON request with exactly the credentials given. Returns status, headers and body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base()));
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => req = req.bearer_auth(token),
            Auth::Session { cookie, csrf } => {
                req = req.header(
                    "cookie",
                    format!("{}={cookie}", switchboard_api::SESSION_COOKIE),
                );
                if let Some(csrf) = csrf {
                    req = req.header(switchboard_api::CSRF_HEADER, csrf);
                }
            }
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.expect("api reachable");
        let status = res.status();
        let headers = res.headers().clone();
        (status, headers, res.json().await.unwrap_or(Value::Null))
    }

    /// Signs in; panics unless the API answers 200. Returns the token body.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let (status, _, body) = self
            .call(
                reqwest::Method::POST,
                "/v1/auth/login",
                Auth::None,
                Some(&json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(status, 200, "login as {email}: {body}");
        body
    }

    /// The access token of a fresh sign-in.
    pub async fn access_token(&self, email: &str, password: &str) -> String {
        self.login(email, password).await["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// Invites `email` with `role` as the holder of `token`, accepts the invitation with
    /// `password`, and returns the new person's user id.
    pub async fn add_person(&self, token: &str, email: &str, role: &str, password: &str) -> String {
        let (status, _, invited) = self
            .call(
                reqwest::Method::POST,
                "/v1/users",
                Auth::Bearer(token),
                Some(&json!({ "name": format!("{role} person"), "email": email, "role": role })),
            )
            .await;
        assert_eq!(status, 201, "inviting {email}: {invited}");
        let (status, _, body) = self
            .call(
                reqwest::Method::POST,
                "/v1/auth/invitations/accept",
                Auth::None,
                Some(&json!({ "token": invited["invitation_token"], "password": password })),
            )
            .await;
        assert_eq!(status, 204, "accepting the invitation of {email}: {body}");
        invited["user"]["id"]
            .as_str()
            .expect("a user id")
            .to_owned()
    }
}
