//! phone_number_id → tenant, for every inbound event.
//!
//! A number can move to another tenant (`Store::move_phone_route`, a conditional write). A
//! stale route would then write the new owner's customers — their contacts, conversations and
//! message text — into the old owner's account. So how fresh a route must be depends on what
//! the event writes ([`Freshness::for_payload`]):
//!
//! - **Messages and raw changes** carry customer content. They are routed by a strongly
//!   consistent read of the route item, every time, never by the cache
//!   ([`Freshness::Current`]). One GetItem per event is small next to the transaction that
//!   records the message. What is left is the time between that read and the recording
//!   transaction (milliseconds); only a condition check on the route inside that transaction
//!   would close it.
//! - **Statuses** may use a route cached for at most [`TTL`] ([`Freshness::Recent`]). A status
//!   only names a wamid, and the store applies it only to a message the routed tenant itself
//!   recorded under that wamid (the pointer lives in the tenant's partition): a stale route
//!   cannot touch another tenant's message or create a conversation. Around a move neither
//!   route is right for every status anyway — statuses of the old owner's last sends arrive
//!   after the move, those of the new owner's first sends may arrive while the cache still
//!   names the old owner. A status that finds no message is kept as a pending record (status,
//!   time, pricing; no customer content) that expires after 7 days.
//!
//! The cache runs on the injected clock, so tests can skip past it; misses are not cached.

use std::collections::HashMap;
use std::sync::Mutex;
use switchboard_domain::PhoneNumberId;
use switchboard_meta::webhook::EventPayload;
use switchboard_store::{PhoneRoute, Store, StoreError};
use time::{Duration, OffsetDateTime};

/// How long a cached route may answer for a status after it was read.
pub const TTL: Duration = Duration::seconds(5);
/// A container sees few numbers; past this many entries, expired ones are dropped.
const PRUNE_ABOVE: usize = 1024;

/// How fresh the route of an event must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Who holds the number now: a strongly consistent read, never the cache.
    Current,
    /// A route read at most [`TTL`] ago will do.
    Recent,
}

impl Freshness {
    /// Only statuses may be routed from the cache; see the module documentation for why.
    pub fn for_payload(payload: &EventPayload) -> Self {
        match payload {
            EventPayload::Status(_) => Freshness::Recent,
            EventPayload::Message { .. } | EventPayload::Other { .. } => Freshness::Current,
        }
    }
}

type Entries = HashMap<String, (OffsetDateTime, PhoneRoute)>;

pub struct RouteCache {
    store: Store,
    entries: Mutex<Entries>,
}

impl RouteCache {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The route of `pnid`, as fresh as `freshness` asks, judged at `now`.
    pub async fn find(
        &self,
        pnid: &str,
        freshness: Freshness,
        now: OffsetDateTime,
    ) -> Result<Option<PhoneRoute>, StoreError> {
        if freshness == Freshness::Recent
            && let Some(hit) = self.cached(pnid, now)
        {
            return Ok(Some(hit));
        }
        let route = self
            .store
            .find_phone_route(&PhoneNumberId::from(pnid))
            .await?;
        let mut entries = self.lock();
        match &route {
            Some(route) => {
                if entries.len() >= PRUNE_ABOVE {
                    entries.retain(|_, (at, _)| fresh(*at, now));
                }
                entries.insert(pnid.to_owned(), (now, route.clone()));
            }
            // Misses are not cached: the number may be connected any moment, and its events
            // should route as soon as it is.
            None => {
                entries.remove(pnid);
            }
        }
        Ok(route)
    }

    fn cached(&self, pnid: &str, now: OffsetDateTime) -> Option<PhoneRoute> {
        let entries = self.lock();
        let (at, route) = entries.get(pnid)?;
        fresh(*at, now).then(|| route.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Read at `at`, still usable at `now`. A clock that went backwards makes nothing fresh.
fn fresh(at: OffsetDateTime, now: OffsetDateTime) -> bool {
    now >= at && now - at < TTL
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_cached_route_answers_only_within_the_ttl() {
        let at = datetime!(2026-11-01 10:00 UTC);
        assert!(fresh(at, at));
        assert!(fresh(at, at + TTL - Duration::milliseconds(1)));
        assert!(!fresh(at, at + TTL));
        assert!(!fresh(at, at - Duration::seconds(1)));
    }
}
