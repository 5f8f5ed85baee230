//! Message templates, answered like Meta:
//! - `POST /{version}/{waba_id}/message_templates` validates the name, language, category and
//!   components, keeps the template `PENDING` and answers `{id, status, category}`; after the
//!   review delay (300 ms unless set) it is `APPROVED`, or `REJECTED` (`INVALID_FORMAT`) when its
//!   body holds the word `REJECTME`, and the outcome goes out as Meta's
//!   `message_template_status_update` webhook;
//! - `GET /{version}/{waba_id}/message_templates?fields&limit&after&name&status` lists them in
//!   pages, with Meta's `paging`;
//! - `DELETE /{version}/{waba_id}/message_templates?name=…[&hsm_id=…]`.
//!
//! and the control side, for tests and developers:
//! - `GET /sandbox/templates` — every template the sandbox holds;
//! - `PUT /sandbox/templates/review-delay` `{"delay_ms": n}`;
//! - `POST /sandbox/templates/{id}/pause`, `…/disable`, `…/status` `{"event", "reason"?}`,
//!   `…/category` `{"category"}`, `…/quality` `{"score"}`: change the template as Meta would
//!   and send the webhook Meta sends for it (`template_category_update`,
//!   `message_template_quality_update`), unless `?webhook=false` (a change the platform only
//!   learns of by listing).

use crate::clock::unix_now;
use crate::graph_error::GraphErrorAnswer;
use crate::onboarding::{Node, Purpose, authorize};
use crate::state::SandboxState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// How long review takes unless set otherwise: long enough to see `PENDING`, short for tests.
pub const DEFAULT_REVIEW_DELAY: Duration = Duration::from_millis(300);
/// A template whose body holds this word is rejected.
pub const REJECT_MARKER: &str = "REJECTME";
/// Meta's limit on template names.
pub const MAX_NAME_LEN: usize = 512;
const CATEGORIES: [&str; 3] = ["MARKETING", "UTILITY", "AUTHENTICATION"];
const QUALITY_SCORES: [&str; 4] = ["GREEN", "YELLOW", "RED", "UNKNOWN"];
const DEFAULT_PAGE: usize = 25;
const MAX_PAGE: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxTemplate {
    pub id: String,
    pub waba_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    /// Meta's `rejected_reason` (`NONE` unless rejected).
    pub rejected_reason: String,
    pub quality: String,
    pub components: Value,
}

/// The templates of every WABA the sandbox serves.
#[derive(Debug)]
pub struct TemplatesState {
    templates: Vec<SandboxTemplate>,
    next_id: u64,
    review_delay: Duration,
}

impl Default for TemplatesState {
    fn default() -> Self {
        Self {
            templates: Vec::new(),
            next_id: 1_189_000_000_000_001,
            review_delay: DEFAULT_REVIEW_DELAY,
        }
    }
}

impl TemplatesState {
    pub fn all(&self) -> Vec<SandboxTemplate> {
        self.templates.clone()
    }

    pub fn review_delay(&self) -> Duration {
        self.review_delay
    }

    pub fn set_review_delay(&mut self, delay: Duration) {
        self.review_delay = delay;
    }

    fn find_mut(&mut self, id: &str) -> Option<&mut SandboxTemplate> {
        self.templates.iter_mut().find(|t| t.id == id)
    }

    fn exists(&self, waba_id: &str, name: &str, language: &str) -> bool {
        self.templates
            .iter()
            .any(|t| t.waba_id == waba_id && t.name == name && t.language == language)
    }

    fn insert(&mut self, mut template: SandboxTemplate) -> SandboxTemplate {
        template.id = self.next_id.to_string();
        self.next_id += 1;
        self.templates.push(template.clone());
        template
    }
}

