//! `POST /v1/campaigns`: an approved template to a list of recipients, now or at a time.
//! `GET /v1/campaigns/{id}`: where it stands, with its messages counted by status.
//! `GET /v1/campaigns`: the newest campaigns.
//!
//! The API validates the whole list and stores it; the inbound function's dispatch jobs turn
//! it into messages at the number's pace, and each message meets the policy gate (consent,
//! opt-out, caps, quiet hours) in the outbound function, with its own outcome.

use crate::ApiState;
use crate::conversations::{PageBody, PageQuery};
use crate::idempotent::{self, Idempotent};
use crate::messages::parse_recipient;
use crate::principal::Principal;
use crate::problem::{FieldError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use switchboard_domain::PhoneNumberId;
use switchboard_domain::jobs::InboundJob;
use switchboard_meta::graph::MessageContent;
use switchboard_platform::metrics::Metrics;
use switchboard_store::{
    CAMPAIGN_CHUNK_SIZE, CampaignCreated, CampaignRecipient, CampaignRecord, IdempotencyKey,
    MAX_CAMPAIGN_RECIPIENTS,
};
use time::OffsetDateTime;

/// 10,000 recipients with a few parameters each.
pub const MAX_CAMPAIGN_BYTES: usize = 4 * 1024 * 1024;
const IDEMPOTENCY_SCOPE: &str = "api:campaigns";
const MAX_NAME_CHARS: usize = 128;
/// A campaign is sent within this many days: its recipient list is kept no longer.
const MAX_SCHEDULE_DAYS: i64 = 28;
/// Field errors listed at most; a list with more is refused with the first ones.
const MAX_FIELD_ERRORS: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateCampaign {
    name: Option<String>,
    phone_number_id: String,
    template: TemplateRef,
    recipients: Vec<RecipientInput>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    send_at: Option<OffsetDateTime>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateRef {
    name: String,
    language: Language,
    #[serde(default)]
    components: Option<serde_json::Value>,
}

/// `"en_US"` or Meta's own `{"code": "en_US"}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Language {
    Code(String),
    Object { code: String },
}

impl Language {
    fn code(&self) -> &str {
        match self {
            Language::Code(c) | Language::Object { code: c } => c.trim(),
        }
    }
}

/// A phone number (or BSUID), or one with its own template parameters.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RecipientInput {
    To(String),
    WithParameters {
        to: String,
        #[serde(default)]
        components: Option<serde_json::Value>,
    },
}

/// The campaign as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CampaignView {
    id: String,
    name: String,
    status: &'static str,
    phone_number_id: PhoneNumberId,
    template: TemplateView,
    recipients: u32,
    #[serde(with = "time::serde::rfc3339")]
    send_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    started_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    dispatched_at: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    cancelled_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<Counts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicates_removed: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TemplateView {
    name: String,
    language: String,
}

/// Recipients by where their message stands. `queued` includes recipients whose message is
/// not created yet and messages deferred to a later minute (quiet hours).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Counts {
    queued: u32,
    deferred: u32,
    sent: u32,
    delivered: u32,
    read: u32,
    failed: u32,
    denied: u32,
}

impl Counts {
    fn from_statuses(recipients: u32, by_status: &BTreeMap<String, u32>) -> Self {
        let get = |s: &str| by_status.get(s).copied().unwrap_or(0);
        let created: u32 = by_status.values().sum();
        Counts {
            queued: get("queued") + get("deferred") + recipients.saturating_sub(created),
            deferred: get("deferred"),
            sent: get("sent"),
            delivered: get("delivered"),
            // A voice message played was read first.
            read: get("read") + get("played"),
            failed: get("failed"),
            denied: get("denied"),
        }
    }
}

fn status_of(c: &CampaignRecord, counts: Option<&Counts>, now: OffsetDateTime) -> &'static str {
    if c.cancelled_at.is_some() {
        return "cancelled";
    }
    match (c.started_at, c.dispatched_at, counts) {
        (None, _, _) if c.send_at > now => "scheduled",
        (_, None, _) => "sending",
        (_, Some(_), Some(counts)) if counts.queued == 0 => "completed",
        (_, Some(_), _) => "dispatched",
    }
}

