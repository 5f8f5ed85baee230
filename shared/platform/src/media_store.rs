//! Media files (what customers send and what tenants upload) in S3, streamed through in
//! bounded memory.
//!
//! Object keys are the caller's: they are tenant-first (`media/{tenant}/…`) so a tenant's
//! objects share a prefix that IAM policies, lifecycle rules and deletion can target. This
//! module adds no layout of its own.
//!
//! Every object this module writes (PutObject, CreateMultipartUpload, CopyObject, and the
//! presigned POST's policy) is encrypted with SSE-KMS, under the store's key when one is
//! given, else under the bucket's AWS-managed `aws/s3` key.
//!
//! - [`MediaStore::begin`] streams an upload of unknown length: small files take one
//!   PutObject, larger ones a multipart upload of [`PART_BYTES`] parts, and either way the
//!   SHA-256, the length and the first [`SNIFF_BYTES`] bytes are computed on the way.
//! - [`MediaStore::presigned_get`] and [`MediaStore::presigned_post`] hand short-lived URLs to
//!   a browser or to Meta, so media never has to pass through a Lambda.

mod presigned_post;

pub use presigned_post::{MAX_PRESIGNED_POST, PresignedPost};

use aws_sdk_s3::config::{Credentials, ProvideCredentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, ServerSideEncryption,
};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::time::Duration;
use time::OffsetDateTime;

/// The size of every multipart part but the last (S3's minimum is 5 MiB). Also the most a
/// [`StreamingUpload`] buffers.
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// How many leading bytes a [`StoredObject`] keeps, for sniffing the real file type.
pub const SNIFF_BYTES: usize = 512;
/// The longest a presigned GET may stay valid.
pub const MAX_PRESIGNED_GET: Duration = Duration::from_secs(300);
/// S3's limit on the parts of one multipart upload.
const MAX_PARTS: usize = 10_000;
/// The longest download name kept, in characters.
const MAX_FILENAME_CHARS: usize = 150;

#[derive(Debug, thiserror::Error)]
pub enum MediaStoreError {
    /// An S3 call failed. `reason` is the SDK's error chain, never the object's content.
    #[error("s3 {op} {key} failed: {reason}")]
    S3 {
        op: &'static str,
        key: String,
        reason: String,
    },
    /// The upload went past its `max_bytes`; it has been aborted and nothing is stored.
    #[error("upload is larger than its limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The upload was aborted earlier (too large, or an S3 failure); it takes no more writes.
    #[error("{op} {key}: the upload was already aborted")]
    Aborted { op: &'static str, key: String },
    /// A presigned URL was asked to live longer than this module allows.
    #[error("{op} {key}: expiry of {requested_secs}s is over the {max_secs}s allowed")]
    ExpiryTooLong {
        op: &'static str,
        key: String,
        requested_secs: u64,
        max_secs: u64,
    },
    /// The arguments cannot make a valid request (e.g. `min_bytes > max_bytes`).
    #[error("{op} {key}: {reason}")]
    Invalid {
        op: &'static str,
        key: String,
        reason: String,
    },
    /// The client's credentials provider gave no credentials.
    #[error("{op}: no credentials: {reason}")]
    Credentials { op: &'static str, reason: String },
}

/// An S3 bucket of media objects. Cheap to clone (the client is reference-counted).
#[derive(Debug, Clone)]
pub struct MediaStore {
    s3: aws_sdk_s3::Client,
    bucket: String,
    kms_key_id: Option<String>,
}

/// An object written by [`StreamingUpload::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    /// SHA-256 of the whole object, computed while it streamed.
    pub sha256: [u8; 32],
    /// The first `min(size, SNIFF_BYTES)` bytes.
    pub head: Vec<u8>,
}

impl StoredObject {
    /// 64 lowercase hex digits.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// Standard base64 with padding, as S3's `x-amz-checksum-sha256` carries it.
    pub fn sha256_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.sha256)
    }
}

/// What HeadObject says of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    pub size: u64,
    pub content_type: Option<String>,
}

