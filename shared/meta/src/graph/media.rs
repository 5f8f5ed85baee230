//! Media on the Graph API:
//! - `GET /{media_id}[?phone_number_id=…]` tells a media's download URL, type, hash and size;
//! - the download URL (Meta's, absolute, valid about five minutes) is fetched with the same
//!   bearer token, streamed chunk by chunk;
//! - `POST /{phone_number_id}/media` uploads a file (multipart, streamed) and answers its id;
//! - `DELETE /{media_id}[?phone_number_id=…]` deletes an uploaded one.
//!
//! Downloads and uploads carry up to 100 MB, so they run under their own, longer timeout
//! ([`DEFAULT_DOWNLOAD_TIMEOUT`], or the `_within` variants), never the client's whole-call one.
//! Nothing here logs a token, a download URL or the content.

use super::client::{GraphClient, api_error};
use super::error::{ErrorClass, GraphError, TransportKind};
use super::onboarding::Method;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;
use switchboard_domain::Secret;

/// Limits a whole download or upload, from connecting until the last byte: 100 MB within it
/// needs about 1 MB/s.
pub const DEFAULT_DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

const CLIENT_USER_AGENT: &str = concat!("switchboard/", env!("CARGO_PKG_VERSION"));

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What Meta says about one media.
#[derive(Clone, PartialEq, Eq)]
pub struct MediaInfo {
    pub id: String,
    /// Where to download it, with the same token, for about five minutes. Its query is a
    /// signature: `Debug` leaves it out.
    pub url: String,
    /// As Meta names it, possibly with parameters (`audio/ogg; codecs=opus`).
    pub mime_type: String,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub file_size: u64,
}

impl fmt::Debug for MediaInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaInfo")
            .field("id", &self.id)
            .field("url", &without_query(&self.url))
            .field("mime_type", &self.mime_type)
            .field("sha256", &self.sha256)
            .field("file_size", &self.file_size)
            .finish()
    }
}

/// Scheme, host and path of a URL, for logs.
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or_default()
}

impl GraphError {
    /// Whether the media this call named is gone at Meta (expired, deleted or never there):
    /// HTTP 404, code 100 with subcode 33 ("object does not exist"), or code 131052 ("Media
    /// download error"). Only meaningful on media calls: on other nodes 100/33 means the token
    /// cannot see the object. Always a permanent error; asking again will not bring it back.
    pub fn is_media_gone(&self) -> bool {
        let gone = match self {
            GraphError::Api {
                http_status,
                code,
                subcode,
                ..
            } => *http_status == 404 || (*code == 100 && *subcode == Some(33)) || *code == 131052,
            GraphError::UnexpectedResponse { http_status, .. } => *http_status == 404,
            GraphError::Transport { .. }
            | GraphError::Decode { .. }
            | GraphError::InvalidRequest(_) => false,
        };
        // A 404 whose code says Meta is having trouble is not an answer about the media.
        gone && self.class() == ErrorClass::Permanent
    }
}

/// A download that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaDownloadError {
    /// 404 or 410 from the download host: the URL (valid about five minutes) has expired. Ask
    /// [`GraphClient::media_info`] for a fresh one.
    #[error("the media URL has expired")]
    Expired,
    /// 401 or 403: the token cannot read this media.
    #[error("the token may not download this media")]
    Unauthorized,
    /// Any other non-success status.
    #[error("the media host answered HTTP {0}")]
    Status(u16),
    /// The connection failed, broke or timed out before the last byte.
    #[error("media download failed: {0}")]
    Transport(String),
    /// The call was refused before sending.
    #[error("invalid media download: {0}")]
    InvalidRequest(&'static str),
}

impl MediaDownloadError {
    /// Whether the same download may succeed if repeated (with the same URL, while it lives).
    /// An expired URL is not: it needs a new one first.
    pub fn is_retryable(&self) -> bool {
        match self {
            MediaDownloadError::Transport(_) => true,
            MediaDownloadError::Status(status) => {
                *status >= 500 || *status == 429 || *status == 408
            }
            MediaDownloadError::Expired
            | MediaDownloadError::Unauthorized
            | MediaDownloadError::InvalidRequest(_) => false,
        }
    }
}

