//! Interactive messages (`"type": "interactive"`): reply buttons, lists, a call-to-action URL
//! button, and a request for the customer's location.
//!
//! Meta tags these by a `type` beside the object it selects. The model is an enum; on the wire it
//! goes through a flat struct with every key optional, because serde's tagged enums buffer their
//! input and would lose the path of an error inside them.

use super::content::at;
use super::media::{DocumentMedia, Media};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "InteractiveWire", into = "InteractiveWire")]
pub struct Interactive {
    pub header: Option<InteractiveHeader>,
    /// `body.text`; Meta requires it for every kind modelled here.
    pub body: Option<String>,
    /// `footer.text`.
    pub footer: Option<String>,
    pub action: InteractiveAction,
}

/// What the customer can do with the message; it decides the interactive `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InteractiveAction {
    /// `button`: up to three reply buttons.
    Buttons(Vec<ReplyButton>),
    /// `list`: a button that opens sections of rows to pick one from.
    List {
        button: String,
        sections: Vec<ListSection>,
    },
    /// `cta_url`: one button that opens `url`.
    CtaUrl { display_text: String, url: String },
    /// `location_request_message`: a "Send location" button.
    LocationRequest,
}

impl InteractiveAction {
    pub fn type_name(&self) -> &'static str {
        match self {
            InteractiveAction::Buttons(_) => "button",
            InteractiveAction::List { .. } => "list",
            InteractiveAction::CtaUrl { .. } => "cta_url",
            InteractiveAction::LocationRequest => "location_request_message",
        }
    }
}

impl Interactive {
    /// The interactive `type`s modelled here.
    pub const TYPE_NAMES: &'static [&'static str] =
        &["button", "list", "cta_url", "location_request_message"];

    pub fn type_name(&self) -> &'static str {
        self.action.type_name()
    }

    pub(super) fn screening_text<'a>(&'a self, out: &mut Vec<&'a str>) {
        if let Some(InteractiveHeader::Text(text)) = &self.header {
            out.push(text);
        }
        out.extend(self.body.as_deref());
        out.extend(self.footer.as_deref());
        match &self.action {
            InteractiveAction::Buttons(buttons) => {
                out.extend(buttons.iter().map(|b| b.title.as_str()));
            }
            InteractiveAction::List { button, sections } => {
                out.push(button);
                for section in sections {
                    out.extend(section.title.as_deref());
                    for row in &section.rows {
                        out.push(&row.title);
                        out.extend(row.description.as_deref());
                    }
                }
            }
            InteractiveAction::CtaUrl { display_text, .. } => out.push(display_text),
            InteractiveAction::LocationRequest => {}
        }
    }
}

