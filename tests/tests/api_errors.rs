//! Every client mistake is a 4xx `application/problem+json` answer with the right `type` and
//! `status`, never a 500 or a plain-text body: unknown routes, wrong methods, bad queries,
//! odd ids, oversize and malformed bodies, and page cursors that are not this listing's,
//! were edited, or have expired.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_e2e::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROBLEM_JSON: &str = "application/problem+json";

/// The answer is the problem `kind` with `status`, as problem+json.
#[track_caller]
fn assert_problem(
    what: &str,
    (status, headers, body): &(reqwest::StatusCode, HeaderMap, Value),
    expected: u16,
    kind: &str,
) {
    assert_eq!(status.as_u16(), expected, "{what}: {body}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some(PROBLEM_JSON),
        "{what}"
    );
    assert_eq!(body["status"], expected, "{what}: {body}");
    assert_eq!(body["type"], kind, "{what}: {body}");
    assert!(body["title"].is_string(), "{what}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routes_methods_queries_and_ids_a_client_got_wrong_are_4xx_problems() {
    let t = spawn_stack().await;

    // Unknown routes.
    for path in [
        "/v1/nope",
        "/nope",
        "/v1/conversations/conv_x/messages/extra",
        "/v1/messages/msg_x/",
    ] {
        let r = t.api_request(Method::GET, path, &[], None).await;
        assert_problem(path, &r, 404, "/problems/not-found");
    }

    // Known routes, other methods: 405 with the methods that are allowed.
    for (method, path, allowed) in [
        (Method::DELETE, "/v1/messages", "POST"),
        (Method::GET, "/v1/messages", "POST"),
        (Method::PUT, "/v1/conversations", "GET"),
        (Method::POST, "/v1/conversations/conv_x", "GET"),
        (Method::PATCH, "/v1/messages/msg_x", "GET"),
        (Method::DELETE, "/healthz", "GET"),
    ] {
        let what = format!("{method} {path}");
        let r = t.api_request(method, path, &[], None).await;
        assert_problem(&what, &r, 405, "/problems/method-not-allowed");
        let allow = r.1.get("allow").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(
            allow.split(',').any(|m| m.trim() == allowed),
            "{what}: Allow is {allow:?}"
        );
    }

    // Bad queries: a 400 naming `limit`, or the query string as a whole.
    for (query, field) in [
        ("limit=abc", Some("limit")),
        ("limit=0", Some("limit")),
        ("limit=-1", Some("limit")),
        ("limit=101", Some("limit")),
        ("limit=1.5", Some("limit")),
        ("limit=", Some("limit")),
        ("limt=10", None),
        ("limit=1&limit=2", None),
    ] {
        for path in [
            "/v1/conversations",
            "/v1/conversations/conv_missing/messages",
        ] {
            let what = format!("{path}?{query}");
            let r = t.api_request(Method::GET, &what, &[], None).await;
            assert_problem(&what, &r, 400, "/problems/invalid-query");
            if let Some(field) = field {
                assert_eq!(r.2["errors"][0]["field"], field, "{what}: {}", r.2);
            }
        }
    }
    // The documented range holds at both ends, and agrees with the store's page size.
    for limit in [1, 100] {
        let (status, body) = t.api_get(&format!("/v1/conversations?limit={limit}")).await;
        assert_eq!(status, 200, "limit={limit}: {body}");
    }

    // Ids no item can have: too long, or characters ids never contain (even invalid UTF-8).
    let long = "a".repeat(129);
    for id in [long.as_str(), "conv%23x", "a%20b", "%FF", "a.b%2Fc"] {
        for path in [
            format!("/v1/conversations/{id}"),
            format!("/v1/conversations/{id}/messages"),
            format!("/v1/messages/{id}"),
        ] {
            let r = t.api_request(Method::GET, &path, &[], None).await;
            assert_problem(&path, &r, 400, "/problems/invalid-id");
        }
    }
    // At the limit the id is plausible, just unknown.
    let longest = "a".repeat(128);
    for path in [
        format!("/v1/conversations/{longest}"),
        format!("/v1/messages/{longest}"),
    ] {
        let r = t.api_request(Method::GET, &path, &[], None).await;
        assert_problem(&path, &r, 404, "/problems/not-found");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oversize_and_malformed_bodies_are_4xx_problems() {
    let t = spawn_stack().await;
    let json_headers = [("content-type", "application/json")];

    // Over the documented limit, with a Content-Length: 413 before anything reads it.
    let big = json!({
        "phone_number_id": PHONE_NUMBER_ID,
        "to": "15551234567",
        "text": { "body": "x".repeat(switchboard_api::MAX_BODY_BYTES) },
    });
    let r = t
        .api_request(
            Method::POST,
            "/v1/messages",
            &json_headers,
            Some(serde_json::to_vec(&big).expect("json")),
        )
        .await;
    assert_problem("oversize body", &r, 413, "/problems/payload-too-large");
    let limit = switchboard_api::MAX_BODY_BYTES.to_string();
    assert!(
        r.2["detail"].as_str().is_some_and(|d| d.contains(&limit)),
        "{}",
        r.2
    );

    // Over the limit without a Content-Length (chunked): refused while reading.
    let (status, headers) = post_chunked(&t, "/v1/messages", 5 * 16 * 1024).await;
    assert_eq!(status, 413, "chunked oversize body: {headers}");
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{headers}"
    );

    // Under the limit but invalid: the body's own rules apply (422 naming the field).
    let long_text = json!({
        "phone_number_id": PHONE_NUMBER_ID,
        "to": "15551234567",
        "text": { "body": "x".repeat(5000) },
    });
    let r = t
        .api_request(
            Method::POST,
            "/v1/messages",
            &json_headers,
            Some(serde_json::to_vec(&long_text).expect("json")),
        )
        .await;
    assert_problem("long text", &r, 422, "/problems/validation");

    // Not JSON at all.
    for body in ["{not json", "", "\u{0}"] {
        let r = t
            .api_request(
                Method::POST,
                "/v1/messages",
                &json_headers,
                Some(body.as_bytes().to_vec()),
            )
            .await;
        assert_problem(
            &format!("body {body:?}"),
            &r,
            400,
            "/problems/malformed-request",
        );
    }
    // JSON of the wrong shape or types: a 4xx problem (400 or 422), never a 500.
    for body in [
        json!([]),
        json!("text"),
        json!({ "text": 5 }),
        json!({ "to": 15551234567_u64, "phone_number_id": PHONE_NUMBER_ID, "text": { "body": "x" } }),
        json!({ "phone_number_id": PHONE_NUMBER_ID, "to": "15551234567", "text": { "body": "x" }, "extra": 1 }),
    ] {
        let (status, headers, problem) = t
            .api_request(
                Method::POST,
                "/v1/messages",
                &json_headers,
                Some(serde_json::to_vec(&body).expect("json")),
            )
            .await;
        assert!(status == 400 || status == 422, "{body}: {status} {problem}");
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some(PROBLEM_JSON),
            "{body}"
        );
        assert_eq!(problem["status"], status.as_u16(), "{body}: {problem}");
    }
    assert!(t.sandbox_sent().await.is_empty(), "nothing was sent");
}

/// A contact import and a campaign have larger limits than other bodies (`MAX_IMPORT_BYTES`,
/// `MAX_CAMPAIGN_BYTES`): a list over the general limit is read whole, with its
/// `Content-Length` declared, and only a list over the route's own limit is refused, with that
/// limit named.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contact_imports_and_campaigns_may_be_larger_than_other_bodies() {
    let t = spawn_stack().await;
    let json_headers = [("content-type", "application/json")];
    let proof = "Ticked 'Send me offers on WhatsApp' on the checkout page of the online shop";
    let rows: Vec<Value> = (0..400)
        .map(|i| {
            json!({
                "phone": format!("+3491{i:07}"),
                "opt_in": { "source": "checkout", "proof": { "text": proof, "url": "https://shop.example/checkout" } },
            })
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "contacts": rows })).expect("json");
    assert!(
        body.len() > switchboard_api::MAX_BODY_BYTES,
        "{}",
        body.len()
    );
    let (status, _, import) = t
        .api_request(Method::POST, "/v1/contacts", &json_headers, Some(body))
        .await;
    assert_eq!(status, 200, "{import}");
    let results = import["results"].as_array().expect("results");
    assert_eq!(results.len(), 400);
    assert!(
        results.iter().all(|r| r["status"] == "opted_in"),
        "{import}"
    );
    let (status, contact) = t.api_get("/v1/contacts/34910000399").await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["consent"]["marketing"]["state"], "opted_in");

    let limit = switchboard_api::MAX_IMPORT_BYTES;
    let over = json!({ "contacts": [{ "phone": "+34910000400", "opt_in": { "source": "import", "proof": { "text": "x".repeat(limit) } } }] });
    let r = t
        .api_request(
            Method::POST,
            "/v1/contacts",
            &json_headers,
            Some(serde_json::to_vec(&over).expect("json")),
        )
        .await;
    assert_problem("oversize import", &r, 413, "/problems/payload-too-large");
    assert!(
        r.2["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&limit.to_string())),
        "{}",
        r.2
    );
    let (status, contact) = t.api_get("/v1/contacts/34910000400").await;
    assert_eq!(
        status, 404,
        "nothing of a refused import is stored: {contact}"
    );

    // A campaign to 5,000 recipients is read and judged on what it says: its template is not
    // an approved one.
    let recipients: Vec<String> = (0..5000).map(|i| format!("+3491{i:07}")).collect();
    let campaign = json!({
        "phone_number_id": PHONE_NUMBER_ID,
        "template": { "name": "no_such_template", "language": { "code": "en_US" } },
        "recipients": recipients,
    });
    let body = serde_json::to_vec(&campaign).expect("json");
    assert!(
        body.len() > switchboard_api::MAX_BODY_BYTES,
        "{}",
        body.len()
    );
    let r = t
        .api_request(Method::POST, "/v1/campaigns", &json_headers, Some(body))
        .await;
    assert_problem("large campaign", &r, 422, "/problems/policy-denied");
    assert_eq!(r.2["reason"], "template_not_approved", "{}", r.2);
}