/// A download under way: the status was a success; the body comes chunk by chunk.
pub struct MediaDownload {
    response: reqwest::Response,
    received: u64,
}

impl MediaDownload {
    /// The `Content-Length` the host announced.
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The `Content-Type` the host sent.
    pub fn content_type(&self) -> Option<&str> {
        self.response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
    }

    /// Bytes handed out so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The next piece of the body, `None` at its end. Nothing is buffered beyond one chunk.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, MediaDownloadError> {
        let chunk = self.response.chunk().await.map_err(download_transport)?;
        if let Some(chunk) = &chunk {
            self.received = self.received.saturating_add(chunk.len() as u64);
        }
        Ok(chunk)
    }
}

impl fmt::Debug for MediaDownload {
    /// Not the response's: it shows the URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaDownload")
            .field("status", &self.response.status().as_u16())
            .field("content_length", &self.content_length())
            .field("content_type", &self.content_type())
            .field("received", &self.received)
            .finish()
    }
}

/// A file to upload: its type, its name and its bytes, streamed.
#[derive(Debug)]
pub struct MediaUpload {
    /// The `type` field and the file part's `Content-Type`, e.g. `image/jpeg`.
    pub mime_type: String,
    pub filename: String,
    /// The exact number of bytes the body yields; a body that yields another number fails
    /// the upload rather than send Meta a cut file.
    pub length: u64,
    body: reqwest::Body,
}

