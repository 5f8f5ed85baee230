//! DynamoDB capacity, metered the way DynamoDB bills it, for calls made against an emulator
//! that does not meter (moto answers a fixed `ConsumedCapacity`). The meter looks at the items
//! each call touched, read back from the emulator around the call, and applies DynamoDB's
//! published rules:
//! - a write costs one unit per started KB of the larger of the item before and after it
//!   (a write whose condition fails still costs it), two in a transaction;
//! - each write that adds, changes or removes the item in the global secondary index costs
//!   the index one write per started KB of its projection (ALL here); changing the index key
//!   is a removal plus an addition;
//! - a strongly consistent read costs one unit per started 4 KB, an eventually consistent one
//!   half; a query or scan rounds the total it returned, a get each item; a transactional read
//!   costs two.
//!
//! Item sizes follow DynamoDB's rules: attribute names in UTF-8, strings in UTF-8, numbers
//! about one byte per two significant digits plus one, binary as decoded, booleans and nulls
//! one byte, lists and maps three bytes plus one per element.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The partition and sort key of the table, and of its one global secondary index.
const TABLE_KEYS: [&str; 2] = ["pk", "sk"];
const INDEX_KEYS: [&str; 2] = ["gsi1pk", "gsi1sk"];
const WRITE_UNIT_BYTES: u64 = 1024;
const READ_UNIT_BYTES: u64 = 4096;

/// Units one call consumed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub read_units: f64,
    pub write_units: f64,
}

impl std::ops::AddAssign for Capacity {
    fn add_assign(&mut self, other: Self) {
        self.read_units += other.read_units;
        self.write_units += other.write_units;
    }
}

/// The size DynamoDB bills for an item in its JSON wire form (`{"name": {"S": "…"}, …}`).
pub fn item_size(item: &Value) -> u64 {
    item.as_object()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| name.len() as u64 + value_size(value))
                .sum()
        })
        .unwrap_or(0)
}

fn value_size(value: &Value) -> u64 {
    let Some((kind, v)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match kind.as_str() {
        "S" => v.as_str().map_or(0, |s| s.len() as u64),
        "N" => v.as_str().map_or(0, number_size),
        "B" => v.as_str().map_or(0, base64_decoded_len),
        "BOOL" | "NULL" => 1,
        "SS" => strings(v).map(|s| s.len() as u64).sum(),
        "NS" => strings(v).map(number_size).sum(),
        "BS" => strings(v).map(base64_decoded_len).sum(),
        "L" => {
            3 + v
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| 1 + value_size(e))
                .sum::<u64>()
        }
        "M" => {
            3 + v
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, e)| 1 + name.len() as u64 + value_size(e))
                .sum::<u64>()
        }
        _ => 0,
    }
}

