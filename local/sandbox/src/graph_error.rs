//! Graph API error answers in Meta's exact shape:
//! `{"error":{"message","type","code","error_subcode"?,"error_data"?:{"messaging_product","details"},"fbtrace_id"}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphErrorAnswer {
    pub status: StatusCode,
    pub code: i64,
    pub subcode: Option<i64>,
    /// Meta writes `(#code) title` for WhatsApp errors and plain text for OAuth ones.
    pub message: String,
    /// `error_data.details`; OAuth errors carry none.
    pub details: Option<String>,
}

impl GraphErrorAnswer {
    fn whatsapp(status: StatusCode, code: i64, title: &str, details: &str) -> Self {
        Self {
            status,
            code,
            subcode: None,
            message: format!("(#{code}) {title}"),
            details: Some(details.to_owned()),
        }
    }

    pub fn missing_token() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: 104,
            subcode: None,
            message: "An access token is required to request this resource.".to_owned(),
            details: None,
        }
    }

    pub fn invalid_token() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: 190,
            subcode: None,
            message: "Invalid OAuth access token - Cannot parse access token".to_owned(),
            details: None,
        }
    }

    pub fn invalid_parameter(details: &str) -> Self {
        Self::whatsapp(StatusCode::BAD_REQUEST, 100, "Invalid parameter", details)
    }

    /// What Meta answers when a field is present but breaks a limit (a 21-character button
    /// title, a second section without a title).
    pub fn parameter_value_not_valid(details: &str) -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            131009,
            "Parameter value is not valid",
            details,
        )
    }

    pub fn service_temporarily_unavailable() -> Self {
        Self::whatsapp(
            StatusCode::INTERNAL_SERVER_ERROR,
            2,
            "Service temporarily unavailable",
            "Temporary due to downtime or due to being overloaded.",
        )
    }

    pub fn service_unavailable() -> Self {
        Self::whatsapp(
            StatusCode::SERVICE_UNAVAILABLE,
            131016,
            "Service unavailable",
            "A service is temporarily unavailable.",
        )
    }

    pub fn throughput_reached() -> Self {
        Self {
            subcode: Some(2494055),
            ..Self::whatsapp(
                StatusCode::TOO_MANY_REQUESTS,
                130429,
                "Rate limit hit",
                "Message failed to send because there were too many messages sent from this phone number in a short period of time",
            )
        }
    }

    pub fn pair_rate_limit() -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            131056,
            "(Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
        )
    }

    pub fn marketing_stopped() -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            131050,
            "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
            "The user has stopped marketing messages from the business.",
        )
    }

    pub fn reengagement() -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            131047,
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        )
    }

    pub fn body(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": fbtrace_id(),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if let Some(details) = &self.details {
            error["error_data"] = json!({"messaging_product": "whatsapp", "details": details});
        }
        json!({ "error": error })
    }
}

impl IntoResponse for GraphErrorAnswer {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// Meta's trace ids are 23 characters of URL-safe base64.
fn fbtrace_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    rand::random::<[u8; 23]>()
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 0x3f)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_errors_carry_error_data_and_oauth_errors_do_not() {
        let body = GraphErrorAnswer::reengagement().body();
        assert_eq!(body["error"]["code"], 131047);
        assert_eq!(body["error"]["message"], "(#131047) Re-engagement message");
        assert_eq!(body["error"]["type"], "OAuthException");
        assert_eq!(body["error"]["error_data"]["messaging_product"], "whatsapp");
        assert_eq!(body["error"]["fbtrace_id"].as_str().unwrap().len(), 23);
        assert!(body["error"].get("error_subcode").is_none());

        let token = GraphErrorAnswer::invalid_token().body();
        assert_eq!(token["error"]["code"], 190);
        assert!(token["error"].get("error_data").is_none());

        let throughput = GraphErrorAnswer::throughput_reached();
        assert_eq!(throughput.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throughput.body()["error"]["error_subcode"], 2494055);
    }
}
