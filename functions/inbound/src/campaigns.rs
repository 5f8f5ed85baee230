//! Campaign dispatch: one job per chunk of recipients. A chunk's recipients become ordinary
//! outbound messages (each meets the policy gate and the number's send pace in the outbound
//! function); then the next chunk is scheduled so that the campaign is queued at the number's
//! rate, not all at once: the outbound queue stays short and a 10,000-recipient campaign does
//! not crowd out the number's replies.
//!
//! A chunk is claimed with the idempotency primitive before it is dispatched and completed
//! only after the next chunk's job is on the queue, so a redelivered job neither dispatches
//! twice nor lets the chain stop; the messages' ids derive from campaign and recipient, so even
//! a second dispatch after an expired claim meets them already stored.

use crate::InboundState;

use switchboard_domain::jobs::InboundJob;
use switchboard_domain::throughput::STANDARD_MESSAGES_PER_SECOND;
use switchboard_domain::{MessageId, TenantId};
use switchboard_meta::graph::{MessageContent, OutboundMessage};
use switchboard_platform::outbox::{self, SubmitError};
use switchboard_platform::queue::MAX_DELAY_SECONDS;
use switchboard_store::{
    Begin, CAMPAIGN_CHUNK_SIZE, CampaignRecipient, CampaignRecord, IdempotencyKey,
    NewOutboundMessage, StoreError,
};
use time::OffsetDateTime;

/// Longer than any chunk takes (100 messages stored and queued), shorter than the queue's
/// visibility timeout, so a redelivery after a crash finds the claim expired.
const CHUNK_LEASE: time::Duration = time::Duration::seconds(120);
/// Recipients stored and queued concurrently within a chunk.
const RECIPIENTS_AT_ONCE: usize = 8;
const REMEMBER_CHUNK_FOR: time::Duration = time::Duration::days(40);

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not queue: {0}")]
    Queue(String),
    #[error("chunk {0} is being dispatched by another delivery")]
    InProgress(u32),
    #[error("this function has no queue of its own to schedule the next chunk on")]
    NoJobQueue,
}

/// The message id of a campaign's recipient: the same recipient of the same campaign is
/// always the same message.
pub fn campaign_message_id(tenant: &TenantId, campaign_id: &str, recipient: &str) -> MessageId {
    MessageId::for_idempotency_key(tenant, &format!("campaign:{campaign_id}"), recipient)
}

/// Seconds from `now` until chunk `next` is due: chunks start `CAMPAIGN_CHUNK_SIZE / rate`
/// seconds apart from the campaign's start, so the campaign keeps the number's pace even when
/// one chunk was late.
pub fn next_chunk_delay(
    started_at: OffsetDateTime,
    next: u32,
    messages_per_second: u32,
    now: OffsetDateTime,
) -> i32 {
    let rate = f64::from(messages_per_second.max(1));
    let offset = f64::from(next) * CAMPAIGN_CHUNK_SIZE as f64 / rate;
    let due = started_at + time::Duration::seconds_f64(offset);
    let wait = (due - now).as_seconds_f64().ceil();
    (wait.max(0.0) as i32).min(MAX_DELAY_SECONDS)
}

pub(crate) async fn dispatch_chunk(
    state: &InboundState,
    tenant: &TenantId,
    campaign_id: &str,
    chunk: u32,
) -> Result<(), DispatchError> {
    let jobs = state.jobs.as_ref().ok_or(DispatchError::NoJobQueue)?;
    let now = state.clock.now();
    let Some(campaign) = state.store.get_campaign(tenant, campaign_id).await? else {
        tracing::warn!("the campaign of this job does not exist (deleted?); nothing to do");
        return Ok(());
    };
    if campaign.cancelled_at.is_some() {
        tracing::info!(
            chunk,
            "the campaign is cancelled; the rest is not dispatched"
        );
        return Ok(());
    }
    if campaign.send_at > now {
        // Not yet: SQS holds a message at most 15 minutes, so a later campaign waits in
        // steps. Only the first chunk is ever scheduled ahead of the send time.
        let wait = (campaign.send_at - now).as_seconds_f64().ceil() as i32;
        return schedule(jobs, tenant, campaign_id, chunk, wait).await;
    }
    let key = IdempotencyKey::Tenant {
        tenant: tenant.clone(),
        scope: "campaign-chunk".into(),
        key: format!("{campaign_id}:{chunk}"),
    };
    let claims = state.store.idempotency();
    let lease = match claims.begin(&key, campaign_id, now, CHUNK_LEASE).await? {
        Begin::Started(lease) => lease,
        Begin::Completed { .. } => return Ok(()),
        Begin::InProgress { .. } => return Err(DispatchError::InProgress(chunk)),
    };
    let result = dispatch_claimed(state, jobs, tenant, &campaign, chunk, now).await;
    match result {
        Ok(()) => {
            claims
                .complete(&key, &lease, None, state.clock.now(), REMEMBER_CHUNK_FOR)
                .await?;
            Ok(())
        }
        Err(e) => {
            if let Err(release) = claims.release(&key, &lease).await {
                tracing::warn!(error = %release, "could not release the chunk claim; it expires by itself");
            }
            Err(e)
        }
    }
}

