//! What became of a message's media: Switchboard's own copy in S3 (Meta deletes its copy after
//! some days), a file that failed its checks and is kept in quarantine, never shown, or media
//! Meta no longer had. Stored on the message, so the message shows it.

use crate::error::StoreError;
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::to_value;
use crate::store::{Conditional, Store};
use serde::{Deserialize, Serialize};
use switchboard_domain::{MessageId, TenantId};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaState {
    /// Kept in S3, checked: agents may see it.
    Stored,
    /// Failed a check (sha256, type, size): kept under `quarantine/`, never shown.
    Quarantined,
    /// Meta no longer had it (deleted, or its id expired).
    Unavailable,
}

/// `media` on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRecord {
    pub state: MediaState,
    /// The S3 key of our copy; none when Meta no longer had the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Lowercase hex SHA-256 of what we stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub mime_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// A stable reason code when the state is not `stored` (`sha256_mismatch`, `too_large`,
    /// `executable`, `type_mismatch`, `media_gone`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub at: OffsetDateTime,
}

impl Store {
    /// Records the media's outcome on the message. A later outcome for the same message (a
    /// redelivered job) overwrites an earlier one only when it is no worse: `stored` is never
    /// replaced. False when the message is gone or already holds stored media.
    pub async fn record_media(
        &self,
        tenant: &TenantId,
        id: &MessageId,
        media: &MediaRecord,
    ) -> Result<bool, StoreError> {
        let Some(pointer) = self.message_pointer(tenant, id).await? else {
            return Ok(false);
        };
        let location = pointer.location(tenant)?;
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let name = p.name("media");
        u.set(format!("{name} = {}", p.value("media", to_value(media)?)));
        let state = p.name("state");
        let condition = format!(
            "attribute_exists({}) AND (attribute_not_exists({name}) OR {name}.{state} <> {})",
            p.name(crate::keys::PK),
            p.value("stored", to_value(&MediaState::Stored)?)
        );
        let written = self
            .update_if(
                "record_media",
                location.pk,
                &location.sk,
                &u.build(),
                Some(&condition),
                &p,
            )
            .await?;
        Ok(matches!(written, Conditional::Written))
    }
}
