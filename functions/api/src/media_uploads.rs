//! An agent's attachment: `POST /v1/media` declares the file and answers a presigned POST
//! (the browser uploads straight to S3, within the declared type and exact size);
//! `POST /v1/media/{id}/complete` checks what arrived (its size, and its type by its first
//! bytes, never by its name) before it can be sent; `GET /v1/media/{id}` shows it.

use crate::ApiState;
use crate::idempotent::{self, Idempotent};
use crate::principal::Principal;
use crate::problem::{FieldError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::media::{self, MediaKind, SNIFF_BYTES};
use switchboard_platform::media_store::sdk_credentials;
use switchboard_store::{
    IdempotencyKey, MediaUploadRecord, UploadCreated, UploadOutcome, UploadState,
};
use time::OffsetDateTime;

const IDEMPOTENCY_SCOPE: &str = "media";
/// How long the upload form stays valid.
pub const FORM_LIFETIME: Duration = Duration::from_secs(900);
const MAX_FILENAME_CHARS: usize = 240;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclareUpload {
    #[serde(rename = "type")]
    pub kind: String,
    pub mime_type: String,
    pub size: u64,
    #[serde(default)]
    pub filename: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadForm {
    /// POST a `multipart/form-data` body here: every field below, then `file` last.
    pub url: String,
    pub fields: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// An upload as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: MediaKind,
    pub mime_type: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    pub state: UploadState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at: Option<OffsetDateTime>,
    /// Where to upload the file: only in the answer to `POST /v1/media`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadForm>,
}

impl From<MediaUploadRecord> for UploadView {
    fn from(r: MediaUploadRecord) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            mime_type: r.mime_type,
            size: r.size,
            filename: r.filename,
            state: r.state,
            reason: r.reason,
            sha256: r.sha256,
            created_at: r.created_at,
            completed_at: r.completed_at,
            upload: None,
        }
    }
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The declared file, checked against Meta's rules for its kind.
fn check_declared(r: &DeclareUpload) -> Result<(MediaKind, Option<String>), Problem> {
    let mut errors = Vec::new();
    let kind = match r.kind.parse::<MediaKind>() {
        Ok(kind) => Some(kind),
        Err(_) => {
            errors.push(field_error(
                "type",
                "must be image, video, audio, document or sticker",
            ));
            None
        }
    };
    if let Some(kind) = kind {
        if !media::is_supported(kind, &r.mime_type) {
            errors.push(field_error(
                "mime_type",
                format!(
                    "is not a type WhatsApp takes for {kind}: one of {}",
                    media::supported_mime_types(kind).join(", ")
                ),
            ));
        }
        let limit = media::max_bytes(kind, false);
        if r.size == 0 || r.size > limit {
            errors.push(field_error(
                "size",
                format!("must be 1 to {limit} bytes for {kind}"),
            ));
        }
    }
    let filename = r.filename.as_deref().map(str::trim).map(str::to_owned);
    if let Some(name) = &filename
        && (name.is_empty()
            || name.chars().count() > MAX_FILENAME_CHARS
            || name.contains(['/', '\\'])
            || name.chars().any(char::is_control))
    {
        errors.push(field_error(
            "filename",
            format!("must be 1 to {MAX_FILENAME_CHARS} characters, without a path"),
        ));
    }
    match (kind, errors.is_empty()) {
        (Some(kind), true) => Ok((kind, filename)),
        _ => Err(Problem::validation(errors)),
    }
}

pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: DeclareUpload =
        serde_json::from_slice(&body).map_err(|e| Problem::malformed(e.to_string()))?;
    let Some(client_key) = idempotent::client_key(&headers)? else {
        let id = format!("med_{}", ulid::Ulid::new().to_string().to_lowercase());
        let created = declare(&state, &caller, request, id).await?;
        return Ok((StatusCode::CREATED, Json(created)).into_response());
    };
    // The id follows from the key, so a retry names the upload the first declared.
    let digest = Sha256::digest(format!("{}\0{client_key}", caller.tenant).as_bytes());
    let id = format!("med_k{}", hex::encode(&digest[..13]));
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
        || declare(&state, &caller, request, id),
        idempotent::keep_all,
    )
    .await
}

async fn declare(
    state: &ApiState,
    caller: &Principal,
    request: DeclareUpload,
    id: String,
) -> Result<UploadView, Problem> {
    let (kind, filename) = check_declared(&request)?;
    let now = state.clock.now();
    let record = MediaUploadRecord {
        key: format!("media/{}/uploads/{id}", caller.tenant),
        id: id.clone(),
        kind,
        mime_type: request.mime_type.trim().to_owned(),
        size: request.size,
        filename,
        state: UploadState::Pending,
        reason: None,
        created_by: caller.actor_ref(),
        created_at: now,
        completed_at: None,
        sha256: None,
        meta_ids: BTreeMap::new(),
    };
    let record = match state
        .store
        .create_media_upload(&caller.tenant, &record)
        .await?
    {
        UploadCreated::New => {
            state
                .audit
                .record(caller, "media.upload_declared", Some(id.clone()))
                .await;
            record
        }
        UploadCreated::Exists(existing) => *existing,
    };
    let credentials = sdk_credentials(&state.aws)
        .await
        .map_err(|e| Problem::unavailable(&e))?;
    let region = state
        .media
        .client_region()
        .unwrap_or_else(|| "us-east-1".to_owned());
    let form = state
        .media
        .presigned_post(
            &record.key,
            &record.mime_type,
            record.size,
            record.size,
            FORM_LIFETIME,
            &credentials,
            &region,
            now,
        )
        .await
        .map_err(|e| Problem::unavailable(&e))?;
    let mut view = UploadView::from(record);
    view.upload = Some(UploadForm {
        url: form.url,
        fields: form.fields,
        expires_at: now + FORM_LIFETIME,
    });
    Ok(view)
}

