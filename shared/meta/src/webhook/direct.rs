//! Messages, statuses and contacts of the common shape, read straight off the [`Scanner`]:
//! through serde, each string member costs several calls and result copies more than reading
//! and copying the string itself.
//!
//! Each reader takes an object with plain keys, each member at most once and of the type the
//! model expects, and gives up on anything else (`None`); the caller then reads that item
//! with serde, which decides as it always has. So whatever a reader here returns is what
//! serde would have read.

use super::lenient::{Id, Str};
use super::scan::{Json, Reject, Scanner, Text};
use super::wire::{ContactWire, Members, MessageWire, Metadata, ProfileWire, StatusWire};
use serde::Deserialize;

/// Runs a reader over the text of one value; `None` if it gave up.
pub(crate) fn within<'a, T>(
    raw: Json<'a>,
    read: impl FnOnce(&mut Scanner<'a>) -> Result<T, Reject>,
) -> Option<T> {
    read(&mut Scanner::new(raw.get())).ok()
}

/// A message, as [`MessageWire`]'s own visitor reads it, member by member; with its text.
pub(crate) fn message<'a>(s: &mut Scanner<'a>) -> Result<(MessageWire, Json<'a>), Reject> {
    let mut message = MessageWire::default();
    let raw = s.object(|s, key| message.member(key.plain()?, s))?;
    Ok((message, raw))
}

/// A status, as serde derives [`StatusWire`]'s reading; with its text.
pub(crate) fn status<'a>(s: &mut Scanner<'a>) -> Result<(StatusWire<'a>, Json<'a>), Reject> {
    let mut w = StatusWire::default();
    let mut seen = Seen::default();
    let raw = s.object(|s, key| match key.plain()? {
        "id" => seen.first(0).and_then(|()| s.text()).map(|v| w.id = v),
        "status" => seen.first(1).and_then(|()| s.text()).map(|v| w.status = v),
        "timestamp" => seen
            .first(2)
            .and_then(|()| s.value())
            .map(|v| w.timestamp = v),
        "recipient_id" => seen
            .first(3)
            .and_then(|()| s.text())
            .map(|v| w.recipient_id = v),
        "recipient_user_id" => seen
            .first(4)
            .and_then(|()| s.text())
            .map(|v| w.recipient_user_id = v),
        "recipient_type" => seen
            .first(5)
            .and_then(|()| s.text())
            .map(|v| w.recipient_type = v),
        "recipient_participant_id" => seen
            .first(6)
            .and_then(|()| s.text())
            .map(|v| w.recipient_participant_id = v),
        "recipient_participant_user_id" => seen
            .first(7)
            .and_then(|()| s.text())
            .map(|v| w.recipient_participant_user_id = v),
        "biz_opaque_callback_data" => seen
            .first(8)
            .and_then(|()| s.text())
            .map(|v| w.biz_opaque_callback_data = v),
        "errors" => seen.first(9).and_then(|()| s.value()).map(|v| w.errors = v),
        "conversation" => seen
            .first(10)
            .and_then(|()| json(s))
            .map(|v| w.conversation = v),
        "pricing" => seen.first(11).and_then(|()| json(s)).map(|v| w.pricing = v),
        _ => s.skip(),
    })?;
    Ok((w, raw))
}

/// A sender in `value.contacts[]`, as serde derives [`ContactWire`]'s reading.
pub(crate) fn contact<'a>(s: &mut Scanner<'a>) -> Result<ContactWire<'a>, Reject> {
    let mut c = ContactWire::default();
    let mut seen = Seen::default();
    s.object(|s, key| match key.plain()? {
        "profile" => {
            seen.first(0)?;
            c.profile = profile(s)?;
            Ok(())
        }
        "wa_id" => seen.first(1).and_then(|()| id(s)).map(|v| c.wa_id = v),
        "user_id" => seen.first(2).and_then(|()| id(s)).map(|v| c.user_id = v),
        "parent_user_id" => seen
            .first(3)
            .and_then(|()| id(s))
            .map(|v| c.parent_user_id = v),
        _ => s.skip(),
    })?;
    Ok(c)
}

