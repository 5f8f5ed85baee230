//! Cold start of every function's release bootstrap, beside a hello-world `lambda_http`
//! binary built with the same profile (`local/hello`).
//!
//! ```text
//! cargo build --release -p switchboard-webhook ... -p switchboard-hello --bin webhook ... --bin hello
//! scripts/with-moto.sh cargo bench -p switchboard-dev --bench cold_start -- \
//!     [--bin-dir DIR] [--runs N] [--only webhook,hello] [--timeout-seconds S] [--json out.json]
//! ```
//! A Lambda Runtime API of our own, on a random loopback port, starts each bootstrap as Lambda
//! starts one (a cleared environment with the Lambda variables, test credentials and the
//! function's environment from template.yaml) and hands it one typical event. Per run:
//! - init: exec until the first `GET /runtime/invocation/next`, what Lambda bills as the init
//!   duration;
//! - first response: exec until the invocation's response (or error) POST arrives, what the
//!   first caller waits for;
//! - peak RSS: the process's `VmHWM`, read as soon as that POST arrives, before it is killed.
//!
//! The functions read their secrets during init (the webhook on its first request) and call
//! DynamoDB, SQS and S3 on their first event, so the run needs moto (`AWS_ENDPOINT_URL`); the Graph API is the Meta sandbox, in
//! this process. Loopback moto answers in a millisecond or two where AWS takes ten or more:
//! the first-response figures are a lower bound of Lambda's. Functions take turns, one run
//! each per round, so the shared machine's drifting load spreads over all of them; the figures
//! are medians over the rounds. The page cache holds every binary (each was just copied), as
//! on a warm Lambda host; the process, its runtime and its clients start cold every run.

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{env, process};
use switchboard_dev::provision::{ProvisionRequest, Provisioned, provision};
use switchboard_dev::seed::seed_demo_tenant;
use switchboard_dev::settings::DemoTenant;
use switchboard_domain::jobs::{MediaJob, OutboundJob};
use switchboard_domain::media::MediaKind;
use switchboard_domain::outbound::OutboundPayload;
use switchboard_domain::{ContactKey, MessageId, MessageStatus, PhoneNumberId, TenantId, Wamid};
use switchboard_platform::token_vault::{CacheLimits, TokenVault};
use switchboard_store::{NewInboundMessage, NewOutboundMessage, Recorded, Store};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const PHONE_NUMBER_ID: &str = "106540352242922";
const DISPLAY_PHONE_NUMBER: &str = "15550783881";
const WABA_ID: &str = "102290129340398";
const TENANT: &str = "bench";
const CUSTOMER: &str = "4915140000001";
const APP_SECRET: &str = "bench-cold-start-app-secret";
const ACCESS_TOKEN: &str = "bench-cold-start-access-token";
/// Every wamid of the webhook and inbound samples starts so; a per-run stand-in keeps each
/// run's event new to the dedupe claims instead of a duplicate of the last run's.
const SAMPLE_WAMID_PREFIX: &str = "wamid.HBgLMTU1NTEyMzQ1NjcVAgA";
const OPENING_WAMID: &str = "wamid.BENCHOPENING";
/// A typical customer photo.
const MEDIA_BYTES: u64 = 200 * 1024;
/// template.yaml's `Globals.Function.MemorySize`; no function overrides it.
const MEMORY_MB: u32 = 256;
const BASELINE: &str = "hello";
const RATIO_TARGET: f64 = 1.5;
const SIZE_TARGET_MB: f64 = 10.0;
/// Sizes in decimal megabytes, as bench.sh's bootstrap size target counts them; resident
/// sets in MiB, as the media bench reports them.
const MB: f64 = 1e6;
const MIB: f64 = 1024.0 * 1024.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hello,
    Webhook,
    Api,
    Inbound,
    Outbound,
    Media,
    Operations,
    TemplateSync,
}

struct Spec {
    /// The cargo binary, as template.yaml's `BuildProperties.Binary` names it.
    bin: &'static str,
    kind: Kind,
    event: &'static str,
}

