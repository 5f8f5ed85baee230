//! RFC 9457 problem details: the one mapping from errors to HTTP.
//!
//! Every client mistake is a 4xx `application/problem+json` answer, never a 500:
//!
//! | status | `type` | when |
//! |---|---|---|
//! | 400 | `/problems/malformed-request` | the body is not JSON, or another malformed request |
//! | 400 | `/problems/invalid-query` | a query parameter is unknown, repeated or out of range (`errors` names it) |
//! | 400 | `/problems/invalid-cursor` | `cursor` was not issued by this listing, was changed, or has expired |
//! | 400 | `/problems/invalid-id` | an id in the path (or a key field) is longer than 128 bytes or has characters ids never have |
//! | 401 | `/problems/unauthorized` | no valid credentials (access token, session or API key) |
//! | 401 | `/problems/invalid-credentials` | sign-in with a wrong e-mail address or password (the same answer for both) |
//! | 403 | `/problems/forbidden` | signed in, but the role or the key's scopes do not allow this |
//! | 403 | `/problems/csrf` | a cookie-authenticated unsafe request without its CSRF token, or from another origin |
//! | 403 | `/problems/suspended` | the tenant is suspended pending review (`detail` says why) |
//! | 404 | `/problems/not-found` | no such route, or no such item for this tenant |
//! | 405 | `/problems/method-not-allowed` | known route, other method; the `Allow` header lists the methods |
//! | 413 | `/problems/payload-too-large` | the body is larger than its route's limit ([`crate::MAX_BODY_BYTES`], a contact import [`crate::contacts::MAX_IMPORT_BYTES`], a campaign [`crate::campaigns::MAX_CAMPAIGN_BYTES`]) |
//! | 415 | `/problems/unsupported-media-type` | a JSON body sent without `Content-Type: application/json` |
//! | 422 | `/problems/validation` | well-formed but invalid (`errors` names each field) |
//! | 409 | `/problems/opted-out` | an opt-in declared for a customer who opted out (only the customer can opt back in) |
//! | 422 | `/problems/policy-denied` | the compliance policy refuses the message at once; `reason` (and `code`) is the reason stored on denied messages (`window_closed`, `no_opt_in`, …) |
//! | 409 | `/problems/channel-in-use` | the WhatsApp number or its WABA is connected to another tenant |
//! | 422 | `/problems/meta-refused` | Meta refused a template (`code` `template_invalid`, `detail` Meta's reason) or the WABA's token (`no_access`) |
//! | 422 | `/problems/embedded-signup` | Meta refused a signup step; `code` says which (wrong or expired code, PIN mismatch, too many attempts, number registered elsewhere, no access) |
//! | 429 | `/problems/too-many-requests` | too many failed sign-ins; `Retry-After` says when to try again |
//!
//! | 502 | `/problems/meta-unavailable` | Meta's Graph API failed or timed out; nothing was changed |
//! | 503 | `/problems/unavailable` | a dependency is briefly unavailable, or Embedded Signup is not configured |
//!
//! Handlers return [`Problem`]; axum's own rejections (query, path, JSON, body limit, method)
//! convert with `From`, and [`problem_responses`] turns any plain-text error axum still produces
//! into problem+json, so nothing else reaches a client.

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const CONTENT_TYPE: &str = "application/problem+json";
const POLICY_DENIED: &str = "/problems/policy-denied";

#[derive(Debug, Clone, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Serialized through [`ProblemJson`], which adds the extension members.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Sent as `type`.
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    /// A machine-readable reason within the type (e.g. which Embedded Signup step failed).
    pub code: Option<&'static str>,
    /// Seconds, sent as the `Retry-After` header (not in the body).
    pub retry_after: Option<u64>,
}

/// A problem as it is sent. `reason` is computed, not held, so `Problem` stays small (it is
/// every handler's error type).
#[derive(Serialize)]
struct ProblemJson<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
    /// A machine-readable reason within the type (e.g. which Embedded Signup step failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    /// With `/problems/policy-denied`: the compliance policy's reason code, the same one a
    /// stored message's `decision.reason` shows (`window_closed`, `no_opt_in`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ProblemJson {
            kind: self.kind,
            title: self.title,
            status: self.status,
            detail: self.detail.as_deref(),
            errors: &self.errors,
            code: self.code,
            reason: self.code.filter(|_| self.is_decision()),
        }
        .serialize(serializer)
    }
}

