//! Applies the events kept for a number (or WABA) while no tenant held it, once one does: the
//! API puts an [`InboundJob::ReplayUnrouted`] on this queue when a channel is connected.
//!
//! Each kept event goes through [`apply_event`] like a fresh delivery, so it is routed by who
//! holds the number now; a record is deleted only after its event applied to a tenant. An
//! event that is still unrouted (the number was disconnected again in between) is kept as it
//! was. A crash between applying and deleting applies the event again on the next delivery,
//! which changes nothing: every write of `apply_event` is conditional.
//!
//! One delivery handles at most [`PAGES_PER_DELIVERY`] pages; when more remain, the job is
//! reported failed so SQS delivers it again after the visibility timeout and it goes on from
//! where it stopped (applied records are gone by then).

use crate::InboundState;
use crate::apply::{Applied, ApplyError, apply_event};
use switchboard_meta::webhook::WebhookEvent;

/// Kept events read per page.
const PAGE: i32 = 100;
/// Bounds one delivery well inside the function's timeout.
pub const PAGES_PER_DELIVERY: usize = 5;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replayed {
    pub applied: usize,
    /// Kept records that do not decode as events: left in place for an operator.
    pub undecodable: usize,
    /// Still no tenant for them: left in place.
    pub still_unrouted: usize,
    /// More records remain than this delivery handled.
    pub more: bool,
}

pub async fn replay_unrouted(
    state: &InboundState,
    route_key: &str,
) -> Result<Replayed, ApplyError> {
    let mut replayed = Replayed::default();
    let mut skipped: Vec<String> = Vec::new();
    for _ in 0..PAGES_PER_DELIVERY {
        let now = state.clock.now();
        let kept = state.store.list_unrouted(route_key, PAGE, now).await?;
        let full_page = kept.len() >= PAGE as usize;
        let fresh: Vec<_> = kept
            .into_iter()
            .filter(|r| !skipped.contains(&r.event_key))
            .collect();
        if fresh.is_empty() {
            return Ok(replayed);
        }
        for record in fresh {
            let Ok(event) = serde_json::from_str::<WebhookEvent>(&record.event_json) else {
                replayed.undecodable += 1;
                skipped.push(record.event_key);
                continue;
            };
            match apply_event(state, &event).await? {
                Applied::Unrouted => {
                    replayed.still_unrouted += 1;
                    skipped.push(record.event_key);
                }
                _ => {
                    state
                        .store
                        .delete_unrouted(&record.phone_number_id, &record.event_key)
                        .await?;
                    replayed.applied += 1;
                }
            }
        }
        if !full_page {
            return Ok(replayed);
        }
    }
    replayed.more = true;
    Ok(replayed)
}
