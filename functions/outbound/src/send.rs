//! One outbound job: load, gate, send at most once, record.
//!
//! The guarantee: a message is sent at most once, and exactly once unless Meta answers
//! nothing. The send claim is taken with a lease longer than the invocation; right before the
//! Graph call it is advanced to `sending` with a lease that outlives every redelivery of the
//! job (queue retention and DLQ redrive included). From then on no delivery of the job sends
//! again, whatever happens to this one. A send that Meta accepted but that we could not record
//! is repaired by its status webhooks, which carry our message id as
//! `biz_opaque_callback_data`.

use crate::OutboundState;
use std::time::Duration;
use switchboard_domain::compliance::{Decision, DenyReason};
use switchboard_domain::consent::OptOutSource;
use switchboard_domain::jobs::OutboundJob;
use switchboard_domain::outbound::OutboundPayload;
use switchboard_domain::throughput::{self, SendPace};
use switchboard_domain::{PhoneNumberId, TenantId, Wamid};
use switchboard_meta::graph::{ErrorClass, GraphError, OutboundMessage};
use switchboard_platform::business_token::business_token;
use switchboard_platform::metrics::Metrics;
use switchboard_platform::outbound_gate::{self as gate, decision_record};
use switchboard_store::{
    Begin, DecisionOutcome, DeliveryError, IdempotencyKey, Lease, Lookup, MessageAt, MessageRecord,
    PolicyDecisionRecord, SendSlot, StoreError, StoredOutbound,
};
use time::{Duration as TimeDuration, OffsetDateTime};

/// Longer than one invocation of the function may run (30 s): a live delivery is never taken
/// over before it reaches the Graph call.
pub const SEND_CLAIM_FOR: TimeDuration = TimeDuration::minutes(3);
/// From the Graph call on: longer than a job can come back (4 days on the queue, 14 in the
/// dead-letter queue, from which it may be redriven).
pub const SENDING_LEASE: TimeDuration = TimeDuration::days(15);
const REMEMBER_SEND_FOR: TimeDuration = TimeDuration::days(15);
/// Marketing sends older than this are dropped from a contact's record: longer than any
/// frequency-cap period a tenant may set (at most 90 days).
const MARKETING_SENDS_KEPT_FOR: TimeDuration = TimeDuration::days(91);
/// A `sending` claim older than this belongs to a delivery that has ended: the Graph client's
/// timeout plus the time recording may take, with margin.
pub const SENDING_ATTEMPT_MAX: TimeDuration = TimeDuration::seconds(60);
pub const STAGE_SENDING: &str = "sending";

/// Meta's answer when the number's throughput is exceeded.
const THROUGHPUT_REACHED: i64 = 130429;
/// How long every send of a number waits after Meta answered 130429.
const HOLD_ON_THROUGHPUT_REACHED: TimeDuration = TimeDuration::seconds(1);
/// The longest an invocation waits for a send slot; beyond it the job goes back to the queue.
const SLOT_WAIT_MAX: TimeDuration = TimeDuration::seconds(2);
/// A send Meta refused with a passing error is tried this often within one invocation.
const SEND_ATTEMPTS: u32 = 3;
const SEND_RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// Recording a send Meta accepted is retried within the invocation, this often.
const RECORD_ATTEMPTS: u32 = 4;
const RECORD_BACKOFF: Duration = Duration::from_millis(150);

/// The reason a cancelled campaign's message is refused with.
pub const CAMPAIGN_CANCELLED: &str = "campaign_cancelled";
/// What a message's record says when Meta gave no answer to its send.
pub const UNCONFIRMED_TITLE: &str = "Delivery unconfirmed";
/// What a message's record says when its phone number moved to another tenant before it was sent.
pub const NOT_OWNED_TITLE: &str = "Phone number no longer belongs to this account";
/// What a message's record says when its tenant is suspended pending review.
pub const SUSPENDED_TITLE: &str = "Account suspended";
/// What a message's record says when the tenant holds no Meta token for the number's WABA.
pub const NO_TOKEN_TITLE: &str = "WhatsApp channel not connected";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent {
        wamid: String,
    },
    /// Meta accepted it, but recording failed even after retries: its status webhooks will
    /// record it (they carry our message id).
    SentUnrecorded {
        wamid: String,
    },
    /// Sent by an earlier delivery of this job.
    AlreadySent,
    /// The Graph call got no answer: it may or may not have been sent, and it is not sent
    /// again. Recorded failed as unconfirmed; a status webhook corrects that if it went out.
    Unconfirmed,
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

