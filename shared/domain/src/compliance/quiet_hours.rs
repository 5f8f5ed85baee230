//! Quiet hours in the recipient's local time (P18): when a marketing template falls in them
//! it waits until the next allowed minute; it is never dropped.
//!
//! A recipient may be in one of several zones (a country, or an area code, that spans
//! more than one: see `recipient_zones`). The rule:
//! - A message goes only at a moment outside quiet hours in *every* one of the zones.
//! - Where no such moment comes in the next 48 hours (the zones are so far apart that the
//!   tenant's quiet hours never all end together), the primary zone alone decides.
//! - A deferral names the first whole minute at which that rule lets the message go, so asking
//!   again then, with the same facts, never defers for quiet hours again.
//!
//! Quiet hours run from `start` (inclusive) to `end` (exclusive) of local wall-clock time,
//! across midnight when `start` is later than `end`. Local time comes from each zone's UTC
//! offset at that instant, so daylight saving moves the boundaries with the clocks: on the
//! morning clocks spring forward, 08:00 comes an hour sooner in UTC. A window whose start
//! equals its end (settings validation refuses it) is read as no quiet hours at all.

use crate::tenant_settings::QuietHours;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use time::OffsetDateTime;

const MINUTES_PER_DAY: i64 = 24 * 60;
/// How far ahead the intersection of every zone's allowed minutes is looked for before the
/// primary zone decides alone. Two days, so a daylight-saving change cannot hide the one
/// daily overlap there is.
pub const INTERSECTION_HORIZON_MINUTES: i64 = 48 * 60;
/// Beyond any answer: the first minute the primary zone allows is at most a day and a DST
/// hour away, and the rule above looks two days past it.
const SEARCH_LIMIT_MINUTES: i64 = 5 * MINUTES_PER_DAY;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuietVerdict {
    Clear,
    /// A whole minute after `now`.
    DeferUntil(OffsetDateTime),
}

/// The local wall-clock minute of the day (0..1440) in `zone` at `unix_seconds`.
pub fn local_minute(zone: &TimeZone, unix_seconds: i64) -> Option<i64> {
    let ts = Timestamp::from_second(unix_seconds).ok()?;
    let offset = i64::from(zone.to_offset(ts).seconds());
    Some(
        (unix_seconds + offset)
            .div_euclid(60)
            .rem_euclid(MINUTES_PER_DAY),
    )
}

fn is_empty(quiet: QuietHours) -> bool {
    bounds(quiet).0 == bounds(quiet).1
}

/// `24:00` is not a valid bound (validation refuses it) but reads as midnight rather than
/// as a minute no clock shows.
fn bounds(quiet: QuietHours) -> (i64, i64) {
    (
        i64::from(quiet.start.minutes()) % MINUTES_PER_DAY,
        i64::from(quiet.end.minutes()) % MINUTES_PER_DAY,
    )
}

pub fn is_quiet_minute(quiet: QuietHours, minute_of_day: i64) -> bool {
    let (start, end) = bounds(quiet);
    if start <= end {
        start <= minute_of_day && minute_of_day < end
    } else {
        minute_of_day >= start || minute_of_day < end
    }
}

/// Whether `unix_seconds` is quiet in `zone`. An instant jiff cannot place (beyond the year
/// 9999) counts as quiet: the safe side.
fn quiet_in(quiet: QuietHours, zone: &TimeZone, unix_seconds: i64) -> bool {
    local_minute(zone, unix_seconds).is_none_or(|m| is_quiet_minute(quiet, m))
}

pub fn is_quiet_at(quiet: QuietHours, zone: &TimeZone, at: OffsetDateTime) -> bool {
    !is_empty(quiet) && quiet_in(quiet, zone, at.unix_timestamp())
}

