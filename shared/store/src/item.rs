//! Items <-> structs through serde_dynamo.

use crate::error::StoreError;
use crate::keys;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// `None` fields are left out rather than stored as NULL: `if_not_exists` treats a NULL
/// attribute as present, which would freeze a timestamp at "unset" forever.
pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::aws_sdk_dynamodb_1::to_item(value)
        .map_err(|e| StoreError::Encode(e.to_string()))?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    Ok(item)
}

/// Reads the record's fields; key and bookkeeping attributes are ignored.
pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| StoreError::Decode(e.to_string()))
}

pub(crate) fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(value)
        .map_err(|e| StoreError::Encode(e.to_string()))
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The primary key of an item.
pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}

/// `value`'s attributes under the given key, tagged with the entity name.
pub(crate) fn keyed<T: Serialize>(
    value: &T,
    entity: &'static str,
    pk: impl Into<String>,
    sk: impl Into<String>,
) -> Result<Item, StoreError> {
    let mut item = to_item(value)?;
    item.extend(key(pk, sk));
    item.insert(keys::ENTITY.to_owned(), s(entity));
    Ok(item)
}

pub(crate) fn string_attribute<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

pub(crate) fn number_attribute(item: &Item, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}
