//! Message templates: `POST /v1/templates` submits one to Meta for review, `GET /v1/templates`
//! lists the tenant's, `GET /v1/templates/{name}` shows one, `DELETE /v1/templates/{name}`
//! deletes it at Meta and then here.
//!
//! Review is never bypassed: a template is stored only for a WABA the tenant connected, is
//! submitted to Meta with the tenant's own token, and keeps Meta's status (`PENDING` until
//! Meta's webhook or the scheduled sync says otherwise). The compliance gate sends only
//! templates whose stored status is `APPROVED`.
//!
//! A submission holds the name first (status `SUBMITTING`, no Meta id), then asks Meta. A
//! request that dies after Meta accepted the template leaves the placeholder behind; the next
//! submission of the same template (a retry) or the scheduled sync finds the template at Meta
//! and completes the record instead of submitting twice.

use crate::ApiState;
use crate::conversations::{PageBody, PageQuery};
use crate::idempotent::{self, Idempotent};
use crate::principal::Principal;
use crate::problem::{FieldError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use switchboard_domain::compliance::{DenyReason, screen};
use switchboard_domain::{Secret, TenantId};
use switchboard_meta::graph::{
    GraphError, NewTemplate, OnboardingFailure, TemplateFailure, TemplateInfo,
};
use switchboard_platform::business_token::{self, BusinessTokenError};
use switchboard_store::{
    DELETED_STATUS, IdempotencyKey, SUBMITTING_STATUS, TemplateRecord, TemplateSubmitted,
};
use time::OffsetDateTime;

/// Meta's limit on template names.
pub const MAX_NAME_LEN: usize = 512;
pub const CATEGORIES: [&str; 3] = ["MARKETING", "UTILITY", "AUTHENTICATION"];
pub const COMPONENT_TYPES: [&str; 4] = ["HEADER", "BODY", "FOOTER", "BUTTONS"];
/// Meta's limits on the texts of a template.
pub const MAX_BODY_CHARS: usize = 1024;
pub const MAX_HEADER_CHARS: usize = 60;
pub const MAX_FOOTER_CHARS: usize = 60;
const MAX_META_ID_LEN: usize = 32;
const MAX_LANGUAGE_LEN: usize = 16;
const MAX_STATUS_LEN: usize = 32;
const IDEMPOTENCY_SCOPE: &str = "api:templates";
/// Pages of Meta's listing read while looking for one name (a name has few languages).
const MAX_META_PAGES: usize = 5;
const REQUEST_FIELDS: [&str; 6] = [
    "waba_id",
    "phone_number_id",
    "name",
    "language",
    "category",
    "components",
];

/// A template as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TemplateView {
    waba_id: String,
    name: String,
    language: String,
    /// Meta's id, once Meta took the template.
    id: Option<String>,
    category: String,
    status: String,
    reason: Option<String>,
    quality: Option<String>,
    components: Value,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// When Meta last changed the status (absent while it is the one Meta gave at creation).
    #[serde(with = "time::serde::rfc3339::option")]
    status_at: Option<OffsetDateTime>,
    created_by: Option<String>,
}

impl TemplateView {
    fn of(record: TemplateRecord) -> Self {
        Self {
            components: serde_json::from_str(&record.components_json)
                .unwrap_or(Value::Array(Vec::new())),
            waba_id: record.waba_id,
            name: record.name,
            language: record.language,
            id: record.template_id,
            category: record.category,
            status: record.status,
            reason: record.reason,
            quality: record.quality,
            created_at: record.created_at,
            status_at: record.status_at,
            created_by: record.created_by,
        }
    }
}

/// Where the template goes: a WABA named, or the WABA of a connected number.
#[derive(Debug, Clone)]
enum Target {
    Waba(String),
    PhoneNumber(String),
}

