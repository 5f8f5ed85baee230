//! The tenant's people: list, invite, change role or name, deactivate and reactivate. Nobody
//! hands out more than they hold ([`Role::may_assign`]), and nobody changes their own role or
//! deactivates themselves (a tenant must never lose its last admin by accident).

use crate::ApiState;
use crate::accounts::{check_email, check_name, parse};
use crate::conversations::{PageBody, PageQuery};
use crate::principal::Principal;
use crate::problem::Problem;
use crate::tokens::{self, INVITATION_PREFIX};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_domain::{Role, UserId};
use switchboard_store::{StoreError, UserChange, UserRecord, UserStatus};
use time::{Duration, OffsetDateTime};

/// How long an invitation can be accepted.
pub const INVITATION_TTL: Duration = Duration::days(7);

/// A person as the API shows them: never the password hash or invitation digest.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub status: UserStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        Self {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role,
            status: u.status,
            created_at: u.created_at,
        }
    }
}

pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
    q: PageQuery,
) -> Result<Json<PageBody<UserView>>, Problem> {
    let page = state
        .store
        .list_users(
            &principal.tenant,
            q.limit,
            q.cursor.as_deref(),
            state.cursors.at(state.clock.now()),
        )
        .await?;
    Ok(Json(PageBody {
        data: page.items.iter().map(UserView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Invite {
    name: String,
    email: String,
    role: Role,
}

#[derive(Serialize)]
struct Invited {
    user: UserView,
    /// Shown once: hand it to the person (the console builds the link).
    invitation_token: String,
    #[serde(with = "time::serde::rfc3339")]
    invitation_expires_at: OffsetDateTime,
}

fn acting_role(principal: &Principal) -> Result<Role, Problem> {
    principal
        .user()
        .map(|(_, role)| role)
        .ok_or_else(|| Problem::forbidden("people are managed by people, not API keys"))
}

pub(crate) async fn invite(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: Invite = parse(&body)?;
    let role = acting_role(&principal)?;
    if !role.may_assign(request.role) {
        return Err(Problem::forbidden(format!(
            "a {role} cannot invite a {}",
            request.role
        )));
    }
    let name = check_name("name", &request.name)?;
    let email = check_email(&request.email)?;
    let now = state.clock.now();
    let id = UserId::generate();
    let token = tokens::tenant_token(INVITATION_PREFIX, &principal.tenant, Some(id.as_str()));
    let user = UserRecord {
        id,
        tenant_id: principal.tenant.clone(),
        name,
        email,
        role: request.role,
        status: UserStatus::Invited,
        password_hash: None,
        invitation_digest: Some(tokens::digest(token.expose())),
        invitation_expires_at: Some(now + INVITATION_TTL),
        token_generation: 0,
        created_at: now,
        updated_at: now,
    };
    match state.store.create_user(&user).await {
        Ok(()) => {}
        Err(StoreError::EmailTaken) => {
            return Err(Problem::conflict(
                "this e-mail address already has an account",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    state
        .audit
        .record_detail(
            &principal,
            "user.invited",
            Some(format!("user:{}", user.id)),
            format!("role={}", user.role),
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(Invited {
            user: UserView::from(&user),
            invitation_token: token.expose().to_owned(),
            invitation_expires_at: now + INVITATION_TTL,
        }),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    name: Option<String>,
    role: Option<Role>,
    /// `active` or `deactivated`.
    status: Option<UserStatus>,
}

pub(crate) async fn update(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<UserView>, Problem> {
    let request: Change = parse(&body)?;
    let role = acting_role(&principal)?;
    let id = UserId::new(id);
    let user = state
        .store
        .get_user(&principal.tenant, &id)
        .await?
        .ok_or_else(|| Problem::not_found("user"))?;
    let is_self = principal.user().is_some_and(|(me, _)| me == &id);
    if is_self && request.role.is_some() {
        return Err(Problem::field("role", "you cannot change your own role"));
    }
    if is_self && request.status.is_some() {
        return Err(Problem::field("status", "you cannot deactivate yourself"));
    }
    // A manager sees agents only as theirs to manage.
    if !is_self && !role.may_assign(user.role) {
        return Err(Problem::forbidden(format!(
            "a {role} cannot change a {}",
            user.role
        )));
    }
    if let Some(new_role) = request.role
        && !role.may_assign(new_role)
    {
        return Err(Problem::forbidden(format!(
            "a {role} cannot make someone a {new_role}"
        )));
    }
    match request.status {
        None => {}
        Some(UserStatus::Invited) => {
            return Err(Problem::field("status", "must be active or deactivated"));
        }
        Some(UserStatus::Active) if user.status == UserStatus::Invited => {
            return Err(Problem::field(
                "status",
                "an invited person becomes active by accepting the invitation",
            ));
        }
        Some(_) => {}
    }
    let name = request
        .name
        .as_deref()
        .map(|n| check_name("name", n))
        .transpose()?;
    let role_changes = request.role.is_some_and(|r| r != user.role);
    let deactivates =
        request.status == Some(UserStatus::Deactivated) && user.status != UserStatus::Deactivated;
    let updated = state
        .store
        .update_user(
            &user,
            &UserChange {
                name,
                role: request.role,
                status: request.status,
                // Whatever they were signed in with was issued for the old role or status.
                revoke_tokens: role_changes || deactivates,
                ..UserChange::default()
            },
            state.clock.now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Contended { .. } => {
                Problem::conflict("the person was changed at the same time; read and retry")
            }
            e => e.into(),
        })?;
    let target = Some(format!("user:{id}"));
    if role_changes {
        state
            .audit
            .record_detail(
                &principal,
                "user.role_changed",
                target.clone(),
                format!("{} -> {}", user.role, updated.role),
            )
            .await;
    }
    if request.status.is_some_and(|s| s != user.status) {
        let action = match updated.status {
            UserStatus::Deactivated => "user.deactivated",
            _ => "user.reactivated",
        };
        state.audit.record(&principal, action, target.clone()).await;
    }
    Ok(Json(UserView::from(&updated)))
}
