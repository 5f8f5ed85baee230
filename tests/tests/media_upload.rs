//! An agent's attachment: declared with `POST /v1/media`, uploaded by the "browser" straight
//! to moto's S3 with the presigned POST, then checked by `POST /v1/media/{id}/complete`: a
//! real PDF is ready to send; an executable named `.pdf` and a file of another size than
//! declared are refused and deleted; another tenant finds nothing. The ready PDF is then sent
//! by its id: the outbound function uploads it to the Meta sandbox once, sends it by the Meta
//! media id it got, and reuses that id for the next send and for a template's document header.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_e2e::*;

const GLOBEX_KEY: &str = "sk_test_e2e_globex_upload_0123456789";

fn pdf(size: usize) -> Vec<u8> {
    let mut bytes =
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
    bytes.resize(size, b' ');
    bytes
}

async fn declare(t: &TestStack, token: &str, body: Value) -> (reqwest::StatusCode, Value) {
    let (status, _, answer) = t
        .call(Method::POST, "/v1/media", Auth::Bearer(token), Some(&body))
        .await;
    (status, answer)
}

/// What a browser does with the form: every field, then the file, as multipart/form-data.
async fn upload(t: &TestStack, declared: &Value, bytes: Vec<u8>) -> reqwest::StatusCode {
    let form_spec = &declared["upload"];
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in form_spec["fields"].as_object().expect("fields") {
        form = form.text(name.clone(), value.as_str().unwrap_or_default().to_owned());
    }
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name("upload")
        .mime_str(declared["mime_type"].as_str().expect("mime"))
        .expect("mime");
    form = form.part("file", part);
    let url = form_spec["url"].as_str().expect("url");
    let status = reqwest::Client::new()
        .post(url)
        .multipart(form)
        .send()
        .await
        .expect("S3 reachable")
        .status();
    // S3 authorizes the form as the role that signed it; it writes its key.
    let key = form_spec["fields"]["key"].as_str().expect("key");
    t.stack.aws_calls.record_presigned(
        "ApiFunction",
        "PUT",
        &format!("{}/{key}", url.trim_end_matches('/')),
    );
    status
}

async fn complete(t: &TestStack, token: &str, id: &str) -> (reqwest::StatusCode, Value) {
    let (status, _, answer) = t
        .call(
            Method::POST,
            &format!("/v1/media/{id}/complete"),
            Auth::Bearer(token),
            None,
        )
        .await;
    (status, answer)
}

