//! Operations of the deployed stack, run by an operator who invokes this function directly
//! with their IAM credentials (it has no trigger):
//!
//! ```sh
//! aws lambda invoke --function-name <OperationsFunctionName> \
//!   --cli-binary-format raw-in-base64-out --payload '{"op":"list_quarantine"}' out.json
//! ```
//!
//! - `list_quarantine`: the webhook bodies that verified but did not parse.
//! - `replay_quarantine`: one of them, through the webhook's dedupe-and-enqueue path
//!   (`switchboard_webhook::replay_from_quarantine`), once a fixed parser accepts it.
//! - `replay_unrouted`: the events kept for a phone number no tenant had, enqueued again for
//!   the inbound function now that the number is onboarded.
//!
//! - `list_dead_letters`, `redrive_dead_letters`: the records a consumer gave up on, with
//!   the reason it recorded, and moving them back to their queue once the cause is fixed.
//!
//! The commands and answers are in [`command`]. Nothing here needs the Meta secret: a
//! quarantined body was signature-checked when it arrived, and only the webhook writes there.
//! Logs carry the op, keys and counts, never message content or customer numbers.

pub mod command;
mod dead_letters;
mod init;
mod quarantine;
mod unrouted;

pub use command::{Answer, Command, ErrorKind, Failure, OpError, Outcome};
pub use init::init;

use command::ErrorBody;
use serde_json::Value;
use switchboard_platform::blob::Quarantine;
use switchboard_store::Store;
use switchboard_webhook::EventIntake;
use tracing::Instrument;

pub struct OperationsState {
    /// The webhook's intake: dedupe claims, inbound queue, oversize-event store, clock.
    pub intake: EventIntake,
    pub quarantine: Quarantine,
    /// Unrouted events and phone routes.
    pub store: Store,
    pub sqs: aws_sdk_sqs::Client,
    /// Each dead-letter queue and the queue its records go back to, by queue name.
    pub dead_letters: std::collections::BTreeMap<&'static str, (String, String)>,
}

/// One invocation: decodes the payload as a [`Command`] and runs it. Never fails: every
/// error is an [`Answer::Failed`].
pub async fn handle(state: &OperationsState, payload: Value) -> Answer {
    let op = payload.get("op").and_then(Value::as_str).and_then(known_op);
    match serde_json::from_value::<Command>(payload) {
        Ok(command) => run(state, command).await,
        Err(e) => {
            tracing::warn!(
                op = op.unwrap_or("unknown"),
                "operations payload is not a command"
            );
            failed(op, OpError::invalid(format!("not a command: {e}")))
        }
    }
}

pub async fn run(state: &OperationsState, command: Command) -> Answer {
    let op = command.op();
    async move {
        // Boxed: the SDK futures nest deep enough to overflow the compiler's layout limit.
        let result = match command {
            Command::ListQuarantine { limit } => Box::pin(quarantine::list(state, limit))
                .await
                .map(Outcome::ListQuarantine),
            Command::ReplayQuarantine { key } => Box::pin(quarantine::replay(state, &key))
                .await
                .map(Outcome::ReplayQuarantine),
            Command::ReplayUnrouted {
                phone_number_id,
                limit,
            } => Box::pin(unrouted::replay(state, &phone_number_id, limit))
                .await
                .map(Outcome::ReplayUnrouted),
            Command::ListDeadLetters { queue, limit } => {
                Box::pin(dead_letters::list(state, queue, limit))
                    .await
                    .map(Outcome::ListDeadLetters)
            }
            Command::RedriveDeadLetters { queue, limit } => {
                Box::pin(dead_letters::redrive(state, queue, limit))
                    .await
                    .map(Outcome::RedriveDeadLetters)
            }
        };
        match result {
            Ok(outcome) => Answer::Done(outcome),
            Err(e) => {
                // The kind only: messages may quote a body's parse error or an AWS answer.
                tracing::warn!(kind = ?e.kind, retryable = e.retryable, "operation failed");
                failed(Some(op), e)
            }
        }
    }
    .instrument(tracing::info_span!("operation", op))
    .await
}

fn failed(op: Option<&'static str>, e: OpError) -> Answer {
    Answer::Failed(Failure {
        op,
        error: ErrorBody {
            kind: e.kind,
            message: e.message,
            retryable: e.retryable,
        },
    })
}

fn known_op(op: &str) -> Option<&'static str> {
    [
        "list_quarantine",
        "replay_quarantine",
        "replay_unrouted",
        "list_dead_letters",
        "redrive_dead_letters",
    ]
    .into_iter()
    .find(|known| *known == op)
}
