//! A campaign end to end through the whole local stack: N opted-in contacts imported through
//! `POST /v1/contacts`, one `POST /v1/campaigns` of an approved marketing template to all of
//! them, from a number Meta limits to T messages a second, until `GET /v1/campaigns/{id}` says
//! `completed`.
//!
//! ```text
//! scripts/with-moto.sh cargo bench -p switchboard-dev --bench campaign -- [--recipients N] [--tier T] [--timeout-seconds S] [--json out.json]
//! ```
//! N defaults to 10,000 (the most one campaign may name) and T to 80 (Meta's default). The
//! sandbox enforces T on the number and the number's route says T, so the campaign's chunks
//! are dispatched at the number's pace and the outbound function paces each send. Figures:
//! - whether the campaign finished, and its counts by outcome (every recipient `sent`);
//! - recipients Meta accepted once, more than once (target 0) and never (target 0);
//! - 130429 refusals (target 0) and the most sends accepted in any one second (at most T);
//! - messages per second from the campaign's `POST` to Meta's last acceptance, beside T: on
//!   the local stack moto, not the pace, is usually what limits it;
//! - AWS requests per recipient of the API, inbound (chunk dispatch) and outbound functions.

use anyhow::Context;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use std::{env, fs, process};
use switchboard_dev::bench_figures::max_in_one_second;
use switchboard_dev::settings::{DemoTenant, DevSettings};
use switchboard_domain::tenant_settings::{QuietHours, TimeOfDay};
use switchboard_domain::{PhoneNumberId, TenantId};
use switchboard_store::TemplateRecord;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const TENANT: &str = "bench";
const PHONE_NUMBER_ID: &str = "106540352242924";
const WABA_ID: &str = "102290129340397";
const API_KEY: &str = "sk_bench_campaign_0123456789";
const TEMPLATE: &str = "bench_winter_sale";
const THROUGHPUT_REACHED: i64 = 130_429;
/// Rows per `POST /v1/contacts` import (the API's most).
const IMPORT_ROWS: usize = 1_000;

struct Args {
    recipients: usize,
    tier: u32,
    timeout: Duration,
    json: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        recipients: 10_000,
        tier: 80,
        timeout: Duration::from_secs(3_600),
        json: None,
    };
    let mut it = env::args().skip(1);
    let number =
        |v: Option<String>| -> u64 { v.and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()) };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--recipients" => a.recipients = number(it.next()) as usize,
            "--tier" => a.tier = number(it.next()) as u32,
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
        "usage: campaign [--recipients N (1-10000)] [--tier T] [--timeout-seconds S] [--json out.json]"
    );
    process::exit(2)
}

/// Madrid numbers, as the end-to-end tests use: one timezone for every recipient.
fn recipient(i: usize) -> String {
    format!("3491{i:07}")
}