/// Whether a marketing template may go at `now` to a recipient in `zones` (primary first),
/// and if not, until when it waits. With no zones it is clear: the caller always passes at
/// least the tenant's.
pub fn quiet_hours_verdict(
    now: OffsetDateTime,
    quiet: QuietHours,
    zones: &[TimeZone],
) -> QuietVerdict {
    let Some(primary) = zones.first() else {
        return QuietVerdict::Clear;
    };
    if is_empty(quiet) {
        return QuietVerdict::Clear;
    }
    let all_allow = |t: i64| zones.iter().all(|z| !quiet_in(quiet, z, t));
    let primary_allows = |t: i64| !quiet_in(quiet, primary, t);

    let now_s = now.unix_timestamp();
    if all_allow(now_s) {
        return QuietVerdict::Clear;
    }
    let primary_now = primary_allows(now_s);
    // Minutes from here on lie on the grid of whole minutes after `now`: the grid a later
    // decision at any of them sees too, which is what makes a deferral's answer stable.
    let base = now_s.div_euclid(60) * 60;
    let horizon = INTERSECTION_HORIZON_MINUTES;
    let mut first_all = None;
    let mut first_primary = None;
    for i in 1..=SEARCH_LIMIT_MINUTES {
        let t = base + 60 * i;
        if first_primary.is_none() && primary_allows(t) {
            first_primary = Some(i);
        }
        if all_allow(t) {
            first_all = Some(i);
            break;
        }
        // Far enough that no overlap can change the answer.
        if first_primary.is_some_and(|p| i >= p + horizon) && (!primary_now || i >= horizon) {
            break;
        }
    }
    if primary_now && first_all.is_none_or(|a| a > horizon) {
        return QuietVerdict::Clear;
    }
    let release = match (first_all, first_primary) {
        (Some(a), Some(p)) if a > p + horizon => p,
        (Some(a), _) => a,
        (None, Some(p)) => p,
        // Only at the edge of representable time; there is no minute to wait for.
        (None, None) => return QuietVerdict::Clear,
    };
    match OffsetDateTime::from_unix_timestamp(base + 60 * release) {
        Ok(until) => QuietVerdict::DeferUntil(until),
        Err(_) => QuietVerdict::Clear,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::recipient_zones::recipient_zones;
    use crate::tenant_settings::{TimeOfDay, Timezone};
    use time::macros::datetime;

    fn zones_of(wa_id: &str) -> Vec<TimeZone> {
        recipient_zones(Some(wa_id), &Timezone::utc())
    }

    fn verdict(now: OffsetDateTime, wa_id: &str) -> QuietVerdict {
        quiet_hours_verdict(now, QuietHours::default(), &zones_of(wa_id))
    }

    fn until(t: OffsetDateTime) -> QuietVerdict {
        QuietVerdict::DeferUntil(t)
    }

    #[test]
    fn new_york_at_nine_pm_waits_for_eight_am_eastern() {
        // 02:00 UTC in January is 21:00 EST the evening before.
        let now = datetime!(2026-01-15 02:00 UTC);
        assert_eq!(
            verdict(now, "12125551234"),
            until(datetime!(2026-01-15 13:00 UTC))
        );
        // One minute earlier is still 20:59.
        assert_eq!(
            verdict(datetime!(2026-01-15 01:59:59 UTC), "12125551234"),
            QuietVerdict::Clear
        );
        assert_eq!(
            verdict(datetime!(2026-01-15 13:00 UTC), "12125551234"),
            QuietVerdict::Clear
        );
    }

    #[test]
    fn an_unknown_north_american_area_code_waits_for_every_us_and_canadian_zone() {
        // 08:00 in Honolulu is 18:00 UTC; by then it is 08:00 or later everywhere else too.
        let now = datetime!(2026-01-15 02:00 UTC);
        assert_eq!(
            verdict(now, "18005551234"),
            until(datetime!(2026-01-15 18:00 UTC))
        );
    }

    #[test]
    fn spain_at_half_past_ten_waits_for_eight_in_the_canaries_unless_the_number_says_madrid() {
        // 22:30 in Madrid (CET) is 21:30 UTC.
        let now = datetime!(2026-01-20 21:30 UTC);
        // A Madrid landline: 08:00 CET the next day.
        assert_eq!(
            verdict(now, "34912345678"),
            until(datetime!(2026-01-21 07:00 UTC))
        );
        // A mobile could be in the Canaries (an hour behind): 08:00 there, 09:00 in Madrid.
        assert_eq!(
            verdict(now, "34612345678"),
            until(datetime!(2026-01-21 08:00 UTC))
        );
    }

    #[test]
    fn india_reads_ist() {
        // 22:00 IST is 16:30 UTC; 08:00 IST is 02:30 UTC.
        let now = datetime!(2026-06-01 16:30 UTC);
        assert_eq!(
            verdict(now, "919812345678"),
            until(datetime!(2026-06-02 02:30 UTC))
        );
        assert_eq!(
            verdict(datetime!(2026-06-02 02:29 UTC), "919812345678"),
            until(datetime!(2026-06-02 02:30 UTC))
        );
    }

    #[test]
    fn daylight_saving_moves_the_end_with_the_clocks() {
        // 2026-03-08: New York springs forward at 02:00 EST. 22:00 EST on the 7th is 03:00
        // UTC; 08:00 the next morning is EDT, 12:00 UTC, not 13:00.
        let now = datetime!(2026-03-08 03:00 UTC);
        assert_eq!(
            verdict(now, "12125551234"),
            until(datetime!(2026-03-08 12:00 UTC))
        );
        // 2026-11-01: back to EST at 02:00 EDT; 08:00 EST is 13:00 UTC.
        let now = datetime!(2026-11-01 03:00 UTC);
        assert_eq!(
            verdict(now, "12125551234"),
            until(datetime!(2026-11-01 13:00 UTC))
        );
        // Madrid springs forward on 2026-03-29: 08:00 CEST is 06:00 UTC.
        let now = datetime!(2026-03-28 22:00 UTC);
        assert_eq!(
            verdict(now, "34912345678"),
            until(datetime!(2026-03-29 06:00 UTC))
        );
    }

    #[test]
    fn deferrals_land_on_the_next_whole_minute_after_now() {
        let now = datetime!(2026-01-15 12:59:30.5 UTC);
        assert_eq!(
            verdict(now, "12125551234"),
            until(datetime!(2026-01-15 13:00 UTC))
        );
    }

    #[test]
    fn zones_that_never_all_allow_together_fall_back_to_the_primary() {
        // Allowed only 08:00–11:00 local: across Russia's ten hours that never overlaps.
        let narrow = QuietHours {
            start: TimeOfDay::hm(11, 0),
            end: TimeOfDay::hm(8, 0),
        };
        let ru = zones_of("79161234567");
        // 12:00 in Moscow (UTC+3) is 09:00 UTC: wait for 08:00 Moscow time.
        let now = datetime!(2026-02-10 09:00 UTC);
        let v = quiet_hours_verdict(now, narrow, &ru);
        assert_eq!(v, until(datetime!(2026-02-11 05:00 UTC)));
        assert_eq!(
            quiet_hours_verdict(datetime!(2026-02-11 05:00 UTC), narrow, &ru),
            QuietVerdict::Clear
        );
        // With the default hours Russia does overlap: 09:00–12:00 Moscow time.
        let v = quiet_hours_verdict(datetime!(2026-02-10 10:00 UTC), QuietHours::default(), &ru);
        assert_eq!(v, until(datetime!(2026-02-11 06:00 UTC)));
    }

    #[test]
    fn an_empty_window_is_no_quiet_hours_and_daytime_windows_work() {
        let utc = [TimeZone::UTC];
        let empty = QuietHours {
            start: TimeOfDay::hm(9, 0),
            end: TimeOfDay::hm(9, 0),
        };
        let now = datetime!(2026-01-01 09:30 UTC);
        assert_eq!(quiet_hours_verdict(now, empty, &utc), QuietVerdict::Clear);
        let lunch = QuietHours {
            start: TimeOfDay::hm(12, 0),
            end: TimeOfDay::hm(13, 30),
        };
        assert_eq!(
            quiet_hours_verdict(datetime!(2026-01-01 12:00 UTC), lunch, &utc),
            until(datetime!(2026-01-01 13:30 UTC))
        );
        assert_eq!(
            quiet_hours_verdict(datetime!(2026-01-01 11:59 UTC), lunch, &utc),
            QuietVerdict::Clear
        );
        assert_eq!(quiet_hours_verdict(now, lunch, &[]), QuietVerdict::Clear);
    }
}
