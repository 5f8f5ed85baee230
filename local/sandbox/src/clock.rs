//! Wall-clock readings in the two forms the sandbox writes.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Seconds since the epoch, as in webhook `timestamp` fields.
pub fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

pub fn rfc3339_now() -> String {
    let now = OffsetDateTime::now_utc();
    // Formatting a current UTC time as RFC 3339 cannot fail; fall back to seconds just in case.
    now.format(&Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}
