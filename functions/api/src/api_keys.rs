//! API keys for businesses' servers: created by admins with chosen scopes, shown once, stored
//! as their SHA-256, revocable, last use recorded.

use crate::ApiState;
use crate::accounts::{check_name, parse};
use crate::conversations::{PageBody, PageQuery};
use crate::principal::Principal;
use crate::problem::Problem;
use crate::tokens;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_domain::{ApiKeyId, Scope};
use switchboard_store::ApiKeyRecord;
use time::OffsetDateTime;

/// How many characters of a key listings show.
const SHOWN_PREFIX_CHARS: usize = 12;

#[derive(Debug, Serialize)]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&ApiKeyRecord> for ApiKeyView {
    fn from(k: &ApiKeyRecord) -> Self {
        Self {
            id: k.id.clone(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            scopes: k.scopes.clone(),
            created_by: k.created_by.clone(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
    q: PageQuery,
) -> Result<Json<PageBody<ApiKeyView>>, Problem> {
    let page = state
        .store
        .list_api_keys(
            &principal.tenant,
            q.limit,
            q.cursor.as_deref(),
            state.cursors.at(state.clock.now()),
        )
        .await?;
    Ok(Json(PageBody {
        data: page.items.iter().map(ApiKeyView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    scopes: Vec<Scope>,
}

#[derive(Serialize)]
struct Created {
    #[serde(flatten)]
    key: ApiKeyView,
    /// The key itself, shown this once.
    secret: String,
}

pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: Create = parse(&body)?;
    let name = check_name("name", &request.name)?;
    let mut scopes = request.scopes;
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(Problem::field("scopes", "must name at least one scope"));
    }
    let secret = tokens::new_api_key();
    let now = state.clock.now();
    let record = ApiKeyRecord {
        key_hash: tokens::digest(secret.expose()),
        id: ApiKeyId::generate(),
        tenant_id: principal.tenant.clone(),
        name,
        scopes,
        prefix: secret.expose().chars().take(SHOWN_PREFIX_CHARS).collect(),
        created_by: Some(principal.actor_ref()),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    state.store.put_api_key(&record).await?;
    state
        .audit
        .record_detail(
            &principal,
            "api_key.created",
            Some(format!("api_key:{}", record.id)),
            record
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            key: ApiKeyView::from(&record),
            secret: secret.expose().to_owned(),
        }),
    )
        .into_response())
}

pub(crate) async fn revoke(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = ApiKeyId::new(id);
    state
        .store
        .revoke_api_key(&principal.tenant, &id, state.clock.now())
        .await?;
    state
        .audit
        .record(&principal, "api_key.revoked", Some(format!("api_key:{id}")))
        .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
