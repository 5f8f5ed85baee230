//! What one message costs on the whole local stack, and how long it takes: AWS requests and
//! DynamoDB capacity per inbound text, per status update and per outbound message, counted
//! from every call the functions make (the recorder between each function's SDK and moto,
//! with its capacity meter on), and end-to-end latency.
//!
//! ```text
//! scripts/with-moto.sh cargo bench -p switchboard-dev --bench per_message -- [--texts N] [--metered M] [--customers C] [--statuses S] [--json out.json]
//! ```
//! Two stacks, one after the other, so each figure has its own calls:
//! 1. The sandbox sends no status webhooks. C customers write once (their first message makes
//!    the contact and the conversation: counted apart), then texts arrive in the existing
//!    conversations, CONCURRENCY at a time, each followed by an agent's reply posted as soon
//!    as the text is stored. First M texts with the capacity meter on: the webhook and inbound
//!    functions' calls are the inbound texts', the API and outbound functions' the replies'.
//!    Then N texts with the meter off (its reads would slow what is timed): webhook POST → the
//!    message readable in the store (polled every 10 ms at most), and webhook POST → the
//!    reply accepted at the sandbox.
//! 2. The sandbox sends sent, delivered and read for S replies: the webhook and inbound
//!    functions' calls are the status updates'.
//!
//! SQS polling is the event source's (Lambda's), not the functions', and is not counted.

use anyhow::Context;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use std::{env, fs, process};
use switchboard_dev::aws_calls::AwsCall;
use switchboard_dev::capacity::Capacity;
use switchboard_dev::settings::{DemoTenant, DevSettings};
use switchboard_dev::stack::RunningStack;
use switchboard_domain::{TenantId, Wamid};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const PHONE_NUMBER_ID: &str = "106540352242923";
const API_KEY: &str = "sk_bench_per_message_0123456789";
const TENANT: &str = "bench";
/// Conversations in flight at once.
const CONCURRENCY: usize = 4;
/// Meta's statuses for a message read by the customer: sent, delivered, read.
const STATUSES_PER_MESSAGE: usize = 3;

struct Args {
    texts: usize,
    metered: usize,
    customers: usize,
    statuses: usize,
    json: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        texts: 1000,
        metered: 100,
        customers: 50,
        statuses: 100,
        json: None,
    };
    let mut it = env::args().skip(1);
    let number =
        |v: Option<String>| -> usize { v.and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()) };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--texts" => a.texts = number(it.next()).max(1),
            "--metered" => a.metered = number(it.next()).max(1),
            "--customers" => a.customers = number(it.next()).clamp(1, 1000),
            "--statuses" => a.statuses = number(it.next()).max(1),
            "--json" => a.json = Some(it.next().map(PathBuf::from).unwrap_or_else(|| usage())),
            "--bench" => {}
            _ => usage(),
        }
    }
    a
}

fn usage() -> ! {
    eprintln!(
        "usage: per_message [--texts N (timed)] [--metered M (counted)] [--customers C] [--statuses S (messages whose statuses are counted)] [--json out.json]"
    );
    process::exit(2)
}

fn log(msg: impl std::fmt::Display) {
    eprintln!("[per-message bench] {msg}");
}

fn customer(i: usize) -> String {
    format!("4917620{i:06}")
}

async fn start(name: &str, send_statuses: bool) -> anyhow::Result<RunningStack> {
    let settings = DevSettings {
        sandbox_send_statuses: send_statuses,
        ..DevSettings::for_bench(
            name,
            DemoTenant {
                tenant_id: TENANT.into(),
                name: "Bench".into(),
                phone_number_id: PHONE_NUMBER_ID.into(),
                display_phone_number: "15550783882".into(),
                waba_id: "102290129340399".into(),
                api_key: API_KEY.into(),
                admin_email: format!("bench-{name}@demo.example"),
                admin_password: "bench-admin-password".into(),
            },
        )
    };
    let sdk = switchboard_platform::aws::load_sdk_config().await;
    let stack = switchboard_dev::start(settings, sdk).await?;
    Ok(stack)
}

fn function_of(stack: &RunningStack, binary: &str) -> anyhow::Result<String> {
    stack
        .provisioned
        .function_binaries
        .iter()
        .find(|(_, b)| b.as_str() == binary)
        .map(|(id, _)| id.clone())
        .with_context(|| format!("no function built from {binary}"))
}