/// An object opened for streaming, e.g. into another HTTP upload. The body is read lazily
/// from S3; nothing is buffered beyond what the SDK's HTTP client holds.
#[derive(Debug)]
pub struct ObjectReader {
    pub body: ByteStream,
    pub content_length: u64,
    pub content_type: Option<String>,
}

impl ObjectReader {
    pub fn into_body(self) -> ByteStream {
        self.body
    }

    /// The body as a stream of chunks, read as they are consumed (e.g. by an upload to Meta).
    pub fn into_stream(
        self,
    ) -> impl futures::Stream<Item = Result<bytes::Bytes, aws_sdk_s3::primitives::ByteStreamError>>
    + Send
    + 'static {
        futures::stream::unfold(self.body, |mut body| async move {
            body.try_next().await.transpose().map(|chunk| (chunk, body))
        })
    }
}

impl MediaStore {
    /// `kms_key_id` (a key ID, ARN or alias) is the SSE-KMS key of every object written;
    /// `None` uses the account's AWS-managed `aws/s3` key.
    pub fn new(
        s3: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        kms_key_id: Option<String>,
    ) -> Self {
        Self {
            s3,
            bucket: bucket.into(),
            kms_key_id,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Starts a streaming upload to `key`; nothing is sent to S3 until the first full part or
    /// [`StreamingUpload::finish`].
    ///
    /// Peak memory stays about one part ([`PART_BYTES`], 8 MiB) plus the chunk being written,
    /// whatever the file's size: each full part is uploaded, and its buffer released, before
    /// more is buffered. Writing more than `max_bytes` in total fails with
    /// [`MediaStoreError::TooLarge`] and aborts the upload.
    pub fn begin(
        &self,
        key: impl Into<String>,
        content_type: impl Into<String>,
        max_bytes: u64,
    ) -> StreamingUpload {
        StreamingUpload {
            s3: self.s3.clone(),
            bucket: self.bucket.clone(),
            kms_key_id: self.kms_key_id.clone(),
            key: key.into(),
            content_type: content_type.into(),
            max_bytes,
            buffer: Vec::new(),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            multipart: None,
            aborted: false,
        }
    }

    /// Moves an object (CopyObject, re-encrypted with SSE-KMS, then DeleteObject), e.g. a file
    /// that failed its checks into `quarantine/`. CopyObject handles objects up to 5 GiB. If the
    /// delete fails the object exists under both keys and the error says so.
    pub async fn move_object(&self, from_key: &str, to_key: &str) -> Result<(), MediaStoreError> {
        self.s3
            .copy_object()
            .bucket(&self.bucket)
            .key(to_key)
            .copy_source(format!("{}/{}", self.bucket, encode_key(from_key)))
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .set_ssekms_key_id(self.kms_key_id.clone())
            .send()
            .await
            .map_err(|e| s3_error("copy", from_key, e))?;
        self.delete_with_op("delete_after_copy", from_key).await
    }

    /// The object's size and content type; `None` when S3 answers 404. (A role without
    /// `s3:ListBucket` gets 403 for a missing key, which is an error here.)
    pub async fn head(&self, key: &str) -> Result<Option<ObjectHead>, MediaStoreError> {
        match self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectHead {
                size: length(out.content_length()),
                content_type: out.content_type().map(str::to_owned),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(s3_error("head", key, e)),
        }
    }

    /// The first `n` bytes of an object (fewer if it is shorter), by a ranged GET.
    pub async fn read_head_bytes(&self, key: &str, n: usize) -> Result<Vec<u8>, MediaStoreError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let out = match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", n - 1))
            .send()
            .await
        {
            Ok(out) => out,
            // S3 answers 416 to any range of an empty object.
            Err(e)
                if e.as_service_error()
                    .and_then(|s| s.code())
                    .is_some_and(|c| c == "InvalidRange") =>
            {
                return Ok(Vec::new());
            }
            Err(e) => return Err(s3_error("get_range", key, e)),
        };
        let mut bytes = out
            .body
            .collect()
            .await
            .map_err(|e| s3_error("read_range", key, e))?
            .into_bytes()
            .to_vec();
        bytes.truncate(n);
        Ok(bytes)
    }

    /// Opens an object for streaming; its length comes from the GetObject response.
    pub async fn open(&self, key: &str) -> Result<ObjectReader, MediaStoreError> {
        let out = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3_error("get", key, e))?;
        Ok(ObjectReader {
            content_length: length(out.content_length()),
            content_type: out.content_type().map(str::to_owned),
            body: out.body,
        })
    }

