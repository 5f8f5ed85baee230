//! Opaque page cursors, signed and expiring.
//!
//! A cursor is `base64url(tag ‖ payload)`: `payload` is JSON `{"k": LastEvaluatedKey, "t":
//! issued at (Unix seconds)}` and `tag` is HMAC-SHA256 over the listing's scope (which names
//! the tenant and the partition being read) and the payload. So a cursor is only accepted by
//! the listing that issued it, for [`CursorCodec::ttl`] after it was issued, and a client can
//! neither make one up nor edit one: each such cursor is [`StoreError::InvalidCursor`]. The tag
//! is checked before anything in the payload is parsed.

use crate::error::StoreError;
use crate::item::Item;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;
use switchboard_domain::Secret;
use time::{Duration, OffsetDateTime};

/// Longer than any cursor this table produces; bounds the work spent on hostile input.
const MAX_CURSOR_LEN: usize = 4096;
const TAG_LEN: usize = 32;
/// Clocks of two API containers may disagree a little; a cursor from further ahead is forged.
const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);
/// Domain separation: the signing key is derived from the secret for this one purpose.
const KEY_PURPOSE: &[u8] = b"switchboard/page-cursor/v1";

type HmacSha256 = Hmac<Sha256>;

/// The signing key is shorter than [`CursorCodec::MIN_KEY_BYTES`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("the page cursor signing key must be at least {min} bytes", min = CursorCodec::MIN_KEY_BYTES)]
pub struct WeakCursorKey;

/// Signs the cursors a listing hands out and checks the ones it is given back. Built once at
/// init from a secret; cheap to clone; Debug never shows the key. Time comes from the caller's
/// clock, through [`CursorCodec::at`].
#[derive(Clone)]
pub struct CursorCodec {
    mac: HmacSha256,
    ttl: Duration,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CursorCodec")
            .field("key", &"[REDACTED]")
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// The codec as of one moment: what the store's listings take.
#[derive(Debug, Clone, Copy)]
pub struct Cursors<'a> {
    codec: &'a CursorCodec,
    now: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The key to continue after (DynamoDB's `LastEvaluatedKey`; our keys are all strings).
    k: BTreeMap<String, String>,
    /// When the cursor was issued, Unix seconds.
    t: i64,
}

impl CursorCodec {
    /// How long a cursor stays usable unless told otherwise.
    pub const DEFAULT_TTL: Duration = Duration::hours(24);
    /// 256 bits, as HMAC-SHA256 wants.
    pub const MIN_KEY_BYTES: usize = 32;

    /// `secret` is the signing secret as stored; a key for cursors only is derived from it.
    pub fn new(secret: &Secret, ttl: Duration) -> Result<Self, WeakCursorKey> {
        let secret = secret.expose().as_bytes();
        if secret.len() < Self::MIN_KEY_BYTES {
            return Err(WeakCursorKey);
        }
        let derived = HmacSha256::new_from_slice(secret)
            .map_err(|_| WeakCursorKey)?
            .chain_update(KEY_PURPOSE)
            .finalize()
            .into_bytes();
        let mac = HmacSha256::new_from_slice(&derived).map_err(|_| WeakCursorKey)?;
        Ok(Self { mac, ttl })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Cursors issued at, and checked for expiry against, `now`.
    pub fn at(&self, now: OffsetDateTime) -> Cursors<'_> {
        Cursors { codec: self, now }
    }
}

impl Cursors<'_> {
    /// The tag binds the payload to the listing: length-prefixed, so no scope and payload pair
    /// reads as another.
    fn tag(&self, scope: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = self.codec.mac.clone();
        mac.update(&(scope.len() as u64).to_be_bytes());
        mac.update(scope.as_bytes());
        mac.update(payload);
        mac
    }

    /// A cursor for the listing `scope` that continues after `last_evaluated_key`.
    pub(crate) fn encode(
        &self,
        scope: &str,
        last_evaluated_key: &Item,
    ) -> Result<String, StoreError> {
        let mut k = BTreeMap::new();
        for (name, value) in last_evaluated_key {
            match value {
                AttributeValue::S(v) => {
                    k.insert(name.clone(), v.clone());
                }
                _ => {
                    return Err(StoreError::Decode(format!(
                        "non-string key attribute `{name}`"
                    )));
                }
            }
        }
        let payload = serde_json::to_vec(&Payload {
            k,
            t: self.now.unix_timestamp(),
        })
        .map_err(|e| StoreError::Encode(e.to_string()))?;
        let mut raw = self.tag(scope, &payload).finalize().into_bytes().to_vec();
        raw.extend_from_slice(&payload);
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    /// The start key a cursor stands for, if this listing (`scope`) issued it, it is unchanged
    /// and not expired, and its key has the shape `belongs` expects.
    pub(crate) fn decode(
        &self,
        scope: &str,
        cursor: &str,
        belongs: impl Fn(&BTreeMap<String, String>) -> bool,
    ) -> Result<Item, StoreError> {
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(StoreError::InvalidCursor);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| StoreError::InvalidCursor)?;
        if raw.len() <= TAG_LEN {
            return Err(StoreError::InvalidCursor);
        }
        let (tag, payload) = raw.split_at(TAG_LEN);
        // Constant time: a mismatch says nothing about how much of the tag was right.
        self.tag(scope, payload)
            .verify_slice(tag)
            .map_err(|_| StoreError::InvalidCursor)?;
        let Payload { k, t } =
            serde_json::from_slice(payload).map_err(|_| StoreError::InvalidCursor)?;
        let issued_at =
            OffsetDateTime::from_unix_timestamp(t).map_err(|_| StoreError::InvalidCursor)?;
        if issued_at > self.now + MAX_CLOCK_SKEW || self.now - issued_at > self.codec.ttl {
            return Err(StoreError::InvalidCursor);
        }
        // Signed by us for this listing, so this holds; checked anyway, it costs nothing.
        if !belongs(&k) {
            return Err(StoreError::InvalidCursor);
        }
        Ok(k.into_iter()
            .map(|(name, v)| (name, AttributeValue::S(v)))
            .collect())
    }

