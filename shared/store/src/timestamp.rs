//! Stored times: UTC RFC 3339 with exactly six fractional digits. Every stored time has the same
//! width, so comparing two as strings — in sort keys and condition expressions — compares them
//! as instants. The same form is what records serialize to for the API.

use crate::error::StoreError;
use serde::{Deserialize, Deserializer, Serializer};
use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const FIXED_WIDTH: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub(crate) fn encode(t: OffsetDateTime) -> Result<String, StoreError> {
    let utc = t.to_offset(UtcOffset::UTC);
    // Negative or five-digit years would break the fixed width that string comparison relies on.
    if !(0..=9999).contains(&utc.year()) {
        return Err(StoreError::InvalidTime(format!(
            "year {} is out of range",
            utc.year()
        )));
    }
    utc.format(FIXED_WIDTH)
        .map_err(|e| StoreError::InvalidTime(e.to_string()))
}

pub(crate) fn decode(s: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| StoreError::Decode(format!("time `{s}`: {e}")))
}

/// DynamoDB TTL wants whole epoch seconds; rounding up never expires an item early.
pub(crate) fn epoch_seconds_ceil(t: OffsetDateTime) -> i64 {
    let secs = t.unix_timestamp();
    if t.nanosecond() > 0 { secs + 1 } else { secs }
}

/// `#[serde(with = "crate::timestamp")]`
pub(crate) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    let text = encode(*t).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    let text = String::deserialize(d)?;
    decode(&text).map_err(serde::de::Error::custom)
}

/// `#[serde(default, with = "crate::timestamp::option")]`
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        t: &Option<OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => decode(&text).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// `#[serde(default, with = "crate::timestamp::vec")]`
pub(crate) mod vec {
    use super::*;
    use serde::ser::SerializeSeq;

    pub(crate) fn serialize<S: Serializer>(ts: &[OffsetDateTime], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(ts.len()))?;
        for t in ts {
            seq.serialize_element(&encode(*t).map_err(serde::ser::Error::custom)?)?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<OffsetDateTime>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|text| decode(text).map_err(serde::de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    #[test]
    fn string_order_is_time_order() {
        let base = datetime!(2026-11-01 09:59:59.999999 UTC);
        let times = [
            base,
            base + Duration::microseconds(1),
            base + Duration::seconds(1),
            base + Duration::days(400),
            datetime!(2026-11-01 12:00 +02:00),
        ];
        for a in times {
            for b in times {
                let (ea, eb) = (encode(a).unwrap(), encode(b).unwrap());
                assert_eq!(ea.len(), eb.len());
                assert_eq!(ea.cmp(&eb), a.cmp(&b), "{ea} vs {eb}");
            }
        }
    }

    #[test]
    fn round_trips_at_microsecond_precision() {
        let t = datetime!(2026-11-01 10:00:00.123456 UTC);
        assert_eq!(encode(t).unwrap(), "2026-11-01T10:00:00.123456Z");
        assert_eq!(decode(&encode(t).unwrap()).unwrap(), t);
    }

    #[test]
    fn ttl_seconds_round_up() {
        assert_eq!(epoch_seconds_ceil(datetime!(1970-01-01 00:00:10 UTC)), 10);
        assert_eq!(epoch_seconds_ceil(datetime!(1970-01-01 00:00:10.1 UTC)), 11);
    }
}
