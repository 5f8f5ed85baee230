//! The whole platform in one process: every HTTP function on one port, a poller per SQS
//! event source, the Meta sandbox, all wired from template.yaml's resources in moto.

use crate::aws_calls::AwsCallRecorder;
use crate::poller::{BatchHandler, QueuePoller};
use crate::provision::{ProvisionRequest, Provisioned, provision};
use crate::seed::seed_demo_tenant;
use crate::settings::DevSettings;
use anyhow::Context;
use aws_config::SdkConfig;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use switchboard_domain::{Clock, SkippingClock};
use switchboard_platform::Config;
use switchboard_platform::metrics::InMemorySink;
use switchboard_platform::token_vault::{CacheLimits, TokenVault};
use switchboard_store::Store;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub struct RunningStack {
    pub http_addr: SocketAddr,
    pub base_url: String,
    pub sandbox: Option<meta_sandbox::RunningSandbox>,
    pub provisioned: Provisioned,
    pub settings: DevSettings,
    /// Read access for tests and the banner; the functions build their own clients.
    pub store: Store,
    pub sdk: SdkConfig,
    /// Every AWS call the functions made, and the faults tests inject into them.
    pub aws_calls: AwsCallRecorder,
    /// The one clock every function reads; tests skip it forward past leases and windows.
    pub clock: Arc<SkippingClock>,
    /// Seals tenants' Meta tokens as the API does, for seeding and tests.
    pub vault: TokenVault,
    /// The outbound function's state, for tests that invoke its batch handler directly.
    pub outbound: Arc<switchboard_outbound::OutboundState>,
    /// The operations function's state: it has no trigger, an operator invokes it
    /// (`switchboard_operations::handle`, `switchboard-dev ops`).
    pub operations: Arc<switchboard_operations::OperationsState>,
    /// The template sync's state: EventBridge runs it hourly; tests invoke its handler
    /// (`switchboard_template_sync::handle`) when they need a run.
    pub template_sync: Arc<switchboard_template_sync::TemplateSyncState>,
    /// The media function's state, for tests that run a fetch themselves.
    pub media: Arc<switchboard_media::MediaState>,
    /// The EMF documents the functions flushed (in Lambda: stdout lines).
    pub metrics: InMemorySink,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningStack {
    pub fn webhook_url(&self) -> String {
        format!("{}{}", self.base_url, switchboard_webhook::WEBHOOK_PATH)
    }

    pub fn function_config(&self, logical_id: &str) -> anyhow::Result<Config> {
        function_config(&self.provisioned, logical_id)
    }

    /// The operator key the API checks `/operator/...` calls against (the generated
    /// `OperatorKey` secret), read as an operator would; `None` when the API has none.
    pub async fn operator_key(&self) -> anyhow::Result<Option<switchboard_domain::Secret>> {
        let api = function_named(&self.provisioned, "api")?;
        let Some(id) = function_config(&self.provisioned, api)?.operator_secret_id else {
            return Ok(None);
        };
        let out = aws_sdk_secretsmanager::Client::new(&self.sdk)
            .get_secret_value()
            .secret_id(&id)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "reading the operator key {id}: {}",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                )
            })?;
        let key = out
            .secret_string()
            .with_context(|| format!("secret {id} has no string value"))?;
        Ok(Some(switchboard_domain::Secret::new(key)))
    }
}

/// Where each stack writes the AWS calls its functions made, for `switchboard-dev iam-check`.
pub const AWS_CALL_LOG_ENV: &str = "SWITCHBOARD_AWS_CALL_LOG";

impl RunningStack {
    fn write_call_log(&self) -> anyhow::Result<()> {
        let Some(dir) = std::env::var_os(AWS_CALL_LOG_ENV) else {
            return Ok(());
        };
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        let calls = crate::iam::logical_calls(&self.aws_calls.calls(), &self.provisioned);
        let mut text = String::new();
        for call in calls {
            text.push_str(&serde_json::to_string(&call)?);
            text.push('\n');
        }
        std::fs::write(dir.join(format!("{}.jsonl", self.settings.prefix)), text)?;
        Ok(())
    }
}