const SPECS: [Spec; 8] = [
    Spec {
        bin: BASELINE,
        kind: Kind::Hello,
        event: "API Gateway HTTP API v2: GET /healthz",
    },
    Spec {
        bin: "webhook",
        kind: Kind::Webhook,
        event: "API Gateway HTTP API v2: signed POST /webhooks/whatsapp, one text message",
    },
    Spec {
        bin: "api",
        kind: Kind::Api,
        event: "API Gateway HTTP API v2: GET /healthz",
    },
    Spec {
        bin: "inbound",
        kind: Kind::Inbound,
        event: "SQS: the webhook's jobs for one text message and one read status",
    },
    Spec {
        bin: "outbound",
        kind: Kind::Outbound,
        event: "SQS FIFO: one queued text inside the customer's window, sent to the sandbox",
    },
    Spec {
        bin: "media",
        kind: Kind::Media,
        event: "SQS: one 200 KiB inbound image, sandbox to S3",
    },
    Spec {
        bin: "operations",
        kind: Kind::Operations,
        event: "operator command {\"op\":\"list_quarantine\"} (it has no schedule)",
    },
    Spec {
        bin: "template-sync",
        kind: Kind::TemplateSync,
        event: "EventBridge scheduled event: one tenant's templates from the sandbox",
    },
];

struct Args {
    runs: usize,
    bin_dir: PathBuf,
    only: Option<Vec<String>>,
    timeout: Duration,
    json: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: cold_start [--bin-dir DIR] [--runs N] [--only a,b] [--timeout-seconds S] [--json out.json]"
    );
    process::exit(2)
}

fn args(root: &Path) -> Args {
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let mut a = Args {
        runs: 10,
        bin_dir: target.join("release"),
        only: None,
        timeout: Duration::from_secs(30),
        json: None,
    };
    let mut it = env::args().skip(1);
    let value = |it: &mut dyn Iterator<Item = String>| it.next().unwrap_or_else(|| usage());
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => a.runs = value(&mut it).parse().unwrap_or_else(|_| usage()),
            "--bin-dir" => a.bin_dir = PathBuf::from(value(&mut it)),
            "--only" => {
                a.only = Some(value(&mut it).split(',').map(str::to_owned).collect());
            }
            "--timeout-seconds" => {
                a.timeout = Duration::from_secs(value(&mut it).parse().unwrap_or_else(|_| usage()))
            }
            "--json" => a.json = Some(PathBuf::from(value(&mut it))),
            "--bench" => {}
            _ => usage(),
        }
    }
    a.runs = a.runs.max(1);
    a
}

fn log(msg: impl std::fmt::Display) {
    eprintln!("[cold start bench] {msg}");
}

// ---------------------------------------------------------------------------------------------
// The Runtime API emulator.

/// What the emulator saw, stamped on arrival.
#[derive(Debug)]
enum Signal {
    Next(Instant),
    Response {
        id: String,
        at: Instant,
        body: Bytes,
    },
    Error {
        id: String,
        at: Instant,
        body: Bytes,
    },
    InitError {
        at: Instant,
        body: Bytes,
    },
}

struct Invocation {
    request_id: String,
    function_arn: String,
    deadline: Duration,
    payload: Bytes,
}

struct Emulator {
    /// The event the next `/next` hands out; later polls wait until the process is killed.
    pending: Mutex<Option<Invocation>>,
    signals: mpsc::UnboundedSender<Signal>,
}

impl Emulator {
    fn signal(&self, s: Signal) {
        // The receiver lives as long as the bench.
        let _ = self.signals.send(s);
    }
}

async fn next(State(e): State<Arc<Emulator>>) -> Response {
    e.signal(Signal::Next(Instant::now()));
    let invocation = e.pending.lock().expect("emulator lock").take();
    let Some(inv) = invocation else {
        return std::future::pending().await;
    };
    let deadline_ms = (SystemTime::now() + inv.deadline)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", inv.request_id.clone());
    put("lambda-runtime-deadline-ms", deadline_ms.to_string());
    put("lambda-runtime-invoked-function-arn", inv.function_arn);
    put("lambda-runtime-trace-id", trace_id());
    put("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, inv.payload).into_response()
}

/// An X-Ray trace header of the right shape, distinct per invocation; nothing reads it back.
fn trace_id() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(1);
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let id = (u128::from(process::id()) << 64) | u128::from(SEQ.fetch_add(1, Ordering::Relaxed));
    format!("Root=1-{secs:08x}-{id:024x};Parent=0000000000000001;Sampled=0")
}

async fn response(
    State(e): State<Arc<Emulator>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    e.signal(Signal::Response {
        id,
        at: Instant::now(),
        body,
    });
    StatusCode::ACCEPTED
}

async fn error(
    State(e): State<Arc<Emulator>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    e.signal(Signal::Error {
        id,
        at: Instant::now(),
        body,
    });
    StatusCode::ACCEPTED
}

async fn init_error(State(e): State<Arc<Emulator>>, body: Bytes) -> StatusCode {
    e.signal(Signal::InitError {
        at: Instant::now(),
        body,
    });
    StatusCode::ACCEPTED
}