    /// Deletes an object; deleting a missing key succeeds, as in S3.
    pub async fn delete(&self, key: &str) -> Result<(), MediaStoreError> {
        self.delete_with_op("delete", key).await
    }

    async fn delete_with_op(&self, op: &'static str, key: &str) -> Result<(), MediaStoreError> {
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3_error(op, key, e))?;
        Ok(())
    }

    /// A presigned GET URL valid for `expires_in` (at most [`MAX_PRESIGNED_GET`], 300 s).
    /// `download_name` makes the response `Content-Disposition: attachment` with that name,
    /// sanitized (no path, no control characters) and encoded per RFC 6266 / RFC 5987;
    /// `content_type` overrides the response's `Content-Type`. Signed with the client's own
    /// credentials, so the URL lives no longer than they do.
    pub async fn presigned_get(
        &self,
        key: &str,
        expires_in: Duration,
        download_name: Option<&str>,
        content_type: Option<&str>,
    ) -> Result<String, MediaStoreError> {
        const OP: &str = "presign_get";
        if expires_in > MAX_PRESIGNED_GET {
            return Err(MediaStoreError::ExpiryTooLong {
                op: OP,
                key: key.to_owned(),
                requested_secs: expires_in.as_secs(),
                max_secs: MAX_PRESIGNED_GET.as_secs(),
            });
        }
        let config =
            PresigningConfig::expires_in(expires_in).map_err(|e| MediaStoreError::Invalid {
                op: OP,
                key: key.to_owned(),
                reason: e.to_string(),
            })?;
        let request = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_response_content_disposition(download_name.map(content_disposition))
            .set_response_content_type(content_type.map(str::to_owned))
            .presigned(config)
            .await
            .map_err(|e| s3_error(OP, key, e))?;
        Ok(request.uri().to_owned())
    }

    /// A presigned POST (an HTML form upload) of exactly `key`, with exactly `content_type`,
    /// of `min_bytes..=max_bytes` bytes, SSE-KMS encrypted, valid for `expires_in` (at most
    /// [`MAX_PRESIGNED_POST`], 900 s) from `now`.
    ///
    /// The caller passes the `credentials` and `region` to sign with (a test can then check
    /// the signature): [`sdk_credentials`] resolves them from the `SdkConfig` the client was
    /// built from, and [`MediaStore::client_region`] gives the client's region. (The S3
    /// client's own config no longer exposes its credentials provider.) The policy must not outlive temporary credentials: the form is
    /// refused once they expire. The URL is the one this client addresses the bucket at:
    /// `{endpoint}/{bucket}` path-style against a custom endpoint (moto), else
    /// `https://{bucket}.s3.{region}.amazonaws.com/`.
    #[allow(clippy::too_many_arguments)]
    pub async fn presigned_post(
        &self,
        key: &str,
        content_type: &str,
        min_bytes: u64,
        max_bytes: u64,
        expires_in: Duration,
        credentials: &Credentials,
        region: &str,
        now: OffsetDateTime,
    ) -> Result<PresignedPost, MediaStoreError> {
        let form = presigned_post::PostForm {
            bucket: &self.bucket,
            key,
            content_type,
            min_bytes,
            max_bytes,
            kms_key_id: self.kms_key_id.as_deref(),
            expires_in,
        }
        .sign(credentials, region, now)?;
        let url = self.bucket_url(key, credentials, region).await?;
        Ok(PresignedPost {
            url,
            fields: form.fields,
        })
    }

    /// The client's region, if it has one.
    pub fn client_region(&self) -> Option<String> {
        self.s3.config().region().map(|r| r.as_ref().to_owned())
    }

    /// The URL the client addresses this bucket at, found by presigning (locally, nothing is
    /// sent) a GetObject of a probe key and cutting the key off, so that the custom endpoint,
    /// path-style, FIPS and dual-stack settings all apply as they do to the SDK's own calls.
    async fn bucket_url(
        &self,
        key: &str,
        credentials: &Credentials,
        region: &str,
    ) -> Result<String, MediaStoreError> {
        const OP: &str = "presign_post";
        const PROBE: &str = "k";
        let invalid = |reason: String| MediaStoreError::Invalid {
            op: OP,
            key: key.to_owned(),
            reason,
        };
        let config = PresigningConfig::expires_in(Duration::from_secs(60))
            .map_err(|e| invalid(e.to_string()))?;
        let probe = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(PROBE)
            .customize()
            .config_override(
                aws_sdk_s3::config::Builder::default()
                    .credentials_provider(credentials.clone())
                    .region(Region::new(region.to_owned())),
            )
            .presigned(config)
            .await
            .map_err(|e| s3_error(OP, key, e))?;
        let uri = probe.uri();
        let base = uri.split('?').next().unwrap_or(uri);
        let base = base
            .strip_suffix(PROBE)
            .ok_or_else(|| invalid(format!("unexpected bucket URL {base}")))?;
        let path_start = base
            .find("://")
            .map(|i| i + 3)
            .and_then(|host| base[host..].find('/').map(|p| host + p));
        Ok(match path_start {
            // Path-style: `http://127.0.0.1:4566/bucket/` becomes `…/bucket`.
            Some(p) if base.len() > p + 1 => base.trim_end_matches('/').to_owned(),
            _ => base.to_owned(),
        })
    }
}

