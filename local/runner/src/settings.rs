//! Local settings. Defaults live in `.env.example`; every one can be overridden by the
//! environment.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct DevSettings {
    /// Where every HTTP function is served (0 = any free port).
    pub http_addr: String,
    /// Where the Meta sandbox listens (0 = any free port). `None` = do not start one.
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
        }
    }

    pub fn from_env() -> anyhow::Result<Self> {
        let port = var("PORT", "3000");
        let sandbox_port = var("SANDBOX_PORT", "3001");
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
            sandbox_addr: Some(format!("127.0.0.1:{sandbox_port}")),
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
            graph_api_base_url: std::env::var("GRAPH_API_BASE_URL")
                .ok()
                .filter(|v| !v.is_empty()),
            graph_api_version: var("GRAPH_API_VERSION", "v23.0"),
            outbound_retry_base: secs("OUTBOUND_RETRY_BASE_SECONDS", "1")?,
            sandbox_status_delay: secs("SANDBOX_STATUS_DELAY_SECONDS", "0.3")?,
            sandbox_send_statuses: true,
            poll_wait: secs("POLL_WAIT_SECONDS", "1")?,
        })
    }
}
