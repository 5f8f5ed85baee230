//! Webhook bodies as Meta sends them on the `messages` field: customer messages and statuses.

use serde_json::{Value, json};

/// The business a webhook is about: `entry[].id` and `value.metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    pub waba_id: String,
    pub display_phone_number: String,
    pub phone_number_id: String,
}

/// Wraps one `value` the way every `messages` webhook is wrapped.
pub fn messages_envelope(business: &Business, value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": business.waba_id,
            "changes": [{ "value": value, "field": "messages" }]
        }]
    })
}

fn metadata(business: &Business) -> Value {
    json!({
        "display_phone_number": business.display_phone_number,
        "phone_number_id": business.phone_number_id,
    })
}

/// Who a message went to or came from. A customer may be known by phone number, by
/// business-scoped user id, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
}

/// A customer's text message, as in Meta's "text message" webhook example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerText {
    pub customer: Customer,
    pub name: String,
    pub wamid: String,
    pub timestamp: i64,
    pub body: String,
}

pub fn customer_text(business: &Business, message: &CustomerText) -> Value {
    customer_message(
        business,
        &message.customer,
        &message.name,
        &message.wamid,
        message.timestamp,
        "text",
        json!({ "body": message.body }),
    )
}

/// A customer's media message (`image`, `video`, `audio`, `document`, `sticker`): `media` is
/// the object under the type's key, e.g. `{"caption","mime_type","sha256","id"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerMedia {
    pub customer: Customer,
    pub name: String,
    pub wamid: String,
    pub timestamp: i64,
    pub kind: String,
    pub media: Value,
}

pub fn customer_media(business: &Business, message: &CustomerMedia) -> Value {
    customer_message(
        business,
        &message.customer,
        &message.name,
        &message.wamid,
        message.timestamp,
        &message.kind,
        message.media.clone(),
    )
}

/// One message from a customer: `contacts` and `messages` with the content under `kind`.
fn customer_message(
    business: &Business,
    customer: &Customer,
    name: &str,
    wamid: &str,
    timestamp: i64,
    kind: &str,
    content: Value,
) -> Value {
    let mut contact = json!({ "profile": { "name": name } });
    let mut entry = json!({});
    if let Some(wa_id) = &customer.wa_id {
        contact["wa_id"] = json!(wa_id);
        entry["from"] = json!(wa_id);
    }
    if let Some(user_id) = &customer.user_id {
        contact["user_id"] = json!(user_id);
        entry["from_user_id"] = json!(user_id);
    }
    entry["id"] = json!(wamid);
    entry["timestamp"] = json!(timestamp.to_string());
    entry["type"] = json!(kind);
    entry[kind] = content;
    messages_envelope(
        business,
        json!({
            "messaging_product": "whatsapp",
            "metadata": metadata(business),
            "contacts": [contact],
            "messages": [entry],
        }),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    /// Meta gave up; the status carries code 131026.
    Undeliverable,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Undeliverable => "failed",
        }
    }
}

/// Per-message pricing (`pricing_model: PMP`, in force since July 2025): free-form replies inside
/// the customer service window are free; templates are charged by their category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    pub billable: bool,
    pub category: &'static str,
    pub pricing_type: &'static str,
}