async fn start_emulator() -> anyhow::Result<(String, Arc<Emulator>, mpsc::UnboundedReceiver<Signal>)>
{
    let (tx, rx) = mpsc::unbounded_channel();
    let emulator = Arc::new(Emulator {
        pending: Mutex::new(None),
        signals: tx,
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(Arc::clone(&emulator));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            log(format!("the runtime API emulator stopped: {e}"));
        }
    });
    Ok((addr, emulator, rx))
}

// ---------------------------------------------------------------------------------------------
// The local stack the functions talk to, and their events.

struct Stack {
    root: PathBuf,
    prefix: String,
    provisioned: Provisioned,
    store: Store,
    sandbox: meta_sandbox::RunningSandbox,
    tenant: TenantId,
}

async fn start_stack(root: &Path) -> anyhow::Result<Stack> {
    let prefix = format!("bench-cold-{}", process::id());
    let sandbox = meta_sandbox::start(
        TcpListener::bind("127.0.0.1:0").await?,
        meta_sandbox::SandboxConfig {
            app_secret: APP_SECRET.into(),
            app_id: meta_sandbox::DEFAULT_APP_ID.into(),
            // No status webhooks are sent (`send_statuses`), so nothing listens here.
            webhook_url: "http://127.0.0.1:9/webhooks/whatsapp".into(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            display_phone_number: DISPLAY_PHONE_NUMBER.into(),
            waba_id: WABA_ID.into(),
            status_delay: Duration::ZERO,
            send_statuses: false,
            expected_token: Some(ACCESS_TOKEN.into()),
        },
    )
    .await;
    let sdk = switchboard_platform::aws::load_sdk_config().await;
    let provisioned = provision(
        &sdk,
        &ProvisionRequest {
            template_path: &root.join("template.yaml"),
            prefix: &prefix,
            parameter_overrides: BTreeMap::from([
                ("GraphApiBaseUrl".to_owned(), sandbox.base_url.clone()),
                ("GraphApiVersion".to_owned(), "v23.0".to_owned()),
                (
                    "MetaAppId".to_owned(),
                    meta_sandbox::DEFAULT_APP_ID.to_owned(),
                ),
            ]),
            secret_params: BTreeMap::from([(
                "MetaSecretArn".to_owned(),
                json!({ "app_secret": APP_SECRET, "verify_token": "bench-cold-start-verify" })
                    .to_string(),
            )]),
        },
    )
    .await
    .context("provisioning template.yaml's resources in moto")?;
    let api_env = function_env(&provisioned, "api")?;
    let table = api_env
        .get("TABLE_NAME")
        .context("the API has no TABLE_NAME")?;
    let key = api_env
        .get("TOKEN_KEY_ID")
        .context("the API has no TOKEN_KEY_ID")?;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    let vault = TokenVault::new(
        aws_sdk_kms::Client::new(&sdk),
        key.clone(),
        CacheLimits::default(),
    );
    let demo = DemoTenant {
        tenant_id: TENANT.into(),
        name: "Bench".into(),
        phone_number_id: PHONE_NUMBER_ID.into(),
        display_phone_number: DISPLAY_PHONE_NUMBER.into(),
        waba_id: WABA_ID.into(),
        api_key: "sk_bench_cold_start_0123456789".into(),
        admin_email: "bench-cold-start@demo.example".into(),
        admin_password: "bench-cold-start-password".into(),
    };
    seed_demo_tenant(&store, &vault, &demo, ACCESS_TOKEN)
        .await
        .context("seeding the bench tenant")?;
    let stack = Stack {
        root: root.to_owned(),
        prefix,
        provisioned,
        store,
        sandbox,
        tenant: TenantId::from(TENANT),
    };
    // The customer writes first: their 24-hour window is what lets the outbound text go out.
    stack
        .record_inbound(
            "text",
            Some("Is my order ready?"),
            OPENING_WAMID,
            json!({ "id": OPENING_WAMID, "type": "text", "text": { "body": "Is my order ready?" } }),
        )
        .await?;
    Ok(stack)
}

fn logical_id<'a>(p: &'a Provisioned, bin: &str) -> anyhow::Result<&'a str> {
    p.function_binaries
        .iter()
        .find(|(_, b)| b.as_str() == bin)
        .map(|(id, _)| id.as_str())
        .with_context(|| format!("template.yaml has no function built from binary {bin}"))
}

fn function_env<'a>(p: &'a Provisioned, bin: &str) -> anyhow::Result<&'a BTreeMap<String, String>> {
    let id = logical_id(p, bin)?;
    p.function_env
        .get(id)
        .with_context(|| format!("no environment for {id}"))
}

/// What a run's event should have left behind, checked after the run.
enum Check {
    None,
    InboundRecorded(MessageId),
    OutboundSent(MessageId),
    MediaStored(MessageId),
}

