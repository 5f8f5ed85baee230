//! Accounts: sign-up, sign-in (tokens and, for the console, a session cookie), refresh with
//! rotation, sign-out, password change, invitation acceptance, and who am I.
//!
//! Answers never tell whether an address has an account: sign-up always answers 202, a failed
//! sign-in is the same 401 (after the same bcrypt work) for a wrong password and an unknown
//! address.

use crate::ApiState;
use crate::login_limits::{self, Subject};
use crate::password;
use crate::principal::{self, Principal, SESSION_COOKIE, Via};
use crate::problem::Problem;
use crate::tokens::{
    self, ACCESS_TOKEN_TTL, INVITATION_PREFIX, REFRESH_PREFIX, SESSION_PREFIX, SESSION_TTL,
    SIGN_IN_TTL,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_domain::{Role, Secret, TenantId, UserId};
use switchboard_store::{
    RefreshFamily, RefreshTokenRecord, Rotation, SessionRecord, StoreError, Tenant, UserChange,
    UserRecord, UserStatus, normalize_email,
};
use time::OffsetDateTime;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_BYTES: usize = 254;

pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            Problem::field("body", e.to_string())
        } else {
            Problem::malformed(e.to_string())
        }
    })
}

pub(crate) fn check_name(field: &str, name: &str) -> Result<String, Problem> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(Problem::field(
            field,
            format!("must be 1 to {MAX_NAME_CHARS} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

/// A plausible address (one `@`, something on each side, a dot in the domain); mail delivery
/// is the real test.
pub(crate) fn check_email(email: &str) -> Result<String, Problem> {
    let email = normalize_email(email);
    let plausible = email.len() <= MAX_EMAIL_BYTES
        && email.split('@').count() == 2
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !plausible {
        return Err(Problem::field("email", "must be an e-mail address"));
    }
    Ok(email)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignUp {
    business_name: String,
    name: String,
    email: String,
    password: Secret,
}

#[derive(Serialize)]
struct SignUpAccepted {
    status: &'static str,
    detail: &'static str,
}

pub(crate) async fn sign_up(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: SignUp = parse(&body)?;
    let business_name = check_name("business_name", &request.business_name)?;
    let name = check_name("name", &request.name)?;
    let email = check_email(&request.email)?;
    password::check_rules("password", &request.password, &email)?;
    // Hashed before the address is looked at: taken or not, the answer costs the same.
    let hash = password::hash(&request.password).await?;
    let now = state.clock.now();
    let tenant = Tenant::new(TenantId::generate(), business_name, now);
    let admin = UserRecord {
        id: UserId::generate(),
        tenant_id: tenant.id.clone(),
        name,
        email,
        role: Role::Admin,
        status: UserStatus::Active,
        password_hash: Some(hash),
        invitation_digest: None,
        invitation_expires_at: None,
        token_generation: 0,
        created_at: now,
        updated_at: now,
    };
    match state.store.create_tenant_with_admin(&tenant, &admin).await {
        Ok(()) => {
            state
                .audit
                .record_for(&tenant.id, &admin_ref(&admin.id), "tenant.signed_up", None)
                .await;
        }
        // The owner of the address signs in as before; the answer does not tell.
        Err(StoreError::EmailTaken) => {}
        Err(e) => return Err(e.into()),
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(SignUpAccepted {
            status: "accepted",
            detail: "sign in with the e-mail address and password to continue",
        }),
    )
        .into_response())
}

fn admin_ref(id: &UserId) -> String {
    format!("user:{id}")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: Secret,
    /// `true`: also start a console session (cookie + CSRF token).
    #[serde(default)]
    session: bool,
}

struct Tokens {
    access_token: Secret,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: Secret,
    csrf_token: Option<Secret>,
}

impl Serialize for SecretOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.expose())
    }
}

/// Serializes a secret's value: only for answers that hand a credential to its owner.
struct SecretOut<'a>(&'a Secret);

mod secret_out {
    use super::SecretOut;
    use serde::Serialize;
    use switchboard_domain::Secret;

    pub(super) fn serialize<S: serde::Serializer>(v: &Secret, s: S) -> Result<S::Ok, S::Error> {
        SecretOut(v).serialize(s)
    }
}

