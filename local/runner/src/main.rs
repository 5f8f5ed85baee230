//! `switchboard-dev up` runs the platform locally; `switchboard-dev quarantine …` lists and
//! replays quarantined webhook bodies (against moto, or AWS with real credentials).

use anyhow::Context;
use clap::{Parser, Subcommand};
use switchboard_dev::{DevSettings, banner::banner, start};
use switchboard_platform::{aws, telemetry};

#[derive(Parser)]
#[command(name = "switchboard-dev", about = "Run Switchboard locally")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Provision moto from template.yaml, seed the demo tenant, serve everything.
    Up,
    /// List quarantined webhook bodies.
    QuarantineList,
    /// Replay one quarantined webhook body through the normal dedupe-and-enqueue path.
    QuarantineReplay { key: String },
    /// Check the AWS calls the end-to-end suite recorded against each function's policies in
    /// the template: fails on a call a role does not allow and on a grant no call used.
    IamCheck {
        #[arg(long, default_value = "target/aws-calls")]
        calls: std::path::PathBuf,
        #[arg(long, default_value = "template.yaml")]
        template: std::path::PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let cli = Cli::parse();
    if let Command::IamCheck { calls, template } = &cli.command {
        let findings = switchboard_dev::iam::check_template(template, calls)?;
        for f in &findings {
            println!("{f}");
        }
        if !findings.is_empty() {
            eprintln!(
                "IAM: {} findings: {} and the code disagree",
                findings.len(),
                template.display()
            );
            std::process::exit(1);
        }
        println!("IAM: every recorded AWS call is allowed and every granted action is used");
        return Ok(());
    }
    let settings = DevSettings::from_env()?;
    let sdk = aws::load_sdk_config().await;
    match cli.command {
        Command::Up => {
            let stack = start(settings, sdk).await?;
            println!("{}", banner(&stack));
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
        }
        Command::QuarantineList | Command::QuarantineReplay { .. } => {
            let settings = DevSettings {
                sandbox_addr: None,
                http_addr: "127.0.0.1:0".into(),
                ..settings
            };
            let stack = start(settings, sdk.clone()).await?;
            let config = stack.function_config(
                stack
                    .provisioned
                    .function_binaries
                    .iter()
                    .find(|(_, b)| b.as_str() == "webhook")
                    .map(|(id, _)| id.as_str())
                    .context("no webhook function in template.yaml")?,
            )?;
            let state = switchboard_webhook::init(&config, &sdk).await?;
            match cli.command {
                Command::QuarantineReplay { key } => {
                    let outcome = switchboard_webhook::replay_quarantined(&state, &key).await?;
                    println!(
                        "replayed {key}: {} events, {} enqueued, {} duplicates",
                        outcome.events, outcome.accepted.enqueued, outcome.accepted.duplicates
                    );
                }
                _ => {
                    for key in state.quarantine.list(1000).await? {
                        println!("{key}");
                    }
                }
            }
        }
        Command::IamCheck { .. } => {}
    }
    Ok(())
}
