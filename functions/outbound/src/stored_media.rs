//! A message that names one of the tenant's uploads (`{"document": {"media": "med_…"}}`, or the
//! same in a template's or an interactive message's header) is sent by a Meta media id: the
//! upload is streamed from S3 to `POST /{phone-number-id}/media` once per number, and the id Meta answers is kept on the upload until Meta's 30-day expiry
//! (less a day, so an id is never used as it expires), then reused.

use crate::OutboundState;
use crate::send::{Attempt, Refused, SendError, SendOutcome, classify_refusal};
use std::time::Duration;
use switchboard_domain::Secret;
use switchboard_domain::jobs::OutboundJob;
use switchboard_meta::graph::{MediaUpload, OutboundMessage};
use switchboard_store::{DeliveryError, MessageRecord, MetaMediaId, UploadState};

/// How long Meta keeps an uploaded media id.
pub const META_MEDIA_LIFETIME: time::Duration = time::Duration::days(30);
/// A cached id is reused only while it has at least this long left.
const REUSE_MARGIN: time::Duration = time::Duration::days(1);
/// The upload to Meta must end well inside the record's budget.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(20);
const NOT_READY_TITLE: &str = "Upload not ready";

fn not_sent(details: String) -> Attempt {
    Attempt::NotSent(
        DeliveryError {
            code: 0,
            title: Some(NOT_READY_TITLE.into()),
            details: Some(details.clone()),
        },
        SendOutcome::Failed { code: 0 },
    )
}

/// The message as Meta is to be sent it; `Ok(Err(_))` when it cannot be sent at all.
pub(crate) async fn resolve(
    state: &OutboundState,
    job: &OutboundJob,
    token: &Secret,
    message: &MessageRecord,
    mut outbound: OutboundMessage,
) -> Result<Result<OutboundMessage, Attempt>, Refused> {
    let mut upload_ids: Vec<String> = outbound
        .content
        .stored_media()
        .into_iter()
        .map(|stored| stored.upload_id)
        .collect();
    upload_ids.dedup();
    for upload_id in upload_ids {
        match meta_id_of(state, job, token, message, &upload_id).await? {
            Ok(meta_id) => outbound.content.use_meta_media_id(&upload_id, &meta_id),
            Err(not_sent) => return Ok(Err(not_sent)),
        }
    }
    Ok(Ok(outbound))
}

/// The Meta media id of one upload for the message's number: the cached one while it has a
/// day left, else the upload streamed to Meta now.
async fn meta_id_of(
    state: &OutboundState,
    job: &OutboundJob,
    token: &Secret,
    message: &MessageRecord,
    upload_id: &str,
) -> Result<Result<String, Attempt>, Refused> {
    let Some(upload) = state
        .store
        .get_media_upload(&job.tenant_id, upload_id)
        .await
        .map_err(Refused::Store)?
        .filter(|u| u.state == UploadState::Ready)
    else {
        return Ok(Err(not_sent(format!(
            "upload {upload_id} is gone or was never completed"
        ))));
    };
    let number = message.phone_number_id.as_str();
    let now = state.clock.now();
    if let Some(cached) = upload
        .meta_ids
        .get(number)
        .filter(|m| m.expires_at > now + REUSE_MARGIN)
    {
        return Ok(Ok(cached.id.clone()));
    }

    let object = state.media.open(&upload.key).await.map_err(|e| {
        Refused::Retry(SendError::Retryable {
            reason: format!("the upload could not be read: {e}"),
            after: None,
        })
    })?;
    let filename = upload.filename.clone().unwrap_or_else(|| upload.id.clone());
    let body = MediaUpload::from_stream(
        upload.mime_type.clone(),
        filename,
        object.content_length,
        object.into_stream(),
    );
    let meta_id = match state
        .graph
        .upload_media_within(token, number, body, UPLOAD_TIMEOUT)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(error = %e, "the upload could not be uploaded to Meta");
            return classify_refusal(&e).map(Err);
        }
    };
    let cached = MetaMediaId {
        id: meta_id.clone(),
        expires_at: now + META_MEDIA_LIFETIME,
    };
    // Not fatal: without the cache the next send uploads the file again.
    if let Err(e) = state
        .store
        .cache_meta_media_id(&job.tenant_id, &upload.id, number, &cached)
        .await
    {
        tracing::warn!(error = %e, "could not keep the Meta media id");
    }
    tracing::info!(size = upload.size, "upload sent to Meta");
    Ok(Ok(meta_id))
}
