//! Media on the Cloud API, answered like Meta:
//! - `GET /{version}/{media_id}?phone_number_id=` — a short-lived download URL (dispatched from
//!   `onboarding::phone_number` when the node is a media id);
//! - `DELETE /{version}/{media_id}?phone_number_id=`;
//! - `GET /sandbox/media-download/{token}` — the download itself (Meta's lookaside), bearer
//!   token required;
//! - `POST /{version}/{phone_number_id}/media` — multipart upload, with Meta's type and size
//!   limits (code 131053).
//!
//! and the control side: `POST /sandbox/media`, `POST /sandbox/media/{id}/expire-urls|delete`,
//! `GET /sandbox/uploads`, `GET /sandbox/media-requests`, `GET|PUT /sandbox/media-settings`.

use crate::graph_error::GraphErrorAnswer;
use crate::media_library::{
    MAX_UPLOAD_SIZE, MediaKind, NewMedia, NewMediaContent, SUPPORTED_UPLOAD_TYPES,
};
use crate::onboarding::{self, Node, Purpose, Refusal, no_access};
use crate::state::SandboxState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Body limit of the upload route: Meta's largest (100 MB documents) plus room for the form.
pub const UPLOAD_BODY_LIMIT: usize = 110 * 1024 * 1024;
/// Body limit of `POST /sandbox/media`: a 100 MB file in base64.
pub const CONTROL_BODY_LIMIT: usize = 140 * 1024 * 1024;
/// Generated content larger than this is refused: hashing it would take too long.
const MAX_GENERATED_SIZE: u64 = 1024 * 1024 * 1024;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

fn is_token_refusal(refusal: &Refusal) -> bool {
    *refusal == Refusal::from(GraphErrorAnswer::missing_token())
        || *refusal == Refusal::from(GraphErrorAnswer::invalid_token())
}

/// Checks the token as the send route does, against the number owning the media. Media that is
/// unknown, deleted or out of the token's reach answers Meta's code 100 / subcode 33. `Some` is
/// the refusal to answer.
fn authorize_media(
    state: &SandboxState,
    headers: &HeaderMap,
    method: &str,
    media_id: &str,
    owner: Option<&str>,
) -> Option<Response> {
    let number = owner
        .map(str::to_owned)
        .unwrap_or_else(|| state.config().phone_number_id.clone());
    match onboarding::authorize(
        state,
        headers,
        method,
        Node::PhoneNumber(&number),
        Purpose::Send,
    ) {
        Ok(_) if owner.is_some() => None,
        Err(refusal) if is_token_refusal(&refusal) => Some(refusal.into_response()),
        _ => Some(no_access(method, media_id).into_response()),
    }
}

/// The live media's owner, if `phone_number_id` (when given) names it.
fn live_owner(
    state: &SandboxState,
    media_id: &str,
    query: &HashMap<String, String>,
) -> Option<String> {
    let entry = state.media_entry(media_id).filter(|e| !e.deleted)?;
    match query.get("phone_number_id") {
        Some(asked) if *asked != entry.phone_number_id => None,
        _ => Some(entry.phone_number_id),
    }
}

/// `GET /{version}/{media_id}`: Meta's "Retrieve Media URL".
pub fn media_url(
    state: &SandboxState,
    media_id: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let owner = live_owner(state, media_id, query);
    if let Some(refusal) = authorize_media(state, headers, "get", media_id, owner.as_deref()) {
        return refusal;
    }
    let issued = {
        let mut library = state.media();
        library
            .issue_url(media_id, Instant::now())
            .and_then(|token| library.get(media_id).map(|e| (token, e.clone())))
    };
    let Some((token, entry)) = issued else {
        return no_access("get", media_id).into_response();
    };
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("http://{host}/sandbox/media-download/{token}"),
        "mime_type": entry.mime_type,
        "sha256": entry.sha256_hex(),
        "file_size": entry.file_size().to_string(),
        "id": entry.id,
    }))
    .into_response()
}