impl Stack {
    fn sample(&self, name: &str) -> anyhow::Result<Value> {
        let path = self.root.join("events").join(name);
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    async fn record_inbound(
        &self,
        message_type: &str,
        text: Option<&str>,
        wamid: &str,
        raw: Value,
    ) -> anyhow::Result<MessageId> {
        let now = time::OffsetDateTime::now_utc();
        let recorded = self
            .store
            .record_inbound_message(
                &self.tenant,
                &NewInboundMessage {
                    phone_number_id: PhoneNumberId::from(PHONE_NUMBER_ID),
                    contact: ContactKey::WaId(CUSTOMER.into()),
                    profile_name: None,
                    wamid: Wamid::new(wamid.to_owned()),
                    sent_at: now,
                    message_type: message_type.into(),
                    text: text.map(str::to_owned),
                    raw: raw.to_string(),
                    received_at: now,
                },
            )
            .await?;
        let (Recorded::New { message_id, .. } | Recorded::Duplicate { message_id, .. }) = recorded;
        Ok(message_id)
    }

    /// The sample's first SQS record alone, carrying `body`.
    fn sqs_event(
        &self,
        sample: &str,
        body: String,
        message_id: &str,
        group: Option<&str>,
    ) -> anyhow::Result<Value> {
        let event = self.sample(sample)?;
        let mut record = event["Records"][0].clone();
        record["body"] = json!(body);
        record["messageId"] = json!(message_id);
        record["md5OfBody"] = json!("");
        if let Some(group) = group {
            record["attributes"]["MessageGroupId"] = json!(group);
            record["attributes"]["MessageDeduplicationId"] = json!(message_id);
        }
        Ok(json!({ "Records": [record] }))
    }

    /// The event of run `round` of `kind`, and what to check afterwards.
    async fn event(&self, kind: Kind, round: usize) -> anyhow::Result<(Vec<u8>, Check)> {
        let fresh_wamid = format!("wamid.BENCH{}R{round}", process::id());
        let (event, check) = match kind {
            Kind::Hello | Kind::Api => (self.sample("api-healthz.json")?, Check::None),
            Kind::Webhook => {
                let mut event = self.sample("webhook-post-text-message.json")?;
                let body = event["body"]
                    .as_str()
                    .context("the webhook sample has no body")?
                    .replace(SAMPLE_WAMID_PREFIX, &fresh_wamid);
                event["headers"]["x-hub-signature-256"] = json!(switchboard_meta::signature::sign(
                    APP_SECRET.as_bytes(),
                    body.as_bytes()
                ));
                event["body"] = json!(body);
                (event, Check::None)
            }
            Kind::Inbound => {
                let text = serde_json::to_string(&self.sample("inbound-batch.json")?)?
                    .replace(SAMPLE_WAMID_PREFIX, &fresh_wamid);
                let event: Value = serde_json::from_str(&text)?;
                let first = event["Records"][0]["body"]
                    .as_str()
                    .and_then(|b| serde_json::from_str::<Value>(b).ok())
                    .and_then(|b| {
                        b["payload"]["message"]["message"]["id"]
                            .as_str()
                            .map(str::to_owned)
                    })
                    .context("the inbound sample's first record is not a message")?;
                let id = switchboard_store::inbound_message_id(&Wamid::new(first));
                (event, Check::InboundRecorded(id))
            }
            Kind::Outbound => {
                let message_id = MessageId::generate();
                let payload = OutboundPayload::Text {
                    body: "Your order is ready for pickup.".into(),
                    preview_url: false,
                };
                self.store
                    .create_outbound_message(
                        &self.tenant,
                        &NewOutboundMessage {
                            message_id: message_id.clone(),
                            phone_number_id: PhoneNumberId::from(PHONE_NUMBER_ID),
                            to: ContactKey::WaId(CUSTOMER.into()),
                            message_type: payload.message_type().into(),
                            text: Some("Your order is ready for pickup.".into()),
                            body_json: serde_json::to_string(&payload)?,
                            created_at: time::OffsetDateTime::now_utc(),
                        },
                    )
                    .await?;
                let job = OutboundJob {
                    tenant_id: self.tenant.clone(),
                    message_id: message_id.clone(),
                };
                let group = OutboundJob::group_id(&self.tenant, &format!("wa:{CUSTOMER}"));
                let event = self.sqs_event(
                    "outbound-batch.json",
                    serde_json::to_string(&job)?,
                    message_id.as_str(),
                    Some(&group),
                )?;
                (event, Check::OutboundSent(message_id))
            }
            Kind::Media => {
                let media = self
                    .sandbox
                    .add_media(meta_sandbox::NewMedia::generated("image/jpeg", MEDIA_BYTES));
                let raw = json!({ "id": fresh_wamid, "type": "image", "image": {
                    "id": media.id, "mime_type": "image/jpeg", "sha256": media.sha256 } });
                let message_id = self
                    .record_inbound("image", None, &fresh_wamid, raw)
                    .await?;
                let job = MediaJob {
                    tenant_id: self.tenant.clone(),
                    message_id: message_id.clone(),
                    phone_number_id: PHONE_NUMBER_ID.into(),
                    media_id: media.id.clone(),
                    kind: MediaKind::Image,
                    mime_type: "image/jpeg".into(),
                    sha256: Some(media.sha256.clone()),
                    filename: None,
                    animated: false,
                };
                let event = self.sqs_event(
                    "inbound-batch.json",
                    serde_json::to_string(&job)?,
                    &format!("bench-media-{round}"),
                    None,
                )?;
                (event, Check::MediaStored(message_id))
            }
            Kind::Operations => (self.sample("operations-list-quarantine.json")?, Check::None),
            Kind::TemplateSync => (self.sample("template-sync-scheduled.json")?, Check::None),
        };
        Ok((serde_json::to_vec(&event)?, check))
    }

    /// Whether the run did its work: `None` when there is nothing to look at.
    async fn verify(&self, check: &Check) -> anyhow::Result<Option<bool>> {
        Ok(Some(match check {
            Check::None => return Ok(None),
            Check::InboundRecorded(id) => self.store.get_message(&self.tenant, id).await?.is_some(),
            Check::OutboundSent(id) => self
                .store
                .get_outbound_message(&self.tenant, id)
                .await?
                .is_some_and(|(m, _)| m.status == MessageStatus::Sent),
            Check::MediaStored(id) => self
                .store
                .get_message(&self.tenant, id)
                .await?
                .and_then(|m| m.media)
                .is_some_and(|m| m.size == Some(MEDIA_BYTES)),
        }))
    }

    /// The environment Lambda gives `bin`'s process.
    fn lambda_env(
        &self,
        bin: &str,
        runtime_api: &str,
        bin_dir: &Path,
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let (name, mut vars) = if bin == BASELINE {
            (format!("{}-hello", self.prefix), BTreeMap::new())
        } else {
            let id = logical_id(&self.provisioned, bin)?;
            (
                format!("{}-{id}", self.prefix),
                function_env(&self.provisioned, bin)?.clone(),
            )
        };
        let region = env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
        let endpoint = env::var("AWS_ENDPOINT_URL").context("AWS_ENDPOINT_URL is not set")?;
        let path = env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        for (k, v) in [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
            ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_MB.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]00000000000000000000000000000000".into(),
            ),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".into()),
            ("AWS_REGION", region.clone()),
            ("AWS_DEFAULT_REGION", region),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_SESSION_TOKEN", "test".into()),
            ("AWS_ENDPOINT_URL", endpoint),
            // No metadata service here; with credentials in the environment none is asked.
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("LAMBDA_TASK_ROOT", bin_dir.display().to_string()),
            ("_HANDLER", "bootstrap".into()),
            ("TZ", ":UTC".into()),
            ("LANG", "en_US.UTF-8".into()),
            ("PATH", path),
        ] {
            vars.insert(k.to_owned(), v);
        }
        Ok(vars)
    }

    fn timeout_of(&self, bin: &str) -> Duration {
        logical_id(&self.provisioned, bin)
            .ok()
            .and_then(|id| self.provisioned.function_timeouts.get(id).copied())
            .unwrap_or(Duration::from_secs(3))
    }
}