pub(crate) async fn get_one(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<UploadView>, Problem> {
    state
        .store
        .get_media_upload(&caller.tenant, &id)
        .await?
        .map(|r| Json(UploadView::from(r)))
        .ok_or_else(|| Problem::not_found("media"))
}

/// The reason codes a check gives, as `'static` problem codes.
fn reason_code(reason: &str) -> &'static str {
    match reason {
        "empty" => "empty",
        "executable" => "executable",
        "unsupported_type" => "unsupported_type",
        "too_large" => "too_large",
        "type_mismatch" => "type_mismatch",
        "size_mismatch" => "size_mismatch",
        _ => "rejected",
    }
}

fn rejected(upload: &MediaUploadRecord) -> Problem {
    let reason = upload.reason.as_deref().unwrap_or("rejected");
    Problem::media_rejected(
        reason_code(reason),
        format!("the uploaded file was refused: {reason}; upload it again as a new file"),
    )
}

pub(crate) async fn complete(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<UploadView>, Problem> {
    let upload = state
        .store
        .get_media_upload(&caller.tenant, &id)
        .await?
        .ok_or_else(|| Problem::not_found("media"))?;
    match upload.state {
        UploadState::Ready => return Ok(Json(upload.into())),
        UploadState::Rejected => return Err(rejected(&upload)),
        UploadState::Pending => {}
    }
    let head = state
        .media
        .head(&upload.key)
        .await
        .map_err(|e| Problem::unavailable(&e))?
        .ok_or_else(|| {
            Problem::conflict("nothing has been uploaded yet: POST the file to the upload form")
        })?;
    let outcome = if head.size != upload.size {
        UploadOutcome::Rejected {
            reason: "size_mismatch".into(),
        }
    } else {
        let prefix = state
            .media
            .read_head_bytes(&upload.key, SNIFF_BYTES)
            .await
            .map_err(|e| Problem::unavailable(&e))?;
        match media::check_content(
            upload.kind,
            &upload.mime_type,
            head.size,
            false,
            media::sniff(&prefix),
        ) {
            Ok(()) => UploadOutcome::Ready { sha256: None },
            Err(rejection) => UploadOutcome::Rejected {
                reason: rejection.reason_code().to_owned(),
            },
        }
    };
    if matches!(outcome, UploadOutcome::Rejected { .. }) {
        // A refused file is never kept: it cannot be sent, and may be harmful.
        state
            .media
            .delete(&upload.key)
            .await
            .map_err(|e| Problem::unavailable(&e))?;
    }
    let retention = state
        .store
        .get_tenant(&caller.tenant)
        .await?
        .map(|t| t.settings.retention_months)
        .unwrap_or(switchboard_domain::tenant_settings::DEFAULT_RETENTION_MONTHS);
    let settled = state
        .store
        .complete_media_upload(&caller.tenant, &id, &outcome, retention, state.clock.now())
        .await?
        .ok_or_else(|| Problem::not_found("media"))?;
    let action = match settled.state {
        UploadState::Ready => "media.upload_accepted",
        _ => "media.upload_refused",
    };
    state.audit.record(&caller, action, Some(id)).await;
    match settled.state {
        UploadState::Rejected => Err(rejected(&settled)),
        _ => Ok(Json(settled.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(kind: &str, mime: &str, size: u64, filename: Option<&str>) -> DeclareUpload {
        DeclareUpload {
            kind: kind.into(),
            mime_type: mime.into(),
            size,
            filename: filename.map(str::to_owned),
        }
    }

    #[test]
    fn a_declared_file_meets_metas_rules_for_its_kind() {
        let ok = check_declared(&declared(
            "document",
            "application/pdf",
            1_000,
            Some("a.pdf"),
        ));
        assert_eq!(
            ok.expect("valid"),
            (MediaKind::Document, Some("a.pdf".to_owned()))
        );
        for bad in [
            declared("movie", "video/mp4", 10, None),
            declared("image", "image/gif", 10, None),
            declared("image", "image/jpeg", 0, None),
            declared("image", "image/jpeg", 6 * 1024 * 1024, None),
            declared("document", "application/pdf", 10, Some("../../etc/passwd")),
            declared("document", "application/pdf", 10, Some(" ")),
        ] {
            assert!(check_declared(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn stored_reasons_map_to_their_codes() {
        assert_eq!(reason_code("executable"), "executable");
        assert_eq!(reason_code("size_mismatch"), "size_mismatch");
        assert_eq!(reason_code("something new"), "rejected");
    }
}