/// The credentials an `SdkConfig` signs with, resolved from its provider (cached by it).
pub async fn sdk_credentials(
    config: &aws_config::SdkConfig,
) -> Result<Credentials, MediaStoreError> {
    const OP: &str = "credentials";
    let provider = config
        .credentials_provider()
        .ok_or_else(|| MediaStoreError::Credentials {
            op: OP,
            reason: "the SDK config has no credentials provider".into(),
        })?;
    provider
        .provide_credentials()
        .await
        .map_err(|e| MediaStoreError::Credentials {
            op: OP,
            reason: DisplayErrorContext(e).to_string(),
        })
}

/// An upload in progress; see [`MediaStore::begin`]. Finish it with
/// [`StreamingUpload::finish`] or drop it with [`StreamingUpload::abort`]: a multipart upload
/// merely dropped stays in S3, billed, until the bucket's `AbortIncompleteMultipartUpload`
/// lifecycle rule removes it.
pub struct StreamingUpload {
    s3: aws_sdk_s3::Client,
    bucket: String,
    kms_key_id: Option<String>,
    key: String,
    content_type: String,
    max_bytes: u64,
    /// At most [`PART_BYTES`], not yet sent.
    buffer: Vec<u8>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    multipart: Option<Multipart>,
    aborted: bool,
}

struct Multipart {
    upload_id: String,
    parts: Vec<CompletedPart>,
}

impl std::fmt::Debug for StreamingUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the content.
        f.debug_struct("StreamingUpload")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("size", &self.size)
            .field("max_bytes", &self.max_bytes)
            .field(
                "parts_uploaded",
                &self.multipart.as_ref().map_or(0, |m| m.parts.len()),
            )
            .field("aborted", &self.aborted)
            .finish_non_exhaustive()
    }
}

