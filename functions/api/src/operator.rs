//! The platform operator's routes (`/operator/…`): suspend a tenant pending review, and lift
//! the suspension; lift a marketing suspension Switchboard set after review. They take the operator's key, a secret no tenant holds, and nothing else:
//! no tenant credential, however strong its role, opens them.

use crate::ApiState;
use crate::accounts::parse;
use crate::problem::Problem;
use crate::tenant::TenantView;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use switchboard_domain::{Secret, TenantId};
use switchboard_store::{StoreError, Suspension, Tenant};

/// How the audit log names the operator.
pub const OPERATOR_ACTOR: &str = "operator";
/// A reason is shown to the tenant's people: a sentence or two, not a report.
pub const MAX_REASON_CHARS: usize = 500;
/// Shorter keys are refused at start: the operator key opens every tenant.
pub const MIN_OPERATOR_KEY_CHARS: usize = 32;

/// The operator's key, kept only as its SHA-256 digest: what is compared is the digest of the
/// presented key, in constant time, so neither the comparison's timing nor a memory dump
/// gives the key away.
#[derive(Clone)]
pub struct OperatorKey {
    digest: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
#[error("the operator key must be at least {MIN_OPERATOR_KEY_CHARS} characters")]
pub struct WeakOperatorKey;

impl OperatorKey {
    pub fn new(key: &Secret) -> Result<Self, WeakOperatorKey> {
        if key.expose().trim().chars().count() < MIN_OPERATOR_KEY_CHARS {
            return Err(WeakOperatorKey);
        }
        Ok(Self {
            digest: Sha256::digest(key.expose().trim().as_bytes()).into(),
        })
    }

    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        subtle::ConstantTimeEq::ct_eq(&presented[..], &self.digest[..]).into()
    }
}

impl fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OperatorKey([REDACTED])")
    }
}

/// A request the access layer let through as the operator's.
#[derive(Debug, Clone)]
pub(crate) struct OperatorCall {
    source_ip: String,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// The access layer's decision for an operator route: 403 while no operator key is
/// configured, 401 without a bearer credential, 403 with any other than the operator's.
pub(crate) fn authenticate(state: &ApiState, parts: &Parts) -> Result<OperatorCall, Problem> {
    let Some(key) = &state.operator_key else {
        return Err(Problem::forbidden(
            "operator routes are closed: this deployment has no operator key",
        ));
    };
    let presented = bearer(&parts.headers).ok_or_else(|| {
        Problem::unauthorized().detail("send the operator key as `Authorization: Bearer …`")
    })?;
    if !key.matches(presented) {
        tracing::warn!("operator route called without the operator key");
        return Err(Problem::forbidden(
            "operator routes take the operator key, not a tenant's credentials",
        ));
    }
    Ok(OperatorCall {
        source_ip: crate::principal::source_ip(parts),
    })
}

impl FromRequestParts<Arc<ApiState>> for OperatorCall {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<ApiState>) -> Result<Self, Problem> {
        parts
            .extensions
            .get::<OperatorCall>()
            .cloned()
            .ok_or_else(|| {
                Problem::internal(&"an operator handler on a route that is not Operator")
            })
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Reason {
    reason: Option<String>,
}

fn check_reason(reason: Option<&str>, required: bool) -> Result<Option<String>, Problem> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let Some(reason) = reason else {
        return if required {
            Err(Problem::field(
                "reason",
                "is required: the tenant's people are shown it",
            ))
        } else {
            Ok(None)
        };
    };
    if reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(Problem::field(
            "reason",
            format!("must be 1 to {MAX_REASON_CHARS} printable characters"),
        ));
    }
    Ok(Some(reason.to_owned()))
}

fn not_found(e: StoreError) -> Problem {
    match e {
        StoreError::NotFound { .. } => Problem::not_found("tenant"),
        e => e.into(),
    }
}

