//! Token vault opens per second, with the data-key cache (`CacheLimits::default()`) and without
//! it (`CacheLimits::disabled()`: one KMS `Decrypt` per open), against the KMS that
//! `AWS_ENDPOINT_URL` points at (moto, started by `scripts/with-moto.sh`).
//!
//! ```text
//! scripts/with-moto.sh cargo bench -p switchboard-platform --bench token_vault -- \
//!     [--seconds S] [--tokens N] [--json result.json]
//! ```
//! N tokens (default 50) are sealed for N tenants, each under its own data key, and opened in
//! turn. The two vaults take rounds alternately (ROUNDS each, S/ROUNDS seconds a round) so
//! drifting load shifts both alike; rates are opens per second of wall time (the uncached side
//! waits on the KMS server, whose time is the point), medians of the rounds, and the ratio is the
//! median of the round-by-round ratios. moto answers on loopback in about a millisecond; KMS
//! itself takes several from a Lambda, so the real gap is wider.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use std::{env, fs, process};
use switchboard_domain::{Secret, TenantId};
use switchboard_platform::token_vault::{
    CacheLimits, SealedSecret, TokenPurpose, TokenVault, VaultStats,
};

const ROUNDS: usize = 5;
const PURPOSE: TokenPurpose = TokenPurpose::WhatsAppBusinessToken;

struct Args {
    seconds: f64,
    tokens: usize,
    json: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut args = Args {
        seconds: 3.0,
        tokens: 50,
        json: None,
    };
    let mut it = env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--seconds" => args.seconds = value().parse().unwrap_or_else(|_| usage()),
            "--tokens" => args.tokens = value().parse().unwrap_or_else(|_| usage()),
            "--json" => args.json = Some(value().into()),
            // Passed by `cargo bench` to every bench target.
            "--bench" => {}
            _ => usage(),
        }
    }
    if args.tokens == 0 || args.seconds <= 0.0 {
        usage()
    }
    args
}

fn usage() -> ! {
    eprintln!("usage: token_vault [--seconds S] [--tokens N] [--json PATH]");
    process::exit(2)
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("token_vault bench: {message}");
    process::exit(1)
}

struct Corpus {
    tenants: Vec<TenantId>,
    sealed: Vec<SealedSecret>,
    plaintexts: Vec<String>,
}

/// Opens the corpus in turn for `round`; returns opens per second.
async fn measure(vault: &TokenVault, corpus: &Corpus, round: Duration) -> f64 {
    let start = Instant::now();
    let mut opens = 0usize;
    loop {
        for _ in 0..16 {
            let i = opens % corpus.tenants.len();
            match vault
                .open(&corpus.tenants[i], PURPOSE, &corpus.sealed[i])
                .await
            {
                Ok(secret) => {
                    if secret.expose() != corpus.plaintexts[i] {
                        fail("a token opened to the wrong plaintext");
                    }
                    black_box(secret);
                }
                Err(e) => fail(format!("open failed: {e}")),
            }
            opens += 1;
        }
        let elapsed = start.elapsed();
        if elapsed >= round {
            return opens as f64 / elapsed.as_secs_f64();
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn stats_json(s: VaultStats) -> serde_json::Value {
    serde_json::json!({
        "generate_data_key_calls": s.generate_data_key_calls,
        "decrypt_calls": s.decrypt_calls,
        "seal_cache_hits": s.seal_cache_hits,
        "open_cache_hits": s.open_cache_hits,
    })
}

async fn run(args: Args) -> serde_json::Value {
    if env::var_os("AWS_ENDPOINT_URL").is_none() {
        fail("AWS_ENDPOINT_URL is not set: run through scripts/with-moto.sh");
    }
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let kms = aws_sdk_kms::Client::new(&config);
    let key = kms
        .create_key()
        .description("switchboard token vault bench")
        .send()
        .await
        .unwrap_or_else(|e| fail(aws_sdk_kms::error::DisplayErrorContext(e)));
    let key_id = key
        .key_metadata()
        .map(|m| m.key_id().to_owned())
        .unwrap_or_else(|| fail("CreateKey returned no key"));

    let cached = TokenVault::new(kms.clone(), key_id.clone(), CacheLimits::default());
    let uncached = TokenVault::new(kms, key_id, CacheLimits::disabled());

    // One data key per token: sealed by the uncached vault, which never reuses one.
    let mut corpus = Corpus {
        tenants: Vec::new(),
        sealed: Vec::new(),
        plaintexts: Vec::new(),
    };
    for i in 0..args.tokens {
        let tenant = TenantId::new(format!("bench-tenant-{i:04}"));
        let plaintext = format!("EAAG-bench-token-{i:04}-{}", "x".repeat(180));
        let sealed = uncached
            .seal(&tenant, PURPOSE, &Secret::new(plaintext.clone()))
            .await
            .unwrap_or_else(|e| fail(format!("seal failed: {e}")));
        corpus.tenants.push(tenant);
        corpus.sealed.push(sealed);
        corpus.plaintexts.push(plaintext);
    }
    // Warm both: the cached vault decrypts each data key once here and never again below.
    let warm = Duration::from_millis(200);
    measure(&cached, &corpus, warm).await;
    measure(&uncached, &corpus, warm).await;
    let (cached_before, uncached_before) = (cached.stats(), uncached.stats());

    let round = Duration::from_secs_f64(args.seconds / ROUNDS as f64);
    let (mut with_cache, mut without_cache, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let c = measure(&cached, &corpus, round).await;
        let u = measure(&uncached, &corpus, round).await;
        with_cache.push(c);
        without_cache.push(u);
        ratios.push(c / u);
    }
    let (cached_after, uncached_after) = (cached.stats(), uncached.stats());
    if cached_after.decrypt_calls != cached_before.decrypt_calls {
        fail("the cached vault called KMS while measuring");
    }
    let uncached_opens = uncached_after.decrypt_calls - uncached_before.decrypt_calls;
    let cached_opens = cached_after.open_cache_hits - cached_before.open_cache_hits;

    serde_json::json!({
        "clock": "wall time",
        "kms": "moto on loopback",
        "tokens": args.tokens,
        "rounds": ROUNDS,
        "round_seconds": round.as_secs_f64(),
        "cached_opens_per_second": median(&with_cache),
        "uncached_opens_per_second": median(&without_cache),
        "ratio": median(&ratios),
        "cached_runs": with_cache,
        "uncached_runs": without_cache,
        "pair_ratios": ratios,
        "measured_opens": {"cached": cached_opens, "uncached": uncached_opens},
        "stats": {"cached": stats_json(cached_after), "uncached": stats_json(uncached_after)},
    })
}

fn main() {
    let args = parse_args();
    let json_path = args.json.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(e));
    let report = runtime.block_on(run(args));
    let rate = |key: &str| report[key].as_f64().unwrap_or(f64::NAN);
    println!(
        "Token vault opens per second (wall time, {} tokens, {} alternating rounds, KMS = moto)",
        report["tokens"], report["rounds"]
    );
    println!(
        "  {:<34}{:>12.0}",
        "with the data-key cache",
        rate("cached_opens_per_second")
    );
    println!(
        "  {:<34}{:>12.0}",
        "without (KMS Decrypt every open)",
        rate("uncached_opens_per_second")
    );
    println!("  {:<34}{:>11.0}x", "ratio", rate("ratio"));
    if let Some(path) = json_path {
        let text = serde_json::to_string_pretty(&report).unwrap_or_else(|e| fail(e));
        fs::write(&path, text).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    }
}