/// `DELETE /{version}/{media_id}`.
pub async fn delete_media(
    State(state): State<SandboxState>,
    Path((_version, media_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let owner = live_owner(&state, &media_id, &query);
    if let Some(refusal) = authorize_media(&state, &headers, "delete", &media_id, owner.as_deref())
    {
        return refusal;
    }
    if !state.delete_media(&media_id) {
        return no_access("delete", &media_id).into_response();
    }
    Json(json!({ "success": true })).into_response()
}

/// `GET /sandbox/media-download/{token}`: the file, streamed, for a valid bearer token.
pub async fn download(
    State(state): State<SandboxState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    if bearer(&headers).is_none() {
        return GraphErrorAnswer::missing_token().into_response();
    }
    let Some(entry) = state
        .media()
        .media_for_token(&token, Instant::now())
        .cloned()
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match onboarding::authorize(
        &state,
        &headers,
        "get",
        Node::PhoneNumber(&entry.phone_number_id),
        Purpose::Send,
    ) {
        Ok(_) => {}
        Err(refusal) if is_token_refusal(&refusal) => return refusal.into_response(),
        Err(_) => return StatusCode::NOT_FOUND.into_response(),
    }
    state.media().count_download(&entry.id);
    let interrupted = state.media().take_interrupted_download();
    let half = entry.served_size() / 2;
    let mut served = 0u64;
    let chunks = entry.served_chunks().map_while(move |chunk| {
        if interrupted && served >= half {
            return None;
        }
        served += chunk.len() as u64;
        Some(Ok::<_, std::io::Error>(chunk))
    });
    // Past half the file an interrupted download ends in an error: the connection drops.
    let tail = interrupted.then(|| {
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "download interrupted",
        ))
    });
    let body = futures::stream::iter(chunks.chain(tail));
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&entry.mime_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(entry.served_size()));
    response
}

fn media_upload_error(details: String) -> Response {
    GraphErrorAnswer {
        status: StatusCode::BAD_REQUEST,
        code: 131053,
        subcode: None,
        message: "(#131053) Media upload error".to_owned(),
        details: Some(details),
    }
    .into_response()
}

fn too_large(size_hint: &str, mime_type: &str, limit: u64) -> Response {
    media_upload_error(format!(
        "File of {size_hint} exceeds the maximum size of {limit} bytes for media of type {mime_type}."
    ))
}

fn unsupported_type(mime_type: &str) -> Response {
    let supported: Vec<&str> = SUPPORTED_UPLOAD_TYPES.iter().map(|(m, _)| *m).collect();
    media_upload_error(format!(
        "Param file must be a file with one of the following types: {}. Received file of type '{mime_type}'.",
        supported.join(", ")
    ))
}

/// A file part as received: its bytes up to the cap, and how many bytes it really had.
struct ReceivedFile {
    bytes: Vec<u8>,
    size: u64,
    filename: Option<String>,
    sha256: [u8; 32],
}

/// `POST /{version}/{phone_number_id}/media`: a multipart upload of `messaging_product`, `type`
/// and `file`. The file is read chunk by chunk; past the cap the rest is drained, not kept.
pub async fn upload(
    State(state): State<SandboxState>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    if let Err(refusal) = onboarding::authorize(
        &state,
        &headers,
        "post",
        Node::PhoneNumber(&phone_number_id),
        Purpose::Send,
    ) {
        return refusal.into_response();
    }
    let mut multipart = match Multipart::from_request(request, &state).await {
        Ok(multipart) => multipart,
        Err(_) => {
            return GraphErrorAnswer::invalid_parameter(
                "The request must be multipart/form-data with the parameters messaging_product, type and file.",
            )
            .into_response();
        }
    };
    let mut product: Option<String> = None;
    let mut declared: Option<String> = None;
    let mut file: Option<ReceivedFile> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return multipart_failure(&error.status(), &error.body_text()),
        };
        match field.name() {
            Some("messaging_product") => match field.text().await {
                Ok(text) => product = Some(text.trim().to_owned()),
                Err(error) => return multipart_failure(&error.status(), &error.body_text()),
            },
            Some("type") => match field.text().await {
                Ok(text) => declared = Some(text.trim().to_owned()),
                Err(error) => return multipart_failure(&error.status(), &error.body_text()),
            },
            Some("file") => {
                let cap = declared
                    .as_deref()
                    .and_then(MediaKind::of_upload_mime)
                    .map_or(MAX_UPLOAD_SIZE, MediaKind::upload_limit);
                let filename = field.file_name().map(str::to_owned);
                let mut bytes = Vec::new();
                let mut size = 0u64;
                let mut hasher = Sha256::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            size += chunk.len() as u64;
                            if size <= cap {
                                hasher.update(&chunk);
                                bytes.extend_from_slice(&chunk);
                            }
                        }
                        Ok(None) => break,
                        Err(error) => {
                            return multipart_failure(&error.status(), &error.body_text());
                        }
                    }
                }
                file = Some(ReceivedFile {
                    bytes,
                    size,
                    filename,
                    sha256: hasher.finalize().into(),
                });
            }
            // Meta ignores parameters it does not know; the next field skips the rest.
            _ => {}
        }
    }
    if product.as_deref() != Some("whatsapp") {
        return GraphErrorAnswer::invalid_parameter(
            "The parameter messaging_product is required and must be 'whatsapp'.",
        )
        .into_response();
    }
    let Some(file) = file else {
        return GraphErrorAnswer::invalid_parameter("The parameter file is required.")
            .into_response();
    };
    let Some(mime_type) = declared.filter(|t| !t.is_empty()) else {
        return GraphErrorAnswer::invalid_parameter("The parameter type is required.")
            .into_response();
    };
    let Some(kind) = MediaKind::of_upload_mime(&mime_type) else {
        return unsupported_type(&mime_type);
    };
    let limit = kind.upload_limit();
    if file.size > limit {
        return too_large(&format!("{} bytes", file.size), &mime_type, limit);
    }
    if file.size == 0 {
        return media_upload_error("The uploaded file is empty.".to_owned());
    }
    let id = state.store_upload(
        &phone_number_id,
        &mime_type,
        file.filename,
        Bytes::from(file.bytes),
        file.sha256,
    );
    tracing::debug!(%phone_number_id, media_id = %id, %mime_type, size = file.size, "media uploaded");
    Json(json!({ "id": id })).into_response()
}