// ---------------------------------------------------------------------------------------------
// One run.

#[derive(Debug)]
struct Run {
    next_ms: Option<f64>,
    response_ms: Option<f64>,
    peak_rss_bytes: Option<u64>,
    /// `response`, `error`, `init_error`, `exited`, `timed_out`.
    outcome: &'static str,
    detail: String,
    did_work: Option<bool>,
}

/// `VmHWM` of process `pid`, in bytes.
fn peak_rss(pid: Option<u32>) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A short account of a response body: the HTTP status an API Gateway answer carries, or the
/// failed records of an SQS batch answer.
fn describe_response(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return format!("{} bytes", body.len());
    };
    if let Some(code) = v["statusCode"].as_u64() {
        return format!("HTTP {code}");
    }
    if let Some(failures) = v["batchItemFailures"].as_array() {
        return format!("{} batch item failures", failures.len());
    }
    format!("{} bytes of JSON", body.len())
}

/// An error's type and the start of its message (the functions name secrets by id only).
fn describe_error(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let kind = v["errorType"].as_str().unwrap_or("unknown");
    let message: String = v["errorMessage"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(160)
        .collect();
    format!("{kind}: {message}")
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct RunRequest<'a> {
    bootstrap: &'a Path,
    env: &'a BTreeMap<String, String>,
    request_id: String,
    function_arn: String,
    deadline: Duration,
    payload: Vec<u8>,
    timeout: Duration,
    log: &'a File,
}

async fn run_once(
    emulator: &Emulator,
    signals: &mut mpsc::UnboundedReceiver<Signal>,
    req: RunRequest<'_>,
) -> anyhow::Result<Run> {
    while signals.try_recv().is_ok() {}
    *emulator.pending.lock().expect("emulator lock") = Some(Invocation {
        request_id: req.request_id.clone(),
        function_arn: req.function_arn,
        deadline: req.deadline,
        payload: Bytes::from(req.payload),
    });
    let mut command = tokio::process::Command::new(req.bootstrap);
    command
        .env_clear()
        .envs(req.env)
        .stdin(Stdio::null())
        .stdout(Stdio::from(req.log.try_clone()?))
        .stderr(Stdio::from(req.log.try_clone()?))
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", req.bootstrap.display()))?;
    let pid = child.id();
    let give_up = tokio::time::Instant::from_std(started + req.timeout);
    let mut run = Run {
        next_ms: None,
        response_ms: None,
        peak_rss_bytes: None,
        outcome: "timed_out",
        detail: String::new(),
        did_work: None,
    };
    loop {
        tokio::select! {
            signal = signals.recv() => match signal {
                Some(Signal::Next(at)) => {
                    run.next_ms.get_or_insert(millis(at - started));
                }
                Some(Signal::Response { id, at, body }) if id == req.request_id => {
                    run.peak_rss_bytes = peak_rss(pid);
                    run.response_ms = Some(millis(at - started));
                    run.outcome = "response";
                    run.detail = describe_response(&body);
                    break;
                }
                Some(Signal::Error { id, at, body }) if id == req.request_id => {
                    run.peak_rss_bytes = peak_rss(pid);
                    run.response_ms = Some(millis(at - started));
                    run.outcome = "error";
                    run.detail = describe_error(&body);
                    break;
                }
                Some(Signal::InitError { at, body }) => {
                    run.peak_rss_bytes = peak_rss(pid);
                    run.outcome = "init_error";
                    run.detail = format!(
                        "after {:.0} ms, {}",
                        millis(at - started),
                        describe_error(&body)
                    );
                    break;
                }
                Some(_) => {}
                None => anyhow::bail!("the runtime API emulator stopped"),
            },
            status = child.wait() => {
                run.outcome = "exited";
                run.detail = format!("exited before answering: {}", status?);
                break;
            }
            () = tokio::time::sleep_until(give_up) => {
                run.peak_rss_bytes = peak_rss(pid);
                run.detail = format!("no response within {} s", req.timeout.as_secs());
                break;
            }
        }
    }
    // Already gone when it exited by itself; the kill is then a no-op.
    let _ = child.start_kill();
    let _ = child.wait().await;
    Ok(run)
}

// ---------------------------------------------------------------------------------------------
// Figures.

#[derive(Debug, Clone, Copy)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(mut samples: Vec<f64>) -> Option<Stats> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let median = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    };
    Some(Stats {
        median,
        min: samples[0],
        max: samples[n - 1],
    })
}

