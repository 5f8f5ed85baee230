//! Files a tenant uploads to send (an agent's attachment): declared first, uploaded by the
//! browser straight to S3 with a presigned POST, then checked before they can be sent. Each
//! keeps the Meta media ids it was uploaded to Meta under, per business number, until Meta's
//! 30-day expiry, so a file sent again is not uploaded again.

use crate::error::StoreError;
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{from_item, keyed, n, s, to_value};
use crate::keys;
use crate::store::{Conditional, Store};
use crate::timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchboard_domain::TenantId;
use switchboard_domain::media::MediaKind;
use time::OffsetDateTime;

/// How long a declared upload waits for its file before it is forgotten.
pub const PENDING_UPLOAD_LIFETIME: time::Duration = time::Duration::days(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    /// Declared; the file may not be there yet.
    Pending,
    /// Uploaded and checked: it can be sent.
    Ready,
    /// Uploaded but refused by a check (`reason`); the file is deleted.
    Rejected,
}

/// A Meta media id a file was uploaded as, for one business number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaMediaId {
    pub id: String,
    /// When Meta forgets it (30 days after the upload).
    #[serde(with = "crate::timestamp")]
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUploadRecord {
    /// `med_…`.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: MediaKind,
    pub mime_type: String,
    /// Declared at creation; the upload must be exactly this long.
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    pub state: UploadState,
    /// Why a check refused it (`executable`, `type_mismatch`, `size_mismatch`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The S3 key the upload goes to (`media/{tenant}/uploads/{id}`).
    pub key: String,
    /// Who declared it (`user:…` or `key:…`).
    pub created_by: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "crate::timestamp::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// Hex SHA-256 of the file, when it was computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Per business number (phone number id): the Meta media id it was uploaded as.
    #[serde(default)]
    pub meta_ids: BTreeMap<String, MetaMediaId>,
}

pub enum UploadCreated {
    New,
    /// An upload with this id exists (a retried request); nothing was written.
    Exists(Box<MediaUploadRecord>),
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    Ready { sha256: Option<String> },
    Rejected { reason: String },
}

fn expiry(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

impl Store {
    /// Declares an upload; it is forgotten after [`PENDING_UPLOAD_LIFETIME`] unless completed.
    pub async fn create_media_upload(
        &self,
        tenant: &TenantId,
        upload: &MediaUploadRecord,
    ) -> Result<UploadCreated, StoreError> {
        let pk = keys::media_upload_pk(tenant, &upload.id)?;
        let mut item = keyed(upload, "media_upload", pk, keys::MEDIA_UPLOAD_SK.to_owned())?;
        item.insert(
            keys::EXPIRES_AT.to_owned(),
            n(expiry(upload.created_at + PENDING_UPLOAD_LIFETIME)),
        );
        let mut p = Placeholders::default();
        let condition = format!("attribute_not_exists({})", p.name(keys::PK));
        match self
            .put_if("create_media_upload", item, &condition, &p)
            .await?
        {
            Conditional::Written => Ok(UploadCreated::New),
            Conditional::ConditionFailed(Some(old)) => {
                Ok(UploadCreated::Exists(Box::new(from_item(old)?)))
            }
            Conditional::ConditionFailed(None) => Err(StoreError::Contended {
                operation: "create_media_upload",
            }),
        }
    }

    pub async fn get_media_upload(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<MediaUploadRecord>, StoreError> {
        let pk = keys::media_upload_pk(tenant, id)?;
        self.get("get_media_upload", pk, keys::MEDIA_UPLOAD_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    /// Settles a pending upload. A ready file is kept as long as the tenant keeps its data
    /// (`retention_months` from its creation); a rejected one only as long as a pending one.
    /// Returns the upload as it now is: a second completion finds the first outcome.
    pub async fn complete_media_upload(
        &self,
        tenant: &TenantId,
        id: &str,
        outcome: &UploadOutcome,
        retention_months: u16,
        at: OffsetDateTime,
    ) -> Result<Option<MediaUploadRecord>, StoreError> {
        let Some(upload) = self.get_media_upload(tenant, id).await? else {
            return Ok(None);
        };
        let pk = keys::media_upload_pk(tenant, id)?;
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let (state, reason, sha256, expires_at) = match outcome {
            UploadOutcome::Ready { sha256 } => (
                UploadState::Ready,
                None,
                sha256.clone(),
                upload.created_at + time::Duration::days(30 * i64::from(retention_months.max(1))),
            ),
            UploadOutcome::Rejected { reason } => (
                UploadState::Rejected,
                Some(reason.clone()),
                None,
                upload.created_at + PENDING_UPLOAD_LIFETIME,
            ),
        };
        u.set(format!(
            "{} = {}",
            p.name("state"),
            p.value("state", to_value(&state)?)
        ));
        u.set(format!(
            "{} = {}",
            p.name("completed_at"),
            p.value("at", s(timestamp::encode(at)?))
        ));
        u.set(format!(
            "{} = {}",
            p.name(keys::EXPIRES_AT),
            p.value("expires", n(expiry(expires_at)))
        ));
        if let Some(reason) = reason {
            u.set(format!(
                "{} = {}",
                p.name("reason"),
                p.value("reason", s(reason))
            ));
        }
        if let Some(sha256) = sha256 {
            u.set(format!(
                "{} = {}",
                p.name("sha256"),
                p.value("sha256", s(sha256))
            ));
        }
        let condition = format!(
            "attribute_exists({}) AND {} = {}",
            p.name(keys::PK),
            p.name("state"),
            p.value("pending", to_value(&UploadState::Pending)?)
        );
        // Lost to a concurrent completion: its outcome is read back below.
        let _ = self
            .update_if(
                "complete_media_upload",
                pk,
                keys::MEDIA_UPLOAD_SK,
                &u.build(),
                Some(&condition),
                &p,
            )
            .await?;
        self.get_media_upload(tenant, id).await
    }

    /// Remembers the Meta media id a ready upload got for `phone_number_id`.
    pub async fn cache_meta_media_id(
        &self,
        tenant: &TenantId,
        id: &str,
        phone_number_id: &str,
        meta: &MetaMediaId,
    ) -> Result<(), StoreError> {
        let pk = keys::media_upload_pk(tenant, id)?;
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        u.set(format!(
            "{}.{} = {}",
            p.name("meta_ids"),
            p.name_labelled("number", phone_number_id),
            p.value("meta", to_value(meta)?)
        ));
        let condition = format!("attribute_exists({})", p.name(keys::PK));
        self.update_if(
            "cache_meta_media_id",
            pk,
            keys::MEDIA_UPLOAD_SK,
            &u.build(),
            Some(&condition),
            &p,
        )
        .await?;
        Ok(())
    }
}
