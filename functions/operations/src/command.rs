//! The commands an operator sends and the answers they get, as JSON.
//!
//! A command is an object tagged by `op`; unknown ops and unknown fields are refused, so a typo
//! never runs something else. Every answer is JSON too: an outcome tagged by the same `op`, or
//! `{"op": …, "error": {"kind": …, "message": …, "retryable": …}}`. Errors are answers, never
//! function errors: `aws lambda invoke` shows them in the output file.

use serde::{Deserialize, Serialize};

/// Most quarantined keys one listing returns.
pub const MAX_QUARANTINE_LIST: u32 = 500;
pub const DEFAULT_QUARANTINE_LIST: u32 = 100;
/// Most unrouted events one replay handles (one page of the store).
pub const MAX_UNROUTED_REPLAY: u32 = switchboard_store::MAX_PAGE_SIZE as u32;
pub const DEFAULT_UNROUTED_REPLAY: u32 = MAX_UNROUTED_REPLAY;
/// Most dead letters one listing shows (one SQS receive).
pub const MAX_DEAD_LETTER_LIST: u32 = 10;
/// Most dead letters one redrive moves.
pub const MAX_DEAD_LETTER_REDRIVE: u32 = 500;
pub const DEFAULT_DEAD_LETTER_REDRIVE: u32 = 100;

/// The queues whose dead letters an operator can list and redrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterQueue {
    Inbound,
    Outbound,
    Media,
}

