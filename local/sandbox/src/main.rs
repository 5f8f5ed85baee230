//! `meta-sandbox`: run the sandbox, or steer a running one from the command line.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use meta_sandbox::{
    CustomerMessage, Fault, FaultKind, SandboxConfig, SignupCodeRequest, WebhookReport,
};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "meta-sandbox",
    about = "A local stand-in for Meta's WhatsApp Cloud API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Graph API endpoints and send webhooks.
    Serve(ServeArgs),
    /// Have a customer write a text message to the business.
    CustomerMessage(CustomerMessageArgs),
    /// Queue a fault for the next matching sends.
    Fault(FaultArgs),
    /// Remove all queued faults.
    ClearFaults(Target),
    /// Print the messages the sandbox accepted.
    Sent(Target),
    /// Mint an Embedded Signup code for a business; prints `{code, access_token, expires_in}`.
    SignupCode(SignupCodeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    #[arg(long, env = "SANDBOX_ADDR", default_value = "127.0.0.1:3001")]
    addr: SocketAddr,
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true)]
    app_secret: String,
    /// The app id the code exchange expects as `client_id`.
    #[arg(long, env = "META_APP_ID", default_value = meta_sandbox::DEFAULT_APP_ID)]
    app_id: String,
    #[arg(
        long,
        env = "WEBHOOK_URL",
        default_value = "http://127.0.0.1:3000/webhooks/whatsapp"
    )]
    webhook_url: String,
    #[arg(long, env = "SANDBOX_PHONE_NUMBER_ID", default_value = meta_sandbox::DEFAULT_PHONE_NUMBER_ID)]
    phone_number_id: String,
    #[arg(long, env = "SANDBOX_DISPLAY_PHONE_NUMBER", default_value = meta_sandbox::DEFAULT_DISPLAY_PHONE_NUMBER)]
    display_phone_number: String,
    #[arg(long, env = "SANDBOX_WABA_ID", default_value = meta_sandbox::DEFAULT_WABA_ID)]
    waba_id: String,
    #[arg(long, env = "STATUS_DELAY_MS", default_value_t = 200)]
    status_delay_ms: u64,
    /// Do not send status webhooks after sends.
    #[arg(long, env = "SANDBOX_NO_STATUSES")]
    no_statuses: bool,
    /// Reject sends whose bearer token differs (Meta's code 190).
    #[arg(long, env = "SANDBOX_EXPECTED_TOKEN", hide_env_values = true)]
    expected_token: Option<String>,
}

#[derive(clap::Args)]
struct Target {
    #[arg(long, env = "SANDBOX_URL", default_value = "http://127.0.0.1:3001")]
    sandbox_url: String,
}

