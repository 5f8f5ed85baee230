//! Sign-in limits per e-mail address and per source address, counted in DynamoDB so they
//! hold across every concurrent Lambda. Up to a threshold, failures are free; from then on each
//! further attempt waits twice as long after the last failure as the one before (1 min, 2, 4,
//! … up to 15), and a refused attempt costs no bcrypt work.

use crate::problem::Problem;
use crate::tokens::digest;
use switchboard_store::{Store, ThrottleKind};
use time::{Duration, OffsetDateTime};

/// Failures are counted over this window (from the first one).
pub const WINDOW: Duration = Duration::hours(1);
pub const EMAIL_FREE_FAILURES: i64 = 10;
/// One address may serve many people (an office, a carrier NAT): a looser limit.
pub const SOURCE_FREE_FAILURES: i64 = 50;
pub const FIRST_DELAY: Duration = Duration::minutes(1);
pub const MAX_DELAY: Duration = Duration::minutes(15);

#[derive(Debug, Clone)]
pub struct Subject {
    kind: ThrottleKind,
    digest: String,
    free: i64,
}

impl Subject {
    pub fn email(normalized_email: &str) -> Self {
        Self {
            kind: ThrottleKind::LoginEmail,
            digest: digest(normalized_email),
            free: EMAIL_FREE_FAILURES,
        }
    }

    pub fn source(ip: &str) -> Self {
        Self {
            kind: ThrottleKind::LoginSource,
            digest: digest(ip),
            free: SOURCE_FREE_FAILURES,
        }
    }
}

/// How long to wait after the last failure once `failures` have been counted.
pub fn delay_after(failures: i64, free: i64) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let doublings = (failures - free).min(10) as u32;
    (FIRST_DELAY * 2i32.pow(doublings)).min(MAX_DELAY)
}

/// 429 with `Retry-After` when any subject must still wait.
pub async fn check(
    store: &Store,
    subjects: &[Subject],
    now: OffsetDateTime,
) -> Result<(), Problem> {
    let mut wait = Duration::ZERO;
    for s in subjects {
        if let Some(count) = store.failure_count(s.kind, &s.digest, WINDOW, now).await? {
            let until = count.last_failure_at + delay_after(count.failures, s.free);
            wait = wait.max(until - now);
        }
    }
    if wait > Duration::ZERO {
        let secs = wait.whole_seconds() + i64::from(wait.subsec_nanoseconds() > 0);
        return Err(Problem::too_many_requests(secs.max(1) as u64));
    }
    Ok(())
}

pub async fn record_failure(
    store: &Store,
    subjects: &[Subject],
    now: OffsetDateTime,
) -> Result<(), Problem> {
    for s in subjects {
        store.record_failure(s.kind, &s.digest, WINDOW, now).await?;
    }
    Ok(())
}

/// A successful sign-in forgets the address's failures (not the source's: one person's
/// success says nothing about the others behind that address).
pub async fn clear(store: &Store, subject: &Subject) -> Result<(), Problem> {
    store.clear_failures(subject.kind, &subject.digest).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_from_the_threshold_and_are_capped() {
        assert_eq!(delay_after(9, 10), Duration::ZERO);
        assert_eq!(delay_after(10, 10), Duration::minutes(1));
        assert_eq!(delay_after(11, 10), Duration::minutes(2));
        assert_eq!(delay_after(12, 10), Duration::minutes(4));
        assert_eq!(delay_after(40, 10), MAX_DELAY);
    }
}
