//! A JSON array that almost always holds one element: a webhook change carries one message,
//! one status or one contact nearly every time, and this saves an allocation for each.

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

#[derive(Debug, Default)]
pub(crate) enum Items<T> {
    #[default]
    Empty,
    One(T),
    Many(Vec<T>),
}

impl<T> Items<T> {
    pub fn as_slice(&self) -> &[T] {
        match self {
            Items::Empty => &[],
            Items::One(item) => std::slice::from_ref(item),
            Items::Many(items) => items,
        }
    }

    pub fn push(&mut self, item: T) {
        match self {
            Items::Empty => *self = Items::One(item),
            Items::Many(items) => items.push(item),
            Items::One(_) => {
                if let Items::One(first) = std::mem::take(self) {
                    *self = Items::Many(vec![first, item]);
                }
            }
        }
    }
}

impl<T> Deref for Items<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Items<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Items<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items<T>, A::Error> {
                let Some(first) = seq.next_element()? else {
                    return Ok(Items::Empty);
                };
                let Some(second) = seq.next_element()? else {
                    return Ok(Items::One(first));
                };
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0) + 2);
                items.push(first);
                items.push(second);
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Items::Many(items))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_element_in_order() {
        for json in ["[]", "[1]", "[1,2]", "[1,2,3,4]"] {
            let items: Items<u8> = serde_json::from_str(json).unwrap();
            let expected: Vec<u8> = serde_json::from_str(json).unwrap();
            assert_eq!(items.as_slice(), expected.as_slice(), "{json}");
        }
        assert!(serde_json::from_str::<Items<u8>>("{}").is_err());
    }

    #[test]
    fn pushes_in_order() {
        for n in 0..5u8 {
            let mut items = Items::Empty;
            for i in 0..n {
                items.push(i);
            }
            assert_eq!(&*items, (0..n).collect::<Vec<_>>().as_slice());
        }
    }
}