    /// The next page's cursor, if DynamoDB says there may be more.
    pub(crate) fn next(
        &self,
        scope: &str,
        last_evaluated_key: Option<&Item>,
    ) -> Result<Option<String>, StoreError> {
        last_evaluated_key
            .filter(|k| !k.is_empty())
            .map(|k| self.encode(scope, k))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const KEY: &str = "0123456789abcdef0123456789abcdef-test-key";
    const SCOPE: &str = "messages:T#a#CONV#c";
    const T0: OffsetDateTime = datetime!(2026-11-01 10:00 UTC);

    fn key() -> Item {
        [("pk", "T#a#CONV#c"), ("sk", "MSG#1")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
            .collect()
    }

    fn codec(secret: &str) -> CursorCodec {
        CursorCodec::new(&Secret::new(secret), CursorCodec::DEFAULT_TTL).expect("long enough")
    }

    fn any(_: &BTreeMap<String, String>) -> bool {
        true
    }

    fn invalid(r: Result<Item, StoreError>) -> bool {
        matches!(r, Err(StoreError::InvalidCursor))
    }

    #[test]
    fn round_trips_within_its_listing() {
        let c = codec(KEY);
        let cursor = c.at(T0).encode(SCOPE, &key()).unwrap();
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(c.at(T0).decode(SCOPE, &cursor, any).unwrap(), key());
        // Another codec built from the same secret (another container) takes it too.
        assert_eq!(
            codec(KEY).at(T0).decode(SCOPE, &cursor, any).unwrap(),
            key()
        );
        assert_eq!(c.at(T0).next(SCOPE, Some(&Item::new())).unwrap(), None);
        assert_eq!(c.at(T0).next(SCOPE, None).unwrap(), None);
    }

    #[test]
    fn another_listing_or_another_key_refuses_it() {
        let codec_a = codec(KEY);
        let c = codec_a.at(T0);
        let cursor = c.encode(SCOPE, &key()).unwrap();
        assert!(invalid(c.decode("messages:T#b#CONV#c", &cursor, any)));
        assert!(invalid(c.decode("conversations:T#a#CONVS", &cursor, any)));
        let other = codec("another-secret-another-secret-another");
        assert!(invalid(other.at(T0).decode(SCOPE, &cursor, any)));
        // The shape check still applies to what we signed.
        assert!(invalid(c.decode(SCOPE, &cursor, |k| k.len() == 4)));
    }

    #[test]
    fn tampered_or_made_up_cursors_are_refused() {
        let codec_a = codec(KEY);
        let c = codec_a.at(T0);
        let cursor = c.encode(SCOPE, &key()).unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        for at in [0, TAG_LEN, raw.len() - 1] {
            raw[at] ^= 1;
            assert!(invalid(c.decode(SCOPE, &URL_SAFE_NO_PAD.encode(&raw), any)));
            raw[at] ^= 1;
        }
        assert!(c.decode(SCOPE, &URL_SAFE_NO_PAD.encode(&raw), any).is_ok());
        // Another key put in, the tag kept.
        let mut forged = raw[..TAG_LEN].to_vec();
        forged.extend_from_slice(br#"{"k":{"pk":"T#b#CONV#c","sk":"MSG#1"},"t":1793527200}"#);
        assert!(invalid(c.decode(
            SCOPE,
            &URL_SAFE_NO_PAD.encode(&forged),
            any
        )));
        // The unsigned cursors of before, garbage, empty, too long.
        let unsigned = URL_SAFE_NO_PAD.encode(br#"{"pk":"T#a#CONV#c","sk":"MSG#1"}"#);
        let long = "A".repeat(5000);
        for bad in [unsigned.as_str(), "not a cursor", "", "AAAA", &long] {
            assert!(invalid(c.decode(SCOPE, bad, any)), "{bad}");
        }
    }

    #[test]
    fn cursors_expire_after_the_ttl() {
        let c = codec(KEY);
        let cursor = c.at(T0).encode(SCOPE, &key()).unwrap();
        let last = T0 + CursorCodec::DEFAULT_TTL;
        assert!(
            c.at(last).decode(SCOPE, &cursor, any).is_ok(),
            "usable for the whole ttl"
        );
        let expired = last + Duration::seconds(1);
        assert!(invalid(c.at(expired).decode(SCOPE, &cursor, any)));
    }

    #[test]
    fn cursors_from_the_future_are_refused() {
        let c = codec(KEY);
        let cursor = c.at(T0 + Duration::hours(1)).encode(SCOPE, &key()).unwrap();
        assert!(invalid(c.at(T0).decode(SCOPE, &cursor, any)));
        // A container whose clock is a little behind still takes it.
        let behind = T0 + Duration::hours(1) - MAX_CLOCK_SKEW;
        assert!(
            c.at(behind).decode(SCOPE, &cursor, any).is_ok(),
            "a little skew is fine"
        );
    }

    #[test]
    fn short_keys_are_refused_and_debug_redacts() {
        assert!(CursorCodec::new(&Secret::new("short"), Duration::hours(1)).is_err());
        let c = codec(KEY);
        for shown in [format!("{c:?}"), format!("{:?}", c.at(T0))] {
            assert!(!shown.contains("0123456789abcdef"), "{shown}");
            assert!(shown.contains("REDACTED"), "{shown}");
        }
    }
}