/// A form that could not be read: too large for the body limit, or malformed.
fn multipart_failure(status: &StatusCode, text: &str) -> Response {
    if *status == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(
            &format!("more than {UPLOAD_BODY_LIMIT} bytes"),
            "any",
            MAX_UPLOAD_SIZE,
        );
    }
    GraphErrorAnswer::invalid_parameter(&format!("The multipart form could not be read: {text}"))
        .into_response()
}

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Body of `POST /sandbox/media`.
#[derive(Debug, Deserialize)]
struct NewMediaRequest {
    mime_type: String,
    #[serde(default)]
    content_base64: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    corrupt: bool,
    #[serde(default)]
    phone_number_id: Option<String>,
}

/// `POST /sandbox/media`: media a customer could send, held by "Meta".
pub async fn create_media(State(state): State<SandboxState>, body: Bytes) -> Response {
    let request: NewMediaRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return problem(StatusCode::BAD_REQUEST, format!("invalid body: {error}")),
    };
    if request.mime_type.trim().is_empty() {
        return problem(StatusCode::BAD_REQUEST, "`mime_type` must not be empty");
    }
    let content = match (request.content_base64, request.size) {
        (Some(encoded), None) => match STANDARD.decode(encoded.trim()) {
            Ok(bytes) => NewMediaContent::Bytes(bytes),
            Err(error) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    format!("`content_base64` is not base64: {error}"),
                );
            }
        },
        (None, Some(size)) if size <= MAX_GENERATED_SIZE => NewMediaContent::Generated { size },
        (None, Some(_)) => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!("`size` is at most {MAX_GENERATED_SIZE}"),
            );
        }
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "give exactly one of `content_base64` and `size`",
            );
        }
    };
    let media = NewMedia {
        mime_type: request.mime_type.trim().to_owned(),
        content,
        filename: request.filename,
        corrupt: request.corrupt,
        phone_number_id: request.phone_number_id,
    };
    let adding = state.clone();
    // Generated content is hashed by generating it: keep that off the async workers.
    match tokio::task::spawn_blocking(move || adding.add_media(media)).await {
        Ok(added) => (StatusCode::CREATED, Json(json!(added))).into_response(),
        Err(error) => problem(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

/// `POST /sandbox/media/{id}/expire-urls` and `POST /sandbox/media/{id}/delete`.
pub async fn control(
    State(state): State<SandboxState>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let done = match action.as_str() {
        "expire-urls" => state.expire_media_urls(&id),
        "delete" => state.delete_media(&id) || state.media_entry(&id).is_some(),
        _ => return problem(StatusCode::NOT_FOUND, format!("unknown action `{action}`")),
    };
    if done {
        StatusCode::NO_CONTENT.into_response()
    } else {
        problem(StatusCode::NOT_FOUND, format!("unknown media `{id}`"))
    }
}

/// `GET /sandbox/uploads`.
pub async fn uploads(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.uploads()))
}

/// `GET /sandbox/media-requests`.
pub async fn media_requests(State(state): State<SandboxState>) -> Json<Value> {
    Json(json!(state.media_requests()))
}

