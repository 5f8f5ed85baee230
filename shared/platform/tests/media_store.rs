//! The media store against S3 as moto serves it: every test creates its own bucket and KMS key.
//! Run through `scripts/with-moto.sh` (it sets `AWS_ENDPOINT_URL`).

use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::types::ServerSideEncryption;
use sha2::{Digest, Sha256};
use std::time::Duration;
use switchboard_platform::media_store::{
    MediaStore, MediaStoreError, PART_BYTES, SNIFF_BYTES, sdk_credentials,
};

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

struct Fixture {
    config: aws_config::SdkConfig,
    s3: aws_sdk_s3::Client,
    bucket: String,
    kms_key: String,
    store: MediaStore,
}

async fn fixture() -> Fixture {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set. These tests need moto: run them with \
         `scripts/with-moto.sh cargo test -p switchboard-platform --test media_store` \
         (create the venv first with `make .venv/moto/.installed`)."
    );
    let config = switchboard_platform::aws::load_sdk_config().await;
    let s3 = switchboard_platform::aws::s3_client(&config);
    let kms = aws_sdk_kms::Client::new(&config);
    let kms_key = kms
        .create_key()
        .description("switchboard media store test")
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("CreateKey returns the key's ARN")
        .to_owned();
    let bucket = format!(
        "media-store-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("CreateBucket");
    let store = MediaStore::new(s3.clone(), bucket.clone(), Some(kms_key.clone()));
    Fixture {
        config,
        s3,
        bucket,
        kms_key,
        store,
    }
}

/// Deterministic bytes that differ at every offset (a repeated pattern would hide misordered
/// parts).
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Fixture {
    /// The object's SHA-256 and length, streamed back from S3.
    async fn read_back(&self, key: &str) -> ([u8; 32], u64, u64) {
        let mut reader = self.store.open(key).await.expect("open");
        let declared = reader.content_length;
        let mut hasher = Sha256::new();
        let mut read = 0u64;
        while let Some(chunk) = reader.body.next().await {
            let chunk = chunk.expect("read body");
            read += chunk.len() as u64;
            hasher.update(&chunk);
        }
        (hasher.finalize().into(), read, declared)
    }

    async fn uploads_in_progress(&self) -> Vec<String> {
        self.s3
            .list_multipart_uploads()
            .bucket(&self.bucket)
            .send()
            .await
            .expect("ListMultipartUploads")
            .uploads()
            .iter()
            .filter_map(|u| u.key().map(str::to_owned))
            .collect()
    }

    async fn assert_kms_encrypted(&self, key: &str) {
        let head = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .expect("HeadObject");
        assert_eq!(
            head.server_side_encryption(),
            Some(&ServerSideEncryption::AwsKms),
            "{key} is not SSE-KMS"
        );
        assert_eq!(head.ssekms_key_id(), Some(self.kms_key.as_str()));
    }

    async fn e_tag(&self, key: &str) -> String {
        self.s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .expect("HeadObject")
            .e_tag()
            .expect("an ETag")
            .to_owned()
    }

    /// Streams `bytes` through an upload in `chunk`-sized writes.
    async fn upload(
        &self,
        key: &str,
        bytes: &[u8],
        chunk: usize,
    ) -> switchboard_platform::media_store::StoredObject {
        let mut upload = self.store.begin(key, "video/mp4", bytes.len() as u64);
        for c in bytes.chunks(chunk) {
            upload.write(c).await.expect("write");
        }
        upload.finish().await.expect("finish")
    }
}

#[tokio::test]
async fn a_small_file_is_one_put_with_its_digest_and_head() {
    let f = fixture().await;
    let bytes = data(100 * KIB + 7, 1);
    let key = "media/acme/2026/11/01SMALL";
    let stored = f.upload(key, &bytes, 4096).await;

    assert_eq!(stored.key, key);
    assert_eq!(stored.size, bytes.len() as u64);
    assert_eq!(stored.sha256, sha256(&bytes));
    assert_eq!(stored.sha256_hex(), hex::encode(sha256(&bytes)));
    assert_eq!(stored.head, bytes[..SNIFF_BYTES]);
    // A single PutObject: a multipart object's ETag ends in `-{parts}`.
    assert!(!f.e_tag(key).await.contains('-'));
    assert!(f.uploads_in_progress().await.is_empty());
    f.assert_kms_encrypted(key).await;

    let (sha, read, declared) = f.read_back(key).await;
    assert_eq!(
        (sha, read, declared),
        (stored.sha256, stored.size, stored.size)
    );
    let head = f.store.head(key).await.unwrap().expect("the object exists");
    assert_eq!(head.size, bytes.len() as u64);
    assert_eq!(head.content_type.as_deref(), Some("video/mp4"));
}

