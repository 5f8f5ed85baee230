//! The API answers as its OpenAPI description says. schemathesis reads `GET /v1/openapi.json`
//! from a running stack, generates requests for every operation (valid ones and ones that break
//! the schema), sends them signed in as the demo tenant's admin, and fails on a server error or
//! any answer whose status, headers or body the document does not allow.
//!
//! schemathesis lives in `.venv/schemathesis`, which `make e2e-test` (and so `make test`)
//! installs from `local/python/schemathesis.txt`. The run is bounded in examples and time and
//! seeded, so it generates the same requests every time.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use switchboard_e2e::{
    ADMIN_EMAIL, ADMIN_PASSWORD, PHONE_NUMBER_ID, spawn_stack, text_message_webhook, workspace_root,
};

const SCHEMATHESIS: &str = ".venv/schemathesis/bin/schemathesis";
/// Fixed, so a failure reproduces: rerun with the same seed and the same examples come back.
const SEED: &str = "20261101";
const MAX_EXAMPLES: &str = "25";
/// The hard limit for both runs: schemathesis is killed after this, and the test fails.
const TIME_LIMIT: Duration = Duration::from_secs(300);
/// Every check schemathesis has (server errors, status codes, content types, headers, bodies,
/// refusal of schema-breaking requests, 405s, auth), but one:
const CHECKS: &str = "all";
/// `positive_data_acceptance` wants a 2xx for every request the schema allows, but most are
/// refused for what no schema can state: an invitation token never issued, a wrong current
/// password, another tenant's conversation, a signup code Meta does not know.
const EXCLUDED_CHECKS: &str = "positive_data_acceptance";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_answers_as_its_openapi_document_says() {
    let root = workspace_root();
    let bin = root.join(SCHEMATHESIS);
    assert!(
        bin.exists(),
        "{} is missing: `make e2e-test` (or `make test`) installs schemathesis into .venv/schemathesis",
        bin.display()
    );
    let t = spawn_stack().await;
    // A customer has written in, so the conversation and message reads have something to
    // answer (and links to follow) besides 404.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let webhook = text_message_webhook(
        PHONE_NUMBER_ID,
        "15559990000",
        "wamid.SCHEMA1",
        now,
        "hello",
    );
    let body = serde_json::to_vec(&webhook).expect("json");
    assert_eq!(t.post_signed(&body).await, 200);
    t.first_conversation().await;
    let token = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let operator_key = t.operator_key().await;

    let out_dir = root.join("target").join("schemathesis");
    std::fs::create_dir_all(&out_dir).expect("target/schemathesis can be created");
    let run = Runner {
        bin: &bin,
        base: t.base(),
        out_dir: &out_dir,
        deadline: Instant::now() + TIME_LIMIT,
    };
    // The tenant's routes as its admin, then the operator's with the operator key: a
    // suspension the second run may cause cannot turn the first run's answers into 403s.
    let tenant = run.run("tenant", &token, "--exclude-path-regex", "").await;
    let operator = run
        .run(
            "operator",
            &operator_key,
            "--include-path-regex",
            // Generated tenant ids name no tenant, so every answer would be a 404: the
            // operator acts on the demo tenant, and its 200s are checked too.
            "[[operations]]\ninclude-path-regex = \"^/operator/tenants/\"\nparameters = { \"path.id\" = \"acme\" }\n",
        )
        .await;
    let failed: Vec<String> = [tenant, operator].into_iter().flatten().collect();
    assert!(
        failed.is_empty(),
        "schemathesis found answers the API description does not allow (seed {SEED}):\n{}",
        failed.join("\n")
    );
}

/// What every schemathesis run shares: the program, the API, where output goes, and when
/// time is up for all of them.
struct Runner<'a> {
    bin: &'a Path,
    base: &'a str,
    out_dir: &'a Path,
    deadline: Instant,
}

impl Runner<'_> {
    /// One run over the operations whose path `filter` (include or exclude) selects by
    /// `^/operator/`, sending `bearer`, with `config` as its schemathesis.toml. `Some(output)`
    /// when it failed.
    async fn run(&self, name: &str, bearer: &str, filter: &str, config: &str) -> Option<String> {
        let (bin, base, out_dir, deadline) = (self.bin, self.base, self.out_dir, self.deadline);
        let log = out_dir.join(format!("{name}.txt"));
        let config_file = out_dir.join(format!("{name}.toml"));
        std::fs::write(&config_file, config).expect("the schemathesis config can be written");
        let (stdout, stderr) = std::fs::File::create(&log)
            .and_then(|f| Ok((f.try_clone()?, f)))
            .expect("the schemathesis log can be written");
        let started = Instant::now();
        let mut child = tokio::process::Command::new(bin)
            .arg("--config-file")
            .arg(&config_file)
            .arg("run")
            .arg(format!("{base}/v1/openapi.json"))
            .args(["--url", base])
            .args([filter, "^/operator/"])
            .arg("--header")
            .arg(format!("Authorization: Bearer {bearer}"))
            // Only the credentials given: a generated API key or cookie would be tried first
            // and turn every request into a 401.
            .args(["--generation-with-security-parameters", "false"])
            .args(["--checks", CHECKS, "--exclude-checks", EXCLUDED_CHECKS])
            .args(["--phases", "examples,coverage,fuzzing,stateful"])
            .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
            // One worker: the same order every run, and Python 3.11's `ast` is not safe to use
            // from two threads at once (hypothesis parses lambdas; "AST constructor recursion
            // depth mismatch").
            .args(["--workers", "1", "--request-timeout", "20"])
            // Nothing kept between runs: the seed alone decides what is generated.
            .args(["--generation-database", "none"])
            .args(["--no-color", "--report", "junit", "--report-junit-path"])
            .arg(out_dir.join(format!("{name}.xml")))
            .current_dir(out_dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("schemathesis starts");
        let left = deadline.saturating_duration_since(Instant::now());
        let status = match tokio::time::timeout(left, child.wait()).await {
            Ok(status) => status.expect("schemathesis runs"),
            Err(_) => {
                let _ = child.kill().await;
                panic!(
                    "schemathesis ({name}) did not finish within {TIME_LIMIT:?} in all; its output so far:\n{}",
                    read(&log)
                );
            }
        };
        eprintln!(
            "schemathesis ({name}) ran {:.0?}: {status}; output in {}",
            started.elapsed(),
            log.display()
        );
        (!status.success()).then(|| format!("--- {name} ({status}) ---\n{}", read(&log)))
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| format!("({} unreadable: {e})", path.display()))
}
