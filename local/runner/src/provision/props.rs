//! Typed reads of evaluated resource properties. CloudFormation accepts `"true"` and `"5"` where
//! booleans and numbers are meant, so both spellings are read.

use anyhow::{Context, bail};
use serde_json::{Map, Value};

pub fn text(obj: &Map<String, Value>, key: &str, at: &str) -> anyhow::Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(other) => bail!("{at}.{key}: expected a string, found {other}"),
    }
}

pub fn required_text(obj: &Map<String, Value>, key: &str, at: &str) -> anyhow::Result<String> {
    text(obj, key, at)?.with_context(|| format!("{at}.{key} is required"))
}

pub fn flag(obj: &Map<String, Value>, key: &str, at: &str) -> anyhow::Result<Option<bool>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => bail!("{at}.{key}: expected a boolean, found {other}"),
    }
}

pub fn number(obj: &Map<String, Value>, key: &str, at: &str) -> anyhow::Result<Option<i64>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .with_context(|| format!("{at}.{key}: expected an integer, found {n}")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .with_context(|| format!("{at}.{key}: expected an integer, found {s:?}")),
        Some(other) => bail!("{at}.{key}: expected an integer, found {other}"),
    }
}

pub fn object<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    at: &str,
) -> anyhow::Result<Option<&'v Map<String, Value>>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => bail!("{at}.{key}: expected a mapping, found {other}"),
    }
}

/// A list of mappings; absent means empty.
pub fn objects<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    at: &str,
) -> anyhow::Result<Vec<&'v Map<String, Value>>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_object()
                    .with_context(|| format!("{at}.{key}[{i}]: expected a mapping, found {item}"))
            })
            .collect(),
        Some(other) => bail!("{at}.{key}: expected a list, found {other}"),
    }
}

/// A list of strings; absent means empty.
pub fn texts(obj: &Map<String, Value>, key: &str, at: &str) -> anyhow::Result<Vec<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => bail!("{at}.{key}: expected strings, found {other}"),
            })
            .collect(),
        Some(other) => bail!("{at}.{key}: expected a list, found {other}"),
    }
}