#[derive(Debug, Clone)]
struct CreateTemplate {
    target: Target,
    name: String,
    language: String,
    category: String,
    components: Value,
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Meta's locale codes: `en`, `en_US`, `pt_BR`, `zh_HK`, `fil`.
pub(crate) fn valid_language(language: &str) -> bool {
    let mut parts = language.split('_');
    let lang = parts.next().unwrap_or_default();
    let region = parts.next();
    language.len() <= MAX_LANGUAGE_LEN
        && parts.next().is_none()
        && (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| {
            (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

fn meta_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= MAX_META_ID_LEN && value.bytes().all(|b| b.is_ascii_digit())
}

fn parse_create(body: &[u8]) -> Result<CreateTemplate, Problem> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| Problem::malformed(e.to_string()))?;
    let Value::Object(fields) = value else {
        return Err(Problem::malformed("the body must be a JSON object"));
    };
    let mut errors = Vec::new();
    for name in fields.keys() {
        if !REQUEST_FIELDS.contains(&name.as_str()) {
            errors.push(field(name, "is not a member of a template"));
        }
    }
    let text = |name: &str, errors: &mut Vec<FieldError>| match fields.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(field(name, "must be a string"));
            None
        }
    };
    let waba_id = text("waba_id", &mut errors);
    let phone_number_id = text("phone_number_id", &mut errors);
    let target = match (waba_id, phone_number_id) {
        (Some(waba), None) if meta_id(&waba) => Some(Target::Waba(waba)),
        (None, Some(pnid)) if meta_id(&pnid) => Some(Target::PhoneNumber(pnid)),
        (Some(_), None) => {
            errors.push(field(
                "waba_id",
                format!("must be Meta's numeric id, 1 to {MAX_META_ID_LEN} digits"),
            ));
            None
        }
        (None, Some(_)) => {
            errors.push(field(
                "phone_number_id",
                format!("must be Meta's numeric id, 1 to {MAX_META_ID_LEN} digits"),
            ));
            None
        }
        (Some(_), Some(_)) => {
            errors.push(field(
                "waba_id",
                "give waba_id or phone_number_id, not both",
            ));
            None
        }
        (None, None) => {
            errors.push(field(
                "waba_id",
                "required: the WABA (waba_id) or a connected number of it (phone_number_id)",
            ));
            None
        }
    };
    let name = text("name", &mut errors).unwrap_or_default();
    if !valid_name(&name) {
        errors.push(field(
            "name",
            format!(
                "required: 1 to {MAX_NAME_LEN} lowercase letters, digits and underscores, as Meta requires"
            ),
        ));
    }
    let language = text("language", &mut errors).unwrap_or_default();
    if !valid_language(&language) {
        errors.push(field(
            "language",
            "required: Meta's language code, such as en, en_US or pt_BR",
        ));
    }
    let category = text("category", &mut errors).unwrap_or_default();
    if !CATEGORIES.contains(&category.as_str()) {
        errors.push(field(
            "category",
            format!("required: one of {}", CATEGORIES.join(", ")),
        ));
    }
    let components = fields.get("components").cloned().unwrap_or(Value::Null);
    check_components(&components, &category, &mut errors);
    if errors.is_empty()
        && let Some(found) = screen(&texts_of(&components))
    {
        return Err(Problem::policy_denied(
            DenyReason::ProhibitedContent.as_str(),
            format!(
                "the template's text offers {}, which the WhatsApp Commerce Policy does not allow",
                found.describe()
            ),
        ));
    }
    match target {
        Some(target) if errors.is_empty() => Ok(CreateTemplate {
            target,
            name,
            language,
            category,
            components,
        }),
        _ => Err(Problem::validation(errors)),
    }
}