/// Posts `len` bytes of JSON-ish filler with chunked transfer encoding (no Content-Length),
/// over a raw connection. Returns the status and the response head.
async fn post_chunked(t: &TestStack, path: &str, len: usize) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(t.stack.http_addr)
        .await
        .expect("api reachable");
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {API_KEY}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    let mut request = head.into_bytes();
    let chunk = vec![b' '; 16 * 1024];
    for _ in 0..len.div_ceil(chunk.len()) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(&chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The server may answer and close before it has read everything: a failed write is fine.
    let _ = stream.write_all(&request).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head)
}

/// Two customers write in; the first twice. Returns (first's conversation, second's).
async fn two_conversations(t: &TestStack) -> (String, String) {
    for (from, wamid, at, text) in [
        ("15550000001", "wamid.ERR1", 1_750_000_000, "one"),
        ("15550000001", "wamid.ERR2", 1_750_000_001, "two"),
        ("15550000002", "wamid.ERR3", 1_750_000_002, "three"),
    ] {
        let body = serde_json::to_vec(&text_message_webhook(
            PHONE_NUMBER_ID,
            from,
            wamid,
            at,
            text,
        ))
        .expect("json");
        assert_eq!(t.post_signed(&body).await, 200);
    }
    eventually("two conversations, three messages", WAIT, || async {
        let (_, body) = t.api_get("/v1/conversations").await;
        let data = body["data"].as_array()?;
        let of = |wa_id: &str| {
            data.iter()
                .find(|c| c["contact"]["id"] == wa_id)
                .and_then(|c| c["id"].as_str())
                .map(str::to_owned)
        };
        let (first, second) = (of("15550000001")?, of("15550000002")?);
        let (_, messages) = t
            .api_get(&format!("/v1/conversations/{first}/messages"))
            .await;
        (messages["data"].as_array()?.len() == 2).then_some((first, second))
    })
    .await
}

