//! The access table: every route the API serves, with who may call it. The router is built
//! through [`Routes`], which records what it serves, and a test holds the two equal, so a route
//! cannot be added without a rule. A request whose route has no rule is refused (fail closed).

use crate::ApiState;
use crate::principal::{self, Principal};
use crate::problem::Problem;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use std::sync::Arc;
use switchboard_domain::Permission;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed (sign-up, sign-in, health, the API description).
    Public,
    /// A signed-in person, whatever the role; API keys are refused.
    Person,
    /// A person whose role, or a key whose scopes, grant the permission.
    Allowed(Permission),
    /// The platform operator's key, not any tenant's credentials.
    Operator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const fn rule(method: &'static str, path: &'static str, access: Access) -> Rule {
    Rule {
        method,
        path,
        access,
    }
}

use Access::{Allowed, Person, Public};
use Permission as P;

/// Every route, in the order the API reference lists them.
pub const RULES: &[Rule] = &[
    rule("GET", "/healthz", Public),
    rule("GET", "/v1/openapi.json", Public),
    rule("POST", "/v1/auth/signup", Public),
    rule("POST", "/v1/auth/login", Public),
    rule("POST", "/v1/auth/refresh", Public),
    rule("POST", "/v1/auth/logout", Public),
    rule("POST", "/v1/auth/invitations/accept", Public),
    rule("POST", "/v1/auth/password", Person),
    rule("GET", "/v1/me", Person),
    rule("GET", "/v1/conversations", Allowed(P::ConversationsRead)),
    rule(
        "GET",
        "/v1/conversations/{id}",
        Allowed(P::ConversationsRead),
    ),
    rule(
        "GET",
        "/v1/conversations/{id}/messages",
        Allowed(P::ConversationsRead),
    ),
    rule("POST", "/v1/messages", Allowed(P::MessagesSend)),
    rule("GET", "/v1/messages/{id}", Allowed(P::ConversationsRead)),
    rule("POST", "/v1/messages/{id}/read", Allowed(P::MessagesSend)),
    rule(
        "GET",
        "/v1/messages/{id}/media",
        Allowed(P::ConversationsRead),
    ),
    // Uploads are attachments to send: whoever may send messages may upload them.
    rule("POST", "/v1/media", Allowed(P::MessagesSend)),
    rule("GET", "/v1/media/{id}", Allowed(P::ConversationsRead)),
    rule("POST", "/v1/media/{id}/complete", Allowed(P::MessagesSend)),
    rule("POST", "/v1/contacts", Allowed(P::ContactsWrite)),
    rule("GET", "/v1/contacts/{id}", Allowed(P::ContactsRead)),
    rule(
        "POST",
        "/v1/contacts/{id}/opt-in",
        Allowed(P::ContactsWrite),
    ),
    // A campaign is marketing at scale: whoever may manage templates may send one.
    rule("POST", "/v1/campaigns", Allowed(P::TemplatesManage)),
    rule("GET", "/v1/campaigns", Allowed(P::TemplatesRead)),
    rule("GET", "/v1/campaigns/{id}", Allowed(P::TemplatesRead)),
    rule(
        "POST",
        "/v1/campaigns/{id}/cancel",
        Allowed(P::TemplatesManage),
    ),
    rule("GET", "/v1/templates", Allowed(P::TemplatesRead)),
    rule("POST", "/v1/templates", Allowed(P::TemplatesManage)),
    rule("GET", "/v1/templates/{name}", Allowed(P::TemplatesRead)),
    rule(
        "DELETE",
        "/v1/templates/{name}",
        Allowed(P::TemplatesManage),
    ),
    rule("GET", "/v1/users", Allowed(P::UsersRead)),
    rule("POST", "/v1/users", Allowed(P::UsersManage)),
    rule("PATCH", "/v1/users/{id}", Allowed(P::UsersManage)),
    rule("GET", "/v1/api-keys", Allowed(P::ApiKeysManage)),
    rule("POST", "/v1/api-keys", Allowed(P::ApiKeysManage)),
    rule("DELETE", "/v1/api-keys/{id}", Allowed(P::ApiKeysManage)),
    rule("GET", "/v1/audit", Allowed(P::AuditRead)),
    rule("GET", "/v1/tenant", Allowed(P::TenantRead)),
    rule("PATCH", "/v1/tenant", Allowed(P::TenantManage)),
    // Anyone may report suspected abuse; only the operator reads the reports.
    rule("POST", "/v1/abuse-reports", Public),
    rule("GET", "/operator/abuse-reports", Access::Operator),
    rule("POST", "/operator/tenants/{id}/suspend", Access::Operator),
    rule("POST", "/operator/tenants/{id}/resume", Access::Operator),
    rule(
        "POST",
        "/operator/tenants/{id}/marketing/resume",
        Access::Operator,
    ),
    rule("GET", "/v1/channels", Allowed(P::ChannelsRead)),
    rule("POST", "/v1/channels/whatsapp", Allowed(P::ChannelsManage)),
    rule(
        "DELETE",
        "/v1/channels/whatsapp/{phone_number_id}",
        Allowed(P::ChannelsManage),
    ),
];