/// A refusal for prohibited content counts toward holding the tenant's marketing for review
/// (P20): [`switchboard_store::PROHIBITED_REFUSALS_BEFORE_SUSPENSION`] of them in 24 hours
/// suspend it. A failure to count is logged and not retried: the refusal itself is recorded,
/// and retrying the job would not count it again.
async fn count_prohibited_refusal(state: &OutboundState, tenant: &TenantId, at: OffsetDateTime) {
    match state.store.count_prohibited_refusal(tenant, at).await {
        Ok(true) => {
            tracing::warn!("marketing suspended pending review after repeated prohibited content")
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "a prohibited-content refusal could not be counted"),
    }
}

fn send_key(job: &OutboundJob) -> IdempotencyKey {
    IdempotencyKey::Tenant {
        tenant: job.tenant_id.clone(),
        scope: "send".into(),
        key: job.message_id.to_string(),
    }
}

/// Each Graph call's time goes to `metrics` as [`SEND_LATENCY`](crate::SEND_LATENCY).
pub async fn send_job(
    state: &OutboundState,
    job: &OutboundJob,
    metrics: &mut Metrics,
) -> Result<SendOutcome, SendError> {
    let tenant = &job.tenant_id;
    // The message pointer is read once here; every later write of the job goes straight to
    // the message item it names.
    let Some(stored) = state
        .store
        .load_outbound_message(tenant, &job.message_id)
        .await?
    else {
        tracing::error!("outbound job for a message that does not exist");
        return Ok(SendOutcome::Skipped);
    };
    let message = &stored.record;
    let stored_at = &stored.at;
    let key = send_key(job);
    let now = state.clock.now();
    let lease = match state
        .sends
        .begin(&key, job.message_id.as_str(), now, SEND_CLAIM_FOR)
        .await?
    {
        Begin::Started(lease) => lease,
        Begin::Completed { response } => {
            // The send happened; recording it may not have. Recording is idempotent.
            if let Some(wamid) = response.filter(|r| r.starts_with("wamid.")) {
                state
                    .store
                    .mark_sent_at(tenant, stored_at, &Wamid::new(wamid), now, None)
                    .await?;
            }
            return Ok(SendOutcome::AlreadySent);
        }
        // Recorded already; only the claim's completion is missing or under way.
        Begin::InProgress { .. } if !message.status.awaiting_send() => {
            return Ok(SendOutcome::AlreadySent);
        }
        Begin::InProgress {
            stage: Some(stage),
            stage_at: Some(at),
            ..
        } if stage == STAGE_SENDING && now - at > SENDING_ATTEMPT_MAX => {
            // The delivery that called Meta ended without recording the outcome. Sending
            // again could deliver twice; the status webhooks will tell what happened.
            tracing::warn!("an earlier delivery's send has no recorded outcome; not sending again");
            state
                .store
                .mark_failed_at(tenant, stored_at, &unconfirmed(), now, None)
                .await?;
            return Ok(SendOutcome::Unconfirmed);
        }
        Begin::InProgress { .. } => {
            return Err(SendError::Retryable {
                reason: "another delivery of this job is sending it".into(),
                after: None,
            });
        }
    };
    if !message.status.awaiting_send() {
        state
            .sends
            .complete(&key, &lease, None, now, REMEMBER_SEND_FOR)
            .await?;
        return Ok(SendOutcome::Skipped);
    }

    // The policy's allow, once given: stored with the message's next write (its `sent` or
    // `failed`) rather than on its own, or on its own when the job goes back to the queue.
    let mut allowed = None;
    let attempt = gate_and_send(state, job, &key, &lease, &stored, &mut allowed, metrics).await;
    if let Some(record) = &allowed
        && matches!(attempt, Err(Refused::Retry(_) | Refused::Store(_)))
    {
        keep_allow(state, job, stored_at, record).await;
    }
    match attempt {
        Ok(Attempt::Sent(wamid)) => {
            Ok(record_sent(state, job, &key, &lease, stored_at, allowed.as_ref(), wamid).await)
        }
        Ok(Attempt::Decided(record)) => {
            // Denied by policy: recorded with its reason; never sent.
            let first = state
                .store
                .record_decision_at(tenant, stored_at, &record)
                .await?;
            // Counted once per message: a redelivery finds the decision already recorded.
            if first && record.reason.as_deref() == Some(DenyReason::ProhibitedContent.as_str()) {
                count_prohibited_refusal(state, tenant, record.at).await;
            }
            state
                .sends
                .complete(&key, &lease, None, state.clock.now(), REMEMBER_SEND_FOR)
                .await?;
            Ok(SendOutcome::Denied {
                reason: record.reason.unwrap_or_default(),
            })
        }
        Ok(Attempt::NotSent(error, outcome)) => {
            state
                .store
                .mark_failed_at(
                    tenant,
                    stored_at,
                    &error,
                    state.clock.now(),
                    allowed.as_ref(),
                )
                .await?;
            state
                .sends
                .complete(&key, &lease, None, state.clock.now(), REMEMBER_SEND_FOR)
                .await?;
            Ok(outcome)
        }
        Err(Refused::Defer(record, until)) => {
            // Not now: the job comes back at `until` and is decided again. It holds its
            // recipient's FIFO group meanwhile, so later messages to the customer keep order.
            if let Err(e) = state.sends.release(&key, &lease).await {
                tracing::warn!(error = %e, "could not release the send claim; it expires by itself");
            }
            state
                .store
                .record_decision_at(tenant, stored_at, &record)
                .await?;
            let wait = (until - state.clock.now()).max(TimeDuration::seconds(1));
            Err(SendError::Retryable {
                reason: format!(
                    "deferred by policy: {}",
                    record.reason.as_deref().unwrap_or_default()
                ),
                after: Some(Duration::from_secs(
                    u64::try_from(wait.whole_seconds()).unwrap_or(1),
                )),
            })
        }
        Err(Refused::Retry(retry)) => {
            // Meta said no, or the request never left: the next delivery may send.
            if let Err(e) = state.sends.release(&key, &lease).await {
                tracing::warn!(error = %e, "could not release the send claim; it expires by itself");
            }
            Err(retry)
        }
        Err(Refused::Store(e)) => {
            if let Err(e) = state.sends.release(&key, &lease).await {
                tracing::warn!(error = %e, "could not release the send claim; it expires by itself");
            }
            Err(e.into())
        }
    }
}

