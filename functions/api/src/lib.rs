//! The business HTTP API: an axum Router that lambda_http runs in Lambda and the dev runner
//! mounts locally.

mod abuse_reports;
mod access;
mod accounts;
mod api_keys;
mod audit;
mod campaigns;
mod channels;
mod contacts;
mod conversations;
mod idempotent;
mod init;
mod login_limits;
mod media_uploads;
mod message_media;
mod message_read;
mod messages;
mod month_page;
mod openapi;
mod operator;
mod password;
mod principal;
mod problem;
mod templates;
mod tenant;
mod tokens;
mod users;

pub use access::{Access, RULES, Rule, check, rule_for};
pub use audit::AuditLog;
pub use campaigns::MAX_CAMPAIGN_BYTES;
pub use contacts::{MAX_IMPORT_BYTES, MAX_IMPORT_ROWS};
pub use init::{InitError, init};
pub use operator::{OperatorKey, WeakOperatorKey};
pub use principal::{Actor, CSRF_HEADER, Principal, SESSION_COOKIE, Via};
pub use problem::{FieldError, Problem};
pub use tokens::{AccessTokens, digest as secret_digest};

use access::Routes;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use axum::routing::{delete, get, patch, post};
use std::sync::Arc;
use switchboard_domain::Clock;
use switchboard_platform::queue::Queue;
use switchboard_store::{CursorCodec, IdempotencyStore, Store};

/// The largest request body accepted, in bytes (a 4096-character text is at most 16 KiB of
/// UTF-8); larger ones are answered 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The routes whose bodies may be larger than [`MAX_BODY_BYTES`]: a contact import and a
/// campaign's recipient list.
const LARGER_BODIES: [(&str, usize); 2] = [
    ("/v1/contacts", contacts::MAX_IMPORT_BYTES),
    ("/v1/campaigns", campaigns::MAX_CAMPAIGN_BYTES),
];

/// The largest body a request may carry. Both the route's own limit and the early
/// `Content-Length` check read it, so they agree.
pub(crate) fn body_limit(method: &Method, path: &str) -> usize {
    let path = path.trim_end_matches('/');
    LARGER_BODIES
        .iter()
        .find(|(route, _)| method == Method::POST && path == *route)
        .map_or(MAX_BODY_BYTES, |(_, limit)| *limit)
}

/// The longest id accepted in a path. Our ids are under 40 bytes.
pub const MAX_ID_BYTES: usize = 128;

pub struct ApiState {
    pub store: Store,
    pub idempotency: IdempotencyStore,
    pub outbound_queue: Queue,
    /// Where jobs for the inbound function go (replaying a connected number's kept events).
    pub inbound_queue: Queue,
    /// Meta's Graph API, for Embedded Signup and reading channels.
    pub graph: switchboard_meta::graph::GraphClient,
    /// Seals and opens tenants' Meta tokens.
    pub vault: switchboard_platform::token_vault::TokenVault,
    /// The Meta app codes are exchanged with; `None` when Embedded Signup is not configured.
    pub meta_app: Option<MetaApp>,
    pub access_tokens: AccessTokens,
    /// Opens the operator routes; `None` (no `OPERATOR_SECRET_ID`) keeps them closed.
    pub operator_key: Option<OperatorKey>,
    pub audit: AuditLog,
    /// Origins the console is served from; empty: the API's own host.
    pub console_origins: Vec<String>,
    pub clock: Arc<dyn Clock>,
    /// Signs and checks page cursors; read against `clock`.
    pub cursors: CursorCodec,
    /// Where each request's EMF metrics go: stdout in Lambda.
    pub metrics: Arc<dyn switchboard_platform::metrics::MetricsSink>,
    /// Our copies of messages' media, handed out as presigned links, and tenants' uploads.
    pub media: switchboard_platform::media_store::MediaStore,
    /// What the API's AWS clients were built from: upload forms are signed with its
    /// credentials, resolved per form (they rotate).
    pub aws: aws_config::SdkConfig,
}

/// The `service` dimension of the API's metrics.
pub const METRICS_SERVICE: &str = "api";
/// Sends accepted (queued or deferred), refused at once by the policy, and held at once.
pub const MESSAGES_ACCEPTED: &str = "MessagesAccepted";
pub const MESSAGES_DENIED: &str = "MessagesDenied";
pub const MESSAGES_DEFERRED: &str = "MessagesDeferred";
/// Campaigns accepted, and their recipients.
pub const CAMPAIGNS_CREATED: &str = "CampaignsCreated";
pub const CAMPAIGN_RECIPIENTS: &str = "CampaignRecipients";
pub use abuse_reports::{ABUSE_REPORTS_RECEIVED, REPORTS_PER_SOURCE};

impl ApiState {
    /// Replaces the clock everywhere the API reads time.
    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.audit.set_clock(Arc::clone(&clock));
        self.clock = clock;
    }
}

/// The Meta app of the Tech Provider: Embedded Signup codes are exchanged with its id and
/// secret.
pub struct MetaApp {
    pub app_id: String,
    pub app_secret: switchboard_domain::Secret,
}

/// The caller's address (see [`principal::source_ip`]).
pub struct SourceIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SourceIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(SourceIp(principal::source_ip(parts)))
    }
}

