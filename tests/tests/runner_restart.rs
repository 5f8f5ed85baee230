//! The dev runner, a real `switchboard-dev up` process, is killed with SIGKILL while customer
//! messages and replies are in flight, then started again over the same stack. Proves that a
//! crash of the whole process loses nothing and sends nothing twice: every customer message
//! Meta delivered (and redelivered) is stored exactly once, and every reply the business got
//! accepted reaches Meta exactly once. The one send no platform can vouch for, a Graph call
//! the kill cut off before Meta's answer, is never repeated and is recorded as unconfirmed.
//!
//! The Meta sandbox runs in this test process, so it outlives the runner and counts the sends
//! of both lives. The restarted runner's clock starts past every lease the killed one may
//! hold, and its pollers receive with a short visibility timeout: the restart plays out in
//! seconds what Lambda does in minutes, where a crashed invocation's messages come back after
//! the queue's visibility timeout, once its leases have expired.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_e2e::{
    ACCESS_TOKEN, ADMIN_EMAIL, ADMIN_PASSWORD, API_KEY, APP_SECRET, DISPLAY_PHONE_NUMBER,
    PHONE_NUMBER_ID, VERIFY_TOKEN, WABA_ID, text_message_webhook, workspace_root,
};
use tokio::sync::oneshot;

const CUSTOMERS: usize = 40;
/// At most this many customers write before the kill; the others write once the runner is
/// back.
const FIRST_WAVE: usize = 36;
/// Customers of the first wave write this many at once, so the consumers get batches of
/// several messages, with a pause between two bursts, until the runner is killed.
const BURST: usize = 3;
const PACE: Duration = Duration::from_millis(250);
/// The reply to this customer, the first of the second burst, reaches the sandbox, which
/// takes it and holds its answer past the test's end. The runner is killed once the sandbox
/// has it: the outbound poller then certainly holds a job it has not done, whatever the
/// machine's speed, and the replies of the first burst have most likely been sent.
const HELD_CUSTOMER: usize = BURST;
/// Webhooks and replies already answered that are delivered again after the restart, as Meta
/// and a business's server do when an answer is lost.
const REDELIVERED: usize = 10;
/// What the killed runner had received comes back this soon.
const VISIBILITY_SECONDS: u64 = 5;
/// Past every lease the killed runner may hold: the outbound send claim (3 minutes) and the
/// webhook's and the API's idempotency claims (60 s).
const CLOCK_SKIP_SECONDS: u64 = 240;
/// From provisioning the first runner to the last assertion.
const TEST_LIMIT: Duration = Duration::from_secs(150);
const READY_LIMIT: Duration = Duration::from_secs(60);
const RETRY_EVERY: Duration = Duration::from_millis(200);
const REPLY_TEXT: &str = "Thanks for writing! Your order is on its way.";

fn customer(i: usize) -> String {
    format!("1555740{i:04}")
}

fn wamid(i: usize) -> String {
    format!("wamid.restart-{i:02}")
}

/// `switchboard-dev`, built for the target and profile this test was built with. The test
/// runs from `<target dir>[/<triple>]/<profile>/deps/`, and cargo puts binaries one level up;
/// building it here keeps a run of this package alone from testing a stale binary.
/// `SWITCHBOARD_DEV_BIN` names a binary to use instead: `make test` builds the runner first and
/// names it so.
fn runner_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("SWITCHBOARD_DEV_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("the test knows its own executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from a cargo target directory")
        .to_path_buf();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_owned(),
        Some(other) => other.to_owned(),
        None => panic!("no profile directory above {}", exe.display()),
    };
    let above = profile_dir
        .parent()
        .expect("a target directory above the profile's");
    // Cargo tells an integration test its target directory (through its `tmp` directory); a
    // target triple's directory sits between that and the profile's. (A CACHEDIR.TAG cannot
    // tell them apart: cargo writes one in the triple's directory too.)
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory holds its tmp directory")
        .to_path_buf();
    let triple = (above != target_dir.as_path())
        .then(|| above.file_name().map(|t| t.to_owned()))
        .flatten();
    // The whole workspace's features, as the test build resolved them: `-p switchboard-dev`
    // alone would resolve the dependencies' features anew and compile them a second time.
    let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build
        .current_dir(workspace_root())
        .args(["build", "--quiet", "--locked", "--workspace"])
        .args(["--bin", "switchboard-dev", "--profile", &profile])
        .arg("--target-dir")
        .arg(&target_dir);
    if let Some(triple) = &triple {
        build.arg("--target").arg(triple);
    }
    let status = build.status().expect("cargo runs");
    assert!(
        status.success(),
        "building switchboard-dev failed: {status}"
    );
    profile_dir.join(format!("switchboard-dev{}", std::env::consts::EXE_SUFFIX))
}

