//! Embedded Signup on the Graph API, answered like Meta:
//! - `GET /{version}/oauth/access_token?client_id&client_secret&code` — the code exchange;
//! - `POST|GET|DELETE /{version}/{waba_id}/subscribed_apps`;
//! - `POST /{version}/{phone_number_id}/register`;
//! - `GET /{version}/{phone_number_id}?fields=...`;
//!
//! and the control side: `POST /sandbox/signup-codes`, `GET /sandbox/subscriptions`,
//! `GET /sandbox/registrations`.
//!
//! Who may call what: a business token issued by an exchange reaches its own WABA and that
//! WABA's numbers; anything else of the sandbox's answers Meta's "object does not exist, cannot
//! be loaded due to missing permissions" (code 100, subcode 33). The configured `expected_token`
//! (the Tech Provider's system token) reaches every WABA and number the sandbox knows. Any other
//! token is refused with 190 when `expected_token` is set, and treated like it when not.

use crate::clock::rfc3339_now;
use crate::graph_error::GraphErrorAnswer;
use crate::onboarding_state::{
    ExchangeRefusal, RegisterRefusal, Registration, SignupCode, SignupCodeError, SignupCodeRequest,
    Subscription, token_sha256, valid_pin,
};
use crate::state::SandboxState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::Instant;

/// What a request is about.
#[derive(Debug, Clone, Copy)]
pub enum Node<'a> {
    Waba(&'a str),
    PhoneNumber(&'a str),
}

impl Node<'_> {
    fn id(&self) -> &str {
        match self {
            Node::Waba(id) | Node::PhoneNumber(id) => id,
        }
    }
}

/// Sends keep the sandbox's old leniency for the system token (any number, so tests can send
/// from numbers seeded only in the platform); the onboarding endpoints need a known node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Send,
    Manage,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// A refused request: Meta's error, typed `OAuthException` or `GraphMethodException`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    answer: GraphErrorAnswer,
    graph_method: bool,
}