impl StreamingUpload {
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a chunk, uploading each part as it fills. A chunk that would take the total
    /// past `max_bytes` is refused whole: the upload is aborted and
    /// [`MediaStoreError::TooLarge`] returned. An S3 failure aborts the upload too.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), MediaStoreError> {
        if self.aborted {
            return Err(self.aborted_error("write"));
        }
        let total = self.size.saturating_add(chunk.len() as u64);
        if total > self.max_bytes {
            let limit = self.max_bytes;
            self.abort_in_place().await;
            return Err(MediaStoreError::TooLarge { limit });
        }
        self.size = total;
        self.hasher.update(chunk);
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        let mut rest = chunk;
        while !rest.is_empty() {
            let take = (PART_BYTES - self.buffer.len()).min(rest.len());
            let (now, later) = rest.split_at(take);
            self.reserve(now.len());
            self.buffer.extend_from_slice(now);
            rest = later;
            if self.buffer.len() == PART_BYTES
                && let Err(e) = self.upload_part().await
            {
                self.abort_in_place().await;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Stores what was written: completes the multipart upload (after sending the last part)
    /// if one was started, else one PutObject of the buffer.
    pub async fn finish(mut self) -> Result<StoredObject, MediaStoreError> {
        if self.aborted {
            return Err(self.aborted_error("finish"));
        }
        if self.multipart.is_none() {
            let body = std::mem::take(&mut self.buffer);
            self.s3
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .content_type(&self.content_type)
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .set_ssekms_key_id(self.kms_key_id.clone())
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| s3_error("put", &self.key, e))?;
        } else {
            if !self.buffer.is_empty()
                && let Err(e) = self.upload_part().await
            {
                self.abort_in_place().await;
                return Err(e);
            }
            if let Err(e) = self.complete().await {
                self.abort_in_place().await;
                return Err(e);
            }
        }
        Ok(StoredObject {
            key: std::mem::take(&mut self.key),
            size: self.size,
            sha256: std::mem::take(&mut self.hasher).finalize().into(),
            head: std::mem::take(&mut self.head),
        })
    }

    /// Abandons the upload, aborting the multipart upload if one was started. Best effort: a
    /// failure to abort is logged, and the bucket's lifecycle rule removes the parts later.
    pub async fn abort(mut self) {
        self.abort_in_place().await;
    }

    fn aborted_error(&self, op: &'static str) -> MediaStoreError {
        MediaStoreError::Aborted {
            op,
            key: self.key.clone(),
        }
    }

    /// Grows the buffer for `more` bytes without ever reserving beyond one part.
    fn reserve(&mut self, more: usize) {
        let needed = self.buffer.len() + more;
        if needed > self.buffer.capacity() {
            let target = needed.max(self.buffer.capacity() * 2).min(PART_BYTES);
            self.buffer.reserve_exact(target - self.buffer.len());
        }
    }

    /// Sends the buffer as the next part, starting the multipart upload first if need be.
    async fn upload_part(&mut self) -> Result<(), MediaStoreError> {
        if self.multipart.is_none() {
            let out = self
                .s3
                .create_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .content_type(&self.content_type)
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .set_ssekms_key_id(self.kms_key_id.clone())
                .checksum_algorithm(ChecksumAlgorithm::Crc32)
                .send()
                .await
                .map_err(|e| s3_error("create_multipart_upload", &self.key, e))?;
            let upload_id = out.upload_id().ok_or_else(|| MediaStoreError::S3 {
                op: "create_multipart_upload",
                key: self.key.clone(),
                reason: "no UploadId in the response".into(),
            })?;
            self.multipart = Some(Multipart {
                upload_id: upload_id.to_owned(),
                parts: Vec::new(),
            });
        }
        let Some(multipart) = self.multipart.as_mut() else {
            return Err(self.aborted_error("upload_part"));
        };
        if multipart.parts.len() >= MAX_PARTS {
            return Err(MediaStoreError::Invalid {
                op: "upload_part",
                key: self.key.clone(),
                reason: format!("more than {MAX_PARTS} parts"),
            });
        }
        // At most MAX_PARTS, so it fits.
        let part_number = i32::try_from(multipart.parts.len() + 1).unwrap_or(i32::MAX);
        // The part's buffer moves into the request (no copy) and is freed once it is sent.
        let body = std::mem::take(&mut self.buffer);
        let out = self
            .s3
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&multipart.upload_id)
            .part_number(part_number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| s3_error("upload_part", &self.key, e))?;
        multipart.parts.push(
            CompletedPart::builder()
                .part_number(part_number)
                .set_e_tag(out.e_tag().map(str::to_owned))
                .set_checksum_crc32(out.checksum_crc32().map(str::to_owned))
                .build(),
        );
        Ok(())
    }

