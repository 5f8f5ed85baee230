//! What a tenant's admins decide for the whole business: its time zone and opening hours, how
//! long conversations are kept, how often and when marketing may reach one customer, whether AI
//! answers, and where alerts go. The rules for each value live here; the API reports every
//! broken rule by its field path (`marketing.quiet_hours.start`).
//!
//! Every field has a default, and a stored record missing one reads as the default, so records
//! written before a setting existed stay readable.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::RangeInclusive;

pub const DEFAULT_TIMEZONE: &str = "UTC";
pub const DEFAULT_RETENTION_MONTHS: u16 = 12;
/// Long enough for any record-keeping duty we know of, short enough that "forever" is not an
/// option: everything we hold about a customer expires.
pub const RETENTION_MONTHS: RangeInclusive<u16> = 1..=120;
pub const DEFAULT_CAP_PER_RECIPIENT: u16 = 2;
/// 0 turns marketing off for every customer without touching consents.
pub const CAP_PER_RECIPIENT: RangeInclusive<u16> = 0..=50;
pub const DEFAULT_CAP_WINDOW_DAYS: u16 = 7;
pub const CAP_WINDOW_DAYS: RangeInclusive<u16> = 1..=90;
pub const DEFAULT_QUIET_START: TimeOfDay = TimeOfDay::hm(21, 0);
pub const DEFAULT_QUIET_END: TimeOfDay = TimeOfDay::hm(8, 0);
/// Split shifts, not a timetable: more than this in one day is a mistake.
pub const MAX_INTERVALS_PER_DAY: usize = 6;

/// One broken rule: the field's path inside the settings and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An IANA time zone name (`Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`), checked
/// against the IANA database bundled with the build and kept in its canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Timezone(String);

impl Timezone {
    pub fn parse(name: &str) -> Result<Self, &'static str> {
        let name = name.trim();
        // Fixed offsets and POSIX rules (`+02:00`, `EST5EDT,M3.2.0`) are not names: daylight
        // saving would silently be wrong for a business that wrote one.
        if name.is_empty() || name.len() > 64 || !name.bytes().all(is_name_byte) {
            return Err("must be an IANA time zone name such as Europe/Berlin or UTC");
        }
        let zone = jiff::tz::db()
            .get(name)
            .map_err(|_| "is not a time zone in the IANA database (e.g. Europe/Berlin, UTC)")?;
        Ok(Self(zone.iana_name().unwrap_or(name).to_owned()))
    }

    pub fn utc() -> Self {
        Self(DEFAULT_TIMEZONE.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+')
}

impl Default for Timezone {
    fn default() -> Self {
        Self::utc()
    }
}

/// Stored names were checked when written; a name a later database no longer knows must not
/// make the tenant unreadable, so reading does not check again.
impl<'de> Deserialize<'de> for Timezone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Timezone)
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A wall-clock time in the tenant's time zone, `HH:MM`, from `00:00` to `24:00` (the end of
/// the day, which only closing times may use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(24 * 60);

    /// For constants; panics at compile time on an impossible time.
    pub const fn hm(hour: u16, minute: u16) -> Self {
        assert!(hour < 24 && minute < 60);
        Self(hour * 60 + minute)
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        const MESSAGE: &str = "must be a time HH:MM from 00:00 to 23:59";
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(MESSAGE);
        }
        let digits = |range: std::ops::Range<usize>| {
            text.get(range)
                .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.parse::<u16>().ok())
        };
        match (digits(0..2), digits(3..5)) {
            (Some(24), Some(0)) => Ok(Self::END_OF_DAY),
            (Some(h), Some(m)) if h < 24 && m < 60 => Ok(Self(h * 60 + m)),
            _ => Err(MESSAGE),
        }
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TimeOfDay::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Open from `open` until `close`, the same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenInterval {
    pub open: TimeOfDay,
    pub close: TimeOfDay,
}

/// Opening hours per weekday, in the tenant's time zone. A day with no intervals is closed.
/// Every day is always present, so a reader never has to guess what a missing day means.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BusinessHours {
    pub monday: Vec<OpenInterval>,
    pub tuesday: Vec<OpenInterval>,
    pub wednesday: Vec<OpenInterval>,
    pub thursday: Vec<OpenInterval>,
    pub friday: Vec<OpenInterval>,
    pub saturday: Vec<OpenInterval>,
    pub sunday: Vec<OpenInterval>,
}

