//! Time is injected so windows, retention and backoff are testable.

use std::sync::Mutex;
use time::OffsetDateTime;

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn at(t: OffsetDateTime) -> Self {
        Self(Mutex::new(t))
    }
    pub fn advance(&self, by: time::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The system's time, moved forward by however much it was told to skip: lets a test running
/// against the live local stack jump past a lease or a window without waiting for it.
#[derive(Debug, Default)]
pub struct SkippingClock {
    skipped: Mutex<time::Duration>,
}

impl SkippingClock {
    pub fn skip(&self, by: time::Duration) {
        let mut s = self.skipped.lock().unwrap_or_else(|p| p.into_inner());
        *s += by;
    }
}

impl Clock for SkippingClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *self.skipped.lock().unwrap_or_else(|p| p.into_inner())
    }
}
