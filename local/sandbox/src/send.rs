//! `POST /{version}/{phone_number_id}/messages`, answered like the Cloud API.

use crate::clock::rfc3339_now;
use crate::faults::{FaultEffect, FaultKind};
use crate::graph_error::GraphErrorAnswer;
use crate::onboarding::{self, Node, Purpose};
use crate::state::{ReadReceipt, SandboxState, SentMessage};
use crate::statuses::{self, StatusPlan};
use crate::wamid::{Direction, new_wamid};
use crate::webhook_body::{Customer, Pricing};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

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
    if let Some(effect) = fault_for(&state, &headers, addressee.input()) {
        match effect {
            FaultEffect::Reject(answer) => return answer.into_response(),
            FaultEffect::Delay(delay) => tokio::time::sleep(delay).await,
            FaultEffect::AcceptThenFail => undeliverable = true,
            FaultEffect::AcceptThenHang(delay) => hang_after_accepting = Some(delay),
        }
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

fn mark_read(state: &SandboxState, phone_number_id: String, request: &Value) -> Response {
    let Some(message_id) = non_empty_str(request, "/message_id") else {
        return GraphErrorAnswer::invalid_parameter("The parameter message_id is required.")
            .into_response();
    };
    state.record_read_receipt(ReadReceipt {
        phone_number_id,
        message_id: message_id.to_owned(),
        typing_indicator: request.get("typing_indicator").is_some(),
        received_at: rfc3339_now(),
    });
    Json(json!({ "success": true })).into_response()
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
