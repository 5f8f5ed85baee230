//! Playing the customer: text messages written "on WhatsApp", and any other webhook a test needs,
//! signed and posted to the webhook URL.

use crate::clock::unix_now;
use crate::delivery::DeliveryOutcome;
use crate::state::SandboxState;
use crate::wamid::{Direction, new_wamid};
use crate::webhook_body::{self, Customer, CustomerText};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Shown when a simulated customer has no name: Meta always sends a profile name.
const DEFAULT_PROFILE_NAME: &str = "Sandbox Customer";

/// Body of `POST /sandbox/customer-messages`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerMessage {
    /// The customer's phone number (`wa_id`); may be absent for users known only by `user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The business number written to; defaults to the configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
    /// Business-scoped user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Reuse a wamid to replay a message, as Meta's redeliveries do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wamid: Option<String>,
    /// Unix seconds; defaults to now. Older values test out-of-order delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
}

impl CustomerMessage {
    pub fn text_from(from: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            from: Some(from.into()),
            text: text.into(),
            ..Self::default()
        }
    }
}

/// What happened to a webhook the sandbox posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookReport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wamid: Option<String>,
    /// Our webhook's last HTTP status; `None` when it never answered.
    pub webhook_status: Option<u16>,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl WebhookReport {
    fn new(wamid: Option<String>, outcome: DeliveryOutcome) -> Self {
        Self {
            wamid,
            webhook_status: outcome.status,
            attempts: outcome.attempts,
            error: outcome.error,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerMessageError {
    #[error("a customer message needs `from` or `user_id`")]
    NoSender,
    #[error("a customer message needs non-empty `text`")]
    EmptyText,
}

/// Builds Meta's text-message webhook for `message`, signs it and posts it.
pub async fn post_customer_text(
    state: &SandboxState,
    message: &CustomerMessage,
    attempts: Option<u32>,
) -> Result<WebhookReport, CustomerMessageError> {
    let from = message.from.as_deref().filter(|s| !s.trim().is_empty());
    let user_id = message.user_id.as_deref().filter(|s| !s.trim().is_empty());
    let Some(counterpart) = from.or(user_id) else {
        return Err(CustomerMessageError::NoSender);
    };
    if message.text.is_empty() {
        return Err(CustomerMessageError::EmptyText);
    }
    let wamid = message
        .wamid
        .clone()
        .unwrap_or_else(|| new_wamid(counterpart, Direction::Inbound));
    let body = webhook_body::customer_text(
        &state.business(message.phone_number_id.as_deref()),
        &CustomerText {
            customer: Customer {
                wa_id: from.map(str::to_owned),
                user_id: user_id.map(str::to_owned),
            },
            name: message
                .name
                .clone()
                .unwrap_or_else(|| DEFAULT_PROFILE_NAME.to_owned()),
            wamid: wamid.clone(),
            timestamp: message.timestamp.unwrap_or_else(unix_now),
            body: message.text.clone(),
        },
    );
    let outcome = state
        .deliver_webhook(body.to_string().as_bytes(), attempts)
        .await;
    Ok(WebhookReport::new(Some(wamid), outcome))
}

#[derive(Debug, Default, Deserialize)]
pub struct DeliveryQuery {
    /// Overrides the configured attempts, e.g. 1 to see a rejection without retries.
    pub attempts: Option<u32>,
}

pub async fn customer_message(
    State(state): State<SandboxState>,
    Query(query): Query<DeliveryQuery>,
    Json(message): Json<CustomerMessage>,
) -> Response {
    match post_customer_text(&state, &message, query.attempts).await {
        Ok(report) => report_response(report),
        Err(error) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}

/// `POST /sandbox/webhooks`: signs the body exactly as received and posts it.
pub async fn raw_webhook(
    State(state): State<SandboxState>,
    Query(query): Query<DeliveryQuery>,
    body: Bytes,
) -> Response {
    if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "the body must be JSON" })),
        )
            .into_response();
    }
    let outcome = state.deliver_webhook(&body, query.attempts).await;
    report_response(WebhookReport::new(None, outcome))
}

/// 200 whenever our webhook answered, whatever it answered; 502 when it never did.
fn report_response(report: WebhookReport) -> Response {
    let status = if report.webhook_status.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    (status, Json(report)).into_response()
}