/// Either member may be left out; what is left out stays as it was.
#[derive(Debug, Deserialize)]
pub struct MediaSettings {
    /// Lifetime of URLs issued from now on.
    #[serde(default)]
    pub url_ttl_ms: Option<u64>,
    /// How many of the next URLs are issued already expired.
    #[serde(default)]
    pub expire_next_urls: Option<u32>,
    /// How many of the next downloads break off halfway.
    #[serde(default)]
    pub interrupt_next_downloads: Option<u32>,
}

/// `GET /sandbox/media-settings`.
pub async fn media_settings(State(state): State<SandboxState>) -> Json<Value> {
    let ttl = u64::try_from(state.media_url_ttl().as_millis()).unwrap_or(u64::MAX);
    let media = state.media();
    Json(json!({
        "url_ttl_ms": ttl,
        "expire_next_urls": media.expire_next_urls(),
        "interrupt_next_downloads": media.interrupt_next_downloads(),
    }))
}

/// `PUT /sandbox/media-settings` with `{"url_ttl_ms": N, "expire_next_urls": K}`.
pub async fn set_media_settings(
    State(state): State<SandboxState>,
    Json(settings): Json<MediaSettings>,
) -> StatusCode {
    if let Some(ttl) = settings.url_ttl_ms {
        state.set_media_url_ttl(Duration::from_millis(ttl));
    }
    if let Some(count) = settings.expire_next_urls {
        state.set_media_expire_next_urls(count);
    }
    if let Some(count) = settings.interrupt_next_downloads {
        state.media().set_interrupt_next_downloads(count);
    }
    StatusCode::NO_CONTENT
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::config::SandboxConfig;
    use crate::server::{RunningSandbox, start};
    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::routing::post;
    use serde_json::{Value, json};
    use sha2::{Digest, Sha256};
    use std::sync::{Arc, Mutex};
    use tokio::net::TcpListener;

    pub(crate) const TOKEN: &str = "system-token";

    /// `(name, Some((filename, content type)), value)` of a form part.
    type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

    pub(crate) type Received = Arc<Mutex<Vec<Value>>>;

    /// A webhook endpoint that keeps every body it receives.
    async fn webhook_receiver() -> (String, Received) {
        async fn keep(State(received): State<Received>, body: Bytes) -> &'static str {
            let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            received.lock().unwrap().push(value);
            "ok"
        }
        let received: Received = Arc::default();
        let app = Router::new()
            .route("/webhooks", post(keep))
            .with_state(received.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/webhooks"), received)
    }

    pub(crate) async fn sandbox() -> (RunningSandbox, Received) {
        let (url, received) = webhook_receiver().await;
        let mut config = SandboxConfig::new("app-secret", url);
        config.expected_token = Some(TOKEN.into());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        (start(listener, config).await, received)
    }

    fn http() -> reqwest::Client {
        reqwest::Client::new()
    }

    async fn json_of(response: reqwest::Response) -> (u16, Value) {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn add(base: &str, body: Value) -> Value {
        let (status, added) = json_of(
            http()
                .post(format!("{base}/sandbox/media"))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 201, "{added}");
        added
    }

    async fn media_url(base: &str, id: &str, token: Option<&str>, query: &str) -> (u16, Value) {
        let mut request = http().get(format!("{base}/v23.0/{id}{query}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        json_of(request.send().await.unwrap()).await
    }

    /// Downloads `url` with the token, hashing it chunk by chunk.
    async fn download(url: &str, token: Option<&str>) -> (u16, Option<String>, Vec<u8>) {
        let mut request = http().get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let mut response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.unwrap() {
            bytes.extend_from_slice(&chunk);
        }
        (status, content_type, bytes)
    }

    fn assert_no_access(status: u16, body: &Value, id: &str) {
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], 100);
        assert_eq!(body["error"]["error_subcode"], 33);
        assert_eq!(body["error"]["type"], "GraphMethodException");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!(
                "Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
            )),
            "{message}"
        );
        assert!(body["error"]["fbtrace_id"].is_string());
    }

    #[tokio::test]
    async fn customer_media_can_be_looked_up_downloaded_expired_and_deleted() {
        let (sandbox, received) = sandbox().await;
        let base = &sandbox.base_url;
        let added = add(
            base,
            json!({"mime_type": "image/jpeg", "size": 200_000, "filename": "photo.jpg"}),
        )
        .await;
        let id = added["id"].as_str().unwrap().to_owned();
        assert!((15..=16).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(added["file_size"], 200_000);
        assert_eq!(added["mime_type"], "image/jpeg");

        // The customer sends it.
        let (status, report) = json_of(
            http()
                .post(format!("{base}/sandbox/customer-media-messages"))
                .json(
                    &json!({"from": "16505551234", "type": "image", "media_id": id,
                              "caption": "Taj Mahal", "name": "Sheena"}),
                )
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["webhook_status"], 200);
        assert_eq!(report["attempts"], 1);
        let webhook = received.lock().unwrap()[0].clone();
        let message = &webhook["entry"][0]["changes"][0]["value"]["messages"][0];
        assert_eq!(message["id"], report["wamid"]);
        assert_eq!(message["from"], "16505551234");
        assert_eq!(message["type"], "image");
        assert_eq!(
            message["image"],
            json!({"caption": "Taj Mahal", "mime_type": "image/jpeg",
                   "sha256": added["sha256"], "id": id})
        );
        assert_eq!(
            webhook["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"],
            crate::config::DEFAULT_PHONE_NUMBER_ID
        );

        // The business looks it up and downloads it.
        let (status, found) = media_url(base, &id, Some(TOKEN), "").await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(found["messaging_product"], "whatsapp");
        assert_eq!(found["id"], id.as_str());
        assert_eq!(found["mime_type"], "image/jpeg");
        assert_eq!(found["sha256"], added["sha256_hex"]);
        assert_eq!(found["file_size"], "200000");
        let url = found["url"].as_str().unwrap().to_owned();
        assert!(
            url.starts_with(&format!("{base}/sandbox/media-download/")),
            "{url}"
        );

        let (status, content_type, bytes) = download(&url, Some(TOKEN)).await;
        assert_eq!(status, 200);
        assert_eq!(content_type.as_deref(), Some("image/jpeg"));
        assert_eq!(bytes.len(), 200_000);
        assert_eq!(&bytes[..4], &[0xFF, 0xD8, 0xFF, 0xE0]);
        assert_eq!(hex::encode(Sha256::digest(&bytes)), added["sha256_hex"]);
        let (status, _, _) = download(&url, None).await;
        assert_eq!(status, 401);
        let (status, _, _) = download(&url, Some("wrong")).await;
        assert_eq!(status, 401);

        // Expired URLs answer 404; a new look-up works again.
        let expired = http()
            .post(format!("{base}/sandbox/media/{id}/expire-urls"))
            .send()
            .await
            .unwrap();
        assert_eq!(expired.status(), 204);
        let (status, _, _) = download(&url, Some(TOKEN)).await;
        assert_eq!(status, 404);
        let (_, again) = media_url(base, &id, Some(TOKEN), "").await;
        let (status, _, bytes) = download(again["url"].as_str().unwrap(), Some(TOKEN)).await;
        assert_eq!(status, 200);
        assert_eq!(bytes.len(), 200_000);
        let (_, counters) = json_of(
            http()
                .get(format!("{base}/sandbox/media-requests"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(counters["url_requests"][&id], 2);
        assert_eq!(counters["downloads"][&id], 2);
        assert_eq!(sandbox.media_requests().downloads[&id], 2);

        // Meta deletes it.
        let deleted = http()
            .delete(format!("{base}/v23.0/{id}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(json_of(deleted).await, (200, json!({"success": true})));
        let (status, body) = media_url(base, &id, Some(TOKEN), "").await;
        assert_no_access(status, &body, &id);
        let (status, _, _) = download(again["url"].as_str().unwrap(), Some(TOKEN)).await;
        assert_eq!(status, 404);
        let (status, body) = json_of(
            http()
                .delete(format!("{base}/v23.0/{id}"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_no_access(status, &body, &id);
        // Nothing was uploaded by the business.
        assert!(sandbox.uploads().is_empty());
    }

    #[tokio::test]
    async fn media_look_ups_check_token_owner_and_existence_like_meta() {
        let (sandbox, _) = sandbox().await;
        let base = &sandbox.base_url;
        let added = add(
            base,
            json!({"mime_type": "application/pdf", "content_base64": "JVBERi0xLjcKaGk="}),
        )
        .await;
        let id = added["id"].as_str().unwrap();
        assert_eq!(added["file_size"], 11);

        let (status, body) = media_url(base, id, None, "").await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["code"], 104);
        let (status, body) = media_url(base, id, Some("not-the-token"), "").await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["code"], 190);
        let (status, body) = media_url(base, id, Some(TOKEN), "?phone_number_id=999").await;
        assert_no_access(status, &body, id);
        let owner = format!(
            "?phone_number_id={}",
            crate::config::DEFAULT_PHONE_NUMBER_ID
        );
        let (status, body) = media_url(base, id, Some(TOKEN), &owner).await;
        assert_eq!(status, 200, "{body}");
        let (status, _, bytes) = download(body["url"].as_str().unwrap(), Some(TOKEN)).await;
        assert_eq!(
            (status, bytes.as_slice()),
            (200, b"%PDF-1.7\nhi".as_slice())
        );

        // An id the library does not hold is still answered by the phone-number node.
        let (status, body) = media_url(base, "123456789012345", Some(TOKEN), "").await;
        assert_no_access(status, &body, "123456789012345");
        let (status, body) = media_url(
            base,
            crate::config::DEFAULT_PHONE_NUMBER_ID,
            Some(TOKEN),
            "",
        )
        .await;
        assert_eq!(status, 200);
        assert!(body["display_phone_number"].is_string(), "{body}");
        let (status, body) = json_of(
            http()
                .delete(format!("{base}/v23.0/123456789012345"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_no_access(status, &body, "123456789012345");

        // Control-side deletion answers the same as Meta's.
        let deleted = http()
            .post(format!("{base}/sandbox/media/{id}/delete"))
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
        let (status, body) = media_url(base, id, Some(TOKEN), "").await;
        assert_no_access(status, &body, id);
        let unknown = http()
            .post(format!("{base}/sandbox/media/42/delete"))
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 404);
    }

    #[tokio::test]
    async fn a_business_token_reaches_only_its_own_numbers_media() {
        let (sandbox, _) = sandbox().await;
        let base = &sandbox.base_url;
        let minted = sandbox
            .mint_signup_code(&crate::SignupCodeRequest {
                waba_id: "555000111222333".into(),
                phone_number_id: "555000999888777".into(),
                display_phone_number: "15550001111".into(),
                verified_name: None,
                pin: None,
                registered_elsewhere: false,
                expires_in_secs: None,
            })
            .unwrap();
        let (status, exchanged) = json_of(
            http()
                .get(format!(
                    "{base}/v23.0/oauth/access_token?client_id={}&client_secret=app-secret&code={}",
                    crate::config::DEFAULT_APP_ID,
                    minted.code
                ))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{exchanged}");
        let business_token = exchanged["access_token"].as_str().unwrap().to_owned();

        let theirs = sandbox.add_media(
            crate::NewMedia::bytes("text/plain", b"hello".to_vec()).owned_by("555000999888777"),
        );
        let ours = sandbox.add_media(crate::NewMedia::bytes("text/plain", b"other".to_vec()));
        let (status, found) = media_url(base, &theirs.id, Some(&business_token), "").await;
        assert_eq!(status, 200, "{found}");
        let (status, _, bytes) =
            download(found["url"].as_str().unwrap(), Some(&business_token)).await;
        assert_eq!((status, bytes.as_slice()), (200, b"hello".as_slice()));
        let (status, body) = media_url(base, &ours.id, Some(&business_token), "").await;
        assert_no_access(status, &body, &ours.id);
        // The system token reaches both.
        let (status, _) = media_url(base, &ours.id, Some(TOKEN), "").await;
        assert_eq!(status, 200);
    }

    #[tokio::test]
    async fn corrupt_media_downloads_disagree_with_their_sha256() {
        let (sandbox, _) = sandbox().await;
        let base = &sandbox.base_url;
        let added = add(
            base,
            json!({"mime_type": "video/mp4", "size": 100_000, "corrupt": true}),
        )
        .await;
        let (_, found) = media_url(base, added["id"].as_str().unwrap(), Some(TOKEN), "").await;
        assert_eq!(found["sha256"], added["sha256_hex"]);
        let (status, _, bytes) = download(found["url"].as_str().unwrap(), Some(TOKEN)).await;
        assert_eq!(status, 200);
        assert_eq!(bytes.len(), 100_000);
        assert_eq!(&bytes[4..8], b"ftyp");
        assert_ne!(hex::encode(Sha256::digest(&bytes)), added["sha256_hex"]);
    }

    #[tokio::test]
    async fn url_lifetime_is_settable_and_control_bodies_are_checked() {
        let (sandbox, _) = sandbox().await;
        let base = &sandbox.base_url;
        let settings = http()
            .put(format!("{base}/sandbox/media-settings"))
            .json(&json!({"url_ttl_ms": 50}))
            .send()
            .await
            .unwrap();
        assert_eq!(settings.status(), 204);
        let (_, shown) = json_of(
            http()
                .get(format!("{base}/sandbox/media-settings"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            shown,
            json!({"url_ttl_ms": 50, "expire_next_urls": 0, "interrupt_next_downloads": 0})
        );
        let added = add(base, json!({"mime_type": "audio/ogg", "size": 10})).await;
        let (_, found) = media_url(base, added["id"].as_str().unwrap(), Some(TOKEN), "").await;
        tokio::time::sleep(std::time::Duration::from_millis(120)).await;
        let (status, _, _) = download(found["url"].as_str().unwrap(), Some(TOKEN)).await;
        assert_eq!(status, 404);

        // The next URL only is born expired; the one after lives its lifetime again.
        let settings = http()
            .put(format!("{base}/sandbox/media-settings"))
            .json(&json!({"url_ttl_ms": 60_000, "expire_next_urls": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(settings.status(), 204);
        let id = added["id"].as_str().unwrap();
        let (_, first) = media_url(base, id, Some(TOKEN), "").await;
        let (status, _, _) = download(first["url"].as_str().unwrap(), Some(TOKEN)).await;
        assert_eq!(status, 404, "born expired");
        let (_, second) = media_url(base, id, Some(TOKEN), "").await;
        let (status, _, _) = download(second["url"].as_str().unwrap(), Some(TOKEN)).await;
        assert_eq!(status, 200);

        // The next download breaks off halfway; the one after is whole.
        let big = add(base, json!({"mime_type": "video/mp4", "size": 1_000_000})).await;
        let big = big["id"].as_str().unwrap();
        http()
            .put(format!("{base}/sandbox/media-settings"))
            .json(&json!({"interrupt_next_downloads": 1}))
            .send()
            .await
            .unwrap();
        let (_, found) = media_url(base, big, Some(TOKEN), "").await;
        let mut response = http()
            .get(found["url"].as_str().unwrap())
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let mut received = 0;
        let broken = loop {
            match response.chunk().await {
                Ok(Some(chunk)) => received += chunk.len(),
                Ok(None) => break false,
                Err(_) => break true,
            }
        };
        assert!(broken, "the body ends in an error");
        assert!(received < 1_000_000, "{received}");
        let (_, found) = media_url(base, big, Some(TOKEN), "").await;
        let (status, _, bytes) = download(found["url"].as_str().unwrap(), Some(TOKEN)).await;
        assert_eq!((status, bytes.len()), (200, 1_000_000));

        for bad in [
            json!({"mime_type": "image/png"}),
            json!({"mime_type": "image/png", "size": 3, "content_base64": "AAA="}),
            json!({"mime_type": "image/png", "content_base64": "not base64!"}),
            json!({"mime_type": "", "size": 3}),
        ] {
            let response = http()
                .post(format!("{base}/sandbox/media"))
                .json(&bad)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{bad}");
        }
        let unknown = http()
            .post(format!("{base}/sandbox/customer-media-messages"))
            .json(&json!({"from": "1", "type": "image", "media_id": "404404404404404"}))
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 404);
    }

    #[tokio::test]
    async fn large_generated_media_streams_in_chunks() {
        let (sandbox, _) = sandbox().await;
        let size: u64 = 20 * 1024 * 1024 + 3;
        let added = sandbox.add_media(crate::NewMedia::generated("video/mp4", size));
        assert_eq!(added.file_size, size);
        let (_, found) = media_url(&sandbox.base_url, &added.id, Some(TOKEN), "").await;
        let mut response = http()
            .get(found["url"].as_str().unwrap())
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.content_length(), Some(size));
        let mut hasher = Sha256::new();
        let mut total = 0u64;
        let mut chunks = 0;
        while let Some(chunk) = response.chunk().await.unwrap() {
            total += chunk.len() as u64;
            chunks += 1;
            hasher.update(&chunk);
        }
        assert_eq!(total, size);
        assert!(chunks > 1);
        assert_eq!(hex::encode(hasher.finalize()), added.sha256_hex);
    }

    /// A multipart/form-data body: `(name, Some((filename, content type)), value)`.
    fn form(parts: &[Part<'_>]) -> (String, Vec<u8>) {
        let boundary = "----sandbox-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, file, value) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some((filename, content_type)) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }

    async fn upload(base: &str, token: Option<&str>, parts: &[Part<'_>]) -> (u16, Value) {
        let (content_type, body) = form(parts);
        let mut request = http()
            .post(format!(
                "{base}/v23.0/{}/media",
                crate::config::DEFAULT_PHONE_NUMBER_ID
            ))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        json_of(request.send().await.unwrap()).await
    }

    fn assert_upload_error(status: u16, body: &Value, details_contain: &str) {
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], 131053);
        assert_eq!(body["error"]["message"], "(#131053) Media upload error");
        assert_eq!(body["error"]["error_data"]["messaging_product"], "whatsapp");
        let details = body["error"]["error_data"]["details"].as_str().unwrap();
        assert!(details.contains(details_contain), "{details}");
    }

    #[tokio::test]
    async fn business_uploads_are_stored_listed_and_limited_like_meta() {
        let (sandbox, _) = sandbox().await;
        let base = &sandbox.base_url;
        let jpeg = b"\xFF\xD8\xFF\xE0 a tiny jpeg".as_slice();
        let (status, body) = upload(
            base,
            Some(TOKEN),
            &[
                ("messaging_product", None, b"whatsapp"),
                ("type", None, b"image/jpeg"),
                ("file", Some(("cat.jpg", "image/jpeg")), jpeg),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        assert_eq!(body, json!({"id": id}));

        // `type` after the file, as Meta's own curl example sends it.
        let pdf = vec![b'%'; 3 * 1024 * 1024];
        let (status, body) = upload(
            base,
            Some(TOKEN),
            &[
                ("file", Some(("report.pdf", "application/pdf")), &pdf),
                ("type", None, b"application/pdf"),
                ("messaging_product", None, b"whatsapp"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let pdf_id = body["id"].as_str().unwrap().to_owned();

        let (_, listed) = json_of(
            http()
                .get(format!("{base}/sandbox/uploads"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            listed,
            json!([
                {"id": id, "phone_number_id": crate::config::DEFAULT_PHONE_NUMBER_ID,
                 "mime_type": "image/jpeg", "filename": "cat.jpg", "file_size": jpeg.len(),
                 "sha256_hex": hex::encode(Sha256::digest(jpeg)), "type": "image"},
                {"id": pdf_id, "phone_number_id": crate::config::DEFAULT_PHONE_NUMBER_ID,
                 "mime_type": "application/pdf", "filename": "report.pdf",
                 "file_size": pdf.len(), "sha256_hex": hex::encode(Sha256::digest(&pdf)),
                 "type": "document"},
            ])
        );
        assert_eq!(sandbox.uploads().len(), 2);
        let (_, found) = media_url(base, &id, Some(TOKEN), "").await;
        let (status, content_type, bytes) =
            download(found["url"].as_str().unwrap(), Some(TOKEN)).await;
        assert_eq!(
            (status, content_type.as_deref(), bytes.as_slice()),
            (200, Some("image/jpeg"), jpeg)
        );

        // Meta's refusals.
        let (status, body) = upload(
            base,
            Some(TOKEN),
            &[
                ("messaging_product", None, b"whatsapp"),
                ("type", None, b"image/gif"),
                ("file", Some(("a.gif", "image/gif")), b"GIF89a"),
            ],
        )
        .await;
        assert_upload_error(status, &body, "image/gif");
        let big_image = vec![0u8; 5 * 1024 * 1024 + 1];
        let (status, body) = upload(
            base,
            Some(TOKEN),
            &[
                ("messaging_product", None, b"whatsapp"),
                ("type", None, b"image/png"),
                ("file", Some(("big.png", "image/png")), &big_image),
            ],
        )
        .await;
        assert_upload_error(status, &body, "5242880");
        let big_sticker = vec![0u8; 500 * 1024 + 1];
        let (status, body) = upload(
            base,
            Some(TOKEN),
            &[
                ("file", Some(("s.webp", "image/webp")), &big_sticker),
                ("messaging_product", None, b"whatsapp"),
                ("type", None, b"image/webp"),
            ],
        )
        .await;
        assert_upload_error(status, &body, "512000");
        let (status, body) = upload(
            base,
            Some(TOKEN),
            &[
                ("type", None, b"image/jpeg"),
                ("file", Some(("cat.jpg", "image/jpeg")), jpeg),
            ],
        )
        .await;
        assert_eq!((status, body["error"]["code"].clone()), (400, json!(100)));
        let (status, body) = upload(base, None, &[("messaging_product", None, b"whatsapp")]).await;
        assert_eq!((status, body["error"]["code"].clone()), (401, json!(104)));
        // Refused uploads are not stored.
        assert_eq!(sandbox.uploads().len(), 2);
    }
}