#[derive(clap::Args)]
struct CustomerMessageArgs {
    #[arg(long)]
    text: String,
    #[arg(long, default_value = "15551234567")]
    from: String,
    #[arg(long)]
    name: Option<String>,
    /// Business-scoped user id of the customer.
    #[arg(long)]
    user_id: Option<String>,
    /// The business number written to; the sandbox's own by default.
    #[arg(long)]
    phone_number_id: Option<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct SignupCodeArgs {
    #[arg(long)]
    waba_id: String,
    #[arg(long)]
    phone_number_id: String,
    #[arg(long)]
    display_phone_number: String,
    #[arg(long)]
    verified_name: Option<String>,
    /// The number's two-step verification PIN; the first registration sets it when absent.
    #[arg(long)]
    pin: Option<String>,
    /// Registering the number answers Meta's 133006 (still registered elsewhere).
    #[arg(long)]
    registered_elsewhere: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct FaultArgs {
    /// server_error, service_unavailable, rate_limit, pair_rate_limit, reengagement, delay,
    /// undeliverable
    #[arg(long, value_parser = parse_fault_kind)]
    kind: FaultKind,
    #[arg(long, default_value_t = 1)]
    times: u32,
    /// Only sends to this recipient.
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    delay_ms: Option<u64>,
    #[command(flatten)]
    target: Target,
}

fn parse_fault_kind(name: &str) -> Result<FaultKind, String> {
    FaultKind::parse(name).ok_or_else(|| format!("unknown fault kind `{name}`"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,meta_sandbox=debug".into()),
        )
        // Colour codes only on a terminal, never in files or CI logs.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
        Command::CustomerMessage(args) => customer_message(args).await,
        Command::Fault(args) => fault(args).await,
        Command::ClearFaults(target) => {
            let response = reqwest::Client::new()
                .delete(format!("{}/sandbox/faults", target.sandbox_url))
                .send()
                .await?;
            expect_success(response).await.map(|_| ())
        }
        Command::SignupCode(args) => signup_code(args).await,
        Command::Sent(target) => {
            let response = reqwest::Client::new()
                .get(format!("{}/sandbox/sent", target.sandbox_url))
                .send()
                .await?;
            println!("{}", expect_success(response).await?);
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.app_secret.is_empty() {
        bail!("META_APP_SECRET must not be empty: webhooks are signed with it");
    }
    let mut config = SandboxConfig::new(args.app_secret, args.webhook_url);
    config.app_id = args.app_id;
    config.phone_number_id = args.phone_number_id;
    config.display_phone_number = args.display_phone_number;
    config.waba_id = args.waba_id;
    config.status_delay = Duration::from_millis(args.status_delay_ms);
    config.send_statuses = !args.no_statuses;
    config.expected_token = args.expected_token;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    let sandbox = meta_sandbox::try_start(listener, config).await?;
    tracing::info!(base_url = %sandbox.base_url, webhook_url = %sandbox.state().webhook_url(), "ready");
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await?;
    Ok(())
}

async fn customer_message(args: CustomerMessageArgs) -> anyhow::Result<()> {
    let message = CustomerMessage {
        from: Some(args.from),
        text: args.text,
        name: args.name,
        phone_number_id: args.phone_number_id,
        user_id: args.user_id,
        ..CustomerMessage::default()
    };
    let response = reqwest::Client::new()
        .post(format!(
            "{}/sandbox/customer-messages",
            args.target.sandbox_url
        ))
        .json(&message)
        .send()
        .await
        .with_context(|| format!("calling the sandbox at {}", args.target.sandbox_url))?;
    let body = expect_success(response).await?;
    println!("{body}");
    let report: WebhookReport = serde_json::from_str(&body)?;
    match report.webhook_status {
        Some(status) if (200..300).contains(&status) => Ok(()),
        Some(status) => bail!("the webhook answered HTTP {status}"),
        None => bail!("the webhook did not answer"),
    }
}

async fn signup_code(args: SignupCodeArgs) -> anyhow::Result<()> {
    let request = SignupCodeRequest {
        waba_id: args.waba_id,
        phone_number_id: args.phone_number_id,
        display_phone_number: args.display_phone_number,
        verified_name: args.verified_name,
        pin: args.pin,
        registered_elsewhere: args.registered_elsewhere,
        expires_in_secs: None,
    };
    let response = reqwest::Client::new()
        .post(format!("{}/sandbox/signup-codes", args.target.sandbox_url))
        .json(&request)
        .send()
        .await
        .with_context(|| format!("calling the sandbox at {}", args.target.sandbox_url))?;
    println!("{}", expect_success(response).await?);
    Ok(())
}

async fn fault(args: FaultArgs) -> anyhow::Result<()> {
    let fault = Fault {
        kind: args.kind,
        times: args.times,
        to: args.to,
        delay_ms: args.delay_ms,
    };
    let response = reqwest::Client::new()
        .post(format!("{}/sandbox/faults", args.target.sandbox_url))
        .json(&fault)
        .send()
        .await
        .with_context(|| format!("calling the sandbox at {}", args.target.sandbox_url))?;
    expect_success(response).await?;
    println!("queued {}", serde_json::to_string(&fault)?);
    Ok(())
}

/// The body of a 2xx answer, or an error naming the status and body. A 502 from the customer
/// endpoint still carries its report, so it is returned as a body too.
async fn expect_success(response: reqwest::Response) -> anyhow::Result<String> {
    let status = response.status();
    let body = response.text().await?;
    if status.is_success() || status == reqwest::StatusCode::BAD_GATEWAY {
        Ok(body)
    } else {
        bail!("the sandbox answered HTTP {status}: {body}")
    }
}
