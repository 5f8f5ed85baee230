//! `POST /{version}/{phone_number_id}/messages`, answered like the Cloud API.

use crate::clock::rfc3339_now;
use crate::faults::{FaultEffect, FaultKind};
use crate::graph_error::GraphErrorAnswer;
use crate::onboarding::{self, Node, Purpose};
use crate::pacing::{Limit, RandomFault};
use crate::state::{ReadReceipt, Rejection, SandboxState, SentMessage};
use crate::statuses::{self, StatusPlan};
use crate::wamid::{Direction, new_wamid};
use crate::webhook_body::{Customer, Pricing};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use switchboard_meta::graph::{MarkRead, MessageContent, violations};

/// Forces a fault on one request, ahead of the queue.
pub const FAULT_HEADER: &str = "x-sandbox-fault";
/// Milliseconds for a forced `delay` fault.
pub const FAULT_DELAY_HEADER: &str = "x-sandbox-fault-delay-ms";

/// Who a send is addressed to: `to` carries a phone number, `recipient` a business-scoped user id.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Addressee {
    Phone(String),
    UserId(String),
}

impl Addressee {
    fn input(&self) -> &str {
        match self {
            Addressee::Phone(input) | Addressee::UserId(input) => input,
        }
    }

    /// Meta answers a phone number with its bare digits as `wa_id`.
    fn customer(&self) -> Customer {
        match self {
            Addressee::Phone(input) => Customer {
                wa_id: Some(input.chars().filter(char::is_ascii_digit).collect()),
                user_id: None,
            },
            Addressee::UserId(user_id) => Customer {
                wa_id: None,
                user_id: Some(user_id.clone()),
            },
        }
    }

    fn contact(&self) -> Value {
        let customer = self.customer();
        let mut contact = json!({ "input": self.input() });
        if let Some(wa_id) = customer.wa_id {
            contact["wa_id"] = json!(wa_id);
        }
        if let Some(user_id) = customer.user_id {
            contact["user_id"] = json!(user_id);
        }
        contact
    }
}

pub async fn send_message(
    State(state): State<SandboxState>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let access_token_sha256 = match onboarding::authorize(
        &state,
        &headers,
        "post",
        Node::PhoneNumber(&phone_number_id),
        Purpose::Send,
    ) {
        Ok(digest) => digest,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(refusal) = onboarding::check_registered(&state, &phone_number_id) {
        return refusal.into_response();
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(value @ Value::Object(_)) => value,
        _ => {
            return GraphErrorAnswer::invalid_parameter("Invalid JSON in request body")
                .into_response();
        }
    };
    if request["messaging_product"] != "whatsapp" {
        return GraphErrorAnswer::invalid_parameter(
            "The parameter messaging_product is required and must be 'whatsapp'.",
        )
        .into_response();
    }
    if request["status"] == "read" {
        return mark_read(&state, phone_number_id, &request);
    }
    let (addressee, message_type) = match validate_message(&request) {
        Ok(valid) => valid,
        Err(answer) => return answer.into_response(),
    };

    let mut undeliverable = false;
    let mut hang_after_accepting = None;
    let refuse = |answer: GraphErrorAnswer, cause: &str| {
        state.record_rejection(Rejection {
            phone_number_id: phone_number_id.clone(),
            recipient: addressee.input().to_owned(),
            code: answer.code,
            cause: cause.to_owned(),
            received_at: rfc3339_now(),
        });
        answer.into_response()
    };
    let effect = fault_for(&state, &headers, addressee.input());
    if effect.is_none() {
        match state.roll_fault() {
            Some(RandomFault::ServerError) => {
                return refuse(
                    GraphErrorAnswer::service_temporarily_unavailable(),
                    "random",
                );
            }
            Some(RandomFault::RateLimit) => {
                return refuse(GraphErrorAnswer::throughput_reached(), "random");
            }
            None => {}
        }
    }
    if let Some(effect) = effect {
        match effect {
            FaultEffect::Reject(answer) => return refuse(answer, "fault"),
            FaultEffect::Delay(delay) => tokio::time::sleep(delay).await,
            FaultEffect::AcceptThenFail => undeliverable = true,
            FaultEffect::AcceptThenHang(delay) => hang_after_accepting = Some(delay),
        }
    }
    match state.admit_send(&phone_number_id, addressee.input()) {
        Ok(()) => {}
        Err(Limit::Throughput) => {
            return refuse(GraphErrorAnswer::throughput_reached(), "throughput");
        }
        Err(Limit::PairRate) => return refuse(GraphErrorAnswer::pair_rate_limit(), "pair_rate"),
    }
    let callback_data = request["biz_opaque_callback_data"]
        .as_str()
        .map(str::to_owned);

    let wamid = new_wamid(addressee.input(), Direction::Outbound);
    state.record_sent(SentMessage {
        phone_number_id: phone_number_id.clone(),
        wamid: wamid.clone(),
        body: request,
        access_token_sha256,
        received_at: rfc3339_now(),
    });
    if state.config().send_statuses {
        statuses::spawn(
            state.clone(),
            StatusPlan {
                business: state.business(Some(&phone_number_id)),
                wamid: wamid.clone(),
                recipient: addressee.customer(),
                pricing: Pricing::for_message_type(&message_type),
                undeliverable,
                callback_data,
            },
        );
    }
    if let Some(delay) = hang_after_accepting {
        // Accepted and reported, but the answer comes too late for the client to see it.
        tokio::time::sleep(delay).await;
    }
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [addressee.contact()],
        "messages": [{ "id": wamid }],
    }))
    .into_response()
}