impl Drop for RunningStack {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Err(e) = self.write_call_log() {
            tracing::error!(error = %e, "could not write the AWS call log");
        }
    }
}

fn function_config(p: &Provisioned, logical_id: &str) -> anyhow::Result<Config> {
    let env = p
        .function_env
        .get(logical_id)
        .with_context(|| format!("template.yaml has no function {logical_id}"))?;
    Config::from_map(env).with_context(|| format!("environment of {logical_id}"))
}

fn function_named<'a>(p: &'a Provisioned, binary: &str) -> anyhow::Result<&'a str> {
    p.function_binaries
        .iter()
        .find(|(_, bin)| bin.as_str() == binary)
        .map(|(id, _)| id.as_str())
        .with_context(|| format!("template.yaml has no function built from binary {binary}"))
}

/// Provisions (or finds: provisioning is idempotent per prefix) the stack's resources.
async fn provision_stack(
    settings: &DevSettings,
    sdk: &SdkConfig,
    graph_base: String,
) -> anyhow::Result<Provisioned> {
    let secret = serde_json::json!({
        "app_secret": settings.app_secret,
        "verify_token": settings.verify_token,
    })
    .to_string();
    provision(
        sdk,
        &ProvisionRequest {
            template_path: &settings.template_path,
            prefix: &settings.prefix,
            parameter_overrides: BTreeMap::from([
                ("GraphApiBaseUrl".to_owned(), graph_base),
                (
                    "GraphApiVersion".to_owned(),
                    settings.graph_api_version.clone(),
                ),
                ("MetaAppId".to_owned(), settings.meta_app_id.clone()),
                (
                    "OutboundRetryBaseSeconds".to_owned(),
                    settings.outbound_retry_base.as_secs_f64().to_string(),
                ),
            ]),
            secret_params: BTreeMap::from([("MetaSecretArn".to_owned(), secret)]),
        },
    )
    .await
    .context("provisioning the local stack from template.yaml")
}

/// The operations function's state for the stack `settings` name (`make dev`'s, by default),
/// for `switchboard-dev ops`: its resources are provisioned if they are not there yet, nothing
/// is served. `sdk` decides where it acts: the local emulator, or AWS with real credentials.
pub async fn operations_for(
    settings: &DevSettings,
    sdk: &SdkConfig,
) -> anyhow::Result<Arc<switchboard_operations::OperationsState>> {
    let graph_base = settings
        .graph_api_base_url
        .clone()
        .unwrap_or_else(|| "https://graph.facebook.com".to_owned());
    let provisioned = provision_stack(settings, sdk, graph_base).await?;
    let id = function_named(&provisioned, OPERATIONS_BINARY)?;
    Ok(switchboard_operations::init(
        &function_config(&provisioned, id)?,
        sdk,
    ))
}

/// Outbound consumers. One: moto's FIFO queue does not keep a message group to one consumer
/// as reliably as SQS does, and a second consumer could then overtake a group's order. The
/// send pace's behaviour under concurrency is proven against the store directly
/// (`shared/store/tests/moto/send_pace.rs`).
pub const OUTBOUND_POLLERS: usize = 1;
const OPERATIONS_BINARY: &str = "operations";
const TEMPLATE_SYNC_BINARY: &str = "template-sync";
const MEDIA_BINARY: &str = "media";

