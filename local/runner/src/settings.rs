//! Local settings. Defaults live in `.env.example`; every one can be overridden by the
//! environment.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct DevSettings {
    /// Where every HTTP function is served (0 = any free port).
    pub http_addr: String,
    /// Where the Meta sandbox listens (0 = any free port). `None` (`SANDBOX_PORT=off`) = do not
    /// start one: the Graph API is then `graph_api_base_url`'s, e.g. a sandbox that outlives
    /// this process.
    pub sandbox_addr: Option<String>,
    pub template_path: PathBuf,
    /// Prefix of every local resource name, so stacks (and tests) never collide.
    pub prefix: String,
    pub app_secret: String,
    /// The Meta app's id Embedded Signup codes are exchanged with (the sandbox's by default).
    pub meta_app_id: String,
    pub verify_token: String,
    pub access_token: String,
    pub demo: DemoTenant,
    /// Graph API base URL when no sandbox is started here.
    pub graph_api_base_url: Option<String>,
    pub graph_api_version: String,
    pub outbound_retry_base: Duration,
    /// Delay between the sandbox's sent/delivered/read webhooks.
    pub sandbox_status_delay: Duration,
    /// Whether the sandbox sends status webhooks after a send.
    pub sandbox_send_statuses: bool,
    /// Long-poll wait of the local SQS pollers.
    pub poll_wait: Duration,
    /// The visibility timeout the local pollers receive with (`POLL_VISIBILITY_TIMEOUT_SECONDS`);
    /// `None` = each queue's own. A shorter one brings back a killed runner's in-flight
    /// messages in seconds instead of minutes; pair it with `clock_skip` so the leases that
    /// runner held have expired too. With one poller per queue (`stack::OUTBOUND_POLLERS`), a
    /// batch that outlives it is not received again meanwhile: a poller takes its next batch
    /// only when done with the last.
    pub poll_visibility: Option<Duration>,
    /// How far ahead of the wall clock the functions' clock starts (`CLOCK_SKIP_SECONDS`, 0 by
    /// default). A runner restarted with it stands for one that came back after every lease of
    /// its predecessor expired, as a Lambda redelivery after the queue's visibility timeout
    /// does.
    pub clock_skip: Duration,
}

#[derive(Debug, Clone)]
pub struct DemoTenant {
    pub tenant_id: String,
    pub name: String,
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub waba_id: String,
    pub api_key: String,
    pub admin_email: String,
    pub admin_password: String,
}

/// SQS's upper bound for a visibility timeout (12 hours).
const MAX_VISIBILITY_SECONDS: u64 = 43_200;

/// Whole seconds within SQS's bounds, or `None` when unset.
fn visibility(name: &str) -> anyhow::Result<Option<Duration>> {
    let raw = var(name, "");
    if raw.is_empty() {
        return Ok(None);
    }
    let secs = raw
        .parse::<u64>()
        .ok()
        .filter(|v| *v <= MAX_VISIBILITY_SECONDS)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{name} must be whole seconds from 0 to {MAX_VISIBILITY_SECONDS}, got {raw:?}"
            )
        })?;
    Ok(Some(Duration::from_secs(secs)))
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

impl DevSettings {
    /// A stack for one `make bench` run: random ports, the sandbox in-process, resources
    /// under `bench-{name}-{pid}`, retries at once, and no status webhooks (a bench that
    /// wants them sets `sandbox_send_statuses`).
    pub fn for_bench(name: &str, demo: DemoTenant) -> Self {
        Self {
            http_addr: "127.0.0.1:0".into(),
            sandbox_addr: Some("127.0.0.1:0".into()),
            template_path: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"),
            prefix: format!("bench-{name}-{}", std::process::id()),
            app_secret: "bench-app-secret".into(),
            meta_app_id: meta_sandbox::DEFAULT_APP_ID.into(),
            verify_token: "bench-verify-token".into(),
            access_token: "bench-access-token".into(),
            demo,
            graph_api_base_url: None,
            graph_api_version: "v23.0".into(),
            outbound_retry_base: Duration::ZERO,
            sandbox_status_delay: Duration::from_millis(20),
            sandbox_send_statuses: false,
            poll_wait: Duration::from_secs(1),
            poll_visibility: None,
            clock_skip: Duration::ZERO,
        }
    }

    pub fn from_env() -> anyhow::Result<Self> {
        let port = var("PORT", "3000");
        // `off`: the Graph API named by GRAPH_API_BASE_URL stands in for the sandbox.
        let sandbox_addr = match var("SANDBOX_PORT", "3001").as_str() {
            "off" => None,
            sandbox_port => Some(format!("127.0.0.1:{sandbox_port}")),
        };
        let graph_api_base_url = std::env::var("GRAPH_API_BASE_URL")
            .ok()
            .filter(|v| !v.is_empty());
        anyhow::ensure!(
            sandbox_addr.is_some() || graph_api_base_url.is_some(),
            "SANDBOX_PORT=off needs GRAPH_API_BASE_URL: without a sandbox, the Graph API to send to"
        );
        let secs = |name: &str, default: &str| -> anyhow::Result<Duration> {
            let raw = var(name, default);
            let v: f64 = raw
                .parse()
                .map_err(|_| anyhow::anyhow!("{name} must be a number of seconds, got {raw:?}"))?;
            anyhow::ensure!(
                v.is_finite() && v >= 0.0,
                "{name} must be a non-negative number of seconds"
            );
            Ok(Duration::from_secs_f64(v))
        };
        Ok(Self {
            http_addr: format!("127.0.0.1:{port}"),
            sandbox_addr,
            template_path: PathBuf::from(var("TEMPLATE_PATH", "template.yaml")),
            prefix: var("STACK_PREFIX", "switchboard-dev"),
            app_secret: var("META_APP_SECRET", "dev-app-secret"),
            meta_app_id: var("META_APP_ID", meta_sandbox::DEFAULT_APP_ID),
            verify_token: var("META_VERIFY_TOKEN", "dev-verify-token"),
            access_token: var("META_ACCESS_TOKEN", "dev-access-token"),
            demo: DemoTenant {
                tenant_id: var("DEMO_TENANT_ID", "demo"),
                name: var("DEMO_TENANT_NAME", "Demo Coffee Co."),
                phone_number_id: var("DEMO_PHONE_NUMBER_ID", "106540352242922"),
                display_phone_number: var("DEMO_DISPLAY_PHONE_NUMBER", "15550783881"),
                waba_id: var("DEMO_WABA_ID", "102290129340398"),
                api_key: var("DEV_API_KEY", "sk_dev_demo_0123456789abcdef"),
                admin_email: var("DEMO_ADMIN_EMAIL", "admin@demo.example"),
                admin_password: var("DEMO_ADMIN_PASSWORD", "demo-admin-password"),
            },
            graph_api_base_url,
            graph_api_version: var("GRAPH_API_VERSION", "v23.0"),
            outbound_retry_base: secs("OUTBOUND_RETRY_BASE_SECONDS", "1")?,
            sandbox_status_delay: secs("SANDBOX_STATUS_DELAY_SECONDS", "0.3")?,
            sandbox_send_statuses: true,
            poll_wait: secs("POLL_WAIT_SECONDS", "1")?,
            poll_visibility: visibility("POLL_VISIBILITY_TIMEOUT_SECONDS")?,
            clock_skip: secs("CLOCK_SKIP_SECONDS", "0")?,
        })
    }
}