fn routes() -> Routes {
    Routes::new()
        .add(Method::GET, "/healthz", get(healthz))
        .add(Method::GET, "/v1/openapi.json", get(openapi::serve))
        .add(Method::POST, "/v1/auth/signup", post(accounts::sign_up))
        .add(Method::POST, "/v1/auth/login", post(accounts::login))
        .add(Method::POST, "/v1/auth/refresh", post(accounts::refresh))
        .add(Method::POST, "/v1/auth/logout", post(accounts::logout))
        .add(
            Method::POST,
            "/v1/auth/invitations/accept",
            post(accounts::accept_invitation),
        )
        .add(
            Method::POST,
            "/v1/auth/password",
            post(accounts::change_password),
        )
        .add(Method::GET, "/v1/me", get(accounts::me))
        .add(Method::GET, "/v1/conversations", get(conversations::list))
        .add(
            Method::GET,
            "/v1/conversations/{id}",
            get(conversations::get_one),
        )
        .add(
            Method::GET,
            "/v1/conversations/{id}/messages",
            get(conversations::messages),
        )
        .add(Method::POST, "/v1/messages", post(messages::create))
        .add(Method::GET, "/v1/messages/{id}", get(messages::get_one))
        .add(
            Method::POST,
            "/v1/messages/{id}/read",
            post(message_read::mark_read),
        )
        .add(
            Method::GET,
            "/v1/messages/{id}/media",
            get(message_media::get_link),
        )
        .add(Method::POST, "/v1/media", post(media_uploads::create))
        .add(Method::GET, "/v1/media/{id}", get(media_uploads::get_one))
        .add(
            Method::POST,
            "/v1/media/{id}/complete",
            post(media_uploads::complete),
        )
        .add(
            Method::POST,
            "/v1/contacts",
            post(contacts::create).layer(DefaultBodyLimit::max(body_limit(
                &Method::POST,
                "/v1/contacts",
            ))),
        )
        .add(Method::GET, "/v1/contacts/{id}", get(contacts::get_one))
        .add(
            Method::POST,
            "/v1/contacts/{id}/opt-in",
            post(contacts::opt_in),
        )
        .add(
            Method::POST,
            "/v1/campaigns",
            post(campaigns::create).layer(DefaultBodyLimit::max(body_limit(
                &Method::POST,
                "/v1/campaigns",
            ))),
        )
        .add(Method::GET, "/v1/campaigns", get(campaigns::list))
        .add(Method::GET, "/v1/campaigns/{id}", get(campaigns::get_one))
        .add(
            Method::POST,
            "/v1/campaigns/{id}/cancel",
            post(campaigns::cancel),
        )
        .add(Method::GET, "/v1/templates", get(templates::list))
        .add(Method::POST, "/v1/templates", post(templates::create))
        .add(Method::GET, "/v1/templates/{name}", get(templates::get_one))
        .add(
            Method::DELETE,
            "/v1/templates/{name}",
            delete(templates::delete),
        )
        .add(Method::GET, "/v1/users", get(users::list))
        .add(Method::POST, "/v1/users", post(users::invite))
        .add(Method::PATCH, "/v1/users/{id}", patch(users::update))
        .add(Method::GET, "/v1/api-keys", get(api_keys::list))
        .add(Method::POST, "/v1/api-keys", post(api_keys::create))
        .add(
            Method::DELETE,
            "/v1/api-keys/{id}",
            delete(api_keys::revoke),
        )
        .add(Method::GET, "/v1/audit", get(audit::list))
        .add(Method::GET, "/v1/tenant", get(tenant::get_one))
        .add(Method::PATCH, "/v1/tenant", patch(tenant::update))
        .add(
            Method::POST,
            "/v1/abuse-reports",
            post(abuse_reports::create),
        )
        .add(
            Method::GET,
            "/operator/abuse-reports",
            get(abuse_reports::list),
        )
        .add(
            Method::POST,
            "/operator/tenants/{id}/suspend",
            post(operator::suspend),
        )
        .add(
            Method::POST,
            "/operator/tenants/{id}/resume",
            post(operator::resume),
        )
        .add(
            Method::POST,
            "/operator/tenants/{id}/marketing/resume",
            post(operator::resume_marketing),
        )
        .add(Method::GET, "/v1/channels", get(channels::list))
        .add(
            Method::POST,
            "/v1/channels/whatsapp",
            post(channels::connect),
        )
        .add(
            Method::DELETE,
            "/v1/channels/whatsapp/{phone_number_id}",
            delete(channels::disconnect),
        )
}

/// Every (method, path) the router serves; the access table must name exactly these.
pub fn served_routes() -> Vec<(Method, &'static str)> {
    routes().served().to_vec()
}

pub fn router(state: Arc<ApiState>) -> Router {
    routes()
        .into_router()
        // Before `route_layer`: it applies to the routes as they are when it is called.
        .method_not_allowed_fallback(problem::method_not_allowed)
        // Route layers run outermost-last: ids are checked before anyone is authenticated.
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            access::authorize,
        ))
        .route_layer(axum::middleware::from_fn(conversations::valid_path_ids))
        .fallback(problem::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(problem::problem_responses))
        .layer(axum::middleware::from_fn(
            switchboard_platform::request_span::request_span,
        ))
        .with_state(state)
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_route_has_exactly_one_access_rule_and_every_rule_is_served() {
        let served = served_routes();
        for (method, path) in &served {
            let rules = RULES
                .iter()
                .filter(|r| r.path == *path && r.method == method.as_str())
                .count();
            assert_eq!(rules, 1, "{method} {path} needs exactly one access rule");
        }
        for r in RULES {
            assert!(
                served
                    .iter()
                    .any(|(m, p)| *p == r.path && m.as_str() == r.method),
                "the rule for {} {} names a route the API does not serve",
                r.method,
                r.path
            );
        }
    }
}