async fn dispatch_claimed(
    state: &InboundState,
    jobs: &switchboard_platform::queue::Queue,
    tenant: &TenantId,
    campaign: &CampaignRecord,
    chunk: u32,
    now: OffsetDateTime,
) -> Result<(), DispatchError> {
    let campaign = state
        .store
        .start_campaign(tenant, &campaign.id, now)
        .await?;
    if campaign.cancelled_at.is_some() {
        // Cancelled between the job's first read and its claim.
        return Ok(());
    }
    let recipients = state
        .store
        .campaign_chunk(tenant, &campaign.id, chunk)
        .await?
        .unwrap_or_default();
    let mut queued = 0usize;
    let mut refused = 0usize;
    for group in recipients.chunks(RECIPIENTS_AT_ONCE) {
        let outcomes = futures::future::join_all(
            group
                .iter()
                .map(|recipient| queue_recipient(state, tenant, &campaign, recipient, now)),
        )
        .await;
        for outcome in outcomes {
            match outcome? {
                true => queued += 1,
                false => refused += 1,
            }
        }
    }
    let next = chunk + 1;
    let last = next >= campaign.chunks;
    if !last {
        let rate = state
            .store
            .find_phone_route(&campaign.phone_number_id)
            .await?
            .and_then(|r| r.messages_per_second)
            .unwrap_or(STANDARD_MESSAGES_PER_SECOND);
        let started = campaign.started_at.unwrap_or(now);
        let delay = next_chunk_delay(started, next, rate, state.clock.now());
        schedule(jobs, tenant, &campaign.id, next, delay).await?;
    }
    state
        .store
        .record_chunk_dispatched(tenant, &campaign.id, chunk, last, state.clock.now())
        .await?;
    tracing::info!(queued, refused, last, "campaign chunk dispatched");
    Ok(())
}

/// Stores and queues one recipient's message; false when its parameters do not make a valid
/// template message (it is then recorded as failed, never sent).
async fn queue_recipient(
    state: &InboundState,
    tenant: &TenantId,
    campaign: &CampaignRecord,
    recipient: &CampaignRecipient,
    now: OffsetDateTime,
) -> Result<bool, DispatchError> {
    let mut template = serde_json::json!({
        "name": campaign.template_name,
        "language": {"code": campaign.template_language},
    });
    if let Some(components) = recipient
        .components
        .as_ref()
        .or(campaign.components.as_ref())
    {
        template["components"] = components.clone();
    }
    // The API validated every recipient's parameters; a record that fails here is skipped,
    // not retried forever.
    let content = match MessageContent::from_request("template", template) {
        Ok(content) => content,
        Err(e) => {
            tracing::warn!(field = %e.field, "a campaign recipient's template parameters are invalid");
            return Ok(false);
        }
    };
    let outbound = OutboundMessage::new(recipient.to.clone(), content);
    let message = NewOutboundMessage {
        message_id: campaign_message_id(tenant, &campaign.id, &recipient.to.storage_key()),
        phone_number_id: campaign.phone_number_id.clone(),
        to: recipient.to.clone(),
        message_type: "template".into(),
        text: None,
        body_json: serde_json::to_string(&outbound)
            .map_err(|e| DispatchError::Queue(e.to_string()))?,
        created_at: now,
    };
    match outbox::submit_for(
        &state.store,
        &state.outbound,
        tenant,
        &message,
        Some(&campaign.id),
        now,
    )
    .await
    {
        Ok(_) => Ok(true),
        Err(SubmitError::Store(e)) => Err(e.into()),
        Err(SubmitError::Queue(e)) => Err(DispatchError::Queue(e.to_string())),
    }
}

async fn schedule(
    jobs: &switchboard_platform::queue::Queue,
    tenant: &TenantId,
    campaign_id: &str,
    chunk: u32,
    delay_seconds: i32,
) -> Result<(), DispatchError> {
    let body = InboundJob::DispatchCampaign {
        tenant_id: tenant.clone(),
        campaign_id: campaign_id.to_owned(),
        chunk,
    }
    .to_body();
    jobs.send_delayed(&body, delay_seconds)
        .await
        .map_err(|e| DispatchError::Queue(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn chunks_follow_the_numbers_rate_from_the_start() {
        let start = datetime!(2026-12-01 10:00:00 UTC);
        // 100 per chunk at 80/s: chunk 4 is due 5 s after the start.
        assert_eq!(next_chunk_delay(start, 4, 80, start), 5);
        // A chunk that ran late does not push the later ones back.
        assert_eq!(
            next_chunk_delay(start, 4, 80, start + time::Duration::seconds(3)),
            2
        );
        assert_eq!(
            next_chunk_delay(start, 4, 80, start + time::Duration::seconds(9)),
            0
        );
        // At 20/s a 10,000-recipient campaign (100 chunks) is spread over 500 s.
        assert_eq!(next_chunk_delay(start, 99, 20, start), 495);
        // SQS's longest delay caps it; the job then waits again.
        assert_eq!(next_chunk_delay(start, 99, 1, start), MAX_DELAY_SECONDS);
    }

    #[test]
    fn a_recipient_is_one_message_per_campaign() {
        let t = TenantId::new("acme");
        let a = campaign_message_id(&t, "cmp_1", "wa:15551234567");
        assert_eq!(a, campaign_message_id(&t, "cmp_1", "wa:15551234567"));
        assert_ne!(a, campaign_message_id(&t, "cmp_2", "wa:15551234567"));
        assert_ne!(a, campaign_message_id(&t, "cmp_1", "wa:15551234568"));
    }
}