/// The policy allowed the message but it goes back to the queue unsent (its slots were taken,
/// Meta asked to wait, a store call failed): its allow is stored on its own, as the message's
/// latest decision, until the next delivery decides again. Not fatal: the job is retried
/// either way.
async fn keep_allow(
    state: &OutboundState,
    job: &OutboundJob,
    stored_at: &MessageAt,
    record: &PolicyDecisionRecord,
) {
    if let Err(e) = state
        .store
        .record_decision_at(&job.tenant_id, stored_at, record)
        .await
    {
        tracing::warn!(error = %e, "could not record the policy's allow");
    }
}

/// Records a send Meta accepted, with the policy's allow, retrying within the invocation. The
/// claim already says `sending`, so even when every attempt fails no delivery sends again.
async fn record_sent(
    state: &OutboundState,
    job: &OutboundJob,
    key: &IdempotencyKey,
    lease: &Lease,
    stored_at: &MessageAt,
    allowed: Option<&PolicyDecisionRecord>,
    wamid: String,
) -> SendOutcome {
    let tenant = &job.tenant_id;
    let mut completed = false;
    let mut marked = false;
    for attempt in 0..RECORD_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(RECORD_BACKOFF * attempt).await;
        }
        if !completed {
            match state
                .sends
                .complete(
                    key,
                    lease,
                    Some(&wamid),
                    state.clock.now(),
                    REMEMBER_SEND_FOR,
                )
                .await
            {
                Ok(()) => completed = true,
                Err(e) => tracing::warn!(error = %e, attempt, "could not complete the send claim"),
            }
        }
        if !marked {
            let at = state.clock.now();
            match state
                .store
                .mark_sent_at(tenant, stored_at, &Wamid::new(wamid.clone()), at, allowed)
                .await
            {
                Ok(()) => marked = true,
                Err(e) => tracing::warn!(error = %e, attempt, "could not record the send"),
            }
        }
        if completed && marked {
            return SendOutcome::Sent { wamid };
        }
    }
    // The wamid is the only trace of this send outside Meta: log it for the operator.
    tracing::error!(%wamid, completed, marked, "sent, but recording failed; status webhooks will record it");
    SendOutcome::SentUnrecorded { wamid }
}