#[derive(Serialize)]
struct TokensBody {
    #[serde(with = "secret_out")]
    access_token: Secret,
    token_type: &'static str,
    expires_in: i64,
    #[serde(with = "secret_out")]
    refresh_token: Secret,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
}

impl From<Tokens> for TokensBody {
    fn from(t: Tokens) -> Self {
        Self {
            access_token: t.access_token,
            token_type: t.token_type,
            expires_in: t.expires_in,
            refresh_token: t.refresh_token,
            csrf_token: t.csrf_token.map(|c| c.expose().to_owned()),
        }
    }
}

pub(crate) async fn login(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    parts_ip: crate::SourceIp,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: Login = parse(&body)?;
    let email = normalize_email(&request.email);
    if email.is_empty() || email.len() > MAX_EMAIL_BYTES {
        return Err(Problem::field("email", "must be an e-mail address"));
    }
    let now = state.clock.now();
    let subjects = [Subject::email(&email), Subject::source(&parts_ip.0)];
    // Refused before any password is checked: a blocked address costs no bcrypt work.
    login_limits::check(&state.store, &subjects, now).await?;

    let claim = state.store.find_email(&email).await?;
    let user = match &claim {
        Some(c) => state.store.get_user(&c.tenant_id, &c.user_id).await?,
        None => None,
    };
    let active = user.as_ref().filter(|u| u.status == UserStatus::Active);
    let matched = password::verify(
        &request.password,
        active.and_then(|u| u.password_hash.as_deref()),
    )
    .await?;
    let Some(user) = active.filter(|_| matched) else {
        login_limits::record_failure(&state.store, &subjects, now).await?;
        if let Some(c) = &claim {
            state
                .audit
                .record_from(
                    &c.tenant_id,
                    &format!("user:{}", c.user_id),
                    &parts_ip.0,
                    "auth.login_failed",
                    None,
                )
                .await;
        }
        return Err(Problem::invalid_credentials());
    };
    login_limits::clear(&state.store, &subjects[0]).await?;
    let tokens = start_sign_in(&state, user, now).await?;
    state
        .audit
        .record_from(
            &user.tenant_id,
            &admin_ref(&user.id),
            &parts_ip.0,
            "auth.login",
            None,
        )
        .await;
    let _ = headers;
    if request.session {
        let (cookie, csrf) = start_session(&state, user, now).await?;
        let mut response = Json(TokensBody::from(Tokens {
            csrf_token: Some(csrf),
            ..tokens
        }))
        .into_response();
        response.headers_mut().insert(header::SET_COOKIE, cookie);
        return Ok(response);
    }
    Ok(Json(TokensBody::from(tokens)).into_response())
}

/// A new refresh family and its first tokens.
async fn start_sign_in(
    state: &ApiState,
    user: &UserRecord,
    now: OffsetDateTime,
) -> Result<Tokens, Problem> {
    let family_id = ulid::Ulid::new().to_string().to_lowercase();
    let family = RefreshFamily {
        family_id: family_id.clone(),
        user_id: user.id.clone(),
        generation: user.token_generation,
        created_at: now,
        valid_until: now + SIGN_IN_TTL,
        revoked_at: None,
    };
    let refresh = tokens::tenant_token(REFRESH_PREFIX, &user.tenant_id, Some(&family_id));
    let record = RefreshTokenRecord {
        token_digest: tokens::digest(refresh.expose()),
        tenant_id: user.tenant_id.clone(),
        user_id: user.id.clone(),
        family_id: family_id.clone(),
        issued_at: now,
        valid_until: family.valid_until,
        used_at: None,
    };
    state.store.start_refresh_family(&family, &record).await?;
    issue(state, user, &family_id, refresh, now)
}

fn issue(
    state: &ApiState,
    user: &UserRecord,
    family_id: &str,
    refresh_token: Secret,
    now: OffsetDateTime,
) -> Result<Tokens, Problem> {
    let access = state
        .access_tokens
        .issue(
            &user.tenant_id,
            &user.id,
            family_id,
            user.token_generation,
            now,
        )
        .map_err(|e| Problem::internal(&e))?;
    Ok(Tokens {
        access_token: Secret::new(access),
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL.whole_seconds(),
        refresh_token,
        csrf_token: None,
    })
}