fn stats_json(s: Option<Stats>) -> Value {
    s.map_or(
        Value::Null,
        |s| json!({ "median": s.median, "min": s.min, "max": s.max }),
    )
}

/// A stripped copy of the bootstrap, which is what is measured and run: the size Lambda
/// unpacks and the file it executes.
fn stripped_copy(bootstrap: &Path, dir: &Path) -> anyhow::Result<(PathBuf, bool)> {
    fs::create_dir_all(dir)?;
    let name = bootstrap
        .file_name()
        .context("a bootstrap without a name")?;
    let copy = dir.join(name);
    let stripped = process::Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(bootstrap)
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        fs::copy(bootstrap, &copy)?;
    }
    Ok((copy, stripped))
}

struct Measured {
    spec: &'static Spec,
    bytes: u64,
    stripped: bool,
    runs: Vec<Run>,
}

impl Measured {
    fn next(&self) -> Option<Stats> {
        stats(self.runs.iter().filter_map(|r| r.next_ms).collect())
    }
    fn response(&self) -> Option<Stats> {
        stats(self.runs.iter().filter_map(|r| r.response_ms).collect())
    }
    fn rss_mib(&self) -> Option<Stats> {
        stats(
            self.runs
                .iter()
                .filter_map(|r| r.peak_rss_bytes)
                .map(|b| b as f64 / MIB)
                .collect(),
        )
    }
    /// How often each outcome (with its detail) came up, most frequent first.
    fn outcomes(&self) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for r in &self.runs {
            let key = if r.detail.is_empty() {
                r.outcome.to_owned()
            } else {
                format!("{}: {}", r.outcome, r.detail)
            };
            *counts.entry(key).or_default() += 1;
        }
        let mut v: Vec<_> = counts.into_iter().collect();
        v.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        v
    }
    fn status(&self) -> String {
        let answered = self.runs.iter().filter(|r| r.response_ms.is_some()).count();
        let errors = self.runs.iter().filter(|r| r.outcome == "error").count();
        match (answered, errors) {
            (0, _) if self.next().is_some() => {
                "init measured; no first response (see outcomes)".into()
            }
            (0, _) => "failed (see outcomes)".into(),
            (_, 0) => "measured".into(),
            _ => format!("measured; {errors} of the first responses are error responses"),
        }
    }
}