pub(crate) enum Attempt {
    Sent(String),
    /// The compliance policy denied it.
    Decided(PolicyDecisionRecord),
    NotSent(DeliveryError, SendOutcome),
}

pub(crate) enum Refused {
    /// The compliance policy deferred it to this time.
    Defer(PolicyDecisionRecord, OffsetDateTime),
    Retry(SendError),
    Store(StoreError),
}

async fn gate_and_send(
    state: &OutboundState,
    job: &OutboundJob,
    key: &IdempotencyKey,
    lease: &Lease,
    stored: &StoredOutbound,
    allowed: &mut Option<PolicyDecisionRecord>,
    metrics: &mut Metrics,
) -> Result<Attempt, Refused> {
    let message = &stored.record;
    let payload = stored.payload.as_deref();
    let Some(outbound) = graph_message(message, payload) else {
        return Ok(Attempt::NotSent(
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

    // Everything the send decides on, read now, right before it, never taken from the API's
    // acceptance: the tenant (suspension, settings), the number's route (who holds it), the
    // campaign (cancelled?), the contact (consent, recent marketing) and the conversation
    // (the window). One request, strongly consistent, reads them all.
    let found = state
        .store
        .look_up(
            &job.tenant_id,
            &Lookup {
                phone_route: Some(&message.phone_number_id),
                campaign: message.campaign_id.as_deref(),
                ..gate::lookup(&message.contact, &message.conversation_id)
            },
        )
        .await
        .map_err(Refused::Store)?;

    // Nothing goes out for a tenant suspended pending review, whatever was queued before.
    if let Some(suspension) = found.tenant.as_ref().and_then(|t| t.suspension.clone()) {
        tracing::info!("the tenant is suspended; not sent");
        return Ok(Attempt::NotSent(
            DeliveryError {
                code: 0,
                title: Some(SUSPENDED_TITLE.into()),
                details: Some(suspension.reason.clone()),
            },
            SendOutcome::Denied {
                reason: suspension.reason,
            },
        ));
    }

    // The number may have moved to another tenant since the message was accepted: its route
    // was read above (strongly consistent, no cache), and a number the job's tenant no longer
    // holds never sends.
    let route = found
        .phone_route
        .as_ref()
        .filter(|route| route.tenant_id == job.tenant_id);
    let Some(route) = route else {
        tracing::warn!(phone_number_id = %message.phone_number_id, "the phone number no longer belongs to this tenant; not sent");
        let reason = format!(
            "phone number {} is no longer connected to this account",
            message.phone_number_id
        );
        return Ok(Attempt::NotSent(
            DeliveryError {
                code: 0,
                title: Some(NOT_OWNED_TITLE.into()),
                details: Some(reason.clone()),
            },
            SendOutcome::Denied { reason },
        ));
    };

    // A cancelled campaign's messages that have not gone yet never go (read above only for a
    // campaign's message).
    if let Some(at) = found.campaign.as_ref().and_then(|c| c.cancelled_at) {
        tracing::info!("the message's campaign is cancelled; not sent");
        return Ok(Attempt::Decided(PolicyDecisionRecord {
            outcome: DecisionOutcome::Deny,
            reason: Some(CAMPAIGN_CANCELLED.to_owned()),
            detail: Some(format!("the campaign was cancelled at {at}")),
            until: None,
            at: state.clock.now(),
        }));
    }

    // WhatsApp policy and the customer's consent, decided on what is stored right now.
    let now = state.clock.now();
    let gated = gate::check(
        &state.store,
        &job.tenant_id,
        &gate::Facts::of(&found),
        &route.waba_id,
        message,
        &outbound.content,
        now,
    )
    .await
    .map_err(Refused::Store)?;
    let record = decision_record(&gated.decision, now);
    match gated.decision {
        // Stored by the caller with the message's next write.
        Decision::Allow => *allowed = Some(record),
        Decision::Deny { reason, .. } => {
            tracing::info!(%reason, "policy denied the message");
            return Ok(Attempt::Decided(record));
        }
        Decision::Defer { until, reason } => {
            tracing::info!(%reason, %until, "policy deferred the message");
            return Err(Refused::Defer(record, until));
        }
    }

    // The tenant's own token for the number's WABA, from Embedded Signup.
    let token = match business_token(&state.store, &state.vault, &job.tenant_id, &route.waba_id)
        .await
    {
        Ok(Some(token)) => token,
        Ok(None) => {
            let reason = format!(
                "no WhatsApp Business token is connected for the WABA of phone number {}; connect the number again",
                message.phone_number_id
            );
            return Ok(Attempt::NotSent(
                DeliveryError {
                    code: 0,
                    title: Some(NO_TOKEN_TITLE.into()),
                    details: Some(reason.clone()),
                },
                SendOutcome::Denied { reason },
            ));
        }
        Err(e) if e.is_retryable() => {
            return Err(Refused::Retry(SendError::Retryable {
                reason: format!("the business token could not be opened: {e}"),
                after: None,
            }));
        }
        Err(e) => {
            tracing::error!(error = %e, "the business token does not open");
            return Ok(Attempt::NotSent(
                DeliveryError {
                    code: 0,
                    title: Some(NO_TOKEN_TITLE.into()),
                    details: Some(
                        "the stored business token cannot be opened; connect the number again"
                            .into(),
                    ),
                },
                SendOutcome::Failed { code: 0 },
            ));
        }
    };

    // One of the tenant's uploads goes by the Meta media id it is (or is now) uploaded as.
    let outbound = match crate::stored_media::resolve(state, job, &token, message, outbound).await?
    {
        Ok(outbound) => outbound,
        Err(not_sent) => return Ok(not_sent),
    };

    // Meta's throughput for the number, shared with every other sender of it.
    let pace = SendPace::new(
        route
            .messages_per_second
            .unwrap_or(throughput::STANDARD_MESSAGES_PER_SECOND),
    );
    wait_for_slot(state, job, &message.phone_number_id, pace).await?;

    // From here on the send may reach Meta: no redelivery may start another.
    state
        .sends
        .advance(key, lease, STAGE_SENDING, state.clock.now(), SENDING_LEASE)
        .await
        .map_err(Refused::Store)?;
    let mut attempt = 1;
    let sent = loop {
        let started = std::time::Instant::now();
        let sent = state
            .graph
            .send_tagged(
                &token,
                message.phone_number_id.as_str(),
                &outbound,
                Some(job.message_id.as_str()),
            )
            .await;
        metrics.milliseconds(crate::SEND_LATENCY, started.elapsed());
        let Err(e) = &sent else { break sent };
        if e.code() == Some(THROUGHPUT_REACHED) {
            // Meta counts more than we paced (another platform may send from the number too):
            // everything on the number waits, not only this message.
            let until = state.clock.now() + HOLD_ON_THROUGHPUT_REACHED;
            if let Err(e) = state
                .store
                .hold_sends(&job.tenant_id, &message.phone_number_id, pace, until)
                .await
            {
                tracing::warn!(error = %e, "could not hold the number's sends");
            }
        }
        if attempt >= SEND_ATTEMPTS || !retry_at_once(e) {
            break sent;
        }
        // Meta refused it outright, so it was not sent: trying again here cannot send twice.
        tokio::time::sleep(SEND_RETRY_BACKOFF * attempt).await;
        attempt += 1;
        wait_for_slot(state, job, &message.phone_number_id, pace).await?;
    };
    match sent {
        Ok(accepted) => {
            if gated.marketing {
                // Counted for the frequency cap; a failure here must not undo the send.
                let at = state.clock.now();
                if let Err(e) = state
                    .store
                    .record_marketing_send(
                        &job.tenant_id,
                        &message.contact,
                        at,
                        at - MARKETING_SENDS_KEPT_FOR,
                    )
                    .await
                {
                    tracing::warn!(error = %e, "could not count a marketing send");
                }
            }
            Ok(Attempt::Sent(accepted.wamid))
        }
        Err(e) if e.may_have_been_applied() => {
            tracing::warn!(error = %e, "the send got no answer; it is not retried");
            Ok(Attempt::NotSent(unconfirmed(), SendOutcome::Unconfirmed))
        }
        Err(e) => {
            learn_from_refusal(state, job, message, &e).await;
            classify_refusal(&e)
        }
    }
}

/// A refusal worth another attempt within this invocation: Meta-side trouble or the number's
/// throughput, which pass within a second. The pair rate limit (131056) waits its 6 seconds
/// on the queue instead, holding back only its recipient's message group.
fn retry_at_once(e: &GraphError) -> bool {
    match e.class() {
        ErrorClass::Retryable { after } => {
            !e.may_have_been_applied() && after.is_none_or(|wait| wait <= Duration::from_secs(1))
        }
        ErrorClass::Permanent => false,
    }
}

/// Waits for the number's next send slot, or hands the job back to the queue when the slots
/// are taken further ahead than an invocation should wait.
async fn wait_for_slot(
    state: &OutboundState,
    job: &OutboundJob,
    phone_number_id: &PhoneNumberId,
    pace: SendPace,
) -> Result<(), Refused> {
    let now = state.clock.now();
    let slot = state
        .store
        .reserve_send_slot(
            &job.tenant_id,
            phone_number_id,
            pace,
            spread_of(job.message_id.as_str()),
            now,
            SLOT_WAIT_MAX,
        )
        .await
        .map_err(Refused::Store)?;
    match slot {
        SendSlot::Granted { at } => {
            let wait = at - now;
            if wait.is_positive() {
                tokio::time::sleep(wait.unsigned_abs()).await;
            }
            Ok(())
        }
        SendSlot::Full { retry_at } => {
            let wait = (retry_at - now).max(TimeDuration::seconds(1));
            Err(Refused::Retry(SendError::Retryable {
                reason: "the number's send slots are taken for the next seconds".into(),
                after: Some(Duration::from_secs(
                    u64::try_from(wait.whole_seconds()).unwrap_or(1).max(1),
                )),
            }))
        }
    }
}

/// FNV-1a of the message id: spreads concurrent senders over a fast number's pace items.
fn spread_of(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Meta's refusals that say something about the customer, kept for the next decision: 131047
/// (the window closed) and 131050 (the customer stopped marketing messages).
async fn learn_from_refusal(
    state: &OutboundState,
    job: &OutboundJob,
    message: &MessageRecord,
    e: &GraphError,
) {
    let now = state.clock.now();
    let result = match e.code() {
        Some(131047) => {
            state
                .store
                .close_window(&job.tenant_id, &message.conversation_id, now)
                .await
        }
        Some(131050) => state
            .store
            .opt_out(
                &job.tenant_id,
                &message.contact,
                OptOutSource::MetaError,
                "meta",
                now,
            )
            .await
            .map(|_| ()),
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record what Meta's refusal tells");
    }
}

fn unconfirmed() -> DeliveryError {
    DeliveryError {
        code: 0,
        title: Some(UNCONFIRMED_TITLE.into()),
        details: Some(
            "the Graph API gave no answer; the message is not sent again so it cannot arrive twice; its status webhooks correct this record if it went out"
                .into(),
        ),
    }
}

pub(crate) fn classify_refusal(e: &GraphError) -> Result<Attempt, Refused> {
    match e.class() {
        ErrorClass::Retryable { after } => Err(Refused::Retry(SendError::Retryable {
            reason: e.to_string(),
            after,
        })),
        ErrorClass::Permanent => {
            let code = e.code().unwrap_or(0);
            tracing::warn!(error = %e, code, "send failed permanently");
            Ok(Attempt::NotSent(
                DeliveryError {
                    code,
                    title: Some(e.to_string()),
                    details: None,
                },
                SendOutcome::Failed { code },
            ))
        }
    }
}

/// The Graph request for the stored payload; messages stored before payloads were, as text.
fn graph_message(message: &MessageRecord, payload: Option<&str>) -> Option<OutboundMessage> {
    use switchboard_meta::graph::{MessageContent, Text};
    // Payloads are stored in Meta's shape; older records hold the domain's text form, and the
    // oldest no payload at all, only the text.
    // The API stores Meta's whole request body (with the reply context); the recipient is
    // always the message's own.
    if let Some(mut stored) = payload.and_then(|p| serde_json::from_str::<OutboundMessage>(p).ok())
    {
        stored.to = message.contact.clone();
        return Some(stored);
    }
    let content = match payload {
        Some(p) => match serde_json::from_str::<MessageContent>(p) {
            Ok(content) => Some(content),
            Err(_) => serde_json::from_str::<OutboundPayload>(p)
                .ok()
                .map(|legacy| match legacy {
                    OutboundPayload::Text { body, preview_url } => MessageContent::Text(Text {
                        body,
                        preview_url: Some(preview_url),
                    }),
                }),
        },
        None => None,
    };
    let content = match content {
        Some(content) => content,
        None => MessageContent::text(message.text.clone()?),
    };
    Some(OutboundMessage::new(message.contact.clone(), content))
}
