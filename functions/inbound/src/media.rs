//! Media messages: the message is recorded here, its file is fetched by the media function,
//! from a job queued once the message is durable.

use crate::InboundState;
use crate::apply::ApplyError;
use switchboard_domain::jobs::MediaJob;
use switchboard_domain::media::MediaKind;
use switchboard_domain::{MessageId, PhoneNumberId, TenantId};
use switchboard_meta::webhook::{InboundMessage, Media, MessageContent};

/// The job that keeps our copy of the message's media; `None` for a message without any
/// (or whose media has no id to fetch).
pub fn media_job(
    tenant: &TenantId,
    pnid: &PhoneNumberId,
    message_id: &MessageId,
    message: &InboundMessage,
) -> Option<MediaJob> {
    let (kind, media): (MediaKind, &Media) = match &message.content {
        MessageContent::Image(m) => (MediaKind::Image, m),
        MessageContent::Video(m) => (MediaKind::Video, m),
        MessageContent::Audio(m) => (MediaKind::Audio, m),
        MessageContent::Document(m) => (MediaKind::Document, m),
        MessageContent::Sticker(m) => (MediaKind::Sticker, m),
        _ => return None,
    };
    Some(MediaJob {
        tenant_id: tenant.clone(),
        message_id: message_id.clone(),
        phone_number_id: pnid.as_str().to_owned(),
        media_id: media.id.clone()?,
        kind,
        // Meta always names the type; a file without one is checked against nothing it claims.
        mime_type: media
            .mime_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into()),
        sha256: media.sha256.clone(),
        filename: media.filename.clone(),
        animated: media.animated.unwrap_or(false),
    })
}

/// Queues the job, also for a message recorded before: the delivery that recorded it may have
/// died before queueing, and the media function skips a message whose media is settled.
pub async fn queue_fetch(state: &InboundState, job: &MediaJob) -> Result<(), ApplyError> {
    let Some(queue) = &state.media else {
        tracing::warn!("no media queue is configured; the message's media is not kept");
        return Ok(());
    };
    let body = serde_json::to_string(job)?;
    queue
        .send_all(&[body])
        .await
        .map_err(|e| ApplyError::Queue(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_meta::webhook::Text;

    fn message(content: MessageContent) -> InboundMessage {
        InboundMessage {
            id: "wamid.1".into(),
            from: Some("15551230001".into()),
            from_user_id: None,
            timestamp: 1_700_000_000,
            message_type: "image".into(),
            context: None,
            referral: None,
            group_id: None,
            errors: Vec::new(),
            content,
            raw: serde_json::value::RawValue::from_string("{}".into()).expect("raw"),
        }
    }

    fn job_for(content: MessageContent) -> Option<MediaJob> {
        media_job(
            &TenantId::from("acme"),
            &PhoneNumberId::new("106540352242922"),
            &MessageId::new("msg_1"),
            &message(content),
        )
    }

    #[test]
    fn a_media_message_with_an_id_gets_a_job_carrying_what_the_webhook_said() {
        let sticker = Media {
            id: Some("m1".into()),
            mime_type: Some("image/webp".into()),
            sha256: Some("c2hh".into()),
            animated: Some(true),
            ..Media::default()
        };
        let job = job_for(MessageContent::Sticker(sticker)).expect("a job");
        assert_eq!(job.kind, MediaKind::Sticker);
        assert_eq!(job.media_id, "m1");
        assert_eq!(job.mime_type, "image/webp");
        assert_eq!(job.sha256.as_deref(), Some("c2hh"));
        assert!(job.animated);
        assert_eq!(job.phone_number_id, "106540352242922");
        assert_eq!(job.message_id, MessageId::new("msg_1"));

        let voice = Media {
            id: Some("m2".into()),
            mime_type: Some("audio/ogg; codecs=opus".into()),
            voice: Some(true),
            ..Media::default()
        };
        let job = job_for(MessageContent::Audio(voice)).expect("a job");
        assert_eq!(job.kind, MediaKind::Audio);
        assert!(!job.animated);
    }

    #[test]
    fn text_and_media_without_an_id_get_none() {
        assert_eq!(
            job_for(MessageContent::Text(Text { body: "hi".into() })),
            None
        );
        assert_eq!(job_for(MessageContent::Image(Media::default())), None);
    }
}