/// Meta's answer to a template it refuses: code 100, with its user-facing title and text.
fn invalid(subcode: Option<i64>, title: &str, details: &str) -> Response {
    let answer = GraphErrorAnswer {
        status: StatusCode::BAD_REQUEST,
        code: 100,
        subcode,
        message: "Invalid parameter".to_owned(),
        details: Some(details.to_owned()),
    };
    let mut body = answer.body();
    body["error"]["is_transient"] = json!(false);
    body["error"]["error_user_title"] = json!(title);
    body["error"]["error_user_msg"] = json!(details);
    (answer.status, Json(body)).into_response()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `en`, `en_US`, `zh_CN`, `es_MX`…: Meta's locale codes.
fn valid_language(language: &str) -> bool {
    let mut parts = language.split('_');
    let lang = parts.next().unwrap_or_default();
    let region = parts.next();
    parts.next().is_none()
        && (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| {
            (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The text of the `BODY` component.
fn body_text(components: &Value) -> Option<&str> {
    components.as_array()?.iter().find_map(|c| {
        c.get("type")
            .and_then(Value::as_str)
            .filter(|t| t.eq_ignore_ascii_case("BODY"))?;
        c.get("text").and_then(Value::as_str)
    })
}

fn text_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// `POST /{version}/{waba_id}/message_templates`.
pub async fn create(
    State(state): State<SandboxState>,
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = authorize(
        &state,
        &headers,
        "post",
        Node::Waba(&waba_id),
        Purpose::Manage,
    ) {
        return refusal.into_response();
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return GraphErrorAnswer::invalid_parameter("The request body must be JSON.")
            .into_response();
    };
    let name = text_field(&request, "name").unwrap_or_default();
    if !valid_name(name) {
        return invalid(
            None,
            "Invalid template name",
            "Message template names can only contain lowercase alphanumeric characters and underscores ( _ ), up to 512 characters.",
        );
    }
    let language = text_field(&request, "language").unwrap_or_default();
    if !valid_language(language) {
        return invalid(
            None,
            "Invalid language",
            "The parameter language is invalid: use a supported language code such as en_US.",
        );
    }
    let category = text_field(&request, "category")
        .unwrap_or_default()
        .to_ascii_uppercase();
    if !CATEGORIES.contains(&category.as_str()) {
        return invalid(
            None,
            "Invalid category",
            "The parameter category must be one of MARKETING, UTILITY or AUTHENTICATION.",
        );
    }
    let components = request.get("components").cloned().unwrap_or(Value::Null);
    let has_components = components.as_array().is_some_and(|c| !c.is_empty());
    if !has_components || (category != "AUTHENTICATION" && body_text(&components).is_none()) {
        return invalid(
            None,
            "Invalid components",
            "The parameter components is required and needs a BODY component with its text.",
        );
    }
    let created = {
        let mut templates = state.templates();
        if templates.exists(&waba_id, name, language) {
            return invalid(
                Some(2388024),
                "Message template already exists",
                "There is already content for this template in this language.",
            );
        }
        templates.insert(SandboxTemplate {
            id: String::new(),
            waba_id: waba_id.clone(),
            name: name.to_owned(),
            language: language.to_owned(),
            category: category.clone(),
            status: "PENDING".to_owned(),
            rejected_reason: "NONE".to_owned(),
            quality: "UNKNOWN".to_owned(),
            components,
        })
    };
    spawn_review(state.clone(), created.id.clone());
    Json(json!({ "id": created.id, "status": created.status, "category": created.category }))
        .into_response()
}

/// Reviews the template after the delay, unless something else decided it first.
fn spawn_review(state: SandboxState, id: String) {
    tokio::spawn(async move {
        let stop = state.clone();
        tokio::select! {
            () = review(&state, &id) => {}
            () = stop.shutting_down() => {}
        }
    });
}

async fn review(state: &SandboxState, id: &str) {
    let delay = state.templates().review_delay();
    tokio::time::sleep(delay).await;
    let decided = {
        let mut templates = state.templates();
        let Some(template) = templates.find_mut(id).filter(|t| t.status == "PENDING") else {
            return;
        };
        let rejected = body_text(&template.components).is_some_and(|t| t.contains(REJECT_MARKER));
        if rejected {
            template.status = "REJECTED".to_owned();
            template.rejected_reason = "INVALID_FORMAT".to_owned();
        } else {
            template.status = "APPROVED".to_owned();
        }
        template.clone()
    };
    let reason = decided.rejected_reason.clone();
    send_status(state, &decided, &decided.status, &reason, None).await;
}

fn envelope(waba_id: &str, field: &str, value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": waba_id,
            "time": unix_now(),
            "changes": [{ "value": value, "field": field }]
        }]
    })
}

/// Meta sends template ids as numbers.
fn template_id(template: &SandboxTemplate) -> Value {
    template
        .id
        .parse::<u64>()
        .map_or_else(|_| json!(template.id), |n| json!(n))
}

async fn post(state: &SandboxState, body: &Value) -> Option<u16> {
    let outcome = state
        .deliver_webhook(body.to_string().as_bytes(), None)
        .await;
    outcome.status
}

/// `message_template_status_update`, as in Meta's examples; `other_info` as Meta adds it to
/// pauses and disables.
async fn send_status(
    state: &SandboxState,
    template: &SandboxTemplate,
    event: &str,
    reason: &str,
    other_info: Option<Value>,
) -> Option<u16> {
    let mut value = json!({
        "event": event,
        "message_template_id": template_id(template),
        "message_template_name": template.name,
        "message_template_language": template.language,
        "reason": reason,
        "message_template_category": template.category,
    });
    if event == "REJECTED" {
        value["rejection_info"] = json!({
            "reason": "The template's format is not valid.",
            "recommendation": "Review the template guidelines and submit it again.",
        });
    }
    if let Some(info) = other_info {
        value["other_info"] = info;
    }
    post(
        state,
        &envelope(&template.waba_id, "message_template_status_update", value),
    )
    .await
}

/// `GET /{version}/{waba_id}/message_templates`.
pub async fn list(
    State(state): State<SandboxState>,
    Path((version, waba_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = authorize(
        &state,
        &headers,
        "get",
        Node::Waba(&waba_id),
        Purpose::Manage,
    ) {
        return refusal.into_response();
    }
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, MAX_PAGE);
    let start = query
        .get("after")
        .and_then(|a| decode_cursor(a))
        .unwrap_or(0);
    let matching: Vec<SandboxTemplate> = state
        .templates()
        .all()
        .into_iter()
        .filter(|t| t.waba_id == waba_id)
        .filter(|t| query.get("name").is_none_or(|n| &t.name == n))
        .filter(|t| {
            query
                .get("status")
                .is_none_or(|s| t.status.eq_ignore_ascii_case(s))
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(limit)
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "language": t.language,
                "status": t.status,
                "category": t.category,
                "components": t.components,
                "quality_score": { "score": t.quality, "date": unix_now() },
                "rejected_reason": t.rejected_reason,
            })
        })
        .collect();
    let end = start + page.len();
    let mut body = json!({ "data": page });
    if !page.is_empty() {
        body["paging"] = json!({
            "cursors": { "before": encode_cursor(start), "after": encode_cursor(end) }
        });
        if end < matching.len() {
            body["paging"]["next"] = json!(format!(
                "https://graph.facebook.com/{version}/{waba_id}/message_templates?limit={limit}&after={}",
                encode_cursor(end)
            ));
        }
    }
    Json(body).into_response()
}

