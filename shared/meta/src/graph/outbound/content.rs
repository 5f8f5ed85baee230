//! What a message says, apart from whom it goes to: Meta's `type` and the object under the key of
//! that name. `{"type":"image","image":{...}}` is also the form the API stores with each message.

use super::contacts::Contact;
use super::interactive::Interactive;
use super::media::{CaptionedMedia, DocumentMedia, Media};
use super::template::Template;
use serde::de::{DeserializeOwned, Error as _};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The content of one outbound message, one variant per Meta message `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    Text(Text),
    Image(CaptionedMedia),
    Video(CaptionedMedia),
    Audio(Media),
    Document(DocumentMedia),
    Sticker(Media),
    Location(Location),
    Contacts(Vec<Contact>),
    /// A reaction to one of the customer's messages; an empty emoji takes the reaction back.
    Reaction(Reaction),
    Template(Template),
    Interactive(Interactive),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub body: String,
    /// Ask WhatsApp to render a preview of the first URL in `body`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<bool>,
}

/// Coordinates are floats, so this is `PartialEq` only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reaction {
    /// The wamid of the message reacted to.
    pub message_id: String,
    /// One emoji, or empty to remove the reaction.
    pub emoji: String,
}

/// Why a message's content was refused: `field` is the path as a client wrote it, starting with
/// the type key (`image.link`, `interactive.action.buttons[1].reply.title`).
///
/// Messages never quote the client's string values: they could be message text or phone numbers,
/// and these errors get logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ContentError {
    pub field: String,
    pub message: String,
}

impl ContentError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    fn unknown_type(type_name: &str) -> Self {
        let shown: String = type_name.chars().take(40).collect();
        Self::new(
            "type",
            format!(
                "`{shown}` is not a message type Switchboard sends; expected one of {}",
                MessageContent::TYPE_NAMES.join(", ")
            ),
        )
    }

    /// Turns a serde error into the path a client sees. A missing field is named in the path
    /// itself (serde reports it on the object), and model conversions point below the object they check with a leading
    /// "at `sub.path`: " (see [`at`]).
    fn from_serde(type_key: &str, error: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let mut field = type_key.to_owned();
        for segment in error.path() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    field.push_str(&format!("[{index}]"));
                }
                serde_path_to_error::Segment::Map { key } => {
                    field.push('.');
                    field.push_str(key);
                }
                serde_path_to_error::Segment::Enum { .. } => {}
                serde_path_to_error::Segment::Unknown => field.push_str(".?"),
            }
        }
        let mut message = error.inner().to_string();
        if let Some(rest) = message.strip_prefix("at `")
            && let Some((sub, tail)) = rest.split_once("`: ")
        {
            if !sub.starts_with('[') {
                field.push('.');
            }
            field.push_str(sub);
            message = tail.to_owned();
        } else if let Some(name) = backticked_after(&message, "missing field `") {
            field.push('.');
            field.push_str(name);
        }
        Self {
            field,
            message: redact_strings(&message),
        }
    }
}

fn backticked_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix)?.split('`').next()
}

/// A conversion error that names a field below the object being converted; [`ContentError`]
/// moves `sub` into its path.
pub(super) fn at(sub: &str, message: &str) -> String {
    format!("at `{sub}`: {message}")
}

/// serde writes an unexpected string as `string "the value"`; the value is the client's text.
fn redact_strings(message: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        out.push_str("a string");
        let quoted = &rest[start + MARK.len()..];
        let mut escaped = false;
        let mut end = quoted.len();
        for (i, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &quoted[end..];
    }
    out.push_str(rest);
    out
}

fn parse<T: DeserializeOwned>(type_key: &str, value: Value) -> Result<T, ContentError> {
    serde_path_to_error::deserialize(value).map_err(|e| ContentError::from_serde(type_key, e))
}