/// `POST /operator/tenants/{id}/suspend` `{reason}`: the tenant's sends are refused from now
/// on (the API's at once, queued ones when the outbound function reaches them); inbound
/// messages are still taken in. Suspending again replaces the reason.
pub(crate) async fn suspend(
    State(state): State<Arc<ApiState>>,
    call: OperatorCall,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TenantView>, Problem> {
    let request: Reason = parse(&body)?;
    let reason = check_reason(request.reason.as_deref(), true)?.unwrap_or_default();
    let tenant_id = TenantId::new(id);
    let now = state.clock.now();
    let suspension = Suspension {
        reason: reason.clone(),
        at: now,
        by: OPERATOR_ACTOR.to_owned(),
    };
    let tenant = state
        .store
        .set_suspension(&tenant_id, Some(&suspension), now)
        .await
        .map_err(not_found)?;
    state
        .audit
        .record_operator(
            &tenant_id,
            &call.source_ip,
            "tenant.suspended",
            Some(format!("tenant:{tenant_id}")),
            Some(reason),
        )
        .await;
    Ok(Json(TenantView::from(&tenant)))
}

/// The `{reason?}` of a lifting call: the body may be empty.
fn optional_reason(body: &Bytes) -> Result<Option<String>, Problem> {
    let request: Reason = if body.iter().all(u8::is_ascii_whitespace) {
        Reason::default()
    } else {
        parse(body)?
    };
    check_reason(request.reason.as_deref(), false)
}

async fn existing_tenant(state: &ApiState, id: &TenantId) -> Result<Tenant, Problem> {
    state
        .store
        .get_tenant(id)
        .await?
        .ok_or_else(|| Problem::not_found("tenant"))
}

/// `POST /operator/tenants/{id}/resume` `{reason?}` (the body may be empty): the tenant sends
/// again. A tenant that is not suspended is answered as it is, and nothing is recorded.
pub(crate) async fn resume(
    State(state): State<Arc<ApiState>>,
    call: OperatorCall,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TenantView>, Problem> {
    let reason = optional_reason(&body)?;
    let tenant_id = TenantId::new(id);
    let tenant = existing_tenant(&state, &tenant_id).await?;
    if tenant.suspension.is_none() {
        return Ok(Json(TenantView::from(&tenant)));
    }
    let tenant = state
        .store
        .set_suspension(&tenant_id, None, state.clock.now())
        .await
        .map_err(not_found)?;
    state
        .audit
        .record_operator(
            &tenant_id,
            &call.source_ip,
            "tenant.resumed",
            Some(format!("tenant:{tenant_id}")),
            reason,
        )
        .await;
    Ok(Json(TenantView::from(&tenant)))
}

/// `POST /operator/tenants/{id}/marketing/resume` `{reason?}` (the body may be empty): after
/// review, the tenant's marketing goes again (Switchboard held it for repeated prohibited
/// content or a template rated RED). A tenant whose marketing is not held is answered as it
/// is, and nothing is recorded.
pub(crate) async fn resume_marketing(
    State(state): State<Arc<ApiState>>,
    call: OperatorCall,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TenantView>, Problem> {
    let reason = optional_reason(&body)?;
    let tenant_id = TenantId::new(id);
    let tenant = existing_tenant(&state, &tenant_id).await?;
    let Some(held) = tenant.marketing_suspension else {
        return Ok(Json(TenantView::from(&tenant)));
    };
    let tenant = state
        .store
        .resume_marketing(&tenant_id, state.clock.now())
        .await
        .map_err(not_found)?;
    state
        .audit
        .record_operator(
            &tenant_id,
            &call.source_ip,
            "tenant.marketing_resumed",
            Some(format!("tenant:{tenant_id}")),
            Some(reason.unwrap_or_else(|| format!("held for {}", held.reason))),
        )
        .await;
    Ok(Json(TenantView::from(&tenant)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_key_itself_matches() {
        let key = OperatorKey::new(&Secret::new("k".repeat(48))).unwrap();
        assert!(key.matches(&"k".repeat(48)));
        assert!(!key.matches(&"k".repeat(47)));
        assert!(!key.matches(""));
        assert!(!format!("{key:?}").contains(&hex::encode(key.digest)));
        assert!(OperatorKey::new(&Secret::new("short")).is_err());
    }

    #[test]
    fn reasons_are_required_for_suspending_and_bounded() {
        assert!(check_reason(None, true).is_err());
        assert!(check_reason(Some("  "), true).is_err());
        assert_eq!(check_reason(None, false).unwrap(), None);
        assert_eq!(
            check_reason(Some(" spam reports "), true)
                .unwrap()
                .as_deref(),
            Some("spam reports")
        );
        assert!(check_reason(Some(&"x".repeat(MAX_REASON_CHARS + 1)), true).is_err());
        assert!(check_reason(Some("a\u{0}b"), true).is_err());
    }
}
