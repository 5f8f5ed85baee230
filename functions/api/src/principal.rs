//! Who is calling, decided in one place for every route: a person signed in with an access
//! token or a console session cookie, or a business's server with an API key. Nothing else
//! opens the API.

use crate::ApiState;
use crate::problem::Problem;
use crate::tokens::{self, API_KEY_PREFIX, SESSION_PREFIX};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use std::sync::Arc;
use switchboard_domain::{ApiKeyId, Permission, Role, Scope, TenantId, UserId};
use switchboard_store::{UserRecord, UserStatus};

/// The console's session cookie. `__Host-`: the browser keeps it only if it is Secure, has
/// `Path=/` and no `Domain`, so no other (sub)domain can set or read it.
pub const SESSION_COOKIE: &str = "__Host-sb_session";
/// The header a cookie-authenticated unsafe request repeats its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    AccessToken,
    Session,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User {
        id: UserId,
        role: Role,
        via: Via,
        /// The sign-in (refresh family) or the session's digest.
        sign_in: String,
    },
    ApiKey {
        id: ApiKeyId,
        scopes: Vec<Scope>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: TenantId,
    pub actor: Actor,
    /// The caller's address, for the audit log and sign-in limits.
    pub source_ip: String,
}

impl Principal {
    pub fn allows(&self, permission: Permission) -> bool {
        match &self.actor {
            Actor::User { role, .. } => role.allows(permission),
            Actor::ApiKey { scopes, .. } => {
                Scope::granting(permission).is_some_and(|needed| scopes.contains(&needed))
            }
        }
    }

    pub fn user(&self) -> Option<(&UserId, Role)> {
        match &self.actor {
            Actor::User { id, role, .. } => Some((id, *role)),
            Actor::ApiKey { .. } => None,
        }
    }

    /// `user:{id}` or `api_key:{id}`: how the audit log names the actor.
    pub fn actor_ref(&self) -> String {
        match &self.actor {
            Actor::User { id, .. } => format!("user:{id}"),
            Actor::ApiKey { id, .. } => format!("api_key:{id}"),
        }
    }
}

/// The address the request came from: API Gateway's `sourceIp` in Lambda, the socket's peer
/// locally. Never a client-supplied header.
pub fn source_ip(parts: &Parts) -> String {
    use lambda_http::request::RequestContext;
    if let Some(RequestContext::ApiGatewayV2(ctx)) = parts.extensions.get::<RequestContext>()
        && let Some(ip) = &ctx.http.source_ip
    {
        return ip.clone();
    }
    if let Some(axum::extract::ConnectInfo(addr)) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        return addr.ip().to_string();
    }
    "unknown".to_owned()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Who is calling; `None` when the request carries no credentials at all. Credentials that
