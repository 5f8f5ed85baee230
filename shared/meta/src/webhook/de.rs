//! serde's `Deserializer` over the [`Scanner`], so that the derived wire types read straight
//! from the body in the single pass, where the scanner knows each value's extent.
//!
//! It must hand every visitor exactly what serde_json would, so that a value reads the same
//! (or fails the same) either way. The common cases are done here, following serde_json's
//! `Deserializer` call for call: plain strings borrowed, objects, arrays, options, booleans
//! and small non-negative integers. Whatever is less common (escaped strings, other numbers,
//! newtypes such as `&RawValue`, enums, bytes) is handed to serde_json itself over that
//! value's text.

use super::scan::{Reject, Scanner, Text};
use serde::de::{self, DeserializeSeed, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Error;
use serde_json::de::StrRead;

/// Reads a `T` from the whole of `json`.
pub(crate) fn from_str<'de, T: de::Deserialize<'de>>(json: &'de str) -> Result<T, Error> {
    let mut scanner = Scanner::new(json);
    let value = T::deserialize(&mut scanner)?;
    scanner.end().map_err(invalid)?;
    Ok(value)
}

/// The scanner's rejection as a serde error. Its message never reaches anyone: a caller that
/// needs to tell a bad value from bad JSON checks the JSON with the scanner.
fn invalid(_: Reject) -> Error {
    de::Error::custom("invalid JSON")
}

/// Lets serde_json read `text` (one whole value of the body, already checked).
fn delegate<'de, T>(
    text: &'de str,
    read: impl FnOnce(&mut serde_json::Deserializer<StrRead<'de>>) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut json = serde_json::Deserializer::from_str(text);
    let value = read(&mut json)?;
    json.end()?;
    Ok(value)
}

/// Hands the next value to serde_json with the same request.
macro_rules! delegate {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
                let text = self.skip_value().map_err(invalid)?.get();
                delegate(text, |json| de::Deserializer::$method(json, $($arg,)* visitor))
            }
        )*
    };
}

impl<'de> Scanner<'de> {
    fn read_string<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        match self.string().map_err(invalid)? {
            Text::Plain(s) => visitor.visit_borrowed_str(s),
            Text::Escaped(token) => delegate(token, |json| {
                de::Deserializer::deserialize_str(json, visitor)
            }),
        }
    }

    /// A number as serde_json reads it: a non-negative integer that fits `u64` here, anything
    /// else (signs, fractions, exponents, huge values) by serde_json, which picks `i64` or
    /// `f64` and rounds floats exactly as it does everywhere else.
    fn read_number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let token = self.number().map_err(invalid)?;
        // Nineteen digits always fit a `u64`.
        if token.len() <= 19 && token.bytes().all(|b| b.is_ascii_digit()) {
            let n = token
                .bytes()
                .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
            return visitor.visit_u64(n);
        }
        delegate(token, |json| {
            de::Deserializer::deserialize_any(json, visitor)
        })
    }

    fn read_map<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.enter_object().map_err(invalid)?;
        let mut map = MapAccess {
            scanner: self,
            first: true,
            done: false,
        };
        let value = visitor.visit_map(&mut map)?;
        // A visitor that stopped early leaves members unread, as serde_json would not accept.
        if !map.done && map.scanner.next_member(&mut map.first).map_err(invalid)? {
            return Err(invalid(Reject));
        }
        Ok(value)
    }

    fn read_seq<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.enter_array().map_err(invalid)?;
        let mut seq = SeqAccess {
            scanner: self,
            first: true,
            done: false,
        };
        let value = visitor.visit_seq(&mut seq)?;
        if !seq.done && seq.scanner.next_element(&mut seq.first).map_err(invalid)? {
            return Err(invalid(Reject));
        }
        Ok(value)
    }
}

impl<'de> de::Deserializer<'de> for &mut Scanner<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'"') => self.read_string(visitor),
            Some(b'{') => self.read_map(visitor),
            Some(b'[') => self.read_seq(visitor),
            Some(b'-' | b'0'..=b'9') => self.read_number(visitor),
            Some(b'n') => {
                self.literal("null").map_err(invalid)?;
                visitor.visit_unit()
            }
            Some(b't') => {
                self.literal("true").map_err(invalid)?;
                visitor.visit_bool(true)
            }
            Some(b'f') => {
                self.literal("false").map_err(invalid)?;
                visitor.visit_bool(false)
            }
            _ => Err(invalid(Reject)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b't' | b'f') => self.deserialize_any(visitor),
            _ => Err(invalid(Reject)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'"') => self.read_string(visitor),
            _ => Err(invalid(Reject)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.null().map_err(invalid)? {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'[') => self.read_seq(visitor),
            _ => Err(invalid(Reject)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'{') => self.read_map(visitor),
            _ => Err(invalid(Reject)),
        }
    }

    /// serde_json reads a struct from an object or, by position, from an array.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'{') => self.read_map(visitor),
            Some(b'[') => self.read_seq(visitor),
            _ => Err(invalid(Reject)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.skip_value().map_err(invalid)?;
        visitor.visit_unit()
    }

    /// Integers and floats as serde_json reads them; anything else is the wrong type.
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.read_number(visitor),
            _ => Err(invalid(Reject)),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    delegate! {
        deserialize_f32();
        deserialize_i128();
        deserialize_u128();
        deserialize_char();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }
}

struct MapAccess<'s, 'de> {
    scanner: &'s mut Scanner<'de>,
    first: bool,
    /// The closing brace has been read.
    done: bool,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.done || !self.scanner.next_member(&mut self.first).map_err(invalid)? {
            self.done = true;
            return Ok(None);
        }
        seed.deserialize(KeyDeserializer(&mut *self.scanner))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.scanner.colon().map_err(invalid)?;
        seed.deserialize(&mut *self.scanner)
    }
}

/// An object key: always a string, read as serde_json reads one for struct fields.
struct KeyDeserializer<'s, 'de>(&'s mut Scanner<'de>);

impl<'de> de::Deserializer<'de> for KeyDeserializer<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.peek() {
            Some(b'"') => self.0.read_string(visitor),
            _ => Err(invalid(Reject)),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct SeqAccess<'s, 'de> {
    scanner: &'s mut Scanner<'de>,
    first: bool,
    /// The closing bracket has been read.
    done: bool,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.done
            || !self
                .scanner
                .next_element(&mut self.first)
                .map_err(invalid)?
        {
            self.done = true;
            return Ok(None);
        }
        seed.deserialize(&mut *self.scanner).map(Some)
    }
}
