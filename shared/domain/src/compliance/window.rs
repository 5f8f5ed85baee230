//! The 24-hour customer-service window, as the engine reads it: open for 24 hours from the
//! customer's last message, unless Meta closed it since (error 131047).

use super::input::WindowFacts;
use crate::conversation::CUSTOMER_SERVICE_WINDOW;
use time::{Duration, OffsetDateTime};

/// Meta's timestamps come from Meta's clock and `now` from ours. A reply sent seconds after
/// the customer wrote must not be refused because Meta's clock runs a little ahead; a
/// timestamp further in the future than this is not believed.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    Open {
        closes_at: OffsetDateTime,
    },
    /// The customer never wrote (or not believably).
    NeverOpened,
    Expired {
        closed_at: OffsetDateTime,
    },
    /// Meta said so (131047) after the customer's last message.
    ClosedByError {
        at: OffsetDateTime,
    },
}

impl WindowState {
    pub fn is_open(self) -> bool {
        matches!(self, WindowState::Open { .. })
    }
}

pub fn window_state(facts: &WindowFacts, now: OffsetDateTime) -> WindowState {
    let Some(last) = facts.last_customer_message_at else {
        return WindowState::NeverOpened;
    };
    if now
        .checked_add(MAX_CLOCK_SKEW)
        .is_some_and(|limit| last > limit)
    {
        return WindowState::NeverOpened;
    }
    // A closure at the very second of the customer's message does not close it: Meta's
    // timestamps are whole seconds, and the customer's message is the fact that opens a
    // window.
    if let Some(at) = facts.closed_by_error_at.filter(|&at| at > last) {
        return WindowState::ClosedByError { at };
    }
    match last.checked_add(CUSTOMER_SERVICE_WINDOW) {
        Some(closes_at) if now < closes_at => WindowState::Open { closes_at },
        Some(closed_at) => WindowState::Expired { closed_at },
        // Past the end of representable time the window is treated as shut, the safe side.
        None => WindowState::Expired { closed_at: last },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T: OffsetDateTime = datetime!(2026-11-01 10:00 UTC);

    fn facts(last: Option<OffsetDateTime>, closed: Option<OffsetDateTime>) -> WindowFacts {
        WindowFacts {
            last_customer_message_at: last,
            closed_by_error_at: closed,
        }
    }

    #[test]
    fn open_for_24_hours_from_the_customer_message() {
        let f = facts(Some(T), None);
        assert!(window_state(&f, T).is_open());
        assert!(window_state(&f, T + Duration::hours(24) - Duration::SECOND).is_open());
        assert_eq!(
            window_state(&f, T + Duration::hours(24)),
            WindowState::Expired {
                closed_at: T + Duration::hours(24)
            }
        );
        assert_eq!(
            window_state(&facts(None, None), T),
            WindowState::NeverOpened
        );
    }

    #[test]
    fn a_131047_after_the_last_message_closes_it_until_the_customer_writes_again() {
        let closed = T + Duration::hours(2);
        let f = facts(Some(T), Some(closed));
        assert_eq!(
            window_state(&f, T + Duration::hours(3)),
            WindowState::ClosedByError { at: closed }
        );
        // The customer wrote again after the error.
        let again = facts(Some(T + Duration::hours(4)), Some(closed));
        assert!(window_state(&again, T + Duration::hours(5)).is_open());
        // Same second: the message wins.
        assert!(window_state(&facts(Some(T), Some(T)), T).is_open());
    }

    #[test]
    fn a_little_clock_skew_is_forgiven_a_lot_is_not() {
        let f = facts(Some(T + Duration::minutes(1)), None);
        assert!(window_state(&f, T).is_open());
        let far = facts(Some(T + Duration::hours(1)), None);
        assert_eq!(window_state(&far, T), WindowState::NeverOpened);
    }
}