fn non_empty_str<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The checks Meta makes before accepting a message, as far as Switchboard's sends go.
fn validate_message(request: &Value) -> Result<(Addressee, String), GraphErrorAnswer> {
    let addressee = if let Some(to) = non_empty_str(request, "/to") {
        Addressee::Phone(to.to_owned())
    } else if let Some(user_id) = non_empty_str(request, "/recipient") {
        Addressee::UserId(user_id.to_owned())
    } else {
        return Err(GraphErrorAnswer::invalid_parameter(
            "The parameter to is required.",
        ));
    };
    let message_type = non_empty_str(request, "/type")
        .ok_or_else(|| GraphErrorAnswer::invalid_parameter("The parameter type is required."))?;
    if !MessageContent::TYPE_NAMES.contains(&message_type) {
        return Err(GraphErrorAnswer::invalid_parameter(&format!(
            "Param type must be one of {}.",
            MessageContent::TYPE_NAMES.join(", ")
        )));
    }
    let missing = match message_type {
        "text" => non_empty_str(request, "/text/body")
            .is_none()
            .then_some("text['body']"),
        "template" => {
            if non_empty_str(request, "/template/name").is_none() {
                Some("template['name']")
            } else if non_empty_str(request, "/template/language/code").is_none() {
                Some("template['language']['code']")
            } else {
                None
            }
        }
        _ => request.get(message_type).is_none().then_some(message_type),
    };
    if let Some(param) = missing {
        return Err(GraphErrorAnswer::invalid_parameter(&format!(
            "Param {param} is required."
        )));
    }
    // The shape and the documented limits, as Switchboard's own model reads them: a send the
    // model would refuse is one Meta refuses too, and a test should hear it here.
    let content = MessageContent::from_request(message_type, request[message_type].clone())
        .map_err(|error| {
            GraphErrorAnswer::invalid_parameter(&format!(
                "Param {} is invalid: {}",
                error.field, error.message
            ))
        })?;
    if let Some(violation) = violations(&content).first() {
        return Err(GraphErrorAnswer::parameter_value_not_valid(&format!(
            "Param {} is invalid: {}",
            violation.field, violation.message
        )));
    }
    Ok((addressee, message_type.to_owned()))
}

/// A header fault wins over the queue and does not consume it.
fn fault_for(state: &SandboxState, headers: &HeaderMap, recipient: &str) -> Option<FaultEffect> {
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(kind) = header(FAULT_HEADER).and_then(FaultKind::parse) {
        let delay = header(FAULT_DELAY_HEADER)
            .and_then(|ms| ms.trim().parse().ok())
            .map(std::time::Duration::from_millis);
        return Some(kind.effect(delay));
    }
    state.take_fault_for(recipient).map(|fault| fault.effect())
}

/// Any message id is accepted: the sandbox does not keep the wamids of the customer messages
/// it (or a test) delivered, so it cannot tell an unknown one from a real one.
fn mark_read(state: &SandboxState, phone_number_id: String, request: &Value) -> Response {
    let read = match parse_mark_read(request) {
        Ok(read) => read,
        Err(answer) => return answer.into_response(),
    };
    state.record_read_receipt(ReadReceipt {
        phone_number_id,
        message_id: read.message_id,
        typing_indicator: read.typing_indicator,
        received_at: rfc3339_now(),
    });
    Json(json!({ "success": true })).into_response()
}