impl Problem {
    fn new(status: StatusCode, kind: &'static str, title: &'static str) -> Self {
        Self {
            kind,
            title,
            status: status.as_u16(),
            detail: None,
            errors: Vec::new(),
            code: None,
            retry_after: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.detail = Some(
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        );
        self.errors = errors;
        self
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/problems/validation",
            "The request is invalid",
        )
        .with_errors(errors)
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "/problems/malformed-request",
            "The request body is not valid JSON",
        )
        .detail(detail)
    }

    /// 400 for a request malformed in some other way than its JSON.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "/problems/malformed-request",
            "The request is malformed",
        )
        .detail(detail)
    }

    /// 400: the query string as a whole does not parse (unknown or repeated parameter).
    pub fn invalid_query(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "/problems/invalid-query",
            "The query string is invalid",
        )
        .detail(detail)
    }

    /// 400 naming the query parameter that is wrong.
    pub fn query_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "/problems/invalid-query",
            "The query string is invalid",
        )
        .with_errors(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// 400: the page cursor is not one this listing issued, was changed, or has expired. The
    /// same answer for each, so a client learns nothing by probing.
    pub fn invalid_cursor() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "/problems/invalid-cursor",
            "The page cursor is invalid or expired",
        )
        .with_errors(vec![FieldError {
            field: "cursor".into(),
            message: "must be a next_cursor this listing returned within the last 24 hours; \
                      list again without a cursor to start over"
                .into(),
        }])
    }

    /// 400: an id that no item of ours can have (too long, or characters ids never contain).
    pub fn invalid_id(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "/problems/invalid-id",
            "The id is not valid",
        )
        .detail(detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "/problems/unauthorized",
            "Valid credentials are required",
        )
        .detail(
            "send an access token or an API key as `Authorization: Bearer …`, or a session cookie",
        )
    }

    /// The one answer to a failed sign-in, whether the address exists or not.
    pub fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "/problems/invalid-credentials",
            "The e-mail address or password is wrong",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "/problems/forbidden", "Not allowed").detail(detail)
    }

    pub fn csrf(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "/problems/csrf",
            "Cross-site request refused",
        )
        .detail(detail)
    }

    pub fn suspended(reason: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "/problems/suspended",
            "The account is suspended pending review",
        )
        .detail(reason)
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut p = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "/problems/too-many-requests",
            "Too many attempts",
        )
        .detail(format!("try again in {retry_after_secs} seconds"));
        p.retry_after = Some(retry_after_secs);
        p
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "/problems/not-found", "Not found")
            .detail(format!("{what} not found"))
    }

    /// 405; axum adds the `Allow` header naming the route's methods.
    pub fn method_not_allowed(method: &Method) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "/problems/method-not-allowed",
            "Method not allowed",
        )
        .detail(format!(
            "{method} is not allowed here; the Allow header lists the methods that are"
        ))
    }

    /// `limit`: the route's own ([`crate::body_limit`]).
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "/problems/payload-too-large",
            "The request body is too large",
        )
        .detail(format!("request bodies are limited to {limit} bytes here"))
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "/problems/unsupported-media-type",
            "Unsupported media type",
        )
        .detail(detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "/problems/conflict", "Conflict").detail(detail)
    }

    /// Meta refused what the business asked of it (a template, the WABA's token); `code` says
    /// which, `detail` why.
    pub fn meta_refused(code: &'static str, detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/problems/meta-refused",
            "Meta refused the request",
        )
        .detail(detail);
        p.code = Some(code);
        p
    }

    /// An uploaded file a check refused; `code` is the reason (`executable`, `type_mismatch`,
    /// `size_mismatch`, …).
    pub fn media_rejected(code: &'static str, detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/problems/media-rejected",
            "The uploaded file was refused",
        )
        .detail(detail);
        p.code = Some(code);
        p
    }

    /// A message's media that is not handed out: quarantined, or gone at Meta. `reason` is the
    /// media's reason code (`sha256_mismatch`, `media_gone`, …).
    pub fn media_withheld(detail: &str, reason: Option<&str>) -> Self {
        let detail = match reason {
            Some(reason) => format!("{detail} (reason: {reason})"),
            None => detail.to_owned(),
        };
        Self::new(
            StatusCode::CONFLICT,
            "/problems/media-withheld",
            "The media is not available",
        )
        .detail(detail)
    }

    /// The number or WABA is connected to another tenant.
    pub fn channel_in_use(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "/problems/channel-in-use",
            "The WhatsApp number is connected to another account",
        )
        .detail(detail)
    }

    /// Meta refused a step of Embedded Signup for a reason the business can act on; `code`
    /// says which (see `channels::failure_code`).
    pub fn embedded_signup(code: &'static str, detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/problems/embedded-signup",
            "Meta did not accept the WhatsApp signup",
        )
        .detail(detail);
        p.code = Some(code);
        p
    }

    /// Meta's Graph API failed or could not be reached; nothing was changed, retry later.
    pub fn meta_unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "/problems/meta-unavailable",
            "Meta's API is not answering as expected, retry later",
        )
        .detail(detail)
    }

    /// The customer opted out; only their own action on WhatsApp opts them back in.
    pub fn opted_out(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "/problems/opted-out",
            "The customer opted out of messages from this business",
        )
        .detail(detail)
    }

    /// The compliance policy refuses the message; `reason` (and, like every problem's
    /// machine-readable reason, `code`) is the decision's reason code. `detail` is the
    /// decision's own, which never holds the recipient or the text.
    pub fn policy_denied(reason: &'static str, detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            POLICY_DENIED,
            "WhatsApp policy or the customer's consent does not allow this message",
        )
        .detail(detail);
        p.code = Some(reason);
        p
    }

    /// A decision about the request rather than a failure to carry it out: an idempotent
    /// retry is answered with it again (see `crate::idempotent`).
    pub fn is_decision(&self) -> bool {
        self.kind == POLICY_DENIED
    }

    pub fn unprocessable_key() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/problems/idempotency-key-reused",
            "Idempotency-Key was used with a different request",
        )
    }

    /// Internal details are logged, never returned.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "/problems/internal",
            "Something went wrong on our side",
        )
    }

    pub fn unavailable(error: &dyn std::fmt::Display) -> Self {
        tracing::warn!(%error, "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "/problems/unavailable",
            "Temporarily unavailable, retry later",
        )
    }

    /// A problem for an error response axum made by itself (status and plain-text body).
    fn from_plain(status: StatusCode, text: Option<String>) -> Self {
        let text = text.filter(|t| !t.trim().is_empty());
        let or = |default: &str| text.clone().unwrap_or_else(|| default.to_owned());
        match status {
            StatusCode::NOT_FOUND => Problem::not_found("route"),
            StatusCode::PAYLOAD_TOO_LARGE => Problem::payload_too_large(crate::MAX_BODY_BYTES),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Problem::unsupported_media_type(or("unsupported content type"))
            }
            StatusCode::METHOD_NOT_ALLOWED => {
                Self::new(status, "/problems/method-not-allowed", "Method not allowed")
                    .detail(or("see the Allow header for the methods this route takes"))
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                Self::new(status, "/problems/validation", "The request is invalid")
                    .detail(or("the request is invalid"))
            }
            s if s.is_client_error() => {
                Self::new(s, "/problems/malformed-request", "The request is malformed")
                    .detail(or("the request is malformed"))
            }
            _ => Problem::internal(&format!("{status}: {}", or("no body"))),
        }
    }
}

