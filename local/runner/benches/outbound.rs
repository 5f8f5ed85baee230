//! Outbound messages end to end through the whole local stack (API, SQS and DynamoDB in moto,
//! the outbound function, the Meta sandbox), from a number Meta limits to 20 messages a second.
//!
//! ```text
//! scripts/with-moto.sh cargo bench -p switchboard-dev --bench outbound -- [--messages N] [--customers C] [--json out.json]
//! ```
//! The sandbox enforces 20/s on the demo number (and a pair rate that no customer reaches), and
//! the number's phone route says 20, so Switchboard paces at 20. C customers (default 20) each
//! write one text through the signed webhook, which opens their 24-hour windows; then N texts
//! (default 200) are posted to `POST /v1/messages` as fast as the API takes them, spread over
//! the customers, and the bench waits until Meta (the sandbox) accepted every one and each
//! reads `sent`. Figures:
//! - messages per second end to end: N / (first POST to the last send the sandbox accepted);
//! - refusals with 130429 at the sandbox (target 0), and the most sends it accepted in any
//!   one-second window (at most 20 when paced right);
//! - AWS requests per message of the API (during the POSTs) and the outbound function (until
//!   every message is `sent`), by service and operation. SQS polling is the event source's
//!   (Lambda's), not the function's, and is not counted.

use anyhow::Context;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use std::{env, fs, process};
use switchboard_dev::aws_calls::AwsCall;
use switchboard_dev::bench_figures::max_in_one_second;
use switchboard_dev::settings::{DemoTenant, DevSettings};
use switchboard_domain::PhoneNumberId;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const PHONE_NUMBER_ID: &str = "106540352242922";
const API_KEY: &str = "sk_bench_outbound_0123456789";
/// Meta's fixed throughput for a number shared with the WhatsApp Business app.
const TIER: u32 = 20;
/// Requests to the API in flight at once while posting.
const POST_CONCURRENCY: usize = 16;
const THROUGHPUT_REACHED: i64 = 130_429;

struct Args {
    messages: usize,
    customers: usize,
    timeout: Duration,
    json: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        messages: 200,
        customers: 20,
        timeout: Duration::from_secs(900),
        json: None,
    };
    let mut it = env::args().skip(1);
    let number =
        |v: Option<String>| -> u64 { v.and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()) };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--messages" => a.messages = number(it.next()) as usize,
            "--customers" => a.customers = number(it.next()) as usize,
            "--timeout-seconds" => a.timeout = Duration::from_secs(number(it.next())),
            "--json" => a.json = Some(it.next().map(PathBuf::from).unwrap_or_else(|| usage())),
            "--bench" => {}
            _ => usage(),
        }
    }
    a
}

fn usage() -> ! {
    eprintln!(
        "usage: outbound [--messages N] [--customers C (1-100)] [--timeout-seconds S] [--json out.json]"
    );
    process::exit(2)
}

fn customer(i: usize) -> String {
    format!("4915140{i:06}")
}

fn parse_time(s: &str) -> anyhow::Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).with_context(|| format!("sandbox timestamp {s:?}"))
}

/// Calls of `function`, counted by `service:Operation`.
fn by_operation(calls: &[AwsCall], function: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in calls.iter().filter(|c| c.function == function) {
        let service = c.action.split(':').next().unwrap_or_default();
        *out.entry(format!("{service}:{}", c.operation)).or_insert(0) += 1;
    }
    out
}

/// How many of our messages the sandbox accepted, each counted once.
fn distinct(sent: &[meta_sandbox::SentMessage]) -> usize {
    sent.iter()
        .filter_map(|s| s.body["biz_opaque_callback_data"].as_str())
        .collect::<HashSet<_>>()
        .len()
}

