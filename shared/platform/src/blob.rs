//! S3: webhook bodies we could not process are kept whole under `quarantine/` to replay;
//! webhook events too large for a queue message are kept under `events/` while the inbound
//! queue carries a pointer to each (the claim-check pattern).

use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub const QUARANTINE_PREFIX: &str = "quarantine/";
pub const EVENTS_PREFIX: &str = "events/";

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("s3 {op} {key} failed: {reason}")]
    S3 {
        op: &'static str,
        key: String,
        reason: String,
    },
    #[error("s3 object {key} is not a stored event: {reason}")]
    NotStoredEvent { key: String, reason: String },
}

#[derive(Debug, Clone)]
pub struct Quarantine {
    client: aws_sdk_s3::Client,
    bucket: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedBody {
    pub key: String,
    pub body: Vec<u8>,
    pub reason: Option<String>,
}

impl Quarantine {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// Stores the raw body; the key sorts by arrival so an operator can replay in order.
    pub async fn put(
        &self,
        body: &[u8],
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<String, BlobError> {
        let key = format!(
            "{QUARANTINE_PREFIX}{:04}/{:02}/{:02}/{}-{}.json",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.unix_timestamp_nanos() / 1_000_000,
            ulid::Ulid::new().to_string().to_lowercase(),
        );
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .metadata("reason", truncate(reason, 512))
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .map_err(|e| s3_error("put", &key, e))?;
        Ok(key)
    }

    pub async fn list(&self, max: i32) -> Result<Vec<String>, BlobError> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(QUARANTINE_PREFIX)
            .max_keys(max)
            .send()
            .await
            .map_err(|e| s3_error("list", QUARANTINE_PREFIX, e))?;
        Ok(out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect())
    }

    pub async fn get(&self, key: &str) -> Result<QuarantinedBody, BlobError> {
        let (metadata, body) = read_object(&self.client, &self.bucket, key).await?;
        let reason = metadata.and_then(|m| m.get("reason").cloned());
        Ok(QuarantinedBody {
            key: key.to_owned(),
            body,
            reason,
        })
    }

    /// Removes a body once it has been replayed successfully.
    pub async fn remove(&self, key: &str) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3_error("delete", key, e))?;
        Ok(())
    }
}

/// Webhook events too large for a queue message, each stored whole under
/// `events/{sha256 of its bytes}.json`. Named by content, so storing the same event again (a
/// retried delivery) writes the same object. Objects are never deleted by the code: the queue
/// delivers at least once, so the pointer may be read again; the bucket's lifecycle expires
/// them.
#[derive(Debug, Clone)]
pub struct EventStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// What the inbound queue carries in place of an event that does not fit:
/// `{"stored_event": {"s3_key": "events/….json", "bytes": 300123}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredEvent {
    /// The object's key in the data bucket, always under [`EVENTS_PREFIX`].
    pub s3_key: String,
    /// The event's length, checked when it is read back.
    pub bytes: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pointer<T> {
    stored_event: T,
}

impl StoredEvent {
    /// The queue message body.
    pub fn to_queue_body(&self) -> String {
        // A struct of a string and a number always serializes.
        serde_json::to_string(&Pointer { stored_event: self }).unwrap_or_default()
    }

    /// The pointer a queue message body carries, if it is one. Cheap on an event: reading
    /// stops at its first member, which a pointer does not have.
    pub fn from_queue_body(body: &str) -> Option<Self> {
        serde_json::from_str::<Pointer<StoredEvent>>(body)
            .ok()
            .map(|p| p.stored_event)
    }
}

impl EventStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// Stores one serialized event under its SHA-256 (64 lowercase hex digits).
    pub async fn put(&self, sha256_hex: &str, body: &[u8]) -> Result<StoredEvent, BlobError> {
        let key = format!("{EVENTS_PREFIX}{sha256_hex}.json");
        if sha256_hex.len() != 64
            || !sha256_hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(BlobError::NotStoredEvent {
                key,
                reason: "not named by a lowercase hex SHA-256".into(),
            });
        }
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .map_err(|e| s3_error("put", &key, e))?;
        Ok(StoredEvent {
            s3_key: key,
            bytes: body.len() as u64,
        })
    }

    /// Reads a stored event back; refuses keys outside `events/` and bodies of another length.
    pub async fn get(&self, stored: &StoredEvent) -> Result<Vec<u8>, BlobError> {
        let key = &stored.s3_key;
        if !key.starts_with(EVENTS_PREFIX) {
            return Err(BlobError::NotStoredEvent {
                key: key.clone(),
                reason: format!("outside {EVENTS_PREFIX}"),
            });
        }
        let (_, body) = read_object(&self.client, &self.bucket, key).await?;
        if body.len() as u64 != stored.bytes {
            return Err(BlobError::NotStoredEvent {
                key: key.clone(),
                reason: format!("{} bytes, the pointer says {}", body.len(), stored.bytes),
            });
        }
        Ok(body)
    }
}

impl Quarantine {
    /// Whether a body is stored under `key`, by listing `key` as a prefix: what a role
    /// allowed `s3:ListBucket` only under `quarantine/` may ask. (Without an unconditioned
    /// ListBucket, S3 answers a GetObject of a missing key 403, not 404.)
    pub async fn contains(&self, key: &str) -> Result<bool, BlobError> {
        if !key.starts_with(QUARANTINE_PREFIX) {
            return Ok(false);
        }
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(key)
            .max_keys(1)
            .send()
            .await
            .map_err(|e| s3_error("list", key, e))?;
        Ok(out.contents().iter().any(|o| o.key() == Some(key)))
    }
}

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    // S3 metadata must be ASCII.
    s[..end]
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// An object's user metadata and whole body.
async fn read_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<(Option<std::collections::HashMap<String, String>>, Vec<u8>), BlobError> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| s3_error("get", key, e))?;
    let metadata = out.metadata().cloned();
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| s3_error("read", key, e))?
        .into_bytes()
        .to_vec();
    Ok((metadata, body))
}

fn s3_error<E>(op: &'static str, key: &str, e: E) -> BlobError
where
    E: std::error::Error + 'static,
{
    BlobError::S3 {
        op,
        key: key.to_owned(),
        reason: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pointer_reads_back_and_an_event_is_not_one() {
        let stored = StoredEvent {
            s3_key: format!("{EVENTS_PREFIX}{}.json", "a".repeat(64)),
            bytes: 300_123,
        };
        let body = stored.to_queue_body();
        assert_eq!(
            body,
            format!(
                r#"{{"stored_event":{{"s3_key":"events/{}.json","bytes":300123}}}}"#,
                "a".repeat(64)
            )
        );
        assert_eq!(StoredEvent::from_queue_body(&body), Some(stored));

        let event = r#"{"key":"message:wamid.1","waba_id":"1","field":"messages","phone_number_id":null,"display_phone_number":null,"payload":{"other":{"value":{"stored_event":1}}}}"#;
        assert_eq!(StoredEvent::from_queue_body(event), None);
        // Anything more than a pointer is not a pointer.
        assert_eq!(
            StoredEvent::from_queue_body(
                r#"{"stored_event":{"s3_key":"events/x","bytes":1},"key":"k"}"#
            ),
            None
        );
        assert_eq!(StoredEvent::from_queue_body("not json"), None);
    }
}
