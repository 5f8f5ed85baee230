//! The places a message can name one of the tenant's uploads (`{"media": "med_…"}`): the media
//! of an image, video, audio, document or sticker message, a template's image, video or
//! document header parameter, and an interactive message's media header. The API checks each
//! upload it names; the outbound function replaces each by the Meta media id it is uploaded as.

use super::content::MessageContent;
use super::interactive::InteractiveHeader;
use super::template::{TemplateComponent, TemplateParameter};
use switchboard_domain::media::MediaKind;

/// One upload a message names, and where: `field` is the request's path to it, as the API
/// names a field in its errors (`template.components[0].parameters[0].image.media`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMediaRef {
    pub kind: MediaKind,
    pub upload_id: String,
    pub field: String,
}

/// A media object's `id` and `media` fields, whichever struct holds them.
struct Slot<'a> {
    kind: MediaKind,
    field: String,
    id: &'a mut Option<String>,
    media: &'a mut Option<String>,
}

impl MessageContent {
    /// Every upload the message names, in the order they appear.
    pub fn stored_media(&self) -> Vec<StoredMediaRef> {
        // One walk over the message serves both readers and the rewrite: a clone is cheap
        // beside the request it is checked for.
        let mut copy = self.clone();
        copy.slots()
            .into_iter()
            .filter_map(|slot| {
                let upload_id = slot.media.clone()?;
                Some(StoredMediaRef {
                    kind: slot.kind,
                    upload_id,
                    field: format!("{}.media", slot.field),
                })
            })
            .collect()
    }

    /// Names the upload `upload_id`, wherever the message names it, by the Meta media id it
    /// was uploaded as: what Meta is sent.
    pub fn use_meta_media_id(&mut self, upload_id: &str, meta_id: &str) {
        for slot in self.slots() {
            if slot.media.as_deref() == Some(upload_id) {
                *slot.media = None;
                *slot.id = Some(meta_id.to_owned());
            }
        }
    }

