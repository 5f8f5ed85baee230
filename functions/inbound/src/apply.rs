//! One webhook event → the store.

use crate::InboundState;
use crate::routing::Freshness;
use switchboard_domain::{Direction, MessageId, PhoneNumberId, TenantId, Wamid};
use switchboard_meta::webhook::{EventPayload, InboundMessage, StatusUpdate, WebhookEvent};
use switchboard_store::{
    DeliveryError, NewInboundMessage, Recorded, StatusApplied, StatusChange, StoreError,
};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    MessageRecorded {
        duplicate: bool,
    },
    Status(StatusApplied),
    /// Kept as a tenant event: non-message changes, statuses we do not track, messages
    /// without a sender.
    KeptRaw,
    /// No tenant owns the phone number (yet): kept to replay once one does.
    Unrouted,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not encode event: {0}")]
    Encode(#[from] serde_json::Error),
    /// A follow-up job (the media fetch) could not be queued: the event is retried.
    #[error("could not queue: {0}")]
    Queue(String),
}

impl ApplyError {
    pub fn is_retryable(&self) -> bool {
        match self {
            ApplyError::Store(e) => e.is_retryable(),
            ApplyError::Encode(_) => false,
            ApplyError::Queue(_) => true,
        }
    }
}

pub async fn apply_event(
    state: &InboundState,
    event: &WebhookEvent,
) -> Result<Applied, ApplyError> {
    let now = state.clock.now();
    // Template, account and other WABA-level changes carry no phone number: they go to the
    // tenant that connected the WABA, and are kept under the WABA until one has.
    let route_key = event
        .phone_number_id
        .clone()
        .unwrap_or_else(|| switchboard_store::waba_route_key(&event.waba_id));
    let route = match &event.phone_number_id {
        // Customer content is routed by who holds the number now, never by a cached route.
        Some(pnid) => {
            let freshness = Freshness::for_payload(&event.payload);
            state
                .routes
                .find(pnid, freshness, now)
                .await?
                .map(|r| Routed {
                    tenant_id: r.tenant_id,
                    phone_number_id: Some(r.phone_number_id),
                })
        }
        None => state
            .store
            .find_waba_route(&event.waba_id)
            .await?
            .map(|r| Routed {
                tenant_id: r.tenant_id,
                phone_number_id: None,
            }),
    };
    let Some(route) = route else {
        let json = serde_json::to_string(event)?;
        state
            .store
            .keep_unrouted(&route_key, &event.key, &json, now)
            .await?;
        tracing::warn!(phone_number_id = %route_key, key = %event.key, "event for an unknown phone number kept");
        return Ok(Applied::Unrouted);
    };
    let tenant = &route.tenant_id;
    let span = tracing::Span::current();
    span.record("tenant", tenant.as_str());

    match (&event.payload, &route.phone_number_id) {
        (EventPayload::Message { contact, message }, Some(pnid)) => {
            record_message(state, tenant, pnid, contact.as_ref(), message, event, now).await
        }
        (EventPayload::Status(status), Some(_)) => {
            apply_status(state, tenant, status, event, now).await
        }
        (EventPayload::Other { value }, _) => {
            state
                .store
                .record_tenant_event(tenant, &event.key, &event.field, value.get(), now)
                .await?;
            if event.field == "user_preferences" {
                crate::consent::apply_preferences(state, tenant, value.get(), now).await?;
            }
            crate::templates::apply_update(state, tenant, event, value.get(), now).await?;
            Ok(Applied::KeptRaw)
        }
        // A message or status always names its number; kept raw should one ever not.
        (EventPayload::Message { .. } | EventPayload::Status(_), None) => {
            let json = serde_json::to_string(event)?;
            state
                .store
                .record_tenant_event(tenant, &event.key, &event.field, &json, now)
                .await?;
            Ok(Applied::KeptRaw)
        }
    }
}

/// The tenant an event belongs to, and the number it came through (none for WABA-level
/// events).
struct Routed {
    tenant_id: TenantId,
    phone_number_id: Option<PhoneNumberId>,
}