fn log(msg: impl std::fmt::Display) {
    eprintln!("[campaign bench] {msg}");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args();
    let n = args
        .recipients
        .clamp(1, switchboard_store::MAX_CAMPAIGN_RECIPIENTS);
    let tier = args.tier.max(1);
    anyhow::ensure!(
        env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto.sh"
    );
    let settings = DevSettings::for_bench(
        "campaign",
        DemoTenant {
            tenant_id: TENANT.into(),
            name: "Bench".into(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            display_phone_number: "15550783882".into(),
            waba_id: WABA_ID.into(),
            api_key: API_KEY.into(),
            admin_email: "bench-campaign@demo.example".into(),
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
        .timeout(Duration::from_secs(300))
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
    let functions = [
        ("api", function("api")?),
        ("inbound", function("inbound")?),
        ("outbound", function("outbound")?),
    ];

    // Meta's side: the number sends `tier` a second; no recipient hits the pair rate.
    for (path, body) in [
        (
            format!("/sandbox/numbers/{PHONE_NUMBER_ID}/throughput"),
            json!({ "messages_per_second": tier }),
        ),
        (
            "/sandbox/pair-rate".to_owned(),
            json!({ "burst": 10_000, "every_ms": 1 }),
        ),
    ] {
        let url = format!("{}{path}", sandbox.base_url);
        let res = http.put(&url).json(&body).send().await?;
        anyhow::ensure!(res.status().is_success(), "PUT {url}: {}", res.status());
    }
    let tenant = TenantId::from(TENANT);
    let mut route = stack
        .store
        .find_phone_route(&PhoneNumberId::new(PHONE_NUMBER_ID.to_owned()))
        .await?
        .context("the bench number has no route")?;
    route.messages_per_second = Some(tier);
    stack.store.put_phone_route(&route).await?;

    // Quiet hours 8 to 10 hours from now in UTC, so hours away in Madrid whatever the time:
    // nothing is deferred while the campaign runs.
    let current = stack
        .store
        .get_tenant(&tenant)
        .await?
        .context("the bench tenant is missing")?;
    let mut tenant_settings = current.settings.clone();
    let hour = u16::from(OffsetDateTime::now_utc().hour());
    tenant_settings.marketing.quiet_hours = QuietHours {
        start: TimeOfDay::hm((hour + 8) % 24, 0),
        end: TimeOfDay::hm((hour + 10) % 24, 0),
    };
    stack
        .store
        .update_tenant_settings(
            &current,
            &current.name,
            &tenant_settings,
            OffsetDateTime::now_utc(),
        )
        .await?;

    // An approved marketing template, as Meta's review would leave it.
    let now = OffsetDateTime::now_utc();
    stack
        .store
        .put_template(
            &tenant,
            &TemplateRecord {
                waba_id: WABA_ID.into(),
                name: TEMPLATE.into(),
                language: "en_US".into(),
                template_id: Some("2001".into()),
                category: "MARKETING".into(),
                status: "APPROVED".into(),
                reason: None,
                quality: None,
                components_json: "[]".into(),
                created_at: now,
                status_at: Some(now),
                category_at: None,
                quality_at: None,
                created_by: None,
            },
            true,
        )
        .await?;

    // Every recipient opted in on a web form, imported a thousand at a time.
    let recipients: Vec<String> = (0..n).map(recipient).collect();
    let importing = Instant::now();
    for (i, rows) in recipients.chunks(IMPORT_ROWS).enumerate() {
        let contacts: Vec<Value> = rows
            .iter()
            .map(|phone| {
                json!({ "phone": format!("+{phone}"), "opt_in": { "source": "web_form", "proof": {
                    "text": "Yes, send me offers on WhatsApp",
                    "url": "https://bench.example/signup",
                    "captured_at": "2026-11-30T10:00:00Z"
                } } })
            })
            .collect();
        let res = http
            .post(format!("{}/v1/contacts", stack.base_url))
            .bearer_auth(API_KEY)
            .header("idempotency-key", format!("bench-import-{i}"))
            .json(&json!({ "contacts": contacts }))
            .send()
            .await?;
        let status = res.status();
        let answer: Value = res.json().await?;
        anyhow::ensure!(status.is_success(), "import answered {status}: {answer}");
    }
    let import_seconds = importing.elapsed().as_secs_f64();
    log(format!(
        "{n} contacts opted in ({import_seconds:.0} s); creating the campaign"
    ));

    // The measured part.
    sandbox.state().clear_history();
    let calls_before = stack.aws_calls.calls().len();
    let posted_at = OffsetDateTime::now_utc();
    let started = Instant::now();
    let body = json!({
        "name": "Bench winter sale",
        "phone_number_id": PHONE_NUMBER_ID,
        "template": {
            "name": TEMPLATE, "language": "en_US",
            "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "15%" }] }]
        },
        "recipients": recipients,
    });
    let res = http
        .post(format!("{}/v1/campaigns", stack.base_url))
        .bearer_auth(API_KEY)
        .header("idempotency-key", "bench-campaign")
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    let created: Value = res.json().await?;
    anyhow::ensure!(
        status.as_u16() == 202,
        "the campaign answered {status}: {created}"
    );
    let id = created["id"]
        .as_str()
        .context("the campaign has no id")?
        .to_owned();
    log(format!(
        "campaign {id} accepted in {:.1} s; waiting for its sends",
        started.elapsed().as_secs_f64()
    ));

    // Progress from the sandbox (cheap); the campaign's own counts once Meta has them all.
    let ours = || {
        sandbox
            .sent()
            .into_iter()
            .filter(|s| s.body["type"] == "template" && s.body["template"]["name"] == TEMPLATE)
            .collect::<Vec<_>>()
    };
    let mut last_log = Instant::now();
    let mut reached = 0usize;
    while started.elapsed() < args.timeout {
        let sent = ours();
        let distinct: std::collections::HashSet<&str> =
            sent.iter().filter_map(|s| s.body["to"].as_str()).collect();
        reached = distinct.len();
        if reached >= n {
            break;
        }
        if last_log.elapsed() >= Duration::from_secs(30) {
            log(format!(
                "{reached} of {n} accepted by Meta after {:.0} s",
                started.elapsed().as_secs_f64()
            ));
            last_log = Instant::now();
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let reached_all_at = started.elapsed().as_secs_f64();
    let get_campaign = || async {
        let res = http
            .get(format!("{}/v1/campaigns/{id}", stack.base_url))
            .bearer_auth(API_KEY)
            .send()
            .await?;
        let status = res.status();
        let c: Value = res.json().await?;
        anyhow::ensure!(status.is_success(), "GET the campaign: {status} {c}");
        Ok::<Value, anyhow::Error>(c)
    };
    // `sent` is recorded after Meta's answer: the last few follow the last acceptance.
    let mut campaign = get_campaign().await?;
    let settling = Instant::now();
    while campaign["status"] != "completed" && settling.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        campaign = get_campaign().await?;
    }
    let completed_at = started.elapsed().as_secs_f64();
    let calls = stack.aws_calls.calls()[calls_before..].to_vec();

    let sent = ours();
    let mut per_recipient: HashMap<&str, usize> = HashMap::new();
    for s in &sent {
        if let Some(to) = s.body["to"].as_str() {
            *per_recipient.entry(to).or_insert(0) += 1;
        }
    }
    let sent_twice = per_recipient.values().filter(|&&k| k > 1).count();
    let never = recipients
        .iter()
        .filter(|r| !per_recipient.contains_key(r.as_str()))
        .count();
    let mut accepted_at = sent
        .iter()
        .map(|s| {
            OffsetDateTime::parse(&s.received_at, &Rfc3339)
                .with_context(|| format!("sandbox timestamp {:?}", s.received_at))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    accepted_at.sort();
    let wall_seconds = accepted_at
        .last()
        .map(|last| (*last - posted_at).as_seconds_f64())
        .unwrap_or(f64::NAN);
    let rejections = sandbox.state().rejections();
    let refused_130429 = rejections
        .iter()
        .filter(|r| r.code == THROUGHPUT_REACHED)
        .count();
    let max_1s = max_in_one_second(&accepted_at);
    let mut requests = serde_json::Map::new();
    let mut total = 0usize;
    for (name, logical_id) in &functions {
        let mut by_operation: BTreeMap<String, usize> = BTreeMap::new();
        for c in calls.iter().filter(|c| &c.function == logical_id) {
            let service = c.action.split(':').next().unwrap_or_default();
            *by_operation
                .entry(format!("{service}:{}", c.operation))
                .or_insert(0) += 1;
        }
        let count: usize = by_operation.values().sum();
        total += count;
        requests.insert(
            (*name).to_owned(),
            json!({
                "per_recipient": count as f64 / n as f64,
                "by_operation": by_operation,
            }),
        );
    }
    requests.insert("total_per_recipient".into(), json!(total as f64 / n as f64));
    let counts = campaign["counts"].clone();
    let completed = campaign["status"] == "completed";
    let report = json!({
        "recipients": n,
        "tier_messages_per_second": tier,
        "completed": completed,
        "campaign_status": campaign["status"],
        "counts": counts,
        "reached_meta": reached,
        "sent_twice": sent_twice,
        "never_sent": never,
        "refusals_130429": refused_130429,
        "max_sends_in_one_second": max_1s,
        "spacing_met": max_1s <= tier as usize,
        "import_seconds": import_seconds,
        "seconds_to_last_acceptance": wall_seconds,
        "seconds_until_every_recipient_reached_meta": reached_all_at,
        "seconds_until_completed": completed_at,
        "messages_per_second": reached as f64 / wall_seconds,
        "pace_limited_seconds": n as f64 / f64::from(tier),
        "aws_requests": requests,
        "met": completed && sent_twice == 0 && never == 0 && refused_130429 == 0 && max_1s <= tier as usize,
    });
    log(format!(
        "{}: {reached} of {n} recipients reached Meta in {wall_seconds:.0} s ({:.1}/s at a {tier}/s tier), \
         {sent_twice} more than once, {never} never, {refused_130429} refused with 130429, \
         at most {max_1s} in one second; counts {counts}",
        if completed {
            "completed"
        } else {
            "NOT completed"
        },
        reached as f64 / wall_seconds,
    ));
    let text = serde_json::to_string_pretty(&report)?;
    match &args.json {
        Some(path) => fs::write(path, &text).with_context(|| format!("writing {path:?}"))?,
        None => println!("{text}"),
    }
    Ok(())
}