/// Requests and units of the calls of `functions`, per message.
fn per_message(calls: &[AwsCall], functions: &[&str], messages: usize) -> Value {
    let ours: Vec<&AwsCall> = calls
        .iter()
        .filter(|c| functions.contains(&c.function.as_str()))
        .collect();
    let mut used = Capacity::default();
    let mut by_operation: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_service: BTreeMap<String, usize> = BTreeMap::new();
    for c in &ours {
        if let Some(capacity) = c.capacity {
            used += capacity;
        }
        let service = c.action.split(':').next().unwrap_or_default().to_owned();
        *by_operation
            .entry(format!("{service}:{}", c.operation))
            .or_insert(0) += 1;
        *by_service.entry(service).or_insert(0) += 1;
    }
    let n = messages.max(1) as f64;
    json!({
        "messages": messages,
        "aws_requests": ours.len() as f64 / n,
        "dynamodb_write_units": used.write_units / n,
        "dynamodb_read_units": used.read_units / n,
        "requests_by_service": by_service.into_iter().map(|(k, v)| (k, json!(v as f64 / n))).collect::<serde_json::Map<_, _>>(),
        "requests_by_operation": by_operation.into_iter().map(|(k, v)| (k, json!(v as f64 / n))).collect::<serde_json::Map<_, _>>(),
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn latency(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    json!({ "count": ms.len(), "p50_ms": percentile(&ms, 50.0), "p99_ms": percentile(&ms, 99.0), "max_ms": ms.last().copied().unwrap_or(f64::NAN) })
}

struct Conversation {
    posted_at: OffsetDateTime,
    stored_ms: f64,
    conversation_id: String,
    reply_id: String,
}

/// The agent's reply in the conversation: its message id.
async fn post_reply(
    stack: &RunningStack,
    http: &reqwest::Client,
    conversation_id: &str,
) -> anyhow::Result<String> {
    let res = http
        .post(format!("{}/v1/messages", stack.base_url))
        .bearer_auth(API_KEY)
        .json(&json!({ "conversation_id": conversation_id, "type": "text", "text": { "body": "Thanks, we are on it" } }))
        .send()
        .await?;
    let status = res.status();
    let answer: Value = res.json().await?;
    anyhow::ensure!(status.as_u16() == 202, "reply answered {status}: {answer}");
    Ok(answer["id"].as_str().context("no id")?.to_owned())
}

/// One customer text through the signed webhook, until it is stored; then the agent's reply.
async fn converse(
    stack: &RunningStack,
    http: &reqwest::Client,
    from: String,
    text: String,
    reply: bool,
) -> anyhow::Result<Conversation> {
    let sandbox = stack.sandbox.as_ref().context("no sandbox")?;
    let posted_at = OffsetDateTime::now_utc();
    let started = Instant::now();
    let report = sandbox
        .customer_message(&meta_sandbox::CustomerMessage::text_from(from, text))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        report.webhook_status == Some(200),
        "the webhook answered {report:?}"
    );
    let wamid = Wamid::new(report.wamid.context("no wamid")?);
    let id = switchboard_store::inbound_message_id(&wamid);
    let tenant = TenantId::from(TENANT);
    let mut wait = Duration::from_millis(2);
    let stored = loop {
        if let Some(m) = stack.store.get_message(&tenant, &id).await? {
            break m;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "a text was not stored within 2 minutes"
        );
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_millis(10));
    };
    let stored_ms = started.elapsed().as_secs_f64() * 1000.0;
    if env::var_os("BENCH_VERBOSE").is_some() {
        log(format!("stored after {stored_ms:.0} ms"));
    }
    let conversation_id = stored.conversation_id.as_str().to_owned();
    let reply_id = if reply {
        post_reply(stack, http, &conversation_id).await?
    } else {
        String::new()
    };
    Ok(Conversation {
        posted_at,
        stored_ms,
        conversation_id,
        reply_id,
    })
}

/// `n` texts in the customers' conversations, CONCURRENCY at a time, each answered as soon as
/// it is stored; and when the sandbox accepted each reply.
async fn texts_with_replies(
    stack: &RunningStack,
    http: &reqwest::Client,
    customers: &[String],
    first: usize,
    n: usize,
) -> anyhow::Result<(Vec<Conversation>, BTreeMap<String, OffsetDateTime>)> {
    let conversations: Vec<anyhow::Result<Conversation>> = futures::stream::iter(first..first + n)
        .map(|i| {
            converse(
                stack,
                http,
                customers[i % customers.len()].clone(),
                format!("Where is my order {i}?"),
                true,
            )
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let conversations = conversations
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
    let reply_ids: Vec<String> = conversations.iter().map(|c| c.reply_id.clone()).collect();
    let reached = accepted(stack, &reply_ids, Duration::from_secs(600)).await?;
    Ok((conversations, reached))
}

/// Waits until the sandbox accepted every reply; when each was accepted, by reply id.
async fn accepted(
    stack: &RunningStack,
    ids: &[String],
    timeout: Duration,
) -> anyhow::Result<BTreeMap<String, OffsetDateTime>> {
    let sandbox = stack.sandbox.as_ref().context("no sandbox")?;
    let started = Instant::now();
    loop {
        let mut at = BTreeMap::new();
        for s in sandbox.sent() {
            if let Some(id) = s.body["biz_opaque_callback_data"].as_str() {
                let t = OffsetDateTime::parse(&s.received_at, &Rfc3339)?;
                at.entry(id.to_owned()).or_insert(t);
            }
        }
        if ids.iter().all(|id| at.contains_key(id)) {
            return Ok(at);
        }
        anyhow::ensure!(
            started.elapsed() < timeout,
            "only {} of {} replies reached the sandbox",
            ids.iter().filter(|id| at.contains_key(*id)).count(),
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args();
    anyhow::ensure!(
        env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto.sh"
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;

    // 1. Texts and replies, no statuses.
    let stack = start("texts", false).await?;
    let (webhook_fn, inbound_fn) = (
        function_of(&stack, "webhook")?,
        function_of(&stack, "inbound")?,
    );
    let (api_fn, outbound_fn) = (
        function_of(&stack, "api")?,
        function_of(&stack, "outbound")?,
    );
    let customers: Vec<String> = (0..args.customers).map(customer).collect();
    stack.aws_calls.meter_capacity(true);
    let before = stack.aws_calls.calls().len();
    for c in &customers {
        converse(&stack, &http, c.clone(), "Hello, a question".into(), false).await?;
    }
    let first_calls = stack.aws_calls.calls()[before..].to_vec();
    log(format!(
        "{} customers wrote in; {} texts with replies, counted",
        customers.len(),
        args.metered
    ));

    // Counted: the meter's own reads around each call would slow what is timed.
    stack.aws_calls.meter_capacity(true);
    let before = stack.aws_calls.calls().len();
    texts_with_replies(&stack, &http, &customers, 0, args.metered).await?;
    // The last lease releases follow the `sent` record.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let text_calls = stack.aws_calls.calls()[before..].to_vec();
    stack.aws_calls.meter_capacity(false);
    if env::var_os("BENCH_DUMP_CALLS").is_some() {
        for c in &text_calls {
            log(format!(
                "{} {} {:?} {:?}",
                c.function, c.operation, c.partition_keys, c.capacity
            ));
        }
    }
    log(format!("{} texts with replies, timed", args.texts));
    let started = Instant::now();
    let (conversations, reached) =
        texts_with_replies(&stack, &http, &customers, args.metered, args.texts).await?;
    let phase_seconds = started.elapsed().as_secs_f64();
    let stored_ms: Vec<f64> = conversations.iter().map(|c| c.stored_ms).collect();
    let reply_ms: Vec<f64> = conversations
        .iter()
        .filter_map(|c| {
            reached
                .get(&c.reply_id)
                .map(|at| (*at - c.posted_at).as_seconds_f64() * 1000.0)
        })
        .collect();
    drop(stack);

    // 2. Status updates.
    log(format!("status updates of {} replies", args.statuses));
    let stack = start("statuses", true).await?;
    let (status_webhook_fn, status_inbound_fn) = (
        function_of(&stack, "webhook")?,
        function_of(&stack, "inbound")?,
    );
    stack.aws_calls.meter_capacity(true);
    let status_customers: Vec<String> = (0..args.statuses).map(|i| customer(500_000 + i)).collect();
    let mut conversations = Vec::new();
    for c in &status_customers {
        conversations.push(converse(&stack, &http, c.clone(), "Hello".into(), false).await?);
    }
    // From here on the webhook and inbound functions handle statuses only.
    let before = stack.aws_calls.calls().len();
    let mut ids = Vec::new();
    for c in &conversations {
        ids.push(post_reply(&stack, &http, &c.conversation_id).await?);
    }
    let mut pending = ids.clone();
    let waiting = Instant::now();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for id in pending {
            let res = http
                .get(format!("{}/v1/messages/{id}", stack.base_url))
                .bearer_auth(API_KEY)
                .send()
                .await?;
            let m: Value = res.json().await?;
            if m["status"] != "read" {
                still.push(id);
            }
        }
        pending = still;
        anyhow::ensure!(
            waiting.elapsed() < Duration::from_secs(300),
            "{} replies never read `read`",
            pending.len()
        );
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status_calls = stack.aws_calls.calls()[before..].to_vec();
    let status_figures = per_message(
        &status_calls,
        &[status_webhook_fn.as_str(), status_inbound_fn.as_str()],
        args.statuses * STATUSES_PER_MESSAGE,
    );
    drop(stack);
    let text_only = per_message(
        &first_calls,
        &[webhook_fn.as_str(), inbound_fn.as_str()],
        customers.len(),
    );

    let report = json!({
        "texts": args.texts,
        "customers": customers.len(),
        "concurrency": CONCURRENCY,
        "phase_seconds": phase_seconds,
        "metered_texts": args.metered,
        "inbound_text": per_message(&text_calls, &[webhook_fn.as_str(), inbound_fn.as_str()], args.metered),
        "inbound_first_text": text_only,
        "outbound_message": per_message(&text_calls, &[api_fn.as_str(), outbound_fn.as_str()], args.metered),
        "status_update": status_figures,
        "latency": {
            "webhook_to_stored": latency(stored_ms),
            "customer_message_to_reply": latency(reply_ms),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    if let Some(path) = args.json {
        fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(())
}