async fn record_message(
    state: &InboundState,
    tenant: &TenantId,
    pnid: &PhoneNumberId,
    contact: Option<&switchboard_meta::webhook::Contact>,
    message: &InboundMessage,
    event: &WebhookEvent,
    now: OffsetDateTime,
) -> Result<Applied, ApplyError> {
    let Some(sender) = message.sender() else {
        let json = serde_json::to_string(event)?;
        state
            .store
            .record_tenant_event(tenant, &event.key, &event.field, &json, now)
            .await?;
        tracing::warn!(wamid = %message.id, "message without a sender kept raw");
        return Ok(Applied::KeptRaw);
    };
    let sent_at = OffsetDateTime::from_unix_timestamp(message.timestamp).unwrap_or(now);
    let recorded = state
        .store
        .record_inbound_message(
            tenant,
            &NewInboundMessage {
                phone_number_id: pnid.clone(),
                contact: sender.clone(),
                profile_name: contact.and_then(|c| c.profile_name.clone()),
                wamid: Wamid::new(message.id.clone()),
                sent_at,
                message_type: message.message_type.clone(),
                text: message.text_preview(),
                raw: message.raw.get().to_owned(),
                received_at: now,
            },
        )
        .await?;
    let duplicate = matches!(recorded, Recorded::Duplicate { .. });
    let (Recorded::New { message_id, .. } | Recorded::Duplicate { message_id, .. }) = &recorded;
    if let Some(job) = crate::media::media_job(tenant, pnid, message_id, message) {
        crate::media::queue_fetch(state, &job).await?;
    }
    // Also for a duplicate: a delivery that stored the message may have died before this.
    crate::consent::apply_keyword(state, tenant, pnid, &sender, message, sent_at).await?;
    tracing::info!(wamid = %message.id, duplicate, "inbound message recorded");
    Ok(Applied::MessageRecorded { duplicate })
}

async fn apply_status(
    state: &InboundState,
    tenant: &TenantId,
    status: &StatusUpdate,
    event: &WebhookEvent,
    now: OffsetDateTime,
) -> Result<Applied, ApplyError> {
    let Some(parsed) = status.parsed_status() else {
        state
            .store
            .record_tenant_event(tenant, &event.key, &event.field, status.raw.get(), now)
            .await?;
        return Ok(Applied::KeptRaw);
    };
    let change = StatusChange {
        wamid: Wamid::new(status.id.clone()),
        status: parsed,
        at: OffsetDateTime::from_unix_timestamp(status.timestamp).unwrap_or(now),
        error: status.errors.first().map(|e| DeliveryError {
            code: e.code,
            title: e.title.clone().or_else(|| e.message.clone()),
            details: e.details.clone(),
        }),
        pricing_json: status.pricing.as_ref().map(|p| p.get().to_owned()),
    };
    let applied = state.store.apply_status(tenant, &change).await?;
    if applied == StatusApplied::Pending {
        repair_unrecorded_send(state, tenant, status, &change.wamid, now).await?;
    }
    tracing::info!(wamid = %status.id, status = %parsed, ?applied, "status applied");
    Ok(Applied::Status(applied))
}

/// A status for a wamid we never recorded: the send went out but its answer was lost, or
/// recording it failed. The status carries our message id (`biz_opaque_callback_data`, set
/// by the outbound function); if that names an outbound message of this tenant with no wamid
/// yet, record the send now, which also applies the statuses kept for the wamid.
async fn repair_unrecorded_send(
    state: &InboundState,
    tenant: &TenantId,
    status: &StatusUpdate,
    wamid: &Wamid,
    now: OffsetDateTime,
) -> Result<(), ApplyError> {
    let Some(id) = status
        .biz_opaque_callback_data
        .as_deref()
        .filter(|d| d.starts_with("msg_") && d.len() <= 64)
    else {
        return Ok(());
    };
    let id = MessageId::new(id);
    let Some(message) = state.store.get_message(tenant, &id).await? else {
        return Ok(());
    };
    if message.direction != Direction::Outbound || message.wamid.is_some() {
        return Ok(());
    }
    match state.store.mark_sent(tenant, &id, wamid, now).await {
        Ok(()) => {
            tracing::warn!(message = %id, %wamid, "send recorded from its status webhook");
            Ok(())
        }
        // Recorded concurrently by the outbound function, under this or another wamid.
        Err(StoreError::MessageAlreadySent { .. } | StoreError::WamidConflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