impl MediaUpload {
    /// Streams the body from `stream` (e.g. an S3 object), which must yield exactly `length`
    /// bytes.
    pub fn from_stream<S, E>(
        mime_type: impl Into<String>,
        filename: impl Into<String>,
        length: u64,
        stream: S,
    ) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        Self {
            mime_type: mime_type.into(),
            filename: filename.into(),
            length,
            body: reqwest::Body::wrap_stream(exactly(length, stream)),
        }
    }

    /// A body already in memory.
    pub fn from_bytes(
        mime_type: impl Into<String>,
        filename: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        let bytes: Bytes = bytes.into();
        Self {
            mime_type: mime_type.into(),
            filename: filename.into(),
            length: bytes.len() as u64,
            body: reqwest::Body::from(bytes),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the upload body yielded {seen} bytes or more where {length} were announced")]
struct LengthMismatch {
    seen: u64,
    length: u64,
}

/// `stream`, failing when it yields more or fewer than `length` bytes.
fn exactly<S, E>(length: u64, stream: S) -> impl Stream<Item = Result<Bytes, BoxError>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    let state = (Box::pin(stream), 0u64, false);
    futures::stream::unfold(state, move |(mut stream, seen, done)| async move {
        if done {
            return None;
        }
        let item: Result<Bytes, BoxError> = match stream.next().await {
            Some(Ok(chunk)) => {
                let seen = seen.saturating_add(chunk.len() as u64);
                if seen > length {
                    Err(LengthMismatch { seen, length }.into())
                } else {
                    return Some((Ok(chunk), (stream, seen, false)));
                }
            }
            Some(Err(e)) => Err(e.into()),
            None if seen != length => Err(LengthMismatch { seen, length }.into()),
            None => return None,
        };
        Some((item, (stream, seen, true)))
    })
}

#[derive(Deserialize)]
struct WireMediaInfo {
    #[serde(default)]
    id: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    mime_type: String,
    #[serde(default)]
    sha256: String,
    file_size: Option<WireSize>,
}

/// Meta documents `file_size` as a string of digits; a number is taken too.
#[derive(Deserialize)]
#[serde(untagged)]
enum WireSize {
    Number(u64),
    Text(String),
}

#[derive(Deserialize)]
struct WireUploaded {
    #[serde(default)]
    id: String,
}

#[derive(Deserialize)]
struct WireSuccess {
    #[serde(default)]
    success: bool,
}

fn decode(reason: &str) -> GraphError {
    GraphError::Decode {
        http_status: 200,
        reason: reason.to_owned(),
    }
}

pub(super) fn parse_media_info(body: &[u8]) -> Result<MediaInfo, GraphError> {
    let wire: WireMediaInfo = serde_json::from_slice(body)
        .map_err(|_| decode("the media answer is not JSON of the documented shape"))?;
    let file_size = match wire.file_size {
        Some(WireSize::Number(n)) => n,
        Some(WireSize::Text(text)) => text
            .trim()
            .parse()
            .map_err(|_| decode("file_size is not a number"))?,
        None => return Err(decode("missing file_size")),
    };
    for (value, missing) in [
        (&wire.id, "missing id"),
        (&wire.url, "missing url"),
        (&wire.mime_type, "missing mime_type"),
    ] {
        if value.is_empty() {
            return Err(decode(missing));
        }
    }
    Ok(MediaInfo {
        id: wire.id,
        url: wire.url,
        mime_type: wire.mime_type,
        sha256: wire.sha256,
        file_size,
    })
}

fn is_graph_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl GraphClient {
    /// `{base}/{version}/{media_id}[?phone_number_id=…]`.
    fn media_url(&self, media_id: &str, phone_number_id: Option<&str>) -> Result<Url, GraphError> {
        let mut url = Url::parse(&self.node_only_url(media_id)?)
            .map_err(|_| GraphError::InvalidRequest("the Graph API base URL is not a URL"))?;
        if let Some(phone_number_id) = phone_number_id {
            if !is_graph_id(phone_number_id) {
                return Err(GraphError::InvalidRequest(
                    "the phone number id must be a Graph API id",
                ));
            }
            url.query_pairs_mut()
                .append_pair("phone_number_id", phone_number_id);
        }
        Ok(url)
    }

    /// The media's download URL, type, hash and size:
    /// `GET /{version}/{media_id}[?phone_number_id=…]`. `phone_number_id` restricts the answer
    /// to media of that business number. See [`GraphError::is_media_gone`].
    pub async fn media_info(
        &self,
        token: &Secret,
        media_id: &str,
        phone_number_id: Option<&str>,
    ) -> Result<MediaInfo, GraphError> {
        let url = self.media_url(media_id, phone_number_id)?;
        let body = self
            .call(Method::Get, url, token, None, "media info")
            .await?;
        parse_media_info(&body)
    }

    /// Deletes an uploaded media: `DELETE /{version}/{media_id}[?phone_number_id=…]`.
    pub async fn delete_media(
        &self,
        token: &Secret,
        media_id: &str,
        phone_number_id: Option<&str>,
    ) -> Result<(), GraphError> {
        let url = self.media_url(media_id, phone_number_id)?;
        let body = self
            .call(Method::Delete, url, token, None, "delete media")
            .await?;
        match serde_json::from_slice::<WireSuccess>(&body) {
            Ok(WireSuccess { success: true }) => Ok(()),
            _ => Err(decode("the answer is not {\"success\": true}")),
        }
    }

    /// Starts downloading `url` (a [`MediaInfo::url`]) under [`DEFAULT_DOWNLOAD_TIMEOUT`].
    pub async fn download_media(
        &self,
        token: &Secret,
        url: &str,
    ) -> Result<MediaDownload, MediaDownloadError> {
        self.download_media_within(token, url, DEFAULT_DOWNLOAD_TIMEOUT)
            .await
    }

    /// Starts downloading `url` with the bearer token; `timeout` bounds the whole download,
    /// the last chunk included. Only http(s) URLs without credentials are fetched, and plain
    /// http only when the client's own base URL is (a local sandbox): the token goes along.
    pub async fn download_media_within(
        &self,
        token: &Secret,
        url: &str,
        timeout: Duration,
    ) -> Result<MediaDownload, MediaDownloadError> {
        if token.is_empty() {
            return Err(MediaDownloadError::InvalidRequest(
                "the access token is empty",
            ));
        }
        let url = self.download_url(url)?;
        let response = self
            .http()
            .get(url)
            .bearer_auth(token.expose())
            .header(USER_AGENT, CLIENT_USER_AGENT)
            .timeout(timeout)
            .send()
            .await
            .map_err(download_transport)?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            tracing::debug!(http_status = status, "media download refused");
            return Err(match status {
                404 | 410 => MediaDownloadError::Expired,
                401 | 403 => MediaDownloadError::Unauthorized,
                other => MediaDownloadError::Status(other),
            });
        }
        Ok(MediaDownload {
            response,
            received: 0,
        })
    }

    fn download_url(&self, url: &str) -> Result<Url, MediaDownloadError> {
        let invalid = MediaDownloadError::InvalidRequest;
        let url = Url::parse(url).map_err(|_| invalid("the media URL is not a URL"))?;
        let plain_http_allowed = self.base_url().starts_with("http://");
        match url.scheme() {
            "https" => {}
            "http" if plain_http_allowed => {}
            _ => return Err(invalid("the media URL must be https")),
        }
        if !url.username().is_empty() || url.password().is_some() || url.host().is_none() {
            return Err(invalid("the media URL must name a host and no credentials"));
        }
        Ok(url)
    }

    /// Uploads a file for the business number under [`DEFAULT_DOWNLOAD_TIMEOUT`] and answers
    /// Meta's media id.
    pub async fn upload_media(
        &self,
        token: &Secret,
        phone_number_id: &str,
        upload: MediaUpload,
    ) -> Result<String, GraphError> {
        self.upload_media_within(token, phone_number_id, upload, DEFAULT_DOWNLOAD_TIMEOUT)
            .await
    }

    /// `POST /{version}/{phone_number_id}/media`, multipart: `messaging_product=whatsapp`,
    /// `type=<mime>` and `file` (name, type, bytes streamed); `timeout` bounds the whole call.
    pub async fn upload_media_within(
        &self,
        token: &Secret,
        phone_number_id: &str,
        upload: MediaUpload,
        timeout: Duration,
    ) -> Result<String, GraphError> {
        let url = self.node_url(phone_number_id, "media")?;
        if token.is_empty() {
            return Err(GraphError::InvalidRequest("the access token is empty"));
        }
        let MediaUpload {
            mime_type,
            filename,
            length,
            body,
        } = upload;
        if filename.is_empty() || filename.chars().any(char::is_control) {
            return Err(GraphError::InvalidRequest(
                "the file name is empty or holds control characters",
            ));
        }
        let file = Part::stream_with_length(body, length)
            .file_name(filename)
            .mime_str(&mime_type)
            .map_err(|_| GraphError::InvalidRequest("the media type is not a MIME type"))?;
        let form = Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime_type)
            .part("file", file);
        let response = self
            .http()
            .post(url)
            .bearer_auth(token.expose())
            .header(USER_AGENT, CLIENT_USER_AGENT)
            .multipart(form)
            .timeout(timeout)
            .send()
            .await
            .map_err(graph_transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(graph_transport)?;
        if !status.is_success() {
            let error = api_error(status.as_u16(), &headers, &body, token);
            tracing::debug!(
                phone_number_id,
                http_status = status.as_u16(),
                code = error.code(),
                "graph media upload rejected"
            );
            return Err(error);
        }
        let wire: WireUploaded = serde_json::from_slice(&body)
            .map_err(|_| decode("the upload answer is not JSON of the documented shape"))?;
        if wire.id.is_empty() {
            return Err(decode("missing id"));
        }
        Ok(wire.id)
    }
}