#[tokio::test]
async fn a_tiny_file_keeps_all_of_itself_as_head_and_an_empty_file_stores() {
    let f = fixture().await;
    let stored = f.upload("media/acme/2026/11/TINY", b"%PDF-1.7", 3).await;
    assert_eq!(stored.head, b"%PDF-1.7");
    assert_eq!(stored.size, 8);

    let empty = f.store.begin("media/acme/2026/11/EMPTY", "text/plain", 10);
    let stored = empty.finish().await.unwrap();
    assert_eq!(stored.size, 0);
    assert!(stored.head.is_empty());
    assert_eq!(stored.sha256, sha256(b""));
    assert_eq!(
        f.store
            .head("media/acme/2026/11/EMPTY")
            .await
            .unwrap()
            .map(|h| h.size),
        Some(0)
    );
}

#[tokio::test]
async fn a_20_mib_file_streams_as_three_parts_and_reads_back_identical() {
    let f = fixture().await;
    let bytes = data(20 * MIB, 2);
    let key = "media/acme/2026/11/01LARGE";
    let stored = f.upload(key, &bytes, 64 * KIB).await;

    assert_eq!(stored.size, 20 * MIB as u64);
    assert_eq!(stored.sha256, sha256(&bytes));
    assert_eq!(stored.head, bytes[..SNIFF_BYTES]);
    // 8 MiB + 8 MiB + 4 MiB.
    assert!(
        f.e_tag(key).await.ends_with("-3\""),
        "{}",
        f.e_tag(key).await
    );
    assert!(f.uploads_in_progress().await.is_empty());
    f.assert_kms_encrypted(key).await;

    let (sha, read, declared) = f.read_back(key).await;
    assert_eq!(read, stored.size);
    assert_eq!(declared, stored.size);
    assert_eq!(sha, stored.sha256);
}

#[tokio::test]
async fn a_file_of_exactly_two_parts_sends_no_empty_third() {
    let f = fixture().await;
    let bytes = data(2 * PART_BYTES, 3);
    let key = "media/acme/2026/11/01TWO";
    // Chunks that straddle the part boundary.
    let stored = f.upload(key, &bytes, 3 * MIB).await;
    assert_eq!(stored.sha256, sha256(&bytes));
    assert!(f.e_tag(key).await.ends_with("-2\""));
    let (sha, read, _) = f.read_back(key).await;
    assert_eq!((sha, read), (stored.sha256, 2 * PART_BYTES as u64));
}

#[tokio::test]
async fn writing_past_the_limit_is_refused_and_stores_nothing() {
    let f = fixture().await;

    // Before any part: nothing was sent.
    let key = "media/acme/2026/11/TOOBIG-SMALL";
    let mut upload = f.store.begin(key, "image/jpeg", 1000);
    upload.write(&[0; 600]).await.unwrap();
    let err = upload.write(&[0; 401]).await.unwrap_err();
    assert!(
        matches!(err, MediaStoreError::TooLarge { limit: 1000 }),
        "{err}"
    );
    assert!(matches!(
        upload.write(&[0; 1]).await,
        Err(MediaStoreError::Aborted { .. })
    ));
    assert!(matches!(
        upload.finish().await,
        Err(MediaStoreError::Aborted { .. })
    ));
    assert_eq!(f.store.head(key).await.unwrap(), None);

    // After a part: the multipart upload is aborted.
    let key = "media/acme/2026/11/TOOBIG-LARGE";
    let limit = 10 * MIB as u64;
    let mut upload = f.store.begin(key, "video/mp4", limit);
    let chunk = data(64 * KIB, 4);
    let mut written = 0u64;
    let err = loop {
        match upload.write(&chunk).await {
            Ok(()) => written += chunk.len() as u64,
            Err(e) => break e,
        }
    };
    assert!(matches!(err, MediaStoreError::TooLarge { limit: l } if l == limit));
    assert_eq!(written, limit, "every chunk up to the limit was accepted");
    assert!(f.uploads_in_progress().await.is_empty());
    upload.abort().await;
    assert_eq!(f.store.head(key).await.unwrap(), None);
}

