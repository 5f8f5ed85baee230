//! The 24-hour customer-service window: free-form replies are allowed only within 24 hours of
//! the customer's last message.

use time::{Duration, OffsetDateTime};

pub const CUSTOMER_SERVICE_WINDOW: Duration = Duration::hours(24);

/// When the window opened by a customer message sent at `customer_message_at` closes.
pub fn window_closes_at(customer_message_at: OffsetDateTime) -> OffsetDateTime {
    customer_message_at + CUSTOMER_SERVICE_WINDOW
}

pub fn window_is_open(
    last_customer_message_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> bool {
    last_customer_message_at.is_some_and(|t| now < window_closes_at(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn window_is_open_for_24_hours_from_the_customer_message() {
        let t = datetime!(2026-11-01 10:00 UTC);
        assert!(window_is_open(Some(t), t + Duration::hours(23)));
        assert!(!window_is_open(Some(t), t + Duration::hours(24)));
        assert!(!window_is_open(None, t));
    }
}