fn served() -> &'static [(Method, &'static str)] {
    static SERVED: std::sync::OnceLock<Vec<(Method, &'static str)>> = std::sync::OnceLock::new();
    SERVED.get_or_init(crate::served_routes)
}

pub fn rule_for(method: &Method, path: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.path == path && r.method == method.as_str())
}

/// A router that remembers every (method, path) it serves.
pub(crate) struct Routes {
    router: Router<Arc<ApiState>>,
    served: Vec<(Method, &'static str)>,
}

impl Routes {
    pub(crate) fn new() -> Self {
        Self {
            router: Router::new(),
            served: Vec::new(),
        }
    }

    pub(crate) fn add(
        mut self,
        method: Method,
        path: &'static str,
        handler: MethodRouter<Arc<ApiState>>,
    ) -> Self {
        self.served.push((method, path));
        self.router = self.router.route(path, handler);
        self
    }

    pub(crate) fn served(&self) -> &[(Method, &'static str)] {
        &self.served
    }

    pub(crate) fn into_router(self) -> Router<Arc<ApiState>> {
        self.router
    }
}

/// Decides every request: finds its rule, authenticates, checks the permission, and hands the
/// principal to the handler. Runs after routing (`route_layer`), so unknown routes are still
/// 404 and wrong methods 405.
pub(crate) async fn authorize(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    match decide(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(problem) => problem.into_response(),
    }
}

async fn decide(state: &ApiState, request: Request) -> Result<Request, Problem> {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(rule) = rule_for(request.method(), &path) else {
        // A method the route does not serve goes on to the 405 answer; a served route without
        // a rule is refused.
        if !served()
            .iter()
            .any(|(m, p)| m == request.method() && *p == path)
        {
            return Ok(request);
        }
        return Err(Problem::internal(&format!(
            "no access rule for {} {path}",
            request.method()
        )));
    };
    let (mut parts, body) = request.into_parts();
    match rule.access {
        Access::Public => {}
        Access::Operator => {
            let call = crate::operator::authenticate(state, &parts)?;
            parts.extensions.insert(call);
        }
        Access::Person | Access::Allowed(_) => {
            let principal = principal::authenticate(state, &parts)
                .await?
                .ok_or_else(Problem::unauthorized)?;
            check(rule.access, &principal)?;
            parts.extensions.insert(principal);
        }
    }
    Ok(Request::from_parts(parts, body))
}

/// Whether `principal` may use a route with `access`; the 403 says what was missing.
pub fn check(access: Access, principal: &Principal) -> Result<(), Problem> {
    match access {
        Access::Public => Ok(()),
        Access::Operator => Err(Problem::forbidden("operator routes take the operator key")),
        Access::Person if principal.user().is_some() => Ok(()),
        Access::Person => Err(Problem::forbidden(
            "this route is for signed-in people, not API keys",
        )),
        Access::Allowed(p) if principal.allows(p) => Ok(()),
        Access::Allowed(p) => Err(Problem::forbidden(match principal.user() {
            Some((_, role)) => format!("the {role} role does not allow this"),
            None => match switchboard_domain::Scope::granting(p) {
                Some(scope) => format!("the API key lacks the {scope} scope"),
                None => "API keys cannot do this; an admin must".to_owned(),
            },
        })),
    }
}
