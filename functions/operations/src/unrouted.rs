//! Unrouted events: the inbound function keeps an event whose phone number no tenant holds
//! (`Store::keep_unrouted`). Once the number is onboarded, this puts them back on the inbound
//! queue, oldest first, and the inbound function routes them like any other event.
//!
//! Order of steps, so that nothing is lost at any crash point: the route is checked first
//! (an event replayed for a number still unrouted would be kept again by the inbound
//! function, under the same record this would then delete); the events are enqueued; only then
//! are their records deleted. A crash in between leaves records whose events are already
//! queued, and the next replay enqueues them a second time, which the inbound function applies
//! once (every write there is conditional). The webhook's dedupe claims are not involved: they
//! completed when the events first arrived.

use crate::OperationsState;
use crate::command::{
    Command, DEFAULT_UNROUTED_REPLAY, ErrorKind, MAX_UNROUTED_REPLAY, OpError, UnroutedReplayed,
    limit,
};
use crate::quarantine::accept_error;
use futures::StreamExt;
use std::collections::BTreeSet;
use switchboard_domain::PhoneNumberId;
use switchboard_meta::webhook::WebhookEvent;
use switchboard_store::{StoreError, UnroutedEvent};
use switchboard_webhook::enqueue_events;

/// Record deletes in flight at once.
const DELETE_CONCURRENCY: usize = 10;

pub(crate) async fn replay(
    state: &OperationsState,
    phone_number_id: &str,
    requested: Option<u32>,
) -> Result<UnroutedReplayed, OpError> {
    let limit = limit(requested, DEFAULT_UNROUTED_REPLAY, MAX_UNROUTED_REPLAY)?;
    let page = i32::try_from(limit).unwrap_or(switchboard_store::MAX_PAGE_SIZE);
    let now = state.intake.clock.now();

    let tenant_id = routed_tenant(state, phone_number_id)
        .await?
        .ok_or_else(|| {
            OpError::new(
                ErrorKind::NotRouted,
                format!(
                    "no tenant holds {phone_number_id}: onboard it first \
                 (replayed now, its events would only be kept as unrouted again)"
                ),
                false,
            )
        })?;

    let kept = state
        .store
        .list_unrouted(phone_number_id, page, now)
        .await
        .map_err(store_error)?;
    let mut events = Vec::new();
    let mut replayed: Vec<&UnroutedEvent> = Vec::new();
    let mut undecodable = Vec::new();
    for record in &kept {
        match serde_json::from_str::<WebhookEvent>(&record.event_json) {
            Ok(event) => {
                events.push(event);
                replayed.push(record);
            }
            Err(_) => undecodable.push(record.event_key.clone()),
        }
    }

    // Nothing is deleted unless every event is queued.
    enqueue_events(&state.intake, &events)
        .await
        .map_err(accept_error)?;

    let deletes: Vec<Result<(), StoreError>> = futures::stream::iter(replayed.iter().map(|r| {
        state
            .store
            .delete_unrouted(&r.phone_number_id, &r.event_key)
    }))
    .buffer_unordered(DELETE_CONCURRENCY)
    .collect()
    .await;
    let not_deleted = deletes.iter().filter(|r| r.is_err()).count();
    let deleted = deletes.len() - not_deleted;

    let full_page = kept.len() >= limit as usize;
    let more = not_deleted > 0
        || (full_page && remain_besides(state, phone_number_id, &undecodable, now).await?);
    let next = more.then(|| Command::ReplayUnrouted {
        phone_number_id: phone_number_id.to_owned(),
        limit: requested,
    });

    tracing::info!(
        phone_number_id,
        tenant = %tenant_id,
        listed = kept.len(),
        enqueued = events.len(),
        deleted,
        not_deleted,
        undecodable = undecodable.len(),
        more,
        "unrouted events replayed"
    );
    Ok(UnroutedReplayed {
        phone_number_id: phone_number_id.to_owned(),
        tenant_id: tenant_id.to_string(),
        listed: kept.len(),
        enqueued: events.len(),
        deleted,
        not_deleted,
        undecodable,
        next,
    })
}

/// Who holds the route key now: a phone number id, or `waba:{waba_id}` for the WABA-level
/// events the inbound function keeps under the WABA.
async fn routed_tenant(
    state: &OperationsState,
    route_key: &str,
) -> Result<Option<switchboard_domain::TenantId>, OpError> {
    Ok(
        match route_key.strip_prefix(switchboard_store::WABA_ROUTE_KEY_PREFIX) {
            Some(waba_id) => state
                .store
                .find_waba_route(waba_id)
                .await
                .map_err(store_error)?
                .map(|r| r.tenant_id),
            None => state
                .store
                .find_phone_route(&PhoneNumberId::from(route_key))
                .await
                .map_err(store_error)?
                .map(|r| r.tenant_id),
        },
    )
}

/// Whether records other than the ones left in place (`left`) are still kept for the number.
async fn remain_besides(
    state: &OperationsState,
    phone_number_id: &str,
    left: &[String],
    now: time::OffsetDateTime,
) -> Result<bool, OpError> {
    let left: BTreeSet<&str> = left.iter().map(String::as_str).collect();
    let look = i32::try_from(left.len() + 1)
        .unwrap_or(i32::MAX)
        .min(switchboard_store::MAX_PAGE_SIZE);
    let remaining = state
        .store
        .list_unrouted(phone_number_id, look, now)
        .await
        .map_err(store_error)?;
    // Behind a full page of records left in place, more are not seen: those are reported as
    // undecodable, and need a look in the table anyway.
    Ok(remaining
        .iter()
        .any(|r| !left.contains(r.event_key.as_str())))
}

fn store_error(e: StoreError) -> OpError {
    let message = e.to_string();
    match e {
        StoreError::InvalidKey { .. } => OpError::invalid(message),
        e => {
            let retryable = e.is_retryable();
            OpError::new(ErrorKind::Aws, message, retryable)
        }
    }
}