impl Pricing {
    /// The sandbox cannot know a template's category; utility is the usual transactional case.
    pub fn for_message_type(message_type: &str) -> Self {
        if message_type == "template" {
            Pricing {
                billable: true,
                category: "utility",
                pricing_type: "regular",
            }
        } else {
            Pricing {
                billable: false,
                category: "service",
                pricing_type: "free_customer_service",
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub wamid: String,
    pub status: DeliveryStatus,
    pub timestamp: i64,
    pub recipient: Customer,
    pub pricing: Pricing,
    pub callback_data: Option<String>,
}

pub fn status(business: &Business, update: &StatusUpdate) -> Value {
    let mut status = json!({
        "id": update.wamid,
        "status": update.status.as_str(),
        "timestamp": update.timestamp.to_string(),
    });
    if let Some(wa_id) = &update.recipient.wa_id {
        status["recipient_id"] = json!(wa_id);
    }
    if let Some(user_id) = &update.recipient.user_id {
        status["recipient_user_id"] = json!(user_id);
    }
    if let Some(data) = &update.callback_data {
        status["biz_opaque_callback_data"] = json!(data);
    }
    if update.status == DeliveryStatus::Undeliverable {
        status["errors"] = json!([{
            "code": 131026,
            "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {
                "details": "Message failed to send because the recipient could not be reached."
            },
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
        }]);
    } else {
        status["pricing"] = json!({
            "billable": update.pricing.billable,
            "pricing_model": "PMP",
            "category": update.pricing.category,
            "type": update.pricing.pricing_type,
        });
    }
    messages_envelope(
        business,
        json!({
            "messaging_product": "whatsapp",
            "metadata": metadata(business),
            "statuses": [status],
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn conformance_webhook(name: &str) -> Value {
        let dir = std::env::var_os("SWITCHBOARD_CONFORMANCE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
            });
        let path = dir.join("meta-openapi/webhook-examples").join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_json::from_str(&text).expect("example is JSON")
    }

    fn example_business() -> Business {
        Business {
            waba_id: "419561257915477".into(),
            display_phone_number: "15550783881".into(),
            phone_number_id: "106540352242922".into(),
        }
    }

    #[test]
    fn customer_text_equals_metas_example() {
        let body = customer_text(
            &example_business(),
            &CustomerText {
                customer: Customer {
                    wa_id: Some("16505551234".into()),
                    user_id: None,
                },
                name: "Sheena Nelson".into(),
                wamid: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=".into(),
                timestamp: 1749416383,
                body: "Does it come in another color?".into(),
            },
        );
        assert_eq!(body, conformance_webhook("text-message.json"));
    }

    #[test]
    fn customer_media_equals_metas_image_example() {
        let body = customer_media(
            &example_business(),
            &CustomerMedia {
                customer: Customer {
                    wa_id: Some("16505551234".into()),
                    user_id: None,
                },
                name: "Sheena Nelson".into(),
                wamid: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=".into(),
                timestamp: 1744344496,
                kind: "image".into(),
                media: json!({
                    "caption": "Taj Mahal",
                    "mime_type": "image/jpeg",
                    "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
                    "id": "1003383421387256"
                }),
            },
        );
        assert_eq!(body, conformance_webhook("image-message.json"));
    }

    #[test]
    fn customers_known_only_by_user_id_have_no_phone_fields() {
        let body = customer_text(
            &example_business(),
            &CustomerText {
                customer: Customer {
                    wa_id: None,
                    user_id: Some("US.13491208655302741918".into()),
                },
                name: "Ada".into(),
                wamid: "wamid.x".into(),
                timestamp: 1,
                body: "hi".into(),
            },
        );
        let value = &body["entry"][0]["changes"][0]["value"];
        assert_eq!(value["contacts"][0]["user_id"], "US.13491208655302741918");
        assert!(value["contacts"][0].get("wa_id").is_none());
        assert_eq!(
            value["messages"][0]["from_user_id"],
            "US.13491208655302741918"
        );
        assert!(value["messages"][0].get("from").is_none());
    }

    #[test]
    fn statuses_carry_per_message_pricing_or_the_failure() {
        let update = |status| StatusUpdate {
            wamid: "wamid.out".into(),
            status,
            timestamp: 1749416390,
            recipient: Customer {
                wa_id: Some("16505551234".into()),
                user_id: None,
            },
            pricing: Pricing::for_message_type("text"),
            callback_data: None,
        };
        let body = status(&example_business(), &update(DeliveryStatus::Delivered));
        let value = &body["entry"][0]["changes"][0]["value"];
        assert_eq!(body["entry"][0]["changes"][0]["field"], "messages");
        assert_eq!(value["metadata"]["phone_number_id"], "106540352242922");
        let s = &value["statuses"][0];
        assert_eq!(s["id"], "wamid.out");
        assert_eq!(s["status"], "delivered");
        assert_eq!(s["timestamp"], "1749416390");
        assert_eq!(s["recipient_id"], "16505551234");
        assert_eq!(
            s["pricing"],
            json!({"billable": false, "pricing_model": "PMP", "category": "service",
                   "type": "free_customer_service"})
        );

        let failed = status(&example_business(), &update(DeliveryStatus::Undeliverable));
        let s = &failed["entry"][0]["changes"][0]["value"]["statuses"][0];
        assert_eq!(s["status"], "failed");
        assert_eq!(s["errors"][0]["code"], 131026);
        assert!(s.get("pricing").is_none());
    }

    #[test]
    fn templates_are_billable() {
        let pricing = Pricing::for_message_type("template");
        assert!(pricing.billable);
        assert_eq!(pricing.pricing_type, "regular");
    }
}
