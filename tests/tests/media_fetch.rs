//! Inbound media through the whole pipeline: a customer's media message reaches the webhook,
//! the inbound function records it and queues its media job, the media function fetches the
//! file from the Meta sandbox with the tenant's token and streams it into moto's S3. What
//! matters is what lands on the message and in the bucket: the file with the SHA-256 Meta
//! sent, a quarantined file that is never stored as media, media Meta no longer has marked
//! unavailable, and an expired URL asked for again.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_e2e::*;

const GLOBEX_KEY: &str = "sk_test_e2e_globex_media_0123456789";

async fn add_media(t: &TestStack, body: Value) -> Value {
    t.sandbox_post("/sandbox/media", &body).await
}

async fn customer_sends(t: &TestStack, body: Value) -> Value {
    t.customer_sends_media(&body).await
}

/// `GET /v1/messages/{id}/media` with the tenant's API key: status and answer.
async fn media_link(t: &TestStack, id: &str) -> (reqwest::StatusCode, Value) {
    let (status, _, answer) = t
        .call(
            Method::GET,
            &format!("/v1/messages/{id}/media"),
            Auth::Bearer(API_KEY),
            None,
        )
        .await;
    (status, answer)
}

/// The message once the media function has settled its media.
async fn settled(t: &TestStack, message: &Value) -> Value {
    let id = message["id"].as_str().expect("id").to_owned();
    eventually("the message's media to be settled", WAIT, || async {
        let m = t.message(&id).await;
        m["media"]["state"].is_string().then_some(m)
    })
    .await
}

