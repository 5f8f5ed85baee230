//! phone_number_id → tenant. Looked up on every event, so cached briefly per container.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use switchboard_domain::PhoneNumberId;
use switchboard_store::{PhoneRoute, Store, StoreError};

/// Short enough that a number moved to another tenant is picked up within a minute.
const TTL: Duration = Duration::from_secs(60);

pub struct RouteCache {
    store: Store,
    entries: Mutex<HashMap<String, (Instant, Option<PhoneRoute>)>>,
}

impl RouteCache {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub async fn find(&self, pnid: &str) -> Result<Option<PhoneRoute>, StoreError> {
        if let Some(hit) = self.cached(pnid) {
            return Ok(hit);
        }
        let route = self
            .store
            .find_phone_route(&PhoneNumberId::from(pnid))
            .await?;
        // Misses are not cached: the number may be connected any moment, and its events
        // should route as soon as it is.
        if route.is_some() {
            self.lock()
                .insert(pnid.to_owned(), (Instant::now(), route.clone()));
        }
        Ok(route)
    }

    fn cached(&self, pnid: &str) -> Option<Option<PhoneRoute>> {
        let entries = self.lock();
        let (at, route) = entries.get(pnid)?;
        (at.elapsed() < TTL).then(|| route.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<PhoneRoute>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