/// What Switchboard checks of the components before Meta sees them: their shape, one of
/// each kind, a body (Meta requires one except for authentication templates, whose text Meta
/// writes), and Meta's length limits. The rest is Meta's review.
fn check_components(components: &Value, category: &str, errors: &mut Vec<FieldError>) {
    let Some(list) = components.as_array().filter(|l| !l.is_empty()) else {
        errors.push(field(
            "components",
            "required: a non-empty array of Meta's components (HEADER, BODY, FOOTER, BUTTONS)",
        ));
        return;
    };
    let mut seen = HashSet::new();
    for (i, component) in list.iter().enumerate() {
        let at = format!("components[{i}]");
        let Some(object) = component.as_object() else {
            errors.push(field(&at, "must be an object"));
            continue;
        };
        // Meta's examples write the types in capitals and, now and then, in small letters.
        let kind = object
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| {
                COMPONENT_TYPES.contains(t)
                    || (COMPONENT_TYPES.contains(&t.to_ascii_uppercase().as_str())
                        && t.bytes().all(|b| b.is_ascii_lowercase()))
            })
            .map(str::to_ascii_uppercase);
        let Some(kind) = kind else {
            errors.push(field(
                &format!("{at}.type"),
                format!("must be one of {}", COMPONENT_TYPES.join(", ")),
            ));
            continue;
        };
        if !seen.insert(kind.clone()) {
            errors.push(field(
                &format!("{at}.type"),
                format!("a template has at most one {kind}"),
            ));
        }
        let limit = match kind.as_str() {
            "BODY" => Some(MAX_BODY_CHARS),
            "FOOTER" => Some(MAX_FOOTER_CHARS),
            // Only a text header has text; media and location headers have a format instead.
            "HEADER" => Some(MAX_HEADER_CHARS),
            _ => None,
        };
        match (object.get("text"), limit) {
            (Some(Value::String(text)), Some(max)) if text.chars().count() > max => {
                errors.push(field(
                    &format!("{at}.text"),
                    format!("must be at most {max} characters"),
                ));
            }
            (Some(Value::String(text)), _) if text.trim().is_empty() => {
                errors.push(field(&format!("{at}.text"), "must not be blank"));
            }
            (Some(Value::String(_)) | None, _) => {}
            (Some(_), _) => errors.push(field(&format!("{at}.text"), "must be a string")),
        }
        if kind == "BODY" && category != "AUTHENTICATION" && !object.contains_key("text") {
            errors.push(field(&format!("{at}.text"), "required: the body's text"));
        }
    }
    if category != "AUTHENTICATION" && !seen.contains("BODY") {
        errors.push(field("components", "needs a BODY component"));
    }
}