/// are present but wrong are a 401, never an anonymous request.
pub async fn authenticate(state: &ApiState, parts: &Parts) -> Result<Option<Principal>, Problem> {
    let source_ip = source_ip(parts);
    let api_key = bearer(&parts.headers)
        .filter(|t| t.starts_with(API_KEY_PREFIX))
        .or_else(|| parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    if let Some(key) = api_key {
        return api_key_principal(state, key.trim(), source_ip)
            .await
            .map(Some);
    }
    if let Some(token) = bearer(&parts.headers) {
        return access_token_principal(state, token, source_ip)
            .await
            .map(Some);
    }
    if let Some(session) = cookie(&parts.headers, SESSION_COOKIE) {
        return session_principal(state, parts, session, source_ip)
            .await
            .map(Some);
    }
    Ok(None)
}

async fn api_key_principal(
    state: &ApiState,
    key: &str,
    source_ip: String,
) -> Result<Principal, Problem> {
    if key.is_empty() || key.len() > 256 {
        return Err(Problem::unauthorized());
    }
    let hash = tokens::digest(key);
    let record = state
        .store
        .find_api_key(&hash)
        .await?
        .filter(|r| r.is_active())
        .ok_or_else(Problem::unauthorized)?;
    let now = state.clock.now();
    // Decided on the record just read: a key used within the resolution costs no write at all
    // (a conditional write that fails still costs one). When it is due, the write stays
    // conditional, so of concurrent requests only one records it.
    let touch = record.last_use_due(now);
    let principal = Principal {
        tenant: record.tenant_id,
        actor: Actor::ApiKey {
            id: record.id,
            scopes: record.scopes,
        },
        source_ip,
    };
    // Best effort: a failed bookkeeping write must not fail the request it describes. Use is
    // audited at the resolution `last_used_at` is kept at, not per request.
    if touch {
        match state.store.touch_api_key(&hash, now).await {
            Ok(true) => state.audit.record(&principal, "api_key.used", None).await,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not record the API key's last use"),
        }
    }
    Ok(principal)
}

/// A user who may act now: active, and signed in at their current token generation.
pub(crate) async fn current_user(
    state: &ApiState,
    tenant: &TenantId,
    user: &UserId,
    generation: u64,
) -> Result<UserRecord, Problem> {
    state
        .store
        .get_user(tenant, user)
        .await?
        .filter(|u| u.status == UserStatus::Active && u.token_generation == generation)
        .ok_or_else(Problem::unauthorized)
}

async fn access_token_principal(
    state: &ApiState,
    token: &str,
    source_ip: String,
) -> Result<Principal, Problem> {
    let claims = state
        .access_tokens
        .verify(token, state.clock.now())
        .ok_or_else(Problem::unauthorized)?;
    let tenant = TenantId::new(claims.tid);
    let user = current_user(state, &tenant, &UserId::new(claims.sub), claims.tgen).await?;
    Ok(Principal {
        tenant,
        actor: Actor::User {
            id: user.id,
            role: user.role,
            via: Via::AccessToken,
            sign_in: claims.sid,
        },
        source_ip,
    })
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn session_principal(
    state: &ApiState,
    parts: &Parts,
    token: &str,
    source_ip: String,
) -> Result<Principal, Problem> {
    let parsed = tokens::parse_tenant_token(SESSION_PREFIX, token, false)
        .ok_or_else(Problem::unauthorized)?;
    let session = state
        .store
        .find_session(&parsed.tenant, &parsed.digest, state.clock.now())
        .await?
        .ok_or_else(Problem::unauthorized)?;
    if !is_safe(&parts.method) {
        check_csrf(state, parts, &session.csrf_digest)?;
    }
    let user = current_user(state, &parsed.tenant, &session.user_id, session.generation).await?;
    Ok(Principal {
        tenant: parsed.tenant,
        actor: Actor::User {
            id: user.id,
            role: user.role,
            via: Via::Session,
            sign_in: parsed.digest,
        },
        source_ip,
    })
}

/// Both defences: the request comes from an allowed origin (when the browser says), and it
/// repeats the session's CSRF token, which another site cannot read.
fn check_csrf(state: &ApiState, parts: &Parts, csrf_digest: &str) -> Result<(), Problem> {
    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let allowed = if state.console_origins.is_empty() {
            let host = parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            origin
                .split_once("://")
                .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
        } else {
            state.console_origins.iter().any(|o| o == origin)
        };
        if !allowed {
            return Err(Problem::csrf("the request's Origin is not the console's"));
        }
    }
    let presented = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Problem::csrf("X-CSRF-Token is required with a session cookie"))?;
    let matches: bool =
        subtle::ConstantTimeEq::ct_eq(tokens::digest(presented).as_bytes(), csrf_digest.as_bytes())
            .into();
    if !matches {
        return Err(Problem::csrf("X-CSRF-Token does not match the session"));
    }
    Ok(())
}

/// Handlers receive the principal the access layer decided on.
impl FromRequestParts<Arc<ApiState>> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<ApiState>) -> Result<Self, Problem> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| Problem::internal(&"a route that needs a principal has no access rule"))
    }
}
