//! Contacts and their marketing consent: `POST /v1/contacts` (one contact, or a bulk import as
//! JSON or CSV with per-row results), `GET /v1/contacts/{id}`, `POST /v1/contacts/{id}/opt-in`.
//!
//! An opt-in is declared with its source and proof. A customer who opted out stays opted out
//! whatever is declared for them: the row (or request) is refused, and the refusal is kept in
//! their consent history. Only their own action on WhatsApp (START, a `resume` preference)
//! opts them back in.

use crate::ApiState;
use crate::idempotent::{self, Idempotent};
use crate::messages::parse_recipient;
use crate::principal::Principal;
use crate::problem::{FieldError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_domain::consent::{ConsentProof, OptInOutcome, OptInSource, OptOutSource};
use switchboard_domain::{ContactId, ContactKey};
use switchboard_store::{
    ConsentChange, ContactRecord, IdempotencyKey, MarketingConsent, StoreError,
};
use time::OffsetDateTime;

/// Rows one import may hold; larger lists are split by the client.
pub const MAX_IMPORT_ROWS: usize = 1000;
/// An import's body may be this large (the API's other bodies are smaller).
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;
/// Rows written at once: enough to finish a full import well inside the API's time limit.
const IMPORT_CONCURRENCY: usize = 16;
const MAX_PROOF_TEXT: usize = 2000;
const MAX_PROOF_URL: usize = 2048;
const IMPORT_SCOPE: &str = "api:contacts";
const OPT_IN_SCOPE: &str = "api:contacts.opt-in";

/// One contact to record, as a JSON object or a CSV row.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactInput {
    /// Phone number in international format, or the customer's `wa_id`, or a BSUID.
    phone: Option<String>,
    opt_in: Option<OptInInput>,
    /// Record that the customer asked not to receive marketing (e.g. imported from another
    /// system's suppression list).
    #[serde(default)]
    opted_out: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptInInput {
    source: Option<String>,
    proof: Option<ProofInput>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProofInput {
    text: Option<String>,
    url: Option<String>,
    captured_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Import {
    contacts: Vec<serde_json::Value>,
}

/// The API's view of a contact.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ContactView {
    id: ContactId,
    /// The customer's WhatsApp number (digits), when known.
    wa_id: Option<String>,
    /// The customer's business-scoped user id, when that is all WhatsApp gave.
    user_id: Option<String>,
    profile_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    first_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    last_inbound_at: Option<OffsetDateTime>,
    consent: ConsentView,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ConsentView {
    marketing: MarketingView,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MarketingView {
    #[serde(flatten)]
    current: MarketingConsent,
    history: Vec<ConsentChange>,
}

fn view(record: ContactRecord, history: Vec<ConsentChange>) -> ContactView {
    let (wa_id, user_id) = match &record.contact {
        ContactKey::WaId(id) => (Some(id.clone()), None),
        ContactKey::UserId(id) => (None, Some(id.clone())),
    };
    ContactView {
        id: record.id,
        wa_id,
        user_id,
        profile_name: record.profile_name,
        first_seen_at: record.first_seen_at,
        last_inbound_at: record.last_inbound_at,
        consent: ConsentView {
            marketing: MarketingView {
                current: record.consent,
                history,
            },
        },
    }
}

/// A row validated: who, and what to record.
struct ContactChange {
    contact: ContactKey,
    opt_in: Option<(OptInSource, ConsentProof)>,
    opted_out: bool,
}

/// How one row (or the single request) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RowStatus {
    /// Stored without a consent change.
    Recorded,
    OptedIn,
    /// Opted in already; the new proof was added to the history.
    AlreadyOptedIn,
    OptedOut,
    /// Opted out already.
    AlreadyOptedOut,
    /// An opt-in for a customer who opted out: not recorded.
    Refused,
    /// The row is not valid; `errors` says why. Nothing was stored for it.
    Invalid,
}

#[derive(Debug, Clone, Serialize)]
struct RowResult {
    /// 1-based position in the import (for CSV, the data row, not counting the header).
    row: usize,
    status: RowStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_id: Option<ContactId>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Serialize)]
struct ImportResult {
    results: Vec<RowResult>,
    summary: Summary,
}

#[derive(Debug, Clone, Default, Serialize)]
struct Summary {
    rows: usize,
    recorded: usize,
    opted_in: usize,
    opted_out: usize,
    refused: usize,
    invalid: usize,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

fn validate(input: ContactInput, caller: &Principal) -> Result<ContactChange, Vec<FieldError>> {
    let mut errors = Vec::new();
    let contact = match input.phone.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(FieldError::new("phone", "is required"));
            None
        }
        Some(phone) => {
            let parsed = parse_recipient(phone);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "phone",
                    "must be a phone number in international format (digits, optional +) or a business-scoped user id",
                ));
            }
            parsed
        }
    };
    let opt_in = input
        .opt_in
        .map(|o| validate_opt_in(o, caller, &mut errors));
    if input.opted_out && opt_in.is_some() {
        errors.push(FieldError::new(
            "opted_out",
            "a contact cannot be opted in and opted out at once",
        ));
    }
    match contact {
        Some(contact) if errors.is_empty() => Ok(ContactChange {
            contact,
            opt_in: opt_in.flatten(),
            opted_out: input.opted_out,
        }),
        _ => Err(errors),
    }
}

