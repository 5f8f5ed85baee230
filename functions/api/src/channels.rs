//! WhatsApp channels: a business connects its number through Meta Embedded Signup, lists what
//! it connected, and disconnects.
//!
//! `POST /v1/channels/whatsapp` takes what Meta's Embedded Signup front end hands over and, in
//! this order: exchanges the code for the business token, subscribes our app to the WABA's
//! webhooks, registers the number with its two-step PIN (a generated one, shown once, when the
//! business gave none), reads the number, seals the token (KMS envelope, tenant-bound), routes
//! the number and the WABA to the tenant, records the channel, and asks the inbound function
//! to apply the events kept while no tenant held them. Nothing tenant-visible is written before
//! every Meta step has succeeded, so a refused signup leaves no half-connected channel.
//!
//! Signup codes are single-use. The request is idempotent on the code: a double-submitted
//! connect is answered from the first one's record (without the generated PIN, which is never
//! stored), never exchanged twice.
//!
//! What is stored is what the privacy policy lists: WABA id, phone number id, verification
//! status and the sealed token. Name, quality and throughput are read live from Meta.

use crate::ApiState;
use crate::idempotent::{self, Idempotent};
use crate::principal::Principal;
use crate::problem::{FieldError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use switchboard_domain::jobs::InboundJob;
use switchboard_domain::{PhoneNumberId, Secret, throughput};
use switchboard_meta::graph::{GraphError, OnboardingFailure, PhoneNumberInfo};
use switchboard_platform::business_token::{self, BusinessTokenError};
use switchboard_store::{
    ChannelRecord, IdempotencyKey, PhoneRoute, StoreError, WabaRoute, waba_route_key,
};
use time::OffsetDateTime;

/// The only channel kind so far; Instagram joins as another.
pub const WHATSAPP: &str = "whatsapp";
const MAX_CODE_LEN: usize = 2048;
const MAX_META_ID_LEN: usize = 32;
const CONNECT_SCOPE: &str = "api:channels.connect";
/// Most channels one listing reads; a business has a handful of numbers.
const LIST_LIMIT: i32 = 100;

/// The WABA and number an Embedded Signup session produced, and the code to exchange.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectRequest {
    code: Option<String>,
    waba_id: Option<String>,
    phone_number_id: Option<String>,
    pin: Option<String>,
    /// Embedded Signup finished as `FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING`: the number stays
    /// in use with the WhatsApp Business app, and Meta fixes its throughput at 20 per second.
    business_app: Option<bool>,
}