fn log(msg: impl std::fmt::Display) {
    eprintln!("[outbound bench] {msg}");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = args();
    args.messages = args.messages.max(1);
    args.customers = args.customers.clamp(1, 100);
    anyhow::ensure!(
        env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto.sh"
    );
    let settings = DevSettings::for_bench(
        "outbound",
        DemoTenant {
            tenant_id: "bench".into(),
            name: "Bench".into(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            display_phone_number: "15550783881".into(),
            waba_id: "102290129340398".into(),
            api_key: API_KEY.into(),
            admin_email: "bench-outbound@demo.example".into(),
            admin_password: "bench-admin-password".into(),
        },
    );
    let sdk = switchboard_platform::aws::load_sdk_config().await;
    let stack = switchboard_dev::start(settings, sdk).await?;
    let sandbox = stack
        .sandbox
        .as_ref()
        .context("the sandbox is not running")?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let function = |binary: &str| {
        stack
            .provisioned
            .function_binaries
            .iter()
            .find(|(_, b)| b.as_str() == binary)
            .map(|(id, _)| id.clone())
            .with_context(|| format!("no function built from {binary}"))
    };
    let (api_fn, outbound_fn) = (function("api")?, function("outbound")?);

    // Meta's side: the number sends 20 a second; no single customer is the limit.
    let put = |path: String, body: Value| {
        let http = http.clone();
        let url = format!("{}{path}", sandbox.base_url);
        async move {
            let res = http.put(&url).json(&body).send().await?;
            anyhow::ensure!(res.status().is_success(), "PUT {url}: {}", res.status());
            Ok::<(), anyhow::Error>(())
        }
    };
    put(
        format!("/sandbox/numbers/{PHONE_NUMBER_ID}/throughput"),
        json!({ "messages_per_second": TIER }),
    )
    .await?;
    put(
        "/sandbox/pair-rate".into(),
        json!({ "burst": 10_000, "every_ms": 1 }),
    )
    .await?;
    // Switchboard's side: the number's route knows its rate, as channels records it when a
    // number shared with the WhatsApp Business app is connected.
    let mut route = stack
        .store
        .find_phone_route(&PhoneNumberId::new(PHONE_NUMBER_ID.to_owned()))
        .await?
        .context("the demo number has no route")?;
    route.messages_per_second = Some(TIER);
    stack.store.put_phone_route(&route).await?;

    // Every customer writes first, through the signed webhook: that opens the windows.
    let customers: Vec<String> = (0..args.customers).map(customer).collect();
    for c in &customers {
        let report = sandbox
            .customer_message(&meta_sandbox::CustomerMessage::text_from(
                c.clone(),
                "Hello, a question about my order",
            ))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::ensure!(
            report.webhook_status == Some(200),
            "the webhook answered {report:?}"
        );
    }
    let api_get = |path: String| {
        let http = http.clone();
        let url = format!("{}{path}", stack.base_url);
        async move {
            let res = http.get(&url).bearer_auth(API_KEY).send().await?;
            let status = res.status();
            let body: Value = res.json().await?;
            anyhow::ensure!(status.is_success(), "GET {url}: {status} {body}");
            Ok::<Value, anyhow::Error>(body)
        }
    };
    let started = Instant::now();
    loop {
        let body = api_get("/v1/conversations?limit=100".into()).await?;
        let open = body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["window_expires_at"].is_string())
            .count();
        if open >= customers.len() {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(180),
            "only {open} of {} windows opened within 3 minutes",
            customers.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    log(format!(
        "{} windows open; posting {} messages",
        customers.len(),
        args.messages
    ));

    // The measured part.
    sandbox.state().clear_history();
    let calls_before = stack.aws_calls.calls().len();
    let url = format!("{}/v1/messages", stack.base_url);
    let first_post = OffsetDateTime::now_utc();
    let posting = Instant::now();
    let posted: Vec<anyhow::Result<String>> = futures::stream::iter(0..args.messages)
        .map(|i| {
            let http = http.clone();
            let url = url.clone();
            let body = json!({
                "phone_number_id": PHONE_NUMBER_ID,
                "to": customers[i % customers.len()],
                "type": "text",
                "text": { "body": format!("Your order update {i}") },
            });
            async move {
                let res = http
                    .post(&url)
                    .bearer_auth(API_KEY)
                    .json(&body)
                    .send()
                    .await?;
                let status = res.status();
                let answer: Value = res.json().await?;
                anyhow::ensure!(status.as_u16() == 202, "POST answered {status}: {answer}");
                answer["id"]
                    .as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("no id in {answer}"))
            }
        })
        .buffer_unordered(POST_CONCURRENCY)
        .collect()
        .await;
    let post_seconds = posting.elapsed().as_secs_f64();
    let ids = posted.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let api_calls: Vec<AwsCall> = stack.aws_calls.calls()[calls_before..]
        .iter()
        .filter(|c| c.function == api_fn)
        .cloned()
        .collect();
    log(format!(
        "{} accepted in {post_seconds:.1} s; waiting for the sends",
        ids.len()
    ));

    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let ours = || {
        sandbox
            .sent()
            .into_iter()
            .filter(|s| {
                s.body["biz_opaque_callback_data"]
                    .as_str()
                    .is_some_and(|id| wanted.contains(id))
            })
            .collect::<Vec<_>>()
    };
    let waiting = Instant::now();
    let mut last_log = Instant::now();
    let mut sent = ours();
    while distinct(&sent) < ids.len() && waiting.elapsed() < args.timeout {
        if last_log.elapsed() >= Duration::from_secs(15) {
            log(format!("{} of {} sent", sent.len(), ids.len()));
            last_log = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        sent = ours();
    }
    let all_reached_meta = distinct(&sent) >= ids.len();

    // Every message must read `sent` (the outbound function records it after Meta's answer).
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let checking = Instant::now();
    let mut pending: Vec<String> = ids.clone();
    while !pending.is_empty() {
        let answers: Vec<(String, String)> = futures::stream::iter(pending.clone())
            .map(|id| {
                let get = api_get(format!("/v1/messages/{id}"));
                async move {
                    let status = match get.await {
                        Ok(m) => m["status"].as_str().unwrap_or("?").to_owned(),
                        Err(_) => "unreadable".to_owned(),
                    };
                    (id, status)
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        statuses.clear();
        pending.clear();
        for (id, status) in answers {
            if !matches!(
                status.as_str(),
                "sent" | "delivered" | "read" | "failed" | "denied"
            ) {
                pending.push(id);
            }
            *statuses.entry(status).or_insert(0) += 1;
        }
        if !all_reached_meta || checking.elapsed() > Duration::from_secs(120) {
            break;
        }
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    // The last lease releases follow the `sent` record.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let outbound_calls: Vec<AwsCall> = stack.aws_calls.calls()[calls_before..]
        .iter()
        .filter(|c| c.function == outbound_fn)
        .cloned()
        .collect();
    let all_sent = statuses
        .iter()
        .filter(|(s, _)| matches!(s.as_str(), "sent" | "delivered" | "read"))
        .map(|(_, n)| n)
        .sum::<usize>()
        == ids.len();

    let mut accepted_at = sent
        .iter()
        .map(|s| parse_time(&s.received_at))
        .collect::<anyhow::Result<Vec<_>>>()?;
    accepted_at.sort();
    // Meta's first acceptance to its last: how fast the sends themselves went.
    let send_seconds = match (accepted_at.first(), accepted_at.last()) {
        (Some(first), Some(last)) => (*last - *first).as_seconds_f64(),
        _ => f64::NAN,
    };
    let wall_seconds = accepted_at
        .last()
        .map(|last| (*last - first_post).as_seconds_f64())
        .unwrap_or(f64::NAN);
    let rejections = sandbox.state().rejections();
    let refused_130429 = rejections
        .iter()
        .filter(|r| r.code == THROUGHPUT_REACHED)
        .count();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rejections {
        *refusals
            .entry(format!("{} ({})", r.code, r.cause))
            .or_insert(0) += 1;
    }
    let max_1s = max_in_one_second(&accepted_at);
    let sent_twice = sent.len() - distinct(&sent);
    let n = ids.len() as f64;
    let report = json!({
        "messages": ids.len(),
        "customers": customers.len(),
        "tier_messages_per_second": TIER,
        "outbound_consumers": switchboard_dev::stack::OUTBOUND_POLLERS,
        "post_seconds": post_seconds,
        "posts_per_second": n / post_seconds,
        "reached_meta": distinct(&sent),
        "sent_twice": sent_twice,
        "all_reached_meta": all_reached_meta,
        "all_sent": all_sent,
        "statuses": statuses,
        "wall_seconds": wall_seconds,
        "messages_per_second": distinct(&sent) as f64 / wall_seconds,
        "send_seconds": send_seconds,
        "send_phase_messages_per_second": (distinct(&sent).max(1) - 1) as f64 / send_seconds,
        "refusals_130429": refused_130429,
        "refusals": refusals,
        "max_sends_in_one_second": max_1s,
        "spacing_met": max_1s <= TIER as usize,
        "aws_requests_per_message": {
            "api": api_calls.len() as f64 / n,
            "outbound": outbound_calls.len() as f64 / n,
            "total": (api_calls.len() + outbound_calls.len()) as f64 / n,
        },
        "aws_calls": {
            "api": { "function": api_fn, "total": api_calls.len(), "by_operation": by_operation(&api_calls, &api_fn) },
            "outbound": { "function": outbound_fn, "total": outbound_calls.len(), "by_operation": by_operation(&outbound_calls, &outbound_fn) },
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    if let Some(path) = args.json {
        fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    anyhow::ensure!(
        all_reached_meta,
        "only {} of {} messages reached the sandbox within {:?}",
        distinct(&sent),
        ids.len(),
        args.timeout
    );
    Ok(())
}