async fn object(t: &TestStack, key: &str) -> Option<Vec<u8>> {
    let s3 = switchboard_platform::aws::s3_client(&t.stack.sdk);
    let got = s3
        .get_object()
        .bucket(t.config().data_bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    Some(got.body.collect().await.ok()?.into_bytes().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_photo_and_a_voice_note_arrive_in_s3_with_the_sha256_meta_sent() {
    let t = spawn_stack().await;
    let photo = add_media(
        &t,
        json!({ "mime_type": "image/jpeg", "size": 300_000, "phone_number_id": PHONE_NUMBER_ID }),
    )
    .await;
    let voice = add_media(
        &t,
        json!({ "mime_type": "audio/ogg; codecs=opus", "size": 48_000, "phone_number_id": PHONE_NUMBER_ID }),
    )
    .await;
    let photo_message = customer_sends(
        &t,
        json!({ "from": "15551230001", "type": "image", "media_id": photo["id"], "caption": "the box arrived like this" }),
    )
    .await;
    assert_eq!(photo_message["message_type"], "image", "{photo_message}");
    let voice_message = customer_sends(
        &t,
        json!({ "from": "15551230001", "type": "audio", "voice": true, "media_id": voice["id"] }),
    )
    .await;

    for (message, media, size) in [
        (&photo_message, &photo, 300_000),
        (&voice_message, &voice, 48_000),
    ] {
        let stored = settled(&t, message).await;
        let id = stored["id"].as_str().expect("id");
        assert_eq!(stored["media"]["state"], "stored", "{stored}");
        assert_eq!(stored["media"]["sha256"], media["sha256_hex"], "{stored}");
        assert_eq!(stored["media"]["size"], size, "{stored}");
        assert_eq!(stored["media"]["mime_type"], media["mime_type"], "{stored}");
        let key = format!("media/acme/{id}");
        let kept = object(&t, &key).await.expect("our copy in S3");
        assert_eq!(kept.len(), size);
        assert_eq!(
            sha256_hex(&kept),
            media["sha256_hex"].as_str().unwrap_or_default(),
            "the bytes Meta holds"
        );
    }

    // Meta delivers the webhook again: the message is recorded once, its media fetched once.
    let redelivered = t
        .sandbox_post(
            "/sandbox/customer-media-messages",
            &json!({ "from": "15551230001", "type": "image", "media_id": photo["id"], "wamid": photo_message["wamid"] }),
        )
        .await;
    assert_eq!(redelivered["webhook_status"], 200, "{redelivered}");
    let photo_id = photo["id"].as_str().expect("id").to_owned();
    eventually("the redelivery to be applied", WAIT, || async {
        (t.stack.metrics.total("inbound", "MessagesDuplicate") >= 1.0).then_some(())
    })
    .await;
    eventually(
        "the duplicate's media job to find nothing to do",
        WAIT,
        || async { (t.stack.metrics.total("media", "MediaSkipped") >= 1.0).then_some(()) },
    )
    .await;
    let requests = t.sandbox_get("/sandbox/media-requests").await;
    assert_eq!(requests["downloads"][&photo_id], 1, "{requests}");
    assert_eq!(t.stack.metrics.total("media", "MediaStored"), 2.0);

    media_links_open_the_file_for_its_tenant_only(&t, &photo_message, &photo).await;
}

/// `GET /v1/messages/{id}/media`: a link for the tenant's agent that opens the file, audited;
/// nothing for another tenant or for a message without media.
async fn media_links_open_the_file_for_its_tenant_only(
    t: &TestStack,
    message: &Value,
    photo: &Value,
) {
    let id = message["id"].as_str().expect("id");
    let admin = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let agent_email = "agent.media@acme.example";
    let agent_password = "agent-media-password";
    t.add_person(&admin, agent_email, "agent", agent_password)
        .await;
    let agent = t.access_token(agent_email, agent_password).await;

    let path = format!("/v1/messages/{id}/media");
    let (status, _, link) = t.call(Method::GET, &path, Auth::Bearer(&agent), None).await;
    assert_eq!(status, 200, "{link}");
    assert_eq!(link["mime_type"], "image/jpeg");
    assert_eq!(link["size"], 300_000);
    assert_eq!(link["sha256"], photo["sha256_hex"]);
    let expires_at = time::OffsetDateTime::parse(
        link["expires_at"].as_str().expect("expires_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("a time");
    let lifetime = expires_at - time::OffsetDateTime::now_utc();
    assert!(lifetime <= time::Duration::seconds(300), "{lifetime}");
    let url = link["url"].as_str().expect("url");
    let file = reqwest::get(url).await.expect("the link answers");
    assert_eq!(file.status(), 200);
    // S3 authorizes a presigned request as the role that signed it.
    t.stack
        .aws_calls
        .record_presigned("ApiFunction", "GET", url);
    let bytes = file.bytes().await.expect("the file");
    assert_eq!(
        sha256_hex(&bytes),
        photo["sha256_hex"].as_str().unwrap_or_default()
    );

    // `redirect=true` answers 302 to a link.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let answer = no_redirects
        .get(format!("{}{path}?redirect=true", t.base()))
        .bearer_auth(&agent)
        .send()
        .await
        .expect("api reachable");
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().expect("location");
    assert!(location.contains("X-Amz-Signature"), "a presigned link");

    // Each link handed out is on the audit log, with who asked.
    let (status, _, audit) = t
        .call(Method::GET, "/v1/audit", Auth::Bearer(&admin), None)
        .await;
    assert_eq!(status, 200, "{audit}");
    let issued: Vec<&Value> = audit["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "media.link_issued" && e["target"] == id)
        .collect();
    assert_eq!(issued.len(), 2, "{audit}");

    // Another tenant finds neither the message nor its media.
    switchboard_dev::seed::seed_tenant(&t.stack.store, "globex", "Globex", GLOBEX_KEY)
        .await
        .expect("second tenant seeded");
    let (status, _, answer) = t
        .call(Method::GET, &path, Auth::Bearer(GLOBEX_KEY), None)
        .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["type"], "/problems/not-found");
    assert!(!answer.to_string().contains("X-Amz"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_that_fail_their_checks_are_quarantined_and_gone_media_is_unavailable() {
    let t = spawn_stack().await;
    let from = "15551230002";

    // The download is not what Meta's SHA-256 says.
    let corrupt = add_media(
        &t,
        json!({ "mime_type": "image/png", "size": 20_000, "corrupt": true }),
    )
    .await;
    let corrupt_message = customer_sends(
        &t,
        json!({ "from": from, "type": "image", "media_id": corrupt["id"] }),
    )
    .await;
    let corrupt_message = settled(&t, &corrupt_message).await;
    assert_eq!(corrupt_message["media"]["state"], "quarantined");
    assert_eq!(corrupt_message["media"]["reason"], "sha256_mismatch");
    let id = corrupt_message["id"].as_str().expect("id");
    assert!(object(&t, &format!("media/acme/{id}")).await.is_none());
    assert!(
        object(&t, &format!("quarantine/media/acme/{id}"))
            .await
            .is_some(),
        "kept in quarantine"
    );
    assert!(
        corrupt_message["media"].get("key").is_none(),
        "a quarantined file's key is never shown: {corrupt_message}"
    );
    let (status, answer) = media_link(&t, id).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["type"], "/problems/media-withheld", "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("sha256_mismatch")
    );

    // A Windows executable sent as a PDF.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    exe.resize(4096, 0);
    let renamed = add_media(
        &t,
        json!({ "mime_type": "application/pdf", "filename": "invoice.pdf",
                "content_base64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &exe) }),
    )
    .await;
    let renamed_message = customer_sends(
        &t,
        json!({ "from": from, "type": "document", "media_id": renamed["id"] }),
    )
    .await;
    let renamed_message = settled(&t, &renamed_message).await;
    assert_eq!(renamed_message["media"]["state"], "quarantined");
    assert_eq!(renamed_message["media"]["reason"], "executable");
    assert_eq!(renamed_message["media"]["filename"], "invoice.pdf");

    // Larger than Meta allows a sticker: refused without keeping it.
    let sticker = add_media(&t, json!({ "mime_type": "image/webp", "size": 200_000 })).await;
    let sticker_message = customer_sends(
        &t,
        json!({ "from": from, "type": "sticker", "media_id": sticker["id"] }),
    )
    .await;
    let sticker_message = settled(&t, &sticker_message).await;
    assert_eq!(sticker_message["media"]["state"], "quarantined");
    assert_eq!(sticker_message["media"]["reason"], "too_large");

    // Meta deleted it: unavailable, and not retried.
    let deleted = add_media(&t, json!({ "mime_type": "image/jpeg", "size": 1_000 })).await;
    let deleted_id = deleted["id"].as_str().expect("id").to_owned();
    t.sandbox_post(&format!("/sandbox/media/{deleted_id}/delete"), &json!({}))
        .await;
    let deleted_message = customer_sends(
        &t,
        json!({ "from": from, "type": "image", "media_id": deleted["id"] }),
    )
    .await;
    let deleted_message = settled(&t, &deleted_message).await;
    assert_eq!(deleted_message["media"]["state"], "unavailable");
    assert_eq!(deleted_message["media"]["reason"], "media_gone");
    let id = deleted_message["id"].as_str().expect("id");
    let (status, answer) = media_link(&t, id).await;
    assert_eq!(status, 409, "{answer}");

    // The first URL has expired by the time it is used: the media is asked for again, and kept.
    let late = add_media(&t, json!({ "mime_type": "image/jpeg", "size": 1_000 })).await;
    let late_id = late["id"].as_str().expect("id").to_owned();
    t.sandbox_put("/sandbox/media-settings", &json!({ "expire_next_urls": 1 }))
        .await;
    let late_message = customer_sends(
        &t,
        json!({ "from": from, "type": "image", "media_id": late["id"] }),
    )
    .await;
    let late_message = settled(&t, &late_message).await;
    assert_eq!(late_message["media"]["state"], "stored", "{late_message}");
    let requests = t.sandbox_get("/sandbox/media-requests").await;
    assert_eq!(requests["url_requests"][&late_id], 2, "{requests}");

    // Every URL expires at once: asked for again once, then handed back to the queue.
    t.sandbox_put("/sandbox/media-settings", &json!({ "url_ttl_ms": 0 }))
        .await;
    let fleeting = add_media(&t, json!({ "mime_type": "image/jpeg", "size": 1_000 })).await;
    let fleeting_id = fleeting["id"].as_str().expect("id").to_owned();
    let fleeting_message = customer_sends(
        &t,
        json!({ "from": from, "type": "image", "media_id": fleeting["id"] }),
    )
    .await;
    eventually("the job to be handed back", WAIT, || async {
        (t.stack.metrics.total("media", "RecordsFailed") >= 1.0).then_some(())
    })
    .await;
    let requests = t.sandbox_get("/sandbox/media-requests").await;
    assert_eq!(requests["url_requests"][&fleeting_id], 2, "{requests}");
    let id = fleeting_message["id"].as_str().expect("id");
    assert!(
        t.message(id).await["media"].is_null(),
        "nothing settled yet"
    );
    let (status, answer) = media_link(&t, id).await;
    assert_eq!(status, 404, "not fetched yet: {answer}");
    assert_eq!(t.stack.metrics.total("media", "MediaQuarantined"), 3.0);
    assert_eq!(t.stack.metrics.total("media", "MediaUnavailable"), 1.0);
}