impl From<switchboard_store::StoreError> for Problem {
    fn from(e: switchboard_store::StoreError) -> Self {
        use switchboard_store::StoreError;
        match e {
            StoreError::InvalidCursor => Problem::invalid_cursor(),
            StoreError::NotFound { what } => Problem::not_found(what),
            // Key values the API passes on come from the request (path ids, body fields): one
            // that cannot be part of a key is the client's mistake. Tenants come from our own
            // records and are checked when stored.
            StoreError::InvalidKey { kind, reason } => {
                Problem::invalid_id(format!("{kind}: {reason}"))
            }
            e if e.is_retryable() => Problem::unavailable(&e),
            e => Problem::internal(&e),
        }
    }
}

impl From<QueryRejection> for Problem {
    fn from(r: QueryRejection) -> Self {
        Problem::invalid_query(r.body_text())
    }
}

impl From<PathRejection> for Problem {
    fn from(r: PathRejection) -> Self {
        if r.status().is_client_error() {
            Problem::invalid_id(r.body_text())
        } else {
            Problem::internal(&r.body_text())
        }
    }
}

impl From<BytesRejection> for Problem {
    fn from(r: BytesRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Problem::payload_too_large(crate::MAX_BODY_BYTES),
            s if s.is_client_error() => Problem::bad_request(r.body_text()),
            _ => Problem::internal(&r.body_text()),
        }
    }
}