fn strings(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

fn number_size(n: &str) -> u64 {
    let digits = n
        .trim_start_matches('-')
        .split(['e', 'E'])
        .next()
        .unwrap_or_default()
        .replace('.', "");
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len() as u64;
    significant.div_ceil(2) + 1
}

fn base64_decoded_len(b: &str) -> u64 {
    let padding = b.bytes().rev().take_while(|&c| c == b'=').count() as u64;
    (b.len() as u64 / 4 * 3).saturating_sub(padding)
}

fn units(bytes: u64, unit: u64) -> u64 {
    bytes.div_ceil(unit).max(1)
}

/// The key of `item` in the table: what a `GetItem` asks for.
pub fn table_key(item: &Value) -> Option<Value> {
    let mut key = serde_json::Map::new();
    for name in TABLE_KEYS {
        key.insert(name.to_owned(), item.get(name)?.clone());
    }
    Some(Value::Object(key))
}

fn index_key(item: &Value) -> Option<(&Value, &Value)> {
    Some((item.get(INDEX_KEYS[0])?, item.get(INDEX_KEYS[1])?))
}

/// One item write: the item as it was before and after (`None` where there was none).
pub fn write(before: Option<&Value>, after: Option<&Value>, transactional: bool) -> Capacity {
    let size = before.map_or(0, item_size).max(after.map_or(0, item_size));
    let table = units(size, WRITE_UNIT_BYTES) * if transactional { 2 } else { 1 };
    let index = match (before.and_then(index_key), after.and_then(index_key)) {
        (None, None) => 0,
        (Some(_), None) => units(before.map_or(0, item_size), WRITE_UNIT_BYTES),
        (None, Some(_)) => units(after.map_or(0, item_size), WRITE_UNIT_BYTES),
        (Some(old), Some(new)) if old == new => {
            if before == after {
                0
            } else {
                units(size, WRITE_UNIT_BYTES)
            }
        }
        (Some(_), Some(_)) => {
            units(before.map_or(0, item_size), WRITE_UNIT_BYTES)
                + units(after.map_or(0, item_size), WRITE_UNIT_BYTES)
        }
    };
    Capacity {
        read_units: 0.0,
        write_units: (table + index) as f64,
    }
}

/// A read of `items`: one by one (`GetItem`, `BatchGetItem`, `TransactGetItems`) or as one
/// result (`Query`, `Scan`).
pub fn read(items: &[Value], consistent: bool, whole: bool, transactional: bool) -> Capacity {
    let per_unit = if transactional {
        2.0
    } else if consistent {
        1.0
    } else {
        0.5
    };
    let started_units = if whole {
        units(items.iter().map(item_size).sum(), READ_UNIT_BYTES)
    } else if items.is_empty() {
        1
    } else {
        items
            .iter()
            .map(|i| units(item_size(i), READ_UNIT_BYTES))
            .sum()
    };
    Capacity {
        read_units: started_units as f64 * per_unit,
        write_units: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn item_sizes_follow_dynamodbs_rules() {
        assert_eq!(item_size(&json!({"pk": {"S": "T#acme"}})), 2 + 6);
        assert_eq!(item_size(&json!({"n": {"N": "12345"}})), 1 + 4);
        assert_eq!(item_size(&json!({"n": {"N": "-0.0012"}})), 1 + 2);
        assert_eq!(item_size(&json!({"b": {"B": "aGVsbG8="}})), 1 + 5);
        assert_eq!(item_size(&json!({"ok": {"BOOL": true}})), 2 + 1);
        assert_eq!(
            item_size(&json!({"m": {"M": {"a": {"S": "xy"}}}})),
            1 + 3 + 1 + 1 + 2
        );
        assert_eq!(
            item_size(&json!({"l": {"L": [{"S": "x"}, {"NULL": true}]}})),
            1 + 3 + 2 + 2
        );
    }

    fn item_of(bytes: usize, indexed: bool) -> Value {
        let mut item =
            json!({"pk": {"S": "p"}, "sk": {"S": "s"}, "data": {"S": "x".repeat(bytes)}});
        if indexed {
            item["gsi1pk"] = json!({"S": "g"});
            item["gsi1sk"] = json!({"S": "1"});
        }
        item
    }

    #[test]
    fn a_write_costs_the_larger_item_per_started_kb_and_double_in_a_transaction() {
        let small = item_of(100, false);
        let large = item_of(2500, false);
        assert_eq!(write(None, Some(&small), false).write_units, 1.0);
        assert_eq!(write(Some(&large), Some(&small), false).write_units, 3.0);
        assert_eq!(write(None, Some(&small), true).write_units, 2.0);
        assert_eq!(
            write(None, None, false).write_units,
            1.0,
            "a failed condition still costs"
        );
    }

    #[test]
    fn the_index_pays_for_each_change_it_sees() {
        let plain = item_of(100, false);
        let indexed = item_of(100, true);
        assert_eq!(write(None, Some(&indexed), false).write_units, 2.0);
        assert_eq!(write(Some(&plain), Some(&indexed), false).write_units, 2.0);
        assert_eq!(
            write(Some(&indexed), Some(&indexed), false).write_units,
            1.0,
            "an unchanged item does not touch the index"
        );
        let mut moved = indexed.clone();
        moved["gsi1sk"] = json!({"S": "2"});
        assert_eq!(
            write(Some(&indexed), Some(&moved), false).write_units,
            3.0,
            "a new index key removes and adds"
        );
    }

    #[test]
    fn reads_cost_per_started_4_kb() {
        let items = [item_of(3000, false), item_of(3000, false)];
        assert_eq!(read(&items, true, true, false).read_units, 2.0);
        assert_eq!(read(&items, false, true, false).read_units, 1.0);
        assert_eq!(read(&items, true, false, false).read_units, 2.0);
        assert_eq!(read(&[], true, false, false).read_units, 1.0);
        assert_eq!(read(&items[..1], true, false, true).read_units, 2.0);
    }
}
