//! Media objects: a file Meta already holds (`id`, from the media upload endpoint), one it
//! downloads when the message is sent (`link`), or one of Switchboard's own uploads (`media`,
//! `med_…`), which the outbound function uploads to Meta and replaces by Meta's `id` before
//! the request is made: Meta never sees `media`.
//!
//! Both fields are optional in the model although Meta wants exactly one: a client's request that
//! gives both or neither is still read, so [`violations`](super::violations) can report it beside
//! every other problem of the message instead of failing on the first.

use serde::{Deserialize, Serialize};

/// Audio, stickers, and images or videos in headers: places where Meta shows no caption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// One of the tenant's uploads (`med_…`), sent by the Meta id it is uploaded as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<String>,
}

/// An image or video message, which may carry a caption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptionedMedia {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// One of the tenant's uploads (`med_…`), sent by the Meta id it is uploaded as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// A document: besides a caption, the file name the recipient sees (WhatsApp picks the icon from
/// its extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentMedia {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// One of the tenant's uploads (`med_…`), sent by the Meta id it is uploaded as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

impl Media {
    pub fn by_id(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            link: None,
            media: None,
        }
    }

    pub fn by_link(link: impl Into<String>) -> Self {
        Self {
            id: None,
            link: Some(link.into()),
            media: None,
        }
    }
}

impl CaptionedMedia {
    pub fn by_id(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            link: None,
            media: None,
            caption: None,
        }
    }

    pub fn by_link(link: impl Into<String>) -> Self {
        Self {
            id: None,
            link: Some(link.into()),
            media: None,
            caption: None,
        }
    }

    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }
}

impl DocumentMedia {
    pub fn by_id(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            link: None,
            media: None,
            caption: None,
            filename: None,
        }
    }

    pub fn by_link(link: impl Into<String>) -> Self {
        Self {
            id: None,
            link: Some(link.into()),
            media: None,
            caption: None,
            filename: None,
        }
    }

    /// One of the tenant's uploads, by our id.
    pub fn by_stored(media: impl Into<String>) -> Self {
        Self {
            id: None,
            link: None,
            media: Some(media.into()),
            caption: None,
            filename: None,
        }
    }

    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    pub fn with_filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }
}