/// The first page's `next_cursor` of `path` (which asks for `limit=1`).
async fn cursor_of(t: &TestStack, path: &str) -> String {
    let (status, body) = t.api_get(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body["next_cursor"]
        .as_str()
        .unwrap_or_else(|| panic!("{path} has a next page: {body}"))
        .to_owned()
}

fn assert_invalid_cursor(what: &str, r: &(reqwest::StatusCode, HeaderMap, Value)) {
    assert_problem(what, r, 400, "/problems/invalid-cursor");
    assert_eq!(r.2["errors"][0]["field"], "cursor", "{what}: {}", r.2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cursors_work_only_on_their_own_listing_unchanged_and_unexpired() {
    let t = spawn_stack().await;
    let (first, second) = two_conversations(&t).await;
    let conversations = cursor_of(&t, "/v1/conversations?limit=1").await;
    let messages = cursor_of(&t, &format!("/v1/conversations/{first}/messages?limit=1")).await;

    // Each cursor reads the next page of its own listing.
    let (status, page) = t
        .api_get(&format!("/v1/conversations?limit=1&cursor={conversations}"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1), "{page}");
    let (status, page) = t
        .api_get(&format!(
            "/v1/conversations/{first}/messages?limit=1&cursor={messages}"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"][0]["text"], "two", "{page}");

    // On another listing it is refused.
    for (what, path) in [
        (
            "a conversation-list cursor on a message list",
            format!("/v1/conversations/{first}/messages?cursor={conversations}"),
        ),
        (
            "a message cursor on the conversation list",
            format!("/v1/conversations?cursor={messages}"),
        ),
        (
            "a message cursor on another conversation",
            format!("/v1/conversations/{second}/messages?cursor={messages}"),
        ),
    ] {
        let r = t.api_request(Method::GET, &path, &[], None).await;
        assert_invalid_cursor(what, &r);
    }

    // Another tenant cannot use this tenant's cursor.
    switchboard_dev::seed::seed_tenant(&t.stack.store, "globex", "Globex", "sk_test_globex_errors")
        .await
        .expect("tenant");
    let r = t
        .api_request(
            Method::GET,
            &format!("/v1/conversations?cursor={conversations}"),
            &[("authorization", "Bearer sk_test_globex_errors")],
            None,
        )
        .await;
    assert_invalid_cursor("another tenant's cursor", &r);

    // Edited, made up, or not a cursor at all.
    let mut tampered: Vec<char> = conversations.chars().collect();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let unsigned = "eyJnc2kxcGsiOiJUI2FjbWUjQ09OVlMifQ"; // base64url({"gsi1pk":"T#acme#CONVS"})
    let long = "A".repeat(5000);
    for (what, cursor) in [
        ("a tampered cursor", tampered.as_str()),
        ("an unsigned cursor", unsigned),
        ("garbage", "not%20a%20cursor"),
        ("an empty cursor", ""),
        ("a very long cursor", long.as_str()),
    ] {
        let r = t
            .api_request(
                Method::GET,
                &format!("/v1/conversations?cursor={cursor}"),
                &[],
                None,
            )
            .await;
        assert_invalid_cursor(what, &r);
    }

    // Expiry: another API instance with the same signing key (another container) takes the
    // cursor within its 24 hours and refuses it after.
    let later = |skip: time::Duration| {
        let config = t.config();
        let sdk = t.stack.sdk.clone();
        async move {
            let mut state = switchboard_api::init(&config, &sdk)
                .await
                .expect("the API initialises from the stack's config");
            let clock = switchboard_domain::FixedClock::at(time::OffsetDateTime::now_utc() + skip);
            Arc::get_mut(&mut state).expect("fresh state").clock = Arc::new(clock);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tokio::spawn(async move {
                let _ = axum::serve(listener, switchboard_api::router(state)).await;
            });
            format!("http://{addr}")
        }
    };
    for (skip, expected) in [
        (time::Duration::hours(23), 200),
        (time::Duration::hours(25), 400),
    ] {
        let base = later(skip).await;
        let res = t
            .http
            .get(format!(
                "{base}/v1/conversations?limit=1&cursor={conversations}"
            ))
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("reachable");
        let r = (
            res.status(),
            res.headers().clone(),
            res.json::<Value>().await.unwrap_or_default(),
        );
        if expected == 200 {
            assert_eq!(r.0, 200, "{skip} later: {}", r.2);
        } else {
            assert_invalid_cursor(&format!("a cursor {skip} old"), &r);
        }
    }
}
