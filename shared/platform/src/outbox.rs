//! Putting an outbound message on its way: stored queued, then its job on the outbound FIFO
//! queue. Every sender (the API, campaigns, opt-out confirmations, the deferral releaser) goes
//! through here, so a message is always stored before it is queued and queued at most once.

use crate::queue::{Queue, QueueError};
use switchboard_domain::jobs::OutboundJob;
use switchboard_domain::{ConversationId, MessageId, MessageStatus, TenantId};
use switchboard_store::{DeliveryError, NewOutboundMessage, Recorded, Store, StoreError};
use time::OffsetDateTime;

/// The message as it stands after [`submit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    /// `queued`, or for a message submitted before, what it is now.
    pub status: MessageStatus,
    /// False when the message existed already (a retry).
    pub new: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored, but not queued: the message is recorded failed so it does not sit queued
    /// forever. The caller should answer that it could not be sent.
    #[error("the message could not be queued: {0}")]
    Queue(#[from] QueueError),
}

/// What a message's record says when its job could not be queued.
pub const NOT_QUEUED_TITLE: &str = "Could not be queued";

/// Stores the message (a repeat of the same id is a no-op) and queues its job. A message
/// submitted before that is still waiting is queued again: the queue's deduplication id (the
/// message id) keeps the two jobs from both arriving within its five-minute window, and the
/// outbound function's send claim keeps any later one from sending twice.
pub async fn submit(
    store: &Store,
    queue: &Queue,
    tenant: &TenantId,
    message: &NewOutboundMessage,
    now: OffsetDateTime,
) -> Result<Submitted, SubmitError> {
    submit_for(store, queue, tenant, message, None, now).await
}

/// As [`submit`], for a message of a campaign (tagged and counted with it).
pub async fn submit_for(
    store: &Store,
    queue: &Queue,
    tenant: &TenantId,
    message: &NewOutboundMessage,
    campaign_id: Option<&str>,
    now: OffsetDateTime,
) -> Result<Submitted, SubmitError> {
    let recorded = store
        .create_outbound_message_for(tenant, message, campaign_id)
        .await?;
    let (conversation_id, new) = match recorded {
        Recorded::New {
            conversation_id, ..
        } => (conversation_id, true),
        Recorded::Duplicate {
            conversation_id, ..
        } => (conversation_id, false),
    };
    if !new {
        let stored = store
            .get_message(tenant, &message.message_id)
            .await?
            .ok_or(StoreError::NotFound { what: "message" })?;
        if !stored.status.awaiting_send() {
            return Ok(Submitted {
                message_id: message.message_id.clone(),
                conversation_id,
                status: stored.status,
                new,
            });
        }
    }
    enqueue(
        store,
        queue,
        tenant,
        &message.message_id,
        &message.to.storage_key(),
        now,
    )
    .await?;
    Ok(Submitted {
        message_id: message.message_id.clone(),
        conversation_id,
        status: MessageStatus::Queued,
        new,
    })
}

/// Queues the job of a stored message. On failure the message is recorded failed.
pub async fn enqueue(
    store: &Store,
    queue: &Queue,
    tenant: &TenantId,
    message_id: &MessageId,
    recipient_key: &str,
    now: OffsetDateTime,
) -> Result<(), SubmitError> {
    let job = OutboundJob {
        tenant_id: tenant.clone(),
        message_id: message_id.clone(),
    };
    let body = serde_json::to_string(&job).map_err(|e| StoreError::Encode(e.to_string()))?;
    let group = OutboundJob::group_id(tenant, recipient_key);
    // The deduplication id is the message id: a retried request does not queue it twice.
    if let Err(e) = queue.send_fifo(&body, &group, message_id.as_str()).await {
        let error = DeliveryError {
            code: 0,
            title: Some(NOT_QUEUED_TITLE.into()),
            details: None,
        };
        if let Err(mark) = store.mark_failed(tenant, message_id, &error, now).await {
            tracing::error!(error = %mark, "could not mark an unqueued message failed");
        }
        return Err(e.into());
    }
    Ok(())
}