pub async fn start(settings: DevSettings, sdk: SdkConfig) -> anyhow::Result<RunningStack> {
    let http_listener = TcpListener::bind(&settings.http_addr)
        .await
        .with_context(|| format!("binding {}", settings.http_addr))?;
    let http_addr = http_listener.local_addr()?;
    let base_url = format!("http://{http_addr}");
    let webhook_url = format!("{base_url}{}", switchboard_webhook::WEBHOOK_PATH);

    let sandbox = match &settings.sandbox_addr {
        None => None,
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding sandbox {addr}"))?;
            let config = meta_sandbox::SandboxConfig {
                app_secret: settings.app_secret.clone(),
                app_id: settings.meta_app_id.clone(),
                webhook_url: webhook_url.clone(),
                phone_number_id: settings.demo.phone_number_id.clone(),
                display_phone_number: settings.demo.display_phone_number.clone(),
                waba_id: settings.demo.waba_id.clone(),
                status_delay: settings.sandbox_status_delay,
                send_statuses: settings.sandbox_send_statuses,
                expected_token: Some(settings.access_token.clone()),
            };
            Some(meta_sandbox::start(listener, config).await)
        }
    };
    // A Graph API named in the environment wins over the sandbox's, so the local stack can
    // talk to a real Meta test number; the sandbox still runs for its customer simulator.
    let graph_base = match (&settings.graph_api_base_url, &sandbox) {
        (Some(url), _) => url.clone(),
        (None, Some(s)) => s.base_url.clone(),
        (None, None) => "https://graph.facebook.com".to_owned(),
    };

    let provisioned = provision_stack(&settings, &sdk, graph_base).await?;

    let webhook_id = function_named(&provisioned, "webhook")?;
    let api_id = function_named(&provisioned, "api")?;
    let inbound_id = function_named(&provisioned, "inbound")?;
    let outbound_id = function_named(&provisioned, "outbound")?;
    let operations_id = function_named(&provisioned, OPERATIONS_BINARY)?;
    let template_sync_id = function_named(&provisioned, TEMPLATE_SYNC_BINARY)?;
    let media_id = function_named(&provisioned, MEDIA_BINARY)?;

    let api_config = function_config(&provisioned, api_id)?;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), &api_config.table_name);
    let vault = TokenVault::new(
        aws_sdk_kms::Client::new(&sdk),
        api_config
            .token_key_id
            .clone()
            .context("the API function has no TOKEN_KEY_ID")?,
        CacheLimits::default(),
    );
    seed_demo_tenant(&store, &vault, &settings.demo, &settings.access_token)
        .await
        .context("seeding the demo tenant")?;

    let aws_calls = AwsCallRecorder::default();
    let clock = Arc::new(SkippingClock::default());
    clock.skip(
        time::Duration::try_from(settings.clock_skip).context("the clock skip is too large")?,
    );
    let shared_clock: Arc<dyn Clock> = clock.clone();
    let sdk_of = |id: &str| aws_calls.sdk_for(id, &sdk);

    let mut webhook_state = switchboard_webhook::init(
        &function_config(&provisioned, webhook_id)?,
        &sdk_of(webhook_id),
    )
    .await?;
    let mut api_state = switchboard_api::init(&api_config, &sdk_of(api_id)).await?;
    let mut inbound_state = switchboard_inbound::init(
        &function_config(&provisioned, inbound_id)?,
        &sdk_of(inbound_id),
    );
    let mut outbound_state = switchboard_outbound::init(
        &function_config(&provisioned, outbound_id)?,
        &sdk_of(outbound_id),
    )
    .await?;
    let mut operations_state = switchboard_operations::init(
        &function_config(&provisioned, operations_id)?,
        &sdk_of(operations_id),
    );
    let mut template_sync_state = switchboard_template_sync::init(
        &function_config(&provisioned, template_sync_id)?,
        &sdk_of(template_sync_id),
    )?;
    let mut media_state =
        switchboard_media::init(&function_config(&provisioned, media_id)?, &sdk_of(media_id))?;
    // Freshly built, so each state is still ours alone.
    let unshared = || anyhow::anyhow!("function state shared before start");
    let metrics = InMemorySink::default();
    let webhook = Arc::get_mut(&mut webhook_state).ok_or_else(unshared)?;
    webhook.intake.clock = Arc::clone(&shared_clock);
    webhook.metrics = Arc::new(metrics.clone());
    Arc::get_mut(&mut operations_state)
        .ok_or_else(unshared)?
        .intake
        .clock = Arc::clone(&shared_clock);
    let api = Arc::get_mut(&mut api_state).ok_or_else(unshared)?;
    api.set_clock(Arc::clone(&shared_clock));
    api.metrics = Arc::new(metrics.clone());
    let inbound = Arc::get_mut(&mut inbound_state).ok_or_else(unshared)?;
    inbound.clock = Arc::clone(&shared_clock);
    inbound.metrics = Arc::new(metrics.clone());
    Arc::get_mut(&mut template_sync_state)
        .ok_or_else(unshared)?
        .clock = Arc::clone(&shared_clock);
    let media = Arc::get_mut(&mut media_state).ok_or_else(unshared)?;
    media.clock = Arc::clone(&shared_clock);
    media.metrics = Arc::new(metrics.clone());
    let outbound = Arc::get_mut(&mut outbound_state).ok_or_else(unshared)?;
    outbound.clock = Arc::clone(&shared_clock);
    outbound.metrics = Arc::new(metrics.clone());

    let app = switchboard_webhook::router(webhook_state).merge(switchboard_api::router(api_state));
    let mut tasks = vec![tokio::spawn(async move {
        if let Err(e) = axum::serve(
            http_listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        {
            tracing::error!(error = %e, "http server stopped");
        }
    })];

    let sqs = aws_sdk_sqs::Client::new(&sdk);
    for binding in &provisioned.sqs_bindings {
        let handler: BatchHandler = if binding.function == inbound_id {
            let state = Arc::clone(&inbound_state);
            Arc::new(move |event| {
                let state = Arc::clone(&state);
                Box::pin(async move { switchboard_inbound::handle_batch(&state, event).await })
            })
        } else if binding.function == outbound_id {
            let state = Arc::clone(&outbound_state);
            let timeout = provisioned
                .function_timeouts
                .get(outbound_id)
                .copied()
                .unwrap_or(std::time::Duration::from_secs(3));
            Arc::new(move |event| {
                let state = Arc::clone(&state);
                let deadline = std::time::Instant::now() + timeout;
                Box::pin(async move {
                    switchboard_outbound::handle_batch(&state, event, deadline).await
                })
            })
        } else if binding.function == media_id {
            let state = Arc::clone(&media_state);
            Arc::new(move |event| {
                let state = Arc::clone(&state);
                Box::pin(async move { switchboard_media::handle_batch(&state, event).await })
            })
        } else {
            anyhow::bail!("no local handler for the SQS consumer {}", binding.function);
        };
        // Lambda runs one outbound invocation per FIFO message group at a time, several
        // groups at once; locally [`OUTBOUND_POLLERS`] consumers play that part.
        let pollers = if binding.function == outbound_id {
            OUTBOUND_POLLERS
        } else {
            1
        };
        for _ in 0..pollers {
            let poller = QueuePoller {
                client: sqs.clone(),
                queue_url: binding.queue_url.clone(),
                queue_arn: binding.queue_arn.clone(),
                batch_size: binding.batch_size,
                wait: settings.poll_wait,
                visibility: settings.poll_visibility,
                timeout: provisioned
                    .function_timeouts
                    .get(&binding.function)
                    .copied()
                    .unwrap_or(std::time::Duration::from_secs(3)),
                handler: Arc::clone(&handler),
            };
            tasks.push(tokio::spawn(poller.run()));
        }
    }
    for schedule in &provisioned.schedules {
        let period = crate::schedule::rate_period(&schedule.expression);
        match period {
            Some(period) if schedule.function == template_sync_id => {
                let state = Arc::clone(&template_sync_state);
                tasks.push(tokio::spawn(crate::schedule::every(period, move || {
                    let state = Arc::clone(&state);
                    async move {
                        if let Err(e) =
                            switchboard_template_sync::handle(&state, serde_json::Value::Null).await
                        {
                            tracing::error!(error = %e, "scheduled template sync failed");
                        }
                    }
                })));
            }
            _ => {
                tracing::warn!(function = %schedule.function, expression = %schedule.expression, "no local handler for this schedule yet");
            }
        }
    }

    Ok(RunningStack {
        http_addr,
        base_url,
        sandbox,
        provisioned,
        settings,
        store,
        vault,
        sdk,
        aws_calls,
        clock,
        outbound: outbound_state,
        operations: operations_state,
        template_sync: template_sync_state,
        media: media_state,
        metrics,
        tasks,
    })
}
