//! Keeps Switchboard's own copy of each inbound message's media: Meta's download URL lives
//! about five minutes and Meta deletes the file after some days.
//!
//! One job per media message: ask Meta for the media's URL with the tenant's own token,
//! download it with the same token and stream it into S3 under a tenant-first key (never the
//! whole file in memory: see `MediaStore::begin`), then check it against what the webhook
//! said (SHA-256, type) and Meta's limit for its kind. A file that fails a check moves to
//! `quarantine/` and is flagged on the message, never shown; media Meta no longer has is
//! marked unavailable and not retried. An expired URL is asked for again, once.

mod batch;
mod init;
mod reason;

pub use batch::{
    MEDIA_BYTES, MEDIA_QUARANTINED, MEDIA_SKIPPED, MEDIA_STORED, MEDIA_UNAVAILABLE,
    METRICS_SERVICE, RECORDS_DEAD_LETTERED, RECORDS_FAILED, handle_batch,
};
pub use init::{InitError, init};

use base64::Engine;
use std::sync::Arc;
use switchboard_domain::jobs::MediaJob;
use switchboard_domain::media::{self, Sniffed};
use switchboard_domain::{Clock, PhoneNumberId, Secret};
use switchboard_meta::graph::{
    ErrorClass, GraphClient, GraphError, MediaDownload, MediaDownloadError, MediaInfo,
};
use switchboard_platform::business_token::{BusinessTokenError, business_token};
use switchboard_platform::dead_letter::DeadLetters;
use switchboard_platform::media_store::{MediaStore, MediaStoreError, StoredObject};
use switchboard_platform::metrics::MetricsSink;
use switchboard_platform::token_vault::TokenVault;
use switchboard_store::{MediaRecord, MediaState as StoredState, Store, StoreError};

/// Where our copies live: `media/{tenant}/{message id}`.
pub const MEDIA_PREFIX: &str = "media/";
/// Where files that failed a check are kept, apart from what agents may see.
pub const QUARANTINE_MEDIA_PREFIX: &str = "quarantine/media/";

pub struct MediaState {
    pub store: Store,
    pub graph: GraphClient,
    pub vault: TokenVault,
    pub media: MediaStore,
    pub clock: Arc<dyn Clock>,
    /// Where each batch's EMF metrics go: stdout in Lambda.
    pub metrics: Arc<dyn MetricsSink>,
    /// Where a job's last failure is kept with its reason; `None` leaves it to SQS's redrive,
    /// without one.
    pub dead_letters: Option<DeadLetters>,
}

