//! Exponential backoff for redelivery, capped below SQS's 12-hour visibility limit.

use std::time::Duration;

const CAP: Duration = Duration::from_secs(15 * 60);

/// `base · 2^(attempt-1)`, capped at 15 minutes.
pub fn redelivery_delay(base: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
    base.saturating_mul(factor).min(CAP)
}

/// The delay before a retryable send is tried again: the backoff, but never shorter than the
/// wait Meta names for the error (130429: 1 s, 131056: 6 s, or its `Retry-After`).
pub fn retry_delay(base: Duration, attempt: u32, meta_wait: Option<Duration>) -> Duration {
    let backoff = redelivery_delay(base, attempt);
    meta_wait.map_or(backoff, |wait| wait.min(CAP).max(backoff))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps() {
        let b = Duration::from_secs(5);
        assert_eq!(redelivery_delay(b, 1), Duration::from_secs(5));
        assert_eq!(redelivery_delay(b, 2), Duration::from_secs(10));
        assert_eq!(redelivery_delay(b, 4), Duration::from_secs(40));
        assert_eq!(redelivery_delay(b, 50), CAP);
        assert_eq!(redelivery_delay(Duration::ZERO, 3), Duration::ZERO);
    }

    #[test]
    fn metas_wait_is_a_floor_under_the_backoff() {
        let b = Duration::from_secs(5);
        let pair_limit = Some(Duration::from_secs(6));
        assert_eq!(retry_delay(b, 1, pair_limit), Duration::from_secs(6));
        assert_eq!(retry_delay(b, 3, pair_limit), Duration::from_secs(20));
        assert_eq!(
            retry_delay(Duration::ZERO, 1, pair_limit),
            Duration::from_secs(6)
        );
        assert_eq!(retry_delay(b, 1, None), b);
        assert_eq!(retry_delay(b, 1, Some(Duration::from_secs(86_400))), CAP);
    }
}
