//! S3: webhook bodies we could not process are kept whole under `quarantine/` to replay.

use aws_sdk_s3::primitives::ByteStream;
use time::OffsetDateTime;

pub const QUARANTINE_PREFIX: &str = "quarantine/";

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("s3 {op} {key} failed: {reason}")]
    S3 {
        op: &'static str,
        key: String,
        reason: String,
    },
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
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3_error("get", key, e))?;
        let reason = out.metadata().and_then(|m| m.get("reason").cloned());
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| s3_error("read", key, e))?
            .into_bytes()
            .to_vec();
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