/// What became of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Stored {
        key: String,
        size: u64,
    },
    Quarantined {
        reason: &'static str,
    },
    /// Meta no longer has the file.
    Unavailable,
    /// Nothing to do: the message is gone, already holds its media's outcome (a redelivered
    /// job), or its number no longer belongs to the tenant.
    Skipped,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Worth another delivery of the job (Meta or AWS trouble, an expired URL twice).
    #[error("retryable: {0}")]
    Retryable(String),
    /// The tenant's Meta token could not be read or opened: worth another delivery.
    #[error("the Meta token: {0}")]
    Token(BusinessTokenError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

pub fn media_key(job: &MediaJob) -> String {
    format!("{MEDIA_PREFIX}{}/{}", job.tenant_id, job.message_id)
}

pub fn quarantine_key(job: &MediaJob) -> String {
    format!(
        "{QUARANTINE_MEDIA_PREFIX}{}/{}",
        job.tenant_id, job.message_id
    )
}

pub async fn fetch(state: &MediaState, job: &MediaJob) -> Result<Fetched, FetchError> {
    // A job is queued again for a message recorded twice; its first outcome stands.
    match state
        .store
        .get_message(&job.tenant_id, &job.message_id)
        .await?
    {
        None => {
            tracing::info!("the message is gone; media not fetched");
            return Ok(Fetched::Skipped);
        }
        Some(message) if message.media.is_some() => return Ok(Fetched::Skipped),
        Some(_) => {}
    }
    let phone = PhoneNumberId::new(job.phone_number_id.clone());
    let Some(route) = state
        .store
        .find_phone_route(&phone)
        .await?
        .filter(|route| route.tenant_id == job.tenant_id)
    else {
        tracing::warn!("the number no longer belongs to the job's tenant; media not fetched");
        return Ok(Fetched::Skipped);
    };
    let token =
        match business_token(&state.store, &state.vault, &job.tenant_id, &route.waba_id).await {
            Ok(Some(token)) => token,
            Ok(None) => {
                return Err(FetchError::Retryable(
                    "no Meta token is connected for the number's WABA".into(),
                ));
            }
            Err(e) => return Err(FetchError::Token(e)),
        };

    let download = match open_download(state, &token, job).await {
        Ok(download) => download,
        Err(Opened::Gone) => {
            record(state, job, unavailable(state, job)).await?;
            return Ok(Fetched::Unavailable);
        }
        Err(Opened::Retry(reason)) => return Err(FetchError::Retryable(reason)),
    };
    let limit = media::max_bytes(job.kind, job.animated);
    if download.content_length().is_some_and(|size| size > limit) {
        let reason = "too_large";
        record(state, job, quarantined(state, job, None, reason)).await?;
        return Ok(Fetched::Quarantined { reason });
    }

    let stored = match stream_into_s3(state, job, download, limit).await {
        Ok(stored) => stored,
        Err(Streamed::TooLarge) => {
            let reason = "too_large";
            record(state, job, quarantined(state, job, None, reason)).await?;
            return Ok(Fetched::Quarantined { reason });
        }
        Err(Streamed::Retry(reason)) => return Err(FetchError::Retryable(reason)),
    };

    if let Some(reason) = failed_check(job, &stored) {
        let to = quarantine_key(job);
        state
            .media
            .move_object(&stored.key, &to)
            .await
            .map_err(|e| FetchError::Retryable(e.to_string()))?;
        tracing::warn!(reason, "media failed its checks; quarantined");
        let mut record_of = quarantined(state, job, Some(&stored), reason);
        record_of.key = Some(to);
        record(state, job, record_of).await?;
        return Ok(Fetched::Quarantined { reason });
    }
    record(
        state,
        job,
        MediaRecord {
            state: StoredState::Stored,
            key: Some(stored.key.clone()),
            size: Some(stored.size),
            sha256: Some(stored.sha256_hex()),
            mime_type: job.mime_type.clone(),
            filename: job.filename.clone(),
            reason: None,
            at: state.clock.now(),
        },
    )
    .await?;
    tracing::info!(size = stored.size, "media stored");
    Ok(Fetched::Stored {
        key: stored.key,
        size: stored.size,
    })
}

enum Opened {
    Gone,
    Retry(String),
}

/// Meta's URL for the media, then its download; an expired URL is asked for again, once.
async fn open_download(
    state: &MediaState,
    token: &Secret,
    job: &MediaJob,
) -> Result<MediaDownload, Opened> {
    let mut asked = 0;
    loop {
        asked += 1;
        let info: MediaInfo = state
            .graph
            .media_info(token, &job.media_id, Some(&job.phone_number_id))
            .await
            .map_err(graph_refusal)?;
        match state.graph.download_media(token, &info.url).await {
            Ok(download) => return Ok(download),
            Err(MediaDownloadError::Expired) if asked < 2 => {
                tracing::info!("the media URL expired; asking Meta for a new one");
            }
            Err(e) => return Err(Opened::Retry(e.to_string())),
        }
    }
}

fn graph_refusal(e: GraphError) -> Opened {
    if e.is_media_gone() {
        return Opened::Gone;
    }
    match e.class() {
        ErrorClass::Retryable { .. } | ErrorClass::Permanent => Opened::Retry(e.to_string()),
    }
}

enum Streamed {
    TooLarge,
    Retry(String),
}

async fn stream_into_s3(
    state: &MediaState,
    job: &MediaJob,
    mut download: MediaDownload,
    limit: u64,
) -> Result<StoredObject, Streamed> {
    let mut upload = state
        .media
        .begin(media_key(job), job.mime_type.clone(), limit);
    loop {
        match download.next_chunk().await {
            Ok(Some(chunk)) => match upload.write(&chunk).await {
                Ok(()) => {}
                Err(MediaStoreError::TooLarge { .. }) => return Err(Streamed::TooLarge),
                Err(e) => return Err(Streamed::Retry(e.to_string())),
            },
            Ok(None) => break,
            Err(e) => {
                upload.abort().await;
                return Err(Streamed::Retry(e.to_string()));
            }
        }
    }
    upload
        .finish()
        .await
        .map_err(|e| Streamed::Retry(e.to_string()))
}

/// The first check the stored file fails, as a reason code.
fn failed_check(job: &MediaJob, stored: &StoredObject) -> Option<&'static str> {
    if let Some(expected) = job.sha256.as_deref().and_then(digest_of)
        && expected != stored.sha256
    {
        return Some("sha256_mismatch");
    }
    let sniffed: Sniffed = media::sniff(&stored.head);
    media::check_content(job.kind, &job.mime_type, stored.size, job.animated, sniffed)
        .err()
        .map(|rejection| rejection.reason_code())
}

/// Meta's SHA-256 as 32 bytes: base64 in webhooks, hex from `GET /{media-id}`.
fn digest_of(text: &str) -> Option<[u8; 32]> {
    let bytes = if text.len() == 64 {
        hex::decode(text).ok()?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()?
    };
    bytes.try_into().ok()
}

fn unavailable(state: &MediaState, job: &MediaJob) -> MediaRecord {
    MediaRecord {
        state: StoredState::Unavailable,
        key: None,
        size: None,
        sha256: None,
        mime_type: job.mime_type.clone(),
        filename: job.filename.clone(),
        reason: Some("media_gone".into()),
        at: state.clock.now(),
    }
}

fn quarantined(
    state: &MediaState,
    job: &MediaJob,
    stored: Option<&StoredObject>,
    reason: &str,
) -> MediaRecord {
    MediaRecord {
        state: StoredState::Quarantined,
        key: None,
        size: stored.map(|s| s.size),
        sha256: stored.map(StoredObject::sha256_hex),
        mime_type: job.mime_type.clone(),
        filename: job.filename.clone(),
        reason: Some(reason.to_owned()),
        at: state.clock.now(),
    }
}

async fn record(state: &MediaState, job: &MediaJob, media: MediaRecord) -> Result<(), StoreError> {
    if !state
        .store
        .record_media(&job.tenant_id, &job.message_id, &media)
        .await?
    {
        tracing::info!("the message is gone or already holds its media; nothing recorded");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metas_digest_reads_as_base64_or_hex() {
        let bytes = [7u8; 32];
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(digest_of(&b64), Some(bytes));
        assert_eq!(digest_of(&hex::encode(bytes)), Some(bytes));
        assert_eq!(digest_of("not a digest"), None);
        assert_eq!(digest_of("AAAA"), None, "too short");
    }
}
