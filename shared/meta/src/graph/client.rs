//! The Graph API client.

use super::error::{GraphError, TransportKind};
use super::outbound::{MarkRead, OutboundMessage};
use super::response::{SendAccepted, parse_error, parse_send_accepted};
use reqwest::header::{HeaderMap, RETRY_AFTER, USER_AGENT};
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::Secret;

pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_API_VERSION: &str = "v23.0";
/// Long enough for Meta's slow moments, short enough that a queue worker gives up well within its
/// visibility timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Meta's spec asks clients to identify themselves as `name/version`.
const CLIENT_USER_AGENT: &str = concat!("switchboard/", env!("CARGO_PKG_VERSION"));
/// How much of an unexpected error body is kept for logs.
const EXCERPT_CHARS: usize = 256;

/// Calls the Graph API for any tenant. Cheap to clone: the connection pool is shared.
#[derive(Debug, Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: Arc<str>,
    version: Arc<str>,
    timeout: Duration,
}

impl GraphClient {
    /// `base_url` is `https://graph.facebook.com` in production or the sandbox's address locally;
    /// `version` is the Graph API version such as `v23.0`.
    pub fn new(
        http: reqwest::Client,
        base_url: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        let base_url: String = base_url.into();
        Self {
            http,
            base_url: Arc::from(base_url.trim_end_matches('/')),
            version: Arc::from(version.into().trim_matches('/')),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Limits each call, from connecting until the whole answer is read.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends one message from the business number `phone_number_id`.
    pub async fn send_message(
        &self,
        token: &Secret,
        phone_number_id: &str,
        message: &OutboundMessage,
    ) -> Result<SendAccepted, GraphError> {
        self.send_tagged(token, phone_number_id, message, None)
            .await
    }

    /// [`send_message`](Self::send_message) with `biz_opaque_callback_data`: Meta echoes it
    /// in every status webhook of the message, so a send whose answer was lost can still be
    /// matched to our record.
    pub async fn send_tagged(
        &self,
        token: &Secret,
        phone_number_id: &str,
        message: &OutboundMessage,
        callback_data: Option<&str>,
    ) -> Result<SendAccepted, GraphError> {
        let mut request = serde_json::to_value(message)
            .map_err(|_| GraphError::InvalidRequest("the message cannot be encoded"))?;
        if let (Some(data), Some(fields)) = (callback_data, request.as_object_mut()) {
            fields.insert("biz_opaque_callback_data".into(), data.into());
        }
        let (http_status, body) = self
            .post_messages(token, phone_number_id, &request, "send")
            .await?;
        parse_send_accepted(&body).map_err(|reason| GraphError::Decode {
            http_status,
            reason,
        })
    }

    /// Marks a customer's message (and the ones before it) as read, optionally showing "typing…"
    /// until the reply goes out.
    pub async fn mark_read(
        &self,
        token: &Secret,
        phone_number_id: &str,
        read: &MarkRead,
    ) -> Result<(), GraphError> {
        let request = serde_json::to_value(read)
            .map_err(|_| GraphError::InvalidRequest("the read receipt cannot be encoded"))?;
        let (http_status, body) = self
            .post_messages(token, phone_number_id, &request, "mark_read")
            .await?;
        match serde_json::from_slice::<WireSuccess>(&body) {
            Ok(WireSuccess { success: true }) => Ok(()),
            Ok(WireSuccess { success: false }) => Err(GraphError::Decode {
                http_status,
                reason: "`success` is false".to_owned(),
            }),
            Err(e) => Err(GraphError::Decode {
                http_status,
                reason: format!("not the documented shape: {e}"),
            }),
        }
    }

    /// `POST /{phone_number_id}/messages`, shared by sends and read receipts: a non-2xx answer
    /// becomes the Graph error it carries.
    async fn post_messages(
        &self,
        token: &Secret,
        phone_number_id: &str,
        request: &serde_json::Value,
        operation: &'static str,
    ) -> Result<(u16, Vec<u8>), GraphError> {
        let url = self.node_url(phone_number_id, "messages")?;
        if token.is_empty() {
            return Err(GraphError::InvalidRequest("the access token is empty"));
        }
        let (status, headers, body) = self
            .execute(
                self.http
                    .post(url)
                    .bearer_auth(token.expose())
                    .json(request),
            )
            .await?;
        if !status.is_success() {
            let error = api_error(status.as_u16(), &headers, &body, token);
            tracing::debug!(
                phone_number_id,
                operation,
                http_status = status.as_u16(),
                code = error.code(),
                "graph request rejected"
            );
            return Err(error);
        }
        Ok((status.as_u16(), body))
    }

    /// `{base}/{version}/{node}/{edge}`. Node ids are Meta's numeric ids; anything that could
    /// change the path or add a query is refused so a token is never sent to another resource.
    pub(super) fn node_url(&self, node_id: &str, edge: &str) -> Result<String, GraphError> {
        Ok(format!("{}/{edge}", self.node_only_url(node_id)?))
    }

    /// `{base}/{version}/{node}`, with the same check on the node id as [`Self::node_url`].
    pub(super) fn node_only_url(&self, node_id: &str) -> Result<String, GraphError> {
        let well_formed = !node_id.is_empty()
            && node_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !well_formed {
            return Err(GraphError::InvalidRequest(
                "the node id must be a non-empty Graph API id",
            ));
        }
        Ok(format!("{}/{}/{}", self.base_url, self.version, node_id))
    }

    pub(super) async fn execute(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, HeaderMap, Vec<u8>), GraphError> {
        let response = request
            .header(USER_AGENT, CLIENT_USER_AGENT)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport_error)?;
        Ok((status, headers, body.to_vec()))
    }
}

/// The answer to a read receipt: `{"success": true}`.
#[derive(serde::Deserialize)]
struct WireSuccess {
    success: bool,
}

fn transport_error(source: reqwest::Error) -> GraphError {
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

pub(super) fn api_error(
    http_status: u16,
    headers: &HeaderMap,
    body: &[u8],
    token: &Secret,
) -> GraphError {
    let Some(wire) = parse_error(body) else {
        return GraphError::UnexpectedResponse {
            http_status,
            body_excerpt: scrub(&excerpt(body), token),
        };
    };
    GraphError::Api {
        http_status,
        code: wire.code,
        subcode: wire.error_subcode,
        message: scrub(&wire.message, token),
        details: wire
            .error_data
            .and_then(|data| data.details)
            .map(|details| scrub(&details, token)),
        is_transient: wire.is_transient,
        retry_after: retry_after(headers),
        fbtrace_id: wire.fbtrace_id,
    }
}

/// Only the delta-seconds form: Meta does not send HTTP dates here.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(EXCERPT_CHARS)
        .collect()
}

/// Meta's texts do not quote tokens today; errors get logged, so make sure they never will.
fn scrub(text: &str, token: &Secret) -> String {
    if token.is_empty() || !text.contains(token.expose()) {
        text.to_owned()
    } else {
        text.replace(token.expose(), "[REDACTED]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> GraphClient {
        GraphClient::new(reqwest::Client::new(), "http://127.0.0.1:3001/", "/v23.0")
    }

    #[test]
    fn builds_node_urls_and_refuses_ids_that_change_the_path() {
        let c = client();
        assert_eq!(
            c.node_url("106540352242922", "messages").unwrap(),
            "http://127.0.0.1:3001/v23.0/106540352242922/messages"
        );
        for bad in ["", "../me", "1?access_token=x", "1/2", "1#x", "1 2"] {
            assert!(
                matches!(
                    c.node_url(bad, "messages"),
                    Err(GraphError::InvalidRequest(_))
                ),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn error_texts_never_carry_the_token() {
        let token = Secret::new("EAAG-secret-token");
        let body = br#"{"error":{"message":"Bad token EAAG-secret-token","type":"OAuthException","code":190,
            "error_data":{"details":"token EAAG-secret-token expired"}}}"#;
        let error = api_error(401, &HeaderMap::new(), body, &token);
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("EAAG-secret-token"), "{shown}");
        assert_eq!(error.code(), Some(190));

        let unexpected = api_error(
            502,
            &HeaderMap::new(),
            b"<html>EAAG-secret-token</html>",
            &token,
        );
        assert!(!format!("{unexpected:?}").contains("EAAG-secret-token"));
    }

    #[test]
    fn reads_retry_after_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn debug_of_the_client_holds_no_secret() {
        // The token is an argument per call, never a field; Debug shows only addresses.
        let shown = format!("{:?}", client());
        assert!(shown.contains("127.0.0.1:3001"));
    }
}