    async fn complete(&mut self) -> Result<(), MediaStoreError> {
        let Some(multipart) = self.multipart.as_ref() else {
            return Err(self.aborted_error("complete_multipart_upload"));
        };
        self.s3
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&multipart.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(multipart.parts.clone()))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| s3_error("complete_multipart_upload", &self.key, e))?;
        self.multipart = None;
        Ok(())
    }

    /// Marks the upload aborted, frees the buffer and aborts the multipart upload, if any.
    async fn abort_in_place(&mut self) {
        self.aborted = true;
        self.buffer = Vec::new();
        let Some(multipart) = self.multipart.take() else {
            return;
        };
        if let Err(e) = self
            .s3
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&multipart.upload_id)
            .send()
            .await
        {
            tracing::warn!(
                bucket = %self.bucket,
                key = %self.key,
                error = %DisplayErrorContext(e),
                "could not abort a multipart upload; the bucket's lifecycle rule will"
            );
        }
    }
}

impl Drop for StreamingUpload {
    fn drop(&mut self) {
        if self.multipart.is_some() {
            tracing::warn!(
                bucket = %self.bucket,
                key = %self.key,
                "multipart upload dropped without finish or abort; the bucket's lifecycle rule removes it"
            );
        }
    }
}

fn length(content_length: Option<i64>) -> u64 {
    content_length
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0)
}

fn s3_error<E>(op: &'static str, key: &str, e: E) -> MediaStoreError
where
    E: std::error::Error + 'static,
{
    MediaStoreError::S3 {
        op,
        key: key.to_owned(),
        reason: DisplayErrorContext(e).to_string(),
    }
}

/// A key as CopyObject's `x-amz-copy-source` wants it: percent-encoded, `/` kept.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266 with the RFC 5987 encoding): an
/// ASCII fallback for old clients and the exact name for the rest.
fn content_disposition(name: &str) -> String {
    let name = sanitize_filename(name);
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        // RFC 5987 attr-char.
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            )
        {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The last path component, without control or format characters, trimmed of spaces and
/// dots, at most [`MAX_FILENAME_CHARS`] characters; `download` if nothing is left.
fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c))
        .take(MAX_FILENAME_CHARS)
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c.is_whitespace() || c == '.');
    if trimmed.is_empty() {
        "download".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Bidirectional overrides and zero-width characters, which can disguise an extension
/// (`invoice\u{202e}fdp.exe`).
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_name_is_sanitized_and_encoded() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("../../etc/passwd"),
            "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"
        );
        assert_eq!(
            content_disposition("C:\\Users\\x\\Factura año.pdf"),
            "attachment; filename=\"Factura a_o.pdf\"; filename*=UTF-8''Factura%20a%C3%B1o.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\r\nc;d%.txt"),
            "attachment; filename=\"a_bc;d_.txt\"; filename*=UTF-8''a%22bc%3Bd%25.txt"
        );
        assert_eq!(
            content_disposition("invoice\u{202e}fdp.exe"),
            "attachment; filename=\"invoicefdp.exe\"; filename*=UTF-8''invoicefdp.exe"
        );
        assert_eq!(
            content_disposition(" .. "),
            "attachment; filename=\"download\"; filename*=UTF-8''download"
        );
        assert_eq!(
            sanitize_filename(&"é".repeat(400)).chars().count(),
            MAX_FILENAME_CHARS
        );
    }

    #[test]
    fn a_copy_source_key_is_percent_encoded_but_keeps_slashes() {
        assert_eq!(
            encode_key("media/acme/2026/11/01ABC"),
            "media/acme/2026/11/01ABC"
        );
        assert_eq!(
            encode_key("quarantine/a b+c?é"),
            "quarantine/a%20b%2Bc%3F%C3%A9"
        );
    }

    #[test]
    fn a_stored_object_prints_its_digest() {
        let object = StoredObject {
            key: "k".into(),
            size: 0,
            sha256: Sha256::digest(b"").into(),
            head: Vec::new(),
        };
        assert_eq!(
            object.sha256_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            object.sha256_base64(),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
