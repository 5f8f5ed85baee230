//! Meta's template webhooks, typed: review status (`message_template_status_update`), category
//! (`template_category_update`) and quality (`message_template_quality_update`). They reach us
//! as [`super::EventPayload::Other`] with the change value as received; [`TemplateUpdate::parse`]
//! reads one. Their order comes from the entry's `time` (see
//! [`super::WebhookEvent::entry_time`]): the values carry none of their own.

use super::lenient::Id;
use serde::Deserialize;

pub const TEMPLATE_STATUS_FIELD: &str = "message_template_status_update";
pub const TEMPLATE_CATEGORY_FIELD: &str = "template_category_update";
pub const TEMPLATE_QUALITY_FIELD: &str = "message_template_quality_update";

/// Which template an update is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRef {
    /// `message_template_id` (a number in Meta's payloads, a string in some).
    pub id: String,
    pub name: String,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateUpdate {
    /// A review outcome or lifecycle change: `APPROVED`, `REJECTED`, `PENDING`, `PAUSED`,
    /// `DISABLED`, `FLAGGED`, `IN_APPEAL`, `PENDING_DELETION`, `REINSTATED`, …
    Status {
        template: TemplateRef,
        /// Meta's `event`.
        event: String,
        /// Meta's `reason` (`INVALID_FORMAT`, `ABUSIVE_CONTENT`, …), without its `NONE`; for a
        /// pause or disable without one, `other_info.title` (`FIRST_PAUSE`, …).
        reason: Option<String>,
        /// `message_template_category`, when Meta sends it.
        category: Option<String>,
    },
    Category {
        template: TemplateRef,
        new_category: String,
        previous_category: Option<String>,
    },
    Quality {
        template: TemplateRef,
        /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
        new_quality_score: String,
        previous_quality_score: Option<String>,
    },
}

/// Why a template update could not be read. Names the field, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateUpdateError {
    #[error("the template update is not a JSON object of Meta's shape")]
    Shape,
    #[error("the template update has no `{0}`")]
    Missing(&'static str),
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    message_template_id: Option<Id<'a>>,
    message_template_name: Option<String>,
    message_template_language: Option<String>,
    event: Option<String>,
    reason: Option<String>,
    other_info: Option<OtherInfo>,
    message_template_category: Option<String>,
    new_category: Option<String>,
    previous_category: Option<String>,
    new_quality_score: Option<String>,
    previous_quality_score: Option<String>,
}

/// What Meta adds to pauses and disables: `FIRST_PAUSE`, `SECOND_PAUSE`, `DISABLED`, ….
#[derive(Deserialize)]
struct OtherInfo {
    title: Option<String>,
}

fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl TemplateUpdate {
    /// Whether `field` is one of the template fields this module reads.
    pub fn is_template_field(field: &str) -> bool {
        matches!(
            field,
            TEMPLATE_STATUS_FIELD | TEMPLATE_CATEGORY_FIELD | TEMPLATE_QUALITY_FIELD
        )
    }

    /// Reads the change value of a template field; `Ok(None)` for any other field.
    pub fn parse(field: &str, value: &str) -> Result<Option<Self>, TemplateUpdateError> {
        if !Self::is_template_field(field) {
            return Ok(None);
        }
        let wire: Wire<'_> = serde_json::from_str(value).map_err(|_| TemplateUpdateError::Shape)?;
        let template = TemplateRef {
            id: wire
                .message_template_id
                .map(|id| id.0.into_owned())
                .filter(|id| !id.is_empty())
                .ok_or(TemplateUpdateError::Missing("message_template_id"))?,
            name: present(wire.message_template_name)
                .ok_or(TemplateUpdateError::Missing("message_template_name"))?,
            language: present(wire.message_template_language)
                .ok_or(TemplateUpdateError::Missing("message_template_language"))?,
        };
        Ok(Some(match field {
            TEMPLATE_STATUS_FIELD => TemplateUpdate::Status {
                template,
                event: present(wire.event)
                    .ok_or(TemplateUpdateError::Missing("event"))?
                    .to_ascii_uppercase(),
                reason: present(wire.reason)
                    .filter(|r| !r.eq_ignore_ascii_case("NONE"))
                    .or_else(|| present(wire.other_info.and_then(|i| i.title))),
                category: present(wire.message_template_category),
            },
            TEMPLATE_CATEGORY_FIELD => TemplateUpdate::Category {
                template,
                new_category: present(wire.new_category)
                    .ok_or(TemplateUpdateError::Missing("new_category"))?
                    .to_ascii_uppercase(),
                previous_category: present(wire.previous_category),
            },
            _ => TemplateUpdate::Quality {
                template,
                new_quality_score: present(wire.new_quality_score)
                    .ok_or(TemplateUpdateError::Missing("new_quality_score"))?
                    .to_ascii_uppercase(),
                previous_quality_score: present(wire.previous_quality_score),
            },
        }))
    }

    pub fn template(&self) -> &TemplateRef {
        match self {
            TemplateUpdate::Status { template, .. }
            | TemplateUpdate::Category { template, .. }
            | TemplateUpdate::Quality { template, .. } => template,
        }
    }

    /// The review status the template has after a status event: the event's own name, except
    /// `REINSTATED`, which puts a paused or disabled template back to `APPROVED`.
    pub fn status_after(event: &str) -> &str {
        match event {
            "REINSTATED" | "UNPAUSED" => "APPROVED",
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The change values of Meta's template webhooks as pywa's fixtures hold them
    // (`../shared/conformance/meta-webhooks/pywa/template_*_update.json`).
    const APPROVED: &str = r#"{"event":"APPROVED","message_template_id":1689556908129832,"message_template_name":"order_confirmation","message_template_language":"en_US","reason":"NONE","message_template_category":"UTILITY"}"#;
    const REJECTED: &str = r#"{"event":"REJECTED","message_template_id":1689556908129835,"message_template_name":"abandoned_cart","message_template_language":"en","reason":"INVALID_FORMAT","message_template_category":"MARKETING","rejection_info":{"reason":"Your template has parameters placed next to each other (like {{1}}{{2}}) without text or punctuation between them.","recommendation":"Separate parameters with descriptive text and ensure each parameter is clearly contextualized."}}"#;
    const CATEGORY: &str = r#"{"message_template_id":12345678,"message_template_name":"my_message_template","message_template_language":"he","new_category":"MARKETING"}"#;
    const QUALITY: &str = r#"{"previous_quality_score":"GREEN","new_quality_score":"YELLOW","message_template_id":806312974732579,"message_template_name":"welcome_template","message_template_language":"en_US"}"#;

    #[test]
    fn reads_metas_status_updates() {
        assert_eq!(
            TemplateUpdate::parse(TEMPLATE_STATUS_FIELD, APPROVED).unwrap(),
            Some(TemplateUpdate::Status {
                template: TemplateRef {
                    id: "1689556908129832".into(),
                    name: "order_confirmation".into(),
                    language: "en_US".into(),
                },
                event: "APPROVED".into(),
                reason: None,
                category: Some("UTILITY".into()),
            }),
            "Meta's NONE is no reason"
        );
        let Some(TemplateUpdate::Status {
            template,
            event,
            reason,
            ..
        }) = TemplateUpdate::parse(TEMPLATE_STATUS_FIELD, REJECTED).unwrap()
        else {
            panic!("not a status update");
        };
        assert_eq!(
            (
                template.language.as_str(),
                event.as_str(),
                reason.as_deref()
            ),
            ("en", "REJECTED", Some("INVALID_FORMAT"))
        );
        // Ids as strings read the same.
        let as_string = APPROVED.replace("1689556908129832", "\"1689556908129832\"");
        assert_eq!(
            TemplateUpdate::parse(TEMPLATE_STATUS_FIELD, &as_string)
                .unwrap()
                .unwrap()
                .template()
                .id,
            "1689556908129832"
        );
    }

    #[test]
    fn reads_metas_category_and_quality_updates() {
        assert_eq!(
            TemplateUpdate::parse(TEMPLATE_CATEGORY_FIELD, CATEGORY).unwrap(),
            Some(TemplateUpdate::Category {
                template: TemplateRef {
                    id: "12345678".into(),
                    name: "my_message_template".into(),
                    language: "he".into(),
                },
                new_category: "MARKETING".into(),
                previous_category: None,
            })
        );
        let update = TemplateUpdate::parse(TEMPLATE_QUALITY_FIELD, QUALITY)
            .unwrap()
            .unwrap();
        assert_eq!(
            update,
            TemplateUpdate::Quality {
                template: TemplateRef {
                    id: "806312974732579".into(),
                    name: "welcome_template".into(),
                    language: "en_US".into(),
                },
                new_quality_score: "YELLOW".into(),
                previous_quality_score: Some("GREEN".into()),
            }
        );
        assert_eq!(update.template().name, "welcome_template");
    }

    #[test]
    fn the_entry_time_orders_a_template_update() {
        let body = format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","time":1751247548,"changes":[{{"value":{APPROVED},"field":"message_template_status_update"}}]}}]}}"#
        );
        let events = crate::webhook::parse(body.as_bytes()).unwrap().events();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].entry_time, Some(1_751_247_548));
        assert_eq!(events[0].waba_id, "102290129340398");
        let value = match &events[0].payload {
            crate::webhook::EventPayload::Other { value } => value.get(),
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            TemplateUpdate::parse(&events[0].field, value),
            Ok(Some(TemplateUpdate::Status { .. }))
        ));
        // The time travels with the event through the queue, and events without one read as
        // before.
        let json = serde_json::to_string(&events[0]).unwrap();
        let back: crate::webhook::WebhookEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back.entry_time, Some(1_751_247_548));
        let without: crate::webhook::WebhookEvent =
            serde_json::from_str(&json.replace(r#""entry_time":1751247548,"#, "")).unwrap();
        assert_eq!(without.entry_time, None);
    }

    #[test]
    fn other_fields_are_not_template_updates_and_broken_ones_name_what_is_missing() {
        assert_eq!(TemplateUpdate::parse("messages", "{}"), Ok(None));
        assert_eq!(
            TemplateUpdate::parse(TEMPLATE_STATUS_FIELD, "[1]"),
            Err(TemplateUpdateError::Shape)
        );
        assert_eq!(
            TemplateUpdate::parse(
                TEMPLATE_STATUS_FIELD,
                r#"{"message_template_id":"1","message_template_name":"a","message_template_language":"en"}"#
            ),
            Err(TemplateUpdateError::Missing("event"))
        );
        assert_eq!(
            TemplateUpdate::parse(
                TEMPLATE_QUALITY_FIELD,
                r#"{"message_template_name":"a","message_template_language":"en","new_quality_score":"RED"}"#
            ),
            Err(TemplateUpdateError::Missing("message_template_id"))
        );
        let paused = r#"{"event":"PAUSED","message_template_id":1,"message_template_name":"a","message_template_language":"en","reason":"NONE","other_info":{"title":"FIRST_PAUSE","description":"Paused for 3 hours."}}"#;
        assert!(matches!(
            TemplateUpdate::parse(TEMPLATE_STATUS_FIELD, paused),
            Ok(Some(TemplateUpdate::Status { reason: Some(r), .. })) if r == "FIRST_PAUSE"
        ));
        assert_eq!(TemplateUpdate::status_after("REINSTATED"), "APPROVED");
        assert_eq!(TemplateUpdate::status_after("PAUSED"), "PAUSED");
    }
}