fn validate_opt_in(
    o: OptInInput,
    caller: &Principal,
    errors: &mut Vec<FieldError>,
) -> Option<(OptInSource, ConsentProof)> {
    let declarable: Vec<&str> = OptInSource::ALL
        .into_iter()
        .filter(|s| s.declarable())
        .map(OptInSource::as_str)
        .collect();
    let source = match o.source.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(FieldError::new("opt_in.source", "is required"));
            None
        }
        Some(s) => match s.parse::<OptInSource>() {
            Ok(source) if source.declarable() => Some(source),
            Ok(_) => {
                errors.push(FieldError::new(
                    "opt_in.source",
                    "is recorded by Switchboard when the customer acts on WhatsApp; declare one of: "
                        .to_owned()
                        + &declarable.join(", "),
                ));
                None
            }
            Err(()) => {
                errors.push(FieldError::new(
                    "opt_in.source",
                    format!("must be one of: {}", declarable.join(", ")),
                ));
                None
            }
        },
    };
    let proof = o.proof.unwrap_or_default();
    let text = proof
        .text
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let url = proof
        .url
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    if text.is_none() && url.is_none() {
        errors.push(FieldError::new(
            "opt_in.proof",
            "needs the wording the customer agreed to (text) or where it was collected (url)",
        ));
    }
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_PROOF_TEXT)
    {
        errors.push(FieldError::new(
            "opt_in.proof.text",
            format!("must be at most {MAX_PROOF_TEXT} characters"),
        ));
    }
    if let Some(u) = &url
        && (u.len() > MAX_PROOF_URL || !(u.starts_with("https://") || u.starts_with("http://")))
    {
        errors.push(FieldError::new(
            "opt_in.proof.url",
            "must be an http(s) URL of at most 2048 characters",
        ));
    }
    let captured_at = match proof.captured_at.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => match OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
            Ok(_) => Some(t.to_owned()),
            Err(_) => {
                errors.push(FieldError::new(
                    "opt_in.proof.captured_at",
                    "must be an RFC 3339 time (e.g. 2026-11-01T10:00:00Z)",
                ));
                None
            }
        },
    };
    source.map(|source| {
        (
            source,
            ConsentProof {
                text,
                url,
                captured_at,
                recorded_by: caller.actor_ref(),
            },
        )
    })
}

/// Applies one validated change.
async fn apply(
    state: &ApiState,
    caller: &Principal,
    change: &ContactChange,
) -> Result<RowStatus, StoreError> {
    let now = state.clock.now();
    let tenant = &caller.tenant;
    if let Some((source, proof)) = &change.opt_in {
        return Ok(
            match state
                .store
                .opt_in(tenant, &change.contact, *source, proof, now)
                .await?
            {
                OptInOutcome::OptedIn => RowStatus::OptedIn,
                OptInOutcome::AlreadyOptedIn => RowStatus::AlreadyOptedIn,
                OptInOutcome::RefusedOptedOut => RowStatus::Refused,
            },
        );
    }
    if change.opted_out {
        let changed = state
            .store
            .opt_out(
                tenant,
                &change.contact,
                OptOutSource::BusinessRecorded,
                &caller.actor_ref(),
                now,
            )
            .await?;
        return Ok(if changed {
            RowStatus::OptedOut
        } else {
            RowStatus::AlreadyOptedOut
        });
    }
    state
        .store
        .ensure_contact(tenant, &change.contact, now)
        .await?;
    Ok(RowStatus::Recorded)
}