impl BusinessHours {
    pub const DAYS: [&'static str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];

    pub fn day(&self, name: &str) -> Option<&Vec<OpenInterval>> {
        Some(match name {
            "monday" => &self.monday,
            "tuesday" => &self.tuesday,
            "wednesday" => &self.wednesday,
            "thursday" => &self.thursday,
            "friday" => &self.friday,
            "saturday" => &self.saturday,
            "sunday" => &self.sunday,
            _ => return None,
        })
    }

    pub fn day_mut(&mut self, name: &str) -> Option<&mut Vec<OpenInterval>> {
        Some(match name {
            "monday" => &mut self.monday,
            "tuesday" => &mut self.tuesday,
            "wednesday" => &mut self.wednesday,
            "thursday" => &mut self.thursday,
            "friday" => &mut self.friday,
            "saturday" => &mut self.saturday,
            "sunday" => &mut self.sunday,
            _ => return None,
        })
    }
}

/// When no marketing message may reach a customer: from `start` until `end`, in the tenant's
/// time zone, across midnight when `start` is later than `end` (the default, 21:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl Default for QuietHours {
    fn default() -> Self {
        Self {
            start: DEFAULT_QUIET_START,
            end: DEFAULT_QUIET_END,
        }
    }
}

/// How often and when business-initiated marketing may reach one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MarketingSettings {
    /// At most this many marketing messages per customer…
    pub cap_per_recipient: u16,
    /// …in any window of this many days.
    pub cap_window_days: u16,
    pub quiet_hours: QuietHours,
}

impl Default for MarketingSettings {
    fn default() -> Self {
        Self {
            cap_per_recipient: DEFAULT_CAP_PER_RECIPIENT,
            cap_window_days: DEFAULT_CAP_WINDOW_DAYS,
            quiet_hours: QuietHours::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantSettings {
    pub timezone: Timezone,
    pub business_hours: BusinessHours,
    /// Conversations, messages and media older than this are deleted.
    pub retention_months: u16,
    pub marketing: MarketingSettings,
    /// AI replies and agent assist; off until an admin turns them on.
    pub ai_enabled: bool,
    /// Where operational alerts (a disconnected number, a failing template) are mailed.
    pub alert_email: Option<String>,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            timezone: Timezone::utc(),
            business_hours: BusinessHours::default(),
            retention_months: DEFAULT_RETENTION_MONTHS,
            marketing: MarketingSettings::default(),
            ai_enabled: false,
            alert_email: None,
        }
    }
}

fn range_message(range: &RangeInclusive<u16>) -> String {
    format!(
        "must be a whole number from {} to {}",
        range.start(),
        range.end()
    )
}

impl TenantSettings {
    /// Every rule the values break together, by field path; empty when the settings are
    /// valid. Values that could not be read at all (a time that is not `HH:MM`, an unknown
    /// zone) are the parser's to report: these types cannot hold them.
    pub fn validate(&self) -> Vec<Invalid> {
        let mut errors = Vec::new();
        if !RETENTION_MONTHS.contains(&self.retention_months) {
            errors.push(Invalid::new(
                "retention_months",
                range_message(&RETENTION_MONTHS),
            ));
        }
        let m = &self.marketing;
        if !CAP_PER_RECIPIENT.contains(&m.cap_per_recipient) {
            errors.push(Invalid::new(
                "marketing.cap_per_recipient",
                range_message(&CAP_PER_RECIPIENT),
            ));
        }
        if !CAP_WINDOW_DAYS.contains(&m.cap_window_days) {
            errors.push(Invalid::new(
                "marketing.cap_window_days",
                range_message(&CAP_WINDOW_DAYS),
            ));
        }
        for (name, t) in [("start", m.quiet_hours.start), ("end", m.quiet_hours.end)] {
            if t == TimeOfDay::END_OF_DAY {
                errors.push(Invalid::new(
                    format!("marketing.quiet_hours.{name}"),
                    "must be a time HH:MM from 00:00 to 23:59",
                ));
            }
        }
        // An empty window would read as "never quiet" to one reader and "always" to another.
        if m.quiet_hours.start == m.quiet_hours.end {
            errors.push(Invalid::new(
                "marketing.quiet_hours.end",
                "must differ from start",
            ));
        }
        for day in BusinessHours::DAYS {
            let intervals = self.business_hours.day(day).map(Vec::as_slice);
            if let Some(message) = intervals.and_then(day_problem) {
                errors.push(Invalid::new(format!("business_hours.{day}"), message));
            }
        }
        errors
    }

