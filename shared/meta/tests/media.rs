//! The media calls over real HTTP, against a small Graph API stand-in served by axum.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_domain::Secret;
use switchboard_meta::graph::{GraphClient, MediaDownloadError, MediaUpload};

const TOKEN: &str = "EAAG-media-test-token";
const BIG: usize = 3 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: Option<String>,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Bytes,
}

#[derive(Clone, Default)]
struct State {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl State {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn byte_at(i: usize) -> u8 {
    (i % 251) as u8
}

fn json(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn graph(
    axum::extract::State(state): axum::extract::State<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    state.seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        authorization: text(header::AUTHORIZATION),
        content_type: text(header::CONTENT_TYPE),
        body,
    });
    match (method.as_str(), uri.path()) {
        ("GET", "/v23.0/1037543291543636") => json(
            StatusCode::OK,
            r#"{"messaging_product":"whatsapp","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1037543291543636&ext=1661453648&hash=ATuGF6Zo6RaTaQ6ZbVZ4cY_Z7pgrG0Cq8HSpAQzDxvzn8w","mime_type":"image/jpeg","sha256":"cdd9a26e2fbf2fbfd8d6e1f6c4dd4bbc5ba1ff26b02d4f3ee1d8e59e9b3d2e8b","file_size":"303833","id":"1037543291543636"}"#,
        ),
        ("GET", "/v23.0/1111") => json(
            StatusCode::BAD_REQUEST,
            r#"{"error":{"message":"Unsupported get request. Object with ID '1111' does not exist, cannot be loaded due to missing permissions, or does not support this operation.","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"AbCdEf"}}"#,
        ),
        ("GET", "/media/big") => {
            let chunks = (0..BIG / CHUNK).map(|c| {
                let bytes: Vec<u8> = (c * CHUNK..(c + 1) * CHUNK).map(byte_at).collect();
                Ok::<_, std::io::Error>(Bytes::from(bytes))
            });
            Response::builder()
                .header(header::CONTENT_TYPE, "video/mp4")
                .header(header::CONTENT_LENGTH, BIG.to_string())
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .unwrap()
        }
        ("GET", "/media/slow") => {
            // Slower than the client's whole-call timeout, well within the download's.
            let chunks = futures::stream::unfold(0u8, |i| async move {
                if i == 4 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
                Some((Ok::<_, std::io::Error>(Bytes::from(vec![i; 1000])), i + 1))
            });
            Response::builder()
                .header(header::CONTENT_TYPE, "audio/ogg; codecs=opus")
                .body(Body::from_stream(chunks))
                .unwrap()
        }
        ("GET", "/media/expired") => StatusCode::NOT_FOUND.into_response(),
        ("GET", "/media/gone") => StatusCode::GONE.into_response(),
        ("GET", "/media/denied") => StatusCode::UNAUTHORIZED.into_response(),
        ("GET", "/media/forbidden") => StatusCode::FORBIDDEN.into_response(),
        ("GET", "/media/broken") => StatusCode::BAD_GATEWAY.into_response(),
        ("POST", "/v23.0/106540352242922/media") => {
            json(StatusCode::OK, r#"{"id":"1166846181421424"}"#)
        }
        ("POST", "/v23.0/999/media") => json(
            StatusCode::BAD_REQUEST,
            r#"{"error":{"message":"(#131053) Media upload error","type":"OAuthException","code":131053,"fbtrace_id":"x"}}"#,
        ),
        ("DELETE", "/v23.0/1166846181421424") => json(StatusCode::OK, r#"{"success":true}"#),
        _ => StatusCode::IM_A_TEAPOT.into_response(),
    }
}

struct Server {
    base: String,
    state: State,
}

async fn server() -> Server {
    let state = State::default();
    let app = Router::new().fallback(graph).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server { base, state }
}

fn client(server: &Server) -> GraphClient {
    GraphClient::new(reqwest::Client::new(), &server.base, "v23.0")
}

fn token() -> Secret {
    Secret::new(TOKEN)
}

fn bearer_on_all(seen: &[Seen]) {
    assert!(!seen.is_empty());
    for request in seen {
        assert_eq!(
            request.authorization.as_deref(),
            Some("Bearer EAAG-media-test-token"),
            "{} {}",
            request.method,
            request.path
        );
    }
}

#[tokio::test]
async fn media_info_reads_metas_answer() {
    let server = server().await;
    let info = client(&server)
        .media_info(&token(), "1037543291543636", Some("106540352242922"))
        .await
        .unwrap();
    assert_eq!(info.id, "1037543291543636");
    assert_eq!(info.mime_type, "image/jpeg");
    assert_eq!(info.file_size, 303_833);
    assert_eq!(info.sha256.len(), 64);
    assert!(info.url.starts_with("https://lookaside.fbsbx.com/"));

    let seen = server.state.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, Method::GET);
    assert_eq!(
        seen[0].query.as_deref(),
        Some("phone_number_id=106540352242922")
    );
    bearer_on_all(&seen);
}

#[tokio::test]
async fn media_that_does_not_exist_is_gone() {
    let server = server().await;
    let error = client(&server)
        .media_info(&token(), "1111", None)
        .await
        .unwrap_err();
    assert!(error.is_media_gone(), "{error:?}");
    assert_eq!(error.code(), Some(100));
    assert_eq!(error.subcode(), Some(33));
    assert!(!error.class().is_retryable());
    let seen = server.state.seen();
    assert_eq!(seen[0].query, None);
    bearer_on_all(&seen);
}

#[tokio::test]
async fn download_streams_a_large_body_in_chunks() {
    let server = server().await;
    let mut download = client(&server)
        .download_media(&token(), &format!("{}/media/big?hash=SIG", server.base))
        .await
        .unwrap();
    assert_eq!(download.content_length(), Some(BIG as u64));
    assert_eq!(download.content_type(), Some("video/mp4"));
    assert!(!format!("{download:?}").contains("SIG"));

    let (mut total, mut chunks, mut largest) = (0usize, 0usize, 0usize);
    while let Some(chunk) = download.next_chunk().await.unwrap() {
        for (i, byte) in chunk.iter().enumerate() {
            assert_eq!(*byte, byte_at(total + i), "byte {}", total + i);
        }
        total += chunk.len();
        chunks += 1;
        largest = largest.max(chunk.len());
    }
    assert_eq!(total, BIG);
    assert_eq!(download.received(), BIG as u64);
    assert!(chunks > 1, "the body came in one piece");
    assert!(largest < BIG, "the body was buffered whole");
    assert_eq!(download.next_chunk().await.unwrap(), None);

    let seen = server.state.seen();
    assert_eq!(seen[0].query.as_deref(), Some("hash=SIG"));
    bearer_on_all(&seen);
}

#[tokio::test]
async fn the_client_timeout_does_not_cut_a_download() {
    let server = server().await;
    let client = client(&server).with_timeout(Duration::from_millis(300));
    let url = format!("{}/media/slow", server.base);

    let mut download = client.download_media(&token(), &url).await.unwrap();
    assert_eq!(download.content_type(), Some("audio/ogg; codecs=opus"));
    let mut total = 0;
    while let Some(chunk) = download.next_chunk().await.unwrap() {
        total += chunk.len();
    }
    assert_eq!(total, 4000);

    // Its own timeout does bound it.
    let mut short = client
        .download_media_within(&token(), &url, Duration::from_millis(250))
        .await
        .unwrap();
    let error = loop {
        match short.next_chunk().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the download outlived its timeout"),
            Err(error) => break error,
        }
    };
    assert!(
        matches!(&error, MediaDownloadError::Transport(text) if text.starts_with("timeout")),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn download_statuses_map_to_their_errors() {
    let server = server().await;
    let client = client(&server);
    for (path, expected) in [
        ("expired", MediaDownloadError::Expired),
        ("gone", MediaDownloadError::Expired),
        ("denied", MediaDownloadError::Unauthorized),
        ("forbidden", MediaDownloadError::Unauthorized),
        ("broken", MediaDownloadError::Status(502)),
    ] {
        let error = client
            .download_media(&token(), &format!("{}/media/{path}", server.base))
            .await
            .unwrap_err();
        assert_eq!(error, expected, "{path}");
    }
    assert!(MediaDownloadError::Status(502).is_retryable());
    bearer_on_all(&server.state.seen());

    // Nothing listens there: a transport failure, without the URL's query.
    let error = client
        .download_media(&token(), "http://127.0.0.1:1/media?hash=SIG")
        .await
        .unwrap_err();
    match &error {
        MediaDownloadError::Transport(text) => assert!(!text.contains("SIG"), "{text}"),
        other => panic!("{other:?}"),
    }
    assert!(error.is_retryable());
}

/// The parts of a multipart/form-data body: (headers, content) by field name.
fn parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("no boundary")
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(at) = find(rest, &delimiter) {
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let rest_part = rest.strip_prefix(b"\r\n").expect("CRLF after boundary");
        let end = find(rest_part, &delimiter).expect("unterminated part");
        let part = rest_part[..end]
            .strip_suffix(b"\r\n")
            .expect("CRLF before boundary");
        let split = find(part, b"\r\n\r\n").expect("part without headers");
        parts.push((
            String::from_utf8(part[..split].to_vec()).unwrap(),
            part[split + 4..].to_vec(),
        ));
        rest = &rest_part[end..];
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn field<'a>(parts: &'a [(String, Vec<u8>)], name: &str) -> &'a (String, Vec<u8>) {
    let disposition = format!("name=\"{name}\"");
    parts
        .iter()
        .find(|(headers, _)| headers.contains(&disposition))
        .unwrap_or_else(|| panic!("no field {name}"))
}

#[tokio::test]
async fn upload_streams_a_multipart_body() {
    let server = server().await;
    let content: Vec<u8> = (0..200_000).map(byte_at).collect();
    let chunks: Vec<Result<Bytes, std::io::Error>> = content
        .chunks(30_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let upload = MediaUpload::from_stream(
        "image/jpeg",
        "photo.jpg",
        content.len() as u64,
        futures::stream::iter(chunks),
    );
    let id = client(&server)
        .upload_media(&token(), "106540352242922", upload)
        .await
        .unwrap();
    assert_eq!(id, "1166846181421424");

    let seen = server.state.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, Method::POST);
    let content_type = seen[0].content_type.clone().unwrap();
    assert!(
        content_type.starts_with("multipart/form-data"),
        "{content_type}"
    );
    let parts = parts(&content_type, &seen[0].body);
    assert_eq!(parts.len(), 3);
    assert_eq!(field(&parts, "messaging_product").1, b"whatsapp");
    assert_eq!(field(&parts, "type").1, b"image/jpeg");
    let (headers, bytes) = field(&parts, "file");
    assert!(headers.contains("filename=\"photo.jpg\""), "{headers}");
    assert!(headers.contains("Content-Type: image/jpeg"), "{headers}");
    assert_eq!(bytes, &content);
    bearer_on_all(&seen);
}

#[tokio::test]
async fn upload_refusals_and_short_bodies_are_errors() {
    let server = server().await;
    let client = client(&server);

    let refused = client
        .upload_media(
            &token(),
            "999",
            MediaUpload::from_bytes("image/png", "a.png", &b"\x89PNG"[..]),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(131053));
    assert!(!refused.class().is_retryable());

    // A body that ends before its announced length never reaches Meta as a file.
    let short = MediaUpload::from_stream(
        "image/png",
        "a.png",
        1000,
        futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"only ten!!"))]),
    );
    let error = client
        .upload_media(&token(), "106540352242922", short)
        .await
        .unwrap_err();
    assert!(
        matches!(error, switchboard_meta::graph::GraphError::Transport { .. }),
        "{error:?}"
    );
    assert!(
        server
            .state
            .seen()
            .iter()
            .all(|s| s.path != "/v23.0/106540352242922/media"),
        "the cut upload was answered"
    );

    let bad_type = client
        .upload_media(
            &token(),
            "106540352242922",
            MediaUpload::from_bytes("not a mime", "a.png", &b"x"[..]),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        bad_type,
        switchboard_meta::graph::GraphError::InvalidRequest(_)
    ));
}

#[tokio::test]
async fn delete_media_expects_success() {
    let server = server().await;
    client(&server)
        .delete_media(&token(), "1166846181421424", Some("106540352242922"))
        .await
        .unwrap();
    let error = client(&server)
        .delete_media(&token(), "42", None)
        .await
        .unwrap_err();
    assert_eq!(error.http_status(), Some(418));

    let seen = server.state.seen();
    assert_eq!(seen[0].method, Method::DELETE);
    assert_eq!(
        seen[0].query.as_deref(),
        Some("phone_number_id=106540352242922")
    );
    bearer_on_all(&seen);
}