/// The console's session: a `__Host-` cookie (HttpOnly, Secure, SameSite=Strict) and the CSRF
/// token the console repeats in `X-CSRF-Token` on unsafe requests.
async fn start_session(
    state: &ApiState,
    user: &UserRecord,
    now: OffsetDateTime,
) -> Result<(HeaderValue, Secret), Problem> {
    let token = tokens::tenant_token(SESSION_PREFIX, &user.tenant_id, None);
    let csrf = Secret::new(tokens::random_secret());
    state
        .store
        .put_session(&SessionRecord {
            token_digest: tokens::digest(token.expose()),
            tenant_id: user.tenant_id.clone(),
            user_id: user.id.clone(),
            generation: user.token_generation,
            csrf_digest: tokens::digest(csrf.expose()),
            created_at: now,
            valid_until: now + SESSION_TTL,
        })
        .await?;
    let cookie = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        token.expose(),
        SESSION_TTL.whole_seconds()
    ))
    .map_err(|e| Problem::internal(&e))?;
    Ok((cookie, csrf))
}

fn expired_session_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-sb_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Refresh {
    refresh_token: Secret,
}

pub(crate) async fn refresh(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: Refresh = parse(&body)?;
    let parsed = tokens::parse_tenant_token(REFRESH_PREFIX, request.refresh_token.expose(), true)
        .ok_or_else(Problem::unauthorized)?;
    let now = state.clock.now();
    let old = state
        .store
        .find_refresh_token(&parsed.tenant, &parsed.digest)
        .await?
        .filter(|r| Some(&r.family_id) == parsed.middle.as_ref())
        .ok_or_else(Problem::unauthorized)?;
    let family = state
        .store
        .get_refresh_family(&parsed.tenant, &old.family_id)
        .await?
        .filter(|f| f.revoked_at.is_none() && f.valid_until > now)
        .ok_or_else(Problem::unauthorized)?;
    let user =
        principal::current_user(&state, &parsed.tenant, &old.user_id, family.generation).await?;
    let next_token = tokens::tenant_token(REFRESH_PREFIX, &parsed.tenant, Some(&old.family_id));
    let next = RefreshTokenRecord {
        token_digest: tokens::digest(next_token.expose()),
        issued_at: now,
        used_at: None,
        ..old.clone()
    };
    match state.store.rotate_refresh_token(&old, &next, now).await {
        Ok(Rotation::Rotated) => {}
        Ok(Rotation::Refused) => return Err(Problem::unauthorized()),
        Err(StoreError::RefreshTokenReused) => {
            tracing::warn!(tenant = %parsed.tenant, "refresh token reused; sign-in revoked");
            state
                .audit
                .record_for(
                    &parsed.tenant,
                    &admin_ref(&old.user_id),
                    "auth.refresh_reused",
                    None,
                )
                .await;
            return Err(Problem::unauthorized());
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Json(TokensBody::from(issue(
        &state,
        &user,
        &old.family_id,
        next_token,
        now,
    )?))
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Logout {
    refresh_token: Option<Secret>,
}

/// Ends the sign-in the refresh token belongs to and the session the cookie names. Always 204:
/// a token that is not valid any more is already signed out.
pub(crate) async fn logout(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: Logout = if body.is_empty() {
        Logout::default()
    } else {
        parse(&body)?
    };
    let now = state.clock.now();
    if let Some(token) = &request.refresh_token
        && let Some(parsed) = tokens::parse_tenant_token(REFRESH_PREFIX, token.expose(), true)
        && let Some(record) = state
            .store
            .find_refresh_token(&parsed.tenant, &parsed.digest)
            .await?
    {
        state
            .store
            .revoke_refresh_family(&parsed.tenant, &record.family_id, now)
            .await?;
    }
    if let Some(cookie) = principal::cookie(&headers, SESSION_COOKIE)
        && let Some(parsed) = tokens::parse_tenant_token(SESSION_PREFIX, cookie, false)
    {
        state
            .store
            .delete_session(&parsed.tenant, &parsed.digest)
            .await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, expired_session_cookie());
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePassword {
    current_password: Secret,
    new_password: Secret,
}

/// Changes the caller's password and ends every sign-in and session of theirs (this one too):
/// whoever knew the old password is out.
pub(crate) async fn change_password(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: ChangePassword = parse(&body)?;
    let Some((user_id, _)) = principal.user() else {
        return Err(Problem::forbidden("API keys have no password"));
    };
    let user = state
        .store
        .get_user(&principal.tenant, user_id)
        .await?
        .ok_or_else(Problem::unauthorized)?;
    let now = state.clock.now();
    let subjects = [
        Subject::email(&user.email),
        Subject::source(&principal.source_ip),
    ];
    login_limits::check(&state.store, &subjects, now).await?;
    if !password::verify(&request.current_password, user.password_hash.as_deref()).await? {
        login_limits::record_failure(&state.store, &subjects, now).await?;
        return Err(Problem::field(
            "current_password",
            "is not the current password",
        ));
    }
    password::check_rules("new_password", &request.new_password, &user.email)?;
    let hash = password::hash(&request.new_password).await?;
    state
        .store
        .update_user(
            &user,
            &UserChange {
                password_hash: Some(hash),
                revoke_tokens: true,
                ..UserChange::default()
            },
            now,
        )
        .await?;
    state
        .audit
        .record(&principal, "user.password_changed", None)
        .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptInvitation {
    token: Secret,
    password: Secret,
    name: Option<String>,
}

pub(crate) async fn accept_invitation(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: AcceptInvitation = parse(&body)?;
    let invalid = || Problem::field("token", "is not a valid, unexpired invitation");
    let parsed = tokens::parse_tenant_token(INVITATION_PREFIX, request.token.expose(), true)
        .ok_or_else(invalid)?;
    let user_id = UserId::new(parsed.middle.clone().unwrap_or_default());
    let now = state.clock.now();
    let user = state
        .store
        .get_user(&parsed.tenant, &user_id)
        .await?
        .filter(|u| {
            u.status == UserStatus::Invited
                && u.invitation_expires_at.is_some_and(|t| t > now)
                && u.invitation_digest.as_ref().is_some_and(|d| {
                    bool::from(subtle::ConstantTimeEq::ct_eq(
                        d.as_bytes(),
                        parsed.digest.as_bytes(),
                    ))
                })
        })
        .ok_or_else(invalid)?;
    password::check_rules("password", &request.password, &user.email)?;
    let name = request
        .name
        .as_deref()
        .map(|n| check_name("name", n))
        .transpose()?;
    let hash = password::hash(&request.password).await?;
    let user = state
        .store
        .update_user(
            &user,
            &UserChange {
                name,
                status: Some(UserStatus::Active),
                password_hash: Some(hash),
                clear_invitation: true,
                ..UserChange::default()
            },
            now,
        )
        .await?;
    state
        .audit
        .record_for(
            &user.tenant_id,
            &admin_ref(&user.id),
            "user.invitation_accepted",
            None,
        )
        .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize)]
struct Me {
    user: crate::users::UserView,
    tenant: MeTenant,
    /// `access_token` or `session`.
    signed_in_with: &'static str,
}

#[derive(Serialize)]
struct MeTenant {
    id: TenantId,
    name: String,
    /// Set while the operator has suspended the tenant: why sending is refused.
    suspension: Option<crate::tenant::SuspensionView>,
}

pub(crate) async fn me(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
) -> Result<Response, Problem> {
    let Some((user_id, _)) = principal.user() else {
        return Err(Problem::forbidden("API keys are not people"));
    };
    let user = state
        .store
        .get_user(&principal.tenant, user_id)
        .await?
        .ok_or_else(Problem::unauthorized)?;
    let tenant = state
        .store
        .get_tenant(&principal.tenant)
        .await?
        .ok_or_else(|| Problem::not_found("tenant"))?;
    let via = match &principal.actor {
        principal::Actor::User {
            via: Via::Session, ..
        } => "session",
        _ => "access_token",
    };
    Ok(Json(Me {
        user: crate::users::UserView::from(&user),
        tenant: MeTenant {
            suspension: tenant
                .suspension
                .as_ref()
                .map(crate::tenant::SuspensionView::from),
            id: tenant.id,
            name: tenant.name,
        },
        signed_in_with: via,
    })
    .into_response())
}
