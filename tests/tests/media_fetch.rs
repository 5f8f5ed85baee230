//! The media fetch against the Meta sandbox and moto's S3 and DynamoDB: a customer's photo is
//! kept in S3 with the SHA-256 Meta sent and recorded on its message; a corrupt download and a
//! renamed executable are quarantined, never stored as media; deleted media is unavailable;
//! an expired URL is asked for again, once. (The queue that will carry these jobs from the
//! inbound function, and the function around them, are not wired yet: these tests call the
//! fetch the way the function will.)

use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_domain::jobs::MediaJob;
use switchboard_domain::media::MediaKind;
use switchboard_domain::{MessageId, TenantId};
use switchboard_e2e::*;
use switchboard_media::{Fetched, MediaState, fetch, media_key, quarantine_key};
use switchboard_meta::graph::GraphClient;
use switchboard_platform::media_store::MediaStore;
use switchboard_platform::token_vault::{CacheLimits, TokenVault};

fn media_state(t: &TestStack) -> MediaState {
    let config = t.config();
    MediaState {
        store: t.stack.store.clone(),
        graph: GraphClient::new(reqwest::Client::new(), t.sandbox_url(), "v23.0"),
        vault: TokenVault::new(
            aws_sdk_kms::Client::new(&t.stack.sdk),
            config.token_key_id.clone().expect("token key"),
            CacheLimits::default(),
        ),
        media: MediaStore::new(
            switchboard_platform::aws::s3_client(&t.stack.sdk),
            config.data_bucket.clone(),
            None,
        ),
        clock: Arc::new(switchboard_domain::SystemClock),
    }
}

async fn add_media(t: &TestStack, body: Value) -> Value {
    t.sandbox_post("/sandbox/media", &body).await
}

fn job(message_id: &str, media: &Value, kind: MediaKind, mime: &str) -> MediaJob {
    MediaJob {
        tenant_id: TenantId::from("acme"),
        message_id: MessageId::new(message_id.to_owned()),
        phone_number_id: PHONE_NUMBER_ID.to_owned(),
        media_id: media["id"].as_str().expect("media id").to_owned(),
        kind,
        mime_type: mime.to_owned(),
        sha256: media["sha256"].as_str().map(str::to_owned),
        filename: None,
        animated: false,
    }
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

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customers_photo_is_kept_in_s3_and_recorded_on_its_message() {
    let t = spawn_stack().await;
    let photo = add_media(
        &t,
        json!({ "mime_type": "image/jpeg", "size": 300_000, "phone_number_id": PHONE_NUMBER_ID }),
    )
    .await;
    let report = t
        .sandbox_post(
            "/sandbox/customer-media-messages",
            &json!({ "from": "15551230001", "type": "image", "media_id": photo["id"], "caption": "the box arrived like this" }),
        )
        .await;
    assert_eq!(report["webhook_status"], 200, "{report}");
    let conversation = t.first_conversation().await;
    let message = eventually("the photo message to be stored", WAIT, || async {
        t.messages(&conversation).await.into_iter().next()
    })
    .await;
    assert_eq!(message["message_type"], "image", "{message}");
    let id = message["id"].as_str().expect("id").to_owned();

    let state = media_state(&t);
    let job = job(&id, &photo, MediaKind::Image, "image/jpeg");
    let fetched = fetch(&state, &job).await.expect("fetched");
    assert_eq!(
        fetched,
        Fetched::Stored {
            key: media_key(&job),
            size: 300_000
        }
    );
    let kept = object(&t, &media_key(&job)).await.expect("our copy");
    assert_eq!(kept.len(), 300_000);
    assert_eq!(
        sha256_hex(&kept),
        photo["sha256_hex"].as_str().unwrap_or_default()
    );
    assert!(
        media_key(&job).starts_with("media/acme/"),
        "tenant-first key"
    );

    let stored = t.message(&id).await;
    assert_eq!(stored["media"]["state"], "stored", "{stored}");
    assert_eq!(stored["media"]["sha256"], photo["sha256_hex"], "{stored}");
    assert_eq!(stored["media"]["size"], 300_000, "{stored}");

    // A redelivered job fetches again but never replaces what is stored.
    assert!(matches!(
        fetch(&state, &job).await.expect("fetched"),
        Fetched::Stored { .. }
    ));
    assert_eq!(t.message(&id).await["media"]["state"], "stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_that_fail_their_checks_are_quarantined_and_gone_media_is_unavailable() {
    let t = spawn_stack().await;
    let state = media_state(&t);

    // The download is not what Meta's SHA-256 says.
    let corrupt = add_media(
        &t,
        json!({ "mime_type": "image/png", "size": 20_000, "corrupt": true }),
    )
    .await;
    let corrupt_job = job("msg_corrupt", &corrupt, MediaKind::Image, "image/png");
    assert_eq!(
        fetch(&state, &corrupt_job).await.expect("fetched"),
        Fetched::Quarantined {
            reason: "sha256_mismatch"
        }
    );
    assert!(object(&t, &media_key(&corrupt_job)).await.is_none());
    assert!(
        object(&t, &quarantine_key(&corrupt_job)).await.is_some(),
        "kept in quarantine"
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
    let renamed_job = job("msg_exe", &renamed, MediaKind::Document, "application/pdf");
    assert_eq!(
        fetch(&state, &renamed_job).await.expect("fetched"),
        Fetched::Quarantined {
            reason: "executable"
        }
    );
    assert!(object(&t, &media_key(&renamed_job)).await.is_none());

    // Larger than Meta allows a sticker: refused without keeping it.
    let sticker = add_media(&t, json!({ "mime_type": "image/webp", "size": 200_000 })).await;
    let sticker_job = job("msg_sticker", &sticker, MediaKind::Sticker, "image/webp");
    assert_eq!(
        fetch(&state, &sticker_job).await.expect("fetched"),
        Fetched::Quarantined {
            reason: "too_large"
        }
    );

    // Meta deleted it: unavailable, not retried.
    let deleted = add_media(&t, json!({ "mime_type": "image/jpeg", "size": 1_000 })).await;
    let deleted_id = deleted["id"].as_str().expect("id").to_owned();
    t.sandbox_post(&format!("/sandbox/media/{deleted_id}/delete"), &json!({}))
        .await;
    let deleted_job = job("msg_deleted", &deleted, MediaKind::Image, "image/jpeg");
    assert_eq!(
        fetch(&state, &deleted_job).await.expect("fetched"),
        Fetched::Unavailable
    );

    // Every URL expires at once: asked for again once, then left for the next delivery.
    t.sandbox_put("/sandbox/media-settings", &json!({ "url_ttl_ms": 0 }))
        .await;
    let fleeting = add_media(&t, json!({ "mime_type": "image/jpeg", "size": 1_000 })).await;
    let fleeting_id = fleeting["id"].as_str().expect("id").to_owned();
    let fleeting_job = job("msg_fleeting", &fleeting, MediaKind::Image, "image/jpeg");
    assert!(fetch(&state, &fleeting_job).await.is_err(), "retryable");
    let requests = t.sandbox_get("/sandbox/media-requests").await;
    assert_eq!(requests["url_requests"][&fleeting_id], 2, "{requests}");
}