fn ratio(a: Option<Stats>, b: Option<Stats>) -> Option<f64> {
    Some(a?.median / b?.median)
}

fn report(measured: &[Measured], runs: usize, bin_dir: &Path) -> Value {
    let baseline = measured.iter().find(|m| m.spec.bin == BASELINE);
    let (base_next, base_response) = (
        baseline.and_then(Measured::next),
        baseline.and_then(Measured::response),
    );
    let functions: Vec<Value> = measured
        .iter()
        .map(|m| {
            let did_work: Vec<bool> = m.runs.iter().filter_map(|r| r.did_work).collect();
            json!({
                "function": m.spec.bin,
                "event": m.spec.event,
                "status": m.status(),
                "stripped_bytes": m.bytes,
                "stripped_mb": m.bytes as f64 / MB,
                "stripped": m.stripped,
                "runs": m.runs.len(),
                "init_ms": stats_json(m.next()),
                "first_response_ms": stats_json(m.response()),
                "peak_rss_mib": stats_json(m.rss_mib()),
                "init_ratio_to_hello": ratio(m.next(), base_next),
                "first_response_ratio_to_hello": ratio(m.response(), base_response),
                "outcomes": m.outcomes().into_iter()
                    .map(|(k, n)| json!({ "outcome": k, "runs": n }))
                    .collect::<Vec<_>>(),
                "did_work": if did_work.is_empty() { Value::Null } else {
                    json!({ "runs": did_work.len(), "ok": did_work.iter().filter(|ok| **ok).count() })
                },
                "samples": {
                    "init_ms": m.runs.iter().map(|r| r.next_ms).collect::<Vec<_>>(),
                    "first_response_ms": m.runs.iter().map(|r| r.response_ms).collect::<Vec<_>>(),
                    "peak_rss_bytes": m.runs.iter().map(|r| r.peak_rss_bytes).collect::<Vec<_>>(),
                },
            })
        })
        .collect();
    let webhook = measured.iter().find(|m| m.spec.bin == "webhook");
    let webhook_summary = webhook.map(|w| {
        let init = ratio(w.next(), base_next);
        let first = ratio(w.response(), base_response);
        let mb = w.bytes as f64 / MB;
        json!({
            "init_ratio_to_hello": init,
            "first_response_ratio_to_hello": first,
            "ratio_target": RATIO_TARGET,
            "init_ratio_met": init.map(|r| r <= RATIO_TARGET),
            "first_response_ratio_met": first.map(|r| r <= RATIO_TARGET),
            "stripped_mb": mb,
            "size_target_mb": SIZE_TARGET_MB,
            "size_met": mb <= SIZE_TARGET_MB,
        })
    });
    json!({
        "runs": runs,
        "statistic": "median over runs, functions interleaved round by round",
        "bin_dir": bin_dir.display().to_string(),
        "memory_size_mb": MEMORY_MB,
        "aws": "moto on loopback (AWS_ENDPOINT_URL); Graph API: the Meta sandbox",
        "baseline": BASELINE,
        "functions": functions,
        "webhook": webhook_summary,
    })
}

