//! Opaque page cursors: DynamoDB's LastEvaluatedKey as base64url JSON. A cursor is only accepted
//! for the listing that produced it, so one tenant cannot page through another's items by
//! replaying a cursor.

use crate::error::StoreError;
use crate::item::Item;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::BTreeMap;

/// Longer than any key this table produces; bounds the work spent on hostile input.
const MAX_CURSOR_LEN: usize = 4096;

pub(crate) fn encode(last_evaluated_key: &Item) -> Result<String, StoreError> {
    let mut fields = BTreeMap::new();
    for (name, value) in last_evaluated_key {
        match value {
            AttributeValue::S(v) => {
                fields.insert(name.as_str(), v.as_str());
            }
            _ => {
                return Err(StoreError::Decode(format!(
                    "non-string key attribute `{name}`"
                )));
            }
        }
    }
    let json = serde_json::to_vec(&fields).map_err(|e| StoreError::Encode(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Decodes a cursor and checks, with `belongs`, that it points into the listing being read.
pub(crate) fn decode(
    cursor: &str,
    belongs: impl Fn(&BTreeMap<String, String>) -> bool,
) -> Result<Item, StoreError> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(StoreError::InvalidCursor);
    }
    let json = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let fields: BTreeMap<String, String> =
        serde_json::from_slice(&json).map_err(|_| StoreError::InvalidCursor)?;
    if !belongs(&fields) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(fields
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

pub(crate) fn next(last_evaluated_key: Option<&Item>) -> Result<Option<String>, StoreError> {
    last_evaluated_key
        .filter(|k| !k.is_empty())
        .map(encode)
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign_or_garbled_cursors() {
        let key: Item = [("pk", "T#a#CONV#c"), ("sk", "MSG#1")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
            .collect();
        let cursor = encode(&key).unwrap();
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let same_listing =
            |f: &BTreeMap<String, String>| f.get("pk").map(String::as_str) == Some("T#a#CONV#c");
        assert_eq!(decode(&cursor, same_listing).unwrap(), key);
        let other_tenant =
            |f: &BTreeMap<String, String>| f.get("pk").map(String::as_str) == Some("T#b#CONV#c");
        assert!(matches!(
            decode(&cursor, other_tenant),
            Err(StoreError::InvalidCursor)
        ));
        assert!(matches!(
            decode("not a cursor", same_listing),
            Err(StoreError::InvalidCursor)
        ));
    }
}