/// Meta's cursors are opaque base64; the sandbox's are the offset, made as opaque.
fn encode_cursor(offset: usize) -> String {
    hex::encode(format!("offset:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = hex::decode(cursor).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

/// `DELETE /{version}/{waba_id}/message_templates?name=…[&hsm_id=…]`.
pub async fn delete(
    State(state): State<SandboxState>,
    Path((_version, waba_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = authorize(
        &state,
        &headers,
        "delete",
        Node::Waba(&waba_id),
        Purpose::Manage,
    ) {
        return refusal.into_response();
    }
    let Some(name) = query.get("name").filter(|n| !n.is_empty()) else {
        return GraphErrorAnswer::invalid_parameter("The parameter name is required.")
            .into_response();
    };
    let hsm_id = query.get("hsm_id");
    let removed = {
        let mut templates = state.templates();
        let before = templates.templates.len();
        templates.templates.retain(|t| {
            !(t.waba_id == waba_id && &t.name == name && hsm_id.is_none_or(|id| &t.id == id))
        });
        before - templates.templates.len()
    };
    if removed == 0 {
        return invalid(
            None,
            "Message template not found",
            "No message template with this name (and id) exists.",
        );
    }
    Json(json!({ "success": true })).into_response()
}

/// `GET /sandbox/templates`.
pub async fn all(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.templates().all()))
}

#[derive(Debug, Deserialize)]
pub struct ReviewDelay {
    pub delay_ms: u64,
}

/// `PUT /sandbox/templates/review-delay`.
pub async fn set_review_delay(
    State(state): State<SandboxState>,
    Json(body): Json<ReviewDelay>,
) -> StatusCode {
    state
        .templates()
        .set_review_delay(Duration::from_millis(body.delay_ms));
    StatusCode::NO_CONTENT
}

#[derive(Debug, Default, Deserialize)]
pub struct ControlQuery {
    /// `false`: change the template without telling the webhook.
    pub webhook: Option<bool>,
}

/// What a control call did.
#[derive(Debug, Serialize)]
struct Controlled {
    template: SandboxTemplate,
    /// Our webhook's answer; absent when no webhook was sent or it never answered.
    webhook_status: Option<u16>,
}

fn unknown_template() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "no template with this id" })),
    )
        .into_response()
}

