//! Template messages (`"type": "template"`): a template approved in the business's WhatsApp
//! Manager, filled in with parameters. Only these may open a conversation outside the customer
//! service window.
//!
//! Components and parameters are tagged by `type` on the wire; like the interactive objects they
//! go through flat wire structs so an error inside keeps its path.

use super::content::at;
use super::media::{DocumentMedia, Media};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    pub language: TemplateLanguage,
    /// Absent for a template without variables, like `hello_world`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<TemplateComponent>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateLanguage {
    /// `en`, `en_US`: the translation of the template to send.
    pub code: String,
    /// Only `deterministic` exists; Meta fills it in when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ComponentWire", into = "ComponentWire")]
pub enum TemplateComponent {
    Header {
        parameters: Vec<TemplateParameter>,
    },
    Body {
        parameters: Vec<TemplateParameter>,
    },
    /// Fills in the button at `index` (0-based, in the template's order).
    Button {
        sub_type: ButtonSubType,
        index: u8,
        parameters: Vec<TemplateParameter>,
    },
}

impl TemplateComponent {
    pub fn type_name(&self) -> &'static str {
        match self {
            TemplateComponent::Header { .. } => "header",
            TemplateComponent::Body { .. } => "body",
            TemplateComponent::Button { .. } => "button",
        }
    }

    pub fn parameters(&self) -> &[TemplateParameter] {
        match self {
            TemplateComponent::Header { parameters }
            | TemplateComponent::Body { parameters }
            | TemplateComponent::Button { parameters, .. } => parameters,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonSubType {
    /// Takes a `payload` parameter, echoed in the webhook when tapped.
    QuickReply,
    /// Takes a `text` parameter: the suffix of the template's dynamic URL.
    Url,
    /// Takes a `coupon_code` parameter, copied to the clipboard when tapped.
    CopyCode,
}

impl ButtonSubType {
    pub fn name(self) -> &'static str {
        match self {
            ButtonSubType::QuickReply => "quick_reply",
            ButtonSubType::Url => "url",
            ButtonSubType::CopyCode => "copy_code",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ParameterWire", into = "ParameterWire")]
pub enum TemplateParameter {
    Text {
        text: String,
        /// For templates with named rather than numbered variables.
        parameter_name: Option<String>,
    },
    Currency(TemplateCurrency),
    DateTime(TemplateDateTime),
    Image(Media),
    Video(Media),
    Document(DocumentMedia),
    Payload(String),
    CouponCode(String),
}

impl TemplateParameter {
    pub fn text(text: impl Into<String>) -> Self {
        TemplateParameter::Text {
            text: text.into(),
            parameter_name: None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            TemplateParameter::Text { .. } => "text",
            TemplateParameter::Currency(_) => "currency",
            TemplateParameter::DateTime(_) => "date_time",
            TemplateParameter::Image(_) => "image",
            TemplateParameter::Video(_) => "video",
            TemplateParameter::Document(_) => "document",
            TemplateParameter::Payload(_) => "payload",
            TemplateParameter::CouponCode(_) => "coupon_code",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateCurrency {
    /// What the customer sees: Cloud API always shows it rather than localizing the amount.
    pub fallback_value: String,
    /// ISO 4217.
    pub code: String,
    /// The amount times 1000, so 100.99 is 100990.
    pub amount_1000: i64,
}

/// Cloud API always shows `fallback_value`; the other fields are the deprecated localization
/// inputs, kept so a stored parameter reads back as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDateTime {
    pub fallback_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hour: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minute: Option<u8>,
}

impl TemplateDateTime {
    pub fn fallback(value: impl Into<String>) -> Self {
        Self {
            fallback_value: value.into(),
            calendar: None,
            year: None,
            month: None,
            day_of_month: None,
            day_of_week: None,
            hour: None,
            minute: None,
        }
    }
}

impl Template {
    pub(super) fn screening_text<'a>(&'a self, out: &mut Vec<&'a str>) {
        for component in self.components.iter().flatten() {
            for parameter in component.parameters() {
                match parameter {
                    TemplateParameter::Text { text, .. } => out.push(text),
                    TemplateParameter::Currency(currency) => out.push(&currency.fallback_value),
                    TemplateParameter::DateTime(date_time) => out.push(&date_time.fallback_value),
                    TemplateParameter::CouponCode(code) => out.push(code),
                    TemplateParameter::Image(_)
                    | TemplateParameter::Video(_)
                    | TemplateParameter::Document(_)
                    | TemplateParameter::Payload(_) => {}
                }
            }
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComponentWire {
    #[serde(rename = "type")]
    kind: ComponentKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_type: Option<ButtonSubType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<ButtonIndex>,
    parameters: Vec<TemplateParameter>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ComponentKind {
    Header,
    Body,
    Button,
}

/// Meta documents the index as a string (`"0"`) and its own examples also send a number; both
/// are read, and the documented string is written.
struct ButtonIndex(u8);

impl Serialize for ButtonIndex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ButtonIndex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IndexVisitor;
        impl Visitor<'_> for IndexVisitor {
            type Value = ButtonIndex;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a button index such as \"0\"")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ButtonIndex, E> {
                u8::try_from(v)
                    .map(ButtonIndex)
                    .map_err(|_| E::custom("the button index is out of range"))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ButtonIndex, E> {
                u8::try_from(v)
                    .map(ButtonIndex)
                    .map_err(|_| E::custom("the button index is out of range"))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ButtonIndex, E> {
                v.parse()
                    .map(ButtonIndex)
                    .map_err(|_| E::custom("the button index must be a small whole number"))
            }
        }
        deserializer.deserialize_any(IndexVisitor)
    }
}

impl TryFrom<ComponentWire> for TemplateComponent {
    type Error = String;

    fn try_from(wire: ComponentWire) -> Result<Self, String> {
        let parameters = wire.parameters;
        match wire.kind {
            ComponentKind::Header | ComponentKind::Body => {
                let name = match wire.kind {
                    ComponentKind::Header => "header",
                    _ => "body",
                };
                if wire.sub_type.is_some() {
                    return Err(at("sub_type", &format!("not used by a `{name}` component")));
                }
                if wire.index.is_some() {
                    return Err(at("index", &format!("not used by a `{name}` component")));
                }
                Ok(match wire.kind {
                    ComponentKind::Header => TemplateComponent::Header { parameters },
                    _ => TemplateComponent::Body { parameters },
                })
            }
            ComponentKind::Button => Ok(TemplateComponent::Button {
                sub_type: wire
                    .sub_type
                    .ok_or_else(|| at("sub_type", "required for a `button` component"))?,
                index: wire
                    .index
                    .ok_or_else(|| at("index", "required for a `button` component"))?
                    .0,
                parameters,
            }),
        }
    }
}

impl From<TemplateComponent> for ComponentWire {
    fn from(component: TemplateComponent) -> Self {
        match component {
            TemplateComponent::Header { parameters } => ComponentWire {
                kind: ComponentKind::Header,
                sub_type: None,
                index: None,
                parameters,
            },
            TemplateComponent::Body { parameters } => ComponentWire {
                kind: ComponentKind::Body,
                sub_type: None,
                index: None,
                parameters,
            },
            TemplateComponent::Button {
                sub_type,
                index,
                parameters,
            } => ComponentWire {
                kind: ComponentKind::Button,
                sub_type: Some(sub_type),
                index: Some(ButtonIndex(index)),
                parameters,
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterWire {
    #[serde(rename = "type")]
    kind: ParameterKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<TemplateCurrency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_time: Option<TemplateDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<Media>,
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<Media>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<DocumentMedia>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_code: Option<String>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ParameterKind {
    Text,
    Currency,
    DateTime,
    Image,
    Video,
    Document,
    Payload,
    CouponCode,
}

impl ParameterKind {
    fn name(self) -> &'static str {
        match self {
            ParameterKind::Text => "text",
            ParameterKind::Currency => "currency",
            ParameterKind::DateTime => "date_time",
            ParameterKind::Image => "image",
            ParameterKind::Video => "video",
            ParameterKind::Document => "document",
            ParameterKind::Payload => "payload",
            ParameterKind::CouponCode => "coupon_code",
        }
    }
}

impl ParameterWire {
    fn empty(kind: ParameterKind) -> Self {
        Self {
            kind,
            parameter_name: None,
            text: None,
            currency: None,
            date_time: None,
            image: None,
            video: None,
            document: None,
            payload: None,
            coupon_code: None,
        }
    }
}

impl TryFrom<ParameterWire> for TemplateParameter {
    type Error = String;

    fn try_from(wire: ParameterWire) -> Result<Self, String> {
        let name = wire.kind.name();
        let present = [
            ("text", wire.text.is_some()),
            ("currency", wire.currency.is_some()),
            ("date_time", wire.date_time.is_some()),
            ("image", wire.image.is_some()),
            ("video", wire.video.is_some()),
            ("document", wire.document.is_some()),
            ("payload", wire.payload.is_some()),
            ("coupon_code", wire.coupon_code.is_some()),
            (
                "parameter_name",
                wire.parameter_name.is_some() && !matches!(wire.kind, ParameterKind::Text),
            ),
        ];
        if let Some((key, _)) = present
            .iter()
            .find(|(key, present)| *present && *key != name)
        {
            return Err(at(key, &format!("not used by a `{name}` parameter")));
        }
        let required = || at(name, &format!("required for a `{name}` parameter"));
        Ok(match wire.kind {
            ParameterKind::Text => TemplateParameter::Text {
                text: wire.text.ok_or_else(required)?,
                parameter_name: wire.parameter_name,
            },
            ParameterKind::Currency => {
                TemplateParameter::Currency(wire.currency.ok_or_else(required)?)
            }
            ParameterKind::DateTime => {
                TemplateParameter::DateTime(wire.date_time.ok_or_else(required)?)
            }
            ParameterKind::Image => TemplateParameter::Image(wire.image.ok_or_else(required)?),
            ParameterKind::Video => TemplateParameter::Video(wire.video.ok_or_else(required)?),
            ParameterKind::Document => {
                TemplateParameter::Document(wire.document.ok_or_else(required)?)
            }
            ParameterKind::Payload => {
                TemplateParameter::Payload(wire.payload.ok_or_else(required)?)
            }
            ParameterKind::CouponCode => {
                TemplateParameter::CouponCode(wire.coupon_code.ok_or_else(required)?)
            }
        })
    }
}

impl From<TemplateParameter> for ParameterWire {
    fn from(parameter: TemplateParameter) -> Self {
        match parameter {
            TemplateParameter::Text {
                text,
                parameter_name,
            } => ParameterWire {
                text: Some(text),
                parameter_name,
                ..ParameterWire::empty(ParameterKind::Text)
            },
            TemplateParameter::Currency(currency) => ParameterWire {
                currency: Some(currency),
                ..ParameterWire::empty(ParameterKind::Currency)
            },
            TemplateParameter::DateTime(date_time) => ParameterWire {
                date_time: Some(date_time),
                ..ParameterWire::empty(ParameterKind::DateTime)
            },
            TemplateParameter::Image(image) => ParameterWire {
                image: Some(image),
                ..ParameterWire::empty(ParameterKind::Image)
            },
            TemplateParameter::Video(video) => ParameterWire {
                video: Some(video),
                ..ParameterWire::empty(ParameterKind::Video)
            },
            TemplateParameter::Document(document) => ParameterWire {
                document: Some(document),
                ..ParameterWire::empty(ParameterKind::Document)
            },
            TemplateParameter::Payload(payload) => ParameterWire {
                payload: Some(payload),
                ..ParameterWire::empty(ParameterKind::Payload)
            },
            TemplateParameter::CouponCode(coupon_code) => ParameterWire {
                coupon_code: Some(coupon_code),
                ..ParameterWire::empty(ParameterKind::CouponCode)
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn button_index_reads_a_string_or_a_number_and_writes_the_documented_string() {
        for index in [json!("1"), json!(1)] {
            let component: TemplateComponent = serde_json::from_value(json!({
                "type": "button", "sub_type": "quick_reply", "index": index,
                "parameters": [{"type": "payload", "payload": "P"}]}))
            .expect("parses");
            assert_eq!(
                serde_json::to_value(&component).expect("serializes")["index"],
                "1"
            );
        }
        assert!(
            serde_json::from_value::<TemplateComponent>(json!({
                "type": "button", "sub_type": "url", "index": "one", "parameters": []}))
            .is_err()
        );
    }

    #[test]
    fn a_parameter_carries_only_the_object_its_type_names() {
        for bad in [
            json!({"type": "text"}),
            json!({"type": "text", "text": "a", "payload": "b"}),
            json!({"type": "payload", "payload": "b", "parameter_name": "x"}),
            json!({"type": "action", "action": {}}),
        ] {
            assert!(
                serde_json::from_value::<TemplateParameter>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        let named: TemplateParameter = serde_json::from_value(
            json!({"type": "text", "parameter_name": "first_name", "text": "Ana"}),
        )
        .expect("named parameters are text");
        assert_eq!(
            named,
            TemplateParameter::Text {
                text: "Ana".into(),
                parameter_name: Some("first_name".into())
            }
        );
    }

    #[test]
    fn header_and_body_components_take_no_button_fields() {
        assert!(
            serde_json::from_value::<TemplateComponent>(
                json!({"type": "body", "index": "0", "parameters": []})
            )
            .is_err()
        );
        assert!(
            serde_json::from_value::<TemplateComponent>(
                json!({"type": "button", "index": "0", "parameters": []})
            )
            .is_err()
        );
    }
}