    /// The paths of the fields whose values differ, in a fixed order (what the audit log
    /// records of a change; never the values, which may be personal, like an address).
    pub fn changed_fields(&self, other: &TenantSettings) -> Vec<String> {
        let mut changed = Vec::new();
        let mut note = |differs: bool, field: &str| {
            if differs {
                changed.push(field.to_owned());
            }
        };
        note(self.timezone != other.timezone, "timezone");
        for day in BusinessHours::DAYS {
            note(
                self.business_hours.day(day) != other.business_hours.day(day),
                &format!("business_hours.{day}"),
            );
        }
        note(
            self.retention_months != other.retention_months,
            "retention_months",
        );
        let (a, b) = (&self.marketing, &other.marketing);
        note(
            a.cap_per_recipient != b.cap_per_recipient,
            "marketing.cap_per_recipient",
        );
        note(
            a.cap_window_days != b.cap_window_days,
            "marketing.cap_window_days",
        );
        note(
            a.quiet_hours.start != b.quiet_hours.start,
            "marketing.quiet_hours.start",
        );
        note(
            a.quiet_hours.end != b.quiet_hours.end,
            "marketing.quiet_hours.end",
        );
        note(self.ai_enabled != other.ai_enabled, "ai_enabled");
        note(self.alert_email != other.alert_email, "alert_email");
        changed
    }
}

fn day_problem(intervals: &[OpenInterval]) -> Option<String> {
    if intervals.len() > MAX_INTERVALS_PER_DAY {
        return Some(format!("at most {MAX_INTERVALS_PER_DAY} intervals a day"));
    }
    if intervals.iter().any(|i| i.close <= i.open) {
        return Some("each close must be later than its open (use 24:00 for midnight)".into());
    }
    if intervals.windows(2).any(|w| w[1].open < w[0].close) {
        return Some("intervals must be in order and must not overlap".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones_and_valid() {
        let s = TenantSettings::default();
        assert_eq!(s.timezone.as_str(), "UTC");
        assert_eq!(s.retention_months, 12);
        assert_eq!(s.marketing.cap_per_recipient, 2);
        assert_eq!(s.marketing.cap_window_days, 7);
        assert_eq!(s.marketing.quiet_hours.start.to_string(), "21:00");
        assert_eq!(s.marketing.quiet_hours.end.to_string(), "08:00");
        assert!(!s.ai_enabled);
        assert_eq!(s.validate(), vec![]);
    }

    #[test]
    fn a_missing_field_reads_as_its_default() {
        let s: TenantSettings =
            serde_json::from_value(serde_json::json!({"marketing": {"cap_per_recipient": 3}}))
                .unwrap();
        assert_eq!(s.marketing.cap_per_recipient, 3);
        assert_eq!(s.marketing.cap_window_days, 7);
        assert_eq!(s.retention_months, 12);
        let json = serde_json::to_value(TenantSettings::default()).unwrap();
        assert_eq!(json["marketing"]["quiet_hours"]["start"], "21:00");
        assert_eq!(json["business_hours"]["sunday"], serde_json::json!([]));
        assert_eq!(json["alert_email"], serde_json::Value::Null);
    }

    #[test]
    fn time_zones_are_iana_names_in_canonical_spelling() {
        assert_eq!(Timezone::parse("UTC").unwrap().as_str(), "UTC");
        assert_eq!(
            Timezone::parse("europe/berlin").unwrap().as_str(),
            "Europe/Berlin"
        );
        assert!(Timezone::parse("America/Argentina/Buenos_Aires").is_ok());
        assert!(Timezone::parse("Etc/GMT+3").is_ok());
        for bad in [
            "",
            "Mars/Olympus",
            "+02:00",
            "EST5EDT,M3.2.0",
            "../etc",
            "Europe/Berlin ",
        ] {
            let parsed = Timezone::parse(bad);
            // Surrounding space is forgiven; everything else is refused.
            assert_eq!(parsed.is_ok(), bad == "Europe/Berlin ", "{bad:?}");
        }
    }

    #[test]
    fn times_of_day_are_hh_mm() {
        assert_eq!(TimeOfDay::parse("08:30").unwrap().minutes(), 510);
        assert_eq!(TimeOfDay::parse("24:00").unwrap(), TimeOfDay::END_OF_DAY);
        for bad in [
            "8:30", "24:01", "12:60", "aa:bb", "12-30", "", "+1:00", "12:3٠",
        ] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(TimeOfDay::hm(7, 5).to_string(), "07:05");
    }

    #[test]
    fn validation_names_every_broken_rule() {
        let mut s = TenantSettings {
            retention_months: 0,
            ..TenantSettings::default()
        };
        s.marketing.cap_window_days = 0;
        s.marketing.quiet_hours.end = s.marketing.quiet_hours.start;
        s.business_hours.monday = vec![OpenInterval {
            open: TimeOfDay::hm(17, 0),
            close: TimeOfDay::hm(9, 0),
        }];
        s.business_hours.tuesday = vec![
            OpenInterval {
                open: TimeOfDay::hm(9, 0),
                close: TimeOfDay::hm(13, 0),
            },
            OpenInterval {
                open: TimeOfDay::hm(12, 0),
                close: TimeOfDay::END_OF_DAY,
            },
        ];
        let fields: Vec<_> = s.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "retention_months",
                "marketing.cap_window_days",
                "marketing.quiet_hours.end",
                "business_hours.monday",
                "business_hours.tuesday",
            ]
        );
        s.retention_months = 121;
        assert_eq!(s.validate()[0].field, "retention_months");
    }

    #[test]
    fn changed_fields_name_paths_not_values() {
        let a = TenantSettings::default();
        let mut b = a.clone();
        b.timezone = Timezone::parse("Europe/Berlin").unwrap();
        b.marketing.quiet_hours.start = TimeOfDay::hm(22, 0);
        b.alert_email = Some("ops@example.com".into());
        assert_eq!(
            a.changed_fields(&b),
            ["timezone", "marketing.quiet_hours.start", "alert_email"]
        );
        assert!(a.changed_fields(&a).is_empty());
    }
}
