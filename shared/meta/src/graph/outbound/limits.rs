//! Meta's documented limits on outbound messages, checked before a message is accepted so a
//! client hears about them at once rather than from a failed-status webhook later.
//!
//! Lengths count characters (Unicode scalar values), as Meta's documentation does.

use super::contacts::Contact;
use super::content::{ContentError, Location, MessageContent, Reaction};
use super::interactive::{
    Interactive, InteractiveAction, InteractiveHeader, ListSection, ReplyButton,
};
use super::media::{CaptionedMedia, DocumentMedia, Media};
use super::template::{ButtonSubType, Template, TemplateComponent, TemplateParameter};
use std::collections::HashSet;

pub const TEXT_BODY_MAX: usize = 4096;
pub const CAPTION_MAX: usize = 1024;
pub const DOCUMENT_FILENAME_MAX: usize = 240;
pub const REPLY_BUTTONS_MAX: usize = 3;
pub const REPLY_BUTTON_TITLE_MAX: usize = 20;
pub const REPLY_BUTTON_ID_MAX: usize = 256;
pub const LIST_BUTTON_MAX: usize = 20;
pub const LIST_SECTIONS_MAX: usize = 10;
/// Across all sections together.
pub const LIST_ROWS_MAX: usize = 10;
pub const LIST_SECTION_TITLE_MAX: usize = 24;
pub const LIST_ROW_TITLE_MAX: usize = 24;
pub const LIST_ROW_DESCRIPTION_MAX: usize = 72;
pub const LIST_ROW_ID_MAX: usize = 200;
pub const INTERACTIVE_BODY_MAX: usize = 1024;
/// Meta's list-message page allows a longer body than the other interactive kinds.
pub const LIST_BODY_MAX: usize = 4096;
pub const INTERACTIVE_FOOTER_MAX: usize = 60;
pub const INTERACTIVE_HEADER_TEXT_MAX: usize = 60;
pub const CTA_DISPLAY_TEXT_MAX: usize = 20;
pub const TEMPLATE_NAME_MAX: usize = 512;
pub const TEMPLATE_HEADER_PARAMETER_MAX: usize = 60;
pub const TEMPLATE_BODY_PARAMETER_MAX: usize = 1024;
pub const TEMPLATE_BUTTONS_MAX: usize = 10;
pub const TEMPLATE_COUPON_CODE_MAX: usize = 15;
pub const CONTACTS_MAX: usize = 257;
/// Generous for one emoji with skin tone, gender and joiners, tight enough to refuse a sentence.
pub const REACTION_EMOJI_MAX_CHARS: usize = 10;

/// Everything in `content` that Meta would refuse, each with the field path a client wrote.
pub fn violations(content: &MessageContent) -> Vec<ContentError> {
    let mut v = Violations::default();
    match content {
        MessageContent::Text(text) => v.text("text.body", &text.body, TEXT_BODY_MAX),
        MessageContent::Image(media) => v.captioned("image", media),
        MessageContent::Video(media) => v.captioned("video", media),
        MessageContent::Audio(media) => v.media("audio", media),
        MessageContent::Sticker(media) => v.media("sticker", media),
        MessageContent::Document(document) => v.document("document", document, true),
        MessageContent::Location(location) => v.location(location),
        MessageContent::Contacts(contacts) => v.contacts(contacts),
        MessageContent::Reaction(reaction) => v.reaction(reaction),
        MessageContent::Template(template) => v.template(template),
        MessageContent::Interactive(interactive) => v.interactive(interactive),
    }
    v.0
}