/// A `switchboard-dev up` child process, killed when dropped so none outlives the test.
struct Runner {
    child: Child,
    log: PathBuf,
}

impl Runner {
    fn spawn(bin: &Path, env: &[(&str, String)], log: PathBuf) -> Self {
        let out = std::fs::File::create(&log).expect("the runner's log file can be created");
        let err = out.try_clone().expect("the log file can be shared");
        let child = Command::new(bin)
            .arg("up")
            .current_dir(workspace_root())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("{} cannot start: {e}", bin.display()));
        Self { child, log }
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL: no handler runs, nothing is flushed or released.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Ctrl-C, as at the end of `make dev`: the runner then writes its AWS call log, which the
    /// IAM check of `make e2e-test` reads. Killed if it does not stop in time.
    async fn stop(&mut self) {
        let interrupted = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if interrupted {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if self.exited().is_some() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        self.kill();
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!("{} (last lines):\n{tail}", self.log.display())
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the test saw answered, shared by the customers, the business's bot and the checks.
#[derive(Default)]
struct Progress {
    /// Customers whose webhook was answered 200.
    acked: BTreeSet<usize>,
    /// Conversation id -> the id of the reply the API accepted for it.
    replies: BTreeMap<String, String>,
    /// Conversation id -> an answer that can never become an acceptance.
    refused: BTreeMap<String, String>,
}

struct World {
    http: reqwest::Client,
    base: String,
    bodies: Vec<Vec<u8>>,
    progress: Mutex<Progress>,
    /// Customers of the first wave whose burst was delivered.
    first_wave: AtomicUsize,
    /// The first runner is dead: the first wave ends.
    killed: AtomicBool,
    deadline: Instant,
}

impl World {
    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check_deadline(&self, what: &str) {
        assert!(
            Instant::now() < self.deadline,
            "timed out after {TEST_LIMIT:?} {what}"
        );
    }

    /// One delivery of customer `i`'s webhook, signed as Meta signs it; the status, if any.
    async fn deliver(&self, i: usize) -> Option<u16> {
        let body = &self.bodies[i];
        let signature = switchboard_meta::signature::sign(APP_SECRET.as_bytes(), body);
        self.http
            .post(format!(
                "{}{}",
                self.base,
                switchboard_webhook::WEBHOOK_PATH
            ))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body.clone())
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    /// Meta retries a webhook until it is answered 200.
    async fn deliver_until_acked(&self, i: usize) {
        loop {
            if self.deliver(i).await == Some(200) {
                self.progress().acked.insert(i);
                return;
            }
            self.check_deadline(&format!("delivering customer {i}'s message"));
            tokio::time::sleep(RETRY_EVERY).await;
        }
    }

    fn reply_body() -> Value {
        json!({ "text": { "body": REPLY_TEXT } })
    }

    /// Posts the reply to a conversation with its idempotency key: the status and the body.
    async fn post_reply(&self, conversation: &str) -> Option<(u16, Value)> {
        let mut body = Self::reply_body();
        body["conversation_id"] = json!(conversation);
        let res = self
            .http
            .post(format!("{}/v1/messages", self.base))
            .bearer_auth(API_KEY)
            .header("idempotency-key", format!("reply-{conversation}"))
            .json(&body)
            .send()
            .await
            .ok()?;
        let status = res.status().as_u16();
        Some((status, res.json().await.unwrap_or(Value::Null)))
    }

    /// The tenant's conversations whose customer-service window is open, by the API.
    async fn open_conversations(&self) -> Option<Vec<String>> {
        let mut open = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/v1/conversations?limit=100", self.base);
            if let Some(c) = &cursor {
                url.push_str("&cursor=");
                url.push_str(&query_value(c));
            }
            let res = self.http.get(url).bearer_auth(API_KEY).send().await.ok()?;
            if !res.status().is_success() {
                return None;
            }
            let page: Value = res.json().await.ok()?;
            for c in page["data"].as_array().into_iter().flatten() {
                if c["window_expires_at"].is_string()
                    && let Some(id) = c["id"].as_str()
                {
                    open.push(id.to_owned());
                }
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Some(open),
            }
        }
    }

    /// The business's server: answers each customer once their message is in, retrying a
    /// reply with the same idempotency key until the API accepts it.
    async fn bot(&self) {
        loop {
            let done = {
                let p = self.progress();
                p.replies.len() + p.refused.len() >= CUSTOMERS
            };
            if done {
                return;
            }
            self.check_deadline("replying to every customer");
            for conversation in self.open_conversations().await.unwrap_or_default() {
                let answered = {
                    let p = self.progress();
                    p.replies.contains_key(&conversation) || p.refused.contains_key(&conversation)
                };
                if answered {
                    continue;
                }
                match self.post_reply(&conversation).await {
                    Some((202, accepted)) => {
                        let id = accepted["id"].as_str().unwrap_or_default().to_owned();
                        self.progress().replies.insert(conversation, id);
                    }
                    // In progress elsewhere, or the runner is down or restarting: retry.
                    None | Some((409 | 500..=599, _)) => {}
                    Some((status, body)) => {
                        self.progress()
                            .refused
                            .insert(conversation, format!("{status} {body}"));
                    }
                }
            }
            tokio::time::sleep(RETRY_EVERY).await;
        }
    }
}

/// The customers: the first wave writes at once, the others after the restart, when Meta also
/// delivers again some webhooks it had an answer for.
async fn customers(world: Arc<World>, restarted: oneshot::Receiver<Vec<usize>>) -> Vec<u16> {
    let mut next = 0;
    while next < FIRST_WAVE && !world.killed.load(Ordering::SeqCst) {
        let burst = next..(next + BURST).min(FIRST_WAVE);
        next = burst.end;
        futures::future::join_all(burst.map(|i| world.deliver_until_acked(i))).await;
        world.first_wave.store(next, Ordering::SeqCst);
        tokio::time::sleep(PACE).await;
    }
    let acked_before_kill = restarted.await.unwrap_or_default();
    let mut redelivered = Vec::new();
    for &i in acked_before_kill.iter().take(REDELIVERED) {
        redelivered.push(world.deliver(i).await.unwrap_or(0));
    }
    for i in next..CUSTOMERS {
        world.deliver_until_acked(i).await;
    }
    redelivered
}

struct Aws {
    ddb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    table: String,
    queues: Vec<String>,
}

impl Aws {
    /// The stack's table and queues, found by its prefix (`{prefix}-{logical id}`).
    async fn of(sdk: &aws_config::SdkConfig, prefix: &str) -> Self {
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let ours = format!("{prefix}-");
        let tables: Vec<String> = ddb
            .list_tables()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("tables are listed")
            .into_iter()
            .filter(|t| t.starts_with(&ours))
            .collect();
        assert_eq!(tables.len(), 1, "one table for the stack: {tables:?}");
        let queues = sqs
            .list_queues()
            .queue_name_prefix(&ours)
            .send()
            .await
            .expect("queues are listed")
            .queue_urls()
            .to_vec();
        assert!(
            queues.iter().any(|q| q.ends_with("-inboundqueue"))
                && queues.iter().any(|q| q.ends_with("-outboundqueue.fifo")),
            "the stack's queues: {queues:?}"
        );
        Self {
            ddb,
            sqs,
            table: tables[0].clone(),
            queues,
        }
    }

    fn queue(&self, suffix: &str) -> &str {
        self.queues
            .iter()
            .find(|q| q.ends_with(suffix))
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// (waiting, in flight or delayed) messages of a queue.
    async fn depth(&self, url: &str) -> (usize, usize) {
        use QueueAttributeName as A;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(A::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .expect("queue attributes");
        let attrs = out.attributes().cloned().unwrap_or_default();
        let n = |a: A| {
            attrs
                .get(&a)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        };
        (
            n(A::ApproximateNumberOfMessages),
            n(A::ApproximateNumberOfMessagesNotVisible) + n(A::ApproximateNumberOfMessagesDelayed),
        )
    }

    /// Messages in every queue of the stack, dead-letter queues included, by queue.
    async fn everything_queued(&self) -> BTreeMap<String, (usize, usize)> {
        let mut all = BTreeMap::new();
        for q in &self.queues {
            let depth = self.depth(q).await;
            if depth != (0, 0) {
                all.insert(q.rsplit('/').next().unwrap_or(q).to_owned(), depth);
            }
        }
        all
    }

    /// Every inbound message item of the table, counted by wamid.
    async fn stored_inbound(&self) -> BTreeMap<String, usize> {
        let items = self
            .ddb
            .scan()
            .table_name(&self.table)
            .filter_expression("#entity = :message AND #direction = :inbound")
            .projection_expression("#wamid")
            .expression_attribute_names("#entity", "entity")
            .expression_attribute_names("#direction", "direction")
            .expression_attribute_names("#wamid", "wamid")
            .expression_attribute_values(":message", AttributeValue::S("message".into()))
            .expression_attribute_values(":inbound", AttributeValue::S("inbound".into()))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("the table is scanned");
        let mut counts = BTreeMap::new();
        for item in items {
            if let Some(AttributeValue::S(w)) = item.get("wamid") {
                *counts.entry(w.clone()).or_insert(0) += 1;
            }
        }
        counts
    }
}

/// Sends the sandbox received, by our message id (Meta echoes `biz_opaque_callback_data`).
fn sends_by_message(sandbox: &meta_sandbox::RunningSandbox) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for s in sandbox.sent() {
        let id = s.body["biz_opaque_callback_data"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

async fn wait_ready(http: &reqwest::Client, base: &str, runner: &mut Runner) {
    let start = Instant::now();
    loop {
        if let Some(status) = runner.exited() {
            panic!(
                "the runner exited ({status}) before serving; {}",
                runner.log_tail()
            );
        }
        let answer = http
            .get(format!(
                "{base}{}?hub.mode=subscribe&hub.verify_token={}&hub.challenge=ready",
                switchboard_webhook::WEBHOOK_PATH,
                query_value(VERIFY_TOKEN)
            ))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if let Ok(res) = answer
            && res.status() == 200
        {
            return;
        }
        assert!(
            start.elapsed() < READY_LIMIT,
            "the runner did not serve within {READY_LIMIT:?}; {}",
            runner.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn query_value(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_runner_killed_mid_batch_and_restarted_loses_nothing_and_sends_nothing_twice() {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run the end-to-end tests through `make test` (scripts/with-moto.sh starts moto)"
    );
    let build = Instant::now();
    let bin = tokio::task::spawn_blocking(runner_binary)
        .await
        .expect("the build finishes");
    eprintln!("switchboard-dev built in {:?}", build.elapsed());
    let started = Instant::now();
    tokio::time::timeout(TEST_LIMIT, kill_and_restart(&bin))
        .await
        .unwrap_or_else(|_| panic!("the test took longer than {TEST_LIMIT:?}"));
    eprintln!("killed and restarted in {:?}", started.elapsed());
}

async fn kill_and_restart(bin: &Path) {
    let prefix = format!(
        "e2e-restart-{}",
        &ulid::Ulid::new().to_string().to_lowercase()[16..]
    );
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let logs = bin
        .parent()
        .map_or_else(|| workspace_root().join("target"), Path::to_path_buf)
        .join("runner-restart");
    std::fs::create_dir_all(&logs).expect("the log directory can be created");

    let sandbox = meta_sandbox::start(
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a sandbox port"),
        meta_sandbox::SandboxConfig {
            app_id: meta_sandbox::DEFAULT_APP_ID.into(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            display_phone_number: DISPLAY_PHONE_NUMBER.into(),
            waba_id: WABA_ID.into(),
            // The counts are of customer messages and replies; statuses would only add load.
            send_statuses: false,
            expected_token: Some(ACCESS_TOKEN.into()),
            ..meta_sandbox::SandboxConfig::new(
                APP_SECRET,
                format!("{base}{}", switchboard_webhook::WEBHOOK_PATH),
            )
        },
    )
    .await;

    let env = |clock_skip: u64| -> Vec<(&'static str, String)> {
        vec![
            ("PORT", port.to_string()),
            ("SANDBOX_PORT", "off".into()),
            ("GRAPH_API_BASE_URL", sandbox.base_url.clone()),
            ("GRAPH_API_VERSION", "v23.0".into()),
            ("STACK_PREFIX", prefix.clone()),
            (
                "TEMPLATE_PATH",
                workspace_root().join("template.yaml").display().to_string(),
            ),
            ("META_APP_SECRET", APP_SECRET.into()),
            ("META_VERIFY_TOKEN", VERIFY_TOKEN.into()),
            ("META_ACCESS_TOKEN", ACCESS_TOKEN.into()),
            ("META_APP_ID", meta_sandbox::DEFAULT_APP_ID.into()),
            ("DEMO_TENANT_ID", "acme".into()),
            ("DEMO_TENANT_NAME", "Acme".into()),
            ("DEMO_PHONE_NUMBER_ID", PHONE_NUMBER_ID.into()),
            ("DEMO_DISPLAY_PHONE_NUMBER", DISPLAY_PHONE_NUMBER.into()),
            ("DEMO_WABA_ID", WABA_ID.into()),
            ("DEV_API_KEY", API_KEY.into()),
            ("DEMO_ADMIN_EMAIL", ADMIN_EMAIL.into()),
            ("DEMO_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
            ("OUTBOUND_RETRY_BASE_SECONDS", "1".into()),
            ("POLL_WAIT_SECONDS", "1".into()),
            (
                "POLL_VISIBILITY_TIMEOUT_SECONDS",
                VISIBILITY_SECONDS.to_string(),
            ),
            ("CLOCK_SKIP_SECONDS", clock_skip.to_string()),
            ("RUST_LOG", "info".into()),
            ("NO_COLOR", "1".into()),
        ]
    };

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client");
    let mut first = Runner::spawn(bin, &env(0), logs.join(format!("{prefix}-1.log")));
    wait_ready(&http, &base, &mut first).await;
    let sdk = switchboard_platform::aws::load_sdk_config().await;
    let aws = Aws::of(&sdk, &prefix).await;

    // Meta's timestamp is part of the body it redelivers byte for byte; recent, so each
    // customer's message opens the window the reply is sent in.
    let sent_at = time::OffsetDateTime::now_utc().unix_timestamp();
    let bodies = (0..CUSTOMERS)
        .map(|i| {
            serde_json::to_vec(&text_message_webhook(
                PHONE_NUMBER_ID,
                &customer(i),
                &wamid(i),
                sent_at,
                &format!("Where is my order {i}?"),
            ))
            .expect("json")
        })
        .collect();
    let world = Arc::new(World {
        http: http.clone(),
        base: base.clone(),
        bodies,
        progress: Mutex::new(Progress::default()),
        first_wave: AtomicUsize::new(0),
        killed: AtomicBool::new(false),
        deadline: Instant::now() + TEST_LIMIT,
    });
    // Taken by the sandbox, answered after the test: a send the kill cuts off.
    sandbox.push_fault(
        meta_sandbox::Fault::new(meta_sandbox::FaultKind::LoseAnswer)
            .to(customer(HELD_CUSTOMER))
            .delay(TEST_LIMIT * 2),
    );
    let (restarted, on_restart) = oneshot::channel();
    let writers = tokio::spawn(customers(Arc::clone(&world), on_restart));
    let bot = tokio::spawn({
        let world = Arc::clone(&world);
        async move { world.bot().await }
    });

    // Mid-batch: a Graph call under way whose answer the killed runner never sees, so its
    // job stays received and not done; customers are still writing (the first wave has not
    // ended). The held reply was armed before anyone wrote.
    let trigger = Instant::now();
    let sends_seen = loop {
        let sent = sandbox.sent();
        assert!(
            world.first_wave.load(Ordering::SeqCst) < FIRST_WAVE,
            "the first wave ended before the runner was caught mid-batch ({} sent)",
            sent.len()
        );
        if sent
            .iter()
            .any(|s| s.body["to"] == customer(HELD_CUSTOMER).as_str())
        {
            break sent.len();
        }
        let sent = sent.len();
        assert!(
            trigger.elapsed() < READY_LIMIT,
            "no batches in flight after {READY_LIMIT:?} ({sent} sent); {}",
            first.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    first.kill();
    world.killed.store(true, Ordering::SeqCst);
    let killed_at = Instant::now();

    let (acked_at_kill, replies_at_kill) = {
        let p = world.progress();
        (
            p.acked.iter().copied().collect::<Vec<_>>(),
            p.replies.clone(),
        )
    };
    let sent_at_kill = sandbox.sent().len();
    let stored_at_kill = aws.stored_inbound().await.len();
    let (inbound_queued, inbound_in_flight) = aws.depth(aws.queue("-inboundqueue")).await;
    let (outbound_queued, outbound_in_flight) = aws.depth(aws.queue("-outboundqueue.fifo")).await;
    eprintln!(
        "killed with {} webhooks answered, {stored_at_kill} messages stored, {} replies accepted, \
         {sent_at_kill} sent ({sends_seen} when triggered); inbound queue {inbound_queued} waiting, \
         {inbound_in_flight} in flight; outbound queue {outbound_queued} waiting, \
         {outbound_in_flight} in flight",
        acked_at_kill.len(),
        replies_at_kill.len(),
    );
    assert!(
        sent_at_kill > 0 && sent_at_kill < CUSTOMERS,
        "killed after some but not all replies were sent"
    );
    assert!(
        outbound_in_flight > 0,
        "killed mid-batch: the held reply's job was received by the dead runner and not done"
    );
    let held_reply = sandbox
        .sent()
        .iter()
        .find(|s| s.body["to"] == customer(HELD_CUSTOMER).as_str())
        .and_then(|s| {
            s.body["biz_opaque_callback_data"]
                .as_str()
                .map(str::to_owned)
        })
        .expect("the held reply names its message");
    assert!(
        acked_at_kill.len() < CUSTOMERS,
        "customers still had to write"
    );

    let mut second = Runner::spawn(
        bin,
        &env(CLOCK_SKIP_SECONDS),
        logs.join(format!("{prefix}-2.log")),
    );
    wait_ready(&http, &base, &mut second).await;
    eprintln!("restarted {:?} after the kill", killed_at.elapsed());
    let _ = restarted.send(acked_at_kill.clone());

    // The business's server retries replies whose answers it did have: the same message.
    for (conversation, id) in replies_at_kill.iter().take(REDELIVERED) {
        let again = world.post_reply(conversation).await;
        assert!(
            matches!(&again, Some((202, body)) if body["id"] == id.as_str()),
            "a retried reply is the reply accepted before: {id} vs {again:?}"
        );
    }

    let redelivered = writers.await.expect("the customers finish");
    assert!(
        redelivered.iter().all(|s| *s == 200),
        "a redelivered webhook is answered 200: {redelivered:?}"
    );
    bot.await.expect("the bot finishes");
    let (acked, replies, refused) = {
        let p = world.progress();
        (p.acked.len(), p.replies.clone(), p.refused.clone())
    };
    assert_eq!(acked, CUSTOMERS, "every webhook answered 200 in the end");
    assert!(refused.is_empty(), "replies refused: {refused:?}");
    assert_eq!(replies.len(), CUSTOMERS, "one reply accepted per customer");

    // Settled: every message stored, every reply either at Meta or recorded as failed, and
    // nothing left in any queue.
    let settle = Instant::now();
    loop {
        let stored = aws.stored_inbound().await.len();
        let sends = sends_by_message(&sandbox);
        let mut unsent = Vec::new();
        for id in replies.values().filter(|id| !sends.contains_key(*id)) {
            if message(&http, &base, id).await["status"] != "failed" {
                unsent.push(id.clone());
            }
        }
        let queued = aws.everything_queued().await;
        if stored == CUSTOMERS && unsent.is_empty() && queued.is_empty() {
            break;
        }
        assert!(
            Instant::now() < world.deadline,
            "not settled after {:?}: {stored} stored, unsent {unsent:?}, queued {queued:?}; {}",
            settle.elapsed(),
            second.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Long enough for a late duplicate to show.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let stored = aws.stored_inbound().await;
    let expected: BTreeMap<String, usize> = (0..CUSTOMERS).map(|i| (wamid(i), 1)).collect();
    assert_eq!(
        stored, expected,
        "every customer message stored exactly once"
    );

    let sent = sandbox.sent();
    let by_message = sends_by_message(&sandbox);
    let duplicates: Vec<(&String, &usize)> = by_message.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "sent twice: {duplicates:?}");
    let ours: BTreeSet<&str> = replies.values().map(String::as_str).collect();
    assert!(
        by_message.keys().all(|id| ours.contains(id.as_str())),
        "only the accepted replies were sent: {by_message:?}"
    );
    let mut recipients = BTreeMap::new();
    for s in &sent {
        assert_eq!(s.body["text"]["body"], REPLY_TEXT, "{:?}", s.body);
        *recipients
            .entry(s.body["to"].as_str().unwrap_or_default().to_owned())
            .or_insert(0) += 1;
    }
    assert!(
        recipients.values().all(|n| *n == 1),
        "one send per customer: {recipients:?}"
    );

    // A reply Meta never got is loss unless its record owns up to a Graph call the kill cut:
    // the send had begun, so no later delivery may make it, or Meta could get it twice.
    let mut unconfirmed = BTreeSet::new();
    for id in replies.values() {
        let m = message(&http, &base, id).await;
        let status = m["status"].as_str().unwrap_or_default();
        if status == "failed" {
            assert_eq!(
                m["error"]["title"],
                switchboard_outbound::UNCONFIRMED_TITLE,
                "the only failure a kill may leave is an unconfirmed send: {m}"
            );
            unconfirmed.insert(id.clone());
        } else {
            assert_eq!(status, "sent", "{m}");
            assert_eq!(
                by_message.get(id),
                Some(&1),
                "recorded sent, sent once: {m}"
            );
        }
    }
    let missing: BTreeSet<String> = replies
        .values()
        .filter(|id| !by_message.contains_key(*id))
        .cloned()
        .collect();
    eprintln!(
        "{CUSTOMERS} customers, {} stored, {} sent, {} never sent, {} recorded unconfirmed",
        stored.len(),
        sent.len(),
        missing.len(),
        unconfirmed.len()
    );
    assert!(
        missing.is_subset(&unconfirmed),
        "replies lost: {:?}",
        missing.difference(&unconfirmed).collect::<Vec<_>>()
    );
    assert!(
        unconfirmed.contains(&held_reply),
        "the send the kill cut off is recorded unconfirmed: {held_reply} not in {unconfirmed:?}"
    );
    assert!(
        unconfirmed.len() <= outbound_in_flight,
        "only a job the killed runner held can be unconfirmed: {unconfirmed:?}, \
         {outbound_in_flight} held"
    );
    assert_eq!(sent.len() + missing.len(), CUSTOMERS);
    second.stop().await;
}

async fn message(http: &reqwest::Client, base: &str, id: &str) -> Value {
    let res = http
        .get(format!("{base}/v1/messages/{id}"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("the API answers");
    assert_eq!(res.status(), 200, "message {id}");
    res.json().await.expect("a message is JSON")
}
