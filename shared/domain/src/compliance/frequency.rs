//! The per-recipient marketing frequency cap (P18): at most `max_per_recipient` marketing
//! templates in any `period_days` days.

use super::input::FrequencyCap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The sends that count against the cap at `now`: those later than `now - period`. Sends
/// stamped after `now` count too: another sender's clock may run ahead of ours, and leaving
/// them out would let two senders together exceed the cap.
pub fn sends_in_period<'s>(
    sends: &'s [OffsetDateTime],
    now: OffsetDateTime,
    cap: FrequencyCap,
) -> impl Iterator<Item = OffsetDateTime> + 's {
    let from = now.checked_sub(cap.period());
    sends
        .iter()
        .copied()
        .filter(move |&t| from.is_none_or(|from| t > from))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapState {
    Under {
        count: usize,
    },
    Reached {
        count: usize,
        /// When enough of the counted sends leave the period for one more to fit; `None`
        /// when the cap is 0 (never).
        next_slot_at: Option<OffsetDateTime>,
    },
}

pub fn cap_state(cap: FrequencyCap, sends: &[OffsetDateTime], now: OffsetDateTime) -> CapState {
    let mut counted: Vec<OffsetDateTime> = sends_in_period(sends, now, cap).collect();
    let count = counted.len();
    let max = usize::from(cap.max_per_recipient);
    if count < max {
        return CapState::Under { count };
    }
    let next_slot_at = if max == 0 {
        None
    } else {
        // One more fits once the oldest `count - max + 1` have left the period.
        counted.sort_unstable();
        counted
            .get(count - max)
            .and_then(|&t| t.checked_add(cap.period()))
    };
    CapState::Reached {
        count,
        next_slot_at,
    }
}

/// The merchant's sentence for a reached cap, `None` when under it.
pub(crate) fn cap_denial(
    cap: FrequencyCap,
    sends: &[OffsetDateTime],
    now: OffsetDateTime,
) -> Option<String> {
    match cap_state(cap, sends, now) {
        CapState::Under { .. } => None,
        CapState::Reached { .. } if cap.max_per_recipient == 0 => {
            Some("Marketing messages are turned off for this business (frequency cap 0).".into())
        }
        CapState::Reached {
            count,
            next_slot_at,
        } => {
            let days = cap.period_days.max(1);
            let mut s = format!(
                "This customer already received {count} marketing messages in the last {days} \
                 days; this business allows {}.",
                cap.max_per_recipient
            );
            if let Some(at) = next_slot_at.and_then(|t| t.format(&Rfc3339).ok()) {
                s.push_str(&format!(" The next one can be sent from {at}."));
            }
            Some(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-05-10 12:00 UTC);
    const CAP: FrequencyCap = FrequencyCap {
        max_per_recipient: 2,
        period_days: 7,
    };

    #[test]
    fn counts_the_open_closed_period_ending_now() {
        let exactly_a_week = NOW - Duration::days(7);
        let sends = [exactly_a_week, NOW - Duration::days(6), NOW];
        // The send exactly one period ago has left it.
        assert_eq!(sends_in_period(&sends, NOW, CAP).count(), 2);
        assert_eq!(
            cap_state(CAP, &sends, NOW),
            CapState::Reached {
                count: 2,
                next_slot_at: Some(NOW + Duration::days(1))
            }
        );
        assert_eq!(
            cap_state(CAP, &sends[..2], NOW),
            CapState::Under { count: 1 }
        );
    }

    #[test]
    fn sends_from_a_clock_ahead_of_ours_count() {
        let sends = [NOW + Duration::minutes(1), NOW - Duration::days(1)];
        assert!(matches!(
            cap_state(CAP, &sends, NOW),
            CapState::Reached { count: 2, .. }
        ));
    }

    #[test]
    fn a_zero_cap_turns_marketing_off() {
        let off = FrequencyCap {
            max_per_recipient: 0,
            period_days: 7,
        };
        assert_eq!(
            cap_state(off, &[], NOW),
            CapState::Reached {
                count: 0,
                next_slot_at: None
            }
        );
        assert!(cap_denial(off, &[], NOW).unwrap().contains("turned off"));
    }

    #[test]
    fn the_denial_says_when_the_next_slot_opens() {
        let sends = [NOW - Duration::days(3), NOW - Duration::days(1)];
        assert_eq!(
            cap_denial(CAP, &sends, NOW).unwrap(),
            "This customer already received 2 marketing messages in the last 7 days; this \
             business allows 2. The next one can be sent from 2026-05-14T12:00:00Z."
        );
        assert_eq!(cap_denial(CAP, &sends[..1], NOW), None);
    }
}