async fn object_exists(t: &TestStack, key: &str) -> bool {
    switchboard_platform::aws::s3_client(&t.stack.sdk)
        .head_object()
        .bucket(t.config().data_bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_uploads_a_pdf_and_an_executable_named_pdf_is_refused() {
    let t = spawn_stack().await;
    let admin = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    t.add_person(
        &admin,
        "agent.upload@acme.example",
        "agent",
        "agent-upload-password",
    )
    .await;
    let agent = t
        .access_token("agent.upload@acme.example", "agent-upload-password")
        .await;

    // A real PDF: declared, uploaded, checked, ready.
    let file = pdf(150_000);
    let (status, declared) = declare(
        &t,
        &agent,
        json!({ "type": "document", "mime_type": "application/pdf", "size": file.len(), "filename": "quote.pdf" }),
    )
    .await;
    assert_eq!(status, 201, "{declared}");
    assert_eq!(declared["state"], "pending");
    let id = declared["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("med_"), "{id}");
    let key = declared["upload"]["fields"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    assert_eq!(key, format!("media/acme/uploads/{id}"), "tenant-first");
    let (status, early) = complete(&t, &agent, &id).await;
    assert_eq!(status, 409, "nothing uploaded yet: {early}");
    let status = upload(&t, &declared, file).await;
    assert!(status.is_success(), "S3 took the form: {status}");
    let (status, ready) = complete(&t, &agent, &id).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["state"], "ready");
    assert_eq!(ready["filename"], "quote.pdf");
    assert!(ready.get("upload").is_none(), "{ready}");
    let (status, again) = complete(&t, &agent, &id).await;
    assert_eq!(
        (status, &again["state"]),
        (reqwest::StatusCode::OK, &json!("ready"))
    );
    let (status, _, shown) = t
        .call(
            Method::GET,
            &format!("/v1/media/{id}"),
            Auth::Bearer(&agent),
            None,
        )
        .await;
    assert_eq!((status.as_u16(), &shown["state"]), (200, &json!("ready")));

    // A Windows executable renamed `.pdf`: refused by its first bytes, and deleted.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    exe.resize(8_192, 0);
    let (status, declared) = declare(
        &t,
        &agent,
        json!({ "type": "document", "mime_type": "application/pdf", "size": exe.len(), "filename": "invoice.pdf" }),
    )
    .await;
    assert_eq!(status, 201, "{declared}");
    let exe_id = declared["id"].as_str().expect("id").to_owned();
    let exe_key = declared["upload"]["fields"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    assert!(upload(&t, &declared, exe).await.is_success());
    let (status, refused) = complete(&t, &agent, &exe_id).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["type"], "/problems/media-rejected", "{refused}");
    assert_eq!(refused["code"], "executable", "{refused}");
    assert!(
        !object_exists(&t, &exe_key).await,
        "a refused file is deleted"
    );
    let (status, again) = complete(&t, &agent, &exe_id).await;
    assert_eq!(
        (status.as_u16(), &again["code"]),
        (422, &json!("executable"))
    );

    // Another size than declared.
    let (_, declared) = declare(
        &t,
        &agent,
        json!({ "type": "document", "mime_type": "application/pdf", "size": 20_000 }),
    )
    .await;
    let short_id = declared["id"].as_str().expect("id").to_owned();
    if upload(&t, &declared, pdf(19_999)).await.is_success() {
        // S3 enforces the form's content-length-range; moto may not, and the check still does.
        let (status, refused) = complete(&t, &agent, &short_id).await;
        assert_eq!(
            (status.as_u16(), &refused["code"]),
            (422, &json!("size_mismatch"))
        );
    }

    // Declarations are checked against Meta's rules, naming each field.
    let (status, invalid) = declare(
        &t,
        &agent,
        json!({ "type": "image", "mime_type": "image/gif", "size": 10_000_000 }),
    )
    .await;
    assert_eq!(status, 422, "{invalid}");
    let fields: Vec<&str> = invalid["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["mime_type", "size"], "{invalid}");

    // Another tenant finds none of it.
    switchboard_dev::seed::seed_tenant(&t.stack.store, "globex", "Globex", GLOBEX_KEY)
        .await
        .expect("second tenant seeded");
    for (method, path) in [
        (Method::GET, format!("/v1/media/{id}")),
        (Method::POST, format!("/v1/media/{id}/complete")),
    ] {
        let (status, _, answer) = t.call(method, &path, Auth::Bearer(GLOBEX_KEY), None).await;
        assert_eq!(status, 404, "{path}: {answer}");
    }

    send_the_upload(&t, &agent, &id, &exe_id).await;

    // Each step is on the audit log.
    let (_, _, audit) = t
        .call(Method::GET, "/v1/audit", Auth::Bearer(&admin), None)
        .await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["target"] == id.as_str() || e["target"] == exe_id.as_str())
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "media.upload_declared",
        "media.upload_accepted",
        "media.upload_refused",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

async fn send_the_upload(t: &TestStack, agent: &str, id: &str, refused_id: &str) {
    let customer = "15551230020";
    t.open_window("acme", customer).await;
    let send = |media: &str, caption: &str| {
        json!({ "phone_number_id": PHONE_NUMBER_ID, "to": customer, "type": "document",
                "document": { "media": media, "filename": "quote.pdf", "caption": caption } })
    };
    // Only a ready upload of this tenant, sent as what it is.
    for (body, field) in [
        (send(refused_id, "no"), "document.media"),
        (send("med_unknown", "no"), "document.media"),
        (
            json!({ "phone_number_id": PHONE_NUMBER_ID, "to": customer, "type": "image", "image": { "media": id } }),
            "image.media",
        ),
    ] {
        let (status, _, refused) = t
            .call(
                Method::POST,
                "/v1/messages",
                Auth::Bearer(agent),
                Some(&body),
            )
            .await;
        assert_eq!(status, 422, "{refused}");
        assert_eq!(refused["errors"][0]["field"], field, "{refused}");
    }

    let mut sent_ids = Vec::new();
    for caption in ["your quote", "the same quote again"] {
        let (status, _, accepted) = t
            .call(
                Method::POST,
                "/v1/messages",
                Auth::Bearer(agent),
                Some(&send(id, caption)),
            )
            .await;
        assert_eq!(status, 202, "{accepted}");
        let message_id = accepted["id"].as_str().expect("id").to_owned();
        t.wait_for_status(&message_id, "read").await;
        let sent = t.sandbox_sent().await;
        let body = sent
            .iter()
            .map(|s| &s["body"])
            .find(|b| b["document"]["caption"] == caption)
            .cloned()
            .expect("the sandbox got the document");
        assert!(
            body["document"].get("media").is_none(),
            "Meta never sees our id: {body}"
        );
        assert_eq!(body["document"]["filename"], "quote.pdf");
        sent_ids.push(
            body["document"]["id"]
                .as_str()
                .expect("a Meta id")
                .to_owned(),
        );
    }

    // A template's document header names the upload the same way, and goes by the same id.
    approve_template(t, "quote_ready", "UTILITY").await;
    let template = |media: &str| {
        json!({ "phone_number_id": PHONE_NUMBER_ID, "to": customer, "type": "template",
                "template": { "name": "quote_ready", "language": { "code": "en_US" }, "components": [
                    { "type": "header", "parameters": [
                        { "type": "document", "document": { "media": media, "filename": "quote.pdf" } }
                    ] }
                ] } })
    };
    let (status, _, refused) = t
        .call(
            Method::POST,
            "/v1/messages",
            Auth::Bearer(agent),
            Some(&template(refused_id)),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["errors"][0]["field"], "template.components[0].parameters[0].document.media",
        "{refused}"
    );
    let (status, _, accepted) = t
        .call(
            Method::POST,
            "/v1/messages",
            Auth::Bearer(agent),
            Some(&template(id)),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    t.wait_for_status(accepted["id"].as_str().expect("id"), "read")
        .await;
    let sent = t.sandbox_sent().await;
    let header = sent
        .iter()
        .map(|s| &s["body"])
        .find(|b| b["template"]["name"] == "quote_ready")
        .map(|b| b["template"]["components"][0]["parameters"][0].clone())
        .expect("the sandbox got the template");
    assert_eq!(
        header,
        json!({ "type": "document", "document": { "id": sent_ids[0], "filename": "quote.pdf" } }),
        "the header goes by the Meta id, never by ours"
    );
    sent_ids.push(sent_ids[0].clone());

    let uploads = t.sandbox_get("/sandbox/uploads").await;
    let uploads = uploads.as_array().cloned().unwrap_or_default();
    assert_eq!(uploads.len(), 1, "uploaded to Meta once: {uploads:?}");
    let meta_id = uploads[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(sent_ids, [meta_id.clone(), meta_id.clone(), meta_id]);
    assert_eq!(uploads[0]["phone_number_id"], PHONE_NUMBER_ID);
    assert_eq!(uploads[0]["mime_type"], "application/pdf");
    assert_eq!(uploads[0]["file_size"], 150_000);
    assert_eq!(uploads[0]["sha256_hex"], sha256_hex(pdf(150_000)));
}