fn print_table(measured: &[Measured], runs: usize) {
    let base = measured.iter().find(|m| m.spec.bin == BASELINE);
    let fmt = |s: Option<Stats>| s.map_or_else(|| "-".to_owned(), |s| format!("{:.1}", s.median));
    let fmt_ratio = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"));
    println!();
    println!(
        "Cold start, release bootstraps against a local Lambda Runtime API (medians of {runs} runs)"
    );
    println!(
        "  {:<14}{:>9}{:>10}{:>8}{:>12}{:>8}{:>10}   first response",
        "function", "size MB", "init ms", "x hello", "1st resp ms", "x hello", "peak MiB"
    );
    for m in measured {
        let outcome = m
            .outcomes()
            .first()
            .map(|(k, n)| {
                if *n == m.runs.len() {
                    k.clone()
                } else {
                    format!("{k} ({n}/{})", m.runs.len())
                }
            })
            .unwrap_or_default();
        println!(
            "  {:<14}{:>9.2}{:>10}{:>8}{:>12}{:>8}{:>10}   {}",
            m.spec.bin,
            m.bytes as f64 / MB,
            fmt(m.next()),
            fmt_ratio(ratio(m.next(), base.and_then(Measured::next))),
            fmt(m.response()),
            fmt_ratio(ratio(m.response(), base.and_then(Measured::response))),
            fmt(m.rss_mib()),
            outcome,
        );
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    let args = args(&root);
    anyhow::ensure!(
        env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto.sh (the functions read \
         their secrets from Secrets Manager before their first /next)"
    );
    let specs: Vec<&'static Spec> = SPECS
        .iter()
        .filter(|s| {
            args.only
                .as_ref()
                .is_none_or(|only| s.bin == BASELINE || only.iter().any(|o| o == s.bin))
        })
        .collect();
    let bench_dir = root.join("target/bench");
    let stripped_dir = bench_dir.join("stripped");
    let log_dir = bench_dir.join("cold_start-logs");
    fs::create_dir_all(&log_dir)?;

    let mut bootstraps = Vec::new();
    for spec in &specs {
        let built = args.bin_dir.join(spec.bin);
        anyhow::ensure!(
            built.is_file(),
            "{} is missing: build it first (cargo build --release -p ... --bin {})",
            built.display(),
            spec.bin
        );
        let (copy, stripped) = stripped_copy(&built, &stripped_dir)?;
        let bytes = fs::metadata(&copy)?.len();
        bootstraps.push((copy, stripped, bytes));
    }

    log("provisioning template.yaml's resources in moto and starting the Meta sandbox...");
    let stack = start_stack(&root).await?;
    let (runtime_api, emulator, mut signals) = start_emulator().await?;
    let mut logs = Vec::new();
    let mut envs = Vec::new();
    for spec in &specs {
        logs.push(File::create(log_dir.join(format!("{}.log", spec.bin)))?);
        envs.push(stack.lambda_env(spec.bin, &runtime_api, &args.bin_dir)?);
    }
    let mut measured: Vec<Measured> = specs
        .iter()
        .zip(&bootstraps)
        .map(|(spec, (_, stripped, bytes))| Measured {
            spec,
            bytes: *bytes,
            stripped: *stripped,
            runs: Vec::new(),
        })
        .collect();

    let started = Instant::now();
    for round in 0..args.runs {
        log(format!("round {}/{}", round + 1, args.runs));
        for (i, spec) in specs.iter().enumerate() {
            let (payload, check) = stack.event(spec.kind, round).await?;
            let name = &envs[i]["AWS_LAMBDA_FUNCTION_NAME"];
            let mut run = run_once(
                &emulator,
                &mut signals,
                RunRequest {
                    bootstrap: &bootstraps[i].0,
                    env: &envs[i],
                    request_id: format!("bench-{}-{round}-{}", spec.bin, process::id()),
                    function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
                    deadline: stack.timeout_of(spec.bin),
                    payload,
                    timeout: args.timeout,
                    log: &logs[i],
                },
            )
            .await?;
            if run.response_ms.is_some() {
                run.did_work = stack.verify(&check).await?;
            }
            measured[i].runs.push(run);
        }
    }
    log(format!(
        "{} runs in {:.1} s; the functions' output is in {}",
        args.runs * specs.len(),
        started.elapsed().as_secs_f64(),
        log_dir.display()
    ));

    let report = report(&measured, args.runs, &args.bin_dir);
    print_table(&measured, args.runs);
    for m in &measured {
        for (outcome, n) in m.outcomes().iter().skip(1) {
            println!("  {}: also {outcome} ({n} runs)", m.spec.bin);
        }
        let did: Vec<bool> = m.runs.iter().filter_map(|r| r.did_work).collect();
        if !did.is_empty() && did.iter().any(|ok| !ok) {
            println!(
                "  {}: the event's work is missing after {} of {} runs",
                m.spec.bin,
                did.iter().filter(|ok| !**ok).count(),
                did.len()
            );
        }
    }
    if let Some(path) = &args.json {
        fs::write(path, serde_json::to_vec_pretty(&report)?)?;
        println!("  JSON: {}", path.display());
    }
    Ok(())
}