impl From<JsonRejection> for Problem {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "/problems/validation",
                "The request is invalid",
            )
            .detail(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => Problem::malformed(e.body_text()),
            JsonRejection::MissingJsonContentType(e) => {
                Problem::unsupported_media_type(e.body_text())
            }
            JsonRejection::BytesRejection(e) => e.into(),
            other => Problem::from_plain(other.status(), Some(other.body_text())),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let mut response =
            (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], Json(self)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub(crate) async fn not_found() -> Problem {
    Problem::not_found("route")
}

pub(crate) async fn method_not_allowed(method: Method) -> Problem {
    Problem::method_not_allowed(&method)
}

/// Axum's rejection texts are short; anything longer is not worth echoing.
const MAX_ECHOED_BODY: usize = 1024;

/// The safety net: bodies larger than their route's limit ([`crate::body_limit`]) are refused
/// from their `Content-Length` before anything reads them, every 413 names that limit, and an
/// error response that is not already problem+json (one axum made itself) becomes one, keeping
/// its status and headers (`Allow`).
pub(crate) async fn problem_responses(request: Request, next: Next) -> Response {
    let limit = crate::body_limit(request.method(), request.uri().path());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Problem::payload_too_large(limit).into_response();
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(CONTENT_TYPE.as_bytes()));
    // A 413 is rewritten even when it is a problem already: whoever refused the body while
    // reading it (a handler or axum), the limit it names is the route's.
    let too_large = status == StatusCode::PAYLOAD_TOO_LARGE;
    if !(status.is_client_error() || status.is_server_error()) || (is_problem && !too_large) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let problem = if too_large {
        Problem::payload_too_large(limit)
    } else {
        let text = axum::body::to_bytes(body, MAX_ECHOED_BODY)
            .await
            .ok()
            .and_then(|b| String::from_utf8(b.to_vec()).ok());
        Problem::from_plain(status, text)
    };
    let json = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Response::from_parts(parts, Body::from(json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_store::StoreError;

    #[test]
    fn store_errors_a_client_caused_are_4xx() {
        let p = Problem::from(StoreError::InvalidCursor);
        assert_eq!((p.status, p.kind), (400, "/problems/invalid-cursor"));
        assert_eq!(p.errors[0].field, "cursor");
        let p = Problem::from(StoreError::InvalidKey {
            kind: "conversation id",
            reason: "too long",
        });
        assert_eq!((p.status, p.kind), (400, "/problems/invalid-id"));
        let p = Problem::from(StoreError::Decode("bad item".into()));
        assert_eq!(p.status, 500);
        assert_eq!(p.detail, None, "internal details are not returned");
    }

    #[test]
    fn a_policy_denial_names_its_reason_and_is_a_decision() {
        let p = Problem::policy_denied("window_closed", "the window is closed");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["status"], 422);
        assert_eq!(json["type"], "/problems/policy-denied");
        assert_eq!(json["reason"], "window_closed");
        assert_eq!(json["code"], "window_closed");
        assert_eq!(json["detail"], "the window is closed");
        assert!(p.is_decision());
        let v = serde_json::to_value(Problem::field("to", "is required")).unwrap();
        assert!(v.get("reason").is_none(), "{v}");
        assert!(!Problem::field("to", "is required").is_decision());
    }

    #[test]
    fn plain_errors_keep_their_status() {
        for (status, kind) in [
            (400, "/problems/malformed-request"),
            (404, "/problems/not-found"),
            (405, "/problems/method-not-allowed"),
            (413, "/problems/payload-too-large"),
            (415, "/problems/unsupported-media-type"),
            (422, "/problems/validation"),
            (500, "/problems/internal"),
        ] {
            let p = Problem::from_plain(StatusCode::from_u16(status).unwrap(), Some("text".into()));
            assert_eq!((p.status, p.kind), (status, kind));
        }
    }
}