impl MessageContent {
    /// Every `type` this model knows, as Meta names them.
    pub const TYPE_NAMES: &'static [&'static str] = &[
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "reaction",
        "template",
        "interactive",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            MessageContent::Text(_) => "text",
            MessageContent::Image(_) => "image",
            MessageContent::Video(_) => "video",
            MessageContent::Audio(_) => "audio",
            MessageContent::Document(_) => "document",
            MessageContent::Sticker(_) => "sticker",
            MessageContent::Location(_) => "location",
            MessageContent::Contacts(_) => "contacts",
            MessageContent::Reaction(_) => "reaction",
            MessageContent::Template(_) => "template",
            MessageContent::Interactive(_) => "interactive",
        }
    }

    /// A text message without link preview.
    pub fn text(body: impl Into<String>) -> Self {
        MessageContent::Text(Text {
            body: body.into(),
            preview_url: Some(false),
        })
    }

    /// Reads the object a client gave under the `type` key. Shape only: Meta's limits are
    /// [`violations`](super::violations).
    pub fn from_request(type_name: &str, value: Value) -> Result<Self, ContentError> {
        Ok(match type_name {
            "text" => MessageContent::Text(parse(type_name, value)?),
            "image" => MessageContent::Image(parse(type_name, value)?),
            "video" => MessageContent::Video(parse(type_name, value)?),
            "audio" => MessageContent::Audio(parse(type_name, value)?),
            "document" => MessageContent::Document(parse(type_name, value)?),
            "sticker" => MessageContent::Sticker(parse(type_name, value)?),
            "location" => MessageContent::Location(parse(type_name, value)?),
            "contacts" => MessageContent::Contacts(parse(type_name, value)?),
            "reaction" => MessageContent::Reaction(parse(type_name, value)?),
            "template" => MessageContent::Template(parse(type_name, value)?),
            "interactive" => {
                // The tag decides which action keys belong, and `action` may sort before it: name
                // an unmodelled kind (flows, catalogs) rather than the first key it trips on.
                if let Some(kind) = value.get("type").and_then(Value::as_str)
                    && !Interactive::TYPE_NAMES.contains(&kind)
                {
                    let shown: String = kind.chars().take(40).collect();
                    return Err(ContentError::new(
                        "interactive.type",
                        format!(
                            "`{shown}` is not an interactive type Switchboard sends; expected one of {}",
                            Interactive::TYPE_NAMES.join(", ")
                        ),
                    ));
                }
                MessageContent::Interactive(parse(type_name, value)?)
            }
            other => return Err(ContentError::unknown_type(other)),
        })
    }

    /// The template's name and language code, for a template message.
    pub fn template(&self) -> Option<(&str, &str)> {
        match self {
            MessageContent::Template(template) => {
                Some((template.name.as_str(), template.language.code.as_str()))
            }
            _ => None,
        }
    }

    /// Every text the business wrote that the customer will read, for a compliance screen. Ids,
    /// payloads, links and media are left out: they are not shown as text.
    pub fn screening_text(&self) -> Vec<&str> {
        let mut out = Vec::new();
        match self {
            MessageContent::Text(text) => out.push(text.body.as_str()),
            MessageContent::Image(media) | MessageContent::Video(media) => {
                out.extend(media.caption.as_deref());
            }
            MessageContent::Document(document) => {
                out.extend(document.caption.as_deref());
                out.extend(document.filename.as_deref());
            }
            MessageContent::Audio(_) | MessageContent::Sticker(_) => {}
            MessageContent::Location(location) => {
                out.extend(location.name.as_deref());
                out.extend(location.address.as_deref());
            }
            MessageContent::Contacts(contacts) => {
                for contact in contacts {
                    contact.screening_text(&mut out);
                }
            }
            MessageContent::Reaction(_) => {}
            MessageContent::Template(template) => template.screening_text(&mut out),
            MessageContent::Interactive(interactive) => interactive.screening_text(&mut out),
        }
        out.retain(|text| !text.is_empty());
        out
    }

    /// The object Meta expects under the key named by [`type_name`](Self::type_name).
    pub(super) fn body(&self) -> Body<'_> {
        match self {
            MessageContent::Text(text) => Body::Text(text),
            MessageContent::Image(media) | MessageContent::Video(media) => Body::Captioned(media),
            MessageContent::Audio(media) | MessageContent::Sticker(media) => Body::Media(media),
            MessageContent::Document(document) => Body::Document(document),
            MessageContent::Location(location) => Body::Location(location),
            MessageContent::Contacts(contacts) => Body::Contacts(contacts),
            MessageContent::Reaction(reaction) => Body::Reaction(reaction),
            MessageContent::Template(template) => Body::Template(template),
            MessageContent::Interactive(interactive) => Body::Interactive(interactive),
        }
    }

    /// Reads `{"type": …, "<type>": {…}}` after any envelope fields were taken out of `fields`.
    pub(super) fn from_fields(
        mut fields: Map<String, Value>,
        type_name: &str,
    ) -> Result<Self, ContentError> {
        if !Self::TYPE_NAMES.contains(&type_name) {
            return Err(ContentError::unknown_type(type_name));
        }
        let Some(body) = fields.remove(type_name) else {
            return Err(ContentError::new(
                type_name,
                format!("a `{type_name}` message needs a `{type_name}` object"),
            ));
        };
        if let Some(extra) = fields.keys().next() {
            let shown: String = extra.chars().take(40).collect();
            return Err(ContentError::new(
                shown,
                format!("unknown field beside a `{type_name}` message"),
            ));
        }
        Self::from_request(type_name, body)
    }
}