/// A change value's `metadata`, as serde derives [`Metadata`]'s reading.
pub(crate) fn metadata<'a>(s: &mut Scanner<'a>) -> Result<Option<Metadata<'a>>, Reject> {
    if s.null()? {
        return Ok(None);
    }
    let mut m = Metadata::default();
    let mut seen = Seen::default();
    s.object(|s, key| match key.plain()? {
        "display_phone_number" => seen
            .first(0)
            .and_then(|()| id(s))
            .map(|v| m.display_phone_number = v),
        "phone_number_id" => seen
            .first(1)
            .and_then(|()| id(s))
            .map(|v| m.phone_number_id = v),
        _ => s.skip(),
    })?;
    Ok(Some(m))
}

fn profile<'a>(s: &mut Scanner<'a>) -> Result<Option<ProfileWire<'a>>, Reject> {
    if s.null()? {
        return Ok(None);
    }
    let mut p = ProfileWire::default();
    let mut seen = Seen::default();
    s.object(|s, key| match key.plain()? {
        "name" => seen.first(0).and_then(|()| text(s)).map(|v| p.name = v),
        "username" => seen.first(1).and_then(|()| text(s)).map(|v| p.username = v),
        _ => s.skip(),
    })?;
    Ok(Some(p))
}

/// Which members of an object have been read: serde rejects a repeated one, so does this.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn first(&mut self, member: u32) -> Result<(), Reject> {
        let bit = 1 << member;
        if self.0 & bit != 0 {
            return Err(Reject);
        }
        self.0 |= bit;
        Ok(())
    }
}

/// An optional string, borrowed; an escaped one is left to serde.
pub(crate) fn text<'a>(s: &mut Scanner<'a>) -> Result<Option<Str<'a>>, Reject> {
    if s.null()? {
        return Ok(None);
    }
    s.string()?.plain().map(|t| Some(Str(t.into())))
}

/// An optional id: a plain string borrowed; anything else (an escaped string, a number) as
/// [`Id`] reads it.
pub(crate) fn id<'a>(s: &mut Scanner<'a>) -> Result<Option<Id<'a>>, Reject> {
    if s.peek() == Some(b'"') {
        return s.string()?.plain().map(|t| Some(Id(t.into())));
    }
    s.value()
}

/// An optional value kept as its text.
fn json<'a>(s: &mut Scanner<'a>) -> Result<Option<Json<'a>>, Reject> {
    if s.null()? {
        return Ok(None);
    }
    s.skip_value().map(Some)
}

impl<'de> Members<'de> for Scanner<'de> {
    type Error = Reject;

    fn text(&mut self) -> Result<Option<String>, Reject> {
        if self.null()? {
            return Ok(None);
        }
        match self.string()? {
            Text::Plain(s) => Ok(Some(s.to_owned())),
            Text::Escaped(token) => serde_json::from_str(token).map(Some).map_err(|_| Reject),
        }
    }

    fn value<T: Deserialize<'de>>(&mut self) -> Result<T, Reject> {
        T::deserialize(&mut *self).map_err(|_| Reject)
    }

    fn skip(&mut self) -> Result<(), Reject> {
        self.skip_value().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::de;

    fn json(text: &str) -> Json<'_> {
        let mut s = Scanner::new(text);
        s.skip_value().unwrap()
    }

    #[test]
    fn takes_the_common_shape_and_leaves_the_rest_to_serde() {
        for (text, direct) in [
            (
                r#"{"wa_id":"1","profile":{"name":"A"},"x":[1,{"y":null}]}"#,
                true,
            ),
            (r#"{"wa_id":16505551234,"profile":null}"#, true),
            (r#"{"wa_id":"1","wa_id":"2"}"#, false),
            (r#"{"w\u0061_id":"1"}"#, false),
            (r#"{"profile":{"name":"\u00e9"}}"#, false),
            (r#"["1"]"#, false),
            (r#"{"profile":{"name":5}}"#, false),
        ] {
            let ours = within(json(text), contact);
            assert_eq!(ours.is_some(), direct, "{text}");
            if let Some(ours) = ours {
                let theirs: ContactWire<'_> = de::from_str(text).unwrap();
                assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{text}");
            }
        }
    }
}
