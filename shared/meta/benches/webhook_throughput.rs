//! Webhook throughput on one core: verify the signature, parse, and split into events
//! (`Verifier::verify`, then `webhook::parse(body)?.into_events()`, as the webhook function
//! does), over every third-party payload in the conformance corpus, each compacted as Meta
//! sends it and signed with a fixed secret.
//! Also measures the naive way (HMAC keyed per request + `serde_json::Value`) for scale, and
//! writes the signed corpus so that `scripts/bench.sh` can feed pywa the very same requests.
//!
//! ```text
//! cargo bench -p switchboard-meta --bench webhook_throughput -- [--seconds S]
//!     [--app-secret SECRET] [--corpus-out corpus.jsonl] [--json result.json]
//!     [--only verify|parse|route|full|naive] [--cases SUBSTRING] [--passes N]
//! ```
//! `--only` and `--cases` narrow a run down for profiling; `BENCH_SHOW_ROUNDS=1` prints every
//! round. `--passes N` (with `--only`) replaces the timed rounds with exactly N passes over the
//! corpus and no clock reads, for an instruction counter: two runs with N and 2N passes differ
//! by N passes' instructions alone, startup and corpus loading cancelling out
//! (`scripts/bench-callgrind.sh`). Rates are updates (webhook bodies) per second of this thread's CPU time, the median
//! of ten rounds, with the best round beside it: the machine is shared, and wall time would
//! measure the neighbours too. The passes of a run take their rounds in turn, so that drifting
//! load shifts them alike and their ratios stay meaningful.

use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use std::{env, fs, process};
use switchboard_meta::{signature, webhook};

const DEFAULT_APP_SECRET: &str = "switchboard-bench-app-secret";
const ROUNDS: u32 = 10;

struct Case {
    name: String,
    body: Vec<u8>,
    signature: String,
}

struct Args {
    seconds: f64,
    app_secret: String,
    corpus_out: Option<PathBuf>,
    json: Option<PathBuf>,
    only: Option<String>,
    cases: Option<String>,
    passes: Option<u64>,
}

fn parse_args() -> Args {
    let mut args = Args {
        seconds: 5.0,
        app_secret: DEFAULT_APP_SECRET.to_owned(),
        corpus_out: None,
        json: None,
        only: None,
        cases: None,
        passes: None,
    };
    let mut it = env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--seconds" => args.seconds = value().parse().unwrap_or_else(|_| usage()),
            "--app-secret" => args.app_secret = value(),
            "--corpus-out" => args.corpus_out = Some(value().into()),
            "--json" => args.json = Some(value().into()),
            "--only" => args.only = Some(value()),
            "--cases" => args.cases = Some(value()),
            "--passes" => args.passes = Some(value().parse().unwrap_or_else(|_| usage())),
            // Passed by `cargo bench` to every bench target.
            "--bench" => {}
            _ => usage(),
        }
    }
    if args.passes.is_some() && args.only.is_none() {
        usage();
    }
    args
}

fn usage() -> ! {
    eprintln!(
        "usage: webhook_throughput [--seconds S] [--app-secret SECRET] [--corpus-out PATH] [--json PATH] \
         [--only verify|parse|route|full|naive] [--cases SUBSTRING] [--passes N (with --only)]"
    );
    process::exit(2)
}

fn fail(message: &str) -> ! {
    eprintln!("webhook_throughput: {message}");
    process::exit(1)
}

fn conformance_dir() -> PathBuf {
    env::var_os("SWITCHBOARD_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        })
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| fail(&format!("cannot list {}: {e}", dir.display())))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())))
}