/// What a `POST /v1/contacts` body holds.
enum ContactsBody {
    Single(ContactInput),
    /// Each row parsed, or why it could not be.
    Rows(Vec<Result<ContactInput, String>>),
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<ContactsBody, Problem> {
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/csv"));
    if is_csv {
        return csv_rows(body).map(ContactsBody::Rows);
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Problem::malformed(e.to_string()))?;
    if value.get("contacts").is_none() {
        return serde_json::from_value(value)
            .map(ContactsBody::Single)
            .map_err(|e| Problem::malformed(e.to_string()));
    }
    let import: Import =
        serde_json::from_value(value).map_err(|e| Problem::malformed(e.to_string()))?;
    Ok(ContactsBody::Rows(
        import
            .contacts
            .into_iter()
            .map(|row| serde_json::from_value::<ContactInput>(row).map_err(|e| e.to_string()))
            .collect(),
    ))
}

#[derive(Serialize)]
#[serde(untagged)]
enum Created {
    Single(Box<ContactView>),
    Import(ImportResult),
}

/// `POST /v1/contacts`.
pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let parsed = parse_body(&headers, &body)?;
    let status = match &parsed {
        ContactsBody::Single(_) => StatusCode::CREATED,
        ContactsBody::Rows(rows) => {
            if rows.is_empty() {
                return Err(Problem::field("contacts", "must hold at least one contact"));
            }
            if rows.len() > MAX_IMPORT_ROWS {
                return Err(Problem::field(
                    "contacts",
                    format!("at most {MAX_IMPORT_ROWS} contacts per import"),
                ));
            }
            StatusCode::OK
        }
    };
    let work = || async {
        match parsed {
            ContactsBody::Single(input) => {
                let change = validate(input, &caller).map_err(Problem::validation)?;
                let outcome = apply(&state, &caller, &change).await?;
                if outcome == RowStatus::Refused {
                    return Err(Problem::opted_out(
                        "this customer opted out; only their own action on WhatsApp (sending START) opts them back in",
                    ));
                }
                state
                    .audit
                    .record(
                        &caller,
                        "contact.recorded",
                        Some(ContactId::derive(&caller.tenant, &change.contact).to_string()),
                    )
                    .await;
                contact_view(&state, &caller, &change.contact)
                    .await
                    .map(|v| Created::Single(Box::new(v)))
            }
            ContactsBody::Rows(rows) => import(&state, &caller, rows).await.map(Created::Import),
        }
    };
    match idempotent::client_key(&headers)? {
        None => {
            let done = work().await?;
            Ok((status, Json(done)).into_response())
        }
        Some(key) => {
            Idempotent {
                key: IdempotencyKey::Tenant {
                    tenant: caller.tenant.clone(),
                    scope: IMPORT_SCOPE.into(),
                    key: key.to_owned(),
                },
                body: &body,
                status,
                in_progress: "a request with this Idempotency-Key is in progress; retry later",
                reused: Problem::unprocessable_key,
            }
            .run(&state, work, idempotent::keep_all)
            .await
        }
    }
}

async fn import(
    state: &ApiState,
    caller: &Principal,
    rows: Vec<Result<ContactInput, String>>,
) -> Result<ImportResult, Problem> {
    let results: Vec<Result<RowResult, StoreError>> =
        futures::stream::iter(rows.into_iter().enumerate())
            .map(|(i, row)| async move {
                let row_number = i + 1;
                let invalid = |errors| RowResult {
                    row: row_number,
                    status: RowStatus::Invalid,
                    contact_id: None,
                    errors,
                };
                let input = match row {
                    Ok(input) => input,
                    Err(e) => return Ok(invalid(vec![FieldError::new("row", e)])),
                };
                let change = match validate(input, caller) {
                    Ok(change) => change,
                    Err(errors) => return Ok(invalid(errors)),
                };
                let status = apply(state, caller, &change).await?;
                Ok(RowResult {
                    row: row_number,
                    status,
                    contact_id: Some(ContactId::derive(&caller.tenant, &change.contact)),
                    errors: Vec::new(),
                })
            })
            .buffered(IMPORT_CONCURRENCY)
            .collect()
            .await;
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut summary = Summary {
        rows: results.len(),
        ..Summary::default()
    };
    for r in &results {
        match r.status {
            RowStatus::Recorded | RowStatus::AlreadyOptedIn | RowStatus::AlreadyOptedOut => {
                summary.recorded += 1
            }
            RowStatus::OptedIn => summary.opted_in += 1,
            RowStatus::OptedOut => summary.opted_out += 1,
            RowStatus::Refused => summary.refused += 1,
            RowStatus::Invalid => summary.invalid += 1,
        }
    }
    state
        .audit
        .record_detail(
            caller,
            "contacts.imported",
            None,
            format!(
                "{} rows: {} opted in, {} opted out, {} refused, {} invalid",
                summary.rows, summary.opted_in, summary.opted_out, summary.refused, summary.invalid
            ),
        )
        .await;
    Ok(ImportResult { results, summary })
}

