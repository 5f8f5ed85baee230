//! Exponential backoff for redelivery, capped below SQS's 12-hour visibility limit.

use std::time::Duration;

const CAP: Duration = Duration::from_secs(15 * 60);

/// `base · 2^(attempt-1)`, capped at 15 minutes.
pub fn redelivery_delay(base: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
    base.saturating_mul(factor).min(CAP)
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
}