/// Drops the whitespace between tokens, leaving strings (and their escapes) untouched: Meta
/// sends compact JSON with non-ASCII escaped, and the signature covers exactly those bytes.
fn compact(json: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in json.as_bytes() {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !b.is_ascii_whitespace() {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}

fn load_corpus(app_secret: &[u8]) -> Vec<Case> {
    let dir = conformance_dir();
    if !dir.is_dir() {
        fail(&format!(
            "conformance data not found at {}; set SWITCHBOARD_CONFORMANCE_DIR",
            dir.display()
        ));
    }
    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
    for path in json_files(&dir.join("meta-openapi/webhook-examples")) {
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        bodies.push((format!("spec/{name}"), compact(&read(&path))));
    }
    for path in json_files(&dir.join("meta-webhooks/pywa")) {
        let text = read(&path);
        let file = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let cases: BTreeMap<String, &RawValue> = serde_json::from_str(&text)
            .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
        for (name, body) in cases {
            bodies.push((format!("pywa/{file}/{name}"), compact(body.get())));
        }
    }
    bodies
        .into_iter()
        .map(|(name, body)| Case {
            signature: signature::sign(app_secret, &body),
            name,
            body,
        })
        .collect()
}

fn write_corpus(path: &Path, corpus: &[Case]) {
    let mut text = String::new();
    for c in corpus {
        let line = serde_json::json!({
            "name": c.name,
            "signature": c.signature,
            "body": String::from_utf8_lossy(&c.body),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    fs::write(path, text).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
}

/// Rates of a measurement, in updates per second.
#[derive(Clone, Copy)]
struct Rate {
    best: f64,
    median: f64,
}

/// A measured pass over the corpus: one webhook body in, something to keep the optimizer
/// honest out.
type Pass<'a> = Box<dyn FnMut(&Case) -> usize + 'a>;

/// Runs `pass` over the corpus for about `seconds` in rounds; returns the best and median
/// rates of the rounds and how many updates ran in all.
fn measure<'a>(
    corpus: &[Case],
    seconds: f64,
    pass: impl FnMut(&Case) -> usize + 'a,
) -> (Rate, u64) {
    let mut passes: Vec<Pass<'a>> = vec![Box::new(pass)];
    measure_interleaved(corpus, seconds, &mut passes).remove(0)
}

/// Runs the passes in turn, a round of each at a time, so that every pass sees the same
/// drift in the machine's load; `seconds` is spent on each pass.
fn measure_interleaved(corpus: &[Case], seconds: f64, passes: &mut [Pass<'_>]) -> Vec<(Rate, u64)> {
    let per_round = Duration::from_secs_f64(seconds / f64::from(ROUNDS));
    let mut rates = vec![Vec::new(); passes.len()];
    let mut totals = vec![0u64; passes.len()];
    for _ in 0..ROUNDS {
        for (i, pass) in passes.iter_mut().enumerate() {
            let start = Instant::now();
            let cpu_start = thread_cpu_time();
            let mut updates = 0u64;
            while start.elapsed() < per_round {
                for case in corpus {
                    black_box(pass(black_box(case)));
                }
                updates += corpus.len() as u64;
            }
            let elapsed = match (cpu_start, thread_cpu_time()) {
                (Some(a), Some(b)) if b > a => b - a,
                _ => start.elapsed(),
            };
            rates[i].push(updates as f64 / elapsed.as_secs_f64());
            totals[i] += updates;
        }
    }
    rates
        .into_iter()
        .zip(totals)
        .map(|(mut rates, total)| {
            rates.sort_by(f64::total_cmp);
            if env::var_os("BENCH_SHOW_ROUNDS").is_some() {
                let shown: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
                eprintln!("rounds: {}", shown.join(" "));
            }
            let rate = Rate {
                best: rates[rates.len() - 1],
                median: rates[rates.len() / 2],
            };
            (rate, total)
        })
        .collect()
}

/// Runs `pass` exactly `passes` times over the corpus, reading no clock: under an instruction
/// counter every update then costs the same in every run. Returns how many updates ran. Never
/// inlined, so that callgrind's `--toggle-collect` can count this function and its callees alone.
#[inline(never)]
fn run_passes(corpus: &[Case], passes: u64, mut pass: impl FnMut(&Case) -> usize) -> u64 {
    let mut updates = 0u64;
    for _ in 0..passes {
        for case in corpus {
            black_box(pass(black_box(case)));
        }
        updates += corpus.len() as u64;
    }
    updates
}

/// CPU time of the calling thread: the first field of `/proc/thread-self/schedstat`, in ns.
fn thread_cpu_time() -> Option<Duration> {
    let stat = fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn clock_name() -> &'static str {
    if thread_cpu_time().is_some() {
        "thread CPU time"
    } else {
        "wall time"
    }
}

/// Keyed once, as the webhook function keeps it in its state.
fn verify(verifier: &signature::Verifier, case: &Case) -> usize {
    match verifier.verify(&case.body, Some(&case.signature)) {
        Ok(()) => 1,
        Err(e) => fail(&format!("{}: {e}", case.name)),
    }
}

fn parse_and_route(case: &Case) -> usize {
    match webhook::parse(&case.body) {
        Ok(notification) => notification.into_events().len(),
        Err(e) => fail(&format!("{}: {e}", case.name)),
    }
}

/// The straightforward way, for scale: HMAC keyed per request and a `serde_json::Value` tree.
fn naive(app_secret: &[u8], case: &Case) -> usize {
    if signature::verify(app_secret, &case.body, Some(&case.signature)).is_err() {
        fail(&format!("{}: signature", case.name));
    }
    match serde_json::from_slice::<serde_json::Value>(&case.body) {
        Ok(value) => value["entry"].as_array().map_or(0, Vec::len),
        Err(e) => fail(&format!("{}: {e}", case.name)),
    }
}

fn main() {
    let args = parse_args();
    let app_secret = args.app_secret.as_bytes();
    let mut corpus = load_corpus(app_secret);
    if let Some(filter) = &args.cases {
        corpus.retain(|c| c.name.contains(filter.as_str()));
        if corpus.is_empty() {
            fail(&format!("no case name contains {filter:?}"));
        }
    }
    let verifier = signature::Verifier::new(app_secret);
    let events: usize = corpus
        .iter()
        .map(|c| verify(&verifier, c) * parse_and_route(c))
        .sum();
    if let Some(path) = &args.corpus_out {
        write_corpus(path, &corpus);
    }

    let phase = |name: &str, rate: Rate, total: u64| {
        println!(
            "rust: {:.0} updates/s {name} (best round {:.0}; {total} updates)",
            rate.median, rate.best
        )
    };
    if let Some(only) = args.only.as_deref() {
        let (label, pass): (&str, Pass<'_>) = match only {
            "verify" => ("verify only", Box::new(|c| verify(&verifier, c))),
            "route" => ("parse+route only", Box::new(parse_and_route)),
            "full" => (
                "verify+parse+route",
                Box::new(|c| verify(&verifier, c) + parse_and_route(c)),
            ),
            "parse" => (
                "parse only",
                Box::new(|c| webhook::parse(&c.body).map_or(0, |n| n.change_count())),
            ),
            "naive" => ("naive", Box::new(|c| naive(app_secret, c))),
            _ => usage(),
        };
        if let Some(passes) = args.passes {
            let updates = run_passes(&corpus, passes, pass);
            println!(
                "rust: {updates} updates {label} ({} cases x {passes} passes)",
                corpus.len()
            );
            return;
        }
        let (rate, total) = measure(&corpus, args.seconds, pass);
        return phase(label, rate, total);
    }

    let mut passes: Vec<Pass<'_>> = vec![
        Box::new(|c| verify(&verifier, c) + parse_and_route(c)),
        Box::new(|c| verify(&verifier, c)),
        Box::new(parse_and_route),
        Box::new(|c| naive(app_secret, c)),
    ];
    let rates = measure_interleaved(&corpus, args.seconds, &mut passes);
    let [full, verify_only, route_only, naive_rate] = [0, 1, 2, 3].map(|i| rates[i].0);
    let bytes: usize = corpus.iter().map(|c| c.body.len()).sum();

    println!(
        "rust: {:.0} updates/s verify+parse+route, best round {:.0} ({} cases, {events} events, \
         {bytes} bytes; per second of {})",
        full.median,
        full.best,
        corpus.len(),
        clock_name()
    );
    println!(
        "rust: {:.0} updates/s verify only, {:.0} parse+route only, {:.0} naive (per-request HMAC + \
         serde_json::Value)",
        verify_only.median, route_only.median, naive_rate.median
    );

    if let Some(path) = &args.json {
        let result = serde_json::json!({
            "cases": corpus.len(),
            "events": events,
            "corpus_bytes": bytes,
            "clock": clock_name(),
            "updates_per_second": full.median,
            "best_round_updates_per_second": full.best,
            "ns_per_update": 1e9 / full.median,
            "verify_only_updates_per_second": verify_only.median,
            "parse_route_only_updates_per_second": route_only.median,
            "naive_updates_per_second": naive_rate.median,
        });
        let text = serde_json::to_string_pretty(&result).unwrap_or_else(|e| fail(&e.to_string()));
        fs::write(path, text).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    }
}