impl From<GraphErrorAnswer> for Refusal {
    fn from(answer: GraphErrorAnswer) -> Self {
        Self {
            answer,
            graph_method: false,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = self.answer.body();
        if self.graph_method {
            body["error"]["type"] = json!("GraphMethodException");
        }
        (self.answer.status, Json(body)).into_response()
    }
}

/// Meta's answer to a node the token cannot see: it does not say whether the node exists.
pub fn no_access(method: &str, node_id: &str) -> Refusal {
    Refusal {
        answer: GraphErrorAnswer {
            status: StatusCode::BAD_REQUEST,
            code: 100,
            subcode: Some(33),
            message: format!(
                "Unsupported {method} request. Object with ID '{node_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
            ),
            details: None,
        },
        graph_method: true,
    }
}

fn whatsapp_error(status: StatusCode, code: i64, title: &str, details: &str) -> GraphErrorAnswer {
    GraphErrorAnswer {
        status,
        code,
        subcode: None,
        message: format!("(#{code}) {title}"),
        details: Some(details.to_owned()),
    }
}

fn oauth_error(code: i64, subcode: Option<i64>, message: &str) -> Response {
    GraphErrorAnswer {
        status: StatusCode::BAD_REQUEST,
        code,
        subcode,
        message: message.to_owned(),
        details: None,
    }
    .into_response()
}

/// Checks the bearer token for `node` and returns the token's SHA-256 (for the record).
pub fn authorize(
    state: &SandboxState,
    headers: &HeaderMap,
    method: &str,
    node: Node<'_>,
    purpose: Purpose,
) -> Result<String, Refusal> {
    let token = bearer(headers).ok_or_else(GraphErrorAnswer::missing_token)?;
    let digest = token_sha256(token);
    let onboarding = state.onboarding();
    let known = match node {
        Node::Waba(id) => onboarding.knows_waba(id),
        Node::PhoneNumber(id) => onboarding.number_waba(id).is_some(),
    };
    if let Some(waba) = onboarding.token_waba(&digest) {
        let owner = match node {
            Node::Waba(id) => known.then_some(id),
            Node::PhoneNumber(id) => onboarding.number_waba(id),
        };
        return if owner == Some(waba) {
            Ok(digest)
        } else {
            Err(no_access(method, node.id()))
        };
    }
    let system = state
        .config()
        .expected_token
        .as_deref()
        .is_none_or(|expected| expected == token);
    if !system {
        return Err(GraphErrorAnswer::invalid_token().into());
    }
    if purpose == Purpose::Manage && !known {
        return Err(no_access(method, node.id()));
    }
    Ok(digest)
}

/// A number onboarded through a signup code sends only once registered (Meta's 133010).
pub fn check_registered(state: &SandboxState, phone_number_id: &str) -> Result<(), Refusal> {
    match state.onboarding().number(phone_number_id) {
        Some(number) if !number.registered => Err(whatsapp_error(
            StatusCode::BAD_REQUEST,
            133010,
            "Account not registered",
            "Phone number not registered on the WhatsApp Business Platform.",
        )
        .into()),
        _ => Ok(()),
    }
}

/// `GET /{version}/oauth/access_token`.
pub async fn exchange_code(
    State(state): State<SandboxState>,
    Path(_version): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let config = state.config();
    if param("client_id").is_empty() {
        return oauth_error(101, None, "Missing client_id parameter.");
    }
    if param("client_id") != config.app_id {
        return oauth_error(
            101,
            None,
            "Error validating application. Invalid application ID.",
        );
    }
    if param("client_secret") != config.app_secret {
        return oauth_error(1, None, "Error validating client secret.");
    }
    let code = param("code");
    if code.is_empty() {
        return oauth_error(100, None, "Missing authorization code.");
    }
    let exchanged = state.onboarding().exchange(code, Instant::now());
    match exchanged {
        Ok(token) => Json(json!({ "access_token": token, "token_type": "bearer" })).into_response(),
        Err(ExchangeRefusal::Unknown) => {
            oauth_error(100, None, "Invalid verification code format.")
        }
        Err(ExchangeRefusal::Expired) => {
            oauth_error(100, Some(36007), "This authorization code has expired.")
        }
        Err(ExchangeRefusal::Used) => {
            oauth_error(100, Some(36009), "This authorization code has been used.")
        }
    }
}

/// `POST /{version}/{waba_id}/subscribed_apps`.
pub async fn subscribe_app(
    State(state): State<SandboxState>,
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(answer) = authorize(
        &state,
        &headers,
        "post",
        Node::Waba(&waba_id),
        Purpose::Manage,
    ) {
        return answer.into_response();
    }
    let app_id = state.config().app_id.clone();
    state
        .onboarding()
        .subscribe(&waba_id, &app_id, rfc3339_now());
    Json(json!({ "success": true })).into_response()
}

/// `DELETE /{version}/{waba_id}/subscribed_apps`.
pub async fn unsubscribe_app(
    State(state): State<SandboxState>,
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(answer) = authorize(
        &state,
        &headers,
        "delete",
        Node::Waba(&waba_id),
        Purpose::Manage,
    ) {
        return answer.into_response();
    }
    state.onboarding().unsubscribe(&waba_id);
    Json(json!({ "success": true })).into_response()
}

/// `GET /{version}/{waba_id}/subscribed_apps`: the apps subscribed to the WABA (ours or none).
pub async fn subscribed_apps(
    State(state): State<SandboxState>,
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(answer) = authorize(
        &state,
        &headers,
        "get",
        Node::Waba(&waba_id),
        Purpose::Manage,
    ) {
        return answer.into_response();
    }
    let subscribed = state.onboarding().is_subscribed(&waba_id);
    let app_id = &state.config().app_id;
    let data: Vec<Value> = if subscribed {
        vec![json!({ "whatsapp_business_api_data": { "id": app_id, "name": "Switchboard" } })]
    } else {
        Vec::new()
    };
    Json(json!({ "data": data })).into_response()
}

/// `POST /{version}/{phone_number_id}/register` with `{"messaging_product":"whatsapp","pin"}`.
pub async fn register(
    State(state): State<SandboxState>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(answer) = authorize(
        &state,
        &headers,
        "post",
        Node::PhoneNumber(&phone_number_id),
        Purpose::Manage,
    ) {
        return answer.into_response();
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if request["messaging_product"] != "whatsapp" {
        return GraphErrorAnswer::invalid_parameter(
            "The parameter messaging_product is required and must be 'whatsapp'.",
        )
        .into_response();
    }
    let Some(pin) = request["pin"].as_str().filter(|pin| valid_pin(pin)) else {
        return GraphErrorAnswer::invalid_parameter(
            "The parameter pin is required and must be a 6-digit number.",
        )
        .into_response();
    };
    let outcome = state
        .onboarding()
        .register(&phone_number_id, pin, Instant::now(), rfc3339_now());
    match outcome {
        Ok(()) => Json(json!({ "success": true })).into_response(),
        Err(RegisterRefusal::PinMismatch) => whatsapp_error(
            StatusCode::BAD_REQUEST,
            133005,
            "Two step verification PIN Mismatch",
            "Two-step verification PIN incorrect.",
        )
        .into_response(),
        Err(RegisterRefusal::TooManyAttempts) => whatsapp_error(
            StatusCode::BAD_REQUEST,
            133016,
            "Account register deregister rate limit exceeded",
            "Registration or Deregistration failed because there were too many attempts for this phone number in a short period of time",
        )
        .into_response(),
        Err(RegisterRefusal::InUseElsewhere) => whatsapp_error(
            StatusCode::BAD_REQUEST,
            133006,
            "Phone number re-verification needed",
            "Phone number needs to be verified before registering.",
        )
        .into_response(),
    }
}

/// The fields `GET /{phone_number_id}` returns without `fields`.
const DEFAULT_FIELDS: &[&str] = &[
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
];

fn is_version(version: &str) -> bool {
    version.strip_prefix('v').is_some_and(|rest| {
        let mut parts = rest.split('.');
        let digits = |part: Option<&str>| {
            part.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        digits(parts.next()) && digits(parts.next()) && parts.next().is_none()
    })
}

/// `GET /{version}/{phone_number_id}?fields=...`.
pub async fn phone_number(
    State(state): State<SandboxState>,
    Path((version, phone_number_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !is_version(&version) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": { "message": "Unknown path components", "type": "OAuthException", "code": 2500 } })),
        )
            .into_response();
    }
    if state.media().knows(&phone_number_id) {
        return crate::media::media_url(&state, &phone_number_id, &query, &headers);
    }
    if let Err(answer) = authorize(
        &state,
        &headers,
        "get",
        Node::PhoneNumber(&phone_number_id),
        Purpose::Manage,
    ) {
        return answer.into_response();
    }
    let Some(number) = state.onboarding().number(&phone_number_id) else {
        return no_access("get", &phone_number_id).into_response();
    };
    let all = json!({
        "display_phone_number": number.display_phone_number,
        "verified_name": number.verified_name,
        "quality_rating": "GREEN",
        "throughput": { "level": "STANDARD" },
        "code_verification_status": if number.registered_elsewhere { "NOT_VERIFIED" } else { "VERIFIED" },
        "name_status": "APPROVED",
        "platform_type": if number.registered { "CLOUD_API" } else { "NOT_APPLICABLE" },
        "status": if number.registered { "CONNECTED" } else { "PENDING" },
    });
    let requested: Vec<&str> = match query.get("fields") {
        Some(fields) => fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect(),
        None => DEFAULT_FIELDS.to_vec(),
    };
    let mut answer = Map::new();
    for field in requested {
        if field == "id" {
            continue;
        }
        let Some(value) = all.get(field) else {
            return GraphErrorAnswer {
                status: StatusCode::BAD_REQUEST,
                code: 100,
                subcode: None,
                message: format!(
                    "(#100) Tried accessing nonexisting field ({field}) on node type (WhatsAppBusinessPhoneNumber)"
                ),
                details: None,
            }
            .into_response();
        };
        answer.insert(field.to_owned(), value.clone());
    }
    answer.insert("id".to_owned(), json!(phone_number_id));
    Json(Value::Object(answer)).into_response()
}

impl SandboxState {
    /// Mints a signup code, as `POST /sandbox/signup-codes` does.
    pub fn mint_signup_code(
        &self,
        request: &SignupCodeRequest,
    ) -> Result<SignupCode, SignupCodeError> {
        let minted = self.onboarding().mint(request, Instant::now())?;
        tracing::debug!(
            waba_id = %request.waba_id,
            phone_number_id = %request.phone_number_id,
            "signup code minted"
        );
        Ok(minted)
    }

    /// The WABAs with our app subscribed.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.onboarding().subscriptions()
    }

    /// Every number the sandbox knows, with its registration state.
    pub fn registrations(&self) -> Vec<Registration> {
        self.onboarding().registrations(Instant::now())
    }
}

/// `POST /sandbox/signup-codes`.
pub async fn mint_signup_code(
    State(state): State<SandboxState>,
    Json(request): Json<SignupCodeRequest>,
) -> Response {
    match state.mint_signup_code(&request) {
        Ok(minted) => (StatusCode::CREATED, Json(json!(minted))).into_response(),
        Err(error) => {
            let status = match error {
                SignupCodeError::NumberOfAnotherWaba { .. } => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            };
            (status, Json(json!({ "error": error.to_string() }))).into_response()
        }
    }
}

/// `GET /sandbox/subscriptions`.
pub async fn subscriptions(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.subscriptions()))
}

/// `GET /sandbox/registrations`.
pub async fn registrations(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.registrations()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_look_like_metas() {
        assert!(is_version("v23.0"));
        assert!(is_version("v19.10"));
        for bad in ["sandbox", "v23", "23.0", "v23.0.1", "v.0", "vx.0"] {
            assert!(!is_version(bad), "{bad}");
        }
    }

    #[test]
    fn no_access_is_a_graph_method_exception_with_subcode_33() {
        let refusal = no_access("post", "123");
        assert_eq!(refusal.answer.code, 100);
        assert_eq!(refusal.answer.subcode, Some(33));
        assert!(refusal.graph_method);
        assert!(refusal.answer.message.contains("'123'"));
        assert_eq!(refusal.into_response().status(), StatusCode::BAD_REQUEST);
    }
}
