//! Meta's two send-rate limits, enforced per number and per (number, customer) pair.
//!
//! Each is a token bucket: a number may send a burst of one second's throughput, then at its
//! rate (80 a second unless configured: 20 for a number shared with the WhatsApp Business app,
//! 1,000 at level HIGH); a pair may take a burst, then one message every few seconds. Above
//! either, the send is refused with Meta's own answer (130429, 131056) and not counted.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Instant;

pub const DEFAULT_MESSAGES_PER_SECOND: u32 = 80;

/// How often one customer may be messaged from one number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairRate {
    /// Messages that may go at once to a customer who got none lately.
    pub burst: u32,
    /// After the burst, one message per this many milliseconds.
    pub every_ms: u64,
}

impl Default for PairRate {
    /// About one message every 6 seconds, as Meta documents it, after a burst.
    fn default() -> Self {
        Self {
            burst: 45,
            every_ms: 6_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Throughput,
    PairRate,
}

#[derive(Debug, Clone)]
struct Bucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(capacity: f64, per_second: f64, now: Instant) -> Self {
        Self {
            capacity,
            per_second,
            tokens: capacity,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.at = now;
    }
}

#[derive(Debug, Default)]
pub struct Pacing {
    throughput: HashMap<String, u32>,
    pair_rate: PairRate,
    numbers: HashMap<String, Bucket>,
    pairs: HashMap<(String, String), Bucket>,
}

impl Pacing {
    pub fn set_throughput(&mut self, phone_number_id: &str, messages_per_second: u32) {
        self.throughput
            .insert(phone_number_id.to_owned(), messages_per_second.max(1));
        self.numbers.remove(phone_number_id);
    }

    pub fn throughput(&self, phone_number_id: &str) -> u32 {
        self.throughput
            .get(phone_number_id)
            .copied()
            .unwrap_or(DEFAULT_MESSAGES_PER_SECOND)
    }

    pub fn set_pair_rate(&mut self, rate: PairRate) {
        self.pair_rate = PairRate {
            burst: rate.burst.max(1),
            every_ms: rate.every_ms.max(1),
        };
        self.pairs.clear();
    }

    pub fn pair_rate(&self) -> PairRate {
        self.pair_rate
    }

    /// Takes one send from both buckets, or none when either is empty.
    pub fn admit(
        &mut self,
        phone_number_id: &str,
        recipient: &str,
        now: Instant,
    ) -> Result<(), Limit> {
        let rate = f64::from(self.throughput(phone_number_id));
        let number = self
            .numbers
            .entry(phone_number_id.to_owned())
            .or_insert_with(|| Bucket::full(rate, rate, now));
        number.refill(now);
        let pair_rate = self.pair_rate;
        let pair = self
            .pairs
            .entry((phone_number_id.to_owned(), recipient.to_owned()))
            .or_insert_with(|| {
                Bucket::full(
                    f64::from(pair_rate.burst),
                    1_000.0 / pair_rate.every_ms as f64,
                    now,
                )
            });
        pair.refill(now);
        if number.tokens < 1.0 {
            return Err(Limit::Throughput);
        }
        if pair.tokens < 1.0 {
            return Err(Limit::PairRate);
        }
        number.tokens -= 1.0;
        pair.tokens -= 1.0;
        Ok(())
    }
}

/// Random faults at configured rates, from a seeded generator so a run can be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaultRates {
    /// Share of sends answered HTTP 500, code 2.
    #[serde(default)]
    pub server_error: f64,
    /// Share of sends answered HTTP 429, code 130429.
    #[serde(default)]
    pub rate_limit: f64,
    #[serde(default)]
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomFault {
    ServerError,
    RateLimit,
}

#[derive(Debug, Default)]
pub struct FaultDice {
    rates: Option<FaultRates>,
    state: u64,
}

impl FaultDice {
    pub fn set(&mut self, rates: FaultRates) {
        self.state = rates.seed;
        self.rates = (rates.server_error > 0.0 || rates.rate_limit > 0.0).then_some(rates);
    }

    pub fn rates(&self) -> Option<FaultRates> {
        self.rates
    }

    pub fn roll(&mut self) -> Option<RandomFault> {
        let rates = self.rates?;
        let draw = self.next_unit();
        if draw < rates.server_error {
            Some(RandomFault::ServerError)
        } else if draw < rates.server_error + rates.rate_limit {
            Some(RandomFault::RateLimit)
        } else {
            None
        }
    }

    /// splitmix64, scaled to [0, 1).
    fn next_unit(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_number_gets_one_seconds_burst_then_its_rate() {
        let mut pacing = Pacing::default();
        pacing.set_throughput("1", 20);
        let t0 = Instant::now();
        for i in 0..20 {
            assert_eq!(pacing.admit("1", &format!("c{i}"), t0), Ok(()));
        }
        assert_eq!(pacing.admit("1", "c99", t0), Err(Limit::Throughput));
        // Another number has its own bucket.
        assert_eq!(pacing.admit("2", "c99", t0), Ok(()));
        let later = t0 + Duration::from_millis(50);
        assert_eq!(pacing.admit("1", "c99", later), Ok(()));
        assert_eq!(pacing.admit("1", "c98", later), Err(Limit::Throughput));
    }

    #[test]
    fn a_customer_gets_a_burst_then_one_message_every_few_seconds() {
        let mut pacing = Pacing::default();
        pacing.set_pair_rate(PairRate {
            burst: 2,
            every_ms: 6_000,
        });
        let t0 = Instant::now();
        assert_eq!(pacing.admit("1", "c", t0), Ok(()));
        assert_eq!(pacing.admit("1", "c", t0), Ok(()));
        assert_eq!(pacing.admit("1", "c", t0), Err(Limit::PairRate));
        assert_eq!(pacing.admit("1", "other", t0), Ok(()));
        assert_eq!(
            pacing.admit("1", "c", t0 + Duration::from_secs(3)),
            Err(Limit::PairRate)
        );
        assert_eq!(pacing.admit("1", "c", t0 + Duration::from_secs(7)), Ok(()));
    }

    #[test]
    fn refused_sends_are_not_counted() {
        let mut pacing = Pacing::default();
        pacing.set_throughput("1", 1);
        pacing.set_pair_rate(PairRate {
            burst: 1,
            every_ms: 60_000,
        });
        let t0 = Instant::now();
        assert_eq!(pacing.admit("1", "c", t0), Ok(()));
        // The pair is empty; the number's token for the refused send is kept.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(pacing.admit("1", "c", t1), Err(Limit::PairRate));
        assert_eq!(pacing.admit("1", "d", t1), Ok(()));
    }

    #[test]
    fn dice_hit_their_rates_and_repeat_with_the_seed() {
        let mut dice = FaultDice::default();
        dice.set(FaultRates {
            server_error: 0.3,
            rate_limit: 0.1,
            seed: 7,
        });
        let rolls: Vec<_> = (0..10_000).map(|_| dice.roll()).collect();
        let count = |f| rolls.iter().filter(|r| **r == Some(f)).count();
        assert!((2_800..3_200).contains(&count(RandomFault::ServerError)));
        assert!((850..1_150).contains(&count(RandomFault::RateLimit)));
        dice.set(FaultRates {
            server_error: 0.3,
            rate_limit: 0.1,
            seed: 7,
        });
        let again: Vec<_> = (0..10_000).map(|_| dice.roll()).collect();
        assert_eq!(rolls, again);
        dice.set(FaultRates {
            server_error: 0.0,
            rate_limit: 0.0,
            seed: 0,
        });
        assert_eq!(dice.roll(), None);
    }
}