/// The rows of a CSV import: a header naming the columns (`phone`, `opt_in_source`,
/// `opt_in_text`, `opt_in_url`, `opt_in_captured_at`, `opted_out`), then one contact a line.
fn csv_rows(body: &[u8]) -> Result<Vec<Result<ContactInput, String>>, Problem> {
    const COLUMNS: [&str; 6] = [
        "phone",
        "opt_in_source",
        "opt_in_text",
        "opt_in_url",
        "opt_in_captured_at",
        "opted_out",
    ];
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| Problem::malformed(format!("CSV header: {e}")))?
        .clone();
    let mut index = [None; 6];
    for (i, name) in headers.iter().enumerate() {
        match COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(name)) {
            Some(c) => index[c] = Some(i),
            None => {
                return Err(Problem::field(
                    "csv",
                    format!(
                        "unknown column `{name}`; the columns are {}",
                        COLUMNS.join(", ")
                    ),
                ));
            }
        }
    }
    if index[0].is_none() {
        return Err(Problem::field(
            "csv",
            "the header must name a `phone` column",
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push(Err(format!("not a valid CSV row: {e}")));
                continue;
            }
        };
        let cell = |c: usize| {
            index[c]
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let has_opt_in = (1..=4).any(|c| cell(c).is_some());
        let opted_out = match cell(5).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") | Some("0") | Some("no") => Ok(false),
            Some("true") | Some("1") | Some("yes") => Ok(true),
            Some(_) => Err("opted_out must be true or false".to_owned()),
        };
        rows.push(opted_out.map(|opted_out| ContactInput {
            phone: cell(0),
            opt_in: has_opt_in.then(|| OptInInput {
                source: cell(1),
                proof: Some(ProofInput {
                    text: cell(2),
                    url: cell(3),
                    captured_at: cell(4),
                }),
            }),
            opted_out,
        }));
        if rows.len() > MAX_IMPORT_ROWS {
            break;
        }
    }
    Ok(rows)
}

/// `GET /v1/contacts/{id}`: our contact id, the customer's `wa_id` (digits) or BSUID.
pub(crate) async fn get_one(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<ContactView>, Problem> {
    let record = find(&state, &caller, &id)
        .await?
        .ok_or_else(|| Problem::not_found("contact"))?;
    let history = state
        .store
        .consent_history(&caller.tenant, &record.contact)
        .await?;
    Ok(Json(view(record, history)))
}

async fn find(
    state: &ApiState,
    caller: &Principal,
    id: &str,
) -> Result<Option<ContactRecord>, Problem> {
    if id.starts_with("ct_") {
        return Ok(state
            .store
            .find_contact_by_id(&caller.tenant, &ContactId::new(id))
            .await?);
    }
    let Some(key) = parse_recipient(id) else {
        return Ok(None);
    };
    Ok(state.store.get_contact(&caller.tenant, &key).await?)
}

/// `POST /v1/contacts/{id}/opt-in`.
pub(crate) async fn opt_in(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: OptInInput =
        serde_json::from_slice(&body).map_err(|e| Problem::malformed(e.to_string()))?;
    // A contact named by number need not exist yet; one named by our id must.
    let contact = match find(&state, &caller, &id).await? {
        Some(record) => record.contact,
        None if !id.starts_with("ct_") => {
            parse_recipient(&id).ok_or_else(|| Problem::not_found("contact"))?
        }
        None => return Err(Problem::not_found("contact")),
    };
    let mut errors = Vec::new();
    let Some((source, proof)) = validate_opt_in(input, &caller, &mut errors) else {
        return Err(Problem::validation(errors));
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let work = || async {
        let outcome = state
            .store
            .opt_in(&caller.tenant, &contact, source, &proof, state.clock.now())
            .await?;
        if outcome == OptInOutcome::RefusedOptedOut {
            return Err(Problem::opted_out(
                "this customer opted out; only their own action on WhatsApp (sending START) opts them back in",
            ));
        }
        state
            .audit
            .record(
                &caller,
                "contact.opted_in",
                Some(ContactId::derive(&caller.tenant, &contact).to_string()),
            )
            .await;
        contact_view(&state, &caller, &contact).await
    };
    match idempotent::client_key(&headers)? {
        None => {
            let done = work().await?;
            Ok((StatusCode::OK, Json(done)).into_response())
        }
        Some(key) => {
            Idempotent {
                key: IdempotencyKey::Tenant {
                    tenant: caller.tenant.clone(),
                    scope: OPT_IN_SCOPE.into(),
                    key: key.to_owned(),
                },
                body: &body,
                status: StatusCode::OK,
                in_progress: "a request with this Idempotency-Key is in progress; retry later",
                reused: Problem::unprocessable_key,
            }
            .run(&state, work, idempotent::keep_all)
            .await
        }
    }
}

async fn contact_view(
    state: &ApiState,
    caller: &Principal,
    contact: &ContactKey,
) -> Result<ContactView, Problem> {
    let record = state
        .store
        .get_contact(&caller.tenant, contact)
        .await?
        .ok_or_else(|| Problem::internal(&"contact just written is not readable"))?;
    let history = state.store.consent_history(&caller.tenant, contact).await?;
    Ok(view(record, history))
}