#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum Body<'a> {
    Text(&'a Text),
    Captioned(&'a CaptionedMedia),
    Media(&'a Media),
    Document(&'a DocumentMedia),
    Location(&'a Location),
    Contacts(&'a [Contact]),
    Reaction(&'a Reaction),
    Template(&'a Template),
    Interactive(&'a Interactive),
}

impl Serialize for MessageContent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", self.type_name())?;
        map.serialize_entry(self.type_name(), &self.body())?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let type_name = match fields.remove("type") {
            Some(Value::String(type_name)) => type_name,
            Some(_) => return Err(D::Error::custom("`type` must be a string")),
            None => return Err(D::Error::missing_field("type")),
        };
        Self::from_fields(fields, &type_name).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stored_form_is_metas_shape_without_the_envelope() {
        let content = MessageContent::Image(CaptionedMedia::by_id("1234").with_caption("Menu"));
        let stored = serde_json::to_value(&content).expect("serializes");
        assert_eq!(
            stored,
            json!({"type": "image", "image": {"id": "1234", "caption": "Menu"}})
        );
        let back: MessageContent = serde_json::from_value(stored).expect("parses");
        assert_eq!(back, content);
    }

    #[test]
    fn stored_form_refuses_a_missing_object_and_strangers() {
        for bad in [
            json!({"type": "image"}),
            json!({"type": "image", "image": {"id": "1"}, "video": {"id": "2"}}),
            json!({"type": "carousel", "carousel": {}}),
            json!({"image": {"id": "1"}}),
        ] {
            assert!(
                serde_json::from_value::<MessageContent>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_name_the_field_path_as_the_client_wrote_it() {
        let cases = [
            ("image", json!({"link": 5}), "image.link"),
            ("image", json!({"id": "1", "size": 5}), "image.size"),
            ("text", json!({}), "text.body"),
            (
                "interactive",
                json!({"type": "button", "body": {"text": "Pick"}, "action": {"buttons": [
                    {"type": "reply", "reply": {"id": "a", "title": "A"}},
                    {"type": "reply", "reply": {"id": "b"}}]}}),
                "interactive.action.buttons[1].reply.title",
            ),
            (
                "interactive",
                json!({"type": "button", "body": {"text": "Pick"}, "action": {}}),
                "interactive.action.buttons",
            ),
            (
                "interactive",
                json!({"type": "flow", "action": {}}),
                "interactive.type",
            ),
            (
                "template",
                json!({"name": "t", "language": {"code": "en"}, "components": [
                    {"type": "body", "parameters": [{"type": "currency", "currency": {"code": "USD"}}]}]}),
                "template.components[0].parameters[0].currency.fallback_value",
            ),
            (
                "location",
                json!({"latitude": "north", "longitude": 1.0}),
                "location.latitude",
            ),
            (
                "contacts",
                json!([{"name": {}}]),
                "contacts[0].name.formatted_name",
            ),
        ];
        for (type_name, value, field) in cases {
            let error = MessageContent::from_request(type_name, value).expect_err(field);
            assert_eq!(error.field, field, "{error}");
        }
        let unknown = MessageContent::from_request("carousel", json!({})).expect_err("unknown");
        assert_eq!(unknown.field, "type");
    }

    #[test]
    fn errors_never_quote_the_clients_strings() {
        let error = MessageContent::from_request(
            "location",
            json!({"latitude": "call me at +15551234567 \"now\"", "longitude": 1.0}),
        )
        .expect_err("a string is not a float");
        assert_eq!(error.field, "location.latitude");
        assert!(!error.message.contains("5551234567"), "{error}");
        assert!(error.message.contains("a string"), "{error}");
    }

    #[test]
    fn template_names_the_template_and_its_language() {
        let content = MessageContent::from_request(
            "template",
            json!({"name": "order_update", "language": {"code": "en_US"}}),
        )
        .expect("parses");
        assert_eq!(content.template(), Some(("order_update", "en_US")));
        assert_eq!(MessageContent::text("hi").template(), None);
    }

    #[test]
    fn screening_text_reads_everything_the_customer_will_read() {
        let interactive = MessageContent::from_request(
            "interactive",
            json!({"type": "list",
                "header": {"type": "text", "text": "Header"},
                "body": {"text": "Body"}, "footer": {"text": "Footer"},
                "action": {"button": "Open", "sections": [{"title": "Section", "rows": [
                    {"id": "r1", "title": "Row", "description": "Row detail"}]}]}}),
        )
        .expect("parses");
        assert_eq!(
            interactive.screening_text(),
            [
                "Header",
                "Body",
                "Footer",
                "Open",
                "Section",
                "Row",
                "Row detail"
            ]
        );

        let template = MessageContent::from_request(
            "template",
            json!({"name": "t", "language": {"code": "en"}, "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "Hi Ana"}]},
                {"type": "body", "parameters": [
                    {"type": "text", "text": "order 42"},
                    {"type": "currency", "currency": {"fallback_value": "$10", "code": "USD", "amount_1000": 10000}}]},
                {"type": "button", "sub_type": "quick_reply", "index": "0",
                 "parameters": [{"type": "payload", "payload": "HIDDEN"}]}]}),
        )
        .expect("parses");
        assert_eq!(template.screening_text(), ["Hi Ana", "order 42", "$10"]);

        let location = MessageContent::Location(Location {
            latitude: 1.0,
            longitude: 2.0,
            name: Some("Shop".into()),
            address: Some("1 Main St".into()),
        });
        assert_eq!(location.screening_text(), ["Shop", "1 Main St"]);
        let captioned = MessageContent::Video(CaptionedMedia::by_id("1").with_caption("Clip"));
        assert_eq!(captioned.screening_text(), ["Clip"]);
        let contacts = MessageContent::Contacts(vec![Contact::named("Ana Lima")]);
        assert_eq!(contacts.screening_text(), ["Ana Lima"]);
    }
}
