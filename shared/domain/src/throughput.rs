//! How fast one business phone number may send, and how that pace is spread over the store.
//!
//! Meta gives each registered number a throughput: 80 messages per second by default, 1,000
//! after an automatic upgrade (`throughput.level` `HIGH`), and a fixed 20 for a number that is
//! also in use with the WhatsApp Business app (coexistence). Above it Meta answers 130429.
//!
//! Switchboard paces sends with a generic cell rate algorithm: each send reserves the next slot
//! `1 / rate` seconds after the previous one, so sends are evenly spaced and no burst ever
//! exceeds the rate, however many Lambdas send at once. One store item per number holds the
//! next free slot; above [`MAX_RATE_PER_SHARD`] the pace is split over several items (a single
//! DynamoDB item takes about 1,000 writes a second), each holding its share of the rate.

/// Meta's default throughput per number.
pub const STANDARD_MESSAGES_PER_SECOND: u32 = 80;
/// Meta's throughput for a number upgraded to `HIGH`.
pub const HIGH_MESSAGES_PER_SECOND: u32 = 1_000;
/// Meta's fixed throughput for a number shared with the WhatsApp Business app.
pub const BUSINESS_APP_MESSAGES_PER_SECOND: u32 = 20;
/// The most sends per second one store item paces: well under DynamoDB's per-item write limit.
pub const MAX_RATE_PER_SHARD: u32 = 400;

/// The throughput Meta allows a number, from its `throughput.level` and whether it was
/// onboarded from the WhatsApp Business app.
pub fn messages_per_second(throughput_level: Option<&str>, business_app: bool) -> u32 {
    if business_app {
        return BUSINESS_APP_MESSAGES_PER_SECOND;
    }
    match throughput_level {
        Some(level) if level.eq_ignore_ascii_case("HIGH") => HIGH_MESSAGES_PER_SECOND,
        _ => STANDARD_MESSAGES_PER_SECOND,
    }
}

/// One number's pace: its rate, the store items it is split over, and the spacing of slots on
/// each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPace {
    messages_per_second: u32,
}

impl SendPace {
    /// A rate of zero is taken as one message a second: a number is never stopped by its pace.
    pub fn new(messages_per_second: u32) -> Self {
        Self {
            messages_per_second: messages_per_second.max(1),
        }
    }

    pub fn messages_per_second(self) -> u32 {
        self.messages_per_second
    }

    /// How many store items share the rate.
    pub fn shards(self) -> u32 {
        self.messages_per_second.div_ceil(MAX_RATE_PER_SHARD)
    }

    /// Microseconds between two slots on one item, rounded up: the items together never grant
    /// more than the rate.
    pub fn interval_micros(self) -> i64 {
        let per_shard = 1_000_000 * u64::from(self.shards());
        i64::try_from(per_shard.div_ceil(u64::from(self.messages_per_second))).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn metas_levels_map_to_their_rates() {
        assert_eq!(messages_per_second(None, false), 80);
        assert_eq!(messages_per_second(Some("STANDARD"), false), 80);
        assert_eq!(messages_per_second(Some("NOT_APPLICABLE"), false), 80);
        assert_eq!(messages_per_second(Some("HIGH"), false), 1_000);
        assert_eq!(messages_per_second(Some("HIGH"), true), 20);
    }

    #[test]
    fn slots_are_spaced_by_the_rate() {
        assert_eq!(SendPace::new(20).interval_micros(), 50_000);
        assert_eq!(SendPace::new(80).interval_micros(), 12_500);
        assert_eq!(SendPace::new(80).shards(), 1);
        let high = SendPace::new(1_000);
        assert_eq!(high.shards(), 3);
        assert_eq!(high.interval_micros(), 3_000);
        assert_eq!(SendPace::new(0).messages_per_second(), 1);
    }

    proptest! {
        /// The shards together never grant more than the rate, and grant at least 95% of it.
        #[test]
        fn shards_share_the_rate_without_exceeding_it(rate in 1u32..=5_000) {
            let pace = SendPace::new(rate);
            let granted_per_second =
                f64::from(pace.shards()) * 1_000_000.0 / pace.interval_micros() as f64;
            prop_assert!(granted_per_second <= f64::from(rate) + 1e-9);
            prop_assert!(granted_per_second >= f64::from(rate) * 0.95);
            prop_assert!(rate.div_ceil(pace.shards()) <= MAX_RATE_PER_SHARD);
        }
    }
}