/// Every string in the components: what the customer will read, and the examples.
fn texts_of(components: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![components];
    while let Some(value) = stack.pop() {
        match value {
            Value::String(s) => out.push(s.as_str()),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    out
}

/// `POST /v1/templates`.
pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let request = parse_create(&body)?;
    if let Some(suspension) = state.store.tenant_suspension(&caller.tenant).await? {
        return Err(Problem::suspended(suspension.reason));
    }
    let Some(client_key) = idempotent::client_key(&headers)? else {
        let created = submit(&state, &caller, &request).await?;
        return Ok((StatusCode::CREATED, Json(created)).into_response());
    };
    Idempotent {
        key: IdempotencyKey::Tenant {
            tenant: caller.tenant.clone(),
            scope: IDEMPOTENCY_SCOPE.into(),
            key: client_key.to_owned(),
        },
        body: &body,
        status: StatusCode::CREATED,
        in_progress: "a request with this Idempotency-Key is in progress; retry later",
        reused: Problem::unprocessable_key,
    }
    .run(
        &state,
        || Box::pin(submit(&state, &caller, &request)),
        idempotent::keep_all,
    )
    .await
}

/// The WABA the request names, checked to be the tenant's, and its token.
async fn waba_and_token(
    state: &ApiState,
    tenant: &TenantId,
    target: &Target,
) -> Result<(String, Secret), Problem> {
    let (waba_id, field_name) = match target {
        Target::Waba(waba) => (waba.clone(), "waba_id"),
        Target::PhoneNumber(pnid) => {
            let channel = state
                .store
                .get_channel(tenant, crate::channels::WHATSAPP, pnid)
                .await?;
            match channel {
                Some(channel) => (channel.waba_id, "phone_number_id"),
                None => {
                    return Err(Problem::field(
                        "phone_number_id",
                        "is not a WhatsApp number connected to this account",
                    ));
                }
            }
        }
    };
    match business_token::business_token(&state.store, &state.vault, tenant, &waba_id).await {
        Ok(Some(token)) => Ok((waba_id, token)),
        Ok(None) => Err(Problem::field(
            field_name,
            "is not a WABA connected to this account",
        )),
        Err(e) => Err(token_problem(e)),
    }
}

fn token_problem(e: BusinessTokenError) -> Problem {
    if e.is_retryable() {
        Problem::unavailable(&e)
    } else {
        Problem::internal(&e)
    }
}

async fn submit(
    state: &ApiState,
    caller: &Principal,
    request: &CreateTemplate,
) -> Result<TemplateView, Problem> {
    let tenant = &caller.tenant;
    let (waba_id, token) = waba_and_token(state, tenant, &request.target).await?;
    let (name, language) = (request.name.as_str(), request.language.as_str());
    let now = state.clock.now();
    let placeholder = TemplateRecord {
        waba_id: waba_id.clone(),
        name: name.to_owned(),
        language: language.to_owned(),
        template_id: None,
        category: request.category.clone(),
        status: SUBMITTING_STATUS.to_owned(),
        reason: None,
        quality: None,
        components_json: request.components.to_string(),
        created_at: now,
        status_at: None,
        category_at: None,
        quality_at: None,
        created_by: Some(caller.actor_ref()),
    };
    let exists = |status: &str| {
        Problem::conflict(format!(
            "a template named {name} in {language} exists in this WABA (status {status}); delete it first"
        ))
    };
    let held = match state
        .store
        .get_template(tenant, &waba_id, name, language)
        .await?
    {
        None => {
            state
                .store
                .put_template(tenant, &placeholder, false)
                .await?
        }
        Some(left) if left.status == SUBMITTING_STATUS && left.template_id.is_none() => {
            if now - left.created_at < idempotent::CLAIM_FOR {
                return Err(Problem::conflict(
                    "this template is being submitted by another request; retry later",
                ));
            }
            // Left by a request that died while Meta answered: Meta may hold it already.
            if let Some(found) = find_at_meta(state, &token, &waba_id, name, language).await? {
                state
                    .store
                    .record_template_submitted(
                        tenant,
                        &waba_id,
                        name,
                        language,
                        &TemplateSubmitted {
                            template_id: found.id,
                            status: found.status,
                            category: found.category,
                        },
                    )
                    .await?;
                return read_back(state, tenant, &waba_id, name, language).await;
            }
            state
                .store
                .replace_template_if(tenant, &placeholder, SUBMITTING_STATUS, None)
                .await?
        }
        Some(gone) if gone.status == DELETED_STATUS => {
            state
                .store
                .replace_template_if(
                    tenant,
                    &placeholder,
                    DELETED_STATUS,
                    gone.template_id.as_deref(),
                )
                .await?
        }
        Some(existing) => return Err(exists(&existing.status)),
    };
    if !held {
        return Err(exists("being created"));
    }

    let submitted = state
        .graph
        .create_template(
            &token,
            &waba_id,
            &NewTemplate {
                name: name.to_owned(),
                language: language.to_owned(),
                category: request.category.clone(),
                components: request.components.clone(),
            },
        )
        .await;
    let created = match submitted {
        Ok(created) => created,
        Err(e) if e.may_have_been_applied() => {
            // The placeholder stays: a retry or the sync finds out what Meta did.
            tracing::warn!(error = %e, "Meta did not answer a template submission");
            return Err(Problem::meta_unavailable(
                "Meta did not confirm the submission; send the same request again later",
            ));
        }
        Err(e) => {
            if let Err(release) = state.store.delete_template_if(tenant, &placeholder).await {
                tracing::warn!(error = %release, "could not release a refused template's name");
            }
            return Err(meta_refusal("template submission", &e));
        }
    };
    let category = if created.category.is_empty() {
        request.category.clone()
    } else {
        created.category.clone()
    };
    state
        .store
        .record_template_submitted(
            tenant,
            &waba_id,
            name,
            language,
            &TemplateSubmitted {
                template_id: created.id.clone(),
                status: created.status.clone(),
                category,
            },
        )
        .await?;
    state
        .audit
        .record(
            caller,
            "template.created",
            Some(format!("{name}:{language}")),
        )
        .await;
    tracing::info!(tenant = %tenant, template_id = %created.id, "template submitted for review");
    read_back(state, tenant, &waba_id, name, language).await
}

async fn read_back(
    state: &ApiState,
    tenant: &TenantId,
    waba_id: &str,
    name: &str,
    language: &str,
) -> Result<TemplateView, Problem> {
    state
        .store
        .get_template(tenant, waba_id, name, language)
        .await?
        .map(TemplateView::of)
        .ok_or_else(|| Problem::not_found("template"))
}

/// The template of this name and language at Meta, if Meta lists one.
async fn find_at_meta(
    state: &ApiState,
    token: &Secret,
    waba_id: &str,
    name: &str,
    language: &str,
) -> Result<Option<TemplateInfo>, Problem> {
    let listed = state
        .graph
        .list_all_templates(token, waba_id, Some(name), MAX_META_PAGES)
        .await
        .map_err(|e| meta_refusal("template lookup", &e))?;
    Ok(listed
        .into_iter()
        .find(|t| t.name == name && t.language == language))
}

/// A Meta refusal as the business should see it. Meta's explanation of a refused template is
/// about the business's own text, so it is passed on; nothing of it is logged.
fn meta_refusal(step: &str, error: &GraphError) -> Problem {
    if let Some(OnboardingFailure::InvalidToken | OnboardingFailure::NoAccess) =
        OnboardingFailure::of(error)
    {
        tracing::info!(step, code = error.code(), "Meta refused the WABA's token");
        return Problem::meta_refused(
            "no_access",
            "Meta refused the WABA's token: connect the number again through Embedded Signup",
        );
    }
    match TemplateFailure::of(error) {
        Some(TemplateFailure::AlreadyExists) => Problem::conflict(
            "Meta already holds a template with this name and language (made outside Switchboard, or still being deleted)",
        ),
        Some(TemplateFailure::Invalid) => {
            let detail = match error {
                GraphError::Api {
                    details: Some(details),
                    ..
                } => details.clone(),
                GraphError::Api { message, .. } => message.clone(),
                _ => "Meta refused the template".to_owned(),
            };
            Problem::meta_refused("template_invalid", detail)
        }
        None => {
            tracing::warn!(step, error = %error, "Graph call failed");
            Problem::meta_unavailable(format!("the {step} failed at Meta; retry later"))
        }
    }
}

fn status_filter(uri: &Uri) -> Result<Option<String>, Problem> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)?;
    let Some((_, status)) = pairs.into_iter().find(|(k, _)| k == "status") else {
        return Ok(None);
    };
    let plausible = !status.is_empty()
        && status.len() <= MAX_STATUS_LEN
        && status.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_');
    let status = status.to_ascii_uppercase();
    if !plausible {
        return Err(Problem::query_field(
            "status",
            "must be one of Meta's template statuses, e.g. APPROVED, PENDING, REJECTED, PAUSED",
        ));
    }
    Ok(Some(status))
}

