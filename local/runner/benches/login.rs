//! Sign-in latency through the whole local stack (router, DynamoDB in moto, bcrypt at the
//! API's cost): a right password, a wrong one for a real account, and an address that has no
//! account. The last two must cost the same as the first, or the answer time would tell
//! whether an address has an account; the ratios say how close they are.
//!
//! ```text
//! scripts/with-moto.sh cargo bench -p switchboard-dev --bench login -- [--logins N] [--json out.json]
//! ```
//! The three kinds alternate, N of each (default 20, at most 40); figures are medians and 95th
//! percentiles of wall time per request, in milliseconds. Failed sign-ins stay below the
//! per-address limit (10): at most 8 wrong passwords for the real account, unknown addresses
//! change every 8; the per-IP limit (50 an hour) is above what one run makes.

use std::path::PathBuf;
use std::time::Instant;
use std::{env, fs, process};
use switchboard_dev::settings::{DemoTenant, DevSettings};

const EMAIL: &str = "bench@demo.example";
const PASSWORD: &str = "bench-admin-password";
/// Below the per-address limit, so no failure is delayed.
const FAILURES_PER_ADDRESS: usize = 8;
/// Failures from one IP stay under its limit (50 an hour) at this many logins of each kind.
const MAX_LOGINS: usize = 40;

struct Args {
    logins: usize,
    json: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        logins: 20,
        json: None,
    };
    let mut it = env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--logins" => {
                a.logins = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--json" => a.json = Some(it.next().map(PathBuf::from).unwrap_or_else(|| usage())),
            "--bench" => {}
            _ => usage(),
        }
    }
    a
}

fn usage() -> ! {
    eprintln!("usage: login [--logins N] [--json out.json]");
    process::exit(2)
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = args();
    args.logins = args.logins.clamp(1, MAX_LOGINS);
    anyhow::ensure!(
        env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto.sh"
    );
    let settings = DevSettings::for_bench(
        "login",
        DemoTenant {
            tenant_id: "bench".into(),
            name: "Bench".into(),
            phone_number_id: "106540352242922".into(),
            display_phone_number: "15550783881".into(),
            waba_id: "102290129340398".into(),
            api_key: "sk_bench_0123456789abcdef".into(),
            admin_email: EMAIL.into(),
            admin_password: PASSWORD.into(),
        },
    );
    let sdk = switchboard_platform::aws::load_sdk_config().await;
    let stack = switchboard_dev::start(settings, sdk).await?;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/auth/login", stack.base_url);
    let login = |email: String, password: &'static str, expect: u16| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let started = Instant::now();
            let res = http
                .post(&url)
                .json(&serde_json::json!({"email": email, "password": password}))
                .send()
                .await?;
            let ms = started.elapsed().as_secs_f64() * 1e3;
            anyhow::ensure!(
                res.status().as_u16() == expect,
                "sign-in answered {} instead of {expect}",
                res.status()
            );
            Ok::<f64, anyhow::Error>(ms)
        }
    };
    // One warm-up of each path (first DynamoDB connections, lazy statics).
    login(EMAIL.into(), PASSWORD, 200).await?;
    let (mut ok, mut wrong, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..args.logins {
        ok.push(login(EMAIL.into(), PASSWORD, 200).await?);
        // The one real account takes only as many failures as stay under its limit.
        if wrong.len() < FAILURES_PER_ADDRESS {
            wrong.push(login(EMAIL.into(), "not-the-password-1", 401).await?);
        }
        unknown.push(
            login(
                format!("nobody-{}@demo.example", i / FAILURES_PER_ADDRESS),
                "not-the-password-1",
                401,
            )
            .await?,
        );
    }
    let report = serde_json::json!({
        "logins": args.logins,
        "bcrypt_cost": 12,
        "ok_p50_ms": percentile(&mut ok.clone(), 0.5),
        "ok_p95_ms": percentile(&mut ok.clone(), 0.95),
        "wrong_password_p50_ms": percentile(&mut wrong.clone(), 0.5),
        "unknown_address_p50_ms": percentile(&mut unknown.clone(), 0.5),
        "unknown_to_ok_ratio": percentile(&mut unknown, 0.5) / percentile(&mut ok.clone(), 0.5),
        "wrong_to_ok_ratio": percentile(&mut wrong, 0.5) / percentile(&mut ok, 0.5),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    if let Some(path) = args.json {
        fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(())
}
