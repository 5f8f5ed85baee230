//! Page cursors (`?cursor=` of the list endpoints). The decoder is crate-private in
//! switchboard-store, so its source file is compiled in here unchanged, with the two crate
//! items it names (`StoreError`, the real one; `Item`, the same alias as the store's).
//!
//! Three inputs per run, none of which may panic:
//! - any text as a client would send it: always refused (nobody can forge the tag);
//! - any payload bytes carrying a correct tag, which reach the payload parser behind the tag
//!   check, and payloads with any `k` and any issue time, which reach the expiry arithmetic;
//! - a cursor encoded for any key: read back as that key by its own listing within the ttl,
//!   refused by any other listing and after the ttl.

#![no_main]

mod error {
    pub use switchboard_store::StoreError;
}

mod item {
    pub type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;
}

#[allow(dead_code)]
#[path = "../../shared/store/src/cursor.rs"]
mod cursor;

use arbitrary::Arbitrary;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cursor::CursorCodec;
use error::StoreError;
use hmac::{Hmac, Mac};
use item::Item;
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use switchboard_domain::Secret;
use time::{Duration, OffsetDateTime};

const SECRET: &str = "fuzz-cursor-signing-secret-0123456789abcdef";
/// The format of cursor.rs, restated; the round trip below checks it still matches.
const KEY_PURPOSE: &[u8] = b"switchboard/page-cursor/v1";
const TAG_LEN: usize = 32;
/// 2026-11-01T10:00:00Z; `now` is taken within a century either side.
const BASE: i64 = 1_793_527_200;
const CENTURY: i64 = 100 * 366 * 86_400;

static CODEC: LazyLock<CursorCodec> = LazyLock::new(|| {
    CursorCodec::new(&Secret::new(SECRET), CursorCodec::DEFAULT_TTL).expect("long enough")
});

#[derive(Debug, Arbitrary)]
struct Input {
    now: i64,
    scope: String,
    other_scope: String,
    cursor: String,
    payload: Vec<u8>,
    k: String,
    age: i64,
    key: BTreeMap<String, String>,
}

fn tag(scope: &str, payload: &[u8]) -> [u8; TAG_LEN] {
    let derived = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes())
        .expect("any key length")
        .chain_update(KEY_PURPOSE)
        .finalize()
        .into_bytes();
    <Hmac<Sha256> as Mac>::new_from_slice(&derived)
        .expect("any key length")
        .chain_update((scope.len() as u64).to_be_bytes())
        .chain_update(scope.as_bytes())
        .chain_update(payload)
        .finalize()
        .into_bytes()
        .into()
}

fn signed(scope: &str, payload: &[u8]) -> String {
    let mut raw = tag(scope, payload).to_vec();
    raw.extend_from_slice(payload);
    URL_SAFE_NO_PAD.encode(&raw)
}

fn refused(r: &Result<Item, StoreError>) -> bool {
    matches!(r, Err(StoreError::InvalidCursor))
}

fuzz_target!(|input: Input| {
    let now = OffsetDateTime::from_unix_timestamp(BASE + input.now % CENTURY).expect("in range");
    let cursors = CODEC.at(now);
    let any = |_: &BTreeMap<String, String>| true;

    // Whatever a client makes up.
    let made_up = cursors.decode(&input.scope, &input.cursor, any);
    assert!(refused(&made_up), "a made-up cursor was taken: {made_up:?}");

    // Anything at all behind a correct tag.
    match cursors.decode(&input.scope, &signed(&input.scope, &input.payload), any) {
        Ok(start) => assert!(start.values().all(|v| matches!(v, AttributeValue::S(_)))),
        Err(e) => assert!(matches!(e, StoreError::InvalidCursor), "{e:?}"),
    }

    // Any key, issued at any time before or after now.
    let issued_at = now.unix_timestamp().wrapping_sub(input.age);
    let payload = format!(r#"{{"k":{},"t":{issued_at}}}"#, input.k);
    match cursors.decode(&input.scope, &signed(&input.scope, payload.as_bytes()), any) {
        Ok(_) => {
            let age = Duration::seconds(input.age);
            assert!(
                age >= -Duration::minutes(5) && age <= CursorCodec::DEFAULT_TTL,
                "{age}"
            );
        }
        Err(e) => assert!(matches!(e, StoreError::InvalidCursor), "{e:?}"),
    }

    // A real cursor for any key.
    let key: Item = input
        .key
        .iter()
        .map(|(k, v)| (k.clone(), AttributeValue::S(v.clone())))
        .collect();
    let issued = cursors
        .encode(&input.scope, &key)
        .expect("string keys encode");
    let raw = URL_SAFE_NO_PAD.decode(&issued).expect("base64url");
    assert_eq!(
        raw[..TAG_LEN],
        tag(&input.scope, &raw[TAG_LEN..]),
        "cursor.rs signs differently now: update tag() here"
    );
    let back = cursors.decode(&input.scope, &issued, any);
    if issued.len() > 4096 {
        assert!(refused(&back), "an over-long cursor was taken");
        return;
    }
    assert_eq!(back.expect("its own listing takes it"), key);
    if input.other_scope != input.scope {
        assert!(refused(&cursors.decode(&input.other_scope, &issued, any)));
    }
    assert!(refused(&cursors.decode(&input.scope, &issued, |_| false)));
    let expired = CODEC.at(now + CursorCodec::DEFAULT_TTL + Duration::seconds(1));
    assert!(refused(&expired.decode(&input.scope, &issued, any)));
});