#[derive(Default)]
struct Violations(Vec<ContentError>);

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// `http(s)://host…` with nothing that would make a client or Meta read it differently.
fn is_http_url(link: &str) -> bool {
    let lower = link
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let rest = if lower.starts_with("https://") {
        &link[8..]
    } else if lower.starts_with("http://") {
        &link[7..]
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty()
        && !host.starts_with('.')
        && !link.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_template_identifier(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Violations {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(ContentError::new(field, message));
    }

    /// Present, not blank, at most `max` characters.
    fn text(&mut self, field: &str, text: &str, max: usize) {
        if is_blank(text) {
            self.push(field, "must not be empty");
        } else {
            self.max(field, text, max);
        }
    }

    fn max(&mut self, field: &str, text: &str, max: usize) {
        let count = chars(text);
        if count > max {
            self.push(
                field,
                format!("is {count} characters; at most {max} are allowed"),
            );
        }
    }

    fn optional_text(&mut self, field: &str, text: Option<&str>, max: usize) {
        if let Some(text) = text {
            self.text(field, text, max);
        }
    }

    fn count(&mut self, field: &str, what: &str, count: usize, min: usize, max: usize) {
        if count < min {
            self.push(field, format!("needs at least {min} {what}"));
        } else if count > max {
            self.push(
                field,
                format!("has {count} {what}; at most {max} are allowed"),
            );
        }
    }

    fn source(&mut self, field: &str, id: Option<&str>, link: Option<&str>, stored: Option<&str>) {
        match (id, link, stored) {
            (None, None, None) => self.push(field, "needs an `id`, a `link` or a `media`"),
            (Some(id), None, None) => {
                if is_blank(id) {
                    self.push(format!("{field}.id"), "must not be empty");
                }
            }
            (None, Some(link), None) => {
                if !is_http_url(link) {
                    self.push(format!("{field}.link"), "must be an http or https URL");
                }
            }
            (None, None, Some(stored)) => {
                if is_blank(stored) {
                    self.push(format!("{field}.media"), "must not be empty");
                }
            }
            _ => self.push(field, "give one of `id`, `link` or `media`, not more"),
        }
    }

    fn media(&mut self, field: &str, media: &Media) {
        self.source(
            field,
            media.id.as_deref(),
            media.link.as_deref(),
            media.media.as_deref(),
        );
    }

    fn captioned(&mut self, field: &str, media: &CaptionedMedia) {
        self.source(
            field,
            media.id.as_deref(),
            media.link.as_deref(),
            media.media.as_deref(),
        );
        if let Some(caption) = &media.caption {
            self.max(&format!("{field}.caption"), caption, CAPTION_MAX);
        }
    }

    /// Headers show no caption, so one there is refused rather than silently dropped.
    fn document(&mut self, field: &str, document: &DocumentMedia, caption_allowed: bool) {
        self.source(
            field,
            document.id.as_deref(),
            document.link.as_deref(),
            document.media.as_deref(),
        );
        if let Some(caption) = &document.caption {
            if caption_allowed {
                self.max(&format!("{field}.caption"), caption, CAPTION_MAX);
            } else {
                self.push(format!("{field}.caption"), "is not shown here");
            }
        }
        if let Some(filename) = &document.filename {
            self.text(
                &format!("{field}.filename"),
                filename,
                DOCUMENT_FILENAME_MAX,
            );
        }
    }

    fn location(&mut self, location: &Location) {
        if !(-90.0..=90.0).contains(&location.latitude) {
            self.push("location.latitude", "must be between -90 and 90");
        }
        if !(-180.0..=180.0).contains(&location.longitude) {
            self.push("location.longitude", "must be between -180 and 180");
        }
    }

    fn contacts(&mut self, contacts: &[Contact]) {
        self.count("contacts", "contacts", contacts.len(), 1, CONTACTS_MAX);
        for (i, contact) in contacts.iter().enumerate() {
            if is_blank(&contact.name.formatted_name) {
                self.push(
                    format!("contacts[{i}].name.formatted_name"),
                    "must not be empty",
                );
            }
            if let Some(birthday) = &contact.birthday
                && !is_iso_date(birthday)
            {
                self.push(format!("contacts[{i}].birthday"), "must be YYYY-MM-DD");
            }
        }
    }

    fn reaction(&mut self, reaction: &Reaction) {
        if is_blank(&reaction.message_id) {
            self.push("reaction.message_id", "must not be empty");
        }
        if !is_reaction_emoji(&reaction.emoji) {
            self.push(
                "reaction.emoji",
                "must be a single emoji, or empty to remove the reaction",
            );
        }
    }

    fn template(&mut self, template: &Template) {
        if template.name.is_empty() || !is_template_identifier(&template.name) {
            self.push(
                "template.name",
                "must be lowercase letters, digits and underscores",
            );
        } else {
            self.max("template.name", &template.name, TEMPLATE_NAME_MAX);
        }
        if is_blank(&template.language.code) {
            self.push("template.language.code", "must not be empty");
        }
        if let Some(policy) = &template.language.policy
            && policy != "deterministic"
        {
            self.push("template.language.policy", "must be `deterministic`");
        }
        let components = template.components.as_deref().unwrap_or_default();
        let (mut headers, mut bodies, mut buttons) = (0, 0, 0);
        let mut indexes = HashSet::new();
        for (i, component) in components.iter().enumerate() {
            let field = format!("template.components[{i}]");
            match component {
                TemplateComponent::Header { parameters } => {
                    headers += 1;
                    if headers == 2 {
                        self.push(&field, "a template has one header");
                    }
                    self.count(
                        &format!("{field}.parameters"),
                        "parameters",
                        parameters.len(),
                        0,
                        1,
                    );
                    self.parameters(&field, parameters, Place::Header);
                }
                TemplateComponent::Body { parameters } => {
                    bodies += 1;
                    if bodies == 2 {
                        self.push(&field, "a template has one body");
                    }
                    self.parameters(&field, parameters, Place::Body);
                }
                TemplateComponent::Button {
                    sub_type,
                    index,
                    parameters,
                } => {
                    buttons += 1;
                    if usize::from(*index) >= TEMPLATE_BUTTONS_MAX {
                        self.push(
                            format!("{field}.index"),
                            format!("must be below {TEMPLATE_BUTTONS_MAX}"),
                        );
                    } else if !indexes.insert(*index) {
                        self.push(format!("{field}.index"), "fills a button already filled");
                    }
                    self.count(
                        &format!("{field}.parameters"),
                        "parameters",
                        parameters.len(),
                        1,
                        1,
                    );
                    self.parameters(&field, parameters, Place::Button(*sub_type));
                }
            }
        }
        if buttons > TEMPLATE_BUTTONS_MAX {
            self.push(
                "template.components",
                format!("has {buttons} buttons; at most {TEMPLATE_BUTTONS_MAX} are allowed"),
            );
        }
    }

    fn parameters(&mut self, component: &str, parameters: &[TemplateParameter], place: Place) {
        for (i, parameter) in parameters.iter().enumerate() {
            let field = format!("{component}.parameters[{i}]");
            if !place.accepts(parameter) {
                self.push(
                    format!("{field}.type"),
                    format!(
                        "a `{}` parameter does not belong in {}",
                        parameter.type_name(),
                        place.describe()
                    ),
                );
                continue;
            }
            match parameter {
                TemplateParameter::Text {
                    text,
                    parameter_name,
                } => {
                    let max = match place {
                        Place::Header => TEMPLATE_HEADER_PARAMETER_MAX,
                        Place::Body | Place::Button(_) => TEMPLATE_BODY_PARAMETER_MAX,
                    };
                    self.text(&format!("{field}.text"), text, max);
                    if let Some(name) = parameter_name
                        && (name.is_empty() || !is_template_identifier(name))
                    {
                        self.push(
                            format!("{field}.parameter_name"),
                            "must be lowercase letters, digits and underscores",
                        );
                    }
                }
                TemplateParameter::Currency(currency) => {
                    self.text(
                        &format!("{field}.currency.fallback_value"),
                        &currency.fallback_value,
                        usize::MAX,
                    );
                    if currency.code.len() != 3
                        || !currency.code.bytes().all(|b| b.is_ascii_uppercase())
                    {
                        self.push(
                            format!("{field}.currency.code"),
                            "must be an ISO 4217 code such as USD",
                        );
                    }
                }
                TemplateParameter::DateTime(date_time) => {
                    self.text(
                        &format!("{field}.date_time.fallback_value"),
                        &date_time.fallback_value,
                        usize::MAX,
                    );
                }
                TemplateParameter::Image(media) => self.media(&format!("{field}.image"), media),
                TemplateParameter::Video(media) => self.media(&format!("{field}.video"), media),
                TemplateParameter::Document(document) => {
                    self.document(&format!("{field}.document"), document, false);
                }
                TemplateParameter::Payload(payload) => {
                    if is_blank(payload) {
                        self.push(format!("{field}.payload"), "must not be empty");
                    }
                }
                TemplateParameter::CouponCode(code) => {
                    self.text(
                        &format!("{field}.coupon_code"),
                        code,
                        TEMPLATE_COUPON_CODE_MAX,
                    );
                }
            }
        }
    }

    fn interactive(&mut self, interactive: &Interactive) {
        let body_max = match interactive.action {
            InteractiveAction::List { .. } => LIST_BODY_MAX,
            _ => INTERACTIVE_BODY_MAX,
        };
        match &interactive.body {
            Some(body) => self.text("interactive.body.text", body, body_max),
            None => self.push("interactive.body", "is required"),
        }
        self.optional_text(
            "interactive.footer.text",
            interactive.footer.as_deref(),
            INTERACTIVE_FOOTER_MAX,
        );
        if let Some(header) = &interactive.header {
            if matches!(interactive.action, InteractiveAction::List { .. })
                && !matches!(header, InteractiveHeader::Text(_))
            {
                self.push(
                    "interactive.header.type",
                    "a list message takes only a text header",
                );
            }
            match header {
                InteractiveHeader::Text(text) => {
                    self.text("interactive.header.text", text, INTERACTIVE_HEADER_TEXT_MAX);
                }
                InteractiveHeader::Image(media) => self.media("interactive.header.image", media),
                InteractiveHeader::Video(media) => self.media("interactive.header.video", media),
                InteractiveHeader::Document(document) => {
                    self.document("interactive.header.document", document, false);
                }
            }
        }
        match &interactive.action {
            InteractiveAction::Buttons(buttons) => self.reply_buttons(buttons),
            InteractiveAction::List { button, sections } => self.list(button, sections),
            InteractiveAction::CtaUrl { display_text, url } => {
                self.text(
                    "interactive.action.parameters.display_text",
                    display_text,
                    CTA_DISPLAY_TEXT_MAX,
                );
                if !is_http_url(url) {
                    self.push(
                        "interactive.action.parameters.url",
                        "must be an http or https URL",
                    );
                }
            }
            InteractiveAction::LocationRequest => {}
        }
    }

    fn reply_buttons(&mut self, buttons: &[ReplyButton]) {
        self.count(
            "interactive.action.buttons",
            "buttons",
            buttons.len(),
            1,
            REPLY_BUTTONS_MAX,
        );
        let (mut ids, mut titles) = (HashSet::new(), HashSet::new());
        for (i, button) in buttons.iter().enumerate() {
            let field = format!("interactive.action.buttons[{i}].reply");
            self.text(
                &format!("{field}.title"),
                &button.title,
                REPLY_BUTTON_TITLE_MAX,
            );
            self.text(&format!("{field}.id"), &button.id, REPLY_BUTTON_ID_MAX);
            if button.id.trim() != button.id {
                self.push(format!("{field}.id"), "must not start or end with spaces");
            }
            if !ids.insert(button.id.as_str()) {
                self.push(format!("{field}.id"), "must be unique in the message");
            }
            if !titles.insert(button.title.as_str()) {
                self.push(format!("{field}.title"), "must be unique in the message");
            }
        }
    }

    fn list(&mut self, button: &str, sections: &[ListSection]) {
        self.text("interactive.action.button", button, LIST_BUTTON_MAX);
        self.count(
            "interactive.action.sections",
            "sections",
            sections.len(),
            1,
            LIST_SECTIONS_MAX,
        );
        let rows: usize = sections.iter().map(|s| s.rows.len()).sum();
        if rows > LIST_ROWS_MAX {
            self.push(
                "interactive.action.sections",
                format!("has {rows} rows; at most {LIST_ROWS_MAX} are allowed across all sections"),
            );
        }
        let mut ids = HashSet::new();
        for (i, section) in sections.iter().enumerate() {
            let field = format!("interactive.action.sections[{i}]");
            match &section.title {
                Some(title) => self.text(&format!("{field}.title"), title, LIST_SECTION_TITLE_MAX),
                None if sections.len() > 1 => {
                    self.push(
                        format!("{field}.title"),
                        "is required when there is more than one section",
                    );
                }
                None => {}
            }
            if section.rows.is_empty() {
                self.push(format!("{field}.rows"), "needs at least 1 row");
            }
            for (j, row) in section.rows.iter().enumerate() {
                let field = format!("{field}.rows[{j}]");
                self.text(&format!("{field}.title"), &row.title, LIST_ROW_TITLE_MAX);
                self.text(&format!("{field}.id"), &row.id, LIST_ROW_ID_MAX);
                if let Some(description) = &row.description {
                    self.max(
                        &format!("{field}.description"),
                        description,
                        LIST_ROW_DESCRIPTION_MAX,
                    );
                }
                if !ids.insert(row.id.as_str()) {
                    self.push(format!("{field}.id"), "must be unique in the message");
                }
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Place {
    Header,
    Body,
    Button(ButtonSubType),
}

impl Place {
    fn accepts(self, parameter: &TemplateParameter) -> bool {
        use TemplateParameter as P;
        match self {
            Place::Header => matches!(
                parameter,
                P::Text { .. } | P::Image(_) | P::Video(_) | P::Document(_)
            ),
            Place::Body => matches!(parameter, P::Text { .. } | P::Currency(_) | P::DateTime(_)),
            Place::Button(ButtonSubType::QuickReply) => matches!(parameter, P::Payload(_)),
            Place::Button(ButtonSubType::Url) => matches!(parameter, P::Text { .. }),
            Place::Button(ButtonSubType::CopyCode) => matches!(parameter, P::CouponCode(_)),
        }
    }

    fn describe(self) -> String {
        match self {
            Place::Header => "a header".to_owned(),
            Place::Body => "a body".to_owned(),
            Place::Button(sub_type) => format!("a `{}` button", sub_type.name()),
        }
    }
}

fn is_iso_date(date: &str) -> bool {
    let bytes = date.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// Empty, or something emoji-like: short, and no ASCII except the digit, `#` or `*` that starts
/// a keycap emoji such as 1️⃣.
fn is_reaction_emoji(emoji: &str) -> bool {
    if emoji.is_empty() {
        return true;
    }
    if chars(emoji) > REACTION_EMOJI_MAX_CHARS {
        return false;
    }
    let chars: Vec<char> = emoji.chars().collect();
    chars.iter().enumerate().all(|(i, c)| {
        if !c.is_ascii() {
            return !c.is_whitespace() && !c.is_control();
        }
        let keycap_base = c.is_ascii_digit() || *c == '#' || *c == '*';
        keycap_base && matches!(chars.get(i + 1), Some('\u{FE0F}' | '\u{20E3}'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::outbound::content::Text;
    use crate::graph::outbound::interactive::ListRow;
    use crate::graph::outbound::template::{TemplateCurrency, TemplateLanguage};

    fn fields(content: &MessageContent) -> Vec<String> {
        violations(content).into_iter().map(|e| e.field).collect()
    }

    /// `ok` passes; `bad` fails on exactly `field`.
    fn boundary(ok: MessageContent, bad: MessageContent, field: &str) {
        assert_eq!(violations(&ok), [], "{ok:?}");
        assert_eq!(fields(&bad), [field], "{bad:?}");
    }

    fn s(n: usize) -> String {
        "a".repeat(n)
    }

    fn text(body: String) -> MessageContent {
        MessageContent::Text(Text {
            body,
            preview_url: None,
        })
    }

    #[test]
    fn text_body_is_1_to_4096_characters() {
        boundary(text(s(4096)), text(s(4097)), "text.body");
        boundary(text("x".into()), text(" ".into()), "text.body");
        // Characters, not bytes: 4096 two-byte letters fit.
        assert_eq!(violations(&text("é".repeat(4096))), []);
    }

    #[test]
    fn captions_are_at_most_1024_characters() {
        let image = |n| MessageContent::Image(CaptionedMedia::by_id("1").with_caption(s(n)));
        boundary(image(1024), image(1025), "image.caption");
        let video = |n| MessageContent::Video(CaptionedMedia::by_id("1").with_caption(s(n)));
        boundary(video(1024), video(1025), "video.caption");
        let document = |n| MessageContent::Document(DocumentMedia::by_id("1").with_caption(s(n)));
        boundary(document(1024), document(1025), "document.caption");
    }

    #[test]
    fn media_is_one_of_id_or_an_http_link() {
        boundary(
            MessageContent::Audio(Media::by_link("https://example.com/a.ogg")),
            MessageContent::Audio(Media::by_link("ftp://example.com/a.ogg")),
            "audio.link",
        );
        boundary(
            MessageContent::Sticker(Media::by_link("http://example.com/s.webp")),
            MessageContent::Sticker(Media::by_link("https:// example.com/s.webp")),
            "sticker.link",
        );
        boundary(
            MessageContent::Image(CaptionedMedia::by_id("1")),
            MessageContent::Image(CaptionedMedia {
                id: Some("1".into()),
                link: Some("https://example.com/i.png".into()),
                media: None,
                caption: None,
            }),
            "image",
        );
        boundary(
            MessageContent::Image(CaptionedMedia::by_id("1")),
            MessageContent::Image(CaptionedMedia {
                id: Some("1".into()),
                link: None,
                media: Some("med_1".into()),
                caption: None,
            }),
            "image",
        );
        boundary(
            MessageContent::Document(DocumentMedia::by_stored("med_1")),
            MessageContent::Document(DocumentMedia::by_stored(" ")),
            "document.media",
        );
        boundary(
            MessageContent::Video(CaptionedMedia::by_id("1")),
            MessageContent::Video(CaptionedMedia {
                id: None,
                link: None,
                media: None,
                caption: None,
            }),
            "video",
        );
        assert_eq!(
            fields(&MessageContent::Audio(Media::by_link("https://"))),
            ["audio.link"]
        );
    }

    #[test]
    fn document_filenames_are_at_most_240_characters() {
        let document = |n| MessageContent::Document(DocumentMedia::by_id("1").with_filename(s(n)));
        boundary(document(240), document(241), "document.filename");
    }

    #[test]
    fn coordinates_are_on_earth() {
        let at = |latitude, longitude| {
            MessageContent::Location(Location {
                latitude,
                longitude,
                name: None,
                address: None,
            })
        };
        boundary(at(90.0, 0.0), at(90.000001, 0.0), "location.latitude");
        boundary(at(-90.0, 0.0), at(-90.5, 0.0), "location.latitude");
        boundary(at(0.0, 180.0), at(0.0, 180.1), "location.longitude");
        boundary(at(0.0, -180.0), at(0.0, -181.0), "location.longitude");
        assert_eq!(fields(&at(f64::NAN, 0.0)), ["location.latitude"]);
    }

    #[test]
    fn reactions_are_one_emoji_or_empty() {
        let react = |emoji: &str| {
            MessageContent::Reaction(Reaction {
                message_id: "wamid.1".into(),
                emoji: emoji.into(),
            })
        };
        for ok in ["", "😀", "👍🏽", "👩‍👩‍👧‍👦", "1️⃣", "❤️"] {
            assert_eq!(violations(&react(ok)), [], "{ok:?}");
        }
        boundary(react("👍"), react("ok"), "reaction.emoji");
        boundary(
            react(&"😀".repeat(10)),
            react(&"😀".repeat(11)),
            "reaction.emoji",
        );
        boundary(react("😀"), react("😀 "), "reaction.emoji");
        assert_eq!(
            fields(&MessageContent::Reaction(Reaction {
                message_id: String::new(),
                emoji: "😀".into()
            })),
            ["reaction.message_id"]
        );
    }

    #[test]
    fn contacts_are_1_to_257_cards_with_a_formatted_name() {
        let cards =
            |n| MessageContent::Contacts((0..n).map(|i| Contact::named(format!("C{i}"))).collect());
        boundary(cards(1), cards(0), "contacts");
        boundary(cards(257), cards(258), "contacts");
        boundary(
            MessageContent::Contacts(vec![Contact::named("Ana")]),
            MessageContent::Contacts(vec![Contact::named("Ana"), Contact::named(" ")]),
            "contacts[1].name.formatted_name",
        );
        let born = |date: &str| {
            let mut card = Contact::named("Ana");
            card.birthday = Some(date.into());
            MessageContent::Contacts(vec![card])
        };
        boundary(
            born("2012-08-18"),
            born("18/08/2012"),
            "contacts[0].birthday",
        );
    }

    fn buttons(buttons: &[(&str, &str)]) -> MessageContent {
        MessageContent::Interactive(Interactive {
            header: None,
            body: Some("Pick one".into()),
            footer: None,
            action: InteractiveAction::Buttons(
                buttons
                    .iter()
                    .map(|(id, title)| ReplyButton {
                        id: (*id).into(),
                        title: (*title).into(),
                    })
                    .collect(),
            ),
        })
    }

    #[test]
    fn reply_buttons_are_1_to_3_with_short_unique_titles_and_ids() {
        boundary(
            buttons(&[("a", "A"), ("b", "B"), ("c", "C")]),
            buttons(&[("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]),
            "interactive.action.buttons",
        );
        boundary(
            buttons(&[("a", "A")]),
            buttons(&[]),
            "interactive.action.buttons",
        );
        let title20 = s(20);
        let title21 = s(21);
        boundary(
            buttons(&[("a", "A"), ("b", &title20)]),
            buttons(&[("a", "A"), ("b", &title21)]),
            "interactive.action.buttons[1].reply.title",
        );
        boundary(
            buttons(&[("a", "A"), ("b", "B")]),
            buttons(&[("a", "A"), ("b", "")]),
            "interactive.action.buttons[1].reply.title",
        );
        let id256 = s(256);
        let id257 = s(257);
        boundary(
            buttons(&[(&id256, "A")]),
            buttons(&[(&id257, "A")]),
            "interactive.action.buttons[0].reply.id",
        );
        boundary(
            buttons(&[("a", "A"), ("b", "B")]),
            buttons(&[("a", "A"), ("a", "B")]),
            "interactive.action.buttons[1].reply.id",
        );
        boundary(
            buttons(&[("a", "A"), ("b", "B")]),
            buttons(&[("a", "A"), ("b", "A")]),
            "interactive.action.buttons[1].reply.title",
        );
        boundary(
            buttons(&[("a", "A")]),
            buttons(&[(" a", "A")]),
            "interactive.action.buttons[0].reply.id",
        );
    }

    fn with_parts(
        mut content: MessageContent,
        header: Option<InteractiveHeader>,
        body: Option<String>,
        footer: Option<String>,
    ) -> MessageContent {
        if let MessageContent::Interactive(interactive) = &mut content {
            interactive.header = header;
            interactive.body = body;
            interactive.footer = footer;
        }
        content
    }

    #[test]
    fn interactive_body_footer_and_header_have_their_limits() {
        let one = || buttons(&[("a", "A")]);
        boundary(
            with_parts(one(), None, Some(s(1024)), None),
            with_parts(one(), None, Some(s(1025)), None),
            "interactive.body.text",
        );
        boundary(
            with_parts(one(), None, Some("b".into()), None),
            with_parts(one(), None, None, None),
            "interactive.body",
        );
        boundary(
            with_parts(one(), None, Some("b".into()), Some(s(60))),
            with_parts(one(), None, Some("b".into()), Some(s(61))),
            "interactive.footer.text",
        );
        let header = |n| Some(InteractiveHeader::Text(s(n)));
        boundary(
            with_parts(one(), header(60), Some("b".into()), None),
            with_parts(one(), header(61), Some("b".into()), None),
            "interactive.header.text",
        );
        boundary(
            with_parts(
                one(),
                Some(InteractiveHeader::Image(Media::by_id("1"))),
                Some("b".into()),
                None,
            ),
            with_parts(
                one(),
                Some(InteractiveHeader::Image(Media::by_link("image.png"))),
                Some("b".into()),
                None,
            ),
            "interactive.header.image.link",
        );
        boundary(
            with_parts(
                one(),
                Some(InteractiveHeader::Document(
                    DocumentMedia::by_id("1").with_filename("a.pdf"),
                )),
                Some("b".into()),
                None,
            ),
            with_parts(
                one(),
                Some(InteractiveHeader::Document(
                    DocumentMedia::by_id("1").with_caption("c"),
                )),
                Some("b".into()),
                None,
            ),
            "interactive.header.document.caption",
        );
    }

    fn row(id: &str) -> ListRow {
        ListRow {
            id: id.into(),
            title: "Row".into(),
            description: None,
        }
    }

    fn list(button: &str, sections: Vec<ListSection>) -> MessageContent {
        MessageContent::Interactive(Interactive {
            header: None,
            body: Some("Choose".into()),
            footer: None,
            action: InteractiveAction::List {
                button: button.into(),
                sections,
            },
        })
    }

    fn section(title: Option<&str>, rows: Vec<ListRow>) -> ListSection {
        ListSection {
            title: title.map(str::to_owned),
            rows,
        }
    }

    fn rows(prefix: &str, n: usize) -> Vec<ListRow> {
        (0..n).map(|i| row(&format!("{prefix}{i}"))).collect()
    }

    #[test]
    fn list_button_sections_and_rows_have_their_limits() {
        let one = |button: &str| list(button, vec![section(None, rows("r", 1))]);
        boundary(one(&s(20)), one(&s(21)), "interactive.action.button");
        boundary(one("Open"), one(""), "interactive.action.button");

        let titled = |n: usize| {
            list(
                "Open",
                (0..n)
                    .map(|i| section(Some("S"), vec![row(&format!("r{i}"))]))
                    .collect(),
            )
        };
        boundary(titled(1), titled(0), "interactive.action.sections");
        assert_eq!(violations(&titled(10)), []);
        // 11 sections hold at least 11 rows, so both limits speak.
        assert_eq!(
            fields(&titled(11)),
            ["interactive.action.sections", "interactive.action.sections"]
        );

        boundary(
            list(
                "Open",
                vec![
                    section(Some("A"), rows("a", 5)),
                    section(Some("B"), rows("b", 5)),
                ],
            ),
            list(
                "Open",
                vec![
                    section(Some("A"), rows("a", 5)),
                    section(Some("B"), rows("b", 6)),
                ],
            ),
            "interactive.action.sections",
        );
        boundary(
            list("Open", vec![section(None, rows("a", 1))]),
            list(
                "Open",
                vec![
                    section(Some("A"), rows("a", 1)),
                    section(None, rows("b", 1)),
                ],
            ),
            "interactive.action.sections[1].title",
        );
        boundary(
            list("Open", vec![section(Some(&s(24)), rows("a", 1))]),
            list("Open", vec![section(Some(&s(25)), rows("a", 1))]),
            "interactive.action.sections[0].title",
        );
        boundary(
            list("Open", vec![section(None, rows("a", 1))]),
            list("Open", vec![section(None, vec![])]),
            "interactive.action.sections[0].rows",
        );
    }

    #[test]
    fn list_rows_have_their_limits() {
        let with_row = |row: ListRow| list("Open", vec![section(None, vec![row])]);
        let titled = |n| ListRow {
            title: s(n),
            ..row("r")
        };
        boundary(
            with_row(titled(24)),
            with_row(titled(25)),
            "interactive.action.sections[0].rows[0].title",
        );
        let described = |n| ListRow {
            description: Some(s(n)),
            ..row("r")
        };
        boundary(
            with_row(described(72)),
            with_row(described(73)),
            "interactive.action.sections[0].rows[0].description",
        );
        boundary(
            with_row(row(&s(200))),
            with_row(row(&s(201))),
            "interactive.action.sections[0].rows[0].id",
        );
        boundary(
            list(
                "Open",
                vec![
                    section(Some("A"), vec![row("x")]),
                    section(Some("B"), vec![row("y")]),
                ],
            ),
            list(
                "Open",
                vec![
                    section(Some("A"), vec![row("x")]),
                    section(Some("B"), vec![row("x")]),
                ],
            ),
            "interactive.action.sections[1].rows[0].id",
        );
        let long_body = |n| with_parts(with_row(row("r")), None, Some(s(n)), None);
        boundary(long_body(4096), long_body(4097), "interactive.body.text");
        boundary(
            with_parts(
                with_row(row("r")),
                Some(InteractiveHeader::Text("H".into())),
                Some("b".into()),
                None,
            ),
            with_parts(
                with_row(row("r")),
                Some(InteractiveHeader::Image(Media::by_id("1"))),
                Some("b".into()),
                None,
            ),
            "interactive.header.type",
        );
    }

    #[test]
    fn cta_url_has_a_short_label_and_an_http_url() {
        let cta = |display_text: String, url: &str| {
            MessageContent::Interactive(Interactive {
                header: None,
                body: Some("Tap".into()),
                footer: None,
                action: InteractiveAction::CtaUrl {
                    display_text,
                    url: url.into(),
                },
            })
        };
        boundary(
            cta(s(20), "https://example.com"),
            cta(s(21), "https://example.com"),
            "interactive.action.parameters.display_text",
        );
        boundary(
            cta("Go".into(), "http://example.com/x?y=1"),
            cta("Go".into(), "javascript:alert(1)"),
            "interactive.action.parameters.url",
        );
    }

    fn template(name: &str, components: Vec<TemplateComponent>) -> MessageContent {
        MessageContent::Template(Template {
            name: name.into(),
            language: TemplateLanguage {
                code: "en_US".into(),
                policy: None,
            },
            components: (!components.is_empty()).then_some(components),
        })
    }

    fn body(parameters: Vec<TemplateParameter>) -> TemplateComponent {
        TemplateComponent::Body { parameters }
    }

    fn button(
        sub_type: ButtonSubType,
        index: u8,
        parameter: TemplateParameter,
    ) -> TemplateComponent {
        TemplateComponent::Button {
            sub_type,
            index,
            parameters: vec![parameter],
        }
    }

    #[test]
    fn template_names_are_1_to_512_lowercase_identifiers() {
        boundary(
            template(&s(512), vec![]),
            template(&s(513), vec![]),
            "template.name",
        );
        boundary(
            template("order_update_2", vec![]),
            template("Order-Update", vec![]),
            "template.name",
        );
        boundary(template("a", vec![]), template("", vec![]), "template.name");
    }

    #[test]
    fn template_language_needs_a_code_and_the_only_policy() {
        let with_language = |code: &str, policy: Option<&str>| {
            MessageContent::Template(Template {
                name: "t".into(),
                language: TemplateLanguage {
                    code: code.into(),
                    policy: policy.map(str::to_owned),
                },
                components: None,
            })
        };
        boundary(
            with_language("en", None),
            with_language("", None),
            "template.language.code",
        );
        boundary(
            with_language("en", Some("deterministic")),
            with_language("en", Some("fallback")),
            "template.language.policy",
        );
    }

    #[test]
    fn template_text_parameters_are_1024_in_the_body_and_60_in_the_header() {
        let in_body = |n| template("t", vec![body(vec![TemplateParameter::text(s(n))])]);
        boundary(
            in_body(1024),
            in_body(1025),
            "template.components[0].parameters[0].text",
        );
        boundary(
            in_body(1),
            in_body(0),
            "template.components[0].parameters[0].text",
        );
        let in_header = |n| {
            template(
                "t",
                vec![TemplateComponent::Header {
                    parameters: vec![TemplateParameter::text(s(n))],
                }],
            )
        };
        boundary(
            in_header(60),
            in_header(61),
            "template.components[0].parameters[0].text",
        );
    }

    #[test]
    fn template_parameters_fit_their_component() {
        let currency = TemplateParameter::Currency(TemplateCurrency {
            fallback_value: "$1".into(),
            code: "USD".into(),
            amount_1000: 1000,
        });
        boundary(
            template("t", vec![body(vec![currency.clone()])]),
            template(
                "t",
                vec![TemplateComponent::Header {
                    parameters: vec![currency],
                }],
            ),
            "template.components[0].parameters[0].type",
        );
        boundary(
            template(
                "t",
                vec![button(
                    ButtonSubType::QuickReply,
                    0,
                    TemplateParameter::Payload("P".into()),
                )],
            ),
            template(
                "t",
                vec![button(
                    ButtonSubType::QuickReply,
                    0,
                    TemplateParameter::text("P"),
                )],
            ),
            "template.components[0].parameters[0].type",
        );
        boundary(
            template(
                "t",
                vec![button(
                    ButtonSubType::CopyCode,
                    0,
                    TemplateParameter::CouponCode(s(15)),
                )],
            ),
            template(
                "t",
                vec![button(
                    ButtonSubType::CopyCode,
                    0,
                    TemplateParameter::CouponCode(s(16)),
                )],
            ),
            "template.components[0].parameters[0].coupon_code",
        );
        boundary(
            template(
                "t",
                vec![TemplateComponent::Header {
                    parameters: vec![TemplateParameter::Image(Media::by_link(
                        "https://example.com/i.png",
                    ))],
                }],
            ),
            template(
                "t",
                vec![TemplateComponent::Header {
                    parameters: vec![TemplateParameter::Image(Media::by_link(
                        "example.com/i.png",
                    ))],
                }],
            ),
            "template.components[0].parameters[0].image.link",
        );
    }

    #[test]
    fn templates_fill_at_most_10_distinct_buttons() {
        let payload = || TemplateParameter::Payload("P".into());
        let filled = |n: u8| {
            template(
                "t",
                (0..n)
                    .map(|i| button(ButtonSubType::QuickReply, i, payload()))
                    .collect(),
            )
        };
        assert_eq!(violations(&filled(10)), []);
        let mut eleven = filled(10);
        if let MessageContent::Template(t) = &mut eleven {
            t.components.get_or_insert_with(Vec::new).push(button(
                ButtonSubType::QuickReply,
                3,
                payload(),
            ));
        }
        assert_eq!(
            fields(&eleven),
            ["template.components[10].index", "template.components"]
        );
        boundary(
            template(
                "t",
                vec![button(ButtonSubType::Url, 9, TemplateParameter::text("x"))],
            ),
            template(
                "t",
                vec![button(ButtonSubType::Url, 10, TemplateParameter::text("x"))],
            ),
            "template.components[0].index",
        );
    }
}