fn graph_transport(source: reqwest::Error) -> GraphError {
    let kind = if source.is_builder() {
        TransportKind::Request
    } else if source.is_timeout() {
        TransportKind::Timeout
    } else if source.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Other
    };
    GraphError::Transport { kind, source }
}

/// The error and its causes, without the URL (its query is a signature).
fn download_transport(source: reqwest::Error) -> MediaDownloadError {
    let what = if source.is_timeout() {
        "timeout"
    } else if source.is_connect() {
        "connect"
    } else if source.is_body() || source.is_decode() {
        "body"
    } else {
        "request"
    };
    let source = source.without_url();
    let mut text = format!("{what}: {source}");
    let mut cause = std::error::Error::source(&source);
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    MediaDownloadError::Transport(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(http_status: u16, code: i64, subcode: Option<i64>) -> GraphError {
        GraphError::Api {
            http_status,
            code,
            subcode,
            message: "(#100) test".to_owned(),
            details: None,
            is_transient: None,
            retry_after: None,
            fbtrace_id: None,
        }
    }

    #[test]
    fn reads_metas_media_answer() {
        let body = br#"{"messaging_product":"whatsapp",
            "url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=SIG",
            "mime_type":"image/jpeg","sha256":"de18cc16e3b4e1f6c4b5b6e1b1d9ae","file_size":"303833",
            "id":"1037543291543636"}"#;
        let info = parse_media_info(body).unwrap();
        assert_eq!(info.file_size, 303_833);
        assert_eq!(info.id, "1037543291543636");
        assert_eq!(info.mime_type, "image/jpeg");
        let shown = format!("{info:?}");
        assert!(!shown.contains("SIG"), "{shown}");
        assert!(shown.contains("lookaside.fbsbx.com/whatsapp_business/attachments/"));

        let number = br#"{"url":"https://x/y","mime_type":"audio/ogg; codecs=opus","sha256":"ab",
            "file_size":7,"id":"9"}"#;
        assert_eq!(parse_media_info(number).unwrap().file_size, 7);
        for bad in [
            &br#"{"url":"https://x/y","mime_type":"a/b","sha256":"ab","id":"9"}"#[..],
            br#"{"url":"https://x/y","mime_type":"a/b","sha256":"ab","file_size":"-1","id":"9"}"#,
            br#"{"url":"","mime_type":"a/b","sha256":"ab","file_size":"1","id":"9"}"#,
            b"<html>",
        ] {
            assert!(
                matches!(parse_media_info(bad), Err(GraphError::Decode { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn recognises_media_gone() {
        assert!(api(400, 100, Some(33)).is_media_gone());
        assert!(api(400, 131052, None).is_media_gone());
        assert!(api(404, 987_654, None).is_media_gone());
        let proxy_404 = GraphError::UnexpectedResponse {
            http_status: 404,
            body_excerpt: "<html>".into(),
        };
        assert!(proxy_404.is_media_gone());
        for gone in [api(400, 100, Some(33)), api(400, 131052, None), proxy_404] {
            assert_eq!(gone.class(), ErrorClass::Permanent);
        }
        assert!(!api(400, 100, None).is_media_gone());
        assert!(!api(400, 100, Some(2388024)).is_media_gone());
        assert!(!api(500, 131000, None).is_media_gone());
        // Meta-side trouble answered with a 404 is not about the media.
        assert!(!api(404, 2, None).is_media_gone());
        assert!(!decode("x").is_media_gone());
    }

    #[test]
    fn download_errors_say_whether_to_retry() {
        assert!(MediaDownloadError::Transport("timeout".into()).is_retryable());
        assert!(MediaDownloadError::Status(503).is_retryable());
        assert!(MediaDownloadError::Status(429).is_retryable());
        assert!(!MediaDownloadError::Status(400).is_retryable());
        assert!(!MediaDownloadError::Expired.is_retryable());
        assert!(!MediaDownloadError::Unauthorized.is_retryable());
    }

    #[test]
    fn refuses_download_urls_that_would_leak_the_token() {
        let production = GraphClient::new(
            reqwest::Client::new(),
            "https://graph.facebook.com",
            "v23.0",
        );
        let ok = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1";
        assert!(production.download_url(ok).is_ok());
        for bad in [
            "http://lookaside.fbsbx.com/a",
            "file:///etc/passwd",
            "https://user:pw@lookaside.fbsbx.com/a",
            "/relative",
            "",
        ] {
            assert!(
                matches!(
                    production.download_url(bad),
                    Err(MediaDownloadError::InvalidRequest(_))
                ),
                "{bad:?} accepted"
            );
        }
        let sandbox = GraphClient::new(reqwest::Client::new(), "http://127.0.0.1:3001", "v23.0");
        assert!(sandbox.download_url("http://127.0.0.1:3001/m/1").is_ok());
    }

    #[test]
    fn refuses_ids_that_change_the_path() {
        let c = GraphClient::new(reqwest::Client::new(), "http://127.0.0.1:3001", "v23.0");
        assert_eq!(
            c.media_url("1037543291543636", Some("106540352242922"))
                .unwrap()
                .as_str(),
            "http://127.0.0.1:3001/v23.0/1037543291543636?phone_number_id=106540352242922"
        );
        assert!(c.media_url("1/2", None).is_err());
        assert!(c.media_url("1", Some("2&access_token=x")).is_err());
    }
}
