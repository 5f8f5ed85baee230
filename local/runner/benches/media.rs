//! One inbound media file through the media function: a 60 MB document from the Meta sandbox
//! into moto's S3, measured in a process of its own that runs only the media function (as
//! Lambda does), so its peak memory is the function's.
//!
//! ```text
//! scripts/with-moto.sh cargo bench -p switchboard-dev --bench media -- [--megabytes N] [--json out.json]
//! ```
//! The parent starts the local stack, puts the file in the sandbox and records the customer's
//! message straight in the store (no webhook, so the stack's own media consumer has no job),
//! then starts this binary again with the media function's environment from template.yaml and
//! the job. The child builds the function's state as its Lambda main does, runs the fetch and
//! reports its wall time and its peak resident set (`VmHWM`). Figures: MB/s through the fetch
//! (download, SHA-256, multipart upload), the child's peak RSS (target under 128 MB), and its
//! resident set before the fetch.

use anyhow::Context;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Instant;
use std::{env, fs, process};
use switchboard_dev::settings::{DemoTenant, DevSettings};
use switchboard_domain::jobs::MediaJob;
use switchboard_domain::media::MediaKind;
use switchboard_domain::{ContactKey, PhoneNumberId, TenantId, Wamid};
use switchboard_store::{NewInboundMessage, Recorded};

const PHONE_NUMBER_ID: &str = "106540352242922";
const TENANT: &str = "bench";
const PEAK_RSS_TARGET_MB: f64 = 128.0;
const MB: u64 = 1024 * 1024;

/// `VmRSS` / `VmHWM` of this process, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

async fn child(job: &str) -> anyhow::Result<()> {
    let rss_before = status_bytes("VmRSS:").unwrap_or(0);
    let job: MediaJob = serde_json::from_str(job)?;
    let config = switchboard_platform::Config::from_env()?;
    let sdk = switchboard_platform::aws::load_sdk_config().await;
    let state = switchboard_media::init(&config, &sdk)?;
    let started = Instant::now();
    let fetched = switchboard_media::fetch(&state, &job)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "seconds": seconds,
            "outcome": format!("{fetched:?}"),
            "rss_before_bytes": rss_before,
            "peak_rss_bytes": status_bytes("VmHWM:").unwrap_or(0),
        })
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut megabytes: u64 = 60;
    let mut json_out: Option<PathBuf> = None;
    let mut it = env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--child-fetch" => return child(&it.next().context("--child-fetch JOB")?).await,
            "--megabytes" => {
                megabytes = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .context("--megabytes N")?
            }
            "--json" => json_out = it.next().map(PathBuf::from),
            "--bench" => {}
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    anyhow::ensure!(
        env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto.sh"
    );
    let settings = DevSettings::for_bench(
        "media",
        DemoTenant {
            tenant_id: TENANT.into(),
            name: "Bench".into(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            display_phone_number: "15550783881".into(),
            waba_id: "102290129340398".into(),
            api_key: "sk_bench_media_0123456789".into(),
            admin_email: "bench-media@demo.example".into(),
            admin_password: "bench-admin-password".into(),
        },
    );
    let sdk = switchboard_platform::aws::load_sdk_config().await;
    let stack = switchboard_dev::start(settings, sdk).await?;
    let sandbox = stack
        .sandbox
        .as_ref()
        .context("the sandbox is not running")?;
    let size = megabytes * MB;
    let media = sandbox.add_media(meta_sandbox::NewMedia::generated("application/pdf", size));

    let tenant = TenantId::from(TENANT);
    let now = time::OffsetDateTime::now_utc();
    let wamid = format!("wamid.bench-media-{}", process::id());
    let raw = json!({ "id": wamid, "type": "document", "document": {
        "id": media.id, "mime_type": "application/pdf", "sha256": media.sha256 } });
    let recorded = stack
        .store
        .record_inbound_message(
            &tenant,
            &NewInboundMessage {
                phone_number_id: PhoneNumberId::from(PHONE_NUMBER_ID),
                contact: ContactKey::WaId("4915140000001".into()),
                profile_name: None,
                wamid: Wamid::new(wamid.clone()),
                sent_at: now,
                message_type: "document".into(),
                text: None,
                raw: raw.to_string(),
                received_at: now,
            },
        )
        .await?;
    let (Recorded::New { message_id, .. } | Recorded::Duplicate { message_id, .. }) = recorded;
    let job = MediaJob {
        tenant_id: tenant.clone(),
        message_id: message_id.clone(),
        phone_number_id: PHONE_NUMBER_ID.into(),
        media_id: media.id.clone(),
        kind: MediaKind::Document,
        mime_type: "application/pdf".into(),
        sha256: Some(media.sha256.clone()),
        filename: None,
        animated: false,
    };

    let function = stack
        .provisioned
        .function_binaries
        .iter()
        .find(|(_, b)| b.as_str() == "media")
        .map(|(id, _)| id.clone())
        .context("no media function in template.yaml")?;
    let mut command = tokio::process::Command::new(env::current_exe()?);
    command
        .arg("--child-fetch")
        .arg(serde_json::to_string(&job)?)
        .envs(&stack.provisioned.function_env[&function])
        .env("RUST_LOG", "warn");
    eprintln!("[media bench] fetching {megabytes} MB in a process of its own...");
    let output = command.output().await?;
    anyhow::ensure!(
        output.status.success(),
        "the fetch failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let measured: Value = serde_json::from_slice(
        output
            .stdout
            .split(|b| *b == b'\n')
            .rfind(|l| !l.is_empty())
            .unwrap_or_default(),
    )?;
    let stored = stack
        .store
        .get_message(&tenant, &message_id)
        .await?
        .and_then(|m| m.media)
        .context("the message holds no media")?;
    anyhow::ensure!(
        stored.size == Some(size) && stored.sha256.as_deref() == Some(media.sha256_hex.as_str()),
        "the stored copy is not the file: {stored:?}"
    );
    let seconds = measured["seconds"].as_f64().unwrap_or(f64::NAN);
    let peak_mb = measured["peak_rss_bytes"].as_f64().unwrap_or(f64::NAN) / MB as f64;
    let report = json!({
        "megabytes": megabytes,
        "seconds": seconds,
        "mb_per_second": megabytes as f64 / seconds,
        "peak_rss_mb": peak_mb,
        "rss_before_mb": measured["rss_before_bytes"].as_f64().unwrap_or(f64::NAN) / MB as f64,
        "peak_rss_target_mb": PEAK_RSS_TARGET_MB,
        "peak_rss_met": peak_mb < PEAK_RSS_TARGET_MB,
        "outcome": measured["outcome"],
    });
    eprintln!("[media bench] {report}");
    if let Some(path) = json_out {
        fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    drop(stack);
    Ok(())
}