fn view(
    c: &CampaignRecord,
    counts: Option<Counts>,
    duplicates_removed: Option<u32>,
    now: OffsetDateTime,
) -> CampaignView {
    CampaignView {
        id: c.id.clone(),
        name: c.name.clone(),
        status: status_of(c, counts.as_ref(), now),
        phone_number_id: c.phone_number_id.clone(),
        template: TemplateView {
            name: c.template_name.clone(),
            language: c.template_language.clone(),
        },
        recipients: c.recipients,
        send_at: c.send_at,
        created_at: c.created_at,
        started_at: c.started_at,
        dispatched_at: c.dispatched_at,
        cancelled_at: c.cancelled_at,
        counts,
        duplicates_removed,
    }
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks a template's parameters the way a single send is checked.
fn check_template(
    name: &str,
    language: &str,
    components: Option<&serde_json::Value>,
) -> Result<(), String> {
    let mut template = serde_json::json!({"name": name, "language": {"code": language}});
    if let Some(components) = components {
        template["components"] = components.clone();
    }
    let content = MessageContent::from_request("template", template)
        .map_err(|e| format!("{}: {}", e.field, e.message))?;
    match switchboard_meta::graph::violations(&content).first() {
        Some(v) => Err(format!("{}: {}", v.field, v.message)),
        None => Ok(()),
    }
}

pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: CreateCampaign =
        serde_json::from_slice(&body).map_err(|e| Problem::malformed(e.to_string()))?;
    if let Some(suspension) = state.store.tenant_suspension(&caller.tenant).await? {
        return Err(Problem::suspended(suspension.reason));
    }
    let Some(client_key) = idempotent::client_key(&headers)? else {
        let id = format!("cmp_{}", ulid::Ulid::new().to_string().to_lowercase());
        let created = accept(&state, &caller, request, id).await?;
        return Ok((StatusCode::ACCEPTED, Json(created)).into_response());
    };
    // The campaign id follows from the key, so a retry names the campaign the first created.
    let digest = Sha256::digest(format!("{}\0{client_key}", caller.tenant).as_bytes());
    let id = format!("cmp_k{}", hex::encode(&digest[..13]));
    Idempotent {
        key: IdempotencyKey::Tenant {
            tenant: caller.tenant.clone(),
            scope: IDEMPOTENCY_SCOPE.into(),
            key: client_key.to_owned(),
        },
        body: &body,
        status: StatusCode::ACCEPTED,
        in_progress: "a request with this Idempotency-Key is in progress; retry later",
        reused: Problem::unprocessable_key,
    }
    .run(
        &state,
        || accept(&state, &caller, request, id),
        idempotent::keep_all,
    )
    .await
}

