//! Playing the customer who sends a photo, a video, a voice note, a document or a sticker:
//! `POST /sandbox/customer-media-messages` signs and posts Meta's media-message webhook for
//! media added with `POST /sandbox/media`.

use crate::clock::unix_now;
use crate::customer::{DeliveryQuery, WebhookReport};
use crate::media_library::MediaKind;
use crate::state::SandboxState;
use crate::wamid::{Direction, new_wamid};
use crate::webhook_body::{self, Customer, CustomerMedia};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Shown when a simulated customer has no name: Meta always sends a profile name.
const DEFAULT_PROFILE_NAME: &str = "Sandbox Customer";

/// Body of `POST /sandbox/customer-media-messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerMediaMessage {
    /// The customer's phone number (`wa_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(rename = "type")]
    pub kind: MediaKind,
    /// An id from `POST /sandbox/media`.
    pub media_id: String,
    /// Images, videos and documents only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Documents only; defaults to the media's filename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Audio only: a voice note recorded in WhatsApp.
    #[serde(default)]
    pub voice: bool,
    /// The business number written to; defaults to the media's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
    /// Reuse a wamid to replay a message, as Meta's redeliveries do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wamid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Business-scoped user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Unix seconds; defaults to now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
}

impl CustomerMediaMessage {
    pub fn new(from: impl Into<String>, kind: MediaKind, media_id: impl Into<String>) -> Self {
        Self {
            from: Some(from.into()),
            kind,
            media_id: media_id.into(),
            caption: None,
            filename: None,
            voice: false,
            phone_number_id: None,
            wamid: None,
            name: None,
            user_id: None,
            timestamp: None,
        }
    }

    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerMediaMessageError {
    #[error("a customer message needs `from` or `user_id`")]
    NoSender,
    #[error("unknown media id `{0}`: add it with POST /sandbox/media first")]
    UnknownMedia(String),
}

/// Builds Meta's media-message webhook for `message`, signs it and posts it.
pub async fn post_customer_media(
    state: &SandboxState,
    message: &CustomerMediaMessage,
    attempts: Option<u32>,
) -> Result<WebhookReport, CustomerMediaMessageError> {
    let from = message.from.as_deref().filter(|s| !s.trim().is_empty());
    let user_id = message.user_id.as_deref().filter(|s| !s.trim().is_empty());
    let Some(counterpart) = from.or(user_id) else {
        return Err(CustomerMediaMessageError::NoSender);
    };
    let Some(media) = state.media_entry(&message.media_id) else {
        return Err(CustomerMediaMessageError::UnknownMedia(
            message.media_id.clone(),
        ));
    };
    let mut object = json!({});
    match message.kind {
        MediaKind::Image | MediaKind::Video | MediaKind::Document => {
            if let Some(caption) = &message.caption {
                object["caption"] = json!(caption);
            }
        }
        MediaKind::Audio | MediaKind::Sticker => {}
    }
    if message.kind == MediaKind::Document
        && let Some(filename) = message.filename.as_ref().or(media.filename.as_ref())
    {
        object["filename"] = json!(filename);
    }
    object["mime_type"] = json!(media.mime_type);
    object["sha256"] = json!(media.sha256_base64());
    object["id"] = json!(media.id);
    match message.kind {
        MediaKind::Audio => object["voice"] = json!(message.voice),
        MediaKind::Sticker => object["animated"] = json!(false),
        _ => {}
    }
    let wamid = message
        .wamid
        .clone()
        .unwrap_or_else(|| new_wamid(counterpart, Direction::Inbound));
    let phone_number_id = message
        .phone_number_id
        .as_deref()
        .unwrap_or(&media.phone_number_id);
    let body = webhook_body::customer_media(
        &state.business(Some(phone_number_id)),
        &CustomerMedia {
            customer: Customer {
                wa_id: from.map(str::to_owned),
                user_id: user_id.map(str::to_owned),
            },
            name: message
                .name
                .clone()
                .unwrap_or_else(|| DEFAULT_PROFILE_NAME.to_owned()),
            wamid: wamid.clone(),
            timestamp: message.timestamp.unwrap_or_else(unix_now),
            kind: message.kind.as_str().to_owned(),
            media: object,
        },
    );
    let outcome = state
        .deliver_webhook(body.to_string().as_bytes(), attempts)
        .await;
    Ok(WebhookReport {
        wamid: Some(wamid),
        webhook_status: outcome.status,
        attempts: outcome.attempts,
        error: outcome.error,
    })
}

/// `POST /sandbox/customer-media-messages`.
pub async fn customer_media_message(
    State(state): State<SandboxState>,
    Query(query): Query<DeliveryQuery>,
    body: Bytes,
) -> Response {
    let message: CustomerMediaMessage = match serde_json::from_slice(&body) {
        Ok(message) => message,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": format!("invalid body: {error}") })),
            )
                .into_response();
        }
    };
    match post_customer_media(&state, &message, query.attempts).await {
        // 200 whenever our webhook answered, whatever it answered; 502 when it never did.
        Ok(report) => {
            let status = if report.webhook_status.is_some() {
                StatusCode::OK
            } else {
                StatusCode::BAD_GATEWAY
            };
            (status, Json(report)).into_response()
        }
        Err(error) => {
            let status = match error {
                CustomerMediaMessageError::NoSender => StatusCode::BAD_REQUEST,
                CustomerMediaMessageError::UnknownMedia(_) => StatusCode::NOT_FOUND,
            };
            (status, Json(json!({ "error": error.to_string() }))).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::tests::sandbox;
    use crate::media_library::NewMedia;
    use serde_json::Value;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    fn pywa_message(case: &str) -> Value {
        let dir = std::env::var_os("SWITCHBOARD_CONFORMANCE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
            });
        let path = dir.join("meta-webhooks/pywa/message.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let all: Value = serde_json::from_str(&text).expect("pywa data is JSON");
        all[case]["entry"][0]["changes"][0]["value"]["messages"][0].clone()
    }

    fn keys(value: &Value) -> BTreeSet<String> {
        value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn media_messages_have_the_shapes_of_real_webhooks() {
        let (sandbox, received) = sandbox().await;
        let media = |mime: &str| sandbox.add_media(NewMedia::generated(mime, 1000));
        let mut doc = CustomerMediaMessage::new(
            "972987654321",
            MediaKind::Document,
            sandbox
                .add_media(NewMedia::generated("application/pdf", 10).with_filename("filename.pdf"))
                .id,
        )
        .with_caption("caption");
        doc.name = Some("Dana".into());
        let mut voice = CustomerMediaMessage::new(
            "972987654321",
            MediaKind::Audio,
            media("audio/ogg; codecs=opus").id,
        );
        voice.voice = true;
        let cases = [
            (
                "video",
                CustomerMediaMessage::new("972987654321", MediaKind::Video, media("video/mp4").id)
                    .with_caption("caption"),
            ),
            ("document", doc),
            (
                "audio",
                CustomerMediaMessage::new(
                    "972987654321",
                    MediaKind::Audio,
                    media("audio/ogg; codecs=opus").id,
                ),
            ),
            ("voice", voice),
            (
                "static_sticker",
                CustomerMediaMessage::new(
                    "972987654321",
                    MediaKind::Sticker,
                    media("image/webp").id,
                )
                // Stickers carry no caption: Meta would not send one.
                .with_caption("ignored"),
            ),
            (
                "image",
                CustomerMediaMessage::new("972987654321", MediaKind::Image, media("image/jpeg").id),
            ),
        ];
        for (index, (case, message)) in cases.iter().enumerate() {
            let report = sandbox
                .customer_media_message(message)
                .await
                .expect("known media");
            assert_eq!(report.webhook_status, Some(200), "{case}");
            let webhook = received.lock().unwrap()[index].clone();
            let ours = &webhook["entry"][0]["changes"][0]["value"]["messages"][0];
            let theirs = pywa_message(case);
            let kind = theirs["type"].as_str().unwrap();
            assert_eq!(ours["type"], kind, "{case}");
            let mut expected = keys(&theirs);
            expected.remove("context"); // pywa's forwarded flag
            assert_eq!(keys(ours), expected, "{case}: {ours}");
            assert_eq!(keys(&ours[kind]), keys(&theirs[kind]), "{case}: {ours}");
            for flag in ["voice", "animated"] {
                assert_eq!(ours[kind].get(flag), theirs[kind].get(flag), "{case}");
            }
            let entry = sandbox.state().media_entry(&message.media_id).unwrap();
            assert_eq!(ours[kind]["sha256"], entry.sha256_base64());
            assert_eq!(ours[kind]["mime_type"], entry.mime_type.as_str());
        }
        let document = received.lock().unwrap()[1].clone();
        let value = &document["entry"][0]["changes"][0]["value"];
        assert_eq!(value["messages"][0]["document"]["filename"], "filename.pdf");
        assert_eq!(value["contacts"][0]["profile"]["name"], "Dana");

        let unknown = CustomerMediaMessage::new("1", MediaKind::Image, "999");
        assert_eq!(
            sandbox.customer_media_message(&unknown).await,
            Err(CustomerMediaMessageError::UnknownMedia("999".into()))
        );
        let mut anonymous = cases[0].1.clone();
        anonymous.from = None;
        assert_eq!(
            sandbox.customer_media_message(&anonymous).await,
            Err(CustomerMediaMessageError::NoSender)
        );
    }
}