fn bad_control(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

/// `POST /sandbox/templates/{id}/{action}`.
pub async fn control(
    State(state): State<SandboxState>,
    Path((id, action)): Path<(String, String)>,
    Query(query): Query<ControlQuery>,
    body: Bytes,
) -> Response {
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(value) => value,
            Err(_) => return bad_control("the body must be JSON"),
        }
    };
    let notify = query.webhook.unwrap_or(true);
    match action.as_str() {
        "pause" => {
            let info = json!({
                "title": "FIRST_PAUSE",
                "description": "Your template has been paused for 3 hours due to low quality.",
            });
            change_status(&state, &id, "PAUSED", "NONE", Some(info), notify).await
        }
        "disable" => {
            let info = json!({
                "title": "DISABLED",
                "description": "Your template has been disabled due to low quality.",
            });
            change_status(&state, &id, "DISABLED", "NONE", Some(info), notify).await
        }
        "status" => {
            let Some(event) = text_field(&body, "event") else {
                return bad_control("`event` is required");
            };
            let reason = text_field(&body, "reason").unwrap_or("NONE").to_owned();
            let event = event.to_ascii_uppercase();
            change_status(&state, &id, &event, &reason, None, notify).await
        }
        "category" => {
            let category = text_field(&body, "category")
                .unwrap_or_default()
                .to_ascii_uppercase();
            if !CATEGORIES.contains(&category.as_str()) {
                return bad_control("`category` must be MARKETING, UTILITY or AUTHENTICATION");
            }
            change_category(&state, &id, &category, notify).await
        }
        "quality" => {
            let score = text_field(&body, "score")
                .unwrap_or_default()
                .to_ascii_uppercase();
            if !QUALITY_SCORES.contains(&score.as_str()) {
                return bad_control("`score` must be GREEN, YELLOW, RED or UNKNOWN");
            }
            change_quality(&state, &id, &score, notify).await
        }
        _ => bad_control("the action must be pause, disable, status, category or quality"),
    }
}

async fn change_status(
    state: &SandboxState,
    id: &str,
    event: &str,
    reason: &str,
    other_info: Option<Value>,
    notify: bool,
) -> Response {
    let changed = {
        let mut templates = state.templates();
        let Some(template) = templates.find_mut(id) else {
            return unknown_template();
        };
        template.status = match event {
            "REINSTATED" => "APPROVED".to_owned(),
            other => other.to_owned(),
        };
        template.rejected_reason = if event == "REJECTED" {
            reason.to_owned()
        } else {
            "NONE".to_owned()
        };
        template.clone()
    };
    let webhook_status = if notify {
        send_status(state, &changed, event, reason, other_info).await
    } else {
        None
    };
    Json(Controlled {
        template: changed,
        webhook_status,
    })
    .into_response()
}

async fn change_category(state: &SandboxState, id: &str, category: &str, notify: bool) -> Response {
    let (previous, changed) = {
        let mut templates = state.templates();
        let Some(template) = templates.find_mut(id) else {
            return unknown_template();
        };
        let previous = std::mem::replace(&mut template.category, category.to_owned());
        (previous, template.clone())
    };
    let webhook_status = if notify {
        let value = json!({
            "message_template_id": template_id(&changed),
            "message_template_name": changed.name,
            "message_template_language": changed.language,
            "previous_category": previous,
            "new_category": changed.category,
        });
        post(
            state,
            &envelope(&changed.waba_id, "template_category_update", value),
        )
        .await
    } else {
        None
    };
    Json(Controlled {
        template: changed,
        webhook_status,
    })
    .into_response()
}

async fn change_quality(state: &SandboxState, id: &str, score: &str, notify: bool) -> Response {
    let (previous, changed) = {
        let mut templates = state.templates();
        let Some(template) = templates.find_mut(id) else {
            return unknown_template();
        };
        let previous = std::mem::replace(&mut template.quality, score.to_owned());
        (previous, template.clone())
    };
    let webhook_status = if notify {
        let value = json!({
            "previous_quality_score": previous,
            "new_quality_score": changed.quality,
            "message_template_id": template_id(&changed),
            "message_template_name": changed.name,
            "message_template_language": changed.language,
        });
        post(
            state,
            &envelope(&changed.waba_id, "message_template_quality_update", value),
        )
        .await
    } else {
        None
    };
    Json(Controlled {
        template: changed,
        webhook_status,
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_languages_and_bodies_follow_metas_rules() {
        for ok in ["order_update", "a", "promo_2026", &"a".repeat(MAX_NAME_LEN)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "Order",
            "order-update",
            "order update",
            &"a".repeat(MAX_NAME_LEN + 1),
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        for ok in ["en", "en_US", "pt_BR", "zh_HK", "fil"] {
            assert!(valid_language(ok), "{ok}");
        }
        for bad in ["", "EN", "en-US", "en_US_x", "e"] {
            assert!(!valid_language(bad), "{bad:?}");
        }
        let components =
            json!([{"type": "HEADER", "text": "x"}, {"type": "body", "text": "Hi {{1}}"}]);
        assert_eq!(body_text(&components), Some("Hi {{1}}"));
        assert_eq!(body_text(&json!([{"type": "FOOTER", "text": "x"}])), None);
    }

    #[test]
    fn cursors_round_trip_and_refuse_others() {
        assert_eq!(decode_cursor(&encode_cursor(25)), Some(25));
        assert_eq!(decode_cursor("MjQZD"), None);
    }
}