/// On the wire: `{"type":"reply","reply":{"id","title"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyButton {
    /// Comes back in the webhook when the customer taps the button.
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSection {
    /// Required once there is more than one section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRow {
    /// Comes back in the webhook when the customer picks the row.
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HeaderWire", into = "HeaderWire")]
pub enum InteractiveHeader {
    Text(String),
    Image(Media),
    Video(Media),
    Document(DocumentMedia),
}

impl InteractiveHeader {
    pub fn type_name(&self) -> &'static str {
        match self {
            InteractiveHeader::Text(_) => "text",
            InteractiveHeader::Image(_) => "image",
            InteractiveHeader::Video(_) => "video",
            InteractiveHeader::Document(_) => "document",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InteractiveWire {
    #[serde(rename = "type")]
    kind: InteractiveKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    header: Option<InteractiveHeader>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<TextObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    footer: Option<TextObject>,
    action: ActionWire,
}

#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum InteractiveKind {
    Button,
    List,
    CtaUrl,
    LocationRequestMessage,
}

impl InteractiveKind {
    fn name(self) -> &'static str {
        match self {
            InteractiveKind::Button => "button",
            InteractiveKind::List => "list",
            InteractiveKind::CtaUrl => "cta_url",
            InteractiveKind::LocationRequestMessage => "location_request_message",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextObject {
    text: String,
}

/// The union of every modelled action's keys; which ones belong is decided by the `type`.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    buttons: Option<Vec<ReplyButtonWire>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    button: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sections: Option<Vec<ListSection>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<CtaUrlParameters>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyButtonWire {
    #[serde(rename = "type")]
    kind: ReplyKind,
    reply: ReplyButton,
}

#[derive(Serialize, Deserialize)]
enum ReplyKind {
    #[serde(rename = "reply")]
    Reply,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CtaUrlParameters {
    display_text: String,
    url: String,
}

const CTA_URL_ACTION: &str = "cta_url";
const SEND_LOCATION_ACTION: &str = "send_location";

impl TryFrom<InteractiveWire> for Interactive {
    type Error = String;

    fn try_from(wire: InteractiveWire) -> Result<Self, String> {
        let kind = wire.kind;
        let ActionWire {
            buttons,
            button,
            sections,
            name,
            parameters,
        } = wire.action;
        let unused = |present: &[(&str, bool)]| -> Result<(), String> {
            match present.iter().find(|(_, present)| *present) {
                Some((key, _)) => Err(at(
                    &format!("action.{key}"),
                    &format!("not used by a `{}` message", kind.name()),
                )),
                None => Ok(()),
            }
        };
        let required = |key: &str| at(&format!("action.{key}"), "required");
        let action = match kind {
            InteractiveKind::Button => {
                unused(&[
                    ("button", button.is_some()),
                    ("sections", sections.is_some()),
                    ("name", name.is_some()),
                    ("parameters", parameters.is_some()),
                ])?;
                let buttons = buttons.ok_or_else(|| required("buttons"))?;
                InteractiveAction::Buttons(buttons.into_iter().map(|b| b.reply).collect())
            }
            InteractiveKind::List => {
                unused(&[
                    ("buttons", buttons.is_some()),
                    ("name", name.is_some()),
                    ("parameters", parameters.is_some()),
                ])?;
                InteractiveAction::List {
                    button: button.ok_or_else(|| required("button"))?,
                    sections: sections.ok_or_else(|| required("sections"))?,
                }
            }
            InteractiveKind::CtaUrl => {
                unused(&[
                    ("buttons", buttons.is_some()),
                    ("button", button.is_some()),
                    ("sections", sections.is_some()),
                ])?;
                if name.as_deref() != Some(CTA_URL_ACTION) {
                    return Err(at("action.name", "must be `cta_url`"));
                }
                let parameters = parameters.ok_or_else(|| required("parameters"))?;
                InteractiveAction::CtaUrl {
                    display_text: parameters.display_text,
                    url: parameters.url,
                }
            }
            InteractiveKind::LocationRequestMessage => {
                unused(&[
                    ("buttons", buttons.is_some()),
                    ("button", button.is_some()),
                    ("sections", sections.is_some()),
                    ("parameters", parameters.is_some()),
                ])?;
                if name.as_deref() != Some(SEND_LOCATION_ACTION) {
                    return Err(at("action.name", "must be `send_location`"));
                }
                InteractiveAction::LocationRequest
            }
        };
        Ok(Interactive {
            header: wire.header,
            body: wire.body.map(|b| b.text),
            footer: wire.footer.map(|f| f.text),
            action,
        })
    }
}

impl From<Interactive> for InteractiveWire {
    fn from(interactive: Interactive) -> Self {
        let (kind, action) = match interactive.action {
            InteractiveAction::Buttons(buttons) => (
                InteractiveKind::Button,
                ActionWire {
                    buttons: Some(
                        buttons
                            .into_iter()
                            .map(|reply| ReplyButtonWire {
                                kind: ReplyKind::Reply,
                                reply,
                            })
                            .collect(),
                    ),
                    ..ActionWire::default()
                },
            ),
            InteractiveAction::List { button, sections } => (
                InteractiveKind::List,
                ActionWire {
                    button: Some(button),
                    sections: Some(sections),
                    ..ActionWire::default()
                },
            ),
            InteractiveAction::CtaUrl { display_text, url } => (
                InteractiveKind::CtaUrl,
                ActionWire {
                    name: Some(CTA_URL_ACTION.to_owned()),
                    parameters: Some(CtaUrlParameters { display_text, url }),
                    ..ActionWire::default()
                },
            ),
            InteractiveAction::LocationRequest => (
                InteractiveKind::LocationRequestMessage,
                ActionWire {
                    name: Some(SEND_LOCATION_ACTION.to_owned()),
                    ..ActionWire::default()
                },
            ),
        };
        InteractiveWire {
            kind,
            header: interactive.header,
            body: interactive.body.map(|text| TextObject { text }),
            footer: interactive.footer.map(|text| TextObject { text }),
            action,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderWire {
    #[serde(rename = "type")]
    kind: HeaderKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<Media>,
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<Media>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<DocumentMedia>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum HeaderKind {
    Text,
    Image,
    Video,
    Document,
}

impl TryFrom<HeaderWire> for InteractiveHeader {
    type Error = String;

    fn try_from(wire: HeaderWire) -> Result<Self, String> {
        let name = match wire.kind {
            HeaderKind::Text => "text",
            HeaderKind::Image => "image",
            HeaderKind::Video => "video",
            HeaderKind::Document => "document",
        };
        let present = [
            ("text", wire.text.is_some()),
            ("image", wire.image.is_some()),
            ("video", wire.video.is_some()),
            ("document", wire.document.is_some()),
        ];
        if let Some((key, _)) = present
            .iter()
            .find(|(key, present)| *present && *key != name)
        {
            return Err(at(key, &format!("not used by a `{name}` header")));
        }
        let header = match wire.kind {
            HeaderKind::Text => wire.text.map(InteractiveHeader::Text),
            HeaderKind::Image => wire.image.map(InteractiveHeader::Image),
            HeaderKind::Video => wire.video.map(InteractiveHeader::Video),
            HeaderKind::Document => wire.document.map(InteractiveHeader::Document),
        };
        header.ok_or_else(|| at(name, &format!("required for a `{name}` header")))
    }
}

impl From<InteractiveHeader> for HeaderWire {
    fn from(header: InteractiveHeader) -> Self {
        let mut wire = HeaderWire {
            kind: HeaderKind::Text,
            text: None,
            image: None,
            video: None,
            document: None,
        };
        match header {
            InteractiveHeader::Text(text) => wire.text = Some(text),
            InteractiveHeader::Image(image) => {
                wire.kind = HeaderKind::Image;
                wire.image = Some(image);
            }
            InteractiveHeader::Video(video) => {
                wire.kind = HeaderKind::Video;
                wire.video = Some(video);
            }
            InteractiveHeader::Document(document) => {
                wire.kind = HeaderKind::Document;
                wire.document = Some(document);
            }
        }
        wire
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_round_trips_in_metas_shape() {
        for value in [
            json!({"type": "button", "body": {"text": "Pick one"},
                "header": {"type": "image", "image": {"id": "42"}},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]}}),
            json!({"type": "list", "body": {"text": "Pick"}, "footer": {"text": "Thanks"},
                "action": {"button": "Options", "sections": [{"rows": [{"id": "a", "title": "A"}]}]}}),
            json!({"type": "cta_url", "header": {"type": "text", "text": "New dates"},
                "body": {"text": "Tap to see dates"},
                "action": {"name": "cta_url", "parameters": {"display_text": "See dates",
                    "url": "https://example.com/dates"}}}),
            json!({"type": "location_request_message", "body": {"text": "Where are you?"},
                "action": {"name": "send_location"}}),
        ] {
            let interactive: Interactive = serde_json::from_value(value.clone()).expect("parses");
            assert_eq!(
                serde_json::to_value(&interactive).expect("serializes"),
                value
            );
        }
    }

    #[test]
    fn an_action_must_fit_its_type() {
        for value in [
            json!({"type": "button", "body": {"text": "x"}, "action": {"button": "b",
                "buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]}}),
            json!({"type": "list", "body": {"text": "x"}, "action": {"button": "b"}}),
            json!({"type": "cta_url", "body": {"text": "x"}, "action": {"name": "send_location",
                "parameters": {"display_text": "d", "url": "https://example.com"}}}),
            json!({"type": "location_request_message", "body": {"text": "x"}, "action": {}}),
            json!({"type": "button", "header": {"type": "image", "text": "x"}, "body": {"text": "x"},
                "action": {"buttons": []}}),
        ] {
            assert!(
                serde_json::from_value::<Interactive>(value.clone()).is_err(),
                "{value}"
            );
        }
    }
}
