//! One outbound job: load, gate, send exactly once, record.

use crate::OutboundState;
use std::time::Duration;
use switchboard_domain::jobs::OutboundJob;
use switchboard_domain::policy::{OutboundIntent, PolicyDecision};
use switchboard_domain::{MessageStatus, Wamid};
use switchboard_meta::graph::{ErrorClass, OutboundMessage};
use switchboard_store::{Begin, DeliveryError, IdempotencyKey, MessageRecord, StoreError};
use time::Duration as TimeDuration;

/// Longer than a Graph call can take (client timeout plus retries), so a live send is never
/// taken over by a redelivery.
const SEND_CLAIM_FOR: TimeDuration = TimeDuration::minutes(2);
const REMEMBER_SEND_FOR: TimeDuration = TimeDuration::days(7);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent {
        wamid: String,
    },
    /// Sent by an earlier delivery of this job; its record was completed.
    AlreadySent,
    Failed {
        code: i64,
    },
    Denied {
        reason: String,
    },
    /// The message is gone or no longer queued.
    Skipped,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("retryable: {reason}")]
    Retryable {
        reason: String,
        after: Option<Duration>,
    },
    #[error(transparent)]
    Internal(#[from] StoreError),
}

fn send_key(job: &OutboundJob) -> IdempotencyKey {
    IdempotencyKey::Tenant {
        tenant: job.tenant_id.clone(),
        scope: "send".into(),
        key: job.message_id.to_string(),
    }
}

pub async fn send_job(state: &OutboundState, job: &OutboundJob) -> Result<SendOutcome, SendError> {
    let tenant = &job.tenant_id;
    let Some(message) = state.store.get_message(tenant, &job.message_id).await? else {
        tracing::error!("outbound job for a message that does not exist");
        return Ok(SendOutcome::Skipped);
    };
    let key = send_key(job);
    let now = state.clock.now();
    match state.sends.begin(&key, now, SEND_CLAIM_FOR).await? {
        Begin::Started => {}
        Begin::Completed { response } => {
            // The send happened; recording it may not have. Recording is idempotent.
            if let Some(wamid) = response.filter(|r| r.starts_with("wamid.")) {
                state
                    .store
                    .mark_sent(tenant, &job.message_id, &Wamid::new(wamid), now)
                    .await?;
            }
            return Ok(SendOutcome::AlreadySent);
        }
        Begin::InProgress => {
            return Err(SendError::Retryable {
                reason: "another delivery of this job is sending it".into(),
                after: None,
            });
        }
    }
    if message.status != MessageStatus::Queued {
        state
            .sends
            .complete(&key, None, now, REMEMBER_SEND_FOR)
            .await?;
        return Ok(SendOutcome::Skipped);
    }

    match gate_and_send(state, job, &message).await {
        Ok(Sent(wamid)) => {
            // Completing the claim first: once it holds the wamid, no redelivery sends again.
            state
                .sends
                .complete(&key, Some(&wamid), state.clock.now(), REMEMBER_SEND_FOR)
                .await?;
            state
                .store
                .mark_sent(
                    tenant,
                    &job.message_id,
                    &Wamid::new(wamid.clone()),
                    state.clock.now(),
                )
                .await?;
            Ok(SendOutcome::Sent { wamid })
        }
        Ok(NotSent(error, outcome)) => {
            state
                .store
                .mark_failed(tenant, &job.message_id, &error, state.clock.now())
                .await?;
            state
                .sends
                .complete(&key, None, state.clock.now(), REMEMBER_SEND_FOR)
                .await?;
            Ok(outcome)
        }
        Err(retry) => {
            // Nothing reached Meta: the next delivery may claim and send again.
            if let Err(e) = state.sends.release(&key).await {
                tracing::warn!(error = %e, "could not release the send claim; it expires by itself");
            }
            Err(retry)
        }
    }
}

enum Attempt {
    Sent(String),
    NotSent(DeliveryError, SendOutcome),
}
use Attempt::{NotSent, Sent};

async fn gate_and_send(
    state: &OutboundState,
    job: &OutboundJob,
    message: &MessageRecord,
) -> Result<Attempt, SendError> {
    let decision = state.policy.check(&OutboundIntent {
        tenant: &job.tenant_id,
        recipient: &message.contact,
        message_type: &message.message_type,
    });
    if let PolicyDecision::Deny { reason } = decision {
        tracing::info!(%reason, "policy denied the message");
        return Ok(NotSent(
            DeliveryError {
                code: 0,
                title: Some("Blocked by policy".into()),
                details: Some(reason.clone()),
            },
            SendOutcome::Denied { reason },
        ));
    }
    let Some(body) = message.text.clone() else {
        return Ok(NotSent(
            DeliveryError {
                code: 0,
                title: Some("Unsupported message".into()),
                details: Some(format!(
                    "message type {} cannot be sent yet",
                    message.message_type
                )),
            },
            SendOutcome::Failed { code: 0 },
        ));
    };
    let outbound = OutboundMessage::Text {
        to: message.contact.clone(),
        body,
        preview_url: false,
        reply_to: None,
    };
    match state
        .graph
        .send_message(
            &state.access_token,
            message.phone_number_id.as_str(),
            &outbound,
        )
        .await
    {
        Ok(accepted) => Ok(Sent(accepted.wamid)),
        Err(e) => match e.class() {
            ErrorClass::Retryable { after } => Err(SendError::Retryable {
                reason: e.to_string(),
                after,
            }),
            ErrorClass::Permanent => {
                let code = e.code().unwrap_or(0);
                tracing::warn!(error = %e, code, "send failed permanently");
                Ok(NotSent(
                    DeliveryError {
                        code,
                        title: Some(e.to_string()),
                        details: None,
                    },
                    SendOutcome::Failed { code },
                ))
            }
        },
    }
}