#[tokio::test]
async fn abort_removes_a_started_multipart_upload() {
    let f = fixture().await;
    let key = "media/acme/2026/11/ABORTED";
    let mut upload = f.store.begin(key, "video/mp4", 100 * MIB as u64);
    upload.write(&data(PART_BYTES + 10, 5)).await.unwrap();
    assert_eq!(f.uploads_in_progress().await, vec![key.to_owned()]);
    upload.abort().await;
    assert!(f.uploads_in_progress().await.is_empty());
    assert_eq!(f.store.head(key).await.unwrap(), None);
}

#[tokio::test]
async fn an_s3_failure_names_the_operation_and_key_and_aborts() {
    let f = fixture().await;

    // A part fails (its upload was aborted behind our back): the error names UploadPart.
    let key = "media/acme/2026/11/FAILS";
    let mut upload = f.store.begin(key, "video/mp4", 100 * MIB as u64);
    upload.write(&data(PART_BYTES, 6)).await.unwrap();
    let out =
        f.s3.list_multipart_uploads()
            .bucket(&f.bucket)
            .send()
            .await
            .unwrap();
    let upload_id = out.uploads()[0].upload_id().unwrap().to_owned();
    f.s3.abort_multipart_upload()
        .bucket(&f.bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await
        .unwrap();
    let err = upload.write(&data(PART_BYTES, 7)).await.unwrap_err();
    match &err {
        MediaStoreError::S3 { op, key: k, .. } => {
            assert_eq!((*op, k.as_str()), ("upload_part", key));
        }
        other => panic!("expected an S3 error, got {other}"),
    }
    assert!(err.to_string().contains(key));
    assert!(matches!(
        upload.finish().await,
        Err(MediaStoreError::Aborted { .. })
    ));
    assert!(f.uploads_in_progress().await.is_empty());

    // No such bucket: the small file's PutObject fails, and the large file's
    // CreateMultipartUpload.
    let missing = MediaStore::new(f.s3.clone(), format!("{}-missing", f.bucket), None);
    let mut small = missing.begin("media/acme/x", "image/png", 100);
    small.write(b"secret-content").await.unwrap();
    let err = small.finish().await.unwrap_err();
    assert!(
        matches!(err, MediaStoreError::S3 { op: "put", .. }),
        "{err}"
    );
    assert!(!err.to_string().contains("secret-content"));
    let mut large = missing.begin("media/acme/y", "video/mp4", 100 * MIB as u64);
    let err = large.write(&data(PART_BYTES, 8)).await.unwrap_err();
    assert!(
        matches!(
            err,
            MediaStoreError::S3 {
                op: "create_multipart_upload",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn move_object_copies_encrypted_and_deletes_the_source() {
    let f = fixture().await;
    let from = "media/acme/2026/11/01 MOVE+é";
    let to = "quarantine/media/acme/2026/11/01 MOVE+é";
    let bytes = data(3000, 9);
    let stored = f.upload(from, &bytes, 1000).await;
    f.store.move_object(from, to).await.unwrap();

    assert_eq!(f.store.head(from).await.unwrap(), None);
    let head = f.store.head(to).await.unwrap().expect("moved");
    assert_eq!(head.size, 3000);
    assert_eq!(head.content_type.as_deref(), Some("video/mp4"));
    f.assert_kms_encrypted(to).await;
    let (sha, _, _) = f.read_back(to).await;
    assert_eq!(sha, stored.sha256);

    let err = f.store.move_object(from, to).await.unwrap_err();
    assert!(
        matches!(err, MediaStoreError::S3 { op: "copy", .. }),
        "{err}"
    );
}

#[tokio::test]
async fn head_ranged_reads_open_and_delete() {
    let f = fixture().await;
    assert_eq!(f.store.head("media/acme/none").await.unwrap(), None);

    let key = "media/acme/2026/11/READ";
    let bytes = data(700, 10);
    f.upload(key, &bytes, 700).await;
    assert_eq!(f.store.read_head_bytes(key, 10).await.unwrap(), bytes[..10]);
    assert_eq!(f.store.read_head_bytes(key, 10_000).await.unwrap(), bytes);
    assert!(f.store.read_head_bytes(key, 0).await.unwrap().is_empty());

    let reader = f.store.open(key).await.unwrap();
    assert_eq!(reader.content_length, 700);
    assert_eq!(reader.content_type.as_deref(), Some("video/mp4"));
    let body = reader.into_body().collect().await.unwrap().into_bytes();
    assert_eq!(body.as_ref(), bytes.as_slice());

    f.store.delete(key).await.unwrap();
    assert_eq!(f.store.head(key).await.unwrap(), None);
    // Deleting again succeeds, as S3 does.
    f.store.delete(key).await.unwrap();
    assert!(matches!(
        f.store.open(key).await,
        Err(MediaStoreError::S3 { op: "get", .. })
    ));
    assert!(matches!(
        f.store.read_head_bytes(key, 4).await,
        Err(MediaStoreError::S3 {
            op: "get_range",
            ..
        })
    ));
}

#[tokio::test]
async fn a_presigned_get_downloads_the_object_with_its_name() {
    let f = fixture().await;
    let key = "media/acme/2026/11/GET";
    let bytes = data(5000, 11);
    f.upload(key, &bytes, 5000).await;

    let url = f
        .store
        .presigned_get(
            key,
            Duration::from_secs(300),
            Some("../Factura año.pdf"),
            Some("application/pdf"),
        )
        .await
        .unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(url.contains("response-content-disposition="), "{url}");
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"Factura a_o.pdf\"; filename*=UTF-8''Factura%20a%C3%B1o.pdf"
    );
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let plain = f
        .store
        .presigned_get(key, Duration::from_secs(60), None, None)
        .await
        .unwrap();
    assert!(!plain.contains("response-content-disposition"));
    let response = reqwest::get(&plain).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "video/mp4");

    let err = f
        .store
        .presigned_get(key, Duration::from_secs(301), None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MediaStoreError::ExpiryTooLong {
                requested_secs: 301,
                max_secs: 300,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_presigned_post_uploads_the_object() {
    let f = fixture().await;
    let key = "media/acme/2026/11/POST";
    let bytes = data(40 * KIB, 12);
    let credentials = sdk_credentials(&f.config).await.unwrap();
    let region = f.store.client_region().unwrap();
    let post = f
        .store
        .presigned_post(
            key,
            "image/png",
            1,
            MIB as u64,
            Duration::from_secs(900),
            &credentials,
            &region,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();

    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    assert_eq!(
        post.url,
        format!("{}/{}", endpoint.trim_end_matches('/'), f.bucket)
    );
    assert_eq!(post.fields["key"], key);
    assert_eq!(post.fields["Content-Type"], "image/png");
    assert_eq!(post.fields["x-amz-server-side-encryption"], "aws:kms");
    assert_eq!(
        post.fields["x-amz-server-side-encryption-aws-kms-key-id"],
        f.kms_key
    );

    let mut form = reqwest::multipart::Form::new();
    for (name, value) in &post.fields {
        form = form.text(name.clone(), value.clone());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes.clone())
            .file_name("photo.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let response = reqwest::Client::new()
        .post(&post.url)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}: {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );

    let head = f
        .store
        .head(key)
        .await
        .unwrap()
        .expect("the POST stored it");
    assert_eq!(head.size, bytes.len() as u64);
    assert_eq!(head.content_type.as_deref(), Some("image/png"));
    let (sha, _, _) = f.read_back(key).await;
    assert_eq!(sha, sha256(&bytes));

    let err = f
        .store
        .presigned_post(
            key,
            "image/png",
            1,
            MIB as u64,
            Duration::from_secs(901),
            &credentials,
            &region,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, MediaStoreError::ExpiryTooLong { max_secs: 900, .. }),
        "{err}"
    );
}

/// Against AWS itself (no custom endpoint) the form posts to the virtual-hosted bucket URL.
/// Nothing is sent: the URL is worked out locally.
#[tokio::test]
async fn a_presigned_post_to_aws_uses_the_virtual_hosted_url() {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .build();
    let store = MediaStore::new(
        aws_sdk_s3::Client::from_conf(config),
        "switchboard-media-prod",
        None,
    );
    let post = store
        .presigned_post(
            "media/acme/2026/11/X",
            "image/jpeg",
            1,
            100,
            Duration::from_secs(60),
            &Credentials::new("AKID", "SECRET", Some("TOKEN".into()), None, "test"),
            "eu-west-1",
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    assert_eq!(
        post.url,
        "https://switchboard-media-prod.s3.eu-west-1.amazonaws.com/"
    );
    assert_eq!(post.fields["x-amz-security-token"], "TOKEN");
    assert!(
        !post
            .fields
            .contains_key("x-amz-server-side-encryption-aws-kms-key-id")
    );
}
