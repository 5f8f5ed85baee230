//! Large inbound media: a 60 MB document is streamed from Meta into S3 in parts (its memory
//! is measured by `make bench`, not here), and a download that breaks off halfway leaves no
//! partial object behind and is fetched whole on its next delivery.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use serde_json::{Value, json};
use switchboard_domain::jobs::MediaJob;
use switchboard_domain::media::MediaKind;
use switchboard_domain::{MessageId, TenantId};
use switchboard_e2e::*;

const MB: u64 = 1024 * 1024;
/// moto takes its time over 60 MB of parts.
const LONG_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

async fn customer_sends_document(t: &TestStack, media: &Value, from: &str) -> Value {
    t.customer_sends_media(&json!({ "from": from, "type": "document", "media_id": media["id"] }))
        .await
}

async fn head(t: &TestStack, key: &str) -> Option<i64> {
    let s3 = switchboard_platform::aws::s3_client(&t.stack.sdk);
    let out = s3
        .head_object()
        .bucket(t.config().data_bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    out.content_length()
}

async fn open_uploads(t: &TestStack) -> usize {
    let s3 = switchboard_platform::aws::s3_client(&t.stack.sdk);
    let out = s3
        .list_multipart_uploads()
        .bucket(t.config().data_bucket)
        .prefix("media/")
        .send()
        .await
        .expect("list uploads");
    out.uploads().len()
}

async fn sha256_of(t: &TestStack, key: &str) -> String {
    use sha2::Digest;
    let s3 = switchboard_platform::aws::s3_client(&t.stack.sdk);
    let mut body = s3
        .get_object()
        .bucket(t.config().data_bucket)
        .key(key)
        .send()
        .await
        .expect("object")
        .body;
    let mut hash = sha2::Sha256::new();
    while let Some(chunk) = body.try_next().await.expect("chunk") {
        hash.update(&chunk);
    }
    hex::encode(hash.finalize())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_60_mb_document_is_streamed_into_s3_whole() {
    let t = spawn_stack().await;
    let size = 60 * MB;
    let document = t
        .sandbox_post(
            "/sandbox/media",
            &json!({ "mime_type": "application/pdf", "size": size, "filename": "catalogue.pdf" }),
        )
        .await;
    let message = customer_sends_document(&t, &document, "15551230010").await;
    let id = message["id"].as_str().expect("id").to_owned();
    let stored = eventually("the document to be stored", LONG_WAIT, || async {
        let m = t.message(&id).await;
        m["media"]["state"].is_string().then_some(m)
    })
    .await;
    assert_eq!(stored["media"]["state"], "stored", "{stored}");
    assert_eq!(stored["media"]["size"], size, "{stored}");
    assert_eq!(stored["media"]["filename"], "catalogue.pdf");
    assert_eq!(stored["media"]["sha256"], document["sha256_hex"]);
    let key = format!("media/acme/{id}");
    assert_eq!(head(&t, &key).await, Some(size as i64));
    assert_eq!(sha256_of(&t, &key).await, document["sha256_hex"]);
    let parts = t
        .stack
        .aws_calls
        .calls()
        .iter()
        .filter(|c| c.function == "MediaFunction" && c.operation == "UploadPart")
        .count();
    assert_eq!(parts, 8, "60 MB in 8 MiB parts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_download_that_breaks_off_leaves_nothing_and_is_fetched_again() {
    let t = spawn_stack().await;
    let size = 20 * MB;
    let document = t
        .sandbox_post(
            "/sandbox/media",
            &json!({ "mime_type": "application/pdf", "size": size }),
        )
        .await;
    t.sandbox_put(
        "/sandbox/media-settings",
        &json!({ "interrupt_next_downloads": 1 }),
    )
    .await;
    let message = customer_sends_document(&t, &document, "15551230011").await;
    let id = message["id"].as_str().expect("id").to_owned();
    eventually("the job to be handed back", LONG_WAIT, || async {
        (t.stack.metrics.total("media", "RecordsFailed") >= 1.0).then_some(())
    })
    .await;
    let key = format!("media/acme/{id}");
    assert_eq!(head(&t, &key).await, None, "no partial object");
    assert_eq!(
        open_uploads(&t).await,
        0,
        "the multipart upload was aborted"
    );
    assert!(t.message(&id).await["media"].is_null());

    // Its next delivery (SQS brings it back after the visibility timeout) fetches it whole.
    let job = MediaJob {
        tenant_id: TenantId::from("acme"),
        message_id: MessageId::new(id.clone()),
        phone_number_id: PHONE_NUMBER_ID.to_owned(),
        media_id: document["id"].as_str().expect("id").to_owned(),
        kind: MediaKind::Document,
        mime_type: "application/pdf".into(),
        sha256: document["sha256"].as_str().map(str::to_owned),
        filename: None,
        animated: false,
    };
    let mut record = SqsMessage::default();
    record.message_id = Some("redelivery-1".into());
    record.body = Some(serde_json::to_string(&job).expect("job"));
    let mut event = SqsEvent::default();
    event.records = vec![record];
    let response = switchboard_media::handle_batch(&t.stack.media, event).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(t.message(&id).await["media"]["state"], "stored");
    assert_eq!(head(&t, &key).await, Some(size as i64));
}