/// `GET /v1/templates?status=&limit=&cursor=`.
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    uri: Uri,
) -> Result<Json<PageBody<TemplateView>>, Problem> {
    let q = PageQuery::from_uri(&uri, &["status"])?;
    let status = status_filter(&uri)?;
    let page = state
        .store
        .list_templates_with_status(
            &caller.tenant,
            status.as_deref(),
            q.limit,
            q.cursor.as_deref(),
            state.cursors.at(state.clock.now()),
        )
        .await?;
    Ok(Json(PageBody {
        data: page.items.into_iter().map(TemplateView::of).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// `?language=&waba_id=`: which of the templates of a name.
#[derive(Debug, Default)]
struct Selector {
    language: Option<String>,
    waba_id: Option<String>,
}

fn selector(uri: &Uri) -> Result<Selector, Problem> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)?;
    let mut seen = HashSet::new();
    let mut out = Selector::default();
    for (name, value) in pairs {
        if !seen.insert(name.clone()) {
            return Err(Problem::query_field(&name, "is given more than once"));
        }
        match name.as_str() {
            "language" if valid_language(&value) => out.language = Some(value),
            "language" => {
                return Err(Problem::query_field(
                    "language",
                    "must be Meta's language code, such as en_US",
                ));
            }
            "waba_id" if meta_id(&value) => out.waba_id = Some(value),
            "waba_id" => {
                return Err(Problem::query_field("waba_id", "must be Meta's numeric id"));
            }
            other => {
                return Err(Problem::query_field(
                    other,
                    "is not a parameter of this route",
                ));
            }
        }
    }
    Ok(out)
}

/// The tenant's templates of `name` the selector picks.
async fn selected(
    state: &ApiState,
    tenant: &TenantId,
    name: &str,
    selector: &Selector,
) -> Result<Vec<TemplateRecord>, Problem> {
    if !valid_name(name) {
        return Ok(Vec::new());
    }
    if let (Some(language), Some(waba_id)) = (&selector.language, &selector.waba_id) {
        // Both given: one item, read strongly.
        return Ok(state
            .store
            .get_template(tenant, waba_id, name, language)
            .await?
            .into_iter()
            .collect());
    }
    let mut found = state
        .store
        .find_templates_by_name(tenant, name, selector.language.as_deref())
        .await?;
    found.retain(|t| selector.waba_id.as_ref().is_none_or(|w| &t.waba_id == w));
    Ok(found)
}

/// A name held in several languages or WABAs: which one is meant has to be said.
fn ambiguous(found: &[TemplateRecord]) -> Option<Problem> {
    let wabas: BTreeSet<&str> = found.iter().map(|t| t.waba_id.as_str()).collect();
    if wabas.len() > 1 {
        return Some(Problem::query_field(
            "waba_id",
            format!(
                "the name is used in several WABAs ({}); give one",
                wabas.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let languages: BTreeSet<&str> = found.iter().map(|t| t.language.as_str()).collect();
    (languages.len() > 1).then(|| {
        Problem::query_field(
            "language",
            format!(
                "the name exists in several languages ({}); give one",
                languages.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

/// `GET /v1/templates/{name}?language=&waba_id=`.
pub(crate) async fn get_one(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(name): Path<String>,
    uri: Uri,
) -> Result<Json<TemplateView>, Problem> {
    let selector = selector(&uri)?;
    let found = selected(&state, &caller.tenant, &name, &selector).await?;
    if let Some(problem) = ambiguous(&found) {
        return Err(problem);
    }
    let Some(one) = found.into_iter().next() else {
        return Err(Problem::not_found("template"));
    };
    // The index may lag a moment behind; the item itself does not.
    read_back(
        &state,
        &caller.tenant,
        &one.waba_id,
        &one.name,
        &one.language,
    )
    .await
    .map(Json)
}

/// `DELETE /v1/templates/{name}?language=&waba_id=`: without `language`, every language of the
/// name (as Meta deletes by name); with it, that one template (Meta's `hsm_id`).
pub(crate) async fn delete(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(name): Path<String>,
    uri: Uri,
) -> Result<StatusCode, Problem> {
    let tenant = &caller.tenant;
    let selector = selector(&uri)?;
    let found = selected(&state, tenant, &name, &selector).await?;
    let wabas: BTreeSet<&str> = found.iter().map(|t| t.waba_id.as_str()).collect();
    if wabas.len() > 1 {
        return Err(ambiguous(&found).unwrap_or_else(|| Problem::not_found("template")));
    }
    let Some(waba_id) = wabas.into_iter().next().map(str::to_owned) else {
        return Err(Problem::not_found("template"));
    };
    let token = business_token::business_token(&state.store, &state.vault, tenant, &waba_id)
        .await
        .map_err(token_problem)?;
    // Without the WABA's token (it was disconnected) Meta cannot be asked; our copy goes.
    if let Some(token) = token {
        delete_at_meta(&state, &token, &waba_id, &name, &selector, &found).await?;
    }
    for template in &found {
        state.store.delete_template_if(tenant, template).await?;
    }
    state
        .audit
        .record(
            &caller,
            "template.deleted",
            Some(match &selector.language {
                Some(language) => format!("{name}:{language}"),
                None => name.clone(),
            }),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_at_meta(
    state: &ApiState,
    token: &Secret,
    waba_id: &str,
    name: &str,
    selector: &Selector,
    found: &[TemplateRecord],
) -> Result<(), Problem> {
    // Without a language Meta deletes the name in every language; with one, each template by
    // its id.
    let mut ids: Vec<Option<String>> = match &selector.language {
        None => vec![None],
        Some(_) => found
            .iter()
            .filter_map(|t| t.template_id.clone())
            .map(Some)
            .collect(),
    };
    if let Some(language) = &selector.language
        && found.iter().any(|t| t.template_id.is_none())
        // A submission Meta never confirmed: Meta may have the template after all.
        && let Some(at_meta) = find_at_meta(state, token, waba_id, name, language).await?
    {
        ids.push(Some(at_meta.id));
    }
    for id in ids {
        let id = id.as_deref();
        match state.graph.delete_template(token, waba_id, name, id).await {
            Ok(()) => {}
            Err(e) if TemplateFailure::of(&e) == Some(TemplateFailure::Invalid) => {
                // Meta names no template this way: gone at Meta already, unless its listing
                // still shows one.
                let listed = state
                    .graph
                    .list_all_templates(token, waba_id, Some(name), MAX_META_PAGES)
                    .await
                    .map_err(|e| meta_refusal("template lookup", &e))?;
                let still_there = listed.iter().any(|t| {
                    t.name == name
                        && id.is_none_or(|id| t.id == id)
                        && selector.language.as_ref().is_none_or(|l| &t.language == l)
                });
                if still_there {
                    return Err(meta_refusal("template deletion", &e));
                }
            }
            Err(e) => return Err(meta_refusal("template deletion", &e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problem(body: Value) -> Problem {
        parse_create(body.to_string().as_bytes()).expect_err("refused")
    }

    fn fields(p: &Problem) -> Vec<&str> {
        p.errors.iter().map(|e| e.field.as_str()).collect()
    }

    fn valid() -> Value {
        json!({
            "waba_id": "102290129340398",
            "name": "order_update",
            "language": "en_US",
            "category": "UTILITY",
            "components": [
                {"type": "BODY", "text": "Your order {{1}} is on its way.",
                 "example": {"body_text": [["A-1"]]}},
                {"type": "FOOTER", "text": "Acme"}
            ]
        })
    }

    #[test]
    fn a_valid_request_reads() {
        let request = parse_create(valid().to_string().as_bytes()).unwrap();
        assert_eq!(request.category, "UTILITY");
        assert!(matches!(request.target, Target::Waba(w) if w == "102290129340398"));
    }

    #[test]
    fn every_invalid_field_is_named() {
        let p = problem(json!({
            "name": "Order-Update", "language": "english", "category": "PROMO",
            "components": [{"type": "BODY", "text": "x".repeat(MAX_BODY_CHARS + 1)},
                           {"type": "SIDEBAR"}, {"type": "BODY", "text": "again"}],
            "extra": 1
        }));
        assert_eq!(p.status, 422);
        let named = fields(&p);
        for f in [
            "extra",
            "waba_id",
            "name",
            "language",
            "category",
            "components[0].text",
            "components[1].type",
            "components[2].type",
        ] {
            assert!(named.contains(&f), "{f} not named in {named:?}");
        }
        let p = problem(json!({"waba_id": "1", "phone_number_id": "2", "name": "a",
            "language": "en", "category": "UTILITY", "components": [{"type": "FOOTER", "text": "f"}]}));
        assert_eq!(fields(&p), ["waba_id", "components"]);
        assert_eq!(parse_create(b"not json").expect_err("refused").status, 400);
    }

    #[test]
    fn names_and_languages_follow_metas_rules() {
        assert!(valid_name(&"a".repeat(MAX_NAME_LEN)));
        assert!(!valid_name(&"a".repeat(MAX_NAME_LEN + 1)));
        for bad in ["", "Hello", "hello world", "hello-world", "héllo"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        for ok in ["en", "en_US", "pt_BR", "fil", "zh_HK"] {
            assert!(valid_language(ok), "{ok}");
        }
        for bad in ["", "EN", "en-US", "en_US_POSIX", "e"] {
            assert!(!valid_language(bad), "{bad}");
        }
    }

    #[test]
    fn prohibited_content_is_refused_before_meta_sees_it() {
        let mut body = valid();
        body["components"][0]["text"] = json!("Buy cheap cigarettes today");
        let p = problem(body);
        assert_eq!(p.kind, "/problems/policy-denied");
        assert_eq!(p.code, Some("prohibited_content"));
    }

    #[test]
    fn authentication_templates_need_no_body_text() {
        let body = json!({"waba_id": "1", "name": "otp", "language": "en", "category": "AUTHENTICATION",
            "components": [{"type": "BODY", "add_security_recommendation": true},
                           {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]});
        assert!(parse_create(body.to_string().as_bytes()).is_ok());
    }
}