fn parse_mark_read(request: &Value) -> Result<MarkRead, GraphErrorAnswer> {
    if non_empty_str(request, "/message_id").is_none() {
        return Err(GraphErrorAnswer::invalid_parameter(
            "The parameter message_id is required.",
        ));
    }
    serde_json::from_value::<MarkRead>(request.clone()).map_err(|error| {
        GraphErrorAnswer::invalid_parameter(&format!("Invalid read receipt: {error}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_metas_text_and_template_examples() {
        let text = json!({"messaging_product":"whatsapp","recipient_type":"individual",
            "to":"+16505551234","type":"text","text":{"body":"hi","preview_url":false}});
        let (addressee, kind) = validate_message(&text).unwrap();
        assert_eq!(kind, "text");
        assert_eq!(
            addressee.contact(),
            json!({"input":"+16505551234","wa_id":"16505551234"})
        );

        let template = json!({"messaging_product":"whatsapp","to":"1","type":"template",
            "template":{"name":"hello_world","language":{"code":"en_US"}}});
        assert!(validate_message(&template).is_ok());
    }

    #[test]
    fn accepts_every_message_type_switchboard_sends() {
        for (kind, object) in [
            ("image", json!({"id": "1", "caption": "Menu"})),
            ("video", json!({"link": "https://example.com/v.mp4"})),
            ("audio", json!({"id": "1"})),
            ("document", json!({"id": "1", "filename": "menu.pdf"})),
            ("sticker", json!({"link": "https://example.com/s.webp"})),
            (
                "location",
                json!({"latitude": 37.48, "longitude": -122.14, "name": "HQ"}),
            ),
            (
                "contacts",
                json!([{"name": {"formatted_name": "Ana Lima"}}]),
            ),
            ("reaction", json!({"message_id": "wamid.in", "emoji": "👍"})),
            (
                "interactive",
                json!({"type": "button", "body": {"text": "Pick"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}]}}),
            ),
            (
                "interactive",
                json!({"type": "list", "body": {"text": "Pick"},
                "action": {"button": "Options", "sections": [{"rows": [{"id": "a", "title": "A"}]}]}}),
            ),
            (
                "interactive",
                json!({"type": "cta_url", "body": {"text": "Dates"},
                "action": {"name": "cta_url", "parameters": {"display_text": "See",
                    "url": "https://example.com"}}}),
            ),
            (
                "interactive",
                json!({"type": "location_request_message", "body": {"text": "Where?"},
                "action": {"name": "send_location"}}),
            ),
        ] {
            let mut request = json!({"messaging_product": "whatsapp", "to": "1", "type": kind});
            request[kind] = object;
            let (_, message_type) = validate_message(&request)
                .unwrap_or_else(|answer| panic!("{request}: {:?}", answer.details));
            assert_eq!(message_type, kind);
        }
    }

    #[test]
    fn refuses_unmodelled_types_and_broken_limits_like_meta() {
        let request = |kind: &str, object: Value| {
            let mut request = json!({"messaging_product": "whatsapp", "to": "1", "type": kind});
            request[kind] = object;
            request
        };
        let unknown = validate_message(&request("carousel", json!({}))).unwrap_err();
        assert_eq!(unknown.code, 100);

        let shape = validate_message(&request("image", json!({"id": "1", "size": 3}))).unwrap_err();
        assert_eq!(shape.code, 100);
        assert!(
            shape
                .details
                .as_deref()
                .unwrap_or_default()
                .contains("image.size")
        );

        let long_title = request(
            "interactive",
            json!({"type": "button", "body": {"text": "Pick"}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": "y", "title": "A title that is far too long"}}]}}),
        );
        let limit = validate_message(&long_title).unwrap_err();
        assert_eq!(limit.code, 131009);
        assert_eq!(limit.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(
            limit
                .details
                .as_deref()
                .unwrap_or_default()
                .contains("interactive.action.buttons[0].reply.title")
        );
    }

    #[test]
    fn reads_metas_read_receipt_and_refuses_a_broken_one() {
        let read = parse_mark_read(&json!({"messaging_product": "whatsapp", "status": "read",
            "message_id": "wamid.in", "typing_indicator": {"type": "text"}}))
        .unwrap();
        assert_eq!(read, MarkRead::new("wamid.in").with_typing_indicator());
        for bad in [
            json!({"messaging_product": "whatsapp", "status": "read"}),
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "w",
                "typing_indicator": {"type": "video"}}),
        ] {
            assert_eq!(parse_mark_read(&bad).unwrap_err().code, 100, "{bad}");
        }
    }

    #[test]
    fn user_ids_are_answered_with_user_id() {
        let request = json!({"messaging_product":"whatsapp","recipient":"US.1349",
            "type":"text","text":{"body":"hi"}});
        let (addressee, _) = validate_message(&request).unwrap();
        assert_eq!(
            addressee.contact(),
            json!({"input":"US.1349","user_id":"US.1349"})
        );
    }

    #[test]
    fn rejects_what_meta_rejects_with_code_100() {
        for request in [
            json!({"messaging_product":"whatsapp","type":"text","text":{"body":"hi"}}),
            json!({"messaging_product":"whatsapp","to":"1","text":{"body":"hi"}}),
            json!({"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":""}}),
            json!({"messaging_product":"whatsapp","to":"1","type":"template","template":{"name":"x"}}),
            json!({"messaging_product":"whatsapp","to":"1","type":"image"}),
        ] {
            let answer = validate_message(&request).unwrap_err();
            assert_eq!(answer.code, 100, "{request}");
            assert_eq!(answer.status, axum::http::StatusCode::BAD_REQUEST);
        }
    }
}