impl DeadLetterQueue {
    pub fn name(self) -> &'static str {
        match self {
            DeadLetterQueue::Inbound => "inbound",
            DeadLetterQueue::Outbound => "outbound",
            DeadLetterQueue::Media => "media",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// The quarantined webhook bodies, oldest first (keys sort by arrival).
    /// `{"op":"list_quarantine","limit":100}`
    ListQuarantine {
        /// 1 to [`MAX_QUARANTINE_LIST`]; [`DEFAULT_QUARANTINE_LIST`] when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Feeds one quarantined body through the webhook's dedupe-and-enqueue path, then removes
    /// it. `{"op":"replay_quarantine","key":"quarantine/2026/11/01/…json"}`
    ReplayQuarantine { key: String },
    /// Enqueues the events kept for a phone number no tenant had when they arrived, oldest
    /// first, for the inbound function to route now; each record is deleted once its event is
    /// queued. `{"op":"replay_unrouted","phone_number_id":"106540352242922","limit":100}`
    ReplayUnrouted {
        phone_number_id: String,
        /// 1 to [`MAX_UNROUTED_REPLAY`]; [`DEFAULT_UNROUTED_REPLAY`] when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// The records a queue's consumer gave up on, with the reason it recorded (a record SQS
    /// moved itself, after a crash or timeout, has none); bodies are not shown.
    /// `{"op":"list_dead_letters","queue":"outbound"}`
    ListDeadLetters {
        queue: DeadLetterQueue,
        /// 1 to [`MAX_DEAD_LETTER_LIST`]; the most when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Moves dead letters back to their queue, oldest first, once the cause is fixed; each is
    /// deleted from the dead-letter queue once it is queued again. The consumers apply a
    /// record once however often it arrives. `{"op":"redrive_dead_letters","queue":"outbound"}`
    RedriveDeadLetters {
        queue: DeadLetterQueue,
        /// 1 to [`MAX_DEAD_LETTER_REDRIVE`]; [`DEFAULT_DEAD_LETTER_REDRIVE`] when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
}

impl Command {
    pub fn op(&self) -> &'static str {
        match self {
            Command::ListQuarantine { .. } => "list_quarantine",
            Command::ReplayQuarantine { .. } => "replay_quarantine",
            Command::ReplayUnrouted { .. } => "replay_unrouted",
            Command::ListDeadLetters { .. } => "list_dead_letters",
            Command::RedriveDeadLetters { .. } => "redrive_dead_letters",
        }
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Outcome {
    ListQuarantine(QuarantineListing),
    ReplayQuarantine(QuarantineReplayed),
    ReplayUnrouted(UnroutedReplayed),
    ListDeadLetters(DeadLetterListing),
    RedriveDeadLetters(DeadLettersRedriven),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetterListing {
    pub queue: DeadLetterQueue,
    pub dead_letters: Vec<DeadLetter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    /// The record's id on its own queue, when its consumer kept it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_message_id: Option<String>,
    /// Why its consumer gave up; none when SQS moved it (the consumer crashed or timed out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Receives on its own queue before it was given up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receives: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<String>,
    pub body_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLettersRedriven {
    pub queue: DeadLetterQueue,
    /// Queued again and deleted from the dead-letter queue.
    pub redriven: usize,
    /// Queued again, but the delete failed: redriven again next time (harmless).
    pub not_deleted: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineListing {
    pub keys: Vec<String>,
    /// More bodies are quarantined than listed. Replayed bodies leave the quarantine, so the
    /// next listing shows the ones after them.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineReplayed {
    pub key: String,
    /// Events the body splits into.
    pub events: usize,
    /// Put on the inbound queue by this replay.
    pub enqueued: usize,
    /// Already queued by an earlier delivery or replay: not enqueued again.
    pub duplicates: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnroutedReplayed {
    pub phone_number_id: String,
    /// The tenant that holds the number now, whose conversations the events reach.
    pub tenant_id: String,
    /// Unrouted records read (at most the limit).
    pub listed: usize,
    /// Events put on the inbound queue.
    pub enqueued: usize,
    /// Records deleted after their event was queued.
    pub deleted: usize,
    /// Records whose event was queued but whose delete failed: they stay, and the next replay
    /// enqueues them again (harmless: the inbound function applies an event once).
    pub not_deleted: usize,
    /// Event keys of records that do not decode as a webhook event: left in place.
    pub undecodable: Vec<String>,
    /// More records remain: send this command to continue.
    pub next: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not a command: unknown op or field, a missing field, a limit out of range, a key outside
    /// the quarantine, a phone number id that cannot be a key.
    InvalidCommand,
    /// No quarantined body under the key (never stored, already replayed, or expired).
    NotFound,
    /// The quarantined body still fails to parse: fix the parser, deploy, replay again.
    StillUnparseable,
    /// Some of the body's events are claimed by a delivery that has not queued them yet.
    InProgress,
    /// No tenant holds the phone number: onboard it first. Replaying now would only keep the
    /// events as unrouted again.
    NotRouted,
    /// An AWS call failed (DynamoDB, SQS, S3); nothing that was not done is reported done.
    Aws,
    /// Something that retrying will not fix.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    pub kind: ErrorKind,
    pub message: String,
    /// Whether the same command may succeed when sent again.
    pub retryable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The command's op, when the payload named a known one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<&'static str>,
    pub error: ErrorBody,
}

/// What the function returns for every invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Done(Outcome),
    Failed(Failure),
}

impl Answer {
    pub fn is_done(&self) -> bool {
        matches!(self, Answer::Done(_))
    }
}

/// An error on its way to becoming an [`Answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpError {
    pub kind: ErrorKind,
    pub message: String,
    pub retryable: bool,
}

impl OpError {
    pub fn new(kind: ErrorKind, message: impl Into<String>, retryable: bool) -> Self {
        Self {
            kind,
            message: message.into(),
            retryable,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidCommand, message, false)
    }
}

/// `limit` checked against `1..=max`, `default` when absent. Out of range is refused rather
/// than clamped, as the API does: the operator learns the bound.
pub(crate) fn limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, OpError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(OpError::invalid(format!(
            "limit {n} is out of range: 1 to {max}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_decode_by_op_and_refuse_anything_else() {
        let c: Command = serde_json::from_value(json!({"op": "list_quarantine"})).expect("list");
        assert_eq!(c, Command::ListQuarantine { limit: None });
        let c: Command = serde_json::from_value(
            json!({"op": "replay_unrouted", "phone_number_id": "106", "limit": 5}),
        )
        .expect("unrouted");
        assert_eq!(
            c,
            Command::ReplayUnrouted {
                phone_number_id: "106".into(),
                limit: Some(5)
            }
        );
        for bad in [
            json!({"op": "drop_table"}),
            json!({"op": "replay_quarantine"}),
            json!({"op": "replay_quarantine", "key": "quarantine/x", "force": true}),
            json!({"op": "list_quarantine", "limit": -1}),
            json!({"key": "quarantine/x"}),
            json!("list_quarantine"),
        ] {
            assert!(
                serde_json::from_value::<Command>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_next_command_round_trips() {
        let next = Command::ReplayUnrouted {
            phone_number_id: "106".into(),
            limit: Some(2),
        };
        let text = serde_json::to_value(&next).expect("json");
        assert_eq!(
            text,
            json!({"op": "replay_unrouted", "phone_number_id": "106", "limit": 2})
        );
        assert_eq!(serde_json::from_value::<Command>(text).expect("back"), next);
    }

    #[test]
    fn answers_are_tagged_by_op_or_carry_an_error() {
        let done = Answer::Done(Outcome::ListQuarantine(QuarantineListing {
            keys: vec!["quarantine/a".into()],
            more: false,
        }));
        assert_eq!(
            serde_json::to_value(&done).expect("json"),
            json!({"op": "list_quarantine", "keys": ["quarantine/a"], "more": false})
        );
        let failed = Answer::Failed(Failure {
            op: Some("replay_quarantine"),
            error: ErrorBody {
                kind: ErrorKind::NotFound,
                message: "gone".into(),
                retryable: false,
            },
        });
        assert_eq!(
            serde_json::to_value(&failed).expect("json"),
            json!({"op": "replay_quarantine", "error": {"kind": "not_found", "message": "gone", "retryable": false}})
        );
    }

    #[test]
    fn limits_are_checked_not_clamped() {
        assert_eq!(limit(None, 100, 500), Ok(100));
        assert_eq!(limit(Some(500), 100, 500), Ok(500));
        assert!(limit(Some(0), 100, 500).is_err());
        assert!(limit(Some(501), 100, 500).is_err());
    }
}