    fn slots(&mut self) -> Vec<Slot<'_>> {
        fn slot<'a>(
            kind: MediaKind,
            field: String,
            id: &'a mut Option<String>,
            media: &'a mut Option<String>,
        ) -> Slot<'a> {
            Slot {
                kind,
                field,
                id,
                media,
            }
        }
        let mut slots = Vec::new();
        match self {
            MessageContent::Image(m) => {
                slots.push(slot(
                    MediaKind::Image,
                    "image".into(),
                    &mut m.id,
                    &mut m.media,
                ));
            }
            MessageContent::Video(m) => {
                slots.push(slot(
                    MediaKind::Video,
                    "video".into(),
                    &mut m.id,
                    &mut m.media,
                ));
            }
            MessageContent::Audio(m) => {
                slots.push(slot(
                    MediaKind::Audio,
                    "audio".into(),
                    &mut m.id,
                    &mut m.media,
                ));
            }
            MessageContent::Document(m) => slots.push(slot(
                MediaKind::Document,
                "document".into(),
                &mut m.id,
                &mut m.media,
            )),
            MessageContent::Sticker(m) => slots.push(slot(
                MediaKind::Sticker,
                "sticker".into(),
                &mut m.id,
                &mut m.media,
            )),
            MessageContent::Template(template) => {
                for (i, component) in template.components.iter_mut().flatten().enumerate() {
                    let TemplateComponent::Header { parameters } = component else {
                        continue;
                    };
                    for (j, parameter) in parameters.iter_mut().enumerate() {
                        let field = format!("template.components[{i}].parameters[{j}]");
                        match parameter {
                            TemplateParameter::Image(m) => slots.push(slot(
                                MediaKind::Image,
                                format!("{field}.image"),
                                &mut m.id,
                                &mut m.media,
                            )),
                            TemplateParameter::Video(m) => slots.push(slot(
                                MediaKind::Video,
                                format!("{field}.video"),
                                &mut m.id,
                                &mut m.media,
                            )),
                            TemplateParameter::Document(m) => slots.push(slot(
                                MediaKind::Document,
                                format!("{field}.document"),
                                &mut m.id,
                                &mut m.media,
                            )),
                            _ => {}
                        }
                    }
                }
            }
            MessageContent::Interactive(interactive) => match &mut interactive.header {
                Some(InteractiveHeader::Image(m)) => slots.push(slot(
                    MediaKind::Image,
                    "interactive.header.image".into(),
                    &mut m.id,
                    &mut m.media,
                )),
                Some(InteractiveHeader::Video(m)) => slots.push(slot(
                    MediaKind::Video,
                    "interactive.header.video".into(),
                    &mut m.id,
                    &mut m.media,
                )),
                Some(InteractiveHeader::Document(m)) => slots.push(slot(
                    MediaKind::Document,
                    "interactive.header.document".into(),
                    &mut m.id,
                    &mut m.media,
                )),
                _ => {}
            },
            _ => {}
        }
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::CaptionedMedia;
    use serde_json::json;

    fn content(type_key: &str, body: serde_json::Value) -> MessageContent {
        MessageContent::from_request(type_key, body).expect("reads")
    }

    #[test]
    fn a_media_message_is_sent_by_the_meta_id_its_upload_became() {
        let mut document = content(
            "document",
            json!({"media": "med_1", "filename": "quote.pdf"}),
        );
        assert_eq!(
            document.stored_media(),
            [StoredMediaRef {
                kind: MediaKind::Document,
                upload_id: "med_1".into(),
                field: "document.media".into(),
            }]
        );
        document.use_meta_media_id("med_1", "4490709327384033");
        assert!(document.stored_media().is_empty());
        assert_eq!(
            serde_json::to_value(&document).expect("serializes"),
            json!({"type": "document", "document": {"id": "4490709327384033", "filename": "quote.pdf"}})
        );

        let mut by_link =
            MessageContent::Image(CaptionedMedia::by_link("https://example.com/a.png"));
        let before = by_link.clone();
        by_link.use_meta_media_id("med_1", "1");
        assert_eq!(by_link, before, "only an upload is replaced");
    }

    #[test]
    fn a_template_header_names_an_upload_by_its_parameter() {
        let mut template = content(
            "template",
            json!({
                "name": "order_shipped",
                "language": {"code": "en"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
                    {"type": "header", "parameters": [
                        {"type": "document", "document": {"media": "med_2", "filename": "invoice.pdf"}}
                    ]}
                ]
            }),
        );
        assert_eq!(
            template.stored_media(),
            [StoredMediaRef {
                kind: MediaKind::Document,
                upload_id: "med_2".into(),
                field: "template.components[1].parameters[0].document.media".into(),
            }]
        );
        template.use_meta_media_id("med_3", "9");
        assert_eq!(
            template.stored_media().len(),
            1,
            "another upload is left alone"
        );
        template.use_meta_media_id("med_2", "778899");
        assert!(template.stored_media().is_empty());
        let json = serde_json::to_value(&template).expect("serializes");
        assert_eq!(
            json["template"]["components"][1]["parameters"][0],
            json!({"type": "document", "document": {"id": "778899", "filename": "invoice.pdf"}})
        );
    }

    #[test]
    fn an_interactive_header_names_an_upload() {
        let mut interactive = content(
            "interactive",
            json!({
                "type": "button",
                "header": {"type": "image", "image": {"media": "med_4"}},
                "body": {"text": "Which one?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "This"}}]}
            }),
        );
        assert_eq!(
            interactive.stored_media(),
            [StoredMediaRef {
                kind: MediaKind::Image,
                upload_id: "med_4".into(),
                field: "interactive.header.image.media".into(),
            }]
        );
        interactive.use_meta_media_id("med_4", "5566");
        let json = serde_json::to_value(&interactive).expect("serializes");
        assert_eq!(
            json["interactive"]["header"],
            json!({"type": "image", "image": {"id": "5566"}})
        );
    }
}
