//! Scalars Meta does not send consistently: timestamps arrive as strings in `messages` and
//! `statuses` but as numbers in `user_preferences`, and ids are numbers in some group payloads.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Unix seconds from a string or a number. An unreadable value becomes `None` rather than an
/// error so that one odd field does not cost the typed view of the whole object.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp(pub Option<i64>);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("unix seconds as a string or number")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
                Ok(Timestamp(s.trim().parse().ok()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(Some(n)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Timestamp, E> {
                Ok(Timestamp(i64::try_from(n).ok()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Timestamp, E> {
                // Truncation is intended: fractional seconds carry no meaning here.
                Ok(Timestamp(n.is_finite().then_some(n as i64)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Timestamp, E> {
                Ok(Timestamp(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// An identifier sent as a string, or as a bare number by some producers. Borrows from the
/// body when it can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Id<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Id<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Id<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id as a string or number")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Id<'de>, E> {
                Ok(Id(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Id<'de>, E> {
                Ok(Id(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Id<'de>, E> {
                Ok(Id(Cow::Owned(s)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Id<'de>, E> {
                Ok(Id(Cow::Owned(n.to_string())))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Id<'de>, E> {
                Ok(Id(Cow::Owned(n.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string borrowed from the body when it has no escapes. serde borrows a bare `Cow<str>`
/// field with `#[serde(borrow)]`, but not one inside an `Option`: that one always allocates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_come_as_strings_or_numbers() {
        let t: Vec<Timestamp> =
            serde_json::from_str(r#"["1697043223", 1731705721, "soon", null, 1.5e9]"#).unwrap();
        assert_eq!(
            t,
            [
                Timestamp(Some(1_697_043_223)),
                Timestamp(Some(1_731_705_721)),
                Timestamp(None),
                Timestamp(None),
                Timestamp(Some(1_500_000_000)),
            ]
        );
    }

    #[test]
    fn ids_borrow_strings_and_accept_numbers() {
        let ids: Vec<Id<'_>> = serde_json::from_str(r#"["102290129340398", 16505551234]"#).unwrap();
        assert!(matches!(ids[0].0, Cow::Borrowed("102290129340398")));
        assert_eq!(ids[1].0, "16505551234");
    }

    #[test]
    fn optional_text_borrows_unless_escaped() {
        let texts: Vec<Option<Str<'_>>> =
            serde_json::from_str(r#"["plain", "esc\"aped", null]"#).unwrap();
        assert!(matches!(&texts[0], Some(Str(Cow::Borrowed("plain")))));
        assert!(matches!(&texts[1], Some(Str(Cow::Owned(s))) if s == "esc\"aped"));
        assert_eq!(texts[2], None);
    }
}
