//! `switchboard-dev up` runs the platform locally; `switchboard-dev ops '<json>'` runs one
//! command of the operations function against the local stack (what `aws lambda invoke` of
//! the deployed `OperationsFunction` does on AWS).

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
    /// Run one operations command against the local stack (`STACK_PREFIX`, provisioned if it
    /// is not), e.g. '{"op":"list_quarantine"}', '{"op":"replay_quarantine","key":"quarantine/…"}',
    /// '{"op":"replay_unrouted","phone_number_id":"…"}'. Prints the function's JSON answer;
    /// exits 1 when it is an error.
    Ops { command: String },
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
            let operator_key = stack.operator_key().await?;
            println!(
                "{}",
                banner(&stack, operator_key.as_ref().map(|k| k.expose()))
            );
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
        }
        Command::Ops { command } => {
            let payload: serde_json::Value =
                serde_json::from_str(&command).context("the command is not JSON")?;
            let state = switchboard_dev::stack::operations_for(&settings, &sdk).await?;
            let answer = switchboard_operations::handle(&state, payload).await;
            println!("{}", serde_json::to_string_pretty(&answer)?);
            if !answer.is_done() {
                std::process::exit(1);
            }
        }
        Command::IamCheck { .. } => {}
    }
    Ok(())
}