struct Connect {
    code: Secret,
    waba_id: String,
    phone_number_id: String,
    pin: Option<Secret>,
    business_app: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChannelView {
    kind: String,
    phone_number_id: String,
    waba_id: String,
    display_phone_number: Option<String>,
    verified_name: Option<String>,
    quality_rating: Option<String>,
    throughput_level: Option<String>,
    /// The most messages a second Switchboard sends from the number: Meta's throughput for it.
    messages_per_second: u32,
    verification_status: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    connected_at: OffsetDateTime,
}

impl ChannelView {
    fn of(
        record: &ChannelRecord,
        route: Option<&PhoneRoute>,
        live: Option<&PhoneNumberInfo>,
    ) -> Self {
        let display = route.map(|r| r.display_phone_number.clone());
        Self {
            kind: record.kind.clone(),
            phone_number_id: record.phone_number_id.clone(),
            waba_id: record.waba_id.clone(),
            display_phone_number: live
                .map(|l| l.display_phone_number.clone())
                .filter(|d| !d.is_empty())
                .or(display),
            verified_name: live
                .map(|l| l.verified_name.clone())
                .filter(|n| !n.is_empty()),
            quality_rating: live.and_then(|l| l.quality_rating.clone()),
            throughput_level: live.and_then(|l| l.throughput_level.clone()),
            messages_per_second: route
                .and_then(|r| r.messages_per_second)
                .unwrap_or(throughput::STANDARD_MESSAGES_PER_SECOND),
            verification_status: live
                .and_then(|l| l.code_verification_status.clone())
                .or_else(|| record.verification_status.clone()),
            connected_at: record.connected_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Connected {
    channel: ChannelView,
    /// The two-step verification PIN we set, when the business gave none: shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pin: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct ChannelList {
    channels: Vec<ChannelView>,
}

fn meta_id(field: &str, value: Option<String>, errors: &mut Vec<FieldError>) -> String {
    let value = value.unwrap_or_default();
    if value.is_empty()
        || value.len() > MAX_META_ID_LEN
        || !value.bytes().all(|b| b.is_ascii_digit())
    {
        errors.push(FieldError {
            field: field.to_owned(),
            message: format!("required: Meta's numeric id, 1 to {MAX_META_ID_LEN} digits"),
        });
    }
    value
}

fn validate(request: ConnectRequest) -> Result<Connect, Problem> {
    let mut errors = Vec::new();
    let code = request.code.unwrap_or_default();
    if code.is_empty() || code.len() > MAX_CODE_LEN || code.chars().any(char::is_whitespace) {
        errors.push(FieldError {
            field: "code".into(),
            message: format!(
                "required: the code Embedded Signup returned, 1 to {MAX_CODE_LEN} characters"
            ),
        });
    }
    let waba_id = meta_id("waba_id", request.waba_id, &mut errors);
    let phone_number_id = meta_id("phone_number_id", request.phone_number_id, &mut errors);
    let pin = request.pin.map(Secret::new);
    if let Some(pin) = &pin
        && !valid_pin(pin)
    {
        errors.push(FieldError {
            field: "pin".into(),
            message: "the two-step verification PIN is six digits".into(),
        });
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok(Connect {
        code: Secret::new(code),
        waba_id,
        phone_number_id,
        pin,
        business_app: request.business_app.unwrap_or(false),
    })
}

fn valid_pin(pin: &Secret) -> bool {
    let pin = pin.expose();
    pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Six random digits, for a number whose business gave no PIN.
fn generate_pin() -> Secret {
    let n: u32 = rand::rng().random_range(0..1_000_000);
    Secret::new(format!("{n:06}"))
}

/// `POST /v1/channels/whatsapp`.
pub(crate) async fn connect(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: ConnectRequest =
        serde_json::from_slice(&body).map_err(|e| Problem::malformed(e.to_string()))?;
    let request = validate(request)?;
    if state.meta_app.is_none() {
        return Err(Problem::unavailable(
            &"Embedded Signup is not configured (META_APP_ID is not set)",
        ));
    }

    // The code is the natural key: Meta accepts it once, so neither must we.
    let key = IdempotencyKey::Tenant {
        tenant: caller.tenant.clone(),
        scope: CONNECT_SCOPE.into(),
        key: hex::encode(Sha256::digest(request.code.expose().as_bytes())),
    };
    Idempotent {
        key,
        body: &body,
        status: StatusCode::CREATED,
        in_progress: "this signup is being connected by another request; retry later",
        reused: || {
            Problem::conflict("this signup code was already used with another WABA or number")
        },
    }
    .run(
        &state,
        || Box::pin(connect_number(&state, &caller, &request)),
        // Stored without the PIN: it is shown once and never kept.
        |connected: &Connected| {
            idempotent::keep_all(&Connected {
                channel: connected.channel.clone(),
                pin: None,
            })
        },
    )
    .await
}

async fn connect_number(
    state: &ApiState,
    caller: &Principal,
    request: &Connect,
) -> Result<Connected, Problem> {
    let Some(app) = &state.meta_app else {
        return Err(Problem::unavailable(&"Embedded Signup is not configured"));
    };
    let tenant = &caller.tenant;
    let pnid = PhoneNumberId::new(request.phone_number_id.clone());

    // Refused before the code is spent: the number or WABA is another tenant's.
    if let Some(route) = state.store.find_phone_route(&pnid).await?
        && &route.tenant_id != tenant
    {
        return Err(in_use("number"));
    }
    if let Some(route) = state.store.find_waba_route(&request.waba_id).await?
        && &route.tenant_id != tenant
    {
        return Err(in_use("WABA"));
    }

    let token = state
        .graph
        .exchange_code(&app.app_id, &app.app_secret, &request.code)
        .await
        .map_err(|e| meta_problem("code exchange", &e, OnboardingFailure::of_exchange(&e)))?;
    state
        .graph
        .subscribe_app(&token, &request.waba_id)
        .await
        .map_err(|e| meta_problem("webhook subscription", &e, OnboardingFailure::of(&e)))?;
    let (pin, generated) = match &request.pin {
        Some(pin) => (pin.clone(), false),
        None => (generate_pin(), true),
    };
    state
        .graph
        .register_phone(&token, &request.phone_number_id, &pin)
        .await
        .map_err(|e| meta_problem("number registration", &e, OnboardingFailure::of(&e)))?;
    let info = state
        .graph
        .phone_number(&token, &request.phone_number_id)
        .await
        .map_err(|e| meta_problem("number lookup", &e, OnboardingFailure::of(&e)))?;

    let now = state.clock.now();
    business_token::store_business_token(
        &state.store,
        &state.vault,
        tenant,
        &request.waba_id,
        &token,
        now,
    )
    .await
    .map_err(token_problem)?;
    if !state
        .store
        .put_waba_route(&WabaRoute {
            waba_id: request.waba_id.clone(),
            tenant_id: tenant.clone(),
        })
        .await?
    {
        return Err(in_use("WABA"));
    }
    let route = PhoneRoute {
        phone_number_id: pnid.clone(),
        tenant_id: tenant.clone(),
        waba_id: request.waba_id.clone(),
        display_phone_number: info.display_phone_number.clone(),
        messages_per_second: Some(throughput::messages_per_second(
            info.throughput_level.as_deref(),
            request.business_app,
        )),
    };
    match state.store.put_phone_route(&route).await {
        Ok(()) => {}
        Err(StoreError::PhoneRouteOwner { .. }) => return Err(in_use("number")),
        Err(e) => return Err(e.into()),
    }
    let record = ChannelRecord {
        tenant_id: tenant.clone(),
        kind: WHATSAPP.into(),
        phone_number_id: request.phone_number_id.clone(),
        waba_id: request.waba_id.clone(),
        verification_status: info.code_verification_status.clone(),
        connected_at: now,
        connected_by: Some(caller.actor_ref()),
    };
    state.store.put_channel(&record).await?;

    // The number is connected from here on; the replay only catches up on what came before,
    // and an operator can run it again (`replay_unrouted`) should this send fail.
    let jobs = [
        request.phone_number_id.clone(),
        waba_route_key(&request.waba_id),
    ]
    .map(|route_key| InboundJob::ReplayUnrouted { route_key }.to_body());
    if let Err(e) = state.inbound_queue.send_all(&jobs).await {
        tracing::error!(error = %e, "could not queue the replay of unrouted events");
    }
    state
        .audit
        .record(
            caller,
            "channel.connected",
            Some(request.phone_number_id.clone()),
        )
        .await;
    tracing::info!(tenant = %tenant, "WhatsApp number connected");
    Ok(Connected {
        channel: ChannelView::of(&record, Some(&route), Some(&info)),
        pin: generated.then(|| pin.expose().to_owned()),
    })
}

fn in_use(what: &str) -> Problem {
    Problem::channel_in_use(format!(
        "this WhatsApp {what} is connected to another Switchboard account; disconnect it there first"
    ))
}

/// The stable `code` of an Embedded Signup problem, for the front end to pick its message.
pub fn failure_code(failure: OnboardingFailure) -> &'static str {
    match failure {
        OnboardingFailure::CodeInvalid => "code_invalid",
        OnboardingFailure::CodeExpired => "code_expired",
        OnboardingFailure::CodeUsed => "code_used",
        OnboardingFailure::PinMismatch => "pin_mismatch",
        OnboardingFailure::TooManyAttempts => "too_many_attempts",
        OnboardingFailure::NumberInUseElsewhere => "number_registered_elsewhere",
        OnboardingFailure::NoAccess => "no_access",
        OnboardingFailure::NumberNotRegistered => "number_not_registered",
        OnboardingFailure::InvalidToken => "token_invalid",
        OnboardingFailure::InvalidAppCredentials => "app_misconfigured",
    }
}

fn failure_detail(failure: OnboardingFailure) -> &'static str {
    match failure {
        OnboardingFailure::CodeInvalid => {
            "Meta did not recognise the signup code: run Embedded Signup again"
        }
        OnboardingFailure::CodeExpired => {
            "the signup code expired (codes live about ten minutes): run Embedded Signup again"
        }
        OnboardingFailure::CodeUsed => {
            "the signup code was already used: run Embedded Signup again"
        }
        OnboardingFailure::PinMismatch => {
            "the PIN is not this number's two-step verification PIN (Meta error 133005)"
        }
        OnboardingFailure::TooManyAttempts => {
            "too many registration attempts or PIN guesses for this number (Meta error 133016); wait before trying again"
        }
        OnboardingFailure::NumberInUseElsewhere => {
            "the number is registered elsewhere (another provider or the On-Premises API) and must be migrated first (Meta error 133006)"
        }
        OnboardingFailure::NoAccess => {
            "the signup did not grant access to this WABA or number: choose them in Embedded Signup"
        }
        OnboardingFailure::NumberNotRegistered => {
            "the number is not registered on the Cloud API (Meta error 133010)"
        }
        OnboardingFailure::InvalidToken => {
            "Meta refused the business token the signup granted: run Embedded Signup again"
        }
        OnboardingFailure::InvalidAppCredentials => "Meta refused the platform's app credentials",
    }
}

/// A failed Meta step: the business's to fix (422 with a code), ours (500, logged), or Meta's
/// (502). Meta's own text is never passed on: it may quote what we sent.
fn meta_problem(step: &str, error: &GraphError, failure: Option<OnboardingFailure>) -> Problem {
    match failure {
        Some(OnboardingFailure::InvalidAppCredentials) => Problem::internal(&format!(
            "{step}: Meta refused the app id or secret ({error})"
        )),
        Some(failure) => {
            tracing::info!(
                step,
                code = failure_code(failure),
                "Embedded Signup refused"
            );
            Problem::embedded_signup(failure_code(failure), failure_detail(failure))
        }
        None => {
            tracing::warn!(step, error = %error, "Graph call failed during Embedded Signup");
            Problem::meta_unavailable(format!(
                "the {step} step failed at Meta; nothing was connected"
            ))
        }
    }
}

fn token_problem(e: BusinessTokenError) -> Problem {
    if e.is_retryable() {
        Problem::unavailable(&e)
    } else {
        Problem::internal(&e)
    }
}

/// `GET /v1/channels`: the tenant's numbers, with what Meta says of them now (left out when
/// Meta cannot be asked).
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
) -> Result<Json<ChannelList>, Problem> {
    let page = state
        .store
        .list_channels(
            &caller.tenant,
            LIST_LIMIT,
            None,
            state.cursors.at(state.clock.now()),
        )
        .await?;
    let views = futures::future::join_all(
        page.items
            .iter()
            .map(|record| describe(&state, &caller, record)),
    )
    .await;
    Ok(Json(ChannelList {
        channels: views.into_iter().collect::<Result<_, _>>()?,
    }))
}

async fn describe(
    state: &ApiState,
    caller: &Principal,
    record: &ChannelRecord,
) -> Result<ChannelView, Problem> {
    let route = state
        .store
        .find_phone_route(&PhoneNumberId::new(record.phone_number_id.clone()))
        .await?
        .filter(|r| r.tenant_id == caller.tenant);
    let live = match business_token::business_token(
        &state.store,
        &state.vault,
        &caller.tenant,
        &record.waba_id,
    )
    .await
    {
        Ok(Some(token)) => match state
            .graph
            .phone_number(&token, &record.phone_number_id)
            .await
        {
            Ok(info) => Some(info),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the number from Meta");
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "could not open the business token");
            None
        }
    };
    Ok(ChannelView::of(record, route.as_ref(), live.as_ref()))
}

/// `DELETE /v1/channels/whatsapp/{phone_number_id}`: unsubscribes our app from the WABA (when
/// no other number of the tenant uses it), removes the route so nothing more is routed or sent,
/// and destroys the token. A token Meta already revoked does not stop a disconnect.
pub(crate) async fn disconnect(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(phone_number_id): Path<String>,
) -> Result<StatusCode, Problem> {
    let tenant = &caller.tenant;
    let Some(record) = state
        .store
        .get_channel(tenant, WHATSAPP, &phone_number_id)
        .await?
    else {
        return Err(Problem::not_found("channel"));
    };
    let siblings = state
        .store
        .list_channels(
            tenant,
            LIST_LIMIT,
            None,
            state.cursors.at(state.clock.now()),
        )
        .await?
        .items
        .into_iter()
        .filter(|c| c.waba_id == record.waba_id && c.phone_number_id != phone_number_id)
        .count();
    let last_of_waba = siblings == 0;

    if last_of_waba {
        let token =
            business_token::business_token(&state.store, &state.vault, tenant, &record.waba_id)
                .await
                .map_err(token_problem)?;
        if let Some(token) = token {
            match state.graph.unsubscribe_app(&token, &record.waba_id).await {
                Ok(()) => {}
                Err(e) => match OnboardingFailure::of(&e) {
                    // Revoked or no longer ours at Meta: there is nothing left to unsubscribe.
                    Some(OnboardingFailure::InvalidToken | OnboardingFailure::NoAccess) => {}
                    _ => {
                        tracing::warn!(error = %e, "could not unsubscribe from the WABA");
                        return Err(Problem::meta_unavailable(
                            "Meta did not confirm the unsubscription; nothing was disconnected",
                        ));
                    }
                },
            }
        }
    }

    match state
        .store
        .delete_phone_route(&PhoneNumberId::new(phone_number_id.clone()), tenant)
        .await
    {
        // Already gone, or moved to another tenant since: either way not ours to remove.
        Ok(()) | Err(StoreError::PhoneRouteOwner { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    state
        .store
        .delete_channel(tenant, WHATSAPP, &phone_number_id)
        .await?;
    if last_of_waba {
        state
            .store
            .delete_waba_token(tenant, &record.waba_id)
            .await?;
        match state.store.delete_waba_route(tenant, &record.waba_id).await {
            Ok(()) => {}
            Err(e) if e.is_retryable() => return Err(e.into()),
            // Held by no one, or by another tenant: nothing of ours to remove.
            Err(_) => {}
        }
    }
    state
        .audit
        .record(&caller, "channel.disconnected", Some(phone_number_id))
        .await;
    Ok(StatusCode::NO_CONTENT)
}