async fn accept(
    state: &ApiState,
    caller: &Principal,
    r: CreateCampaign,
    id: String,
) -> Result<CampaignView, Problem> {
    let now = state.clock.now();
    let mut errors = Vec::new();
    let name = r.name.as_deref().map(str::trim).unwrap_or("campaign");
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        errors.push(field_error(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    let language = r.template.language.code().to_owned();
    let template_name = r.template.name.trim().to_owned();
    if template_name.is_empty() {
        errors.push(field_error("template.name", "is required"));
    }
    if language.is_empty() {
        errors.push(field_error("template.language", "is required"));
    }
    if let Err(e) = check_template(&template_name, &language, r.template.components.as_ref()) {
        errors.push(field_error("template", e));
    }
    if r.recipients.is_empty() || r.recipients.len() > MAX_CAMPAIGN_RECIPIENTS {
        errors.push(field_error(
            "recipients",
            format!("must list 1 to {MAX_CAMPAIGN_RECIPIENTS} recipients"),
        ));
    }
    let send_at = r.send_at.unwrap_or(now).max(now);
    if send_at > now + time::Duration::days(MAX_SCHEDULE_DAYS) {
        errors.push(field_error(
            "send_at",
            format!("must be within {MAX_SCHEDULE_DAYS} days"),
        ));
    }
    let mut seen = HashSet::new();
    let mut recipients = Vec::with_capacity(r.recipients.len());
    let mut duplicates = 0u32;
    for (i, input) in r.recipients.into_iter().enumerate() {
        let (to, components) = match input {
            RecipientInput::To(to) => (to, None),
            RecipientInput::WithParameters { to, components } => (to, components),
        };
        let Some(key) = parse_recipient(to.trim()) else {
            errors.push(field_error(
                format!("recipients[{i}].to"),
                "must be a phone number in international format (digits, optional +) or a business-scoped user id",
            ));
            continue;
        };
        if let Some(components) = &components
            && let Err(e) = check_template(&template_name, &language, Some(components))
        {
            errors.push(field_error(format!("recipients[{i}].components"), e));
            continue;
        }
        if !seen.insert(key.storage_key()) {
            duplicates += 1;
            continue;
        }
        recipients.push(CampaignRecipient {
            to: key,
            components,
        });
    }
    if !errors.is_empty() {
        errors.truncate(MAX_FIELD_ERRORS);
        return Err(Problem::validation(errors));
    }

    let phone_number_id = PhoneNumberId::new(r.phone_number_id.trim());
    let route = state
        .store
        .find_phone_route(&phone_number_id)
        .await?
        .filter(|route| route.tenant_id == caller.tenant)
        .ok_or_else(|| {
            Problem::field("phone_number_id", "is not a phone number of this account")
        })?;
    let approved = state
        .store
        .get_template(&caller.tenant, &route.waba_id, &template_name, &language)
        .await?
        .is_some_and(|t| t.status == "APPROVED");
    if !approved {
        return Err(Problem::policy_denied(
            "template_not_approved",
            "a campaign sends only a template Meta approved for this number's WhatsApp Business Account, in this language",
        ));
    }

    let retention = state
        .store
        .get_tenant(&caller.tenant)
        .await?
        .map(|t| t.settings.retention_months)
        .unwrap_or(switchboard_domain::tenant_settings::DEFAULT_RETENTION_MONTHS);
    let count = u32::try_from(recipients.len()).unwrap_or(u32::MAX);
    let campaign = CampaignRecord {
        id: id.clone(),
        name: name.to_owned(),
        phone_number_id,
        template_name,
        template_language: language,
        components: r.template.components,
        recipients: count,
        chunks: count.div_ceil(CAMPAIGN_CHUNK_SIZE as u32),
        send_at,
        created_at: now,
        started_at: None,
        dispatched_chunks: 0,
        dispatched_at: None,
        cancelled_at: None,
    };
    let stored = match state
        .store
        .create_campaign(&caller.tenant, &campaign, &recipients, retention)
        .await?
    {
        CampaignCreated::New => {
            state
                .audit
                .record(caller, "campaign.created", Some(id.clone()))
                .await;
            let mut metrics = Metrics::new(crate::METRICS_SERVICE, Arc::clone(&state.metrics));
            metrics.count(crate::CAMPAIGNS_CREATED, 1);
            metrics.count(crate::CAMPAIGN_RECIPIENTS, u64::from(campaign.recipients));
            metrics.flush();
            campaign
        }
        CampaignCreated::Exists(existing) => *existing,
    };
    // Queued again on a retry too: the first request may have stopped before this. The
    // dispatch claim keeps two jobs for one chunk from both dispatching it.
    let wait = (stored.send_at - now).whole_seconds();
    let body = InboundJob::DispatchCampaign {
        tenant_id: caller.tenant.clone(),
        campaign_id: stored.id.clone(),
        chunk: 0,
    }
    .to_body();
    state
        .inbound_queue
        .send_delayed(&body, i32::try_from(wait).unwrap_or(i32::MAX))
        .await
        .map_err(|e| Problem::unavailable(&e))?;
    tracing::info!(tenant = %caller.tenant, campaign = %stored.id, recipients = stored.recipients, "campaign accepted");
    Ok(view(&stored, None, Some(duplicates), now))
}

pub(crate) async fn get_one(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<CampaignView>, Problem> {
    let campaign = state
        .store
        .get_campaign(&caller.tenant, &id)
        .await?
        .ok_or_else(|| Problem::not_found("campaign"))?;
    let by_status = state.store.campaign_counts(&caller.tenant, &id).await?;
    let counts = Counts::from_statuses(campaign.recipients, &by_status);
    Ok(Json(view(&campaign, Some(counts), None, state.clock.now())))
}

/// `POST /v1/campaigns/{id}/cancel`: no further recipient is queued, and every message of the
/// campaign not sent yet is refused (`denied`, reason `campaign_cancelled`) right before its
/// send. What was sent stays sent. Cancelling again answers the same; a campaign whose every
/// message has an outcome answers 409.
pub(crate) async fn cancel(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<CampaignView>, Problem> {
    let now = state.clock.now();
    let campaign = state
        .store
        .get_campaign(&caller.tenant, &id)
        .await?
        .ok_or_else(|| Problem::not_found("campaign"))?;
    let by_status = state.store.campaign_counts(&caller.tenant, &id).await?;
    let counts = Counts::from_statuses(campaign.recipients, &by_status);
    if campaign.cancelled_at.is_none() && status_of(&campaign, Some(&counts), now) == "completed" {
        return Err(Problem::conflict(
            "the campaign is completed: every recipient's message already has an outcome",
        ));
    }
    let cancelled = state
        .store
        .cancel_campaign(&caller.tenant, &id, now)
        .await?
        .ok_or_else(|| Problem::not_found("campaign"))?;
    if campaign.cancelled_at.is_none() {
        tracing::info!(tenant = %caller.tenant, campaign = %id, "campaign cancelled");
        state
            .audit
            .record(&caller, "campaign.cancelled", Some(id.clone()))
            .await;
    }
    Ok(Json(view(&cancelled, Some(counts), None, now)))
}

/// The tenant's campaigns, newest first, without counts (each count reads the campaign's
/// messages).
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    uri: Uri,
) -> Result<Json<PageBody<CampaignView>>, Problem> {
    let q = PageQuery::from_uri(&uri, &[])?;
    let now = state.clock.now();
    let page = state
        .store
        .list_campaigns(
            &caller.tenant,
            q.limit,
            q.cursor.as_deref(),
            state.cursors.at(now),
        )
        .await?;
    Ok(Json(PageBody {
        data: page
            .items
            .iter()
            .map(|c| view(c, None, None, now))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fold_statuses_and_recipients_not_yet_queued() {
        let by_status: BTreeMap<String, u32> = [
            ("queued", 2),
            ("deferred", 1),
            ("sent", 3),
            ("delivered", 4),
            ("read", 5),
            ("played", 1),
            ("failed", 1),
            ("denied", 2),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let c = Counts::from_statuses(25, &by_status);
        // 19 messages exist; 6 recipients are still to be queued.
        assert_eq!(c.queued, 2 + 1 + 6);
        assert_eq!(c.deferred, 1);
        assert_eq!(c.read, 6);
        assert_eq!(
            c.queued + c.sent + c.delivered + c.read + c.failed + c.denied,
            25
        );
    }

    #[test]
    fn languages_are_a_code_or_metas_object() {
        let a: Language = serde_json::from_value(serde_json::json!("en_US"))
            .unwrap_or(Language::Code(String::new()));
        let b: Language = serde_json::from_value(serde_json::json!({"code": "en_US"}))
            .unwrap_or(Language::Code(String::new()));
        assert_eq!(a.code(), "en_US");
        assert_eq!(b.code(), "en_US");
    }
}
